/* SPDX-License-Identifier: Apache-2.0 */
/* test_core.c - buf, the streaming JSON writer (checked against json-c), pool, err and uuid. */
#include "core/common.h"
#include "core/clock.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/pool.h"
#include "core/random.h"

#include <json-c/json.h>

#include "check.h"

/* ---- buf ---- */

static void test_buf_cap(void)
{
    struct tams_buf b = TAMS_BUF_INIT(10);

    CHECK(b.data != NULL && b.data[0] == '\0' && b.len == 0);
    CHECK_INT_EQ(tams_buf_add(&b, "0123456789", 10), 0);
    CHECK_INT_EQ(b.len, 10);
    CHECK_STR_EQ(b.data, "0123456789");
    CHECK(tams_buf_ok(&b));
    /* one past the cap fails, appends nothing, and sticks */
    CHECK_INT_EQ(tams_buf_addch(&b, 'x'), TAMS_ERR_TOOBIG);
    CHECK(!tams_buf_ok(&b));
    CHECK_INT_EQ(b.len, 10);
    CHECK_STR_EQ(b.data, "0123456789");
    CHECK_INT_EQ(tams_buf_add(&b, "", 0), TAMS_ERR_TOOBIG);
    CHECK_INT_EQ(tams_buf_addf(&b, "%s", ""), TAMS_ERR_TOOBIG);
    CHECK(tams_buf_reserve(&b, 0) == NULL);
    /* reset clears the data and the sticky error */
    tams_buf_reset(&b);
    CHECK(tams_buf_ok(&b));
    CHECK_INT_EQ(b.len, 0);
    CHECK_STR_EQ(b.data, "");
    CHECK_INT_EQ(tams_buf_addstr(&b, "abc"), 0);
    CHECK_STR_EQ(b.data, "abc");
    /* an append that would cross the cap appends nothing, even partially */
    CHECK_INT_EQ(tams_buf_addstr(&b, "12345678"), TAMS_ERR_TOOBIG);
    CHECK_STR_EQ(b.data, "abc");
    tams_buf_release(&b);
    CHECK(tams_buf_ok(&b) && b.len == 0 && b.data[0] == '\0');
    /* same cap after release */
    CHECK_INT_EQ(tams_buf_add(&b, "0123456789", 10), 0);
    CHECK_INT_EQ(tams_buf_addch(&b, 'x'), TAMS_ERR_TOOBIG);
    tams_buf_release(&b);
    tams_buf_release(&b); /* twice is fine */

    /* a cap of zero */
    struct tams_buf z;
    tams_buf_init(&z, 0);
    CHECK_INT_EQ(tams_buf_add(&z, "", 0), 0);
    CHECK_INT_EQ(tams_buf_addch(&z, 'a'), TAMS_ERR_TOOBIG);
    CHECK_STR_EQ(z.data, "");
    tams_buf_release(&z);
}

