/* SPDX-License-Identifier: Apache-2.0 */
/* body.h - parsing a JSON request body with the server's limits. Pure: no request, no socket.
 *
 * tams_json_parse_body() parses exactly one JSON value (RFC 8259) from data[0, len). Before
 * json-c builds anything the body is checked: strict UTF-8 (core/utf8.h), no NUL byte, no raw
 * control character in a string, no \u escape of a lone surrogate, no single quotes, and the
 * limits of http/limits.h (nesting TAMS_LIMIT_JSON_DEPTH, TAMS_LIMIT_JSON_MEMBERS per object,
 * TAMS_LIMIT_JSON_ITEMS per array, values and arrays/objects for the body's length). Then
 * json-c parses in strict mode and only whitespace may follow the value.
 * On success it returns 0 and *out owns the value (json_object_put() it; NULL for a body of
 * `null`). On failure it returns TAMS_ERR_BADJSON (or TAMS_ERR_TOOBIG when len does not fit
 * json-c's int), *out is NULL and `why` receives the summary for the 400: "the request body is
 * not valid JSON: unexpected end of data at offset 3" for bad JSON, "the request body nests
 * deeper than 32 levels ... (at offset 40)" and the like for a limit; every one but the NUL
 * byte's names the offset.
 */
#ifndef TAMS_HTTP_BODY_H
#define TAMS_HTTP_BODY_H

#include "core/common.h"
#include "core/buf.h"

#include <json-c/json.h>

int tams_json_parse_body(const char *data, size_t len, json_object **out, struct tams_buf *why);

#endif
