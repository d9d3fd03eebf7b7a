/* SPDX-License-Identifier: Apache-2.0 */
/* test_route.c - route matching, percent-decoding, query parsing, Allow lists and metrics text. */
#include "core/common.h"
#include "core/buf.h"
#include "core/percent.h"
#include "core/pool.h"
#include "http/body.h"
#include "http/limits.h"
#include "http/metrics.h"
#include "http/route.h"

#include "check.h"

static void h_root(struct tams_req *req TAMS_UNUSED)
{
}

static const struct tams_route routes[] = {
    {TAMS_GET, "/", h_root, 0, NULL, NULL},
    {TAMS_GET, "/service", h_root, 0, NULL, NULL},
    {TAMS_POST, "/service/webhooks", h_root, 0, NULL, NULL},
    {TAMS_GET | TAMS_PUT | TAMS_DELETE, "/flows/{flowId}", h_root, 0, NULL, NULL},
    {TAMS_GET | TAMS_PUT | TAMS_DELETE, "/flows/{flowId}/tags/{name}", h_root, 0, NULL, NULL},
    {TAMS_POST, "/flows/{flowId}/segments", h_root, 0, NULL, NULL},
    {TAMS_GET, "/objects/{objectId*}", h_root, 0, NULL, NULL},
    {TAMS_DELETE, "/flows/{flowId}/segments", h_root, 0, NULL, NULL},
};
static const struct tams_route_table table = {routes, TAMS_ARRAY_SIZE(routes), 0};

struct m {
    enum tams_route_match r;
    const struct tams_route *route;
    const char *params[TAMS_LIMIT_PATH_PARAMS];
    unsigned allowed;
};

static struct m match(struct tams_pool *p, const char *path, enum tams_method method)
{
    struct m m = {0};
    m.r = tams_route_match(&table, path, method, p, &m.route, m.params, &m.allowed);
    return m;
}

/* The version prefix: named versions only, a whole segment, the rest of the path kept. */
static void test_version(void)
{
    static const struct tams_api_version v[] = {{"7.0", &table, TAMS_API_70},
                                                {"8.2", NULL, TAMS_API_82}};
    static const struct tams_route skipped[] = {
        {TAMS_GET, "/health", h_root, TAMS_ROUTE_ROOT_ONLY, NULL, NULL},
        {TAMS_GET, "/flows", h_root, 0, NULL, NULL},
    };
    const struct tams_route_table view = {skipped, 2, TAMS_ROUTE_ROOT_ONLY};
    struct tams_pool p = TAMS_POOL_INIT;
    const struct tams_route *r;
    const char *params[TAMS_LIMIT_PATH_PARAMS];
    const char *rest = NULL;
    unsigned allowed;

    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v7.0/flows/x", &rest), 0);
    CHECK_STR_EQ(rest, "/flows/x");
    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v7.0", &rest), 0);
    CHECK_STR_EQ(rest, "/");
    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v7.0/", &rest), 0);
    CHECK_STR_EQ(rest, "/");
    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v8.2/service", &rest), 1);
    CHECK_STR_EQ(rest, "/service");
    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v7.01/flows", &rest), -1);
    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v7/flows", &rest), -1);
    CHECK_INT_EQ(tams_route_version(v, 2, "/tams/v", &rest), -1);
    CHECK_INT_EQ(tams_route_version(v, 2, "/flows", &rest), -1);
    CHECK_INT_EQ(tams_route_version(v, 2, "/x/tams/v7.0", &rest), -1);
    /* A view skips the routes with its flags, as if they were not in the table. */
    CHECK_INT_EQ(tams_route_match(&view, "/health", TAMS_GET, &p, &r, params, &allowed),
                 TAMS_ROUTE_NO_PATH);
    CHECK_INT_EQ(tams_route_match(&view, "/flows", TAMS_GET, &p, &r, params, &allowed),
                 TAMS_ROUTE_FOUND);
    tams_pool_release(&p);
}

