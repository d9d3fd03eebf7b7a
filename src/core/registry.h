/* SPDX-License-Identifier: Apache-2.0 */
/* registry.h - the metrics registry: named counters, gauges and renderers that GET /metrics
 * writes out in the Prometheus text format (version 0.0.4).
 *
 * Modules below the HTTP layer (jobs, events, auth) report metrics here without knowing who
 * serves them: they register once at start, then count. The /metrics handler calls
 * tams_registry_render. Entries are written in registration order; each counter and gauge is
 * one family: "# HELP name help", "# TYPE name counter|gauge", "name value".
 *
 * Ownership: the registry copies names and help texts; counters belong to the registry and
 * live until tams_registry_free. A gauge's or renderer's ctx stays the caller's and must stay
 * valid until the registry is freed (or is no longer rendered).
 * Threads: every function is thread-safe. tams_counter_add is a relaxed atomic add, cheap
 * enough for any path. Callbacks run on the rendering thread with the registry locked: they
 * must not register.
 */
#ifndef TAMS_CORE_REGISTRY_H
#define TAMS_CORE_REGISTRY_H

#include "core/common.h"
#include "core/buf.h"

struct tams_registry;
struct tams_counter;

/* The value of a gauge at render time. */
typedef int64_t (*tams_gauge_fn)(void *ctx);
/* Appends whole families (with their own HELP and TYPE lines) to out: for labelled metrics. */
typedef void (*tams_render_fn)(void *ctx, struct tams_buf *out);

struct tams_registry *tams_registry_new(void);
/* NULL is allowed. */
void tams_registry_free(struct tams_registry *r);

/* A new counter (starting at 0) named name (a Prometheus metric name, by convention ending
 * in _total). Never NULL. */
struct tams_counter *tams_registry_counter(struct tams_registry *r, const char *name,
                                           const char *help);
/* A gauge whose value read(ctx) returns when the registry is rendered. */
void tams_registry_gauge(struct tams_registry *r, const char *name, const char *help,
                         tams_gauge_fn read, void *ctx);
/* Anything else: render(ctx, out) appends its families when the registry is rendered. */
void tams_registry_source(struct tams_registry *r, tams_render_fn render, void *ctx);

/* Appends every entry, in registration order. */
void tams_registry_render(struct tams_registry *r, struct tams_buf *out);

void tams_counter_add(struct tams_counter *c, uint64_t n);
uint64_t tams_counter_get(const struct tams_counter *c);

#endif
