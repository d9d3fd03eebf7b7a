/* SPDX-License-Identifier: Apache-2.0 */
/* buf.c - growable capped buffer. */
#include "core/common.h"
#include "core/buf.h"

char tams_buf_slopbuf[1];

void tams_buf_init(struct tams_buf *b, size_t max)
{
    *b = (struct tams_buf)TAMS_BUF_INIT(max);
}

void tams_buf_release(struct tams_buf *b)
{
    if (b->_cap)
        tams_free(b->data);
    b->data = tams_buf_slopbuf;
    b->len = 0;
    b->_cap = 0;
    b->toobig = false;
}

void tams_buf_reset(struct tams_buf *b)
{
    b->len = 0;
    b->toobig = false;
    if (b->_cap)
        b->data[0] = '\0';
}

char *tams_buf_detach(struct tams_buf *b, size_t *len)
{
    char *p;
    if (len)
        *len = b->len;
    p = b->_cap ? b->data : tams_strdup("");
    b->data = tams_buf_slopbuf;
    b->len = 0;
    b->_cap = 0;
    b->toobig = false;
    return p;
}

char *tams_buf_reserve(struct tams_buf *b, size_t n)
{
    size_t need;
    if (b->toobig)
        return NULL;
    need = tams_st_add(b->len, n);
    if (need > b->_max) {
        b->toobig = true;
        return NULL;
    }
    if (need + 1 > b->_cap) {
        size_t cap = b->_cap ? b->_cap : 64;
        while (cap < need + 1)
            cap = tams_st_mult(cap, 2);
        if (b->_cap) {
            b->data = tams_realloc(b->data, cap);
        } else {
            b->data = tams_malloc(cap);
            b->data[0] = '\0';
        }
        b->_cap = cap;
    }
    return b->data + b->len;
}

void tams_buf_commit(struct tams_buf *b, size_t n)
{
    tams_assert(b->len + n < b->_cap || (n == 0 && b->_cap == 0));
    if (!b->_cap)
        return;
    b->len += n;
    b->data[b->len] = '\0';
}

int tams_buf_add(struct tams_buf *b, const void *p, size_t n)
{
    char *dst;
    if (n == 0)
        return b->toobig ? TAMS_ERR_TOOBIG : 0;
    dst = tams_buf_reserve(b, n);
    if (!dst)
        return TAMS_ERR_TOOBIG;
    memcpy(dst, p, n);
    tams_buf_commit(b, n);
    return 0;
}

int tams_buf_addstr(struct tams_buf *b, const char *s)
{
    return tams_buf_add(b, s, strlen(s));
}

int tams_buf_addch(struct tams_buf *b, char c)
{
    return tams_buf_add(b, &c, 1);
}

int tams_buf_vaddf(struct tams_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    char *dst;
    size_t room = b->_cap > b->len ? b->_cap - b->len : 0;

    if (b->toobig)
        return TAMS_ERR_TOOBIG;
    va_copy(cp, ap);
    n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, cp);
    va_end(cp);
    if (n < 0)
        TAMS_BUG("vsnprintf failed");
    if ((size_t)n < room) {
        if (b->len + (size_t)n > b->_max) {
            b->data[b->len] = '\0';
            b->toobig = true;
            return TAMS_ERR_TOOBIG;
        }
        b->len += (size_t)n;
        return 0;
    }
    dst = tams_buf_reserve(b, (size_t)n);
    if (!dst) {
        if (b->_cap)
            b->data[b->len] = '\0';
        return TAMS_ERR_TOOBIG;
    }
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    tams_buf_commit(b, (size_t)n);
    return 0;
}

int tams_buf_addf(struct tams_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = tams_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}
