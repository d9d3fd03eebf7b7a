/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_timerange.c - libFuzzer target: timestamp and TimeRange parsing, printing and relations. */
#include "core/common.h"

#include "tams/timestamp.h"
#include "tams/timerange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_timerange: violated: %s (line %d)\n", #cond, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool tr_equal(const struct tams_timerange *a, const struct tams_timerange *b)
{
    return a->lo == b->lo && a->hi == b->hi && a->lo_incl == b->lo_incl && a->hi_incl == b->hi_incl;
}

static bool has(const struct tams_timerange *r, int64_t t)
{
    return r->lo <= t && t <= r->hi;
}

/* Structural invariants every produced range must satisfy. */
static void check_wellformed(const struct tams_timerange *r)
{
    if (tams_timerange_is_empty(r)) {
        struct tams_timerange e;
        tams_timerange_empty(&e);
        REQUIRE(tr_equal(r, &e));
        return;
    }
    REQUIRE(r->lo != INT64_MAX && r->hi != INT64_MIN);
    if (r->lo == INT64_MIN)
        REQUIRE(!r->lo_incl);
    else
        REQUIRE(r->lo >= -TAMS_TS_MAX && r->lo <= TAMS_TS_MAX + 1);
    if (r->hi == INT64_MAX)
        REQUIRE(!r->hi_incl);
    else
        REQUIRE(r->hi <= TAMS_TS_MAX && r->hi >= -TAMS_TS_MAX - 1);
}

/* format -> parse -> format is the identity on the struct and on the text. */
static void check_roundtrip(const struct tams_timerange *r)
{
    char out[TAMS_TIMERANGE_STRMAX], out2[TAMS_TIMERANGE_STRMAX];
    struct tams_timerange r2;
    check_wellformed(r);
    size_t len = tams_timerange_format(r, out);
    REQUIRE(len == strlen(out) && len < TAMS_TIMERANGE_STRMAX);
    REQUIRE(tams_timerange_parse(out, len, &r2) == 0);
    REQUIRE(tr_equal(r, &r2));
    size_t len2 = tams_timerange_format(&r2, out2);
    REQUIRE(len == len2 && memcmp(out, out2, len) == 0);
    if (tams_timerange_check_segment(r, NULL) == 0)
        REQUIRE(tams_timerange_is_bounded(r) && r->lo_incl);
}

static void check_timestamp(const char *s, size_t n)
{
    int64_t v, v2;
    char out[TAMS_TS_STRMAX], out2[TAMS_TS_STRMAX];
    int rc = tams_ts_parse(s, n, &v);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADTIMESTAMP || rc == TAMS_ERR_OVERFLOW);
    if (rc)
        return;
    REQUIRE(v >= -TAMS_TS_MAX && v <= TAMS_TS_MAX);
    size_t len = tams_ts_format(v, out);
    REQUIRE(len == strlen(out));
    REQUIRE(tams_ts_parse(out, len, &v2) == 0 && v == v2);
    REQUIRE(tams_ts_format(v2, out2) == len && memcmp(out, out2, len) == 0);
    /* canonical text is the input, except for "-0:0" */
    REQUIRE((len == n && memcmp(out, s, n) == 0) || (v == 0 && n == 4));
}

static void check_pair(const struct tams_timerange *a, const struct tams_timerange *b)
{
    struct tams_timerange i, i2, h, h2;
    bool ov = tams_timerange_overlaps(a, b);
    bool ab = tams_timerange_contains(a, b), ba = tams_timerange_contains(b, a);

    tams_timerange_intersect(a, b, &i);
    tams_timerange_intersect(b, a, &i2);
    tams_timerange_hull(a, b, &h);
    tams_timerange_hull(b, a, &h2);
    check_roundtrip(&i);
    check_roundtrip(&h);
    REQUIRE(tr_equal(&i, &i2));
    REQUIRE(tr_equal(&h, &h2));
    REQUIRE(ov == tams_timerange_overlaps(b, a));
    REQUIRE(ov == !tams_timerange_is_empty(&i));
    REQUIRE(tams_timerange_contains(a, &i) && tams_timerange_contains(b, &i));
    REQUIRE(tams_timerange_contains(&h, a) && tams_timerange_contains(&h, b));
    REQUIRE(tams_timerange_contains(a, a) && tams_timerange_contains(b, b));
    if (ab)
        REQUIRE(i.lo == b->lo && i.hi == b->hi && h.lo == a->lo && h.hi == a->hi);
    if (ab && ba)
        REQUIRE(a->lo == b->lo && a->hi == b->hi);
    if (ab && !tams_timerange_is_empty(b))
        REQUIRE(ov);
    if (tams_timerange_is_empty(a) || tams_timerange_is_empty(b))
        REQUIRE(!ov && tams_timerange_is_empty(&i));
    if (tams_timerange_is_empty(a))
        REQUIRE(tr_equal(&h, b) && ba);

    /* pointwise: membership at every edge and its neighbours */
    const int64_t pts[] = {a->lo, a->hi, b->lo, b->hi, 0};
    for (size_t k = 0; k < TAMS_ARRAY_SIZE(pts); k++) {
        for (int d = -1; d <= 1; d++) {
            int64_t t;
            if (__builtin_add_overflow(pts[k], (int64_t)d, &t))
                continue;
            bool ina = has(a, t), inb = has(b, t);
            REQUIRE(has(&i, t) == (ina && inb));
            if (ina || inb)
                REQUIRE(has(&h, t));
            if (ab && inb)
                REQUIRE(ina);
            if (ina && inb)
                REQUIRE(ov);
        }
    }
}

static int parse_range(const char *s, size_t n, struct tams_timerange *r)
{
    int rc = tams_timerange_parse(s, n, r);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADTIMERANGE || rc == TAMS_ERR_OVERFLOW);
    if (n > TAMS_TIMERANGE_INMAX)
        REQUIRE(rc == TAMS_ERR_BADTIMERANGE);
    if (rc == 0)
        check_roundtrip(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *bar = memchr(s, '|', size);
    struct tams_timerange a, b, fixed[3];

    check_timestamp(s, size);
    if (parse_range(s, size, &a) == 0) {
        /* the whole input against a few fixed ranges */
        tams_timerange_empty(&fixed[0]);
        tams_timerange_eternity(&fixed[1]);
        REQUIRE(tams_timerange_parse("[0:0_10:0)", 10, &fixed[2]) == 0);
        for (size_t k = 0; k < TAMS_ARRAY_SIZE(fixed); k++)
            check_pair(&a, &fixed[k]);
    }
    if (bar) {
        size_t na = (size_t)(bar - s), nb = size - na - 1;
        check_timestamp(s, na);
        check_timestamp(bar + 1, nb);
        if (parse_range(s, na, &a) == 0 && parse_range(bar + 1, nb, &b) == 0)
            check_pair(&a, &b);
    }
    return 0;
}
