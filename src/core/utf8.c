/* SPDX-License-Identifier: Apache-2.0 */
/* utf8.c - strict UTF-8 decoding and validation (the table of RFC 3629 §4). */
#include "core/common.h"
#include "core/utf8.h"

size_t tams_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    size_t len;
    uint32_t v;

    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    }
    /* RFC 3629 §4 narrows the second byte after E0, ED, F0 and F4: that excludes overlong
     * forms, surrogates and values above U+10FFFF without decoding first. */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0; /* 80..BF stray continuation, C0/C1 overlong, F5..FF beyond U+10FFFF */
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    v = (v << 6) | (s[1] & 0x3f);
    for (size_t i = 2; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (cp)
        *cp = v;
    return len;
}

size_t tams_utf8_check(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t len;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        len = tams_utf8_decode(p + i, n - i, NULL);
        if (!len)
            return i;
        i += len;
    }
    return n;
}

size_t tams_utf8_clip(const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = max;

    if (n <= max)
        return n;
    /* p[k] is the first byte left out: back off over at most 3 continuation bytes to the start
     * of its sequence, when that start begins a sequence long enough to reach p[k]. */
    for (size_t back = 0; back < 3 && k - back > 0 && (p[k - back] & 0xc0) == 0x80; back++) {
        unsigned char lead = p[k - back - 1];
        size_t len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
        if (len > back + 1)
            return k - back - 1;
        if (len)
            break;
    }
    return k;
}