static void test_match(void)
{
    struct tams_pool p = TAMS_POOL_INIT;
    struct m m;

    m = match(&p, "/", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[0]);
    m = match(&p, "/service", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[1]);
    m = match(&p, "/service/webhooks", TAMS_POST);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[2]);

    m = match(&p, "/flows/abc", TAMS_PUT);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[3]);
    CHECK_STR_EQ(m.params[0], "abc");
    /* decoded after matching: %2F stays inside the one parameter */
    m = match(&p, "/flows/a%2Fb", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[3]);
    CHECK_STR_EQ(m.params[0], "a/b");
    m = match(&p, "/flows/a%2fb%20c+d%25", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND);
    CHECK_STR_EQ(m.params[0], "a/b c+d%"); /* '+' is not a space in paths */
    m = match(&p, "/flows/x/tags/my%20tag", TAMS_DELETE);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[4]);
    CHECK_STR_EQ(m.params[0], "x");
    CHECK_STR_EQ(m.params[1], "my tag");

    /* {x*} takes the rest of the path */
    m = match(&p, "/objects/a/b/c", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[6]);
    CHECK_STR_EQ(m.params[0], "a/b/c");
    m = match(&p, "/objects/one", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND);
    CHECK_STR_EQ(m.params[0], "one");
    m = match(&p, "/objects/a%2Fb/c%3F", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_FOUND);
    CHECK_STR_EQ(m.params[0], "a/b/c?");
    m = match(&p, "/objects/", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_NO_PATH);
    m = match(&p, "/objects", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_NO_PATH);
    const char *star_bad[] = {"/objects/a/", "/objects//a", "/objects/a//b", "/objects/a/b/"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(star_bad); i++) {
        m = match(&p, star_bad[i], TAMS_GET);
        if (m.r != TAMS_ROUTE_NO_PATH)
            fprintf(stderr, "path '%s' matched\n", star_bad[i]);
        CHECK(m.r == TAMS_ROUTE_NO_PATH);
    }

    /* HEAD runs GET routes; GET implies HEAD in allowed */
    m = match(&p, "/service", TAMS_HEAD);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[1]);
    m = match(&p, "/flows/f", TAMS_HEAD);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[3]);
    CHECK_STR_EQ(m.params[0], "f");

    /* wrong method: 405 with the methods of every route on that path */
    m = match(&p, "/service", TAMS_POST);
    CHECK(m.r == TAMS_ROUTE_NO_METHOD);
    CHECK_INT_EQ(m.allowed, TAMS_GET | TAMS_HEAD);
    m = match(&p, "/flows/f", TAMS_POST);
    CHECK(m.r == TAMS_ROUTE_NO_METHOD);
    CHECK_INT_EQ(m.allowed, TAMS_GET | TAMS_HEAD | TAMS_PUT | TAMS_DELETE);
    m = match(&p, "/flows/f/segments", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_NO_METHOD);
    CHECK_INT_EQ(m.allowed, TAMS_POST | TAMS_DELETE); /* two routes, no GET so no HEAD */
    m = match(&p, "/flows/f/segments", TAMS_HEAD);
    CHECK(m.r == TAMS_ROUTE_NO_METHOD);
    m = match(&p, "/flows/f/segments", TAMS_DELETE);
    CHECK(m.r == TAMS_ROUTE_FOUND && m.route == &routes[7]);
    m = match(&p, "/service/webhooks", TAMS_GET);
    CHECK(m.r == TAMS_ROUTE_NO_METHOD);
    CHECK_INT_EQ(m.allowed, TAMS_POST);

    /* unknown paths, trailing slashes and empty segments */
    const char *nopath[] = {
        "/nope",         "/service/", "//service",  "/service//",     "/flows",
        "/flows/",       "/flows//",  "/flows/a/",  "/flows//tags/x", "/flows/a/tags/",
        "/flows/a/tags", "/SERVICE",  "/service/x", "/flows/a/b",     "/%73ervice",
        "service",       "//"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(nopath); i++) {
        m = match(&p, nopath[i], TAMS_GET);
        if (m.r != TAMS_ROUTE_NO_PATH)
            fprintf(stderr, "path '%s' matched\n", nopath[i]);
        CHECK(m.r == TAMS_ROUTE_NO_PATH);
        CHECK_INT_EQ(m.allowed, 0);
    }

    /* bad encodings in parameters */
    const char *bad[] = {"/flows/%zz",         "/flows/%4",        "/flows/%",
                         "/flows/a%00b",       "/flows/%g0",       "/flows/x%2",
                         "/objects/a/%",       "/flows/a/tags/%0", "/flows/a/tags/%C0%AF",
                         "/objects/%ED%A0%80", "/flows/\xff"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++) {
        m = match(&p, bad[i], TAMS_GET);
        if (m.r != TAMS_ROUTE_BAD_ENCODING)
            fprintf(stderr, "path '%s' not BAD_ENCODING (%d)\n", bad[i], (int)m.r);
        CHECK(m.r == TAMS_ROUTE_BAD_ENCODING);
    }
    tams_pool_release(&p);
}

