/* SPDX-License-Identifier: Apache-2.0 */
/* app.c - application state shared by handlers, and the service document they serve. */
#include "core/common.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/log.h"
#include "core/json.h"
#include "core/registry.h"
#include "api/app.h"
#include "http/request.h"
#include "media/local.h"
#include "media/s3.h"
#include "media/storage_config.h"
#include "media/tags.h"

#include <unistd.h> /* environ */

#define SERVICE_TYPE "urn:x-tams:service.tamsd"

static int load_local_store_id(struct tams_app *app, struct tams_buf *why)
{
    struct tams_store *st = app->store;
    struct tams_buf v = TAMS_BUF_INIT(128);
    int rc;

    if (app->cfg->local_store_id && app->cfg->local_store_id[0]) {
        snprintf(app->local_store_id, sizeof(app->local_store_id), "%s", app->cfg->local_store_id);
        return 0;
    }
    /* Generated at first start and kept, so URLs and storage ids stay stable. */
    rc = tams_store_setting_get(st, "local_store_id", &v);
    if (rc == 0 && tams_uuid_valid(v.data, v.len)) {
        snprintf(app->local_store_id, sizeof(app->local_store_id), "%s", v.data);
    } else if (rc == 0 || rc == TAMS_ERR_NOTFOUND) {
        tams_uuid_v4(app->local_store_id);
        rc = tams_store_setting_set(st, "local_store_id", app->local_store_id);
        if (rc)
            tams_buf_addstr(why, "cannot store the built-in object store's id");
    } else {
        tams_buf_addstr(why, "cannot read the built-in object store's id");
    }
    tams_buf_release(&v);
    return rc;
}

/* put_urls never outlive get_urls (docs/configuration.md). */
static int put_url_expiry(const struct tams_config *cfg)
{
    return cfg->put_url_expiry < cfg->media_url_expiry ? cfg->put_url_expiry
                                                       : cfg->media_url_expiry;
}

/* The backends of the storage_config file, after the built-in store. */
static int open_configured(struct tams_app *app, struct tams_buf *why)
{
    struct tams_storage_config sc;
    int rc = tams_storage_config_load(&sc, app->cfg->storage_config, app->local_store_id,
                                      app->local->label, environ, why);
    if (!rc) {
        app->local->is_default = sc.local_default;
        app->local->tags = json_object_get(sc.local_tags);
        app->backends = tams_realloc(app->backends, (1 + sc.ns3) * sizeof(*app->backends));
    }
    for (size_t i = 0; !rc && i < sc.ns3; i++) {
        struct tams_media_backend *b;
        sc.s3[i].expiry = app->cfg->media_url_expiry;
        sc.s3[i].put_expiry = put_url_expiry(app->cfg);
        rc = tams_s3_open(&b, &sc.s3[i], why);
        if (!rc) {
            b->tags = json_object_get(sc.tags[i]);
            app->backends[app->nbackends++] = b;
            tams_log_info("storage backend '%s' (%s): S3 bucket '%s' at %zu endpoint(s)%s",
                          b->label, b->id, sc.s3[i].bucket, sc.s3[i].nendpoints,
                          b->is_default ? ", default" : "");
        }
    }
    tams_storage_config_release(&sc);
    return rc;
}

/* Setting from the store, or the configured default when never set. */
static int setting_or(struct tams_app *app, const char *key, const char *dflt, struct tams_buf *out)
{
    int rc = tams_store_setting_get(app->store, key, out);
    if (rc == TAMS_ERR_NOTFOUND) {
        tams_buf_reset(out);
        tams_buf_addstr(out, dflt);
        return 0;
    }
    return rc;
}

/* The GET /service body as the given version shows it. */
/* 8.2's service timeouts (ADR0044), derived from the settings that enforce them: an object
 * allocated and never used is collected gc_unused_after seconds after allocation; every URL
 * tamsd signs (put_url of each backend, get_urls) lives at least the shorter of put_url_expiry
 * and media_url_expiry, the put_url being capped by media_url_expiry. */
static void render_timeouts(const struct tams_config *cfg, struct tams_json *j)
{
    int presigned =
        cfg->put_url_expiry < cfg->media_url_expiry ? cfg->put_url_expiry : cfg->media_url_expiry;
    char ts[32];

    snprintf(ts, sizeof ts, "%d:0", cfg->gc_unused_after);
    tams_json_kstr(j, "min_object_timeout", ts);
    snprintf(ts, sizeof ts, "%d:0", presigned);
    tams_json_kstr(j, "min_presigned_url_timeout", ts);
}

