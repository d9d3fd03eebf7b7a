/* SPDX-License-Identifier: Apache-2.0 */
/* test_head.c - the head's framing checks (http/head.h). */
#include "core/common.h"
#include "core/buf.h"
#include "http/head.h"

#include "check.h"

#define F(n, v)                                                                                    \
    {                                                                                              \
        (n), (v)                                                                                   \
    }

/* 0, or the error with its summary containing want. */
static void expect(const char *version, const struct tams_head_field *f, size_t n, const char *want)
{
    struct tams_buf why = TAMS_BUF_INIT(512);
    int rc = tams_head_check(version, f, n, &why);
    if (!want) {
        CHECK_INT_EQ(rc, 0);
        CHECK_INT_EQ(why.len, 0);
    } else {
        CHECK_INT_EQ(rc, TAMS_ERR_BADREQUEST);
        CHECK(strstr(why.data, want) != NULL);
        if (!strstr(why.data, want))
            fprintf(stderr, "  summary was '%s', wanted '%s'\n", why.data, want);
    }
    tams_buf_release(&why);
}

static void test_host(void)
{
    const struct tams_head_field ok[] = {F("Host", "tams.example:8080")};
    const struct tams_head_field v6[] = {F("host", " [::1]:80 ")};
    const struct tams_head_field empty[] = {F("Host", "")};
    const struct tams_head_field two[] = {F("Host", "a"), F("X", "y"), F("HOST", "a")};
    const struct tams_head_field user[] = {F("Host", "me@tams.example")};
    const struct tams_head_field path[] = {F("Host", "tams.example/x")};
    const struct tams_head_field spacey[] = {F("Host ", "x")};
    const struct tams_head_field other[] = {F("Accept", "*/*")};

    expect("HTTP/1.1", ok, 1, NULL);
    expect("HTTP/1.1", v6, 1, NULL);
    expect("HTTP/1.1", empty, 1, NULL);
    expect("HTTP/1.1", other, 1, "must have a Host");
    expect("HTTP/1.1", NULL, 0, "must have a Host");
    expect("HTTP/1.0", other, 1, NULL);
    expect("HTTP/1.1", two, 3, "more than one Host");
    expect("HTTP/1.0", two, 3, "more than one Host");
    expect("HTTP/1.1", user, 1, "not a host name");
    expect("HTTP/1.1", path, 1, "not a host name");
    expect("HTTP/1.1", spacey, 1, "whitespace before its colon");
}

static void test_length_and_encoding(void)
{
    const struct tams_head_field same[] = {F("Host", "x"), F("Content-Length", "17"),
                                           F("content-length", " 017")};
    const struct tams_head_field differ[] = {F("Host", "x"), F("Content-Length", "2"),
                                             F("Content-Length", "30")};
    const struct tams_head_field junk[] = {F("Host", "x"), F("Content-Length", "2"),
                                           F("Content-Length", "2, 2")};
    const struct tams_head_field huge[] = {F("Host", "x"),
                                           F("Content-Length", "99999999999999999999999")};
    const struct tams_head_field chunked[] = {F("Host", "x"), F("Transfer-Encoding", " Chunked")};
    const struct tams_head_field both[] = {F("Host", "x"), F("Transfer-Encoding", "chunked"),
                                           F("Content-Length", "2")};
    const struct tams_head_field gzip[] = {F("Host", "x"), F("Transfer-Encoding", "gzip, chunked")};
    const struct tams_head_field twice[] = {F("Host", "x"), F("Transfer-Encoding", "chunked"),
                                            F("Transfer-Encoding", "chunked")};

    expect("HTTP/1.1", same, 3, NULL);
    expect("HTTP/1.1", differ, 3, "two different Content-Length headers (2 and 30)");
    expect("HTTP/1.1", junk, 3, "decimal");
    expect("HTTP/1.1", huge, 2, "decimal");
    expect("HTTP/1.1", chunked, 2, NULL);
    expect("HTTP/1.0", chunked, 2, "HTTP/1.0");
    expect("HTTP/1.1", both, 3, "ambiguous");
    expect("HTTP/1.1", gzip, 2, "single 'chunked'");
    expect("HTTP/1.1", twice, 3, "single 'chunked'");
}

int main(void)
{
    RUN(test_host);
    RUN(test_length_and_encoding);
    return check_report();
}