static void test_decode(void)
{
    struct tams_pool p = TAMS_POOL_INIT;
    CHECK_STR_EQ(tams_url_decode(&p, "a+b%2B%20", 9, true), "a b+ ");
    CHECK_STR_EQ(tams_url_decode(&p, "a+b%2B%20", 9, false), "a+b+ ");
    CHECK_STR_EQ(tams_url_decode(&p, "%41%6a%4A", 9, false), "AjJ");
    CHECK_STR_EQ(tams_url_decode(&p, "", 0, false), "");
    /* n is respected: a '%' just past n is not read */
    CHECK_STR_EQ(tams_url_decode(&p, "ab%41", 2, false), "ab");
    CHECK(tams_url_decode(&p, "ab%41", 4, false) == NULL);
    CHECK(tams_url_decode(&p, "a\0b", 3, false) == NULL);
    CHECK(tams_url_decode(&p, "%00", 3, true) == NULL);
    CHECK(tams_url_decode(&p, "%-1", 3, true) == NULL);
    CHECK(tams_url_decode(&p, "%+1", 3, true) == NULL);

    /* encode then decode is the identity for every ASCII byte but NUL, and for UTF-8 text */
    struct tams_buf b = TAMS_BUF_INIT(4096);
    char all[127 + 10];
    for (int c = 1; c < 128; c++)
        all[c - 1] = (char)c;
    memcpy(all + 127, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9); /* e-acute, euro, emoji */
    all[136] = 'z';
    tams_percent_encode(&b, all, sizeof(all), NULL, 0);
    CHECK(tams_buf_ok(&b));
    CHECK_INT_EQ(
        strspn(b.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%"),
        b.len);
    for (int plus = 0; plus < 2; plus++) {
        char *d = tams_url_decode(&p, b.data, b.len, plus);
        CHECK(d != NULL && strlen(d) == sizeof(all) && memcmp(d, all, sizeof(all)) == 0);
    }
    for (int c = 1; c < 256; c++) {
        char in = (char)c;
        tams_buf_reset(&b);
        tams_percent_encode(&b, &in, 1, NULL, 0);
        char *d = tams_url_decode(&p, b.data, b.len, true);
        if (c < 0x80 && (!d || d[0] != in || d[1] != '\0'))
            CHECK(!"single byte does not round-trip");
        if (c >= 0x80 && d)
            CHECK(!"a lone byte above 0x7f is not UTF-8, yet decoded");
    }
    /* strict UTF-8, encoded or raw: overlong, CESU-8 surrogates, above U+10FFFF, cut short */
    const char *not_utf8[] = {"%C0%AF",       "%C0%80",       "%E0%80%AF",
                              "%F0%80%80%AF", "%ED%A0%80",    "%ED%A0%BD%ED%B8%80",
                              "%ED%B0%80",    "%F4%90%80%80", "%F5%80%80%80",
                              "%FF",          "%C3",          "a%E2%82",
                              "%80",          "\xc0\xaf",     "\xed\xa0\x80"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(not_utf8); i++) {
        if (tams_url_decode(&p, not_utf8[i], strlen(not_utf8[i]), true))
            fprintf(stderr, "'%s' decoded\n", not_utf8[i]);
        CHECK(tams_url_decode(&p, not_utf8[i], strlen(not_utf8[i]), true) == NULL);
    }
    CHECK_STR_EQ(tams_url_decode(&p, "%F4%8F%BF%BF%EF%BF%BE", 21, true),
                 "\xf4\x8f\xbf\xbf\xef\xbf\xbe"); /* U+10FFFF and U+FFFE are scalar values */
    tams_buf_reset(&b);
    tams_percent_encode(&b, "a b/+~", 6, NULL, 0);
    CHECK_STR_EQ(b.data, "a%20b%2F%2B~");
    tams_buf_release(&b);
    tams_pool_release(&p);
}

static void test_query(void)
{
    struct tams_pool p = TAMS_POOL_INIT;
    struct tams_kv *kv;
    size_t n;

    CHECK_INT_EQ(tams_query_parse(&p, NULL, &kv, &n), 0);
    CHECK(kv == NULL && n == 0);
    CHECK_INT_EQ(tams_query_parse(&p, "", &kv, &n), 0);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(tams_query_parse(&p, "&&&", &kv, &n), 0);
    CHECK_INT_EQ(n, 0);

    CHECK_INT_EQ(tams_query_parse(&p, "tag.x=1&a&b=&&tag.x=2&c=a+b%2Bc&=v&d==e", &kv, &n), 0);
    CHECK_INT_EQ(n, 7);
    if (n == 7) {
        CHECK_STR_EQ(kv[0].name, "tag.x");
        CHECK_STR_EQ(kv[0].value, "1");
        CHECK_STR_EQ(kv[1].name, "a");
        CHECK_STR_EQ(kv[1].value, "");
        CHECK_STR_EQ(kv[2].name, "b");
        CHECK_STR_EQ(kv[2].value, "");
        CHECK_STR_EQ(kv[3].name, "tag.x");
        CHECK_STR_EQ(kv[3].value, "2");
        CHECK_STR_EQ(kv[4].name, "c");
        CHECK_STR_EQ(kv[4].value, "a b+c");
        CHECK_STR_EQ(kv[5].name, "");
        CHECK_STR_EQ(kv[5].value, "v");
        CHECK_STR_EQ(kv[6].name, "d");
        CHECK_STR_EQ(kv[6].value, "=e");
    }
    CHECK_INT_EQ(tams_query_parse(&p, "n%61me%3D=v%26w", &kv, &n), 0);
    CHECK(n == 1 && strcmp(kv[0].name, "name=") == 0 && strcmp(kv[0].value, "v&w") == 0);

    const char *bad[] = {"a=%zz",        "a=%4",  "%=1",     "a=1&b=%",
                         "a%00=1",       "a=%00", "x&y=%G1", "label=%C0%AF",
                         "l=%ED%A0%80x", "%FF=1", "a=\xc3",  "a=1&b=%E0%80%80"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++)
        CHECK_INT_EQ(tams_query_parse(&p, bad[i], &kv, &n), TAMS_ERR_BADQUERY);

    /* the parameter limit, exactly and one past; empty pairs do not count */
    struct tams_buf q = TAMS_BUF_INIT(1 << 16);
    for (int i = 0; i < TAMS_LIMIT_QUERY_PARAMS; i++)
        tams_buf_addf(&q, "p%d=%d&&", i, i);
    CHECK_INT_EQ(tams_query_parse(&p, q.data, &kv, &n), 0);
    CHECK_INT_EQ(n, TAMS_LIMIT_QUERY_PARAMS);
    if (n == TAMS_LIMIT_QUERY_PARAMS) {
        CHECK_STR_EQ(kv[0].name, "p0");
        CHECK_STR_EQ(kv[TAMS_LIMIT_QUERY_PARAMS - 1].value, "127");
    }
    tams_buf_addstr(&q, "one=more");
    CHECK_INT_EQ(tams_query_parse(&p, q.data, &kv, &n), TAMS_ERR_TOOBIG);
    tams_buf_release(&q);
    tams_pool_release(&p);
}

static void test_methods(void)
{
    struct tams_buf b = TAMS_BUF_INIT(256);
    tams_methods_format(TAMS_GET | TAMS_HEAD | TAMS_PUT | TAMS_POST | TAMS_DELETE | TAMS_OPTIONS,
                        &b);
    CHECK_STR_EQ(b.data, "GET, HEAD, PUT, POST, DELETE, OPTIONS");
    tams_buf_reset(&b);
    tams_methods_format(TAMS_OPTIONS | TAMS_DELETE, &b);
    CHECK_STR_EQ(b.data, "DELETE, OPTIONS");
    tams_buf_reset(&b);
    tams_methods_format(TAMS_POST, &b);
    CHECK_STR_EQ(b.data, "POST");
    tams_buf_reset(&b);
    tams_methods_format(0, &b);
    CHECK_STR_EQ(b.data, "");
    tams_buf_release(&b);
    CHECK_STR_EQ(tams_method_name(TAMS_HEAD), "HEAD");
    CHECK_STR_EQ(tams_method_name((enum tams_method)0), "?");
}

/* Value of the sample line that starts with `prefix` followed by a space, or -1. */
static double sample(const char *text, const char *prefix)
{
    size_t pl = strlen(prefix);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, prefix, pl) == 0 && line[pl] == ' ')
            return strtod(line + pl + 1, NULL);
        if (!nl)
            break;
        line = nl + 1;
    }
    return -1;
}

