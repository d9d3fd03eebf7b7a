/* SPDX-License-Identifier: Apache-2.0 */
/* alloc.h - every allocation goes through here; out of memory aborts.
 *
 * Sizes that a client controls are capped before they reach these functions (see
 * http/limits.h), so an abort here means the machine is out of memory, not a big request.
 * tams_free(NULL) is a no-op.
 */
#ifndef TAMS_CORE_ALLOC_H
#define TAMS_CORE_ALLOC_H

#include <stddef.h>

void *tams_malloc(size_t n) __attribute__((malloc, returns_nonnull));
void *tams_calloc(size_t nmemb, size_t size) __attribute__((malloc, returns_nonnull));
void *tams_realloc(void *p, size_t n) __attribute__((returns_nonnull));
char *tams_strdup(const char *s) __attribute__((malloc, returns_nonnull));
char *tams_strndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));
void tams_free(void *p);

/* Size arithmetic on wire-derived values: abort on overflow (a bug, values are capped first). */
size_t tams_st_add(size_t a, size_t b);
size_t tams_st_mult(size_t a, size_t b);

#endif
