/* SPDX-License-Identifier: Apache-2.0 */
/* backend_int.h - what the SQL back ends (sqlite.c, pg.c) share that has no SQL in it.
 * Internal to src/store/. */
#ifndef TAMS_STORE_BACKEND_INT_H
#define TAMS_STORE_BACKEND_INT_H

#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"

/* Strings copied out of a result set that must live until the callbacks have run. */
struct tams__strpool {
    char **v;
    size_t n, cap;
};

/* Keep s (already allocated) until release; returns s. */
const char *tams__pool_keep(struct tams__strpool *p, char *s);
/* A kept copy of s; NULL stays NULL. */
const char *tams__pool_dup(struct tams__strpool *p, const char *s);
void tams__pool_release(struct tams__strpool *p);

/* Append a summary to why, which may be NULL. */
void tams__why_add(struct tams_buf *why, const char *fmt, ...) TAMS_PRINTF(2, 3);

/* The key of a page cursor of this kind: an integer (segment lo) or a UUID (listings).
 * *have / nothing appended when the page has no cursor; TAMS_ERR_BADPAGE when forged. */
int tams__page_lo(const struct tams_page *page, const char *kind, bool *have, int64_t *out);
int tams__page_after(const struct tams_page *page, const char *kind, struct tams_buf *key);

/* RFC 3339 time `seconds` from now (clamped so it cannot overflow). */
void tams__time_after(int64_t seconds, char out[TAMS_RFC3339_MAX]);

#endif
