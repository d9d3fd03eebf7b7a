/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.h - the few primitives tamsd needs, on OpenSSL libcrypto. */
#ifndef TAMS_CORE_CRYPTO_H
#define TAMS_CORE_CRYPTO_H

#include "core/common.h"

#define TAMS_SHA256_LEN 32

void tams_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                      unsigned char out[TAMS_SHA256_LEN]);
void tams_sha256(const void *data, size_t n, unsigned char out[TAMS_SHA256_LEN]);
/* Constant-time equality of two byte strings (false when lengths differ). */
bool tams_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
