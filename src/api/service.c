/* SPDX-License-Identifier: Apache-2.0 */
/* service.c - /, /service, /service/storage-backends, /health, /ready and /metrics. */
#include "core/common.h"
#include "core/json.h"
#include "core/registry.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "media/tags.h"
#include "http/respond.h"

#include <ctype.h>

static struct tams_app *app_of(struct tams_req *req)
{
    return req->app;
}

void root_get(struct tams_req *req)
{
    static const char body[] = "[\"service\",\"flows\",\"sources\",\"flow-delete-requests\"]";
    tams_send_json_text(req, 200, body, sizeof(body) - 1);
}

void service_get(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    pthread_mutex_lock(&app->service_lock);
    tams_buf_reset(&req->out);
    tams_buf_add(&req->out, app->service_json[req->api].data, app->service_json[req->api].len);
    pthread_mutex_unlock(&app->service_lock);
    tams_send_json_body(req, 200);
}

void service_post(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    struct tams_buf why = TAMS_BUF_INIT(512);
    const char *name = NULL, *desc = NULL;
    int rc = 0;

    if (!json_object_is_type(req->json, json_type_object)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body must be a JSON object");
        return;
    }
    json_object_object_foreach(req->json, key, val)
    {
        if (strcmp(key, "name") != 0 && strcmp(key, "description") != 0) {
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "'%s' cannot be changed: only 'name' and 'description' can", key);
            return;
        }
        if (!json_object_is_type(val, json_type_string)) {
            tams_send_error(req, TAMS_ERR_VALIDATION, "'%s' must be a string", key);
            return;
        }
        if (strcmp(key, "name") == 0)
            name = json_object_get_string(val);
        else
            desc = json_object_get_string(val);
    }
    /* NEEDSWORK: two settings are two transactions; make it one when the store grows a batch. */
    if (name)
        rc = tams_store_setting_set(app->store, "service_name", name);
    if (!rc && desc)
        rc = tams_store_setting_set(app->store, "service_description", desc);
    if (!rc)
        rc = tams_app_service_refresh(app, &why);
    tams_buf_release(&why);
    if (rc) {
        tams_send_error(req, rc, NULL);
        return;
    }
    tams_send_empty(req, 200);
}

static void write_backend(struct tams_json *j, const struct tams_media_backend *b, bool tags)
{
    tams_json_obj_open(j);
    tams_json_kstr(j, "id", b->id);
    if (b->label)
        tams_json_kstr(j, "label", b->label);
    tams_json_kstr(j, "store_type", "http_object_store");
    tams_json_kstr(j, "provider", b->provider ? b->provider : "unknown");
    tams_json_kstr(j, "store_product", b->store_product ? b->store_product : "unknown");
    if (b->region)
        tams_json_kstr(j, "region", b->region);
    if (b->availability_zone)
        tams_json_kstr(j, "availability_zone", b->availability_zone);
    tams_json_kbool(j, "default_storage", b->is_default);
    if (tags && b->tags) {
        tams_json_key(j, "tags");
        tams_media_tags_write(j, b->tags);
    }
    tams_json_obj_close(j);
}

/* 8.2 order: by label, backends without one after those with one (by id). Labels are unique
 * (storage_config.c), so the order is total. */
static int by_label(const void *pa, const void *pb)
{
    const struct tams_media_backend *a = *(const struct tams_media_backend *const *)pa;
    const struct tams_media_backend *b = *(const struct tams_media_backend *const *)pb;

    if (!a->label != !b->label)
        return a->label ? -1 : 1;
    return a->label ? strcmp(a->label, b->label) : strcmp(a->id, b->id);
}

/* 8.2: tag filters, label order, paged. Backends do not change while tamsd runs, so the page
 * key is the position of the next item in the filtered order. */
static void storage_backends_get_82(struct tams_req *req)
{
    static const char *const known[] = {"limit", "page", "reverse_order", NULL};
    struct tams_app *app = app_of(req);
    const struct tams_media_backend **list = NULL;
    struct tams_media_tag_filter *mf = NULL;
    struct tams_tag_filter *tf;
    struct tams_paging pg;
    struct tams_json *j;
    size_t ntf, n = 0, start = 0, end;
    bool reverse = false;
    char count[24];

    if (tams_query_known_or_400(req, known, true) || tams_tag_filters_or_400(req, &tf, &ntf) ||
        tams_req_query_bool_or_400(req, "reverse_order", &reverse) ||
        tams_paging_parse_or_400(req, &pg))
        return;
    if (ntf)
        mf = tams_pool_alloc(&req->pool, ntf * sizeof(*mf));
    for (size_t i = 0; i < ntf; i++)
        mf[i] = (struct tams_media_tag_filter){tf[i].name, tf[i].value, tf[i].exists};
    list = tams_pool_alloc(&req->pool, (app->nbackends + 1) * sizeof(*list));
    for (size_t i = 0; i < app->nbackends; i++)
        if (tams_media_tags_match(app->backends[i]->tags, mf, ntf))
            list[n++] = app->backends[i];
    qsort(list, n, sizeof(*list), by_label);
    if (pg.page) {
        char *rest;
        unsigned long long v = strtoull(pg.page, &rest, 10);
        if (*rest || !isdigit((unsigned char)pg.page[0]) || v < 1 || v > n) {
            tams_send_error(req, TAMS_ERR_BADPAGE,
                            "query parameter 'page' is not a page key "
                            "this listing gave");
            tams_paging_release(&pg);
            return;
        }
        start = (size_t)v;
    }
    end = n - start > (size_t)pg.limit ? start + (size_t)pg.limit : n;
    j = tams_res_json(req);
    tams_json_arr_open(j);
    for (size_t i = start; i < end; i++)
        write_backend(j, list[reverse ? n - 1 - i : i], true);
    tams_json_arr_close(j);
    if (end < n)
        tams_buf_addf(&pg.next_key, "%zu", end);
    snprintf(count, sizeof(count), "%zu", end - start);
    tams_res_header(req, "X-Paging-Count", count);
    tams_res_header(req, "X-Paging-Reverse-Order", reverse ? "true" : "false");
    if (!tams_paging_headers(req, &pg))
        tams_send_json_body(req, 200);
    tams_paging_release(&pg);
}