static void test_buf_addf(void)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 20);
    char big[5000];

    CHECK_INT_EQ(tams_buf_addf(&b, "%d-%s", 42, "x"), 0);
    CHECK_STR_EQ(b.data, "42-x");
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* growth past the first allocation, then again while room exists */
    CHECK_INT_EQ(tams_buf_addf(&b, "[%s]", big), 0);
    CHECK_INT_EQ(b.len, 4 + 2 + 4999);
    CHECK(b.data[4] == '[' && b.data[b.len - 1] == ']' && b.data[b.len] == '\0');
    CHECK_INT_EQ(tams_buf_addf(&b, "%s", "tail"), 0);
    CHECK_INT_EQ(b.len, 4 + 2 + 4999 + 4);
    CHECK_STR_EQ(b.data + b.len - 4, "tail");
    for (int i = 0; i < 1000; i++)
        CHECK_INT_EQ(tams_buf_addf(&b, "%04d", i), 0);
    CHECK_INT_EQ(b.len, 5009 + 4000);
    CHECK(memcmp(b.data + b.len - 4, "0999", 4) == 0);
    tams_buf_release(&b);

    /* addf exactly to the cap, then one past; with and without spare capacity */
    struct tams_buf c = TAMS_BUF_INIT(8);
    CHECK_INT_EQ(tams_buf_addf(&c, "%s", "1234"), 0);
    CHECK_INT_EQ(tams_buf_addf(&c, "%s", "5678"), 0);
    CHECK_STR_EQ(c.data, "12345678");
    CHECK_INT_EQ(tams_buf_addf(&c, "%s", "9"), TAMS_ERR_TOOBIG);
    CHECK_STR_EQ(c.data, "12345678");
    CHECK_INT_EQ(c.len, 8);
    tams_buf_reset(&c);
    CHECK_INT_EQ(tams_buf_addf(&c, "%s", "123456789"), TAMS_ERR_TOOBIG);
    CHECK_STR_EQ(c.data, "");
    CHECK(!tams_buf_ok(&c));
    tams_buf_release(&c);

    /* a long string into a fresh buffer over the cap */
    struct tams_buf d = TAMS_BUF_INIT(100);
    CHECK_INT_EQ(tams_buf_addf(&d, "%s", big), TAMS_ERR_TOOBIG);
    CHECK_INT_EQ(d.len, 0);
    CHECK_STR_EQ(d.data, "");
    tams_buf_release(&d);
}

static void test_buf_detach(void)
{
    struct tams_buf b = TAMS_BUF_INIT(100);
    size_t len = 99;
    char *p = tams_buf_detach(&b, &len); /* never allocated: still a real string */
    CHECK(p != NULL && p != tams_buf_slopbuf);
    CHECK_INT_EQ(len, 0);
    CHECK_STR_EQ(p, "");
    tams_free(p);

    CHECK_INT_EQ(tams_buf_addstr(&b, "hello"), 0);
    p = tams_buf_detach(&b, &len);
    CHECK_STR_EQ(p, "hello");
    CHECK_INT_EQ(len, 5);
    CHECK(b.len == 0 && b.data[0] == '\0' && b.data != p);
    /* reusable after detach */
    CHECK_INT_EQ(tams_buf_addstr(&b, "again"), 0);
    CHECK_STR_EQ(b.data, "again");
    tams_free(p);
    p = tams_buf_detach(&b, NULL);
    CHECK_STR_EQ(p, "again");
    tams_free(p);
    tams_buf_release(&b);

    /* reserve/commit */
    char *w = tams_buf_reserve(&b, 3);
    CHECK(w != NULL);
    if (w) {
        memcpy(w, "xyz", 3);
        tams_buf_commit(&b, 3);
    }
    CHECK_STR_EQ(b.data, "xyz");
    CHECK(tams_buf_reserve(&b, 98) == NULL);
    CHECK(!tams_buf_ok(&b));
    tams_buf_release(&b);
}

/* ---- JSON writer, checked with json-c ---- */

static json_object *parse_all(const struct tams_buf *b)
{
    json_object *o = json_tokener_parse(b->data);
    if (!o)
        fprintf(stderr, "json-c cannot parse: %s\n", b->data);
    return o;
}

/* Write s as a JSON string; it must parse and give back `want` (want_len bytes). */
static void check_string(const char *s, size_t n, const char *want, size_t want_len)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 16);
    struct tams_json j;
    json_object *o, *v = NULL;

    tams_json_init(&j, &b);
    tams_json_obj_open(&j);
    tams_json_key(&j, "k");
    tams_json_strn(&j, s, n);
    tams_json_obj_close(&j);
    CHECK(tams_buf_ok(&b));
    o = parse_all(&b);
    CHECK(o != NULL);
    if (o && json_object_object_get_ex(o, "k", &v) && json_object_is_type(v, json_type_string)) {
        int len = json_object_get_string_len(v);
        CHECK_INT_EQ(len, want_len);
        CHECK(len == (int)want_len && memcmp(json_object_get_string(v), want, want_len) == 0);
    } else {
        CHECK(!"string member missing");
    }
    json_object_put(o);
    tams_buf_release(&b);
}

#define STR(lit) lit, sizeof(lit) - 1
#define FFFD "\xef\xbf\xbd"

