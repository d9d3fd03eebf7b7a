/* SPDX-License-Identifier: Apache-2.0 */
/* percent.h - percent-encoding (RFC 3986 §2.1): URL paths, query strings, SigV4.
 *
 * Encoding leaves RFC 3986's unreserved characters (ALPHA, DIGIT, '-', '.', '_', '~') and the
 * caller's `keep` set as they are and writes every other byte as %XX with uppercase digits
 * (the form §2.1 recommends and SigV4 requires). Decoding takes either case.
 * Pure functions on the caller's buffers; thread-safe.
 */
#ifndef TAMS_CORE_PERCENT_H
#define TAMS_CORE_PERCENT_H

#include "core/common.h"
#include "core/buf.h"

enum tams_percent_flags {
    /* Form encoding of query strings: a space is '+' (encode) and '+' is a space (decode). */
    TAMS_PERCENT_PLUS = 1 << 0,
};

/* RFC 3986's unreserved characters: ALPHA, DIGIT, '-', '.', '_', '~'. */
bool tams_percent_unreserved(unsigned char c);
/* Appends n bytes of s to out, encoded. keep: more characters to leave as they are (NULL:
 * none). Errors stick in out (check tams_buf_ok once). */
void tams_percent_encode(struct tams_buf *out, const char *s, size_t n, const char *keep,
                         unsigned flags);
/* Decodes n bytes of s into out (room for n + 1 bytes), NUL-terminated; *outlen gets the
 * length. Returns 0, or TAMS_ERR_BADREQUEST for a '%' without two hex digits after it or a
 * NUL byte, raw or encoded (decoded text is used as a C string). */
int tams_percent_decode(const char *s, size_t n, unsigned flags, char *out, size_t *outlen);

#endif
