/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_json_body.c - libFuzzer target: the request body parser (tams_json_parse_body), whose
 * successes must keep the limits of http/limits.h and hold only strict UTF-8, the UTF-8
 * validator (core/utf8.h) checked against a second implementation here, and the JSON writer's
 * escaping checked against json-c on every string the body contains. */
#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/utf8.h"
#include "http/body.h"
#include "http/limits.h"

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_json_body: violated: %s (line %d)\n", #cond, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char prefix[] = "the request body ";
static const char not_json[] = "the request body is not valid JSON: ";

/* What walk() saw of an accepted body. */
struct seen {
    size_t values, containers;
};

/* Is s[0, n) valid UTF-8 without surrogates or overlongs? (What the writer passes through.) */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += len;
    }
    return true;
}

/* Write the string with our escaper; json-c must read it back, identical when it was valid. */
static void check_escape(const char *s, size_t n)
{
    struct tams_buf b = TAMS_BUF_INIT(16 * n + 16);
    json_object *o;
    tams_json_escape(&b, s, n);
    REQUIRE(tams_buf_ok(&b));
    o = json_tokener_parse(b.data);
    REQUIRE(o != NULL && json_object_is_type(o, json_type_string));
    if (valid_utf8((const unsigned char *)s, n)) {
        REQUIRE((size_t)json_object_get_string_len(o) == n);
        REQUIRE(memcmp(json_object_get_string(o), s, n) == 0);
    } else {
        REQUIRE(strstr(b.data, "\\ufffd") != NULL);
        REQUIRE(valid_utf8((const unsigned char *)json_object_get_string(o),
                           (size_t)json_object_get_string_len(o)));
    }
    json_object_put(o);
    tams_buf_release(&b);
}

/* level: 1 for the body's own value. */
static void walk(json_object *o, int level, struct seen *seen)
{
    REQUIRE(level <= TAMS_LIMIT_JSON_DEPTH);
    seen->values++;
    switch (json_object_get_type(o)) {
    case json_type_string:
        REQUIRE(valid_utf8((const unsigned char *)json_object_get_string(o),
                           (size_t)json_object_get_string_len(o)));
        check_escape(json_object_get_string(o), (size_t)json_object_get_string_len(o));
        break;
    case json_type_object: {
        seen->containers++;
        REQUIRE(json_object_object_length(o) <= TAMS_LIMIT_JSON_MEMBERS);
        json_object_object_foreach(o, key, val)
        {
            REQUIRE(valid_utf8((const unsigned char *)key, strlen(key)));
            check_escape(key, strlen(key));
            walk(val, level + 1, seen);
        }
        break;
    }
    case json_type_array:
        seen->containers++;
        REQUIRE(json_object_array_length(o) <= TAMS_LIMIT_JSON_ITEMS);
        for (size_t i = 0; i < json_object_array_length(o); i++)
            walk(json_object_array_get_idx(o, i), level + 1, seen);
        break;
    default:
        break;
    }
}

static size_t at_least(size_t a, size_t b)
{
    return a > b ? a : b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tams_buf why = TAMS_BUF_INIT(512);
    json_object *obj = (json_object *)&why; /* must be overwritten */
    const char *s = (const char *)data;
    int rc = tams_json_parse_body(s, size, &obj, &why);
    struct seen seen = {0, 0};

    /* two validators, one answer, and everything before the first bad byte is valid */
    size_t bad = tams_utf8_check(s, size);
    REQUIRE(bad <= size);
    REQUIRE((bad == size) == valid_utf8(data, size));
    REQUIRE(valid_utf8(data, bad));
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADJSON);
    REQUIRE(tams_buf_ok(&why));
    if (rc) {
        size_t off;
        const char *at;
        REQUIRE(obj == NULL);
        REQUIRE(strncmp(why.data, prefix, sizeof(prefix) - 1) == 0);
        REQUIRE(why.len > sizeof(prefix) - 1);
        at = strstr(why.data, " at offset ");
        if (at) {
            off = strtoull(at + 11, NULL, 10);
            REQUIRE(off <= size);
        } else {
            REQUIRE(strcmp(why.data, "the request body is not valid JSON: NUL byte") == 0);
            REQUIRE(memchr(s, '\0', size) != NULL);
        }
        if (bad < size && !memchr(s, '\0', size)) {
            char want[128];
            snprintf(want, sizeof(want), "%sinvalid UTF-8 at offset %zu", not_json, bad);
            REQUIRE(strcmp(why.data, want) == 0);
        }
        tams_buf_release(&why);
        return 0;
    }
    REQUIRE(why.len == 0);
    REQUIRE(memchr(s, '\0', size) == NULL);
    REQUIRE(valid_utf8(data, size));
    walk(obj, 1, &seen);
    REQUIRE(seen.values <=
            at_least(size / TAMS_LIMIT_JSON_BYTES_PER_VALUE, TAMS_LIMIT_JSON_VALUES_MIN));
    REQUIRE(seen.containers <=
            at_least(size / TAMS_LIMIT_JSON_BYTES_PER_CONTAINER, TAMS_LIMIT_JSON_CONTAINERS_MIN));
    /* What json-c writes back is itself an accepted body. It is a fixpoint only from the
     * second round: json-c keeps the source text of lenient numbers such as `00e`. */
    if (obj) {
        json_object *a = NULL, *b = NULL;
        size_t n1, n2, n3;
        const char *t1 = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n1);
        REQUIRE(tams_json_parse_body(t1, n1, &a, &why) == 0 && a != NULL);
        const char *t2 = json_object_to_json_string_length(a, JSON_C_TO_STRING_PLAIN, &n2);
        REQUIRE(tams_json_parse_body(t2, n2, &b, &why) == 0 && b != NULL);
        const char *t3 = json_object_to_json_string_length(b, JSON_C_TO_STRING_PLAIN, &n3);
        REQUIRE(n2 == n3 && memcmp(t2, t3, n2) == 0);
        json_object_put(a);
        json_object_put(b);
    }
    json_object_put(obj);
    tams_buf_release(&why);
    return 0;
}
