/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_query.c - libFuzzer target: request target split, query parsing, route matching and
 * percent-decoding; every decoded string is strict UTF-8 and must re-encode and decode to
 * itself. */
#include "core/common.h"
#include "core/buf.h"
#include "core/percent.h"
#include "core/pool.h"
#include "core/utf8.h"
#include "http/limits.h"
#include "http/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_query: violated: %s (line %d)\n", #cond, __LINE__);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void h_none(struct tams_req *req TAMS_UNUSED)
{
}

static const struct tams_route routes[] = {
    {TAMS_GET, "/", h_none, 0, NULL, NULL},
    {TAMS_GET, "/service", h_none, 0, NULL, NULL},
    {TAMS_POST, "/service/webhooks", h_none, 0, NULL, NULL},
    {TAMS_GET, "/flows", h_none, 0, NULL, NULL},
    {TAMS_GET | TAMS_PUT | TAMS_DELETE, "/flows/{flowId}", h_none, 0, NULL, NULL},
    {TAMS_GET | TAMS_PUT | TAMS_DELETE, "/flows/{flowId}/tags/{name}", h_none, 0, NULL, NULL},
    {TAMS_GET | TAMS_POST | TAMS_DELETE, "/flows/{flowId}/segments", h_none, 0, NULL, NULL},
    {TAMS_GET, "/objects/{objectId*}", h_none, 0, NULL, NULL},
    {TAMS_GET, "/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}", h_none, 0, NULL, NULL},
};
static const struct tams_route_table table = {routes, TAMS_ARRAY_SIZE(routes), 0};

/* s came out of tams_url_decode: NUL-free; encoding it and decoding again gives it back. */
static void check_roundtrip(struct tams_pool *pool, const char *s)
{
    struct tams_buf b = TAMS_BUF_INIT(3 * TAMS_LIMIT_URI_BYTES + 3 * 4096);
    size_t n = strlen(s);
    REQUIRE(tams_utf8_valid(s, n));
    tams_percent_encode(&b, s, n, NULL, 0);
    REQUIRE(tams_buf_ok(&b));
    REQUIRE(b.len >= n && b.len <= 3 * n);
    for (int plus = 0; plus < 2; plus++) {
        char *d = tams_url_decode(pool, b.data, b.len, plus);
        REQUIRE(d != NULL);
        REQUIRE(strcmp(d, s) == 0);
    }
    tams_buf_release(&b);
}

static size_t count_placeholders(const char *pattern)
{
    size_t n = 0;
    for (const char *p = pattern; *p; p++)
        n += *p == '{';
    return n;
}

static void check_match(struct tams_pool *pool, const char *path, enum tams_method method)
{
    const struct tams_route *route = NULL;
    const char *params[TAMS_LIMIT_PATH_PARAMS] = {0};
    unsigned allowed = 12345;
    enum tams_route_match m =
        tams_route_match(&table, path, method, pool, &route, params, &allowed);
    struct tams_buf allow = TAMS_BUF_INIT(256);

    tams_methods_format(allowed, &allow);
    REQUIRE(tams_buf_ok(&allow));
    tams_buf_release(&allow);
    switch (m) {
    case TAMS_ROUTE_NO_PATH:
        REQUIRE(allowed == 0);
        break;
    case TAMS_ROUTE_NO_METHOD:
        REQUIRE(allowed != 0);
        REQUIRE(!(allowed & (method == TAMS_HEAD ? TAMS_GET : method)));
        break;
    case TAMS_ROUTE_BAD_ENCODING:
        REQUIRE(allowed != 0);
        break;
    case TAMS_ROUTE_FOUND: {
        size_t np = count_placeholders(route->pattern);
        REQUIRE(route >= routes && route < routes + TAMS_ARRAY_SIZE(routes));
        REQUIRE(route->methods & (method == TAMS_HEAD ? TAMS_GET : method));
        REQUIRE(!(allowed & TAMS_GET) == !(allowed & TAMS_HEAD));
        REQUIRE(path[0] == '/' || (path[0] == '\0' && route == &routes[0]));
        /* no trailing slash and no empty segment outside the root */
        if (route != &routes[0]) {
            REQUIRE(path[strlen(path) - 1] != '/');
            REQUIRE(!strstr(path, "//"));
        }
        for (size_t i = 0; i < np; i++) {
            REQUIRE(params[i] != NULL && params[i][0] != '\0');
            check_roundtrip(pool, params[i]);
        }
        break;
    }
    default:
        REQUIRE(!"unknown match result");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tams_pool pool = TAMS_POOL_INIT;
    const char *s = (const char *)data;
    const char *qmark = memchr(s, '?', size);
    size_t plen = qmark ? (size_t)(qmark - s) : size;
    char *path = tams_pool_strndup(&pool, s, plen);
    char *query = qmark ? tams_pool_strndup(&pool, qmark + 1, size - plen - 1) : NULL;
    struct tams_kv *kv = NULL;
    size_t n = 99;
    int rc;

    rc = tams_query_parse(&pool, query, &kv, &n);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADQUERY || rc == TAMS_ERR_TOOBIG);
    if (rc == 0) {
        REQUIRE(n <= TAMS_LIMIT_QUERY_PARAMS);
        REQUIRE((n == 0) == (kv == NULL));
        for (size_t i = 0; i < n; i++) {
            check_roundtrip(&pool, kv[i].name);
            check_roundtrip(&pool, kv[i].value);
        }
    } else {
        REQUIRE(query != NULL);
    }

    static const enum tams_method methods[] = {TAMS_GET, TAMS_HEAD, TAMS_POST, TAMS_OPTIONS};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(methods); i++)
        check_match(&pool, path, methods[i]);

    /* the raw path decoded as a whole (what a handler logging it would do) */
    char *d = tams_url_decode(&pool, path, strlen(path), false);
    if (d)
        check_roundtrip(&pool, d);
    tams_pool_release(&pool);
    return 0;
}
