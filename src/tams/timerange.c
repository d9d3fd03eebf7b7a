/* SPDX-License-Identifier: Apache-2.0 */
/* timerange.c - TAMS TimeRange parsing, canonical printing and interval relations. */
#include "core/common.h"

#include "tams/timerange.h"

/* One side of a range: normalised value plus the marker it was written with. */
struct bound {
    int64_t v;
    bool incl;
};

void tams_timerange_empty(struct tams_timerange *out)
{
    *out = (struct tams_timerange){
        .lo = TAMS_TS_POS_INF, .hi = TAMS_TS_NEG_INF, .lo_incl = false, .hi_incl = false};
}

void tams_timerange_eternity(struct tams_timerange *out)
{
    *out = (struct tams_timerange){
        .lo = TAMS_TS_NEG_INF, .hi = TAMS_TS_POS_INF, .lo_incl = false, .hi_incl = false};
}

bool tams_timerange_is_empty(const struct tams_timerange *r)
{
    return r->lo > r->hi;
}

bool tams_timerange_is_eternity(const struct tams_timerange *r)
{
    return r->lo == TAMS_TS_NEG_INF && r->hi == TAMS_TS_POS_INF;
}

bool tams_timerange_is_bounded(const struct tams_timerange *r)
{
    return !tams_timerange_is_empty(r) && r->lo != TAMS_TS_NEG_INF && r->hi != TAMS_TS_POS_INF;
}

/* Build from two bounds; anything with lo > hi becomes the canonical empty value, and the
 * clusivity of an unbounded end is cleared so equal sets have equal structs. */
static void make(struct tams_timerange *out, struct bound lo, struct bound hi)
{
    if (lo.v > hi.v) {
        tams_timerange_empty(out);
        return;
    }
    out->lo = lo.v;
    out->hi = hi.v;
    out->lo_incl = lo.v != TAMS_TS_NEG_INF && lo.incl;
    out->hi_incl = hi.v != TAMS_TS_POS_INF && hi.incl;
}

/* Scan an optional timestamp at s[*i..n). Returns true if one was present (then *rc is set to
 * its parse result and *v to its value on success). Timestamp characters are [-0-9:]; the
 * run is handed whole to tams_ts_parse, which rejects anything not matching the grammar. */
static bool scan_ts(const char *s, size_t n, size_t *i, int64_t *v, int *rc)
{
    size_t j = *i;
    while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '-' || s[j] == ':'))
        j++;
    if (j == *i)
        return false;
    *rc = tams_ts_parse(s + *i, j - *i, v);
    *i = j;
    return true;
}

int tams_timerange_parse(const char *s, size_t n, struct tams_timerange *out)
{
    size_t i = 0;
    char open = 0, close = 0;
    bool has_a, has_b = false, has_sep = false;
    int64_t a = 0, b = 0;
    int rc_a = 0, rc_b = 0;
    struct bound lo, hi;

    if (n > TAMS_TIMERANGE_INMAX)
        return TAMS_ERR_BADTIMERANGE;
    if (i < n && (s[i] == '[' || s[i] == '('))
        open = s[i++];
    has_a = scan_ts(s, n, &i, &a, &rc_a);
    if (i < n && s[i] == '_') {
        has_sep = true;
        i++;
        has_b = scan_ts(s, n, &i, &b, &rc_b);
    }
    if (i < n && (s[i] == ']' || s[i] == ')'))
        close = s[i++];
    if (i != n)
        return TAMS_ERR_BADTIMERANGE;
    /* Syntax errors win over range errors, wherever they are. */
    if (rc_a == TAMS_ERR_BADTIMESTAMP || rc_b == TAMS_ERR_BADTIMESTAMP)
        return TAMS_ERR_BADTIMERANGE;
    if (rc_a)
        return rc_a;
    if (rc_b)
        return rc_b;

    if (!has_sep) {
        /* "", "()", "[" ...: never. A single timestamp is an instant, unless an exclusive
         * marker is present, which leaves no nanosecond (AN 0012). */
        if (!has_a || open == '(' || close == ')')
            tams_timerange_empty(out);
        else
            make(out, (struct bound){a, true}, (struct bound){a, true});
        return 0;
    }
    lo = (struct bound){TAMS_TS_NEG_INF, false};
    hi = (struct bound){TAMS_TS_POS_INF, false};
    /* |a|, |b| <= TAMS_TS_MAX = INT64_MAX - 2, so the +-1 stays clear of the sentinels. */
    if (has_a)
        lo = open == '(' ? (struct bound){a + 1, false} : (struct bound){a, true};
    if (has_b)
        hi = close == ')' ? (struct bound){b - 1, false} : (struct bound){b, true};
    make(out, lo, hi);
    return 0;
}

