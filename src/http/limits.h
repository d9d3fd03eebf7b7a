/* SPDX-License-Identifier: Apache-2.0 */
/* limits.h - hard limits on what a client may send; past one the answer is a 4xx. */
#ifndef TAMS_HTTP_LIMITS_H
#define TAMS_HTTP_LIMITS_H

#define TAMS_LIMIT_URI_BYTES 8192              /* raw request target */
#define TAMS_LIMIT_QUERY_PARAMS 128            /* name=value pairs in one query string */
#define TAMS_LIMIT_PATH_PARAMS 8               /* {placeholders} in one route */
#define TAMS_LIMIT_REQUEST_ID 128              /* accepted X-Request-Id length */
#define TAMS_LIMIT_RESPONSE_BYTES (256u << 20) /* one response body */
/* An oversized body is read and discarded (so the client can read the 413) up to the larger
 * of these; past that the answer comes at once and the connection is closed. */
#define TAMS_LIMIT_DISCARD_FACTOR 4
#define TAMS_LIMIT_DISCARD_MIN (64u << 20)
/* libmicrohttpd's per-connection memory: request line, headers and the read buffer. It clears
 * the whole pool for every request, so a larger pool costs time on every request (GET /service
 * against nginx: 0.56x at 64 KiB, 0.72x at 32 KiB, 0.88x at 16 KiB). 16 KiB holds the 8 KiB
 * target plus ordinary headers. libmicrohttpd's own split of the query (56 bytes a parameter)
 * would not fit and would leave the request unanswered, so the server hides the query from it
 * (http/server.c, on_uri) and parses it itself. */
#define TAMS_LIMIT_CONN_MEMORY (16u << 10)

/* JSON request bodies (http/body.c checks them before json-c builds anything). Depth is the
 * level of the deepest value, the body's own value being level 1: json-c's default, so a stored
 * document always reads back with json_tokener_parse(). Members and items are per object and
 * per array. A body holds at most one value (object, array, string, number, literal) per
 * BYTES_PER_VALUE bytes of its length and one object or array per BYTES_PER_CONTAINER bytes,
 * or the _MIN counts when they are larger; that bounds what json-c allocates for a body to a
 * multiple of its length (docs/internals/request-memory.md). Every TAMS body is far sparser:
 * a segment is one object per 80 or so bytes, one value per 15 or so. */
#define TAMS_LIMIT_JSON_DEPTH 32
#define TAMS_LIMIT_JSON_MEMBERS 4096
#define TAMS_LIMIT_JSON_ITEMS 262144
#define TAMS_LIMIT_JSON_BYTES_PER_VALUE 8
#define TAMS_LIMIT_JSON_BYTES_PER_CONTAINER 32
#define TAMS_LIMIT_JSON_VALUES_MIN 16384
#define TAMS_LIMIT_JSON_CONTAINERS_MIN 1024

#endif