static void test_metrics(void)
{
    static const char *const names[] = {"/service", "/flows/{flowId}"};
    struct tams_metrics *m = tams_metrics_new(names, 2);
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);

    tams_metrics_observe(m, 0, "GET", 200, 50);       /* 0.00005 s */
    tams_metrics_observe(m, 0, "GET", 200, 100);      /* exactly on the 0.0001 bound */
    tams_metrics_observe(m, 0, "GET", 404, 3000);     /* 0.003 s */
    tams_metrics_observe(m, 1, "PUT", 201, 2000000);  /* 2 s */
    tams_metrics_observe(m, 1, "PUT", 201, 10000000); /* 10 s: only +Inf */
    tams_metrics_observe(m, 2, "POST", 404, 10);      /* unmatched */
    tams_metrics_observe(m, 99, "DELETE", 999, -5);   /* clamped: unmatched, 500, 0 us */
    tams_metrics_render(m, &out);
    CHECK(tams_buf_ok(&out));
    const char *t = out.data;

    CHECK(strstr(t, "# TYPE tams_http_requests_total counter\n") != NULL);
    CHECK(strstr(t, "# TYPE tams_http_request_duration_seconds histogram\n") != NULL);
    CHECK(sample(t, "tams_http_requests_total{route=\"/service\",method=\"GET\",status=\"200\"}") ==
          2);
    CHECK(sample(t, "tams_http_requests_total{route=\"/service\",method=\"GET\",status=\"404\"}") ==
          1);
    CHECK(sample(t, "tams_http_requests_total{route=\"/flows/{flowId}\",method=\"PUT\","
                    "status=\"201\"}") == 2);
    CHECK(
        sample(t, "tams_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"404\"}") ==
        1);
    CHECK(sample(t, "tams_http_requests_total{route=\"unmatched\",method=\"DELETE\","
                    "status=\"500\"}") == 1);
    CHECK(sample(t, "tams_http_requests_total{route=\"/service\",method=\"PUT\",status=\"200\"}") ==
          -1);

    CHECK(
        sample(t, "tams_http_request_duration_seconds_bucket{route=\"/service\",le=\"0.0001\"}") ==
        2);
    CHECK(
        sample(t, "tams_http_request_duration_seconds_bucket{route=\"/service\",le=\"0.0025\"}") ==
        2);
    CHECK(sample(t, "tams_http_request_duration_seconds_bucket{route=\"/service\",le=\"0.005\"}") ==
          3);
    CHECK(sample(t, "tams_http_request_duration_seconds_bucket{route=\"/service\",le=\"+Inf\"}") ==
          3);
    CHECK(sample(t, "tams_http_request_duration_seconds_count{route=\"/service\"}") == 3);
    double sum = sample(t, "tams_http_request_duration_seconds_sum{route=\"/service\"}");
    CHECK(sum > 0.003149 && sum < 0.003151);
    CHECK(sample(t, "tams_http_request_duration_seconds_bucket{route=\"/flows/{flowId}\","
                    "le=\"1\"}") == 0);
    CHECK(sample(t, "tams_http_request_duration_seconds_bucket{route=\"/flows/{flowId}\","
                    "le=\"2.5\"}") == 1);
    CHECK(sample(t, "tams_http_request_duration_seconds_bucket{route=\"/flows/{flowId}\","
                    "le=\"+Inf\"}") == 2);
    CHECK(sample(t, "tams_http_request_duration_seconds_count{route=\"unmatched\"}") == 2);

    /* buckets are cumulative and non-decreasing, in order, ending at +Inf == count */
    double prev = 0;
    int nb = 0;
    const char *bp = "tams_http_request_duration_seconds_bucket{route=\"/service\",le=\"";
    for (const char *s = strstr(t, bp); s; s = strstr(s + 1, bp)) {
        const char *sp = strchr(s, ' ');
        double v = strtod(sp + 1, NULL);
        CHECK(v >= prev);
        prev = v;
        nb++;
    }
    CHECK_INT_EQ(nb, 15);
    /* every non-comment line is `name{labels} value` */
    for (const char *line = t; *line;) {
        const char *nl = strchr(line, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        if (line[0] != '#') {
            const char *brace = memrchr(line, '}', (size_t)(nl - line));
            CHECK(brace && brace[1] == ' ' && strchr("0123456789", brace[2]));
        }
        line = nl + 1;
    }
    tams_buf_release(&out);
    tams_metrics_free(m);
    tams_metrics_free(NULL);
}

