/* SPDX-License-Identifier: Apache-2.0 */
/* test_auth_client.c - the client's address behind trusted proxies, and the throttling buckets
 * per (client, principal). */
#include "core/common.h"
#include "auth/client.h"
#include "auth/throttle.h"
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static struct sockaddr_in v4_peer(const char *addr)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    return sa;
}

/* The client of a request from peer with X-Forwarded-For xff, as text. */
static void client_of(const struct tams_proxies *p, const char *peer, const char *xff, char *out)
{
    struct tams_client c;
    struct sockaddr_in sa = v4_peer(peer);
    tams_client_of(p, (const struct sockaddr *)&sa, xff, &c);
    tams_client_text(&c, out, INET6_ADDRSTRLEN);
}

static void test_proxies_parse(void)
{
    struct tams_proxies p;
    struct tams_buf why = TAMS_BUF_INIT(256);
    static const char *const bad[] = {"10.0.0.0/33",   "2001:db8::/129", "10.0.0.0/", "10.0.0/8",
                                      "proxy.example", "10.0.0.1/x",     "1.2.3.4:80"};

    CHECK_INT_EQ(tams_proxies_parse(&p, "", &why), 0);
    CHECK_INT_EQ(p.n, 0);
    CHECK_INT_EQ(tams_proxies_parse(&p, " 10.0.0.0/8,, 2001:db8::/32\t127.0.0.1 ", &why), 0);
    CHECK_INT_EQ(p.n, 3);
    CHECK_INT_EQ(p.nets[0].bits, 96 + 8);
    CHECK_INT_EQ(p.nets[1].bits, 32);
    CHECK_INT_EQ(p.nets[2].bits, 128);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++) {
        tams_buf_reset(&why);
        CHECK_INT_EQ(tams_proxies_parse(&p, bad[i], &why), TAMS_ERR_BADREQUEST);
        CHECK(strstr(why.data, "trusted_proxies") != NULL);
    }
    tams_buf_release(&why);
}

static void test_forwarded_for(void)
{
    struct tams_proxies p;
    struct tams_buf why = TAMS_BUF_INIT(256);
    char out[INET6_ADDRSTRLEN];

    CHECK_INT_EQ(tams_proxies_parse(&p, "10.9.0.0/16, 127.0.0.1, 2001:db8:ffff::/48", &why), 0);
    /* every form of a hop names the same client as its bare address */
    static const struct {
        const char *xff, *want;
    } hops[] = {
        {"203.0.113.7", "203.0.113.7"},
        {"203.0.113.7:5555", "203.0.113.7"},
        {"::ffff:203.0.113.7", "203.0.113.7"},
        {"[::ffff:203.0.113.7]:80", "203.0.113.7"},
        {"2001:db8::5", "2001:db8::5"},
        {"[2001:db8::5]", "2001:db8::5"},
        {"[2001:db8::5]:443", "2001:db8::5"},
        {" 2001:db8::5 ", "2001:db8::5"},
        {"::1", "::1"},
        /* the rightmost hop that is not a trusted proxy; what is left of it is not believed */
        {"198.51.100.1, 203.0.113.5", "203.0.113.5"},
        {"198.51.100.1, 203.0.113.5, 10.9.1.1", "203.0.113.5"},
        {"198.51.100.1, 203.0.113.5, 2001:db8:ffff::9", "203.0.113.5"},
        /* a hop that is no address stops at the proxy that passed it on */
        {"203.0.113.5, unknown", "127.0.0.1"},
        {"203.0.113.5, 10.9.1.1, garbage", "127.0.0.1"},
        {"203.0.113.5, garbage, 10.9.1.1", "10.9.1.1"},
        {"2001:db8::5:80:1:2:3:4:5", "127.0.0.1"},
        {"1.2.3.4:5:6", "127.0.0.1"},
        {"[2001:db8::5", "127.0.0.1"},
        {"", "127.0.0.1"},
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(hops); i++) {
        client_of(&p, "127.0.0.1", hops[i].xff, out);
        if (strcmp(out, hops[i].want) != 0)
            fprintf(stderr, "X-Forwarded-For '%s'\n", hops[i].xff);
        CHECK_STR_EQ(out, hops[i].want);
    }
    /* an untrusted peer's header is ignored; so is any header without trusted_proxies */
    client_of(&p, "192.0.2.9", "203.0.113.5", out);
    CHECK_STR_EQ(out, "192.0.2.9");
    client_of(&p, "10.8.0.1", "203.0.113.5", out);
    CHECK_STR_EQ(out, "10.8.0.1");
    client_of(&p, "10.9.200.1", "203.0.113.5", out);
    CHECK_STR_EQ(out, "203.0.113.5");
    client_of(&p, "127.0.0.1", NULL, out);
    CHECK_STR_EQ(out, "127.0.0.1");
    CHECK_INT_EQ(tams_proxies_parse(&p, "", &why), 0);
    client_of(&p, "127.0.0.1", "203.0.113.5", out);
    CHECK_STR_EQ(out, "127.0.0.1");
    {
        struct tams_client c;
        tams_client_of(&p, NULL, "203.0.113.5", &c);
        CHECK(!c.known);
        tams_client_text(&c, out, sizeof(out));
        CHECK_STR_EQ(out, "-");
    }
    tams_buf_release(&why);
}

