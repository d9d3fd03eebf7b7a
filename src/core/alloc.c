/* SPDX-License-Identifier: Apache-2.0 */
/* alloc.c - the one place that calls the C allocator. */
#define TAMS_ALLOC_IMPL
#include "core/common.h"

#undef malloc
#undef calloc
#undef realloc
#undef free

static TAMS_NORETURN void oom(size_t n)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n", n);
    abort();
}

void *tams_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *tams_calloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *tams_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *tams_strndup(const char *s, size_t n)
{
    char *p = tams_malloc(tams_st_add(n, 1));
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *tams_strdup(const char *s)
{
    return tams_strndup(s, strlen(s));
}

void tams_free(void *p)
{
    free(p);
}

size_t tams_st_add(size_t a, size_t b)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        TAMS_BUG("size overflow in addition");
    return r;
}

size_t tams_st_mult(size_t a, size_t b)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        TAMS_BUG("size overflow in multiplication");
    return r;
}

void tams__bug(const char *file, int line, const char *msg)
{
    fprintf(stderr, "{\"level\":\"bug\",\"file\":\"%s\",\"line\":%d,\"msg\":\"%s\"}\n", file, line,
            msg);
    abort();
}
