/* SPDX-License-Identifier: Apache-2.0 */
/* test_codec.c - base64/base64url (RFC 4648 §10 vectors), hex (RFC 4648 base16) and
 * percent-encoding (RFC 3986 §2.1, §2.3). */
#include "core/common.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/hex.h"
#include "core/percent.h"

#include "check.h"

/* RFC 4648 §10: BASE64("foobar") and its prefixes; base64url is the same without padding. */
static const char *const rfc4648_in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc4648_b64[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                          "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const rfc4648_b64url[] = {"",       "Zg",      "Zm8",     "Zm9v",
                                             "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
static const char *const rfc4648_b16[] = {"",         "66",         "666f",        "666f6f",
                                          "666f6f62", "666f6f6261", "666f6f626172"};

static void check_b64(const char *in, const char *want, bool url)
{
    char enc[TAMS_BASE64_ENCODED_MAX(16)];
    unsigned char dec[TAMS_BASE64_DECODED_MAX(16)];
    size_t n = 99;

    CHECK_INT_EQ(tams_base64_encode((const unsigned char *)in, strlen(in), url, enc), strlen(want));
    CHECK_STR_EQ(enc, want);
    CHECK_INT_EQ(tams_base64_decode(want, strlen(want), url, dec, &n), 0);
    CHECK(n == strlen(in) && memcmp(dec, in, n) == 0);
}

static void test_base64_vectors(void)
{
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(rfc4648_in); i++) {
        check_b64(rfc4648_in[i], rfc4648_b64[i], false);
        check_b64(rfc4648_in[i], rfc4648_b64url[i], true);
    }
}

/* HTTP Basic credentials as clients send them (RFC 7617 §2). */
static void test_base64_basic_auth(void)
{
    unsigned char out[16];
    size_t n = 0;

    CHECK_INT_EQ(tams_base64_decode("YWxpY2U6cHc=", 12, false, out, &n), 0);
    CHECK(n == 8 && memcmp(out, "alice:pw", 8) == 0);
    CHECK_INT_EQ(tams_base64_decode("YWxpY2U6cHc", 11, false, out, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_base64_decode("YWxpY2U6cHd=", 12, false, out, &n), TAMS_ERR_BADREQUEST);
}

static void test_base64_alphabets(void)
{
    /* The two alphabets differ in values 62 and 63 only (RFC 4648 §4, §5). */
    static const unsigned char hi[] = {0xfb, 0xff, 0xbf};
    char enc[TAMS_BASE64_ENCODED_MAX(3)];
    unsigned char dec[8];
    size_t n;

    tams_base64_encode(hi, 3, false, enc);
    CHECK_STR_EQ(enc, "+/+/");
    tams_base64_encode(hi, 3, true, enc);
    CHECK_STR_EQ(enc, "-_-_");
    tams_base64_encode(hi, 2, true, enc);
    CHECK_STR_EQ(enc, "-_8");
    CHECK_INT_EQ(tams_base64_decode("-_-_", 4, false, dec, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_base64_decode("+/+/", 4, true, dec, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_base64_decode("-_-_", 4, true, dec, &n), 0);
    CHECK(n == 3 && memcmp(dec, hi, 3) == 0);
}

static void test_base64_strict(void)
{
    static const char *const bad_std[] = {
        "Zg",       /* padding is required */
        "Zg=",      /* ... all of it */
        "Zh==",     /* non-zero bits after the last byte: a second spelling of "f" */
        "Zm9=",     /* ditto for "fo" */
        "Z===",     /* a lone character holds no byte */
        "Zm 9v",    /* no whitespace */
        "Zm9v\n",   /* no line breaks */
        "Zg==Zg==", /* padding only at the end */
        "=Zg=",     /* ... */
        "Zm9v!A==", /* outside the alphabet */
    };
    static const char *const bad_url[] = {"Zg==", "Zh", "Z", "Zm9vY", "Zm9v Yg", "Zm+v", "Zm/v"};
    unsigned char dec[16];
    size_t n;

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad_std); i++)
        CHECK_INT_EQ(tams_base64_decode(bad_std[i], strlen(bad_std[i]), false, dec, &n),
                     TAMS_ERR_BADREQUEST);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad_url); i++)
        CHECK_INT_EQ(tams_base64_decode(bad_url[i], strlen(bad_url[i]), true, dec, &n),
                     TAMS_ERR_BADREQUEST);
    /* The decoded-size bound holds for every length. */
    CHECK(TAMS_BASE64_DECODED_MAX(3) >= 2 && TAMS_BASE64_DECODED_MAX(4) >= 3 &&
          TAMS_BASE64_ENCODED_MAX(1) == 5 && TAMS_BASE64_ENCODED_MAX(3) == 5 &&
          TAMS_BASE64_ENCODED_MAX(4) == 9);
}

static void test_base64_roundtrip(void)
{
    unsigned char in[64], dec[TAMS_BASE64_DECODED_MAX(TAMS_BASE64_ENCODED_MAX(64))];
    char enc[TAMS_BASE64_ENCODED_MAX(64)];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(in); n++) {
        for (int url = 0; url < 2; url++) {
            size_t len = tams_base64_encode(in, n, url, enc), m = 0;

            if (tams_base64_decode(enc, len, url, dec, &m) || m != n || memcmp(dec, in, n))
                CHECK(!"base64 does not round-trip");
        }
    }
}

