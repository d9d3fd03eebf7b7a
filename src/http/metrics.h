/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.h - request counters and latency histograms by route template, Prometheus text.
 *
 * Labels are route templates (bounded), never raw paths. Updates are lock-free atomics and
 * safe from any thread. Other modules report theirs through the registry (core/registry.h).
 */
#ifndef TAMS_HTTP_METRICS_H
#define TAMS_HTTP_METRICS_H

#include "core/common.h"
#include "core/buf.h"

struct tams_metrics;

/* nroutes route names (index = route index); one extra slot counts unmatched requests. */
struct tams_metrics *tams_metrics_new(const char *const *route_names, size_t nroutes);
void tams_metrics_free(struct tams_metrics *m);
/* route_index == nroutes for requests that matched no route. */
void tams_metrics_observe(struct tams_metrics *m, size_t route_index, const char *method,
                          int status, int64_t micros);
void tams_metrics_render(struct tams_metrics *m, struct tams_buf *out);

/* Connections (http/conns.h): refused as soon as accepted, and closed by the server. */
enum tams_conn_refusal {
    TAMS_CONN_REFUSED_LIMIT,   /* max_connections reached */
    TAMS_CONN_REFUSED_ADDRESS, /* max_connections_per_address reached */
    TAMS__CONN_REFUSED_N
};
enum tams_conn_closing {
    TAMS_CONN_CLOSED_HEADER_TIMEOUT, /* no complete request head in time */
    TAMS_CONN_CLOSED_HALF_CLOSED,    /* the client shut its side without a complete head */
    TAMS__CONN_CLOSED_N
};
void tams_metrics_conn_refused(struct tams_metrics *m, enum tams_conn_refusal why);
void tams_metrics_conn_closed(struct tams_metrics *m, enum tams_conn_closing why);
/* The gauge of open connections is read at render time: read(ctx). */
void tams_metrics_conn_gauge(struct tams_metrics *m, int (*read)(void *ctx), void *ctx);

#endif
