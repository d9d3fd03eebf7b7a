/* SPDX-License-Identifier: Apache-2.0 */
/* limits.h - hard limits on what a client may send; past one the answer is a 4xx. */
#ifndef TAMS_HTTP_LIMITS_H
#define TAMS_HTTP_LIMITS_H

#define TAMS_LIMIT_URI_BYTES 8192              /* raw request target */
#define TAMS_LIMIT_QUERY_PARAMS 128            /* name=value pairs in one query string */
#define TAMS_LIMIT_PATH_PARAMS 8               /* {placeholders} in one route */
#define TAMS_LIMIT_JSON_DEPTH 64               /* nesting of request bodies */
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

#endif
