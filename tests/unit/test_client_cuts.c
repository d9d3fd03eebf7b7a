/* SPDX-License-Identifier: Apache-2.0 */
/* test_client_cuts.c - the ingest's arithmetic (client/cuts): timestamps to nanoseconds and
 * back, finding a sample's segment, segment durations; and name-based IDs (client/ids). */
#include "core/common.h"
#include "client/cuts.h"
#include "client/ids.h"

#include "check.h"

static void test_ns(void)
{
    CHECK_INT_EQ(tams_cuts_ns(133200, 1, 90000), 1480000000);
    CHECK_INT_EQ(tams_cuts_ns(1, 1, 90000), 11111);   /* 11111.1 rounds down */
    CHECK_INT_EQ(tams_cuts_ns(5, 1, 90000), 55556);   /* 55555.5 rounds up */
    CHECK_INT_EQ(tams_cuts_ns(-5, 1, 90000), -55556); /* and away from zero below it */
    CHECK_INT_EQ(tams_cuts_ns(131280, 1, 90000), 1458666667);
    CHECK_INT_EQ(tams_cuts_ns(1001, 1, 30000), 33366667); /* 29.97 fps */
    CHECK_INT_EQ(tams_cuts_ns(1024, 1, 48000), 21333333);
    /* 1/90000 s over a year: the product overflows 64 bits, the answer does not. */
    int64_t year = (int64_t)90000 * 86400 * 365;
    CHECK_INT_EQ(tams_cuts_ns(year, 1, 90000), (int64_t)86400 * 365 * 1000000000);
    CHECK_INT_EQ(tams_cuts_ns(INT64_MAX / 2, 1000, 1), TAMS_CUTS_NS_MAX);
    CHECK_INT_EQ(tams_cuts_ns(INT64_MIN / 2, 1000, 1), -TAMS_CUTS_NS_MAX);
}

static void test_ts_ceil(void)
{
    /* The smallest ts at or after ns, for several time bases. */
    const int bases[][2] = {{1, 90000}, {1, 48000}, {1, 12800}, {1001, 30000}, {1, 1000000000}};
    const int64_t values[] = {0, 1, 11111, 11112, 80000000, 21333333, 999999999, -5, -11112};
    for (size_t b = 0; b < TAMS_ARRAY_SIZE(bases); b++)
        for (size_t v = 0; v < TAMS_ARRAY_SIZE(values); v++) {
            int num = bases[b][0], den = bases[b][1];
            int64_t ts = tams_cuts_ts_ceil(values[v], num, den);
            CHECK(tams_cuts_ns(ts, num, den) >= values[v]);
            CHECK(tams_cuts_ns(ts - 1, num, den) < values[v]);
        }
    CHECK_INT_EQ(tams_cuts_ts_ceil(80000000, 1, 12800), 1024);
}

static void test_find(void)
{
    const int64_t cuts[] = {100, 200, 300};
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, 50), 0);
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, 100), 0);
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, 199), 0);
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, 200), 1);
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, 299), 1);
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, 300), 2);
    CHECK_INT_EQ(tams_cuts_find(cuts, 3, INT64_MAX), 2);
    CHECK_INT_EQ(tams_cuts_find(cuts, 1, 1000), 0);
    CHECK(tams_cuts_due(0, 2000000000, 2000000000));
    CHECK(!tams_cuts_due(0, 1999999999, 2000000000));
}

static void test_seconds(void)
{
    int64_t v = 0;
    CHECK_INT_EQ(tams_cuts_parse_seconds("2", &v), 0);
    CHECK_INT_EQ(v, 2000000000);
    CHECK_INT_EQ(tams_cuts_parse_seconds("0.5", &v), 0);
    CHECK_INT_EQ(v, 500000000);
    CHECK_INT_EQ(tams_cuts_parse_seconds("1.001", &v), 0);
    CHECK_INT_EQ(v, 1001000000);
    CHECK_INT_EQ(tams_cuts_parse_seconds("0.0000000019", &v), 0); /* past ns: cut off */
    CHECK_INT_EQ(v, 1);
    CHECK_INT_EQ(tams_cuts_parse_seconds("86400", &v), 0);
    const char *bad[] = {"", "0", "0.0", "-1", "1.", ".5", "1e3", "2s", "86401", "99999999999"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++)
        CHECK_INT_EQ(tams_cuts_parse_seconds(bad[i], &v), -1);
}

static void test_ids(void)
{
    char a[TAMS_UUID_STRLEN], b[TAMS_UUID_STRLEN], c[TAMS_UUID_STRLEN];
    tams_ids_uuid2("x", "y", a);
    tams_ids_uuid2("x", "y", b);
    tams_ids_uuid2("x", "z", c);
    CHECK_STR_EQ(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK_INT_EQ(strlen(a), 36);
    CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    CHECK(a[14] == '5');                                                 /* version 5 */
    CHECK(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b'); /* RFC 4122 variant */
    /* SHA-256("x/y") = bd3c9047d6816c3172f52ddb42bf77c7..., with the two fields set. */
    CHECK_STR_EQ(a, "bd3c9047-d681-5c31-b2f5-2ddb42bf77c7");
}

int main(void)
{
    RUN(test_ns);
    RUN(test_ts_ceil);
    RUN(test_find);
    RUN(test_seconds);
    RUN(test_ids);
    return check_report();
}
