/* SPDX-License-Identifier: Apache-2.0 */
/* server.h - the HTTP gate on libmicrohttpd.
 *
 * Connections first pass the guard (http/conns.h): caps on connections, the request-head
 * deadline, half-closed clients. Then one fixed order before any handler runs: the head's
 * framing (400 and close, http/head.h), the target (414, 400), authentication (401 with
 * WWW-Authenticate, 429 when throttled) unless the path is open (TAMS_ROUTE_OPEN, or
 * TAMS_ROUTE_METRICS with metrics_public), so that an anonymous caller learns nothing of the
 * route table; then the route (404), the method (405 with Allow), scopes (403), body size (413),
 * content type (400), JSON syntax (400). OPTIONS answers without credentials: per path while
 * authentication is off, alike for every path while it is in force. Authentication runs as soon
 * as the headers are in, before any body byte; a password check (auth/auth.h) on a route that
 * exists may then still be pending: the body is read meanwhile and the connection is suspended,
 * holding no thread, until the check is done, and the scopes are checked then. Then exactly one
 * handler runs on a worker thread; its response is queued on the handler call after the body is
 * complete (never on the first call, which would make libmicrohttpd close keep-alive
 * connections). Every request gets one JSON access-log line and a metrics observation.
 */
#ifndef TAMS_HTTP_SERVER_H
#define TAMS_HTTP_SERVER_H

#include "core/common.h"
#include "http/metrics.h"
#include "http/route.h"

struct tams_http_config {
    const char *host;         /* literal address or hostname */
    uint16_t port;            /* 0 = any free port */
    int threads;              /* worker threads; 0 = number of cores */
    size_t max_body;          /* request body cap, bytes */
    const char *cors_origins; /* "" = off, "*" or comma-separated origins */
    bool access_log;
    int connection_timeout; /* seconds an idle or stalled connection is kept */
    int header_timeout;     /* seconds from accept to the end of a request head (http/conns.h) */
    int max_connections;    /* client connections open at once; more are refused */
    int max_per_address;    /* from one client address (IPv6: one /64); 0: no such cap */
    const char *public_url; /* "" = derive from the Host header */
    struct tams_auth *auth; /* credential checks (auth/auth.h); NULL: none */
    /* The versions served under "/tams/v" VERSION (route.h); their tables are views of the
     * routes given to tams_http_start, without its TAMS_ROUTE_ROOT_ONLY routes. */
    const struct tams_api_version *versions;
    size_t nversions;
    const char *root_version; /* the version the root paths serve (req->api_version there) */
};

struct tams_http_server;

/* Starts listening and serving. app is handed to handlers as req->app. routes is what the root
 * serves: the root version's routes and the extensions; the route tables and versions must
 * outlive the server. *out is set before the first request can run (a handler may reach the
 * server through app at once); NULL after an error. */
int tams_http_start(struct tams_http_server **out, const struct tams_http_config *cfg,
                    const struct tams_route_table *routes, void *app, struct tams_buf *why);
uint16_t tams_http_port(const struct tams_http_server *s);
/* The API's absolute base URL as the server alone knows it: public_url when set, else
 * http://host:port of the listening socket ([host] for IPv6). Valid until tams_http_stop. */
const char *tams_http_base_url(const struct tams_http_server *s);
struct tams_metrics *tams_http_metrics(struct tams_http_server *s);
/* Stop accepting, let in-flight requests finish (at most timeout_ms), close everything. */
void tams_http_stop(struct tams_http_server *s, int timeout_ms);

#endif
