/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - picks the metadata store back end from the store URL and forwards to it. */
#include "core/common.h"
#include "store/backend_int.h"
#include "store/pg_int.h"
#include "store/store.h"

struct tams_store {
    const struct tams_store_ops *ops;
    struct tams_store_be *be;
};

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int tams_store_open(struct tams_store **out, const char *url, const char *data_dir, int pool_size,
                    struct tams_buf *why)
{
    const struct tams_store_ops *ops = NULL;
    struct tams_store_be *be = NULL;
    int rc;

    *out = NULL;
    if (!url)
        url = "";
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) {
        ops = &tams_store_pg_ops;
    } else if (url[0] == '\0' || has_prefix(url, "sqlite:")) {
        ops = &tams_store_sqlite_ops;
    } else {
        if (why)
            tams_buf_addf(
                why, "unknown store URL scheme in '%s' (use sqlite:PATH or postgresql://...)", url);
        return TAMS_ERR_BADREQUEST;
    }
    tams__store_pg_set_pool_size(pool_size);
    rc = ops->open(&be, url, data_dir);
    if (rc) {
        if (why)
            tams_buf_addf(why, "cannot open the %s metadata store", ops->name);
        return rc;
    }
    *out = tams_calloc(1, sizeof(**out));
    (*out)->ops = ops;
    (*out)->be = be;
    return 0;
}

void tams_store_close(struct tams_store *st)
{
    if (!st)
        return;
    st->ops->close(st->be);
    tams_free(st);
}

const char *tams_store_name(const struct tams_store *st)
{
    return st->ops->name;
}

unsigned tams_store_caps(const struct tams_store *st)
{
    return st->ops->webhook_lease ? TAMS_STORE_CAP_LEASES : 0;
}

int tams_store_webhook_lease(struct tams_store *st, const char *id, const char *owner, int seconds,
                             int64_t *cursor)
{
    if (!st->ops->webhook_lease)
        return TAMS_ERR_INTERNAL;
    return st->ops->webhook_lease(st->be, id, owner, seconds, cursor);
}

int tams_store_ping(struct tams_store *st)
{
    return st->ops->ping(st->be);
}

uint64_t tams_store_generation(struct tams_store *st)
{
    return st->ops->generation(st->be);
}

int tams_store_setting_get(struct tams_store *st, const char *key, struct tams_buf *out)
{
    return st->ops->setting_get(st->be, key, out);
}

int tams_store_setting_set(struct tams_store *st, const char *key, const char *value)
{
    return st->ops->setting_set(st->be, key, value);
}

int tams_store_flow_put(struct tams_store *st, const struct tams_flow_index *idx, const char *doc,
                        size_t doclen, const char *principal, unsigned *effects,
                        struct tams_buf *why)
{
    return st->ops->flow_put(st->be, idx, doc, doclen, principal, effects, why);
}

int tams_store_flow_get(struct tams_store *st, const char *id, tams_flow_cb cb, void *ctx)
{
    return st->ops->flow_get(st->be, id, cb, ctx);
}

int tams_store_flow_mutate(struct tams_store *st, const char *id, bool allow_read_only,
                           tams_flow_mutate_fn fn, void *ctx, const char *principal,
                           struct tams_buf *why)
{
    return st->ops->flow_mutate(st->be, id, allow_read_only, fn, ctx, principal, why);
}

int tams_store_flow_delete(struct tams_store *st, const char *id, unsigned *effects)
{
    return st->ops->flow_delete(st->be, id, effects);
}

int tams_store_flow_list(struct tams_store *st, const struct tams_flow_filter *f,
                         const struct tams_page *page, tams_flow_cb cb, void *ctx)
{
    return st->ops->flow_list(st->be, f, page, cb, ctx);
}

int tams_store_flow_timerange(struct tams_store *st, const char *id,
                              const struct tams_timerange *within, struct tams_timerange *out)
{
    return st->ops->flow_timerange(st->be, id, within, out);
}

int tams_store_source_get(struct tams_store *st, const char *id, tams_source_cb cb, void *ctx)
{
    return st->ops->source_get(st->be, id, cb, ctx);
}

int tams_store_source_list(struct tams_store *st, const struct tams_source_filter *f,
                           const struct tams_page *page, tams_source_cb cb, void *ctx)
{
    return st->ops->source_list(st->be, f, page, cb, ctx);
}

