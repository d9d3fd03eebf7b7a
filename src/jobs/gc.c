/* SPDX-License-Identifier: Apache-2.0 */
/* gc.c - object garbage collection: take due objects, then delete the media of the trash. */
#include "core/common.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/registry.h"
#include "jobs/gc.h"
#include "store/analytics.h"

#define GC_BATCH 1000        /* objects taken per transaction */
#define TRASH_BATCH 100      /* trash entries read at once */
#define RETRY_IO 60          /* seconds before a failed media deletion is tried again */
#define RETRY_NO_BACKEND 600 /* ... when its backend is not configured (any more) */
#define INGEST_MINUTES 1440  /* ingest per minute is kept for 24 hours (docs/analytics.md) */

void tams_gc_metrics(struct tams_gc *gc, struct tams_registry *r)
{
    gc->rounds = tams_registry_counter(r, "tams_gc_rounds_total", "Garbage collector rounds.");
    gc->collected = tams_registry_counter(r, "tams_gc_objects_collected_total",
                                          "Objects the collector took out of the store.");
    gc->deleted = tams_registry_counter(r, "tams_gc_media_deleted_total",
                                        "Collected objects whose media was deleted.");
    gc->delete_failures =
        tams_registry_counter(r, "tams_gc_media_delete_failures_total",
                              "Media deletions that failed or found no backend (retried later).");
    gc->errors =
        tams_registry_counter(r, "tams_gc_errors_total", "Collector store operations that failed.");
}

static void count(struct tams_counter *c, uint64_t n)
{
    if (c && n)
        tams_counter_add(c, n);
}

struct round {
    const struct tams_gc *gc;
    struct tams_job *job;
    size_t done; /* trash entries handled in this batch */
};

static int trash_one(struct round *r, const struct tams_trash_rec *rec)
{
    struct tams_store *st = r->gc->store;
    const struct tams_media_backend *b =
        tams_media_find(r->gc->backends, r->gc->nbackends, rec->storage_id);
    int rc;

    if (tams_job_stopping(r->job))
        return 1;
    if (!b) {
        tams_log_warn("garbage collector: object '%s' is in storage backend '%s', which is not "
                      "configured; its media stays until it is",
                      rec->object_id, rec->storage_id ? rec->storage_id : "");
        count(r->gc->delete_failures, 1);
        return tams_store_gc_trash_retry(st, rec->id, RETRY_NO_BACKEND);
    }
    rc = b->ops->remove(b, rec->key);
    if (rc) {
        tams_log_warn("garbage collector: cannot delete the media of object '%s' from '%s' "
                      "(%s); retrying in %d s",
                      rec->object_id, b->label ? b->label : b->id, tams_strerror(rc), RETRY_IO);
        count(r->gc->delete_failures, 1);
        return tams_store_gc_trash_retry(st, rec->id, RETRY_IO);
    }
    tams_log(TAMS_LOG_DEBUG, "garbage collector: deleted object '%s' from '%s'", rec->object_id,
             b->label ? b->label : b->id);
    count(r->gc->deleted, 1);
    return tams_store_gc_trash_done(st, rec->id);
}

static int trash_count(void *ctx, const struct tams_trash_rec *rec)
{
    struct round *r = ctx;
    int rc = trash_one(r, rec);

    r->done += rc == 0;
    return rc;
}

/* One round: take every object that is due, then delete the media of the trash. */
static void gc_round(const struct tams_gc *gc, struct tams_job *job)
{
    struct tams_store *st = gc->store;
    struct tams_gc_params p = {gc->cfg->gc_grace, gc->cfg->gc_unused_after, GC_BATCH};
    size_t taken;
    int rc;

    /* Soft-deleted entries past their retention first: their objects are then due below. */
    do {
        taken = 0;
        rc = tams_store_bin_expire(st, GC_BATCH, &taken);
        if (rc && rc != TAMS_ERR_UNAVAILABLE && rc != TAMS_ERR_NOSPACE)
            tams_log_warn("garbage collector: trash: %s", tams_strerror(rc));
        if (taken)
            tams_log(TAMS_LOG_DEBUG, "garbage collector: %zu trash entries expired", taken);
    } while (!rc && taken >= GC_BATCH && !tams_job_stopping(job));
    do {
        taken = 0;
        rc = tams_store_gc_collect(st, &p, &taken);
        count(gc->collected, taken);
        count(gc->errors, rc != 0);
        if (rc && rc != TAMS_ERR_UNAVAILABLE && rc != TAMS_ERR_NOSPACE) /* core/diskfull logs it */
            tams_log_warn("garbage collector: %s", tams_strerror(rc));
        if (taken)
            tams_log(TAMS_LOG_DEBUG, "garbage collector: took %zu object(s)", taken);
    } while (!rc && taken >= GC_BATCH && !tams_job_stopping(job));
    for (;;) {
        struct round r = {gc, job, 0};

        rc = tams_store_gc_trash_list(st, TRASH_BATCH, trash_count, &r);
        if (rc || r.done < TRASH_BATCH || tams_job_stopping(job))
            break;
    }
    count(gc->errors, rc < 0);
    if (rc < 0 && rc != TAMS_ERR_UNAVAILABLE && rc != TAMS_ERR_NOSPACE)
        tams_log_warn("garbage collector: %s", tams_strerror(rc));
    /* The analytics' ingest buckets older than the window. */
    rc = tams_store_stats_ingest_prune(st, tams_clock_wall_us() / 60000000 - INGEST_MINUTES, NULL);
    count(gc->errors, rc != 0);
    count(gc->rounds, 1);
    if (rc && rc != TAMS_ERR_UNAVAILABLE)
        tams_log_warn("garbage collector: ingest buckets: %s", tams_strerror(rc));
}

void tams_gc_run(struct tams_job *job, void *ctx)
{
    const struct tams_gc *gc = ctx;

    do
        gc_round(gc, job);
    while (tams_job_pause(job, (int64_t)gc->cfg->gc_interval * 1000));
}
