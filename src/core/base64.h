/* SPDX-License-Identifier: Apache-2.0 */
/* base64.h - strict base64 and base64url (RFC 4648 §4, §5): credentials, JWTs, page cursors.
 *
 * Decoding is strict: only the alphabet's characters, no whitespace, and the unused low bits
 * of the last character must be zero, so each input has one decoding and one encoding.
 * Standard base64 requires its '=' padding; base64url (as in JWS) forbids it. Encoding writes
 * the same forms: standard padded, base64url unpadded.
 * Pure functions on the caller's buffers; thread-safe.
 */
#ifndef TAMS_CORE_BASE64_H
#define TAMS_CORE_BASE64_H

#include "core/common.h"

/* Bytes needed to decode n characters (an upper bound). */
#define TAMS_BASE64_DECODED_MAX(n) (((n) / 4 + 1) * 3)
/* Characters (and the NUL) needed to encode n bytes, padded or not. */
#define TAMS_BASE64_ENCODED_MAX(n) (((n) + 2) / 3 * 4 + 1)

/* Decodes n characters of s into out (room for TAMS_BASE64_DECODED_MAX(n) bytes); *outlen
 * gets the byte count. url picks base64url. Returns 0, or TAMS_ERR_BADREQUEST for anything
 * malformed (out may then hold a part of the bytes). */
int tams_base64_decode(const char *s, size_t n, bool url, unsigned char *out, size_t *outlen);
/* Writes n bytes as base64 (padded) or base64url (unpadded) to out, which has room for
 * TAMS_BASE64_ENCODED_MAX(n) characters; NUL-terminated. Returns the length written. */
size_t tams_base64_encode(const unsigned char *in, size_t n, bool url, char *out);

#endif
