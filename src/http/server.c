/* SPDX-License-Identifier: Apache-2.0 */
/* server.c - libmicrohttpd glue: request lifecycle, routing, access log, graceful stop. The
 * gate a request passes before its handler (credentials, scopes, CORS, OPTIONS) is gate.c. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/random.h"
#include "auth/auth.h"
#include "auth/scopes.h"
#include "http/body.h"
#include "http/conns.h"
#include "http/head.h"
#include "http/limits.h"
#include "http/respond.h"
#include "http/server.h"
#include "http/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Accept policy. Once stopping, a new connection is closed at once: the drain then only has to
 * wait for requests already running. (MHD_quiesce_daemon would refuse at the TCP level instead,
 * but with epoll and a thread pool it races its own workers and can abort the process, see
 * docs/decisions.md.) Otherwise the guard's caps decide. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct tams_http_server *s = cls;
    if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
        return MHD_NO;
    return tams_conns_admit(s->conns, addr, addrlen) ? MHD_YES : MHD_NO;
}

/* The server pointer rides in the request's app slot's neighbour: keep it in the pool header. */

static enum tams_method method_of(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return TAMS_GET;
    if (strcmp(m, "HEAD") == 0)
        return TAMS_HEAD;
    if (strcmp(m, "PUT") == 0)
        return TAMS_PUT;
    if (strcmp(m, "POST") == 0)
        return TAMS_POST;
    if (strcmp(m, "DELETE") == 0)
        return TAMS_DELETE;
    if (strcmp(m, "OPTIONS") == 0)
        return TAMS_OPTIONS;
    return 0;
}

/* Per connection: the request whose URI arrived but which has not completed. libmicrohttpd
 * does not report completion for a request it gives up on while parsing its head (for
 * example when the arguments overflow the connection's memory), so such a request is freed
 * when its connection closes instead. */
struct conn_ctx {
    struct req_box *pending;
    struct tams_conn *guard; /* NULL: not guarded (not admitted by the accept policy) */
};

static struct conn_ctx *conn_ctx_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void box_free(struct req_box *box)
{
    struct tams_req *req = &box->req;
    if (box->auth_pending)
        tams_auth_pending_cancel(box->auth_pending);
    if (req->route && req->route->sink && req->route->sink->abort)
        req->route->sink->abort(req);
    if (req->_file_fd >= 0)
        close(req->_file_fd);
    json_object_put(req->json);
    tams_buf_release(&req->body);
    tams_buf_release(&req->out);
    tams_pool_release(&req->pool);
    tams_free(box);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct tams_http_server *s = cls;
    struct conn_ctx *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = tams_calloc(1, sizeof(struct conn_ctx));
        if (info)
            c->guard = tams_conns_open(s->conns, info->connect_fd);
        *socket_context = c;
        return;
    }
    if (!c)
        return;
    tams_conns_close(s->conns, c->guard); /* before libmicrohttpd closes the socket */
    if (c->pending) {
        /* Abandoned without a completion call: it no longer holds up a shutdown either. */
        if (c->pending->req._started)
            __atomic_fetch_sub(&((struct tams_http_server *)cls)->inflight, 1, __ATOMIC_SEQ_CST);
        box_free(c->pending);
    }
    tams_free(c);
    *socket_context = NULL;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct tams_http_server *s = cls;
    struct conn_ctx *c = conn_ctx_of(conn);
    struct req_box *box = tams_calloc(1, sizeof(*box));
    struct tams_req *req = &box->req;

    box->server = s;
    box->route_index = s->routes->nroutes;
    box->method_name = "-";
    req->_conn = conn;
    req->_url_base = &s->url_base;
    req->_start_us = tams_clock_mono_us();
    req->app = s->app;
    tams_buf_init(&req->body, s->max_body);
    tams_buf_init(&req->out, TAMS_LIMIT_RESPONSE_BYTES);
    req->raw_target = tams_pool_strdup(&req->pool, uri ? uri : "");
    req->_file_fd = -1;
    /* libmicrohttpd next splits the query into its connection memory (56 bytes a parameter
     * besides the text), and 0.9.75 leaves the connection unanswered when they do not fit:
     * 300 short parameters in 16 KiB. The query is ours to parse (tams_query_parse, from
     * raw_target), so end libmicrohttpd's copy of it right after the '?'. That byte lies in
     * its writable read buffer: a byte of the target or the NUL that ends it. */
    if (uri && strchr(uri, '?'))
        ((char *)(uintptr_t)strchr(uri, '?'))[1] = '\0';
    if (c) {
        c->pending = box;
        tams_conns_head_started(c->guard);
    }
    return box;
}

