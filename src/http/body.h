/* SPDX-License-Identifier: Apache-2.0 */
/* body.h - parsing a JSON request body with the server's limits. Pure: no request, no socket.
 *
 * tams_json_parse_body() parses exactly one JSON value from data[0, len): nesting is capped at
 * TAMS_LIMIT_JSON_DEPTH, a NUL byte anywhere is rejected, and only whitespace may follow the
 * value. On success it returns 0 and *out owns the value (json_object_put() it; NULL for a
 * body of `null`). On failure it returns TAMS_ERR_BADJSON (or TAMS_ERR_TOOBIG when len does
 * not fit json-c's int), *out is NULL and `why` receives the summary for the 400, e.g.
 * "the request body is not valid JSON: unexpected end of data at offset 3".
 * json-c runs in its default (lenient) mode, as the server always has.
 */
#ifndef TAMS_HTTP_BODY_H
#define TAMS_HTTP_BODY_H

#include "core/common.h"
#include "core/buf.h"

#include <json-c/json.h>

int tams_json_parse_body(const char *data, size_t len, json_object **out, struct tams_buf *why);

#endif
