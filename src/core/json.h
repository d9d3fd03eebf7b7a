/* SPDX-License-Identifier: Apache-2.0 */
/* json.h - streaming JSON writer into a capped tams_buf.
 *
 * The writer tracks commas itself: call key() before each member value inside an object.
 * Strings are escaped; invalid UTF-8 bytes are written as U+FFFD so output is always valid JSON.
 * tams_json_raw() splices an already-serialised JSON value (a stored document) as a value.
 * Nesting deeper than TAMS_JSON_MAX_DEPTH is a bug. Errors (over the cap) stick in the buffer:
 * check tams_buf_ok(j->b) once at the end.
 */
#ifndef TAMS_CORE_JSON_H
#define TAMS_CORE_JSON_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_JSON_MAX_DEPTH 64

struct tams_json {
    struct tams_buf *b;
    int _depth;
    uint64_t _has_items; /* bit d: the container at depth d already holds an item */
    bool _after_key;
};

void tams_json_init(struct tams_json *j, struct tams_buf *b);
void tams_json_obj_open(struct tams_json *j);
void tams_json_obj_close(struct tams_json *j);
void tams_json_arr_open(struct tams_json *j);
void tams_json_arr_close(struct tams_json *j);
void tams_json_key(struct tams_json *j, const char *key);
void tams_json_str(struct tams_json *j, const char *s);
void tams_json_strn(struct tams_json *j, const char *s, size_t n);
void tams_json_int(struct tams_json *j, int64_t v);
void tams_json_bool(struct tams_json *j, bool v);
void tams_json_null(struct tams_json *j);
void tams_json_raw(struct tams_json *j, const char *text, size_t n);

/* Member shorthands: key + value. */
void tams_json_kstr(struct tams_json *j, const char *key, const char *s);
void tams_json_kint(struct tams_json *j, const char *key, int64_t v);
void tams_json_kbool(struct tams_json *j, const char *key, bool v);

/* Append s to b as a JSON string literal (quotes included). */
void tams_json_escape(struct tams_buf *b, const char *s, size_t n);

#endif