static void set_request_id(struct tams_req *req)
{
    const char *given = tams_req_header(req, "X-Request-Id");
    bool ok = given && *given && strlen(given) <= TAMS_LIMIT_REQUEST_ID;
    for (const char *p = given; ok && *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            ok = false;
    if (ok) {
        req->request_id = given;
    } else {
        char *id = tams_pool_alloc(&req->pool, 33);
        snprintf(id, 33, "%016" PRIx64 "%016" PRIx64, tams_fast_random(), tams_fast_random());
        req->request_id = id;
    }
}

static bool is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    size_t n = sizeof(want) - 1;
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, want, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static int parse_body_json(struct tams_req *req)
{
    struct tams_buf why = TAMS_BUF_INIT(512);
    json_object *obj = NULL;
    int rc = tams_json_parse_body(req->body.data, req->body.len, &obj, &why);

    if (rc)
        tams_send_error(req, rc, "%s", why.data);
    tams_buf_release(&why);
    if (rc)
        return -1;
    req->json = obj; /* NULL for a body of `null` */
    return 0;
}

/* Split the target, authenticate and route it; runs as soon as the headers are in. On failure
 * the error response is ready (req->responded) and the body is discarded. */
static void route_request(struct req_box *box, enum tams_method method)
{
    struct tams_req *req = &box->req;
    struct tams_http_server *s = box->server;
    const struct tams_route *route = NULL;
    const char *qmark;
    const char *path;
    unsigned allowed = 0;
    enum tams_route_match m;
    const char *rest;
    bool open;
    int rc, vi;

    if (strlen(req->raw_target) > TAMS_LIMIT_URI_BYTES) {
        tams_send_error(req, TAMS_ERR_URITOOLONG, "the request target is longer than %d bytes",
                        TAMS_LIMIT_URI_BYTES);
        return;
    }
    qmark = strchr(req->raw_target, '?');
    path = tams_pool_strndup(&req->pool, req->raw_target,
                             qmark ? (size_t)(qmark - req->raw_target) : strlen(req->raw_target));
    req->raw_query = qmark ? qmark + 1 : NULL;
    if (s->mount_prefix[0]) {
        size_t pl = strlen(s->mount_prefix);
        if (strncmp(path, s->mount_prefix, pl) == 0 && (path[pl] == '/' || path[pl] == '\0'))
            path += pl;
        if (!*path)
            path = "/";
    }
    if (path[0] != '/') {
        tams_send_error(req, TAMS_ERR_BADREQUEST, "the request target must be an absolute path");
        return;
    }
    /* The version prefix, learnt once here for every route: handlers see the path after it, and
     * the base URL of their links keeps it (tams_req_base_url). */
    req->api_version = s->root_version;
    req->api = s->root_api;
    req->version_prefix = "";
    box->table = s->routes;
    vi = tams_route_version(s->versions, s->nversions, path, &rest);
    if (vi >= 0) {
        req->api_version = s->versions[vi].version;
        req->api = s->versions[vi].api;
        req->version_prefix = tams_pool_strndup(
            &req->pool, path, strlen(TAMS_VERSION_PREFIX) + strlen(req->api_version));
        box->table = s->prefixed[vi].routes ? &s->prefixed[vi] : NULL;
        path = rest;
    }
    req->raw_path = path;
    rc = tams_query_parse(&req->pool, req->raw_query, &req->query, &req->nquery);
    if (rc == TAMS_ERR_TOOBIG) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "too many query parameters (at most %d)",
                        TAMS_LIMIT_QUERY_PARAMS);
        return;
    }
    if (rc) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "the query string has invalid percent-encoding, "
                        "a NUL byte or text that is not UTF-8");
        return;
    }

    if (box->table)
        m = tams_route_match(box->table, path, method ? method : TAMS_OPTIONS, &req->pool, &route,
                             req->params, &allowed);
    else /* a version named but not served yet: nothing under its prefix */
        m = TAMS_ROUTE_NO_PATH;
    if (method == TAMS_OPTIONS) {
        tams_gate_answer_options(box, m, path, allowed);
        return;
    }
    /* The credential before anything that depends on the route table (404, 400 for a path
     * parameter, 405): an anonymous caller must not learn which paths exist. */
    open = !s->auth || tams_gate_path_is_open(box, m, route, path, allowed);
    if (!s->auth)
        req->scopes = TAMS_SCOPE_ALL;
    else if (!open && tams_gate_authenticate(box, m == TAMS_ROUTE_FOUND && !route->sink))
        return;
    if (m == TAMS_ROUTE_NO_PATH && !box->table) {
        tams_send_error(req, TAMS_ERR_NOROUTE, "TAMS %s is not served by this tamsd (yet)",
                        req->api_version);
        return;
    }
    if (m == TAMS_ROUTE_NO_PATH) {
        tams_send_error(req, TAMS_ERR_NOROUTE, "no resource at '%s'", path);
        return;
    }
    if (m == TAMS_ROUTE_BAD_ENCODING) {
        tams_send_error(req, TAMS_ERR_BADREQUEST,
                        "the path has invalid percent-encoding, a NUL byte or text that is not "
                        "UTF-8");
        return;
    }
    if (m == TAMS_ROUTE_NO_METHOD) {
        struct tams_buf allow = TAMS_BUF_INIT(256);
        tams_methods_format(allowed | TAMS_OPTIONS, &allow);
        tams_res_header(req, "Allow", allow.data);
        tams_send_error(req, TAMS_ERR_METHOD, "%s is not allowed on '%s'; allowed: %s",
                        box->method_name, path, allow.data);
        tams_buf_release(&allow);
        return;
    }
    req->route = route;
    req->method = method;
    /* Every table is a view of the one array the metrics are named from. */
    box->route_index = (size_t)(route - s->routes->routes);
    if (s->auth && !open && !box->auth_pending)
        tams_gate_check_scopes(box,
                               method); /* on refusal the answer is ready and the body discarded */
}