static void test_json_structure(void)
{
    struct tams_buf b = TAMS_BUF_INIT(4096);
    struct tams_json j;

    tams_json_init(&j, &b);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "a", "x");
    tams_json_key(&j, "b");
    tams_json_arr_open(&j);
    tams_json_int(&j, 1);
    tams_json_obj_open(&j);
    tams_json_obj_close(&j);
    tams_json_arr_open(&j);
    tams_json_arr_close(&j);
    tams_json_null(&j);
    tams_json_bool(&j, false);
    tams_json_obj_open(&j);
    tams_json_kint(&j, "n", -5);
    tams_json_kbool(&j, "t", true);
    tams_json_obj_close(&j);
    tams_json_arr_close(&j);
    tams_json_key(&j, "c");
    tams_json_obj_open(&j);
    tams_json_key(&j, "d");
    tams_json_arr_open(&j);
    tams_json_str(&j, "e");
    tams_json_arr_close(&j);
    tams_json_obj_close(&j);
    tams_json_kint(&j, "min", INT64_MIN);
    tams_json_kint(&j, "max", INT64_MAX);
    tams_json_key(&j, "raw");
    tams_json_raw(&j, STR("{\"r\":[1,2]}"));
    tams_json_kstr(&j, "after", "raw");
    tams_json_obj_close(&j);
    CHECK(tams_buf_ok(&b));
    CHECK_STR_EQ(b.data, "{\"a\":\"x\",\"b\":[1,{},[],null,false,{\"n\":-5,\"t\":true}],"
                         "\"c\":{\"d\":[\"e\"]},\"min\":-9223372036854775808,"
                         "\"max\":9223372036854775807,\"raw\":{\"r\":[1,2]},\"after\":\"raw\"}");
    json_object *o = parse_all(&b), *v;
    CHECK(o != NULL);
    if (o) {
        CHECK(json_object_object_get_ex(o, "min", &v) && json_object_get_int64(v) == INT64_MIN);
        CHECK(json_object_object_get_ex(o, "max", &v) && json_object_get_int64(v) == INT64_MAX);
        CHECK(json_object_object_get_ex(o, "raw", &v) && json_object_is_type(v, json_type_object));
    }
    json_object_put(o);

    /* top-level array of raw values and scalars */
    tams_buf_reset(&b);
    tams_json_init(&j, &b);
    tams_json_arr_open(&j);
    tams_json_raw(&j, STR("1"));
    tams_json_raw(&j, STR("\"s\""));
    tams_json_int(&j, 0);
    tams_json_arr_close(&j);
    CHECK_STR_EQ(b.data, "[1,\"s\",0]");

    /* deep nesting (just under the limit) keeps commas per level */
    tams_buf_reset(&b);
    tams_json_init(&j, &b);
    for (int i = 0; i < TAMS_JSON_MAX_DEPTH - 1; i++) {
        tams_json_arr_open(&j);
        tams_json_int(&j, i);
    }
    for (int i = 0; i < TAMS_JSON_MAX_DEPTH - 1; i++) {
        tams_json_arr_close(&j);
        tams_json_int(&j, i);
    }
    CHECK(tams_buf_ok(&b));
    CHECK_INT_EQ(j._depth, 0);
    /* the last int lands at top level after a value: not a single document, so wrap it */
    tams_buf_reset(&b);
    tams_json_init(&j, &b);
    for (int i = 0; i < TAMS_JSON_MAX_DEPTH - 1; i++) {
        tams_json_arr_open(&j);
        tams_json_int(&j, i);
    }
    for (int i = 0; i < TAMS_JSON_MAX_DEPTH - 1; i++)
        tams_json_arr_close(&j);
    struct json_tokener *tok = json_tokener_new_ex(TAMS_JSON_MAX_DEPTH + 1);
    o = json_tokener_parse_ex(tok, b.data, (int)b.len);
    CHECK(o != NULL && json_object_is_type(o, json_type_array));
    json_object_put(o);
    json_tokener_free(tok);
    tams_buf_release(&b);
}

