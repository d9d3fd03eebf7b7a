/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c - fixed-size atomic counters, so recording costs no lock and no allocation. */
#include "core/common.h"
#include "http/metrics.h"

#define STATUS_MIN 100
#define STATUS_N 500 /* 100..599 */
#define NMETHODS 6

static const char *const method_names[NMETHODS] = {"GET",  "HEAD",   "PUT",
                                                   "POST", "DELETE", "OPTIONS"};
/* Upper bounds in seconds of the latency buckets (plus +Inf). */
static const double bucket_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                   0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

struct route_stats {
    uint64_t by_status[NMETHODS][STATUS_N];
    uint64_t buckets[NBUCKETS + 1];
    uint64_t count;
    uint64_t sum_us;
};

struct tams_metrics {
    size_t nroutes;
    const char *const *names;
    struct route_stats *stats; /* nroutes + 1 */
    uint64_t conn_refused[TAMS__CONN_REFUSED_N];
    uint64_t conn_closed[TAMS__CONN_CLOSED_N];
    int (*conn_open)(void *ctx); /* NULL: no gauge */
    void *conn_open_ctx;
};

static const char *const refusal_names[TAMS__CONN_REFUSED_N] = {"max_connections",
                                                                "max_connections_per_address"};
static const char *const closing_names[TAMS__CONN_CLOSED_N] = {"header_timeout", "half_closed"};

struct tams_metrics *tams_metrics_new(const char *const *route_names, size_t nroutes)
{
    struct tams_metrics *m = tams_calloc(1, sizeof(*m));
    m->nroutes = nroutes;
    m->names = route_names;
    m->stats = tams_calloc(nroutes + 1, sizeof(struct route_stats));
    return m;
}

void tams_metrics_free(struct tams_metrics *m)
{
    if (!m)
        return;
    tams_free(m->stats);
    tams_free(m);
}

static int method_index(const char *method)
{
    for (int i = 0; i < NMETHODS; i++)
        if (strcmp(method, method_names[i]) == 0)
            return i;
    return 0;
}

void tams_metrics_observe(struct tams_metrics *m, size_t route_index, const char *method,
                          int status, int64_t micros)
{
    struct route_stats *s;
    size_t b = 0;
    if (route_index > m->nroutes)
        route_index = m->nroutes;
    if (status < STATUS_MIN || status >= STATUS_MIN + STATUS_N)
        status = 500;
    if (micros < 0)
        micros = 0;
    s = &m->stats[route_index];
    __atomic_fetch_add(&s->by_status[method_index(method)][status - STATUS_MIN], 1,
                       __ATOMIC_RELAXED);
    while (b < NBUCKETS && (double)micros / 1e6 > bucket_le[b])
        b++;
    __atomic_fetch_add(&s->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->sum_us, (uint64_t)micros, __ATOMIC_RELAXED);
}

void tams_metrics_conn_refused(struct tams_metrics *m, enum tams_conn_refusal why)
{
    __atomic_fetch_add(&m->conn_refused[why], 1, __ATOMIC_RELAXED);
}

void tams_metrics_conn_closed(struct tams_metrics *m, enum tams_conn_closing why)
{
    __atomic_fetch_add(&m->conn_closed[why], 1, __ATOMIC_RELAXED);
}

void tams_metrics_conn_gauge(struct tams_metrics *m, int (*read)(void *ctx), void *ctx)
{
    m->conn_open_ctx = ctx;
    m->conn_open = read;
}

static void render_connections(struct tams_metrics *m, struct tams_buf *out)
{
    if (m->conn_open)
        tams_buf_addf(out,
                      "# HELP tams_http_connections Client connections open.\n"
                      "# TYPE tams_http_connections gauge\ntams_http_connections %d\n",
                      m->conn_open(m->conn_open_ctx));
    tams_buf_addstr(out, "# HELP tams_http_connections_refused_total Connections closed as soon as "
                         "accepted, by the cap that was reached.\n"
                         "# TYPE tams_http_connections_refused_total counter\n");
    for (int i = 0; i < TAMS__CONN_REFUSED_N; i++)
        tams_buf_addf(out, "tams_http_connections_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                      refusal_names[i], __atomic_load_n(&m->conn_refused[i], __ATOMIC_RELAXED));
    tams_buf_addstr(out, "# HELP tams_http_connections_closed_total Connections the server closed "
                         "because no complete request head came in time (header_timeout) or "
                         "the client shut its side first (half_closed).\n"
                         "# TYPE tams_http_connections_closed_total counter\n");
    for (int i = 0; i < TAMS__CONN_CLOSED_N; i++)
        tams_buf_addf(out, "tams_http_connections_closed_total{reason=\"%s\"} %" PRIu64 "\n",
                      closing_names[i], __atomic_load_n(&m->conn_closed[i], __ATOMIC_RELAXED));
}

static const char *route_label(struct tams_metrics *m, size_t i)
{
    return i < m->nroutes ? m->names[i] : "unmatched";
}

void tams_metrics_render(struct tams_metrics *m, struct tams_buf *out)
{
    tams_buf_addstr(out, "# HELP tams_http_requests_total HTTP requests by route template, "
                         "method and status.\n# TYPE tams_http_requests_total counter\n");
    for (size_t i = 0; i <= m->nroutes; i++) {
        for (int k = 0; k < NMETHODS; k++) {
            for (int st = 0; st < STATUS_N; st++) {
                uint64_t v = __atomic_load_n(&m->stats[i].by_status[k][st], __ATOMIC_RELAXED);
                if (!v)
                    continue;
                tams_buf_addf(out,
                              "tams_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                              "%" PRIu64 "\n",
                              route_label(m, i), method_names[k], st + STATUS_MIN, v);
            }
        }
    }
    tams_buf_addstr(out, "# HELP tams_http_request_duration_seconds Time from request start to "
                         "response queued.\n# TYPE tams_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->nroutes; i++) {
        struct route_stats *s = &m->stats[i];
        uint64_t count = __atomic_load_n(&s->count, __ATOMIC_RELAXED), cum = 0;
        if (!count)
            continue;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += __atomic_load_n(&s->buckets[b], __ATOMIC_RELAXED);
            if (b < NBUCKETS)
                tams_buf_addf(out,
                              "tams_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                              "%" PRIu64 "\n",
                              route_label(m, i), bucket_le[b], cum);
            else
                tams_buf_addf(out,
                              "tams_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                              "%" PRIu64 "\n",
                              route_label(m, i), cum);
        }
        tams_buf_addf(out, "tams_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                      route_label(m, i),
                      (double)__atomic_load_n(&s->sum_us, __ATOMIC_RELAXED) / 1e6);
        tams_buf_addf(out, "tams_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                      route_label(m, i), count);
    }
    render_connections(m, out);
}