/* The head's fields tams_head_check looks at; the others are skipped. */
struct head_fields {
    struct tams_head_field f[16];
    size_t n; /* may pass the array's size: then too many to look at */
};

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct head_fields *h = cls;
    (void)kind;
    if (strcasecmp(key, "Host") != 0 && strcasecmp(key, "Content-Length") != 0 &&
        strcasecmp(key, "Transfer-Encoding") != 0 && !strpbrk(key, " \t"))
        return MHD_YES;
    if (h->n < TAMS_ARRAY_SIZE(h->f))
        h->f[h->n] = (struct tams_head_field){key, value};
    h->n++;
    return MHD_YES;
}

/* Host, Content-Length, Transfer-Encoding (http/head.h). Sends 400 and returns -1 when the
 * head's framing is not acceptable. */
static int check_head(struct req_box *box, const char *version)
{
    struct head_fields h = {.n = 0};
    struct tams_buf why = TAMS_BUF_INIT(256);
    int rc = TAMS_ERR_BADREQUEST;

    MHD_get_connection_values(box->req._conn, MHD_HEADER_KIND, collect_field, &h);
    if (h.n > TAMS_ARRAY_SIZE(h.f))
        tams_buf_addstr(&why, "the request repeats Host, Content-Length or Transfer-Encoding "
                              "too often");
    else
        rc = tams_head_check(version, h.f, h.n, &why);
    if (rc)
        tams_send_error(&box->req, rc, "%s", why.data);
    tams_buf_release(&why);
    return rc ? -1 : 0;
}

