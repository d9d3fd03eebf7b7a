/* SPDX-License-Identifier: Apache-2.0 */
/* pool.h - a per-request arena: many small allocations, one release.
 *
 * Memory from a pool lives until tams_pool_release(); individual frees do not exist. Large
 * allocations get their own chunk. Not thread-safe: a pool belongs to one request.
 */
#ifndef TAMS_CORE_POOL_H
#define TAMS_CORE_POOL_H

#include "core/common.h"

struct tams_pool_chunk;

struct tams_pool {
    struct tams_pool_chunk *_chunks;
    char *_cur;
    size_t _left;
};

#define TAMS_POOL_INIT                                                                             \
    {                                                                                              \
        NULL, NULL, 0                                                                              \
    }

void *tams_pool_alloc(struct tams_pool *p, size_t n) __attribute__((malloc, returns_nonnull));
void *tams_pool_zalloc(struct tams_pool *p, size_t n) __attribute__((malloc, returns_nonnull));
char *tams_pool_strndup(struct tams_pool *p, const char *s, size_t n);
char *tams_pool_strdup(struct tams_pool *p, const char *s);
char *tams_pool_printf(struct tams_pool *p, const char *fmt, ...) TAMS_PRINTF(2, 3);
void tams_pool_release(struct tams_pool *p);

#endif