size_t tams_timerange_format(const struct tams_timerange *r, char out[TAMS_TIMERANGE_STRMAX])
{
    size_t len = 0;

    if (tams_timerange_is_empty(r)) {
        memcpy(out, "()", 3);
        return 2;
    }
    if (tams_timerange_is_eternity(r)) {
        memcpy(out, "_", 2);
        return 1;
    }
    if (r->lo == r->hi && r->lo_incl && r->hi_incl) {
        out[len++] = '[';
        len += tams_ts_format(r->lo, out + len);
        out[len++] = ']';
        out[len] = 0;
        return len;
    }
    /* A finite lo is > INT64_MIN and a finite hi < INT64_MAX, so lo - 1 and hi + 1 are safe. */
    if (r->lo != TAMS_TS_NEG_INF) {
        out[len++] = r->lo_incl ? '[' : '(';
        len += tams_ts_format(r->lo_incl ? r->lo : r->lo - 1, out + len);
    }
    out[len++] = '_';
    if (r->hi != TAMS_TS_POS_INF) {
        len += tams_ts_format(r->hi_incl ? r->hi : r->hi + 1, out + len);
        out[len++] = r->hi_incl ? ']' : ')';
    }
    out[len] = 0;
    return len;
}

bool tams_timerange_overlaps(const struct tams_timerange *a, const struct tams_timerange *b)
{
    if (tams_timerange_is_empty(a) || tams_timerange_is_empty(b))
        return false;
    return (a->lo > b->lo ? a->lo : b->lo) <= (a->hi < b->hi ? a->hi : b->hi);
}

bool tams_timerange_contains(const struct tams_timerange *outer, const struct tams_timerange *inner)
{
    if (tams_timerange_is_empty(inner))
        return true;
    if (tams_timerange_is_empty(outer))
        return false;
    return outer->lo <= inner->lo && inner->hi <= outer->hi;
}

/* Pick one of two bounds: the larger value if want_max, else the smaller; on equal values the
 * inclusive form wins, which keeps intersect and hull commutative. */
static struct bound pick(struct bound x, struct bound y, bool want_max)
{
    if (x.v == y.v)
        return (struct bound){x.v, x.incl || y.incl};
    return (x.v > y.v) == want_max ? x : y;
}

void tams_timerange_intersect(const struct tams_timerange *a, const struct tams_timerange *b,
                              struct tams_timerange *out)
{
    struct bound lo, hi;
    if (tams_timerange_is_empty(a) || tams_timerange_is_empty(b)) {
        tams_timerange_empty(out);
        return;
    }
    lo = pick((struct bound){a->lo, a->lo_incl}, (struct bound){b->lo, b->lo_incl}, true);
    hi = pick((struct bound){a->hi, a->hi_incl}, (struct bound){b->hi, b->hi_incl}, false);
    make(out, lo, hi);
}

void tams_timerange_hull(const struct tams_timerange *a, const struct tams_timerange *b,
                         struct tams_timerange *out)
{
    struct bound lo, hi;
    if (tams_timerange_is_empty(a) && tams_timerange_is_empty(b)) {
        tams_timerange_empty(out);
        return;
    }
    if (tams_timerange_is_empty(a) || tams_timerange_is_empty(b)) {
        const struct tams_timerange *r = tams_timerange_is_empty(a) ? b : a;
        make(out, (struct bound){r->lo, r->lo_incl}, (struct bound){r->hi, r->hi_incl});
        return;
    }
    lo = pick((struct bound){a->lo, a->lo_incl}, (struct bound){b->lo, b->lo_incl}, false);
    hi = pick((struct bound){a->hi, a->hi_incl}, (struct bound){b->hi, b->hi_incl}, true);
    make(out, lo, hi);
}

