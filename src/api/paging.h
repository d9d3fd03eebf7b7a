/* SPDX-License-Identifier: Apache-2.0 */
/* paging.h - `limit`/`page` parsing and the paging response headers of listings.
 *
 * Link URLs are built from the request's own base URL and path, keeping every other query
 * parameter (re-encoded) and replacing `page`.
 */
#ifndef TAMS_API_PAGING_H
#define TAMS_API_PAGING_H

#include "core/common.h"
#include "core/buf.h"
#include "http/request.h"

struct tams_paging {
    int limit;        /* clamped to page_limit_max */
    const char *page; /* the cursor given, or NULL */
    struct tams_buf next_key;
};

/* Parse limit (integer >= 1; clamped) and page. On a bad value sends the 400 and returns
 * non-zero. Release with tams_paging_release(). */
int tams_paging_parse_or_400(struct tams_req *req, struct tams_paging *pg);
/* X-Paging-Limit always; X-Paging-NextKey and Link when pg->next_key is not empty. When the
 * Link cannot fit beside the request in the connection's memory, sends a 414 instead (it
 * replaces a body already written) and returns non-zero. */
int tams_paging_headers(struct tams_req *req, const struct tams_paging *pg);
void tams_paging_release(struct tams_paging *pg);
/* Answer a listing's store error: drops what was written of the body, names a forged page key
 * or too many tag filters, and otherwise sends the error table's summary. */
void tams_paging_send_error(struct tams_req *req, int rc);

#endif
