/* SPDX-License-Identifier: Apache-2.0 */
/* test_client_cli.c - the tams client's pure parts: its command line (client/cli), Link headers
 * of paged answers (client/link), its config file (client/conf), and which command takes which
 * option (client/help). */
#include "core/common.h"
#include "client/cli.h"
#include "client/conf.h"
#include "client/help.h"
#include "client/link.h"

#include "check.h"

static int parse(struct tams_cli *c, char *err, int argc, ...)
{
    static char prog[] = "tams";
    char *argv[32] = {prog};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return tams_cli_parse(argc, argv, c, err, 128);
}

static void test_cli_words_and_options(void)
{
    struct tams_cli c;
    char err[128] = "";
    CHECK_INT_EQ(
        parse(&c, err, 8, "--url", "http://h:1", "flows", "list", "--label=a b", "--json", "-q"),
        0);
    CHECK_INT_EQ(c.npos, 2);
    CHECK_STR_EQ(tams_cli_pos(&c, 0), "flows");
    CHECK_STR_EQ(tams_cli_pos(&c, 1), "list");
    CHECK(tams_cli_pos(&c, 2) == NULL);
    CHECK_STR_EQ(tams_cli_get(&c, "url"), "http://h:1");
    CHECK_STR_EQ(tams_cli_get(&c, "label"), "a b");
    CHECK(tams_cli_has(&c, "json"));
    CHECK(tams_cli_has(&c, "quiet"));
    CHECK(!tams_cli_has(&c, "verbose"));
    CHECK(tams_cli_get(&c, "json") == NULL);
    CHECK(tams_cli_unused(&c) == NULL);

    /* -o takes a value; "--" ends options, "-" alone is a word (stdin). */
    CHECK_INT_EQ(parse(&c, err, 7, "export", "-o", "out.ts", "--", "--json", "-"), 0);
    CHECK_STR_EQ(tams_cli_get(&c, "output"), "out.ts");
    CHECK_INT_EQ(c.npos, 3);
    CHECK_STR_EQ(tams_cli_pos(&c, 1), "--json");
    CHECK_STR_EQ(tams_cli_pos(&c, 2), "-");
}

static void test_cli_repeated(void)
{
    struct tams_cli c;
    char err[128];
    CHECK_INT_EQ(parse(&c, err, 8, "flows", "list", "--tag", "a=1", "--label", "x", "--tag=b"), 0);
    size_t it = 0;
    CHECK_STR_EQ(tams_cli_next(&c, "tag", &it), "a=1");
    CHECK_STR_EQ(tams_cli_next(&c, "tag", &it), "b");
    CHECK(tams_cli_next(&c, "tag", &it) == NULL);
    CHECK_STR_EQ(tams_cli_unused(&c), "label");
    CHECK_INT_EQ(parse(&c, err, 5, "--label", "x", "--label", "y"), 0);
    CHECK_STR_EQ(tams_cli_get(&c, "label"), "y"); /* the last one wins */
}

static void test_cli_refusals(void)
{
    struct tams_cli c;
    char err[128];
    CHECK_INT_EQ(parse(&c, err, 2, "--labl"), -1);
    CHECK(strstr(err, "'--labl'") != NULL);
    CHECK_INT_EQ(parse(&c, err, 3, "flows", "--label"), -1);
    CHECK(strstr(err, "needs a value") != NULL);
    CHECK_INT_EQ(parse(&c, err, 2, "--json=yes"), -1);
    CHECK(strstr(err, "takes no value") != NULL);
    CHECK_INT_EQ(parse(&c, err, 2, "-x"), -1);
    CHECK_INT_EQ(parse(&c, err, 2, "-qv"), -1); /* no bundling */
    static char prog[] = "tams", word[] = "w";
    char *many[TAMS_CLI_MAXPOS + 2] = {prog};
    for (int i = 1; i < TAMS_CLI_MAXPOS + 2; i++)
        many[i] = word;
    CHECK_INT_EQ(tams_cli_parse(TAMS_CLI_MAXPOS + 2, many, &c, err, sizeof(err)), -1);
    CHECK_INT_EQ(tams_cli_parse(TAMS_CLI_MAXPOS + 1, many, &c, err, sizeof(err)), 0);
}

static void check_next(const char *h, int want, const char *uri)
{
    const char *u = NULL;
    size_t n = 0;
    int rc = tams_link_next(h, strlen(h), &u, &n);
    CHECK_INT_EQ(rc, want);
    if (want == 1 && rc == 1) {
        CHECK_INT_EQ(n, strlen(uri));
        CHECK(memcmp(u, uri, n) == 0);
    }
}

static void test_link(void)
{
    check_next("<http://h/flows?page=abc&limit=2>; rel=\"next\"", 1,
               "http://h/flows?page=abc&limit=2");
    check_next("</flows?page=x>; rel=next", 1, "/flows?page=x");
    check_next("<http://h/a>; rel=\"prev\", <http://h/b>; rel=\"next\"", 1, "http://h/b");
    check_next("<http://h/a>; title=\"x, y\"; rel=\"next last\"", 1, "http://h/a");
    check_next("<http://h/a> ;REL=\"Next\"", 1, "http://h/a");
    check_next("<http://h/a>; rel=\"prev\"", 0, NULL);
    check_next("<http://h/a>; rel=\"nextpage\"", 0, NULL);
    check_next("", 0, NULL);
    check_next("http://h/a; rel=next", -1, NULL);
    check_next("<http://h/a; rel=next", -1, NULL);
    check_next("<http://h/a>; rel=\"next", -1, NULL);
    check_next("<http://h/a> rel=next", -1, NULL);
}

static void test_conf(void)
{
    struct tams_conf c;
    int bad = 0;
    const char *text = "# tams\n\nurl = http://h:1/api \n  token=abc\r\nuser =u\npassword = p w\n"
                       "token = def\n";
    CHECK_INT_EQ(tams_conf_parse(text, strlen(text), &c, &bad), 0);
    CHECK_STR_EQ(c.url, "http://h:1/api");
    CHECK_STR_EQ(c.token, "def");
    CHECK_STR_EQ(c.user, "u");
    CHECK_STR_EQ(c.password, "p w");
    tams_conf_release(&c);
    tams_conf_release(&c); /* a released one releases again */
    text = "url = x\nhost = y\n";
    CHECK_INT_EQ(tams_conf_parse(text, strlen(text), &c, &bad), -1);
    CHECK_INT_EQ(bad, 2);
    CHECK(c.url == NULL);
    text = "url\n";
    CHECK_INT_EQ(tams_conf_parse(text, strlen(text), &c, &bad), -1);
    CHECK_INT_EQ(bad, 1);
}

static void test_help_options(void)
{
    CHECK(tams_help_allows("flows", "codec"));
    CHECK(tams_help_allows("flows", "json"));
    CHECK(!tams_help_allows("sources", "codec"));
    CHECK(!tams_help_allows("delete", "label"));
    CHECK(tams_help_allows("webhooks", "api-key-name"));
    CHECK(!tams_help_allows("webhooks", "api-key")); /* whole words only */
    CHECK(!tams_help_allows("nosuch", "label"));
}

int main(void)
{
    RUN(test_cli_words_and_options);
    RUN(test_cli_repeated);
    RUN(test_cli_refusals);
    RUN(test_link);
    RUN(test_conf);
    RUN(test_help_options);
    return check_report();
}
