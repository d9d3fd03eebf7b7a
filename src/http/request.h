/* SPDX-License-Identifier: Apache-2.0 */
/* request.h - one HTTP request and its response, as handlers see them.
 *
 * Lifecycle: the gate (http/server.c) creates the request, routes it, checks method, credential
 * and scopes (setting req->principal), body size, content type and JSON syntax, then calls
 * exactly one handler. The handler fills the response
 * through the functions below (it never touches a socket) and returns. Everything allocated
 * from req->pool, and req->json, is freed when the request ends.
 * Handlers run on the server's worker threads and may block briefly (store calls).
 */
#ifndef TAMS_HTTP_REQUEST_H
#define TAMS_HTTP_REQUEST_H

#include "core/common.h"
#include "core/buf.h"
#include "core/pool.h"

#include <json-c/json.h>

enum tams_method {
    TAMS_GET = 1 << 0,
    TAMS_HEAD = 1 << 1,
    TAMS_PUT = 1 << 2,
    TAMS_POST = 1 << 3,
    TAMS_DELETE = 1 << 4,
    TAMS_OPTIONS = 1 << 5,
};

struct tams_kv {
    const char *name;
    const char *value; /* "" for `?name` and `?name=` alike */
};

struct tams_header {
    const char *name, *value;
};

struct tams_route;

/* The TAMS versions served (docs/api-versions.md). Handlers that answer differently per version
 * test req->api; the store keeps the newest shape and 7.0 is a view of it. */
enum tams_api {
    TAMS_API_70,
    TAMS_API_82,
};
#define TAMS_API_COUNT 2

/* What base URLs are made of: the server's settings, shared by its requests. */
struct tams_url_base {
    const char *public_url;   /* without trailing slash, "" when not set */
    const char *mount_prefix; /* path part of public_url, "" when none */
    const char *authority;    /* host:port the server listens on, for requests without Host */
};

struct tams_req {
    /* public, read-only */
    enum tams_method method;    /* HEAD requests run GET handlers with method == TAMS_HEAD */
    const char *raw_target;     /* request target as received (path and query, not decoded) */
    const char *raw_path;       /* the path part, not decoded, mount and version prefix removed */
    const char *api_version;    /* the TAMS version asked for: by prefix, else the root's */
    enum tams_api api;          /* the same, for handlers to branch on */
    const char *version_prefix; /* "/tams/v7.0" when the request came under it, else "" */
    const char *raw_query;      /* after '?', not decoded, NULL when absent */
    const struct tams_route *route;
    const char *params[8]; /* decoded path parameters, in route order */
    struct tams_kv *query; /* decoded query parameters, in request order */
    size_t nquery;
    struct tams_buf body; /* raw request body */
    json_object *json;    /* parsed body for TAMS_ROUTE_JSON_BODY routes, else NULL */
    const char *request_id;
    /* The principal namespaced by kind ("user:NAME", auth/auth.h), what owns things; NULL when
     * anonymous. */
    const char *principal_id;
    const char *principal; /* authenticated name, NULL when anonymous */
    unsigned scopes;       /* the principal's enum tams_scope bits (auth/scopes.h); all of them
                              when no authentication is in force, 0 on open routes */
    void *app;             /* the application context given to tams_http_start */
    void *sink_state;      /* owned by the route's body sink, if any */
    struct tams_pool pool;

    /* response, filled by the respond functions */
    int status;
    struct tams_header *headers;
    size_t nheaders, _capheaders;
    struct tams_buf out;
    bool responded;
    int _file_fd; /* >= 0: the body is this file's range, sent by the kernel */
    uint64_t _file_off, _file_len;

    /* private to the gate */
    void *_conn;
    const struct tams_url_base *_url_base;
    int64_t _start_us;
    bool _body_toobig;
    size_t _body_seen;
    bool _started;
    bool _routed;    /* routing ran (on the first call) */
    bool _streaming; /* the body goes to the route's sink */
    bool _queued;    /* the response went to libmicrohttpd */
};

/* Query access. get() returns the first value of name, or NULL when absent. */
const char *tams_req_query_get(const struct tams_req *req, const char *name);
size_t tams_req_query_count(const struct tams_req *req, const char *name);
/* Request header by case-insensitive name, or NULL. */
const char *tams_req_header(const struct tams_req *req, const char *name);

/* The absolute base URL of this API (public_url, or scheme://Host of the request plus the
 * mount prefix) and the version prefix the request came under, without a trailing slash: links
 * made from it lead back to the same version. */
const char *tams_req_base_url(struct tams_req *req);

#endif
