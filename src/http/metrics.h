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

#endif