/* 7.0: every backend in configuration order, without tags or paging. */
void storage_backends_get(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    struct tams_json *j;

    if (req->api == TAMS_API_82) {
        storage_backends_get_82(req);
        return;
    }
    j = tams_res_json(req);
    tams_json_arr_open(j);
    for (size_t i = 0; i < app->nbackends; i++)
        write_backend(j, app->backends[i], false);
    tams_json_arr_close(j);
    tams_send_json_body(req, 200);
}

void health_get(struct tams_req *req)
{
    /* Liveness only: never touches the store, so it cannot block. */
    static const char body[] = "{\"status\":\"ok\"}";
    tams_send_json_text(req, 200, body, sizeof(body) - 1);
}

/* Readiness: the store answers a cheap query on this thread's connection and every media
 * backend can take uploads (media.h ready). 503 names the first part that failed. Like /health
 * it is open and not logged, so probes neither need credentials nor flood the log. */
void ready_get(struct tams_req *req)
{
    static const char body[] = "{\"status\":\"ready\"}";
    struct tams_app *app = app_of(req);
    struct tams_buf why = TAMS_BUF_INIT(1024);
    int rc = tams_store_ping(app->store);

    if (rc) {
        tams_send_error(req, TAMS_ERR_UNAVAILABLE, "not ready: the %s store does not answer (%s)",
                        tams_store_name(app->store), tams_strerror(rc));
        tams_buf_release(&why);
        return;
    }
    for (size_t i = 0; i < app->nbackends; i++) {
        const struct tams_media_backend *b = app->backends[i];
        if (!b->ops->ready || b->ops->ready(b, &why))
            continue;
        tams_send_error(req, TAMS_ERR_UNAVAILABLE, "not ready: media backend '%s' (%s): %s",
                        b->label ? b->label : b->id, b->id, why.data);
        tams_buf_release(&why);
        return;
    }
    tams_buf_release(&why);
    tams_send_json_text(req, 200, body, sizeof(body) - 1);
}

static void cache_metrics(struct tams_buf *text, const char *name, const char *what,
                          struct tams_doc_cache *c)
{
    struct tams_doc_cache_stats st;
    uint64_t asked;

    tams_doc_cache_stats(c, &st);
    asked = st.hits + st.misses;
    tams_buf_addf(text,
                  "# HELP tams_%s_cache_requests_total %s answered from the %s cache (hit) or the "
                  "store (miss).\n"
                  "# TYPE tams_%s_cache_requests_total counter\n"
                  "tams_%s_cache_requests_total{result=\"hit\"} %" PRIu64 "\n"
                  "tams_%s_cache_requests_total{result=\"miss\"} %" PRIu64 "\n",
                  name, what, name, name, name, st.hits, name, st.misses);
    tams_buf_addf(text,
                  "# HELP tams_%s_cache_hit_ratio Share of %s answered from the cache since the "
                  "start (0 before the first).\n"
                  "# TYPE tams_%s_cache_hit_ratio gauge\n"
                  "tams_%s_cache_hit_ratio %.6f\n"
                  "# HELP tams_%s_cache_entries Documents in the %s cache.\n"
                  "# TYPE tams_%s_cache_entries gauge\n"
                  "tams_%s_cache_entries %zu\n"
                  "# HELP tams_%s_cache_bytes Memory the %s cache's entries take, counted against "
                  "its budget.\n"
                  "# TYPE tams_%s_cache_bytes gauge\n"
                  "tams_%s_cache_bytes %zu\n",
                  name, what, name, name, asked ? (double)st.hits / (double)asked : 0.0, name, name,
                  name, name, st.entries, name, name, name, name, st.bytes);
}

void metrics_get(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    struct tams_buf text = TAMS_BUF_INIT(64u << 20);
    tams_metrics_render(tams_http_metrics(app->http), &text);
    tams_registry_render(app->metrics, &text);
    cache_metrics(&text, "flow", "GET /flows/{id}", app->flow_cache);
    cache_metrics(&text, "source", "GET /sources/{id}", app->source_cache);
    tams_send_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", text.data, text.len);
    tams_buf_release(&text);
}