/* Parse a body; returns rc and puts the message (or the re-serialised value) in txt. */
static int body(const char *data, size_t len, struct tams_buf *txt)
{
    json_object *o = NULL;
    int rc;
    tams_buf_reset(txt);
    rc = tams_json_parse_body(data, len, &o, txt);
    if (rc == 0)
        tams_buf_addstr(txt,
                        o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(null)");
    else
        CHECK(o == NULL);
    json_object_put(o);
    return rc;
}

#define BODY(lit, txt) body((lit), sizeof(lit) - 1, (txt))

static void test_body(void)
{
    struct tams_buf t = TAMS_BUF_INIT(4096);
    char deep[2 * (TAMS_LIMIT_JSON_DEPTH + 1)];

    /* top-level scalars that json-c only completes at end of input */
    CHECK_INT_EQ(BODY("123", &t), 0);
    CHECK_STR_EQ(t.data, "123");
    CHECK_INT_EQ(BODY("-0.5", &t), 0);
    CHECK_INT_EQ(BODY("true", &t), 0);
    CHECK_STR_EQ(t.data, "true");
    CHECK_INT_EQ(BODY("null", &t), 0);
    CHECK_STR_EQ(t.data, "(null)");
    CHECK_INT_EQ(BODY("123 \n", &t), 0);
    CHECK_INT_EQ(BODY(" {\"a\":[1,{}]}\r\n\t ", &t), 0);
    CHECK_STR_EQ(t.data, "{\"a\":[1,{}]}");

    /* Strict mode: json-c itself refuses data after the value. */
    CHECK_INT_EQ(BODY("1 2", &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body is not valid JSON: unexpected character at offset 2");
    CHECK_INT_EQ(BODY("{}x", &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body is not valid JSON: unexpected character at offset 2");
    CHECK_INT_EQ(BODY("[1,]", &t), TAMS_ERR_BADJSON);
    CHECK_INT_EQ(BODY("\"\xff\"", &t), TAMS_ERR_BADJSON);
    CHECK_INT_EQ(BODY("\"ab", &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body is not valid JSON: unexpected end of data at offset 3");
    CHECK_INT_EQ(BODY("[1,", &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body is not valid JSON: unexpected end of data at offset 3");
    CHECK_INT_EQ(BODY("", &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body is not valid JSON: unexpected end of data at offset 0");
    CHECK_INT_EQ(BODY("{\"a\" 1}", &t), TAMS_ERR_BADJSON);
    CHECK(strncmp(t.data, "the request body is not valid JSON: ", 36) == 0 &&
          strstr(t.data, " at offset 5") != NULL);
    CHECK_INT_EQ(BODY("{\"a\":\"\0\"}", &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body is not valid JSON: NUL byte");
    CHECK_INT_EQ(BODY("123\0", &t), TAMS_ERR_BADJSON);

    /* nesting: the limit is accepted, one more is not */
    for (int d = TAMS_LIMIT_JSON_DEPTH; d <= TAMS_LIMIT_JSON_DEPTH + 1; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        int rc = body(deep, 2 * (size_t)d, &t);
        if (d == TAMS_LIMIT_JSON_DEPTH)
            CHECK_INT_EQ(rc, 0);
        else
            CHECK_INT_EQ(rc, TAMS_ERR_BADJSON);
    }
    CHECK_STR_EQ(t.data, "the request body nests arrays and objects deeper than 32 levels at "
                         "offset 32");
    /* a value inside the deepest array is one level more; a body at the limit is what json-c
     * reads back with its default depth (stored documents) */
    memset(deep, '[', TAMS_LIMIT_JSON_DEPTH);
    deep[TAMS_LIMIT_JSON_DEPTH] = '1';
    memset(deep + TAMS_LIMIT_JSON_DEPTH + 1, ']', TAMS_LIMIT_JSON_DEPTH);
    CHECK_INT_EQ(body(deep, 2 * TAMS_LIMIT_JSON_DEPTH + 1, &t), TAMS_ERR_BADJSON);
    memset(deep, '[', TAMS_LIMIT_JSON_DEPTH);
    memset(deep + TAMS_LIMIT_JSON_DEPTH, ']', TAMS_LIMIT_JSON_DEPTH);
    deep[2 * TAMS_LIMIT_JSON_DEPTH] = '\0';
    json_object *back = json_tokener_parse(deep);
    CHECK(back != NULL);
    json_object_put(back);
    /* objects and arrays in an object's member-name position still count as nesting */
    {
        char wide[3 * 100];
        memset(wide, '{', sizeof(wide));
        CHECK_INT_EQ(body(wide, sizeof(wide), &t), TAMS_ERR_BADJSON);
        CHECK(strstr(t.data, "deeper than 32 levels") != NULL);
    }
    tams_buf_release(&t);
}

/* Text json-c takes but JSON does not: every one is 400 with its offset. */
static void test_body_text(void)
{
    struct tams_buf t = TAMS_BUF_INIT(4096);
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"\"\xc0\xaf\"", "invalid UTF-8 at offset 1"},                 /* overlong '/' */
        {"\"\xc0\x80\"", "invalid UTF-8 at offset 1"},                 /* overlong NUL */
        {"\"\xe0\x80\xaf\"", "invalid UTF-8 at offset 1"},             /* overlong, 3 bytes */
        {"\"\xf0\x80\x80\xaf\"", "invalid UTF-8 at offset 1"},         /* overlong, 4 bytes */
        {"[\"a\xed\xa0\x80\"]", "invalid UTF-8 at offset 3"},          /* CESU-8 high surrogate */
        {"\"\xed\xa0\xbd\xed\xb8\x80\"", "invalid UTF-8 at offset 1"}, /* CESU-8 pair */
        {"\"\xed\xb0\x80\"", "invalid UTF-8 at offset 1"},             /* low surrogate */
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8 at offset 1"},         /* above U+10FFFF */
        {"\"\xf5\x80\x80\x80\"", "invalid UTF-8 at offset 1"},
        {"\"\xc3\"", "invalid UTF-8 at offset 1"}, /* cut short */
        {"\"\x80\"", "invalid UTF-8 at offset 1"}, /* stray continuation */
        {"{\"k\xff\":1}", "invalid UTF-8 at offset 3"},
        {"\"\\ud800\"", "\\u escape of a lone surrogate at offset 1"},
        {"\"\\uDBFFx\"", "\\u escape of a lone surrogate at offset 1"},
        {"\"\\ud800\\u0041\"", "\\u escape of a lone surrogate at offset 1"},
        {"\"\\ud800\\ud800\"", "\\u escape of a lone surrogate at offset 1"},
        {"\"ab\\udc00\"", "\\u escape of a lone surrogate at offset 3"},
        {"\"\\ud83d\\ude00\\udc00\"", "\\u escape of a lone surrogate at offset 13"},
        {"{\"\\udfff\":1}", "\\u escape of a lone surrogate at offset 2"},
        {"\"a\tb\"", "unescaped control character in a string at offset 2"},
        {"[\"\n\"]", "unescaped control character in a string at offset 2"},
        {"\"\x1f\"", "unescaped control character in a string at offset 1"},
        {"{'a':1}", "single-quoted string at offset 1"},
        {"['a']", "single-quoted string at offset 1"},
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++) {
        char want[256];
        snprintf(want, sizeof(want), "the request body is not valid JSON: %s", bad[i].why);
        CHECK_INT_EQ(body(bad[i].in, strlen(bad[i].in), &t), TAMS_ERR_BADJSON);
        CHECK_STR_EQ(t.data, want);
    }
    /* what stays valid: pairs, escapes of quotes and backslashes, U+FFFE, U+10FFFF */
    static const char *const good[] = {
        "\"\\ud83d\\ude00\"",       "\"\\uD83D\\uDE00x\"", "\"\\\\ud800\"",
        "\"\\\"\\u0041\"",          "\"\xef\xbf\xbe\"",    "\"\xf4\x8f\xbf\xbf\"",
        "\"\xc3\xa9\xe2\x82\xac\"", "{\"a\\\"'\":\"'\"}",  "\"\\u00e9\\t\\n\"",
        "[\"\\udbff\\udfff\"]",
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(good); i++) {
        int rc = body(good[i], strlen(good[i]), &t);
        if (rc)
            fprintf(stderr, "'%s': %s\n", good[i], t.data);
        CHECK_INT_EQ(rc, 0);
    }
    tams_buf_release(&t);
}

/* A body of n copies of item between open and close, separated by commas, padded with spaces
 * to at least pad bytes. */
static struct tams_buf repeat(const char *open, const char *item, size_t n, const char *close,
                              size_t pad)
{
    struct tams_buf b = TAMS_BUF_INIT(64u << 20);
    tams_buf_addstr(&b, open);
    for (size_t i = 0; i < n; i++)
        tams_buf_addf(&b, i ? ",%s" : "%s", item);
    tams_buf_addstr(&b, close);
    while (b.len < pad)
        tams_buf_addch(&b, ' ');
    CHECK(tams_buf_ok(&b));
    return b;
}

static int body_buf(struct tams_buf *in, struct tams_buf *txt)
{
    int rc = body(in->data, in->len, txt);
    tams_buf_release(in);
    return rc;
}

static void test_body_limits(void)
{
    struct tams_buf t = TAMS_BUF_INIT(1 << 26), b;
    const size_t vmin = TAMS_LIMIT_JSON_VALUES_MIN, cmin = TAMS_LIMIT_JSON_CONTAINERS_MIN;

    /* members of one object: numbered names, 4096 accepted, 4097 not */
    for (int n = TAMS_LIMIT_JSON_MEMBERS; n <= TAMS_LIMIT_JSON_MEMBERS + 1; n++) {
        tams_buf_init(&b, 1 << 20);
        tams_buf_addch(&b, '{');
        for (int i = 0; i < n; i++)
            tams_buf_addf(&b, "%s\"m%d\":0", i ? "," : "", i);
        tams_buf_addch(&b, '}');
        CHECK_INT_EQ(body_buf(&b, &t), n == TAMS_LIMIT_JSON_MEMBERS ? 0 : TAMS_ERR_BADJSON);
    }
    CHECK(strncmp(t.data, "the request body has an object of more than 4096 members", 56) == 0);

    /* items of one array, in a body long enough for the values (one per 8 bytes) */
    b = repeat("[", "0", TAMS_LIMIT_JSON_ITEMS, "]", 8 * (TAMS_LIMIT_JSON_ITEMS + 1));
    CHECK_INT_EQ(body_buf(&b, &t), 0);
    b = repeat("[", "0", TAMS_LIMIT_JSON_ITEMS + 1, "]", 8 * (TAMS_LIMIT_JSON_ITEMS + 2));
    CHECK_INT_EQ(body_buf(&b, &t), TAMS_ERR_BADJSON);
    CHECK(strncmp(t.data, "the request body has an array of more than 262144 items", 55) == 0);

    /* values: at least VALUES_MIN in any body (the array itself is one of them) */
    b = repeat("[", "0", vmin - 1, "]", 0);
    CHECK_INT_EQ(body_buf(&b, &t), 0);
    b = repeat("[", "0", vmin, "]", 0);
    CHECK_INT_EQ(body_buf(&b, &t), TAMS_ERR_BADJSON);
    CHECK(strncmp(t.data, "the request body has more than 16384 JSON values", 48) == 0);
    /* ... and one per 8 bytes beyond: 40000 values need 320000 bytes */
    b = repeat("[", "0", 39999, "]", 320000);
    CHECK_INT_EQ(body_buf(&b, &t), 0);
    b = repeat("[", "0", 39999, "]", 319999);
    CHECK_INT_EQ(body_buf(&b, &t), TAMS_ERR_BADJSON);
    CHECK_STR_EQ(t.data, "the request body has more than 39999 JSON values at offset 79997: a "
                         "body of 319999 bytes may hold one per 8 bytes, at least 16384");

    /* objects and arrays: at least CONTAINERS_MIN, and one per 32 bytes beyond */
    b = repeat("[", "{}", cmin - 1, "]", 0);
    CHECK_INT_EQ(body_buf(&b, &t), 0);
    b = repeat("[", "[]", cmin, "]", 0);
    CHECK_INT_EQ(body_buf(&b, &t), TAMS_ERR_BADJSON);
    CHECK(strncmp(t.data, "the request body has more than 1024 arrays and objects", 54) == 0);
    b = repeat("[", "{}", 9999, "]", 320000);
    CHECK_INT_EQ(body_buf(&b, &t), 0);
    b = repeat("[", "{}", 9999, "]", 319999);
    CHECK_INT_EQ(body_buf(&b, &t), TAMS_ERR_BADJSON);

    /* a bulk segment POST far denser than any client sends still passes: 40000 of the smallest
     * segments there are */
    b = repeat("[", "{\"object_id\":\"a\",\"timerange\":\"_\"}", 40000, "]", 0);
    CHECK_INT_EQ(body_buf(&b, &t), 0);
    tams_buf_release(&t);
}

int main(void)
{
    RUN(test_match);
    RUN(test_version);
    RUN(test_decode);
    RUN(test_query);
    RUN(test_methods);
    RUN(test_metrics);
    RUN(test_body);
    RUN(test_body_text);
    RUN(test_body_limits);
    return check_report();
}