static void render_service(const struct tams_app *app, enum tams_api api,
                           const struct tams_buf *name, const struct tams_buf *desc,
                           struct tams_buf *doc)
{
    const char *version = api == TAMS_API_82 ? "8.2" : "7.0";
    struct tams_json j;

    tams_json_init(&j, doc);
    tams_json_obj_open(&j);
    tams_json_key(&j, "name");
    tams_json_strn(&j, name->data, name->len);
    tams_json_key(&j, "description");
    tams_json_strn(&j, desc->data, desc->len);
    tams_json_kstr(&j, "type", SERVICE_TYPE);
    tams_json_kstr(&j, "api_version", version);
    tams_json_kstr(&j, "service_version", "tamsd " TAMS_VERSION);
    if (api == TAMS_API_82)
        render_timeouts(app->cfg, &j);
    tams_json_key(&j, "event_stream_mechanisms");
    tams_json_arr_open(&j);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "name", "webhooks");
    tams_json_key(&j, "docs");
    {
        struct tams_buf url = TAMS_BUF_INIT(128);
        tams_buf_addf(&url,
                      "https://github.com/bbc/tams/blob/%s/api/TimeAddressableMediaStore.yaml "
                      "(webhooks)",
                      version);
        tams_json_strn(&j, url.data, url.len);
        tams_buf_release(&url);
    }
    tams_json_obj_close(&j);
    tams_json_arr_close(&j);
    tams_json_obj_close(&j);
}

int tams_app_service_refresh(struct tams_app *app, struct tams_buf *why)
{
    struct tams_buf name = TAMS_BUF_INIT(1 << 16), desc = TAMS_BUF_INIT(1 << 16);
    struct tams_buf doc[TAMS_API_COUNT];
    int rc;

    for (int v = 0; v < TAMS_API_COUNT; v++)
        tams_buf_init(&doc[v], 1 << 20);
    rc = setting_or(app, "service_name", app->cfg->service_name, &name);
    if (!rc)
        rc = setting_or(app, "service_description", app->cfg->service_description, &desc);
    if (rc) {
        tams_buf_addstr(why, "cannot read the service name and description from the store");
        goto out;
    }
    for (int v = 0; v < TAMS_API_COUNT; v++)
        render_service(app, (enum tams_api)v, &name, &desc, &doc[v]);

    pthread_mutex_lock(&app->service_lock);
    for (int v = 0; v < TAMS_API_COUNT; v++) {
        tams_buf_reset(&app->service_json[v]);
        tams_buf_add(&app->service_json[v], doc[v].data, doc[v].len);
    }
    pthread_mutex_unlock(&app->service_lock);
out:
    tams_buf_release(&name);
    tams_buf_release(&desc);
    for (int v = 0; v < TAMS_API_COUNT; v++)
        tams_buf_release(&doc[v]);
    return rc;
}

static int64_t store_up(void *ctx)
{
    return tams_store_ping(ctx) == 0;
}

static int count_unfinished(void *ctx, const struct tams_delete_request *r)
{
    *(int64_t *)ctx += strcmp(r->status, "done") != 0 && strcmp(r->status, "error") != 0;
    return 0;
}

static int64_t deletions_pending(void *ctx)
{
    char now[TAMS_RFC3339_MAX];
    int64_t n = 0;

    tams_clock_now_rfc3339(now);
    return tams_store_delete_requests_list(ctx, now, count_unfinished, &n) ? -1 : n;
}

/* The PostgreSQL connection pool; nothing on SQLite, which has none. */
static void render_pool(void *ctx, struct tams_buf *out)
{
    struct tams_store_pool p;

    if (!tams_store_pool(ctx, &p))
        return;
    tams_buf_addf(out,
                  "# HELP tams_store_pool_connections Metadata store connections by state.\n"
                  "# TYPE tams_store_pool_connections gauge\n"
                  "tams_store_pool_connections{state=\"in_use\"} %d\n"
                  "tams_store_pool_connections{state=\"idle\"} %d\n"
                  "# HELP tams_store_pool_waiting Threads waiting for a store connection.\n"
                  "# TYPE tams_store_pool_waiting gauge\ntams_store_pool_waiting %d\n"
                  "# HELP tams_store_pool_wait_timeouts_total Waits for a store connection that "
                  "gave up (503).\n"
                  "# TYPE tams_store_pool_wait_timeouts_total counter\n"
                  "tams_store_pool_wait_timeouts_total %" PRIu64 "\n",
                  p.in_use, p.size - p.in_use, p.waiting, p.timeouts);
}