static void test_json_escaping(void)
{
    check_string(STR("plain"), STR("plain"));
    check_string(STR(""), STR(""));
    check_string(STR("q\"b\\s/"), STR("q\"b\\s/"));
    check_string(STR("\n\r\t\b\f\x01\x1f\x7f"), STR("\n\r\t\b\f\x01\x1f\x7f"));
    check_string("a\0b", 3, "a\0b", 3);
    /* valid multibyte UTF-8 passes through unchanged */
    check_string(STR("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac \xef\xbf\xbf \xf4\x8f\xbf\xbf"),
                 STR("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac \xef\xbf\xbf \xf4\x8f\xbf\xbf"));
    /* invalid: each bad byte becomes U+FFFD, the rest is kept */
    check_string(STR("a\xff"
                     "b"),
                 STR("a" FFFD "b"));
    check_string(STR("\xc3"), STR(FFFD));                            /* truncated 2-byte */
    check_string(STR("\xe2\x82"), STR(FFFD FFFD));                   /* truncated 3-byte */
    check_string(STR("\xe2\x82x"), STR(FFFD FFFD "x"));              /* truncated mid-string */
    check_string(STR("\xf0\x9f\x8e"), STR(FFFD FFFD FFFD));          /* truncated 4-byte */
    check_string(STR("\xc0\xaf"), STR(FFFD FFFD));                   /* overlong '/' */
    check_string(STR("\xc1\xbf"), STR(FFFD FFFD));                   /* overlong */
    check_string(STR("\xe0\x80\xaf"), STR(FFFD FFFD FFFD));          /* overlong 3-byte */
    check_string(STR("\xf0\x80\x80\xaf"), STR(FFFD FFFD FFFD FFFD)); /* overlong 4-byte */
    check_string(STR("\xed\xa0\x80"), STR(FFFD FFFD FFFD));          /* surrogate D800 */
    check_string(STR("\xed\xbf\xbf"), STR(FFFD FFFD FFFD));          /* surrogate DFFF */
    check_string(STR("\xf4\x90\x80\x80"), STR(FFFD FFFD FFFD FFFD)); /* above U+10FFFF */
    check_string(STR("\xf5\x80"), STR(FFFD FFFD));
    check_string(STR("\x80"), STR(FFFD)); /* lone continuation */
    check_string(STR("\xc3\xa9\xff\xc3\xa9"), STR("\xc3\xa9" FFFD "\xc3\xa9"));

    /* the exact escapes used */
    struct tams_buf b = TAMS_BUF_INIT(256);
    tams_json_escape(&b, STR("\"\\\x01\n\xff"));
    CHECK_STR_EQ(b.data, "\"\\\"\\\\\\u0001\\n\\ufffd\"");
    tams_buf_release(&b);

    /* keys are escaped too */
    struct tams_json j;
    tams_json_init(&j, &b);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "k\"\xff", "v");
    tams_json_obj_close(&j);
    json_object *o = parse_all(&b), *v;
    CHECK(o && json_object_object_get_ex(o, "k\"" FFFD, &v));
    json_object_put(o);
    tams_buf_release(&b);

    /* every single byte and every byte pair round-trips (with U+FFFD where invalid) */
    for (int c = 0; c < 256; c++) {
        struct tams_buf w = TAMS_BUF_INIT(64);
        char in = (char)c;
        tams_json_escape(&w, &in, 1);
        json_object *s = json_tokener_parse(w.data);
        CHECK(s && json_object_is_type(s, json_type_string));
        if (s && c < 0x80)
            CHECK(json_object_get_string_len(s) == 1 && json_object_get_string(s)[0] == in);
        else if (s)
            CHECK_STR_EQ(json_object_get_string(s), FFFD);
        json_object_put(s);
        tams_buf_release(&w);
    }
}

static void test_json_cap(void)
{
    struct tams_buf b = TAMS_BUF_INIT(8);
    struct tams_json j;
    tams_json_init(&j, &b);
    tams_json_arr_open(&j);
    tams_json_str(&j, "this does not fit");
    tams_json_arr_close(&j);
    CHECK(!tams_buf_ok(&b));
    tams_buf_release(&b);
}

