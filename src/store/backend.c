/* SPDX-License-Identifier: Apache-2.0 */
/* backend.c - helpers shared by the SQL back ends. */
#include "core/common.h"
#include "core/random.h"
#include "store/backend_int.h"
#include "store/cursor.h"

#include <errno.h>

const char *tams__pool_keep(struct tams__strpool *p, char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = tams_realloc(p->v, tams_st_mult(p->cap, sizeof(*p->v)));
    }
    p->v[p->n++] = s;
    return s;
}

const char *tams__pool_dup(struct tams__strpool *p, const char *s)
{
    return s ? tams__pool_keep(p, tams_strdup(s)) : NULL;
}

void tams__pool_release(struct tams__strpool *p)
{
    for (size_t i = 0; i < p->n; i++)
        tams_free(p->v[i]);
    tams_free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

int tams__page_lo(const struct tams_page *page, const char *kind, bool *have, int64_t *out)
{
    struct tams_buf key = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    char canon[32], *end;
    long long v;
    int rc;

    *have = false;
    if (!page || !page->after)
        return 0;
    rc = tams_cursor_decode(page->after, kind, &key);
    if (rc == 0) {
        errno = 0;
        v = strtoll(key.data, &end, 10);
        snprintf(canon, sizeof(canon), "%lld", v);
        if (errno || *end || strcmp(canon, key.data) != 0) {
            rc = TAMS_ERR_BADPAGE;
        } else {
            *out = (int64_t)v;
            *have = true;
        }
    }
    tams_buf_release(&key);
    return rc;
}

int tams__page_after(const struct tams_page *page, const char *kind, struct tams_buf *key)
{
    int rc;

    if (!page || !page->after)
        return 0;
    rc = tams_cursor_decode(page->after, kind, key);
    if (rc == 0 && !tams_uuid_valid(key->data, key->len))
        rc = TAMS_ERR_BADPAGE;
    return rc;
}

void tams__time_after(int64_t seconds, char out[TAMS_RFC3339_MAX])
{
    int64_t us = tams_clock_wall_us();
    int64_t add = seconds > INT64_MAX / 2000000 ? INT64_MAX / 2000000 : seconds;

    tams_clock_rfc3339(us + add * 1000000, out);
}

void tams__why_add(struct tams_buf *why, const char *fmt, ...)
{
    va_list ap;

    if (!why)
        return;
    va_start(ap, fmt);
    tams_buf_vaddf(why, fmt, ap);
    va_end(ap);
}
