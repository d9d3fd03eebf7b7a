/* SPDX-License-Identifier: Apache-2.0 */
/* json.c - streaming JSON writer. */
#include "core/common.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/utf8.h"

void tams_json_init(struct tams_json *j, struct tams_buf *b)
{
    j->b = b;
    j->_depth = 0;
    j->_has_items = 0;
    j->_after_key = false;
}

/* Called before every value and key: writes the separating comma when needed. */
static void before_item(struct tams_json *j)
{
    uint64_t bit = 1ull << j->_depth;
    if (j->_after_key) {
        j->_after_key = false;
        return;
    }
    if (j->_has_items & bit)
        tams_buf_addch(j->b, ',');
    j->_has_items |= bit;
}

static void open_container(struct tams_json *j, char c)
{
    before_item(j);
    tams_buf_addch(j->b, c);
    if (++j->_depth >= TAMS_JSON_MAX_DEPTH)
        TAMS_BUG("json writer nested too deep");
    j->_has_items &= ~(1ull << j->_depth);
}

static void close_container(struct tams_json *j, char c)
{
    tams_assert(j->_depth > 0 && !j->_after_key);
    j->_depth--;
    tams_buf_addch(j->b, c);
}

void tams_json_obj_open(struct tams_json *j)
{
    open_container(j, '{');
}

void tams_json_obj_close(struct tams_json *j)
{
    close_container(j, '}');
}

void tams_json_arr_open(struct tams_json *j)
{
    open_container(j, '[');
}

void tams_json_arr_close(struct tams_json *j)
{
    close_container(j, ']');
}

void tams_json_escape(struct tams_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the pending run of bytes that need no escaping */

    tams_buf_addch(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t seq = 1;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            seq = tams_utf8_decode(p + i, n - i, NULL);
            if (seq) {
                i += seq;
                continue;
            }
            esc = "\\ufffd";
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else {
            ubuf[0] = '\\', ubuf[1] = 'u', ubuf[2] = '0', ubuf[3] = '0';
            ubuf[4] = tams_hex_lower[c >> 4], ubuf[5] = tams_hex_lower[c & 15], ubuf[6] = '\0';
            esc = ubuf;
        }
        tams_buf_add(b, s + run, i - run);
        tams_buf_addstr(b, esc);
        i += 1;
        run = i;
    }
    tams_buf_add(b, s + run, n - run);
    tams_buf_addch(b, '"');
}

void tams_json_key(struct tams_json *j, const char *key)
{
    before_item(j);
    tams_json_escape(j->b, key, strlen(key));
    tams_buf_addch(j->b, ':');
    j->_after_key = true;
}

void tams_json_strn(struct tams_json *j, const char *s, size_t n)
{
    before_item(j);
    tams_json_escape(j->b, s, n);
}

void tams_json_str(struct tams_json *j, const char *s)
{
    tams_json_strn(j, s, strlen(s));
}

void tams_json_int(struct tams_json *j, int64_t v)
{
    before_item(j);
    tams_buf_addf(j->b, "%" PRId64, v);
}

void tams_json_bool(struct tams_json *j, bool v)
{
    before_item(j);
    tams_buf_addstr(j->b, v ? "true" : "false");
}

void tams_json_null(struct tams_json *j)
{
    before_item(j);
    tams_buf_addstr(j->b, "null");
}

void tams_json_raw(struct tams_json *j, const char *text, size_t n)
{
    before_item(j);
    tams_buf_add(j->b, text, n);
}

void tams_json_kstr(struct tams_json *j, const char *key, const char *s)
{
    tams_json_key(j, key);
    tams_json_str(j, s);
}

void tams_json_kint(struct tams_json *j, const char *key, int64_t v)
{
    tams_json_key(j, key);
    tams_json_int(j, v);
}

void tams_json_kbool(struct tams_json *j, const char *key, bool v)
{
    tams_json_key(j, key);
    tams_json_bool(j, v);
}
