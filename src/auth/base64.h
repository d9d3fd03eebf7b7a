/* SPDX-License-Identifier: Apache-2.0 */
/* base64.h - strict base64 and base64url (RFC 4648) for credentials and JWTs.
 *
 * Decoding is strict: only the alphabet's characters, no whitespace, and the unused low bits
 * of the last character must be zero, so each input has one decoding and one encoding.
 * Standard base64 requires its '=' padding; base64url (as in JWS) forbids it.
 */
#ifndef TAMS_AUTH_BASE64_H
#define TAMS_AUTH_BASE64_H

#include "core/common.h"

/* Bytes needed to decode n characters (an upper bound). */
#define TAMS_B64_DECODED_MAX(n) (((n) / 4 + 1) * 3)

/* Decodes n characters of s into out (room for TAMS_B64_DECODED_MAX(n) bytes); *outlen gets
 * the byte count. Returns 0, or TAMS_ERR_BADREQUEST for anything malformed. */
int tams_b64_decode(const char *s, size_t n, bool url, unsigned char *out, size_t *outlen);
/* Appends n bytes as unpadded base64url to out (room for 4 * ceil(n / 3) + 1); NUL-terminated. */
void tams_b64url_encode(const unsigned char *in, size_t n, char *out);

#endif