/* The store's and the API's own metrics; the gauges ask the store at each scrape. */
static void register_metrics(struct tams_app *app)
{
    tams_registry_gauge(app->metrics, "tams_store_up",
                        "1 when the metadata store answered a ping at this scrape, else 0.",
                        store_up, app->store);
    tams_registry_source(app->metrics, render_pool, app->store);
    tams_registry_gauge(app->metrics, "tams_deletion_requests_pending",
                        "Deletion requests created or started, not yet done (-1: the store did "
                        "not answer).",
                        deletions_pending, app->store);
    app->segments_registered =
        tams_registry_counter(app->metrics, "tams_segments_registered_total",
                              "Flow segments registered (POST /flows/{id}/segments).");
    app->uploaded_bytes =
        tams_registry_counter(app->metrics, "tams_media_uploaded_bytes_total",
                              "Media bytes uploaded to the built-in object store.");
}

int tams_app_init(struct tams_app *app, const struct tams_config *cfg, struct tams_buf *why)
{
    int rc;
    app->cfg = cfg;
    app->flow_cache = tams_doc_cache_new(cfg->flow_cache_memory, (int64_t)cfg->cache_ttl * 1000);
    app->source_cache =
        tams_doc_cache_new(cfg->source_cache_memory, (int64_t)cfg->cache_ttl * 1000);
    app->metrics = tams_registry_new();
    register_metrics(app);
    pthread_mutex_init(&app->service_lock, NULL);
    for (int v = 0; v < TAMS_API_COUNT; v++)
        tams_buf_init(&app->service_json[v], 1 << 20);
    rc = load_local_store_id(app, why);
    if (!rc)
        rc =
            tams_local_open(&app->local, cfg->data_dir, app->local_store_id, cfg->local_store_label,
                            cfg->media_url_expiry, put_url_expiry(cfg), why);
    if (!rc) {
        app->backends = tams_calloc(1, sizeof(*app->backends));
        app->backends[app->nbackends++] = app->local;
        if (cfg->storage_config && cfg->storage_config[0])
            rc = open_configured(app, why);
    }
    if (!rc)
        rc = tams_app_service_refresh(app, why);
    if (rc)
        tams_app_release(app); /* main() releases only an app that started */
    return rc;
}

void tams_app_release(struct tams_app *app)
{
    tams_doc_cache_free(app->flow_cache);
    tams_doc_cache_free(app->source_cache);
    app->flow_cache = app->source_cache = NULL;
    for (size_t i = 0; i < app->nbackends; i++) {
        struct json_object *tags = app->backends[i]->tags;
        app->backends[i]->ops->close(app->backends[i]);
        json_object_put(tags);
    }
    if (!app->nbackends && app->local)
        app->local->ops->close(app->local);
    tams_free(app->backends);
    app->backends = NULL;
    tams_free(app->ui_csp);
    app->ui_csp = NULL;
    app->nbackends = 0;
    app->local = NULL;
    for (int v = 0; v < TAMS_API_COUNT; v++)
        tams_buf_release(&app->service_json[v]);
    pthread_mutex_destroy(&app->service_lock);
    tams_registry_free(app->metrics);
    app->metrics = NULL;
}

const struct tams_media_backend *tams_app_backend(const struct tams_app *app, const char *id)
{
    return tams_media_find(app->backends, app->nbackends, id);
}

const struct tams_media_backend *tams_app_default_backend(const struct tams_app *app)
{
    for (size_t i = 0; i < app->nbackends; i++)
        if (app->backends[i]->is_default)
            return app->backends[i];
    return NULL;
}

void tams_api_cache_key(const struct tams_req *req, const char *id,
                        char out[TAMS_API_CACHE_KEY_MAX])
{
    snprintf(out, TAMS_API_CACHE_KEY_MAX, "%.40s%s", id, req->api == TAMS_API_70 ? "" : "@8.2");
}