/* ---- pool ---- */

static void test_pool(void)
{
    struct tams_pool p = TAMS_POOL_INIT;
    char *ptrs[2000];

    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(i % 37) + 1;
        ptrs[i] = tams_pool_alloc(&p, n);
        CHECK_INT_EQ((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], i & 0xff, n);
    }
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(i % 37) + 1;
        bool same = true;
        for (size_t k = 0; k < n; k++)
            same &= (unsigned char)ptrs[i][k] == (i & 0xff);
        if (!same)
            CHECK(!"pool allocations overlap");
    }
    /* large allocations, interleaved with small ones */
    for (int i = 0; i < 20; i++) {
        size_t n = (size_t)1000 + (size_t)i * 50000;
        char *big = tams_pool_alloc(&p, n);
        char *small = tams_pool_alloc(&p, 3);
        CHECK_INT_EQ((uintptr_t)big % 16, 0);
        CHECK_INT_EQ((uintptr_t)small % 16, 0);
        memset(big, 0xab, n);
        memset(small, 0xcd, 3);
        CHECK((unsigned char)big[n - 1] == 0xab && (unsigned char)small[0] == 0xcd);
    }
    unsigned char *z = tams_pool_zalloc(&p, 4096 * 3);
    bool zero = true;
    for (size_t k = 0; k < 4096 * 3; k++)
        zero &= z[k] == 0;
    CHECK(zero);
    CHECK_INT_EQ((uintptr_t)tams_pool_alloc(&p, 0) % 16, 0);
    CHECK_STR_EQ(tams_pool_strdup(&p, "hello"), "hello");
    CHECK_STR_EQ(tams_pool_strdup(&p, ""), "");
    CHECK_STR_EQ(tams_pool_strndup(&p, "hello world", 5), "hello");
    CHECK_STR_EQ(tams_pool_printf(&p, "%s-%d-%05.1f", "x", -3, 2.25), "x--3-002.2");
    char longs[9000];
    memset(longs, 'L', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    char *pl = tams_pool_printf(&p, "<%s>", longs);
    CHECK(strlen(pl) == sizeof(longs) + 1 && pl[0] == '<' && pl[sizeof(longs)] == '>');
    tams_pool_release(&p);
    tams_pool_release(&p);
    /* usable again after release */
    CHECK_STR_EQ(tams_pool_strdup(&p, "again"), "again");
    tams_pool_release(&p);
}

/* ---- err ---- */

