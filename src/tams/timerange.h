/* SPDX-License-Identifier: Apache-2.0 */
/* timerange.h - TAMS TimeRanges as closed integer nanosecond intervals; pure, no allocation.
 *
 * Meaning of the 7.0 grammar (notes §3.2): markers "[" "]" are inclusive, "(" ")" exclusive,
 * a missing marker is inclusive; a marker on an unbounded side is ignored.
 *   "[a_b)" "(a_b]" "[a_b]" "(a_b)" "a_b"  bounded, clusivity as written (markerless = inclusive)
 *   "[a_" "(a_" "a_" / "_b]" "_b)" "_b"    half-unbounded
 *   "_" "[_]" "(_)"                        eternity
 *   "[a]" "a" "[a" "a]" "[a_a]"            instant
 *   "(a)" "[a)" "(a]" "(a" "a)"            EMPTY (one timestamp + an exclusive marker, AN 0012)
 *   "" "()" "[]" "[" "(" "]" ")"           EMPTY (no timestamp and no "_")
 *   b < a, or a == b with an exclusive marker: EMPTY; so is "(0:0_0:1)" (no whole ns inside)
 *
 * Representation: [lo, hi] is the closed set of nanoseconds in the range. An inclusive bound a
 * gives lo = a; an exclusive one gives lo = a + 1 (end: hi = b or b - 1). An unbounded start is
 * lo = TAMS_TS_NEG_INF (INT64_MIN), an unbounded end hi = TAMS_TS_POS_INF (INT64_MAX).
 * lo_incl / hi_incl remember the marker of a bounded end, so that "[0:0_10:0)" prints back as
 * "[0:0_10:0)" (an exclusive end prints hi + 1, an exclusive start lo - 1). They are always false
 * on an unbounded end.
 * Empty <=> lo > hi. Every function here that produces an empty range produces the one
 * canonical empty value {lo = INT64_MAX, hi = INT64_MIN, false, false} (the identity of hull),
 * so parsed/computed structs can be compared field by field; test with tams_timerange_is_empty().
 * Callers that build a struct by hand (e.g. from a database row) must keep these rules.
 *
 * Relations (notes §3.3): the empty range overlaps nothing and is contained in everything.
 * Intersection and hull take each end (value and clusivity) from the tighter / looser side; on a
 * tie of the normalised value the inclusive form wins, so both are commutative.
 */
#ifndef TAMS_TAMS_TIMERANGE_H
#define TAMS_TAMS_TIMERANGE_H

#include "core/common.h"
#include "tams/timestamp.h"

struct tams_timerange {
    int64_t lo, hi;        /* closed interval in ns; INT64_MIN / INT64_MAX = unbounded */
    bool lo_incl, hi_incl; /* marker as written on a bounded end; false on an unbounded end */
};

#define TAMS_TIMERANGE_STRMAX 72 /* longest canonical form is 45 bytes + NUL */
#define TAMS_TIMERANGE_INMAX 128 /* longer inputs are rejected as TAMS_ERR_BADTIMERANGE */

/* Parse exactly n bytes of s (no NUL needed; any bytes allowed; never reads past n).
 * Returns 0, TAMS_ERR_BADTIMERANGE (syntax, or n > TAMS_TIMERANGE_INMAX) or TAMS_ERR_OVERFLOW
 * (syntax fine but a timestamp is out of range). *out is written only on 0. */
int tams_timerange_parse(const char *s, size_t n, struct tams_timerange *out);

/* Canonical form: empty "()", eternity "_", instant with two inclusive ends "[a]", otherwise
 * markers only on bounded ends with their own clusivity: "[0:0_10:0)", "(5:0_", "_10:0]".
 * Writes a NUL-terminated string; returns its length. Output re-parses to an equal struct. */
size_t tams_timerange_format(const struct tams_timerange *r, char out[TAMS_TIMERANGE_STRMAX]);

bool tams_timerange_is_empty(const struct tams_timerange *r);
bool tams_timerange_is_eternity(const struct tams_timerange *r);
bool tams_timerange_is_bounded(const struct tams_timerange *r); /* both ends finite, non-empty */
/* Some nanosecond lies in both. False if either is empty. */
bool tams_timerange_overlaps(const struct tams_timerange *a, const struct tams_timerange *b);
/* Every nanosecond of inner lies in outer. True if inner is empty. */
bool tams_timerange_contains(const struct tams_timerange *outer,
                             const struct tams_timerange *inner);
/* out may alias a or b. Empty if either is empty or they do not overlap. */
void tams_timerange_intersect(const struct tams_timerange *a, const struct tams_timerange *b,
                              struct tams_timerange *out);
/* Smallest range covering both (gaps included); empty inputs are ignored. out may alias. */
void tams_timerange_hull(const struct tams_timerange *a, const struct tams_timerange *b,
                         struct tams_timerange *out);
void tams_timerange_empty(struct tams_timerange *out);
void tams_timerange_eternity(struct tams_timerange *out);

/* Segment rules (notes §3.7): non-empty, both ends bounded, and an inclusive start (a "(" start
 * contradicts "segments start inclusively" and is rejected rather than normalised). The end may
 * be either; an instant "[a]" is allowed. Returns 0, or TAMS_ERR_BADTIMERANGE and sets *why (if
 * why is not NULL) to a static human-readable reason. */
int tams_timerange_check_segment(const struct tams_timerange *r, const char **why);

/* TAMS 8.2's object_timerange against 7.0's sample_offset/sample_count (ADR0036), at rate
 * num/den samples a second (num, den > 0). Exact or nothing: a count of samples that is not a
 * whole number of nanoseconds, or the reverse, fails (-1) and the caller keeps what it has.
 *
 * From samples: the object's timerange given a segment (bounded, inclusive start) with its
 * ts_offset, that uses `count` samples (all to the segment's end when !has_count) from
 * sample `offset` of the object. */
int tams_timerange_from_samples(const struct tams_timerange *seg, int64_t ts_offset, int64_t offset,
                                bool has_count, int64_t count, int64_t num, int64_t den,
                                struct tams_timerange *object);
/* To samples: the offset (*has_offset false when 0) and count (*has_count false when the
 * segment runs to the object's end) that say the same; both false: the whole object. */
int tams_timerange_to_samples(const struct tams_timerange *seg, int64_t ts_offset,
                              const struct tams_timerange *object, int64_t num, int64_t den,
                              int64_t *offset, bool *has_offset, int64_t *count, bool *has_count);

#endif
