/* SPDX-License-Identifier: Apache-2.0 */
/* pool.c - bump allocator over a list of chunks. */
#include "core/common.h"
#include "core/pool.h"

#define POOL_CHUNK 4096
#define POOL_ALIGN 16

struct tams_pool_chunk {
    struct tams_pool_chunk *next;
    max_align_t _align[]; /* payload follows */
};

static void *new_chunk(struct tams_pool *p, size_t payload)
{
    struct tams_pool_chunk *c = tams_malloc(tams_st_add(sizeof(struct tams_pool_chunk), payload));
    c->next = p->_chunks;
    p->_chunks = c;
    return (char *)c + sizeof(struct tams_pool_chunk);
}

void *tams_pool_alloc(struct tams_pool *p, size_t n)
{
    void *r;
    n = tams_st_add(n, POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
    if (n > POOL_CHUNK / 4)
        return new_chunk(p, n);
    if (n > p->_left) {
        p->_cur = new_chunk(p, POOL_CHUNK);
        p->_left = POOL_CHUNK;
    }
    r = p->_cur;
    p->_cur += n;
    p->_left -= n;
    return r;
}

void *tams_pool_zalloc(struct tams_pool *p, size_t n)
{
    void *r = tams_pool_alloc(p, n);
    memset(r, 0, n);
    return r;
}

char *tams_pool_strndup(struct tams_pool *p, const char *s, size_t n)
{
    char *r = tams_pool_alloc(p, tams_st_add(n, 1));
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *tams_pool_strdup(struct tams_pool *p, const char *s)
{
    return tams_pool_strndup(p, s, strlen(s));
}

char *tams_pool_printf(struct tams_pool *p, const char *fmt, ...)
{
    va_list ap, cp;
    int n;
    char *r;
    va_start(ap, fmt);
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        TAMS_BUG("vsnprintf failed");
    r = tams_pool_alloc(p, (size_t)n + 1);
    vsnprintf(r, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return r;
}

void tams_pool_release(struct tams_pool *p)
{
    struct tams_pool_chunk *c = p->_chunks;
    while (c) {
        struct tams_pool_chunk *next = c->next;
        tams_free(c);
        c = next;
    }
    p->_chunks = NULL;
    p->_cur = NULL;
    p->_left = 0;
}
