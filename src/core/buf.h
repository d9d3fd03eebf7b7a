/* SPDX-License-Identifier: Apache-2.0 */
/* buf.h - growable byte buffer with a mandatory size cap.
 *
 * Invariants: data is never NULL and always NUL-terminated (data[len] == 0); len <= max.
 * An append that would pass max appends nothing, sets `toobig` and returns TAMS_ERR_TOOBIG;
 * later appends keep failing until tams_buf_reset(). Callers may therefore append many times
 * and check once (tams_buf_ok()).
 * tams_buf_release() frees and leaves the buffer empty and reusable (same cap).
 * tams_buf_detach() hands the bytes to the caller (free with tams_free) and resets the buffer.
 */
#ifndef TAMS_CORE_BUF_H
#define TAMS_CORE_BUF_H

#include "core/common.h"

struct tams_buf {
    char *data; /* read-only for callers */
    size_t len; /* read-only */
    size_t _cap;
    size_t _max;
    bool toobig; /* read-only */
};

extern char tams_buf_slopbuf[1];
#define TAMS_BUF_INIT(max)                                                                         \
    {                                                                                              \
        tams_buf_slopbuf, 0, 0, (max), false                                                       \
    }

void tams_buf_init(struct tams_buf *b, size_t max);
void tams_buf_release(struct tams_buf *b);
void tams_buf_reset(struct tams_buf *b); /* len = 0, keeps memory */
char *tams_buf_detach(struct tams_buf *b, size_t *len);

int tams_buf_add(struct tams_buf *b, const void *p, size_t n);
int tams_buf_addstr(struct tams_buf *b, const char *s);
int tams_buf_addch(struct tams_buf *b, char c);
int tams_buf_addf(struct tams_buf *b, const char *fmt, ...) TAMS_PRINTF(2, 3);
int tams_buf_vaddf(struct tams_buf *b, const char *fmt, va_list ap) TAMS_PRINTF(2, 0);
/* Make room for n more bytes; returns a pointer to write into, or NULL when over the cap.
 * Commit what was written with tams_buf_commit(). */
char *tams_buf_reserve(struct tams_buf *b, size_t n);
void tams_buf_commit(struct tams_buf *b, size_t n);

static inline bool tams_buf_ok(const struct tams_buf *b)
{
    return !b->toobig;
}

#endif