int tams_store_source_set_prop(struct tams_store *st, const char *id, enum tams_source_prop prop,
                               const char *value, const char *principal)
{
    return st->ops->source_set_prop(st->be, id, prop, value, principal);
}

int tams_store_source_set_tag(struct tams_store *st, const char *id, const char *name,
                              const char *value, const char *principal)
{
    return st->ops->source_set_tag(st->be, id, name, value, principal);
}

int tams_store_segments_add(struct tams_store *st, const char *flow_id,
                            const struct tams_segment *segs, size_t n, int *results,
                            struct tams_buf *whys, const char *principal)
{
    return st->ops->segments_add(st->be, flow_id, segs, n, results, whys, principal);
}

int tams_store_segments_list(struct tams_store *st, const char *flow_id,
                             const struct tams_segment_filter *f, const struct tams_page *page,
                             tams_segment_cb cb, void *ctx)
{
    return st->ops->segments_list(st->be, flow_id, f, page, cb, ctx);
}

int tams_store_objects_allocate(struct tams_store *st, const char *flow_id, const char *storage_id,
                                const struct tams_object_alloc *objs, size_t n,
                                struct tams_buf *why)
{
    return st->ops->objects_allocate(st->be, flow_id, storage_id, objs, n, why);
}

int tams_store_object_get(struct tams_store *st, const char *id, const struct tams_page *page,
                          tams_object_cb cb, void *ctx)
{
    return st->ops->object_get(st->be, id, page, cb, ctx);
}

int tams_store_objects_unregistered(struct tams_store *st, const char *const *ids, size_t n,
                                    tams_unregistered_object_cb cb, void *ctx)
{
    return st->ops->objects_unregistered(st->be, ids, n, cb, ctx);
}

int tams_store_delete_start(struct tams_store *st, const struct tams_delete_spec *spec,
                            unsigned *effects, tams_delete_request_cb cb, void *ctx)
{
    return st->ops->delete_start(st->be, spec, effects, cb, ctx);
}

int tams_store_delete_requests_list(struct tams_store *st, const char *now,
                                    tams_delete_request_cb cb, void *ctx)
{
    return st->ops->delete_requests_list(st->be, now, cb, ctx);
}

int tams_store_delete_request_get(struct tams_store *st, const char *id, const char *now,
                                  tams_delete_request_cb cb, void *ctx)
{
    return st->ops->delete_request_get(st->be, id, now, cb, ctx);
}

int tams_store_delete_requests_step(struct tams_store *st, int batch, int64_t ttl, bool *worked)
{
    return st->ops->delete_requests_step(st->be, batch, ttl, worked);
}

int tams_store_gc_collect(struct tams_store *st, const struct tams_gc_params *p, size_t *taken)
{
    return st->ops->gc_collect(st->be, p, taken);
}

int tams_store_gc_trash_list(struct tams_store *st, int limit, tams_trash_cb cb, void *ctx)
{
    return st->ops->gc_trash_list(st->be, limit, cb, ctx);
}

int tams_store_gc_trash_done(struct tams_store *st, int64_t id)
{
    return st->ops->gc_trash_done(st->be, id);
}

int tams_store_gc_trash_retry(struct tams_store *st, int64_t id, int64_t delay)
{
    return st->ops->gc_trash_retry(st->be, id, delay);
}

int tams_store_webhook_put(struct tams_store *st, const struct tams_webhook_rec *rec,
                           enum tams_webhook_put_result *result)
{
    return st->ops->webhook_put(st->be, rec, result);
}

int tams_store_webhook_list(struct tams_store *st, tams_webhook_cb cb, void *ctx)
{
    return st->ops->webhook_list(st->be, cb, ctx);
}

int tams_store_events_after(struct tams_store *st, int64_t after, int limit, tams_event_cb cb,
                            void *ctx)
{
    return st->ops->events_after(st->be, after, limit, cb, ctx);
}

int tams_store_webhook_advance(struct tams_store *st, const char *id, const char *owner,
                               int64_t seq)
{
    return st->ops->webhook_advance(st->be, id, owner, seq);
}

int tams_store_events_pending(struct tams_store *st, int64_t *count)
{
    return st->ops->events_pending(st->be, count);
}
