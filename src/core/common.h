/* SPDX-License-Identifier: Apache-2.0 */
/* common.h - first include of every .c file: language level, attributes, allocation, errors.
 *
 * Language level: C11 with GNU extensions (__builtin_*_overflow, __attribute__).
 * In use: designated initialisers, bool, declarations in for, _Thread_local, static_assert.
 */
#ifndef TAMS_CORE_COMMON_H
#define TAMS_CORE_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAMS_UNUSED __attribute__((unused))
#define TAMS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define TAMS_WUR __attribute__((warn_unused_result))
#define TAMS_NORETURN __attribute__((noreturn))
#define TAMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* TAMS_TESTABLE marks file-local functions that unit tests reach; static in normal builds. */
#ifdef TAMS_UNIT_TEST
#define TAMS_TESTABLE
#else
#define TAMS_TESTABLE static
#endif

/* qsort/bsearch comparator for arrays of C strings (const char *): strcmp order. */
static inline int tams_cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Bugs: log file:line and abort. Kept in release builds; cheap checks only. */
TAMS_NORETURN void tams__bug(const char *file, int line, const char *msg);
#define TAMS_BUG(msg) tams__bug(__FILE__, __LINE__, (msg))
#define tams_assert(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tams__bug(__FILE__, __LINE__, "assertion failed: " #cond);                             \
    } while (0)

#include "core/alloc.h"
#include "core/err.h"
#include "core/banned.h"

#endif