/* The body is complete: check it and run the handler. Fills the response. */
static void run_handler(struct req_box *box)
{
    struct tams_req *req = &box->req;
    struct tams_http_server *s = box->server;
    const struct tams_route *route = req->route;

    if (req->_body_toobig) {
        tams_send_error(req, TAMS_ERR_TOOBIG, "the request body is larger than %zu bytes",
                        s->max_body);
        return;
    }
    if (route->flags & TAMS_ROUTE_JSON_BODY) {
        if (req->body.len == 0) {
            if (route->flags & TAMS_ROUTE_BODY_REQUIRED) {
                tams_send_error(req, TAMS_ERR_BADJSON, "a JSON request body is required");
                return;
            }
        } else if (!is_json_type(tams_req_header(req, "Content-Type"))) {
            /* 400, not 415: the spec lists 400 for a body it cannot take (docs/decisions.md) */
            tams_send_error(req, TAMS_ERR_BADJSON,
                            "the request body must be JSON sent with Content-Type "
                            "application/json");
            return;
        } else if (parse_body_json(req)) {
            return;
        }
    }
    route->handler(req);
    if (!req->responded)
        tams_send_error(req, TAMS_ERR_INTERNAL, "the handler for '%s' gave no response",
                        route->pattern);
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct req_box *box)
{
    struct tams_req *req = &box->req;
    struct MHD_Response *res;
    enum MHD_Result r;
    size_t len;
    char *body;

    req->_queued = true;
    tams_res_header(req, "X-Request-Id", req->request_id ? req->request_id : "-");
    if (__atomic_load_n(&server_of(req)->stopping, __ATOMIC_ACQUIRE))
        tams_res_header(req, "Connection", "close"); /* keep-alive clients move on while we drain */
    tams_gate_add_cors(req);
    if (req->_file_fd >= 0) {
        res =
            MHD_create_response_from_fd_at_offset64(req->_file_len, req->_file_fd, req->_file_off);
        if (!res)
            return MHD_NO;
        req->_file_fd = -1; /* libmicrohttpd closes it with the response */
        len = (size_t)req->_file_len;
    } else {
        body = tams_buf_detach(&req->out, &len);
        res = MHD_create_response_from_buffer_with_free_callback(len, body, tams_free);
        if (!res) {
            tams_free(body);
            return MHD_NO;
        }
    }
    for (size_t i = 0; i < req->nheaders; i++)
        MHD_add_response_header(res, req->headers[i].name, req->headers[i].value);
    req->out.len = len; /* remembered for the access log */
    r = MHD_queue_response(conn, (unsigned)req->status, res);
    MHD_destroy_response(res);
    return r;
}

