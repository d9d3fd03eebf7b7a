/* SPDX-License-Identifier: Apache-2.0 */
/* hex.h - hexadecimal digits: bytes to lowercase hex and back (hashes, salts, token ids).
 *
 * The canonical spelling is lowercase: tams_hex_encode writes it, and tams_hex_decode and
 * tams_hex_valid accept only it, so a stored value has one spelling. tams_hex_digit reads
 * either case, for percent-escapes (RFC 3986 §2.1: "%2f" and "%2F" are the same octet).
 * Pure functions; thread-safe.
 */
#ifndef TAMS_CORE_HEX_H
#define TAMS_CORE_HEX_H

#include "core/common.h"

/* "0123456789abcdef" and "0123456789ABCDEF", for one digit at a time. */
extern const char tams_hex_lower[17];
extern const char tams_hex_upper[17];

/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void tams_hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of one hex digit, either case; -1 when c is none. */
int tams_hex_digit(char c);
/* True when s[0..n) are n lowercase hex digits. */
bool tams_hex_valid(const char *s, size_t n);
/* Exactly 2 * n lowercase hex digits (slen of them) into n bytes. Returns 0, or
 * TAMS_ERR_BADREQUEST (wrong length or a character that is not a lowercase digit). */
int tams_hex_decode(const char *s, size_t slen, unsigned char *out, size_t n);

#endif
