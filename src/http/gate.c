/* SPDX-License-Identifier: Apache-2.0 */
/* gate.c - the checks a request passes before its handler: CORS, credentials, scopes, OPTIONS.
 * The order they run in is server.c's (route_request); this file says what each decides. */
#include "core/common.h"
#include "core/buf.h"
#include "auth/auth.h"
#include "auth/scopes.h"
#include "http/limits.h"
#include "http/respond.h"
#include "http/server_int.h"

#include <strings.h>

static const char expose_headers[] = "Link, Location, X-Paging-Limit, X-Paging-NextKey, "
                                     "X-Paging-Count, X-Paging-Timerange, "
                                     "X-Paging-Reverse-Order, X-Request-Id";

static bool origin_allowed(const struct tams_http_server *s, const char *origin)
{
    const char *p = s->cors;
    size_t olen;
    if (!s->cors[0] || !origin)
        return false;
    if (strcmp(s->cors, "*") == 0)
        return true;
    olen = strlen(origin);
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (len == olen && memcmp(p, origin, len) == 0)
            return true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

void tams_gate_add_cors(struct tams_req *req)
{
    struct tams_http_server *s = server_of(req);
    const char *origin = tams_req_header(req, "Origin");
    if (!origin_allowed(s, origin))
        return;
    tams_res_header(req, "Access-Control-Allow-Origin", strcmp(s->cors, "*") ? origin : "*");
    tams_res_header(req, "Vary", "Origin");
    tams_res_header(req, "Access-Control-Expose-Headers", expose_headers);
}

/* Every X-Forwarded-For line, joined with "," in order, or NULL. */
static enum MHD_Result add_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct tams_buf *b = cls;
    (void)kind;
    if (value && strcasecmp(key, "X-Forwarded-For") == 0) {
        if (b->len)
            tams_buf_addch(b, ',');
        tams_buf_addstr(b, value);
    }
    return MHD_YES;
}

static const char *forwarded_for(struct tams_req *req)
{
    struct tams_buf b = TAMS_BUF_INIT(TAMS_LIMIT_CONN_MEMORY);
    const char *out = NULL;
    MHD_get_connection_values(req->_conn, MHD_HEADER_KIND, add_xff, &b);
    if (b.len && tams_buf_ok(&b))
        out = tams_pool_strdup(&req->pool, b.data);
    tams_buf_release(&b);
    return out;
}

static void resume_conn(void *conn)
{
    MHD_resume_connection(conn);
}

void tams_gate_suspend_conn(void *conn)
{
    MHD_suspend_connection(conn);
}

/* Applies the outcome of a credential check: the principal and its scopes, or 401/429 sent and
 * -1 returned. */
int tams_gate_authenticated(struct req_box *box, enum tams_auth_outcome outcome,
                            const struct tams_auth_result *res)
{
    struct tams_req *req = &box->req;
    char secs[16];

    switch (outcome) {
    case TAMS_AUTH_OFF:
        req->scopes = TAMS_SCOPE_ALL;
        return 0;
    case TAMS_AUTH_OK:
        req->principal = tams_pool_strdup(&req->pool, res->name);
        req->principal_id = tams_pool_strdup(&req->pool, res->principal);
        req->scopes = res->scopes;
        return 0;
    case TAMS_AUTH_THROTTLED:
    case TAMS_AUTH_BUSY:
        snprintf(secs, sizeof(secs), "%d", res->retry_after);
        tams_res_header(req, "Retry-After", secs);
        if (outcome == TAMS_AUTH_BUSY)
            tams_send_error(req, TAMS_ERR_TOOMANY,
                            "too many password checks are waiting; retry in %d s (an API token "
                            "or a JWT needs none)",
                            res->retry_after);
        else
            tams_send_error(req, TAMS_ERR_TOOMANY,
                            res->unknown ? "too many failed authentications naming no known user "
                                           "or token from this address; retry in %d s"
                                         : "too many failed authentications of this user or "
                                           "token from this address; retry in %d s",
                            res->retry_after);
        return -1;
    case TAMS_AUTH_MISSING:
        tams_res_header(req, "WWW-Authenticate", TAMS_AUTH_CHALLENGE);
        tams_send_error(req, TAMS_ERR_UNAUTHORIZED,
                        "authentication required: use Basic, Bearer or access_token");
        return -1;
    default:
        tams_res_header(req, "WWW-Authenticate", TAMS_AUTH_CHALLENGE);
        tams_send_error(req, TAMS_ERR_UNAUTHORIZED, "the credential is not valid");
        return -1;
    }
}

/* Who is asking? Sends 401 or 429 and returns -1 when authentication is in force and the
 * credential is missing or wrong. With may_wait, a password check may be left pending
 * (box->auth_pending): on_request waits for it, without holding this thread, before the
 * handler runs, and checks the scopes then. Without it (a body sink runs at once; a refusal
 * that depends on the route must wait for the credential) the check is done here. */
