/* SPDX-License-Identifier: Apache-2.0 */
/* get_urls.h - a segment's get_urls, shaped by the accept_get_urls, accept_storage_ids,
 * presigned and verbose_storage filters (notes §5.4, §6.4), for GET .../segments and for
 * webhook events.
 *
 * Controlled URLs come from the object's storage backend and are signed here, lazily: nothing
 * is signed when the filters would drop it. Uncontrolled URLs are the client's, as registered.
 * Thread-safe (backends are immutable).
 */
#ifndef TAMS_MEDIA_GET_URLS_H
#define TAMS_MEDIA_GET_URLS_H

#include "core/common.h"
#include "core/json.h"
#include "media/media.h"
#include "media/tags.h"

struct tams_get_urls_filter {
    bool none;                 /* accept_get_urls= (empty): no URLs at all */
    const char *const *labels; /* accept_get_urls list; NULL = any label */
    size_t nlabels;
    const char *const *storage_ids; /* accept_storage_ids list; NULL = any backend */
    size_t nstorage_ids;
    int presigned; /* -1 = either, 0 = only unsigned, 1 = only presigned */
    /* 8.2's storage_backend_tag.{name} / storage_backend_tag_exists.{name}: the tags of the
     * URL's backend must match them all; an uncontrolled URL counts as a backend without tags. */
    const struct tams_media_tag_filter *backend_tags;
    size_t nbackend_tags;
    bool verbose; /* verbose_storage */
    /* TAMS 8.2 view: an uncontrolled URL registered without a label (through 7.0) is shown as
     * "client", "client-2", ... by its position, so 8.2 readers and their accept_get_urls see
     * labelled items (docs/tams-8.2-changes.md, 24). 7.0 shows it as registered. */
    bool name_unlabelled;
};

/* What a segment's get_urls are made of. */
struct tams_get_urls_src {
    const struct tams_media_backend *backend; /* a controlled object's backend; NULL: none */
    const char *key;                          /* the object's key in backend */
    const char *uncontrolled; /* the client's get_urls as JSON array text; NULL: none */
    /* The object's further instances (8.2, store.h tams_object_inst) as JSON array text, NULL:
     * none; copies are found among the n backends. */
    const char *instances;
    struct tams_media_backend *const *backends;
    size_t nbackends;
};

/* Write the "get_urls" member of a segment: the object's own URL, its further instances, then
 * the client's URLs of the segment (nothing when no URL survives the filters).
 * base_url: the API's own absolute base, for backends tamsd serves itself; now: Unix seconds
 * the signatures count from. */
void tams_get_urls_write(struct tams_json *j, const struct tams_get_urls_src *src,
                         const char *base_url, const struct tams_get_urls_filter *f, int64_t now);

#endif
