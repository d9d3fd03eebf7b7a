/* SPDX-License-Identifier: Apache-2.0 */
/* test_ssrf.c - the webhook target address classifier and the registration validator. */
#include "core/common.h"
#include "events/ssrf.h"
#include "events/webhook.h"
#include "check.h"

static void test_blocked(void)
{
    static const char *const blocked[] = {
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "::1",
        "::",
        "fc00::1",
        "fdff:ffff::1",
        "fe80::1",
        "febf::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "::127.0.0.1",
        "not an address",
        "",
    };
    static const char *const allowed[] = {
        "1.1.1.1",        "8.8.8.8",         "172.15.255.255", "172.32.0.1",      "192.167.1.1",
        "100.63.255.255", "100.128.0.1",     "169.253.1.1",    "223.255.255.255", "11.0.0.1",
        "2001:db8::1",    "2606:4700::1111", "::ffff:8.8.8.8", "fbff::1",         "fec0::1x",
    };

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(blocked); i++) {
        bool b = tams_ssrf_blocked_text(blocked[i]);
        if (!b)
            fprintf(stderr, "not blocked: %s\n", blocked[i]);
        CHECK(b);
    }
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(allowed) - 1; i++) {
        bool b = tams_ssrf_blocked_text(allowed[i]);
        if (b)
            fprintf(stderr, "blocked: %s\n", allowed[i]);
        CHECK(!b);
    }
    CHECK(tams_ssrf_blocked_text("fec0::1")); /* deprecated site-local */
}

static void test_resolve(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    char addr[TAMS_SSRF_ADDRMAX];

    CHECK_INT_EQ(tams_ssrf_resolve("127.0.0.1", false, addr, &why), TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "127.0.0.1") != NULL);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_ssrf_resolve("localhost", false, addr, &why), TAMS_ERR_VALIDATION);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_ssrf_resolve("[::1]", false, addr, &why), TAMS_ERR_VALIDATION);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_ssrf_resolve("127.0.0.1", true, addr, &why), 0);
    CHECK_STR_EQ(addr, "127.0.0.1");
    CHECK_INT_EQ(tams_ssrf_resolve("[::1]", true, addr, &why), 0);
    CHECK_STR_EQ(addr, "::1");
    CHECK_INT_EQ(tams_ssrf_resolve("8.8.8.8", false, addr, &why), 0);
    CHECK_STR_EQ(addr, "8.8.8.8");
    CHECK_INT_EQ(tams_ssrf_resolve("", true, addr, &why), TAMS_ERR_VALIDATION);
    tams_buf_release(&why);
}

static int parse(const char *text, struct tams_webhook_reg *reg)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    json_object *doc = json_tokener_parse(text);
    int rc = tams_webhook_parse(doc, reg, &why);

    CHECK(rc == 0 ? why.len == 0 : why.len > 0);
    json_object_put(doc);
    tams_buf_release(&why);
    return rc;
}

static void test_parse_and_filter(void)
{
    static const char f[] = "00000000-0000-4000-8000-00000000000f";
    static const char c[] = "00000000-0000-4000-8000-00000000000c";
    static const char s[] = "00000000-0000-4000-8000-000000000005";
    struct tams_webhook_reg reg;
    struct tams_buf doc = TAMS_BUF_INIT(4096);

    CHECK_INT_EQ(
        parse("{\"url\":\"https://h.example/x\",\"api_key_name\":\"K\","
              "\"api_key_value\":\"v\",\"events\":[\"flows/updated\","
              "\"sources/updated\"],\"flow_ids\":[\"00000000-0000-4000-8000-00000000000f\"],"
              "\"flow_collected_by_ids\":[\"00000000-0000-4000-8000-00000000000c\"],"
              "\"presigned\":false}",
              &reg),
        0);
    CHECK_STR_EQ(reg.host, "h.example");
    CHECK_INT_EQ(reg.presigned, 0);
    tams_webhook_doc(&reg, &doc);
    CHECK(strstr(doc.data, "api_key_value") == NULL);
    CHECK(strstr(doc.data, "\"api_key_name\":\"K\"") != NULL);
    CHECK(tams_webhook_wants(&reg, "flows/updated", f, s, NULL, NULL));
    CHECK(tams_webhook_wants(&reg, "flows/updated", s, s, c, NULL)); /* collected by c: OR */
    CHECK(tams_webhook_wants(&reg, "flows/updated", s, s, "1,00000000-0000-4000-8000-00000000000c",
                             NULL));
    CHECK(!tams_webhook_wants(&reg, "flows/updated", s, s, NULL, NULL));
    CHECK(!tams_webhook_wants(&reg, "flows/created", f, s, NULL, NULL));
    CHECK(tams_webhook_wants(&reg, "sources/updated", NULL, s, NULL, NULL)); /* flow filters */
    tams_webhook_reg_release(&reg);

    CHECK_INT_EQ(parse("{\"url\":\"http://h/x\",\"events\":[\"sources/deleted\"],"
                       "\"source_ids\":[\"00000000-0000-4000-8000-000000000005\"]}",
                       &reg),
                 0);
    CHECK(tams_webhook_wants(&reg, "sources/deleted", NULL, s, NULL, NULL));
    CHECK(!tams_webhook_wants(&reg, "sources/deleted", NULL, f, NULL, NULL));
    tams_webhook_reg_release(&reg);

    CHECK_INT_EQ(parse("{\"url\":\"http://h/x\",\"events\":[]}", &reg), 0);
    CHECK_INT_EQ(reg.events, 0);
    tams_webhook_reg_release(&reg);

    CHECK_INT_EQ(parse("{\"url\":\"gopher://h/x\",\"events\":[]}", &reg), TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(parse("{\"url\":\"http:///x\",\"events\":[]}", &reg), TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(parse("{\"url\":\"http://h/x\",\"events\":[],\"x\":1}", &reg),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(parse("{\"url\":\"http://h/x\",\"events\":[\"flows/segments_deleted\"],"
                       "\"api_key_value\":\"v\"}",
                       &reg),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(parse("[]", &reg), TAMS_ERR_VALIDATION);
    tams_buf_release(&doc);
}

int main(void)
{
    RUN(test_blocked);
    RUN(test_resolve);
    RUN(test_parse_and_filter);
    return check_report();
}
