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

struct tams_auth;
struct tams_job;
struct tams_registry;
struct tams_counter;
struct tams_webhook_secrets;

struct tams_app {
    const struct tams_config *cfg;
    struct tams_store *store;
    struct tams_http_server *http;
    char local_store_id[37];
    struct tams_media_backend *local;     /* the built-in object store (also in backends) */
    struct tams_media_backend **backends; /* every storage backend, in configuration order */
    char *ui_csp; /* the web interface's Content-Security-Policy (api/ui.h; NULL: its default) */
    size_t nbackends;

    /* The job that works through deletion requests (jobs/deletion.h), kicked when one is
     * recorded; NULL while no job runs. Set by whoever starts it (main.c). */
    struct tams_job *deletion_job;
    /* Metrics of modules below the API (auth, webhook delivery), rendered by GET /metrics
     * after the HTTP server's own; created by tams_app_init. */
    struct tams_registry *metrics;
    /* Ingest counters (tams_segments_registered_total, tams_media_uploaded_bytes_total). */
    struct tams_counter *segments_registered, *uploaded_bytes;
    /* Seals webhook api keys and gives them their identity (events/secrets.h); set by main.c. */
    const struct tams_webhook_secrets *webhook_secrets;

    struct tams_doc_cache *flow_cache;   /* NULL when flow_cache_memory is 0 */
    struct tams_doc_cache *source_cache; /* NULL when source_cache_memory is 0 */

    /* GET /service body per TAMS version, rendered once and again after each POST /service. */
    pthread_mutex_t service_lock;
    struct tams_buf service_json[TAMS_API_COUNT];
};

/* Load persisted state (service name/description, the built-in store's id) and render the
 * cached documents. Call once after the store is open. Jobs that use the app's store or
 * backends must be joined before tams_app_release. */
int tams_app_init(struct tams_app *app, const struct tams_config *cfg, struct tams_buf *why);
void tams_app_release(struct tams_app *app);

/* Re-read name and description from the store (defaults from the configuration) and render
 * the GET /service bodies into app->service_json. */
int tams_app_service_refresh(struct tams_app *app, struct tams_buf *why);

/* The doc cache key of id's document as req's API version renders it: the id under 7.0, the
 * id and the version else (their documents differ: list tags, docs/tams-8.2-changes.md). */
#define TAMS_API_CACHE_KEY_MAX 64
void tams_api_cache_key(const struct tams_req *req, const char *id,
                        char out[TAMS_API_CACHE_KEY_MAX]);

/* The backend with this id, or NULL. */
const struct tams_media_backend *tams_app_backend(const struct tams_app *app, const char *id);
/* The backend marked default, or NULL when none is. */
const struct tams_media_backend *tams_app_default_backend(const struct tams_app *app);

/* webhooks.c: at start, before serving, what an older release left in the webhooks table:
 * owners "legacy:NAME" become the user or token NAME where one exists (auth), and api keys kept
 * in clear are sealed (sec). Idempotent; logs what it did and what is left. */
int tams_webhooks_upgrade(struct tams_store *st, struct tams_auth *auth,
                          const struct tams_webhook_secrets *sec, struct tams_buf *why);

/* The route tables of the API, one view per TAMS version of one array. */
extern const struct tams_route_table tams_api_routes_70, tams_api_routes_82;
/* Every TAMS version tamsd knows, with its route table. */
extern const struct tams_api_version tams_api_versions[];
extern const size_t tams_api_nversions;
/* The table the root paths serve for root_api_version; an unknown version, or one not served
 * yet, is refused with a line in why. */
int tams_api_root_routes(const char *version, const struct tams_route_table **out,
                         struct tams_buf *why);

#endif
