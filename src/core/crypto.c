/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.c - HMAC-SHA256, SHA-256 and constant-time comparison. */
#include "core/common.h"
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

void tams_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                      unsigned char out[TAMS_SHA256_LEN])
{
    unsigned int len = TAMS_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len))
        TAMS_BUG("HMAC-SHA256 failed");
}

void tams_sha256(const void *data, size_t n, unsigned char out[TAMS_SHA256_LEN])
{
    unsigned int len = TAMS_SHA256_LEN;
    if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL))
        TAMS_BUG("SHA-256 failed");
}

bool tams_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}