int tams_gate_authenticate(struct req_box *box, bool may_wait)
{
    struct tams_req *req = &box->req;
    struct tams_http_server *s = box->server;
    struct tams_auth_input in = {0};
    struct tams_auth_result res;
    const union MHD_ConnectionInfo *ci;
    enum tams_auth_outcome outcome;

    in.authorization = tams_req_header(req, "Authorization");
    in.access_token = tams_req_query_get(req, "access_token");
    in.forwarded_for = forwarded_for(req);
    ci = MHD_get_connection_info(req->_conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    in.client = ci ? ci->client_addr : NULL;
    if (may_wait) {
        in.wake = resume_conn;
        in.wake_ctx = req->_conn;
    }
    outcome = tams_auth_check(s->auth, &in, &res, &box->auth_pending);
    if (outcome == TAMS_AUTH_PENDING)
        return 0;
    return tams_gate_authenticated(box, outcome, &res);
}

/* May the authenticated principal do this? Sends 403 and returns -1 when not. */
int tams_gate_check_scopes(struct req_box *box, enum tams_method method)
{
    struct tams_req *req = &box->req;
    struct tams_buf want = TAMS_BUF_INIT(64);
    unsigned needed;

    if (tams_scopes_allow(req->scopes, tams_method_name(method), &needed))
        return 0;
    tams_scopes_format(needed, &want);
    tams_auth_note_forbidden(box->server->auth);
    tams_send_error(req, TAMS_ERR_FORBIDDEN, "%s needs the '%s' scope, which '%s' lacks",
                    box->method_name, want.data, req->principal ? req->principal : "-");
    tams_buf_release(&want);
    return -1;
}

static bool route_is_open(const struct tams_http_server *s, const struct tams_route *route)
{
    return (route->flags & TAMS_ROUTE_OPEN) ||
           ((route->flags & TAMS_ROUTE_METRICS) && tams_auth_metrics_public(s->auth));
}

/* Is the path one that needs no credential? For a path that exists but not with this method
 * (allowed holds its methods), the route of any of its methods tells. */
bool tams_gate_path_is_open(struct req_box *box, enum tams_route_match m,
                            const struct tams_route *route, const char *path, unsigned allowed)
{
    struct tams_http_server *s = box->server;
    if (m == TAMS_ROUTE_FOUND)
        return route_is_open(s, route);
    if (m != TAMS_ROUTE_NO_METHOD)
        return false;
    for (unsigned bit = 1; bit <= TAMS_OPTIONS; bit <<= 1) {
        const struct tams_route *r = NULL;
        const char *params[TAMS_LIMIT_PATH_PARAMS];
        unsigned ignored;
        if ((allowed & bit) &&
            tams_route_match(box->table, path, (enum tams_method)bit, &box->req.pool, &r, params,
                             &ignored) == TAMS_ROUTE_FOUND &&
            route_is_open(s, r))
            return true;
    }
    return false;
}

/* OPTIONS: the path's methods, and CORS preflight headers for an allowed origin. While
 * authentication is in force it answers alike for every path, existing or not, so that it
 * reveals nothing to a caller without credentials (preflights never carry any). */
void tams_gate_answer_options(struct req_box *box, enum tams_route_match m, const char *path,
                              unsigned allowed)
{
    struct tams_req *req = &box->req;
    struct tams_http_server *s = box->server;
    struct tams_buf allow = TAMS_BUF_INIT(256);
    const char *origin = tams_req_header(req, "Origin");

    if (s->auth && tams_auth_in_force(s->auth)) {
        allowed = TAMS_GET | TAMS_HEAD | TAMS_PUT | TAMS_POST | TAMS_DELETE;
    } else if (m == TAMS_ROUTE_NO_PATH) {
        tams_send_error(req, TAMS_ERR_NOROUTE, "no resource at '%s'", path);
        return;
    } else if (m == TAMS_ROUTE_BAD_ENCODING) {
        tams_send_error(req, TAMS_ERR_BADREQUEST,
                        "the path has invalid percent-encoding or a NUL byte");
        return;
    }
    tams_methods_format(allowed | TAMS_OPTIONS, &allow);
    tams_res_header(req, "Allow", allow.data);
    if (origin_allowed(s, origin)) {
        tams_res_header(req, "Access-Control-Allow-Methods", allow.data);
        tams_res_header(req, "Access-Control-Allow-Headers",
                        "Authorization, Content-Type, X-Request-Id");
        tams_res_header(req, "Access-Control-Max-Age", "600");
    }
    tams_send_empty(req, 204);
    tams_buf_release(&allow);
}
