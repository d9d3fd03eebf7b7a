/* SPDX-License-Identifier: Apache-2.0 */
/* get_urls.h - building a segment's get_urls and shaping them with the accept_get_urls,
 * accept_storage_ids, presigned and verbose_storage filters (notes §5.4, §6.4).
 *
 * Controlled URLs come from the object's storage backend and are signed here, lazily: nothing
 * is signed when the filters would drop it. Uncontrolled URLs are the client's, as registered.
 */
#ifndef TAMS_API_GET_URLS_H
#define TAMS_API_GET_URLS_H

#include "core/json.h"
#include "api/app.h"
#include "http/request.h"
#include "store/store.h"

struct tams_get_urls_filter {
    bool none;                 /* accept_get_urls= (empty): no URLs at all */
    const char *const *labels; /* accept_get_urls list; NULL = any label */
    size_t nlabels;
    const char *const *storage_ids; /* accept_storage_ids list; NULL = any backend */
    size_t nstorage_ids;
    int presigned; /* -1 = either, 0 = only unsigned, 1 = only presigned */
    bool verbose;  /* verbose_storage */
};

/* Parse the four query parameters; sends the 400 and returns non-zero when one is bad. */
int tams_get_urls_filter_or_400(struct tams_req *req, struct tams_get_urls_filter *f);

/* Write the "get_urls" member of a segment (nothing when no URL survives the filters). */
void tams_get_urls_write(struct tams_json *j, const struct tams_app *app, const char *base_url,
                         const struct tams_segment_rec *rec, const struct tams_get_urls_filter *f,
                         int64_t now);

#endif
