/* SPDX-License-Identifier: Apache-2.0 */
/* app.h - what every handler reaches through req->app: configuration, store, server, caches. */
#ifndef TAMS_API_APP_H
#define TAMS_API_APP_H

#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "http/route.h"
#include "api/doc_cache.h"
#include "http/server.h"
#include "media/media.h"
#include "store/store.h"

#include <pthread.h>

struct tams_app {
    const struct tams_config *cfg;
    struct tams_store *store;
    struct tams_http_server *http;
    char local_store_id[37];
    struct tams_media_backend *local;     /* the built-in object store (also in backends) */
    struct tams_media_backend **backends; /* every storage backend, in configuration order */
    size_t nbackends;

    /* Background workers (workers.c): deletion requests and the garbage collector. */
    struct tams_workers *workers;

    struct tams_doc_cache *flow_cache;   /* NULL when flow_cache_entries is 0 */
    struct tams_doc_cache *source_cache; /* NULL when source_cache_entries is 0 */

    /* GET /service body, rendered once and again after each POST /service. */
    pthread_mutex_t service_lock;
    struct tams_buf service_json;
};

/* Load persisted state (service name/description, the built-in store's id) and render the
 * cached documents. Call once after the store is open. */
int tams_app_init(struct tams_app *app, const struct tams_config *cfg, struct tams_buf *why);
void tams_app_release(struct tams_app *app);

/* Re-read name and description from the store (defaults from the configuration) and render
 * the GET /service body into app->service_json. */
int tams_app_service_refresh(struct tams_app *app, struct tams_buf *why);

/* Start the background workers (one thread for deletion requests, one for the garbage
 * collector, webhook_workers for webhook delivery); call after the signal mask is set, so they
 * never take SIGTERM. Unfinished deletion requests resume at once. */
int tams_workers_start(struct tams_app *app, struct tams_buf *why);
/* Ask the workers to stop, wake them and join them; each finishes its current batch (one
 * transaction, or one media deletion). Safe to call twice, or without a start. */
void tams_workers_stop(struct tams_app *app);
/* A deletion request was recorded: start on it now rather than at the next interval. */
void tams_workers_wake(struct tams_app *app);
/* The HTTP server runs: webhook events can now carry the built-in store's get_urls (based on
 * public_url, else http://listen_host:port). Call once after tams_http_start. */
void tams_workers_serving(struct tams_app *app);
/* Append the webhook delivery metrics (Prometheus text) for GET /metrics. */
void tams_workers_metrics(struct tams_app *app, struct tams_buf *out);

/* The backend with this id, or NULL. */
const struct tams_media_backend *tams_app_backend(const struct tams_app *app, const char *id);
/* The backend marked default, or NULL when none is. */
const struct tams_media_backend *tams_app_default_backend(const struct tams_app *app);

/* The route table of the whole API. */
extern const struct tams_route_table tams_api_routes;

#endif
