/* SPDX-License-Identifier: Apache-2.0 */
/* cuts.h - the arithmetic of cutting media into segments: timestamps to nanoseconds, where a
 * sample falls among the cut points, when a keyframe starts a new segment.
 *
 * Pure (no FFmpeg): the segmenter feeds it numbers, the unit tests too.
 */
#ifndef TAMS_CLIENT_CUTS_H
#define TAMS_CLIENT_CUTS_H

#include "core/common.h"

/* ts in units of num/den seconds, in nanoseconds, rounded to nearest (half away from zero).
 * The same ts always gives the same result, which is what makes segments contiguous: the end
 * of one and the start of the next are the same sample's timestamp. Saturates at
 * +-TAMS_CUTS_NS_MAX. den > 0, num > 0. */
int64_t tams_cuts_ns(int64_t ts, int num, int den);
#define TAMS_CUTS_NS_MAX (INT64_MAX / 4)

/* The smallest ts with tams_cuts_ns(ts, num, den) >= ns: a nanosecond offset in a stream's
 * own units, rounded up so that nothing lands before it. */
int64_t tams_cuts_ts_ceil(int64_t ns, int num, int den);

/* Index of the last cut <= t among n ascending cuts (n >= 1); 0 when t is before them all. */
size_t tams_cuts_find(const int64_t *cuts, size_t n, int64_t t);

/* Whether a keyframe at t starts a new segment: the current one started at start and has run
 * for at least duration (ns, > 0). A keyframe never cuts a segment shorter than that. */
static inline bool tams_cuts_due(int64_t start, int64_t t, int64_t duration)
{
    return t - start >= duration;
}

/* Parses SECONDS (a decimal like "2", "0.5", "1.001") into nanoseconds. Returns 0, or -1 for
 * anything else, zero, negative, or more than a day. */
int tams_cuts_parse_seconds(const char *s, int64_t *ns);

#endif
