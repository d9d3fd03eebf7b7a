/* SPDX-License-Identifier: Apache-2.0 */
/* timestamp.c - parse and print TAMS timestamps as int64_t nanoseconds. */
#include "core/common.h"

#include "tams/timestamp.h"

#define NS_PER_S 1000000000u

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the run of digits at s[i..n), 0 if none. */
static size_t digit_run(const char *s, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && is_digit(s[j]))
        j++;
    return j - i;
}

int tams_ts_parse(const char *s, size_t n, int64_t *out)
{
    size_t i = 0, sec_at, sec_len, ns_at, ns_len;
    uint64_t sec = 0, nsec = 0, mag;
    bool neg = false;

    /* Syntax first, so that a malformed value is BADTIMESTAMP even when it is also huge. */
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    sec_at = i;
    sec_len = digit_run(s, i, n);
    if (sec_len == 0 || (sec_len > 1 && s[sec_at] == '0'))
        return TAMS_ERR_BADTIMESTAMP;
    i += sec_len;
    if (i >= n || s[i] != ':')
        return TAMS_ERR_BADTIMESTAMP;
    i++;
    ns_at = i;
    ns_len = digit_run(s, i, n);
    if (ns_len == 0 || ns_len > 9 || (ns_len > 1 && s[ns_at] == '0'))
        return TAMS_ERR_BADTIMESTAMP;
    i += ns_len;
    if (i != n)
        return TAMS_ERR_BADTIMESTAMP;

    /* TAMS_TS_MAX / 1e9 has 10 digits; with at most 10 digits sec * 1e9 + 999999999 < 1e19
     * fits in uint64_t (max ~1.8e19), so the sum below cannot wrap. */
    if (sec_len > 10)
        return TAMS_ERR_OVERFLOW;
    for (size_t k = 0; k < sec_len; k++)
        sec = sec * 10 + (uint64_t)(s[sec_at + k] - '0');
    for (size_t k = 0; k < ns_len; k++)
        nsec = nsec * 10 + (uint64_t)(s[ns_at + k] - '0');
    mag = sec * NS_PER_S + nsec;
    if (mag > (uint64_t)TAMS_TS_MAX)
        return TAMS_ERR_OVERFLOW;
    *out = neg ? -(int64_t)mag : (int64_t)mag;
    return 0;
}

size_t tams_ts_format(int64_t ns, char out[TAMS_TS_STRMAX])
{
    /* Unsigned negation so that INT64_MIN is printable too. */
    uint64_t mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    int len = snprintf(out, TAMS_TS_STRMAX, "%s%" PRIu64 ":%" PRIu64, ns < 0 ? "-" : "",
                       mag / NS_PER_S, mag % NS_PER_S);
    tams_assert(len > 0 && len < TAMS_TS_STRMAX);
    return (size_t)len;
}
