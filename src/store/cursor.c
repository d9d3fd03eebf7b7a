/* SPDX-License-Identifier: Apache-2.0 */
/* cursor.c - opaque keyset page cursors: versioned text, base64url, strict decoding. */
#include "core/common.h"
#include "store/cursor.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

static bool key_char_ok(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

int tams_cursor_encode(struct tams_buf *out, const char *kind, const char *key)
{
    char plain[TAMS_CURSOR_TEXTMAX];
    size_t klen = strlen(key), n;
    int len;

    if (klen == 0 || klen > TAMS_CURSOR_KEYMAX)
        return TAMS_ERR_INTERNAL;
    for (size_t i = 0; i < klen; i++)
        if (!key_char_ok((unsigned char)key[i]))
            return TAMS_ERR_INTERNAL;
    len = snprintf(plain, sizeof(plain), "v1|%s|%s", kind, key);
    if (len < 0 || (size_t)len >= sizeof(plain))
        return TAMS_ERR_INTERNAL;
    n = (size_t)len;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)plain[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)(unsigned char)plain[i + 1] << 8;
        if (left > 2)
            v |= (unsigned char)plain[i + 2];
        tams_buf_addch(out, b64url[(v >> 18) & 63]);
        tams_buf_addch(out, b64url[(v >> 12) & 63]);
        if (left > 1)
            tams_buf_addch(out, b64url[(v >> 6) & 63]);
        if (left > 2)
            tams_buf_addch(out, b64url[v & 63]);
    }
    return tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
}

/* Strict base64url: alphabet only, no padding, and the unused low bits of the last symbol must
 * be zero, so every cursor has exactly one spelling. */
static int b64url_decode(const char *text, size_t n, char *out, size_t *outlen)
{
    size_t o = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        size_t left = n - i < 4 ? n - i : 4;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = 0;
            if (k < left) {
                d = b64url_value((unsigned char)text[i + k]);
                if (d < 0)
                    return -1;
            }
            v = (v << 6) | (uint32_t)d;
        }
        out[o++] = (char)(v >> 16);
        if (left == 2 && (v & 0xffff) != 0)
            return -1;
        if (left > 2)
            out[o++] = (char)(v >> 8);
        if (left == 3 && (v & 0xff) != 0)
            return -1;
        if (left > 3)
            out[o++] = (char)v;
    }
    *outlen = o;
    return 0;
}

int tams_cursor_decode(const char *text, const char *kind, struct tams_buf *key_out)
{
    char plain[TAMS_CURSOR_TEXTMAX];
    size_t n = strnlen(text, TAMS_CURSOR_TEXTMAX + 1), plen = 0, klen = strlen(kind);
    const char *key;
    size_t keylen;

    if (n == 0 || n > TAMS_CURSOR_TEXTMAX)
        return TAMS_ERR_BADPAGE;
    if (b64url_decode(text, n, plain, &plen))
        return TAMS_ERR_BADPAGE;
    if (plen < 3 + klen + 1 + 1 || memcmp(plain, "v1|", 3) != 0 ||
        memcmp(plain + 3, kind, klen) != 0 || plain[3 + klen] != '|')
        return TAMS_ERR_BADPAGE;
    key = plain + 3 + klen + 1;
    keylen = plen - (3 + klen + 1);
    if (keylen == 0 || keylen > TAMS_CURSOR_KEYMAX)
        return TAMS_ERR_BADPAGE;
    for (size_t i = 0; i < keylen; i++)
        if (!key_char_ok((unsigned char)key[i]))
            return TAMS_ERR_BADPAGE;
    return tams_buf_add(key_out, key, keylen) ? TAMS_ERR_BADPAGE : 0;
}