/* How much of an oversized body is read and thrown away so the client can read the 413. */
static size_t discard_limit(const struct tams_http_server *s)
{
    size_t lim = tams_st_mult(s->max_body, TAMS_LIMIT_DISCARD_FACTOR);
    return lim > TAMS_LIMIT_DISCARD_MIN ? lim : TAMS_LIMIT_DISCARD_MIN;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct tams_http_server *s = cls;
    struct req_box *box = *con_cls;
    struct tams_req *req;
    (void)url;

    if (!box) /* cannot happen: on_uri runs first */
        return MHD_NO;
    req = &box->req;
    if (!req->_started) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        struct conn_ctx *c = conn_ctx_of(conn);
        if (c && !tams_conns_head_done(c->guard))
            return MHD_NO; /* too late: the guard is closing the connection */
        req->_started = true;
        req->_conn = conn;
        __atomic_fetch_add(&s->inflight, 1, __ATOMIC_SEQ_CST);
        box->method_name = tams_pool_strdup(&req->pool, method);
        set_request_id(req);
        if (check_head(box, version)) {
            /* The body's length is uncertain: answer now, and libmicrohttpd closes. */
            tams_res_header(req, "Connection", "close");
            return queue(conn, box);
        }
        route_request(box, method_of(method));
        if (!req->responded && req->route->sink) {
            req->_streaming = req->route->sink->open(req) == 0;
            return MHD_YES;
        }
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end == '\0' && n > s->max_body)
                req->_body_toobig = true;
            if (*end == '\0' && n > discard_limit(s)) {
                /* Not worth reading: answer now; libmicrohttpd then closes the connection. */
                if (!req->responded)
                    tams_send_error(req, TAMS_ERR_TOOBIG,
                                    "the request body is larger than %zu bytes", s->max_body);
                return queue(conn, box);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->_streaming && !req->responded) {
            if (req->route->sink->write(req, upload_data, n))
                req->_streaming = false;
            return MHD_YES;
        }
        req->_body_seen = tams_st_add(req->_body_seen, n);
        if (!req->_body_toobig && !req->responded && tams_buf_add(&req->body, upload_data, n))
            req->_body_toobig = true;
        if (req->_body_seen > discard_limit(s)) {
            /* Stop reading a body this large: answer now; libmicrohttpd closes afterwards. */
            if (req->_queued)
                return MHD_YES;
            if (!req->responded)
                tams_send_error(req, TAMS_ERR_TOOBIG, "the request body is larger than %zu bytes",
                                s->max_body);
            return queue(conn, box);
        }
        return MHD_YES;
    }
    if (req->_queued)
        return MHD_YES;
    if (box->auth_pending) {
        struct tams_auth_result res;
        enum tams_auth_outcome outcome;
        /* The connection sleeps until the password is checked; this call comes again then. */
        if (tams_auth_pending_park(box->auth_pending, tams_gate_suspend_conn, conn))
            return MHD_YES;
        outcome = tams_auth_pending_finish(box->auth_pending, &res);
        box->auth_pending = NULL;
        if (!req->responded && tams_gate_authenticated(box, outcome, &res) == 0)
            tams_gate_check_scopes(box, req->method);
    }
    if (!req->responded)
        run_handler(box);
    return queue(conn, box);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct tams_http_server *s = cls;
    struct req_box *box = *con_cls;
    struct conn_ctx *c = conn_ctx_of(conn);
    struct tams_req *req;
    int64_t us;
    (void)toe;

    if (!box)
        return;
    req = &box->req;
    us = tams_clock_mono_us() - req->_start_us;
    if (req->responded) {
        const struct tams_route *r = req->route;
        tams_metrics_observe(s->metrics, box->route_index, box->method_name, req->status, us);
        if (s->access_log && !(r && (r->flags & TAMS_ROUTE_NO_LOG))) {
            struct tams_buf line = TAMS_BUF_INIT(4096);
            struct tams_json j;
            char now[TAMS_RFC3339_MAX];
            tams_clock_now_rfc3339(now);
            tams_json_init(&j, &line);
            tams_json_obj_open(&j);
            tams_json_kstr(&j, "time", now);
            tams_json_kstr(&j, "level", "info");
            tams_json_kstr(&j, "msg", "request");
            tams_json_kstr(&j, "method", box->method_name);
            tams_json_kstr(&j, "route", r ? (r->name ? r->name : r->pattern) : "unmatched");
            tams_json_kint(&j, "status", req->status);
            tams_json_kint(&j, "bytes", (int64_t)req->out.len);
            tams_json_kint(&j, "us", us);
            tams_json_kstr(&j, "request_id", req->request_id ? req->request_id : "-");
            tams_json_obj_close(&j);
            tams_buf_addch(&line, '\n');
            tams_log_access(line.data, line.len);
            tams_buf_release(&line);
        }
    }
    if (c) {
        c->pending = NULL;
        tams_conns_request_done(c->guard);
    }
    if (req->_started)
        __atomic_fetch_sub(&s->inflight, 1, __ATOMIC_SEQ_CST);
    box_free(box);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    tams_log(TAMS_LOG_DEBUG, "libmicrohttpd: %s", msg);
}

static int open_count(void *ctx)
{
    return tams_conns_open_count(ctx);
}

static char *url_path_of(const char *url)
{
    const char *p = strstr(url, "://");
    const char *slash;
    if (!p)
        return tams_strdup("");
    slash = strchr(p + 3, '/');
    return tams_strdup(slash ? slash : "");
}

static void server_free(struct tams_http_server *s)
{
    if (!s)
        return;
    tams_conns_free(s->conns);
    tams_metrics_free(s->metrics);
    tams_free(s->route_names);
    tams_free(s->prefixed);
    tams_free(s->public_url);
    tams_free(s->mount_prefix);
    tams_free(s->cors);
    tams_free(s->listen_authority);
    tams_free(s->base_url);
    tams_free(s);
}

