/* SPDX-License-Identifier: Apache-2.0 */
/* body.c - one JSON value from a request body, with limits and a precise error message. */
#include "core/common.h"
#include "core/buf.h"
#include "http/body.h"
#include "http/limits.h"

#include <limits.h>

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
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
        tams_buf_addstr(why, "the request body is not valid JSON: NUL byte");
        return TAMS_ERR_BADJSON;
    }
    tok = json_tokener_new_ex(TAMS_LIMIT_JSON_DEPTH);
    if (!tok)
        TAMS_BUG("json_tokener_new_ex failed");
    /* A spec API takes standard JSON only: no trailing commas, single quotes, NaN or bad UTF-8. */
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
        tams_buf_addf(why, "the request body is not valid JSON: %s at offset %zu",
                      json_tokener_error_desc(jerr), used);
        rc = TAMS_ERR_BADJSON;
        goto out;
    }
    /* Only whitespace may follow the value. */
    for (size_t i = used; i < len; i++) {
        if (!is_ws(data[i])) {
            tams_buf_addf(why, "the request body is not valid JSON: unexpected data at offset %zu",
                          i);
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
