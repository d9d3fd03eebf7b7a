/* SPDX-License-Identifier: Apache-2.0 */
/* timestamp.h - TAMS timestamps ("[-]S:N") as int64_t total nanoseconds; no floating point.
 *
 * Grammar (TAMS 7.0): ^-?(0|[1-9][0-9]*):(0|[1-9][0-9]{0,8})$. N is a nanosecond *count*
 * ("1:5" is 1 s + 5 ns). The sign applies to the whole value: "-1:500000000" is -1.5 s and
 * "-0:0" is 0.
 *
 * Range: |ns| <= TAMS_TS_MAX = INT64_MAX - 2 ("9223372036:854775805"). INT64_MIN and INT64_MAX
 * are reserved as the -inf / +inf sentinels of struct tams_timerange, and one more nanosecond is
 * kept free on each side so that the 1 ns shift of an exclusive TimeRange bound (a+1, b-1) never
 * lands on a sentinel. Larger values are TAMS_ERR_OVERFLOW (a 400), never a wrap.
 * Pure functions, thread-safe, no allocation.
 */
#ifndef TAMS_TAMS_TIMESTAMP_H
#define TAMS_TAMS_TIMESTAMP_H

#include "core/common.h"

#define TAMS_TS_MAX (INT64_MAX - 2) /* largest accepted magnitude, in ns */
#define TAMS_TS_NEG_INF INT64_MIN   /* sentinel: unbounded start */
#define TAMS_TS_POS_INF INT64_MAX   /* sentinel: unbounded end */
#define TAMS_TS_STRMAX 32           /* enough for "-9223372036:854775808" + NUL */

/* Parse exactly n bytes of s (no NUL needed; any bytes allowed; never reads past n) into *out.
 * Returns 0, TAMS_ERR_BADTIMESTAMP when the text does not match the grammar, or
 * TAMS_ERR_OVERFLOW when it matches but |value| > TAMS_TS_MAX. *out is written only on 0. */
int tams_ts_parse(const char *s, size_t n, int64_t *out);

/* Canonical form "[-]S:N", no padding, zero is "0:0". Any int64_t is printable (the sentinels
 * too, though they do not parse back). Writes a NUL-terminated string; returns its length. */
size_t tams_ts_format(int64_t ns, char out[TAMS_TS_STRMAX]);

#endif