/* Each connection holds its socket and, while it sends a file or receives an upload, one file
 * more; the rest of the process (database, logs, webhooks) keeps a reserve. */
#define FD_RESERVE 256
/* Connections the kernel queues for accepting. */
#define LISTEN_BACKLOG 1024

/* Raises the soft limit on open files as far as max_connections needs (and the hard limit
 * allows); returns how many connections fit. */
static int fit_open_files(int max_connections)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)max_connections * 2 + FD_RESERVE;
    int fit;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return max_connections;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        struct rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = raised.rlim_cur;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return max_connections;
    fit = rl.rlim_cur > 2 * FD_RESERVE ? (int)((rl.rlim_cur - FD_RESERVE) / 2)
                                       : (int)(rl.rlim_cur / 4);
    if (fit < 1)
        fit = 1;
    tams_log_warn("max_connections lowered from %d to %d: the limit on open files is %llu "
                  "(raise it, e.g. LimitNOFILE= of systemd, to %llu)",
                  max_connections, fit, (unsigned long long)rl.rlim_cur, (unsigned long long)need);
    return fit;
}

/* The listening socket for ai, bound and listening, as libmicrohttpd would make it (address
 * reuse, IPv6 only for an IPv6 address), with the port it got. Made here rather than by
 * libmicrohttpd so the port is known before any request can arrive. -1 with errno set. */
