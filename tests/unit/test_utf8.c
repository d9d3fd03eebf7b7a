/* SPDX-License-Identifier: Apache-2.0 */
/* test_utf8.c - strict UTF-8 against a reference built from the definition: a sequence is valid
 * when it is the shortest encoding of a Unicode scalar value. Every sequence of up to three
 * bytes is tried, and every four-byte lead with every second byte. */
#include "core/common.h"
#include "core/utf8.h"

#include "check.h"

/* The shortest encoding of cp (no checks): its length. */
static size_t encode(uint32_t cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Is s[0, n) exactly one valid sequence? Decode by the bit patterns, then demand that the
 * value is a scalar value and that re-encoding it gives the same bytes. */
static bool reference_one(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t v;
    unsigned char again[4];

    if (n == 0)
        return false;
    if (s[0] < 0x80)
        len = 1, v = s[0];
    else if ((s[0] & 0xe0) == 0xc0)
        len = 2, v = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, v = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, v = s[0] & 0x07;
    else
        return false;
    if (len != n)
        return false;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return false;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return false;
    if (encode(v, again) != n || memcmp(again, s, n) != 0)
        return false; /* overlong */
    *cp = v;
    return true;
}

/* s[0, n) as the implementation sees it: one valid sequence of length n? */
static bool impl_one(const unsigned char *s, size_t n, uint32_t *cp)
{
    return tams_utf8_decode(s, n, cp) == n && tams_utf8_check((const char *)s, n) == n;
}

static int mismatches;

static void compare(const unsigned char *s, size_t n)
{
    uint32_t a = 0, b = 0;
    bool want = reference_one(s, n, &a), got = impl_one(s, n, &b);
    if (want != got || (want && a != b)) {
        if (mismatches++ < 10) {
            fprintf(stderr, "utf8 mismatch on");
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, " %02x", s[i]);
            fprintf(stderr, ": reference %d, tams %d\n", want, got);
        }
    }
}

static void test_exhaustive(void)
{
    unsigned char s[4];

    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        compare(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            compare(s, 2);
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                compare(s, 3);
            }
        }
    }
    /* four bytes: every lead and second byte, the edges of the last two */
    static const unsigned char tail[] = {0x00, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
    for (unsigned a = 0xe0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t c = 0; c < sizeof(tail); c++)
                for (size_t d = 0; d < sizeof(tail); d++) {
                    s[0] = (unsigned char)a, s[1] = (unsigned char)b;
                    s[2] = tail[c], s[3] = tail[d];
                    compare(s, 4);
                }
    CHECK_INT_EQ(mismatches, 0);
}

static void test_every_scalar_value(void)
{
    unsigned char s[4];
    int bad = 0;

    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        uint32_t back = 0;
        size_t n;
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        n = encode(cp, s);
        if (tams_utf8_decode(s, n, &back) != n || back != cp ||
            tams_utf8_check((const char *)s, n) != n)
            bad++;
        /* cut short, it is invalid at its start */
        if (n > 1 &&
            (tams_utf8_decode(s, n - 1, NULL) != 0 || tams_utf8_check((const char *)s, n - 1) != 0))
            bad++;
    }
    CHECK_INT_EQ(bad, 0);
}

static void test_offsets(void)
{
    static const struct {
        const char *s;
        size_t n, bad;
    } cases[] = {
        {"", 0, 0},
        {"plain ascii", 11, 11},
        {"\xc3\xa9t\xc3\xa9", 5, 5},
        {"ab\xc0\xaf"
         "cd",
         6, 2},
        {"\xc3\xa9\xed\xa0\x80", 5, 2},             /* CESU-8 surrogate after a valid letter */
        {"abc\xe2\x82", 5, 3},                      /* cut short by the end */
        {"\xf0\x9f\x98\x80\xf4\x90\x80\x80", 8, 4}, /* emoji, then above U+10FFFF */
        {"a\x80", 2, 1},
        {"a\0b", 3, 3}, /* NUL is valid UTF-8 */
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(cases); i++) {
        CHECK_INT_EQ(tams_utf8_check(cases[i].s, cases[i].n), cases[i].bad);
        CHECK(tams_utf8_valid(cases[i].s, cases[i].n) == (cases[i].bad == cases[i].n));
    }
}

static void test_clip(void)
{
    /* "a" U+00E9 U+20AC U+1F600 "b": sequences of 1, 2, 3, 4 and 1 bytes */
    static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                            "b";
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11, 11};
    for (size_t max = 0; max < TAMS_ARRAY_SIZE(want); max++)
        CHECK_INT_EQ(tams_utf8_clip(s, 11, max), want[max]);
    /* bytes that are not UTF-8 are cut anywhere */
    CHECK_INT_EQ(tams_utf8_clip("\x80\x80\x80\x80\x80", 5, 2), 2);
    CHECK_INT_EQ(tams_utf8_clip("a\xc3\xa9\x80\x80", 5, 4), 4);
    CHECK_INT_EQ(tams_utf8_clip("\xff\xff\xff", 3, 1), 1);
}

int main(void)
{
    RUN(test_exhaustive);
    RUN(test_every_scalar_value);
    RUN(test_offsets);
    RUN(test_clip);
    return check_report();
}
