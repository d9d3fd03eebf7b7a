/* SPDX-License-Identifier: Apache-2.0 */
/* hex.c - hexadecimal encoding and strict decoding. */
#include "core/common.h"
#include "core/hex.h"

const char tams_hex_lower[17] = "0123456789abcdef";
const char tams_hex_upper[17] = "0123456789ABCDEF";

void tams_hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = tams_hex_lower[in[i] >> 4];
        out[2 * i + 1] = tams_hex_lower[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int tams_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_lower_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool tams_hex_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit(s[i]))
            return false;
    return true;
}

int tams_hex_decode(const char *s, size_t slen, unsigned char *out, size_t n)
{
    if (slen / 2 != n || slen % 2 || !tams_hex_valid(s, slen))
        return TAMS_ERR_BADREQUEST;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)(tams_hex_digit(s[2 * i]) << 4 | tams_hex_digit(s[2 * i + 1]));
    return 0;
}
