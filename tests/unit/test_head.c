/* SPDX-License-Identifier: Apache-2.0 */
/* test_head.c - the head's framing checks (http/head.h) and the connection caps (http/conns.h). */
#include "core/common.h"
#include "core/buf.h"
#include "http/conns.h"
#include "http/head.h"
#include "http/metrics.h"

#include "check.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

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

static struct sockaddr_storage v4(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &in->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &in6->sin6_addr);
    return ss;
}

/* Admits and opens one connection from ss (on a socket of a fresh socket pair); NULL when
 * refused. fds[] receives the pair, to be closed by the caller. */
static struct tams_conn *connect_from(struct tams_conns *g, struct sockaddr_storage ss, int fds[2])
{
    fds[0] = fds[1] = -1;
    if (!tams_conns_admit(g, (struct sockaddr *)&ss, sizeof(ss)))
        return NULL;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    return tams_conns_open(g, fds[0]);
}

static void test_caps(void)
{
    const char *names[] = {"/"};
    struct tams_metrics *m = tams_metrics_new(names, 1);
    struct tams_conns_config cfg = {.max_connections = 5,
                                    .max_per_address = 2,
                                    .header_timeout_ms = 60000,
                                    .idle_timeout_ms = 60000};
    struct tams_conns *g = NULL;
    struct tams_buf why = TAMS_BUF_INIT(256), text = TAMS_BUF_INIT(1 << 16);
    struct tams_conn *c[8];
    int fds[8][2];

    CHECK_INT_EQ(tams_conns_new(&g, &cfg, m, &why), 0);
    /* Two from one IPv4 address, the third refused; the same address as IPv4-mapped IPv6 is
     * the same client. */
    CHECK((c[0] = connect_from(g, v4("192.0.2.1"), fds[0])) != NULL);
    CHECK((c[1] = connect_from(g, v4("192.0.2.1"), fds[1])) != NULL);
    CHECK(connect_from(g, v4("192.0.2.1"), fds[7]) == NULL);
    CHECK(connect_from(g, v6("::ffff:192.0.2.1"), fds[7]) == NULL);
    /* IPv6 counts per /64: two addresses of one /64 share its cap. */
    CHECK((c[2] = connect_from(g, v6("2001:db8:1:2::1"), fds[2])) != NULL);
    CHECK((c[3] = connect_from(g, v6("2001:db8:1:2::ffff"), fds[3])) != NULL);
    CHECK(connect_from(g, v6("2001:db8:1:2:abcd::1"), fds[7]) == NULL);
    CHECK_INT_EQ(tams_conns_open_count(g), 4);
    /* The global cap: one place left. */
    CHECK((c[4] = connect_from(g, v4("198.51.100.7"), fds[4])) != NULL);
    CHECK(connect_from(g, v4("198.51.100.8"), fds[7]) == NULL);
    /* An admission libmicrohttpd never opened is given back at the next one on this thread. */
    tams_conns_close(g, c[4]);
    close(fds[4][0]);
    close(fds[4][1]);
    CHECK(tams_conns_admit(g, (struct sockaddr *)&(struct sockaddr_storage){0}, 0));
    CHECK((c[4] = connect_from(g, v4("198.51.100.9"), fds[4])) != NULL);
    /* A closed connection frees its address's place. */
    tams_conns_close(g, c[0]);
    CHECK((c[0] = connect_from(g, v4("192.0.2.1"), fds[5])) != NULL);
    close(fds[0][0]);
    close(fds[0][1]);
    fds[0][0] = fds[5][0];
    fds[0][1] = fds[5][1];

    tams_metrics_render(m, &text);
    CHECK(strstr(text.data, "tams_http_connections_refused_total{reason=\"max_connections\"} 1\n"));
    CHECK(
        strstr(text.data,
               "tams_http_connections_refused_total{reason=\"max_connections_per_address\"} 3\n"));
    CHECK(strstr(text.data, "tams_http_connections_closed_total{reason=\"header_timeout\"} 0\n"));

    /* A connection the guard has not closed runs its requests, kept alive. */
    CHECK(tams_conns_head_done(c[1]));
    tams_conns_request_done(c[1]);
    CHECK(tams_conns_head_done(c[1]));
    tams_conns_request_done(c[1]);
    for (int i = 0; i < 5; i++) {
        tams_conns_close(g, c[i]);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    CHECK_INT_EQ(tams_conns_open_count(g), 0);
    tams_conns_free(g);
    tams_metrics_free(m);
    tams_buf_release(&why);
    tams_buf_release(&text);
}

int main(void)
{
    RUN(test_host);
    RUN(test_length_and_encoding);
    RUN(test_caps);
    return check_report();
}
