/* SPDX-License-Identifier: Apache-2.0 */
/* server_int.h - what server.c and gate.c share: the server and the per-request box.
 * Internal to src/http; nothing outside includes it. */
#ifndef TAMS_HTTP_SERVER_INT_H
#define TAMS_HTTP_SERVER_INT_H

#include "core/common.h"
#include "auth/auth.h"
#include "http/conns.h"
#include "http/route.h"
#include "http/server.h"

#include <microhttpd.h>

struct tams_http_server {
    struct MHD_Daemon *daemon;
    const struct tams_route_table *routes; /* at the root: the root version's and extensions */
    const char *root_version;              /* the version the root serves */
    enum tams_api root_api;                /* the same, as handlers see it */
    const struct tams_api_version *versions;
    size_t nversions;
    struct tams_route_table *prefixed; /* per version: its table without the root-only routes */
    const char **route_names;
    struct tams_metrics *metrics;
    void *app;
    size_t max_body;
    bool access_log;
    char *public_url;              /* without trailing slash, "" when not set */
    char *mount_prefix;            /* path part of public_url, "" when none */
    char *cors;                    /* "" = off */
    char *listen_authority;        /* host:port for base URLs when no Host header */
    char *base_url;                /* public_url, else http://listen_authority */
    struct tams_url_base url_base; /* public_url, mount_prefix, listen_authority for requests */
    struct tams_auth *auth;        /* NULL: no credential checks */
    struct tams_conns *conns;      /* the connection guard */
    uint16_t port;
    int inflight;
    int stopping; /* set by tams_http_stop: new connections are turned away */
};

struct req_box {
    struct tams_req req;
    struct tams_http_server *server;
    const struct tams_route_table *table; /* what the path is matched against */
    size_t route_index;
    const char *method_name;
    struct tams_auth_pending *auth_pending; /* a password check decided before the handler */
};

static inline struct tams_http_server *server_of(const struct tams_req *req)
{
    return ((const struct req_box *)req)->server;
}

/* gate.c: who may ask what, before a handler runs. */

/* CORS headers on an answer to an allowed origin. */
void tams_gate_add_cors(struct tams_req *req);
/* For tams_auth_pending_park: suspend the connection while a password is checked. */
void tams_gate_suspend_conn(void *conn);
/* Applies the outcome of a credential check: the principal and its scopes, or 401/429 sent and
 * -1 returned. */
int tams_gate_authenticated(struct req_box *box, enum tams_auth_outcome outcome,
                            const struct tams_auth_result *res);
/* Who is asking? Sends 401 or 429 and returns -1 when the credential is missing or wrong; with
 * may_wait a password check may be left pending in box->auth_pending (see gate.c). */
int tams_gate_authenticate(struct req_box *box, bool may_wait);
/* May the authenticated principal do this? Sends 403 and returns -1 when not. */
int tams_gate_check_scopes(struct req_box *box, enum tams_method method);
/* Is the path one that needs no credential (m and allowed from tams_route_match)? */
bool tams_gate_path_is_open(struct req_box *box, enum tams_route_match m,
                            const struct tams_route *route, const char *path, unsigned allowed);
/* The answer to OPTIONS: the path's methods, and CORS preflight headers for an allowed origin. */
void tams_gate_answer_options(struct req_box *box, enum tams_route_match m, const char *path,
                              unsigned allowed);

#endif
