/* SPDX-License-Identifier: Apache-2.0 */
/* utf8.h - strict UTF-8 (RFC 3629 §3-4), the only text a request may carry.
 *
 * Valid is the shortest form of a Unicode scalar value: no overlong forms (C0, C1, E0 80..9F,
 * F0 80..8F), no UTF-16 surrogates (ED A0..BF: CESU-8 and lone surrogates), nothing above
 * U+10FFFF (F4 90.., F5..FF), no stray continuation byte and no sequence cut short.
 * Noncharacters such as U+FFFE are scalar values and valid. NUL (0x00) is valid UTF-8; callers
 * that use text as C strings refuse it themselves.
 * Pure functions; thread-safe.
 */
#ifndef TAMS_CORE_UTF8_H
#define TAMS_CORE_UTF8_H

#include "core/common.h"

/* Length (1 to 4) of the valid sequence at s[0, n) (n > 0), or 0 when it is invalid. When cp is
 * not NULL it receives the code point of a valid sequence. */
size_t tams_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Offset of the first byte of the first invalid sequence of s[0, n), or n when all is valid. */
size_t tams_utf8_check(const char *s, size_t n);

/* Length of the longest prefix of s[0, n) of at most max bytes that does not end inside a
 * multi-byte sequence, for quoting client text in a message of bounded length. Bytes that are
 * not UTF-8 count as one character each. */
size_t tams_utf8_clip(const char *s, size_t n, size_t max);

static inline bool tams_utf8_valid(const char *s, size_t n)
{
    return tams_utf8_check(s, n) == n;
}

#endif