int tams_timerange_check_segment(const struct tams_timerange *r, const char **why)
{
    const char *reason = NULL;
    if (tams_timerange_is_empty(r))
        reason = "segment timerange must not be empty";
    else if (r->lo == TAMS_TS_NEG_INF || r->hi == TAMS_TS_POS_INF)
        reason = "segment timerange must have both a start and an end";
    else if (!r->lo_incl)
        reason = "segment timerange must start inclusively ('[')";
    if (why)
        *why = reason;
    return reason ? TAMS_ERR_BADTIMERANGE : 0;
}

/* ---- object_timerange and sample counts ------------------------------------------------- */

#define NS_PER_S 1000000000

__extension__ typedef __int128 i128; /* rates times counts overflow 64 bits */

/* n samples at num/den a second, in ns, when exact and in range. */
static int samples_ns(int64_t n, int64_t num, int64_t den, int64_t *ns)
{
    i128 t = (i128)n * NS_PER_S * den;
    if (num <= 0 || den <= 0 || t % num || t / num > INT64_MAX || t / num < INT64_MIN)
        return -1;
    *ns = (int64_t)(t / num);
    return 0;
}

/* ns as a count of samples, when exact. */
static int ns_samples(int64_t ns, int64_t num, int64_t den, int64_t *n)
{
    i128 t = (i128)ns * num, per = (i128)NS_PER_S * den;
    if (num <= 0 || den <= 0 || t % per)
        return -1;
    *n = (int64_t)(t / per);
    return 0;
}

int tams_timerange_from_samples(const struct tams_timerange *seg, int64_t ts_offset, int64_t offset,
                                bool has_count, int64_t count, int64_t num, int64_t den,
                                struct tams_timerange *object)
{
    int64_t start, skip, len, lo, hi;

    if (!tams_timerange_is_bounded(seg) || !seg->lo_incl || offset < 0 ||
        (has_count && count <= 0) || __builtin_sub_overflow(seg->lo, ts_offset, &start) ||
        samples_ns(offset, num, den, &skip) || __builtin_sub_overflow(start, skip, &lo))
        return -1;
    if (has_count) { /* the object ends, exclusively, after the samples the segment uses */
        if (samples_ns(count, num, den, &len) || __builtin_add_overflow(start, len - 1, &hi))
            return -1;
        *object = (struct tams_timerange){lo, hi, true, false};
    } else {
        if (__builtin_sub_overflow(seg->hi, ts_offset, &hi))
            return -1;
        *object = (struct tams_timerange){lo, hi, true, seg->hi_incl};
    }
    return lo <= hi && lo != TAMS_TS_NEG_INF && hi != TAMS_TS_POS_INF ? 0 : -1;
}

int tams_timerange_to_samples(const struct tams_timerange *seg, int64_t ts_offset,
                              const struct tams_timerange *object, int64_t num, int64_t den,
                              int64_t *offset, bool *has_offset, int64_t *count, bool *has_count)
{
    int64_t start, end, skip;

    *has_offset = *has_count = false;
    if (!tams_timerange_is_bounded(seg) || !tams_timerange_is_bounded(object) || !object->lo_incl ||
        __builtin_sub_overflow(seg->lo, ts_offset, &start) ||
        __builtin_sub_overflow(seg->hi, ts_offset, &end) || start < object->lo ||
        __builtin_sub_overflow(start, object->lo, &skip))
        return -1;
    if (skip && ns_samples(skip, num, den, offset))
        return -1;
    *has_offset = skip != 0;
    if (end >= object->hi) /* to the object's end: every sample from the offset on */
        return 0;
    /* Ends before the object does: a count, said exactly only with exclusive ends. */
    if (seg->hi_incl || ns_samples(end + 1 - start, num, den, count))
        return -1;
    *has_count = true;
    return 0;
}
