/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.c - HMAC-SHA256, SHA-256, hex and constant-time comparison. */
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

void tams_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool tams_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}
