/* SPDX-License-Identifier: Apache-2.0 */
/* percent.c - percent-encoding and decoding. */
#include "core/common.h"
#include "core/hex.h"
#include "core/percent.h"

bool tams_percent_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void tams_percent_encode(struct tams_buf *out, const char *s, size_t n, const char *keep,
                         unsigned flags)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (tams_percent_unreserved(c) || (c && keep && strchr(keep, c))) {
            tams_buf_addch(out, (char)c);
        } else if (c == ' ' && (flags & TAMS_PERCENT_PLUS)) {
            tams_buf_addch(out, '+');
        } else {
            char e[3] = {'%', tams_hex_upper[c >> 4], tams_hex_upper[c & 15]};
            tams_buf_add(out, e, 3);
        }
    }
}

int tams_percent_decode(const char *s, size_t n, unsigned flags, char *out, size_t *outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (n - i < 3)
                return TAMS_ERR_BADREQUEST;
            hi = tams_hex_digit(s[i + 1]);
            lo = tams_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return TAMS_ERR_BADREQUEST;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && (flags & TAMS_PERCENT_PLUS)) {
            c = ' ';
        }
        if (c == '\0')
            return TAMS_ERR_BADREQUEST;
        out[o++] = c;
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}
