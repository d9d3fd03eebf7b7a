/* SPDX-License-Identifier: Apache-2.0 */
/* base64.c - strict base64/base64url decoding and encoding. */
#include "core/common.h"
#include "core/base64.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

int tams_base64_decode(const char *s, size_t n, bool url, unsigned char *out, size_t *outlen)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (!url) {
        if (n % 4)
            return TAMS_ERR_BADREQUEST;
        if (n && s[n - 1] == '=')
            n--;
        if (n && s[n - 1] == '=')
            n--;
    }
    if (n % 4 == 1)
        return TAMS_ERR_BADREQUEST;
    for (size_t i = 0; i < n; i++) {
        int v = value_of(s[i], url);
        if (v < 0)
            return TAMS_ERR_BADREQUEST;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-zero padding bits: a second spelling of the same bytes */
        return TAMS_ERR_BADREQUEST;
    *outlen = o;
    return 0;
}

size_t tams_base64_encode(const unsigned char *in, size_t n, bool url, char *out)
{
    const char *alphabet = url ? url_alphabet : std_alphabet;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits)
        out[o++] = alphabet[(acc << (6 - bits)) & 63];
    while (!url && o % 4)
        out[o++] = '=';
    out[o] = '\0';
    return o;
}