static int open_listener(const struct addrinfo *ai, uint16_t *port)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int one = 1, err;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (ai->ai_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        goto fail;
    if (sa.ss_family == AF_INET6)
        *port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    else
        *port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

int tams_http_start(struct tams_http_server **out, const struct tams_http_config *cfg,
                    const struct tams_route_table *routes, void *app, struct tams_buf *why)
{
    struct tams_http_server *s = tams_calloc(1, sizeof(*s));
    struct addrinfo hints = {0}, *ai = NULL;
    char portstr[8];
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    unsigned threads =
        cfg->threads > 0 ? (unsigned)cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    int listen_fd;
    int timeout = cfg->connection_timeout > 0 ? cfg->connection_timeout : 30;
    struct tams_conns_config conns = {
        .max_connections = cfg->max_connections > 0 ? cfg->max_connections : 4096,
        .max_per_address = cfg->max_per_address,
        .header_timeout_ms = (cfg->header_timeout > 0 ? cfg->header_timeout : 10) * 1000,
        .idle_timeout_ms = timeout * 1000,
    };
    int rc;

    *out = NULL;
    s->routes = routes;
    s->app = app;
    s->root_version = cfg->root_version ? cfg->root_version : "";
    s->versions = cfg->versions;
    s->nversions = cfg->nversions;
    s->prefixed = tams_calloc(cfg->nversions + 1, sizeof(*s->prefixed));
    for (size_t i = 0; i < cfg->nversions; i++) {
        const struct tams_route_table *t = cfg->versions[i].routes;
        if (strcmp(cfg->versions[i].version, s->root_version) == 0)
            s->root_api = cfg->versions[i].api;
        if (!t)
            continue;
        if (t->routes != routes->routes) {
            /* One array per server for now: metrics are named from it (docs/api-versions.md). */
            tams_buf_addf(why, "the route table of TAMS %s is not the root's",
                          cfg->versions[i].version);
            server_free(s);
            return TAMS_ERR_BADREQUEST;
        }
        s->prefixed[i] = *t;
        s->prefixed[i].skip |= TAMS_ROUTE_ROOT_ONLY;
    }
    s->max_body = cfg->max_body;
    s->access_log = cfg->access_log;
    s->public_url = tams_strdup(cfg->public_url ? cfg->public_url : "");
    {
        size_t n = strlen(s->public_url);
        while (n && s->public_url[n - 1] == '/')
            s->public_url[--n] = '\0';
    }
    s->mount_prefix = url_path_of(s->public_url);
    s->url_base.public_url = s->public_url; /* requests may come as soon as MHD runs */
    s->url_base.mount_prefix = s->mount_prefix;
    s->cors = tams_strdup(cfg->cors_origins ? cfg->cors_origins : "");
    s->route_names = tams_calloc(routes->nroutes + 1, sizeof(char *));
    for (size_t i = 0; i < routes->nroutes; i++)
        s->route_names[i] =
            routes->routes[i].name ? routes->routes[i].name : routes->routes[i].pattern;
    s->metrics = tams_metrics_new(s->route_names, routes->nroutes);
    s->auth = cfg->auth;
    conns.max_connections = fit_open_files(conns.max_connections);
    rc = tams_conns_new(&s->conns, &conns, s->metrics, why);
    if (rc) {
        server_free(s);
        return rc;
    }
    tams_metrics_conn_gauge(s->metrics, open_count, s->conns);

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)cfg->port);
    rc = getaddrinfo(cfg->host, portstr, &hints, &ai);
    if (rc || !ai) {
        tams_buf_addf(why, "cannot resolve listen address '%s': %s", cfg->host, gai_strerror(rc));
        server_free(s);
        return TAMS_ERR_BADREQUEST;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    listen_fd = open_listener(ai, &s->port);
    if (listen_fd < 0)
        tams_buf_addf(why, "cannot listen on %s:%u: %s", cfg->host, (unsigned)cfg->port,
                      strerror(errno));
    freeaddrinfo(ai);
    if (listen_fd < 0) {
        server_free(s);
        return TAMS_ERR_IO;
    }
    {
        struct tams_buf a = TAMS_BUF_INIT(512);
        tams_buf_addf(&a, strchr(cfg->host, ':') ? "[%s]:%u" : "%s:%u", cfg->host,
                      (unsigned)s->port);
        s->listen_authority = tams_buf_detach(&a, NULL);
        tams_buf_addf(&a, s->public_url[0] ? "%s" : "http://%s",
                      s->public_url[0] ? s->public_url : s->listen_authority);
        s->base_url = tams_buf_detach(&a, NULL);
    }
    s->url_base.authority = s->listen_authority;
    /* libmicrohttpd's threads serve as soon as each exists, before MHD_start_daemon returns:
     * everything a request reaches (this server through the app, its port and URLs) is in
     * place first. */
    *out = s;
    if (threads < 1)
        threads = 1;
    s->daemon = MHD_start_daemon(
        flags, 0, on_accept, s, on_request, s, MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)TAMS_LIMIT_CONN_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout,
        /* The guard refuses past max_connections; libmicrohttpd's own cap (split between its
         * threads) stays above it, since reaching that one stops accepting altogether. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)conns.max_connections * threads + 16,
        threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, MHD_OPTION_END);
    if (!s->daemon) {
        /* It failed before its threads ran (or has joined them): no request holds s. The
         * listening socket is left open: whether libmicrohttpd closed it on its way out is not
         * documented, and the process is about to end. */
        *out = NULL;
        tams_buf_addf(why,
                      "cannot start serving on %s:%u (libmicrohttpd refused; its reason "
                      "is in the debug log)",
                      cfg->host, (unsigned)s->port);
        server_free(s);
        return TAMS_ERR_IO;
    }
    return 0;
}

uint16_t tams_http_port(const struct tams_http_server *s)
{
    return s->port;
}

const char *tams_http_base_url(const struct tams_http_server *s)
{
    return s->base_url;
}

struct tams_metrics *tams_http_metrics(struct tams_http_server *s)
{
    return s->metrics;
}

void tams_http_stop(struct tams_http_server *s, int timeout_ms)
{
    int64_t deadline = tams_clock_mono_us() + (int64_t)timeout_ms * 1000;
    if (!s)
        return;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST) > 0 && tams_clock_mono_us() < deadline)
        usleep(10000);
    if (__atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST) > 0)
        tams_log_warn("stopping with %d requests still in flight",
                      __atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST));
    if (s->auth) /* no connection may sleep on a password check past this point */
        tams_auth_abort_pending(s->auth);
    MHD_stop_daemon(s->daemon); /* closes every connection, so the guard is done */
    server_free(s);
}
