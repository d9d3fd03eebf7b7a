/* SPDX-License-Identifier: Apache-2.0 */
/* body.c - one JSON value from a request body, with limits and a precise error message. */
#include "core/common.h"
#include "core/buf.h"
#include "core/hex.h"
#include "core/utf8.h"
#include "http/body.h"
#include "http/limits.h"

#include <limits.h>

static const char not_json[] = "the request body is not valid JSON: ";

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* One open object or array of the scan. */
struct frame {
    bool object;
    bool want_name; /* object: the next string is a member name */
    size_t count;   /* members or items so far */
};

struct scan {
    const char *data;
    size_t len;
    struct frame stack[TAMS_LIMIT_JSON_DEPTH];
    size_t depth; /* open objects and arrays */
    size_t values, containers;
    size_t max_values, max_containers;
    struct tams_buf *why;
};

/* The code unit of the \uXXXX escape at s[0, n) (s[0] is the backslash), or -1 when these are
 * not a backslash, 'u' and four hex digits (json-c then reports the escape). */
static long escape_unit(const char *s, size_t n)
{
    long v = 0;
    if (n < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    for (size_t i = 2; i < 6; i++) {
        int d = tams_hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Skip the string whose opening quote is at *i; *i ends on its closing quote (or at the end).
 * json-c turns a \u escape of a lone surrogate into U+FFFD and takes raw control characters;
 * neither is JSON text (RFC 8259 §7, §8.2), so both are refused here. */
static int skip_string(struct scan *s, size_t *i)
{
    const char *d = s->data;
    size_t k = *i + 1;

    for (; k < s->len && d[k] != '"'; k++) {
        unsigned char c = (unsigned char)d[k];
        long u, u2;
        if (c < 0x20) {
            tams_buf_addf(s->why, "%sunescaped control character in a string at offset %zu",
                          not_json, k);
            return TAMS_ERR_BADJSON;
        }
        if (c != '\\')
            continue;
        u = escape_unit(d + k, s->len - k);
        if (u < 0) {
            k++; /* the escaped character: a quote or backslash does not end the string */
            continue;
        }
        if (u >= 0xdc00 && u <= 0xdfff) {
            tams_buf_addf(s->why, "%s\\u escape of a lone surrogate at offset %zu", not_json, k);
            return TAMS_ERR_BADJSON;
        }
        if (u >= 0xd800 && u <= 0xdbff) {
            u2 = escape_unit(d + k + 6, s->len - k - 6);
            if (u2 < 0xdc00 || u2 > 0xdfff) {
                tams_buf_addf(s->why, "%s\\u escape of a lone surrogate at offset %zu", not_json,
                              k);
                return TAMS_ERR_BADJSON;
            }
            k += 6;
        }
        k += 5;
    }
    *i = k;
    return 0;
}

/* A token starts at offset at: count it against the limits of the body and of its container.
 * Where an object wants a member name, a string or scalar counts as one (json-c refuses the
 * scalar); an object or array there is counted as a value, so its nesting is always checked. */
static int count_value(struct scan *s, size_t at, bool container)
{
    struct frame *top = s->depth ? &s->stack[s->depth - 1] : NULL;

    if (top && top->object && top->want_name && !container) {
        if (++top->count > TAMS_LIMIT_JSON_MEMBERS) {
            tams_buf_addf(s->why,
                          "the request body has an object of more than %d members at offset %zu",
                          TAMS_LIMIT_JSON_MEMBERS, at);
            return TAMS_ERR_BADJSON;
        }
        return 0; /* a member name, not a value */
    }
    if (s->depth + 1 > TAMS_LIMIT_JSON_DEPTH) {
        tams_buf_addf(s->why,
                      "the request body nests arrays and objects deeper than %d levels at offset "
                      "%zu",
                      TAMS_LIMIT_JSON_DEPTH, at);
        return TAMS_ERR_BADJSON;
    }
    if (top && !top->object && ++top->count > TAMS_LIMIT_JSON_ITEMS) {
        tams_buf_addf(s->why, "the request body has an array of more than %d items at offset %zu",
                      TAMS_LIMIT_JSON_ITEMS, at);
        return TAMS_ERR_BADJSON;
    }
    if (++s->values > s->max_values) {
        tams_buf_addf(s->why,
                      "the request body has more than %zu JSON values at offset %zu: a body of "
                      "%zu bytes may hold one per %d bytes, at least %d",
                      s->max_values, at, s->len, TAMS_LIMIT_JSON_BYTES_PER_VALUE,
                      TAMS_LIMIT_JSON_VALUES_MIN);
        return TAMS_ERR_BADJSON;
    }
    return 0;
}

static int open_container(struct scan *s, size_t at, bool object)
{
    int rc = count_value(s, at, true);
    if (rc)
        return rc;
    if (++s->containers > s->max_containers) {
        tams_buf_addf(s->why,
                      "the request body has more than %zu arrays and objects at offset %zu: a "
                      "body of %zu bytes may hold one per %d bytes, at least %d",
                      s->max_containers, at, s->len, TAMS_LIMIT_JSON_BYTES_PER_CONTAINER,
                      TAMS_LIMIT_JSON_CONTAINERS_MIN);
        return TAMS_ERR_BADJSON;
    }
    s->stack[s->depth++] = (struct frame){.object = object, .want_name = object, .count = 0};
    return 0;
}

/* Check the body against the limits before json-c builds a single object (what json-c
 * allocates is a multiple of the values it builds, up to 800 bytes for an empty object), and
 * refuse what json-c would take but JSON does not allow. The scan follows the JSON grammar
 * only as far as counting needs; json-c reports any other mistake afterwards. On JSON text the
 * counts are exact, and on anything else json-c builds no more than the longest valid prefix,
 * which the scan counted exactly too. */
static int prescan(const char *data, size_t len, struct tams_buf *why)
{
    struct scan s = {.data = data, .len = len, .why = why};
    bool want = true; /* a value may start here: at the start, after [ { , : */
    size_t bad;
    int rc;

    bad = tams_utf8_check(data, len);
    if (bad != len) {
        tams_buf_addf(why, "%sinvalid UTF-8 at offset %zu", not_json, bad);
        return TAMS_ERR_BADJSON;
    }
    s.max_values = len / TAMS_LIMIT_JSON_BYTES_PER_VALUE;
    if (s.max_values < TAMS_LIMIT_JSON_VALUES_MIN)
        s.max_values = TAMS_LIMIT_JSON_VALUES_MIN;
    s.max_containers = len / TAMS_LIMIT_JSON_BYTES_PER_CONTAINER;
    if (s.max_containers < TAMS_LIMIT_JSON_CONTAINERS_MIN)
        s.max_containers = TAMS_LIMIT_JSON_CONTAINERS_MIN;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        struct frame *top = s.depth ? &s.stack[s.depth - 1] : NULL;

        if (is_ws(c))
            continue;
        switch (c) {
        case '{':
        case '[':
            if ((rc = open_container(&s, i, c == '{')))
                return rc;
            want = true;
            break;
        case '}':
        case ']':
            if (s.depth)
                s.depth--;
            want = false;
            break;
        case ',':
        case ':':
            if (top && top->object)
                top->want_name = c == ',';
            want = true;
            break;
        case '\'':
            /* json-c takes single-quoted member names even in strict mode */
            tams_buf_addf(why, "%ssingle-quoted string at offset %zu", not_json, i);
            return TAMS_ERR_BADJSON;
        case '"':
            if (want && (rc = count_value(&s, i, false)))
                return rc;
            if ((rc = skip_string(&s, &i)))
                return rc;
            want = false;
            break;
        default: /* the first character of a number or literal; json-c checks the rest */
            if (want && (rc = count_value(&s, i, false)))
                return rc;
            want = false;
            break;
        }
    }
    return 0;
}

int tams_json_parse_body(const char *data, size_t len, json_object **out, struct tams_buf *why)
{
    struct json_tokener *tok = NULL;
    enum json_tokener_error jerr;
    json_object *obj = NULL;
    size_t used;
    int rc = 0;

    *out = NULL;
    if (len > INT_MAX) {
        tams_buf_addstr(why, "the request body is too large to parse");
        return TAMS_ERR_TOOBIG;
    }
    if (memchr(data, '\0', len)) {
        tams_buf_addf(why, "%sNUL byte", not_json);
        return TAMS_ERR_BADJSON;
    }
    if ((rc = prescan(data, len, why)))
        return rc;
    tok = json_tokener_new_ex(TAMS_LIMIT_JSON_DEPTH);
    if (!tok)
        TAMS_BUG("json_tokener_new_ex failed");
    /* A spec API takes standard JSON only: no trailing commas, comments or bad UTF-8. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, data, (int)len);
    jerr = json_tokener_get_error(tok);
    used = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* Complete a trailing number/literal, or find the input truncated. The whole body was
         * consumed; json-c's parse end now counts from the start of this second chunk, so it
         * must not be used as an offset into the body. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue)
            jerr = json_tokener_error_parse_eof;
        used = len;
    }
    if (jerr != json_tokener_success) {
        tams_buf_addf(why, "%s%s at offset %zu", not_json, json_tokener_error_desc(jerr), used);
        rc = TAMS_ERR_BADJSON;
        goto out;
    }
    /* Only whitespace may follow the value. */
    for (size_t i = used; i < len; i++) {
        if (!is_ws(data[i])) {
            tams_buf_addf(why, "%sunexpected data at offset %zu", not_json, i);
            rc = TAMS_ERR_BADJSON;
            goto out;
        }
    }
out:
    if (rc) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    *out = obj;
    return rc;
}
