/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/cuts.h"

__extension__ typedef __int128 i128;

/* ts * num * 1e9 / den, rounded, in 128 bits: timestamps of long recordings in 1/90000 s times
 * 1e9 overflow 64 bits. */
int64_t tams_cuts_ns(int64_t ts, int num, int den)
{
    i128 x = (i128)ts * num * 1000000000;
    i128 half = den / 2;
    i128 q = x >= 0 ? (x + half) / den : -((-x + half) / den);
    if (q > TAMS_CUTS_NS_MAX)
        return TAMS_CUTS_NS_MAX;
    if (q < -TAMS_CUTS_NS_MAX)
        return -TAMS_CUTS_NS_MAX;
    return (int64_t)q;
}

int64_t tams_cuts_ts_ceil(int64_t ns, int num, int den)
{
    /* A first guess by floor division, then step to the exact answer (at most a couple of
     * steps: the guess is within one unit). */
    i128 unit = (i128)num * 1000000000;
    i128 x = (i128)ns * den;
    int64_t ts = (int64_t)(x >= 0 ? x / unit : -((-x + unit - 1) / unit));
    while (tams_cuts_ns(ts, num, den) < ns)
        ts++;
    while (tams_cuts_ns(ts - 1, num, den) >= ns)
        ts--;
    return ts;
}

size_t tams_cuts_find(const int64_t *cuts, size_t n, int64_t t)
{
    size_t lo = 0, hi = n; /* the answer is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (cuts[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int tams_cuts_parse_seconds(const char *s, int64_t *ns)
{
    int64_t whole = 0, frac = 0, scale = 1000000000;
    const char *p = s;
    if (!(*p >= '0' && *p <= '9'))
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 86400)
            return -1;
    }
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    if (*p != '\0')
        return -1;
    int64_t v = whole * 1000000000 + frac;
    if (v <= 0 || v > (int64_t)86400 * 1000000000)
        return -1;
    *ns = v;
    return 0;
}