static void test_err(void)
{
    int rows = 0;
#define ROW(name, status, type, summary)                                                           \
    do {                                                                                           \
        int st_ = tams_err_http_status(TAMS_ERR_##name);                                           \
        CHECK(st_ >= 400 && st_ <= 599);                                                           \
        CHECK_INT_EQ(st_, status);                                                                 \
        CHECK(tams_err_type(TAMS_ERR_##name)[0] != '\0');                                          \
        CHECK_STR_EQ(tams_err_type(TAMS_ERR_##name), type);                                        \
        CHECK_STR_EQ(tams_strerror(TAMS_ERR_##name), summary);                                     \
        CHECK_STR_EQ(tams_err_name(TAMS_ERR_##name), #name);                                       \
        CHECK(TAMS_ERR_##name < 0);                                                                \
        rows++;                                                                                    \
    } while (0);
    TAMS_ERR_MAP(ROW)
#undef ROW
    CHECK(rows > 0);
    CHECK_INT_EQ(tams_err_http_status(TAMS_ERR_NOTFOUND), 404);
    CHECK_INT_EQ(tams_err_http_status(TAMS_ERR_TOOBIG), 413);
    const int unknown[] = {0,         1,        -1, 12345, -1000, TAMS__ERR_FIRST, TAMS__ERR_END,
                           INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(unknown); i++) {
        CHECK_INT_EQ(tams_err_http_status(unknown[i]), 500);
        CHECK_STR_EQ(tams_err_type(unknown[i]), "InternalError");
        CHECK_STR_EQ(tams_err_name(unknown[i]), "INTERNAL");
    }
}

/* ---- uuid ---- */

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, TAMS_UUID_STRLEN);
}

static void test_uuid(void)
{
    static char ids[1000][TAMS_UUID_STRLEN + 1];
    bool all_valid = true, all_distinct = true;

    for (int i = 0; i < 1000; i++) {
        tams_uuid_v4(ids[i]);
        all_valid &= strlen(ids[i]) == TAMS_UUID_STRLEN;
        all_valid &= tams_uuid_valid(ids[i], strlen(ids[i]));
        all_valid &= ids[i][14] == '4';
    }
    CHECK(all_valid);
    qsort(ids, 1000, sizeof(ids[0]), cmp_uuid);
    for (int i = 1; i < 1000; i++)
        all_distinct &= cmp_uuid(ids[i - 1], ids[i]) != 0;
    CHECK(all_distinct);

    struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"12345678-1234-4234-8234-123456789abc", true},
        {"00000000-0000-1000-8000-000000000000", true},
        {"ffffffff-ffff-5fff-bfff-ffffffffffff", true},
        {"12345678-1234-4234-9234-123456789abc", true},
        {"12345678-1234-4234-a234-123456789abc", true},
        {"12345678-1234-4234-8234-123456789ABC", false}, /* uppercase */
        {"12345678-1234-4234-A234-123456789abc", false},
        {"12345678-1234-0234-8234-123456789abc", false}, /* version 0 */
        {"12345678-1234-6234-8234-123456789abc", false}, /* version 6 */
        {"12345678-1234-7234-8234-123456789abc", false}, /* version 7 */
        {"12345678-1234-4234-c234-123456789abc", false}, /* variant c */
        {"12345678-1234-4234-7234-123456789abc", false}, /* variant 7 */
        {"12345678-1234-4234-8234_123456789abc", false}, /* wrong dash */
        {"123456781-234-4234-8234-123456789abc", false}, /* dash moved */
        {"12345678123444234-8234-123456789abc", false},
        {"12345678-1234-4234-8234-123456789ab", false},   /* short */
        {"12345678-1234-4234-8234-123456789abcd", false}, /* long */
        {"{12345678-1234-4234-8234-123456789abc}", false},
        {"12345678-1234-4234-8234-123456789abg", false},
        {"", false},
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(cases); i++) {
        bool got = tams_uuid_valid(cases[i].s, strlen(cases[i].s));
        if (got != cases[i].ok)
            fprintf(stderr, "uuid case '%s'\n", cases[i].s);
        CHECK(got == cases[i].ok);
    }
    /* the length argument is respected: a valid prefix of a longer string */
    CHECK(tams_uuid_valid("12345678-1234-4234-8234-123456789abcXYZ", 36));
    CHECK(!tams_uuid_valid("12345678-1234-4234-8234-123456789abc", 35));

    char hex[2 * 100 + 1];
    tams_random_hex(hex, 100);
    CHECK_INT_EQ(strlen(hex), 200);
    CHECK(strspn(hex, "0123456789abcdef") == 200);
}

/* A deadline is now + ms on the wall clock, its nanoseconds kept below one second. */
static void test_clock_deadline(void)
{
    static const int ms[] = {0, 1, 999, 1000, 1500, 5000};

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(ms); i++) {
        struct timespec d;
        int64_t before = tams_clock_wall_us(), at, after;

        tams_clock_deadline(&d, ms[i]);
        after = tams_clock_wall_us();
        at = (int64_t)d.tv_sec * 1000000 + d.tv_nsec / 1000;
        CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
        CHECK(at >= before + ms[i] * 1000 && at <= after + ms[i] * 1000);
    }
}

int main(void)
{
    RUN(test_buf_cap);
    RUN(test_buf_addf);
    RUN(test_buf_detach);
    RUN(test_json_structure);
    RUN(test_json_escaping);
    RUN(test_json_cap);
    RUN(test_pool);
    RUN(test_err);
    RUN(test_uuid);
    RUN(test_clock_deadline);
    return check_report();
}