static struct tams_client client(const char *addr)
{
    struct tams_client c;
    struct sockaddr_in sa = v4_peer(addr);
    struct tams_proxies none = {0};
    tams_client_of(&none, (const struct sockaddr *)&sa, NULL, &c);
    return c;
}

static void test_throttle(void)
{
    struct tams_throttle *t = tams_throttle_new(3, 2);
    struct tams_client a = client("192.0.2.1"), b = client("192.0.2.2"), nobody = {0};
    uint64_t alice = tams_throttle_who(t, 'u', "alice"), bob = tams_throttle_who(t, 'u', "bob");
    uint64_t tok = tams_throttle_who(t, 't', "alice");
    int wait;

    CHECK(alice != TAMS_THROTTLE_UNKNOWN && alice != bob && alice != tok);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(tams_throttle_take(t, &a, alice), 0);
    wait = tams_throttle_take(t, &a, alice);
    CHECK(wait >= 1 && wait <= 21);
    /* other principals, other clients and the unknown bucket are untouched */
    CHECK_INT_EQ(tams_throttle_take(t, &a, bob), 0);
    CHECK_INT_EQ(tams_throttle_take(t, &a, tok), 0);
    CHECK_INT_EQ(tams_throttle_take(t, &b, alice), 0);
    CHECK_INT_EQ(tams_throttle_take(t, &a, TAMS_THROTTLE_UNKNOWN), 0);
    CHECK_INT_EQ(tams_throttle_take(t, &a, TAMS_THROTTLE_UNKNOWN), 0);
    wait = tams_throttle_take(t, &a, TAMS_THROTTLE_UNKNOWN);
    CHECK(wait >= 1 && wait <= 31);
    /* an attempt given back can be taken again, once */
    tams_throttle_give_back(t, &a, alice);
    CHECK_INT_EQ(tams_throttle_take(t, &a, alice), 0);
    CHECK(tams_throttle_take(t, &a, alice) >= 1);
    /* a client of unknown address is never throttled */
    for (int i = 0; i < 10; i++)
        CHECK_INT_EQ(tams_throttle_take(t, &nobody, alice), 0);
    /* many pairs: fixed memory, the recent ones still remembered */
    for (int i = 0; i < 20000; i++) {
        char name[32];
        snprintf(name, sizeof(name), "u%d", i);
        tams_throttle_take(t, &b, tams_throttle_who(t, 'u', name));
    }
    CHECK(tams_throttle_take(t, &b, tams_throttle_who(t, 'u', "u19999")) == 0);
    CHECK(tams_throttle_take(t, &b, tams_throttle_who(t, 'u', "u19999")) == 0);
    CHECK(tams_throttle_take(t, &b, tams_throttle_who(t, 'u', "u19999")) >= 1);
    tams_throttle_free(t);

    /* fail_limit 0: nothing is throttled; unknown_limit 0: unknown attempts are not */
    t = tams_throttle_new(0, 2);
    for (int i = 0; i < 10; i++)
        CHECK_INT_EQ(tams_throttle_take(t, &a, TAMS_THROTTLE_UNKNOWN), 0);
    tams_throttle_free(t);
    t = tams_throttle_new(1, 0);
    for (int i = 0; i < 10; i++)
        CHECK_INT_EQ(tams_throttle_take(t, &a, TAMS_THROTTLE_UNKNOWN), 0);
    CHECK_INT_EQ(tams_throttle_take(t, &a, alice), 0);
    CHECK(tams_throttle_take(t, &a, alice) >= 1);
    tams_throttle_free(t);
}

int main(void)
{
    RUN(test_proxies_parse);
    RUN(test_forwarded_for);
    RUN(test_throttle);
    return check_report();
}