static void test_hex(void)
{
    char enc[2 * 8 + 1];
    unsigned char dec[8];

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(rfc4648_in); i++) {
        size_t n = strlen(rfc4648_in[i]);

        tams_hex_encode((const unsigned char *)rfc4648_in[i], n, enc);
        CHECK_STR_EQ(enc, rfc4648_b16[i]);
        CHECK_INT_EQ(tams_hex_decode(enc, strlen(enc), dec, n), 0);
        CHECK(memcmp(dec, rfc4648_in[i], n) == 0);
        CHECK(tams_hex_valid(enc, strlen(enc)));
    }
    tams_hex_encode((const unsigned char *)"\x00\x7f\x80\xff", 4, enc);
    CHECK_STR_EQ(enc, "007f80ff");
    /* Stored values have one spelling: lowercase, exact length. */
    CHECK_INT_EQ(tams_hex_decode("666F", 4, dec, 2), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_hex_decode("666", 3, dec, 2), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_hex_decode("666f6f", 6, dec, 2), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_hex_decode("66g6", 4, dec, 2), TAMS_ERR_BADREQUEST);
    CHECK(!tams_hex_valid("0123456789abcdefA", 17));
    CHECK(tams_hex_valid("0123456789abcdefA", 16));
    /* One digit reads either case. */
    CHECK_INT_EQ(tams_hex_digit('0'), 0);
    CHECK_INT_EQ(tams_hex_digit('9'), 9);
    CHECK_INT_EQ(tams_hex_digit('a'), 10);
    CHECK_INT_EQ(tams_hex_digit('F'), 15);
    CHECK_INT_EQ(tams_hex_digit('g'), -1);
    CHECK_INT_EQ(tams_hex_digit('/'), -1);
    CHECK_INT_EQ(tams_hex_digit('\0'), -1);
}

/* RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool rfc3986_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void test_percent_encode(void)
{
    struct tams_buf b = TAMS_BUF_INIT(64);

    /* Every octet: unreserved as is, anything else %XX with uppercase digits (§2.1). */
    for (int c = 0; c < 256; c++) {
        char in = (char)c, want[4];

        if (rfc3986_unreserved(c))
            snprintf(want, sizeof(want), "%c", c);
        else
            snprintf(want, sizeof(want), "%%%02X", c);
        tams_buf_reset(&b);
        tams_percent_encode(&b, &in, 1, NULL, 0);
        if (strcmp(b.data, want) != 0 || b.len != strlen(want))
            CHECK(!"an octet is not encoded as RFC 3986 says");
        CHECK(tams_percent_unreserved((unsigned char)c) == rfc3986_unreserved(c));
    }
    tams_buf_reset(&b);
    tams_percent_encode(&b, "a b/+~", 6, NULL, 0);
    CHECK_STR_EQ(b.data, "a%20b%2F%2B~");
    /* keep, and form encoding of spaces; a NUL byte is never kept */
    tams_buf_reset(&b);
    tams_percent_encode(&b, "a b/c?d\0", 8, "/?", TAMS_PERCENT_PLUS);
    CHECK_STR_EQ(b.data, "a+b/c?d%00");
    tams_buf_reset(&b);
    tams_percent_encode(&b, "caf\xc3\xa9", 5, NULL, 0);
    CHECK_STR_EQ(b.data, "caf%C3%A9");
    /* errors stick in the buffer */
    {
        struct tams_buf small = TAMS_BUF_INIT(4);
        tams_percent_encode(&small, "\xff\xff", 2, NULL, 0);
        CHECK(!tams_buf_ok(&small));
        tams_buf_release(&small);
    }
    tams_buf_release(&b);
}

static void test_percent_decode(void)
{
    char out[32];
    size_t n = 0;

    CHECK_INT_EQ(tams_percent_decode("%41%6a%4A", 9, 0, out, &n), 0);
    CHECK(n == 3);
    CHECK_STR_EQ(out, "AjJ");
    CHECK_INT_EQ(tams_percent_decode("a+b%2B%20", 9, TAMS_PERCENT_PLUS, out, &n), 0);
    CHECK_STR_EQ(out, "a b+ ");
    CHECK_INT_EQ(tams_percent_decode("a+b%2B%20", 9, 0, out, &n), 0);
    CHECK_STR_EQ(out, "a+b+ ");
    CHECK_INT_EQ(tams_percent_decode("", 0, 0, out, &n), 0);
    CHECK(n == 0 && out[0] == '\0');
    CHECK_INT_EQ(tams_percent_decode("caf%C3%a9", 9, 0, out, &n), 0);
    CHECK_STR_EQ(out, "caf\xc3\xa9");
    /* malformed escapes, and NUL bytes raw or encoded */
    CHECK_INT_EQ(tams_percent_decode("ab%4", 4, 0, out, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_percent_decode("%", 1, 0, out, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_percent_decode("%zz", 3, 0, out, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_percent_decode("%+1", 3, TAMS_PERCENT_PLUS, out, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_percent_decode("%00", 3, 0, out, &n), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_percent_decode("a\0b", 3, 0, out, &n), TAMS_ERR_BADREQUEST);
}

static void test_percent_roundtrip(void)
{
    struct tams_buf b = TAMS_BUF_INIT(1024);
    char all[255], out[256];
    size_t n = 0;

    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    for (unsigned flags = 0; flags <= TAMS_PERCENT_PLUS; flags++) {
        tams_buf_reset(&b);
        tams_percent_encode(&b, all, sizeof(all), NULL, flags);
        CHECK_INT_EQ(tams_percent_decode(b.data, b.len, flags, out, &n), 0);
        CHECK(n == sizeof(all) && memcmp(out, all, n) == 0);
    }
    tams_buf_release(&b);
}

int main(void)
{
    RUN(test_base64_vectors);
    RUN(test_base64_basic_auth);
    RUN(test_base64_alphabets);
    RUN(test_base64_strict);
    RUN(test_base64_roundtrip);
    RUN(test_hex);
    RUN(test_percent_encode);
    RUN(test_percent_decode);
    RUN(test_percent_roundtrip);
    return check_report();
}
