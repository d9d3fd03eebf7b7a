/* SPDX-License-Identifier: Apache-2.0 */
/* route.h - the declarative route table and its matcher.
 *
 * A pattern is a path of literal segments and {name} placeholders, e.g.
 * "/flows/{flowId}/tags/{name}". A placeholder matches one non-empty raw segment and is
 * percent-decoded after matching, so an encoded '/' (%2F) stays inside its parameter. A final
 * placeholder written {name*} matches the whole rest of the path (several segments). GET routes
 * also answer HEAD.
 */
#ifndef TAMS_HTTP_ROUTE_H
#define TAMS_HTTP_ROUTE_H

#include "core/common.h"
#include "http/request.h"

typedef void (*tams_handler_fn)(struct tams_req *req);

enum tams_route_flags {
    TAMS_ROUTE_JSON_BODY = 1 << 0,     /* body must be application/json and parse */
    TAMS_ROUTE_BODY_REQUIRED = 1 << 1, /* an empty body is a 400 */
    TAMS_ROUTE_RAW_BODY = 1 << 2,      /* any content type; handler reads req->body */
    TAMS_ROUTE_NO_LOG = 1 << 3,        /* keep out of the access log (health checks) */
    TAMS_ROUTE_OPEN = 1 << 4,          /* no credential needed (/health; URL-signed objects) */
    TAMS_ROUTE_METRICS = 1 << 5,       /* open when metrics_public is set */
    TAMS_ROUTE_ROOT_ONLY = 1 << 6,     /* an extension: never under a version prefix */
    TAMS_ROUTE_ONLY_70 = 1 << 7,       /* TAMS 7.0 only: not in the 8.2 table */
    TAMS_ROUTE_ONLY_82 = 1 << 8,       /* TAMS 8.2 only: new in 8.x, not in the 7.0 table */
};

/* A route that streams its body instead of buffering it (media uploads). open() runs once the
 * request is routed, before any body byte; write() for each chunk as it arrives; the handler
 * runs when the body is complete. Either of the first two may send an error and return
 * non-zero: the rest of the body is then discarded and that error is the answer. abort() runs
 * when the request ends, whatever happened; it frees what open() made unless the handler
 * cleared req->sink_state. */
struct tams_body_sink {
    int (*open)(struct tams_req *req);
    int (*write)(struct tams_req *req, const char *data, size_t n);
    void (*abort)(struct tams_req *req);
};

struct tams_route {
    unsigned methods; /* enum tams_method bits */
    const char *pattern;
    tams_handler_fn handler;
    unsigned flags;
    const char *name; /* route template for logs and metrics; defaults to pattern */
    const struct tams_body_sink *sink; /* NULL: the body is buffered (max_body_bytes) */
};

struct tams_route_table {
    const struct tams_route *routes;
    size_t nroutes;
    unsigned skip; /* routes with any of these flags are not matched (a view of the table) */
};

/* The TAMS versions a server knows, each served under its prefix "/tams/v" VERSION from its own
 * table (docs/api-versions.md). routes NULL: named but not served yet, its prefix answers 404. */
#define TAMS_VERSION_PREFIX "/tams/v"
struct tams_api_version {
    const char *version; /* "7.0" */
    const struct tams_route_table *routes;
    enum tams_api api; /* what handlers see in req->api */
};

/* Does raw_path start with a version prefix ("/tams/v7.0" followed by '/' or the end)? Returns
 * the index in v[] of the version it names and sets *rest to the path after the prefix ("/" when
 * nothing follows), or -1 when the path names none of them. */
int tams_route_version(const struct tams_api_version *v, size_t n, const char *raw_path,
                       const char **rest);

enum tams_route_match {
    TAMS_ROUTE_FOUND,
    TAMS_ROUTE_NO_PATH,      /* 404 */
    TAMS_ROUTE_NO_METHOD,    /* 405; *allowed holds the methods the path supports */
    TAMS_ROUTE_BAD_ENCODING, /* 400: a path parameter fails tams_url_decode */
};

/* Match raw_path (not decoded) and method. On FOUND, *route is set and params[] receive the
 * decoded parameters (allocated from pool). */
enum tams_route_match tams_route_match(const struct tams_route_table *t, const char *raw_path,
                                       enum tams_method method, struct tams_pool *pool,
                                       const struct tams_route **route, const char **params,
                                       unsigned *allowed);

/* Percent-decode n bytes into a new pool string (core/percent.h). plus_is_space for query
 * strings. Returns NULL on a bad escape, a decoded NUL byte or text that is not strict UTF-8
 * (core/utf8.h). */
char *tams_url_decode(struct tams_pool *pool, const char *s, size_t n, bool plus_is_space);
/* Parse a raw query string into decoded pairs. Returns 0, or TAMS_ERR_BADQUERY (bad escape,
 * NUL byte or invalid UTF-8, tams_url_decode) or TAMS_ERR_TOOBIG (too many parameters). */
int tams_query_parse(struct tams_pool *pool, const char *raw, struct tams_kv **out, size_t *n);
/* "GET, HEAD, PUT" for an Allow header. */
void tams_methods_format(unsigned methods, struct tams_buf *b);
const char *tams_method_name(enum tams_method m);

#endif
