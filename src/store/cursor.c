/* SPDX-License-Identifier: Apache-2.0 */
/* cursor.c - opaque keyset page cursors: versioned text, base64url, strict decoding. */
#include "core/common.h"
#include "core/base64.h"
#include "store/cursor.h"

static bool key_char_ok(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

int tams_cursor_encode(struct tams_buf *out, const char *kind, const char *key)
{
    char plain[TAMS_CURSOR_TEXTMAX], text[TAMS_BASE64_ENCODED_MAX(TAMS_CURSOR_TEXTMAX)];
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
    n = tams_base64_encode((const unsigned char *)plain, (size_t)len, true, text);
    tams_buf_add(out, text, n);
    return tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
}

int tams_cursor_decode(const char *text, const char *kind, struct tams_buf *key_out)
{
    char plain[TAMS_CURSOR_TEXTMAX];
    size_t n = strnlen(text, TAMS_CURSOR_TEXTMAX + 1), plen = 0, klen = strlen(kind);
    const char *key;
    size_t keylen;

    if (n == 0 || n > TAMS_CURSOR_TEXTMAX)
        return TAMS_ERR_BADPAGE;
    /* Strict: every cursor has exactly one spelling. */
    if (tams_base64_decode(text, n, true, (unsigned char *)plain, &plen))
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
