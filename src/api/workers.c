/* SPDX-License-Identifier: Apache-2.0 */
/* workers.c - background threads: deletion requests and the garbage collector.
 *
 * Both only drive store operations that are one transaction each, so a crash or SIGKILL at any
 * point leaves either the state before a batch or after it; on the next start the deletion
 * worker resumes unfinished requests and the collector finds objects and trash entries where
 * they were. Media is deleted only for trash entries, which the store writes in the same
 * transaction that removed the object's row after checking it has no reference.
 */
#include "core/common.h"
#include "core/clock.h"
#include "core/log.h"
#include "api/app.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#define GC_BATCH 1000        /* objects taken per transaction */
#define TRASH_BATCH 100      /* trash entries read at once */
#define RETRY_IO 60          /* seconds before a failed media deletion is tried again */
#define RETRY_NO_BACKEND 600 /* ... when its backend is not configured (any more) */
#define BATCH_PAUSE_MS 2     /* between deletion batches, so request writers get the lock */

struct tams_workers {
    struct tams_app *app;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool stop, kick;
    pthread_t del_thread, gc_thread;
    bool del_started, gc_started;
};

/* Wait up to ms (or a kick when `kickable`); false once stop is set. */
static bool pause_ms(struct tams_workers *w, int64_t ms, bool kickable)
{
    struct timespec until;
    bool go;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stop && !(kickable && w->kick))
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
            break;
    if (kickable)
        w->kick = false;
    go = !w->stop;
    pthread_mutex_unlock(&w->mu);
    return go;
}

static bool stopping(struct tams_workers *w)
{
    bool s;

    pthread_mutex_lock(&w->mu);
    s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

static void *deletion_main(void *arg)
{
    struct tams_workers *w = arg;
    const struct tams_config *cfg = w->app->cfg;
    const struct tams_store_handle *h = &w->app->store;

    for (;;) {
        bool worked = false;
        int rc = h->ops->delete_requests_step(h->st, cfg->delete_batch, cfg->delete_request_ttl,
                                              &worked);

        if (rc && rc != TAMS_ERR_UNAVAILABLE)
            tams_log_warn("deletion worker: %s", tams_strerror(rc));
        if (!pause_ms(w, worked && !rc ? BATCH_PAUSE_MS : (int64_t)cfg->gc_interval * 1000,
                      !worked || rc))
            break;
    }
    return NULL;
}

static int trash_one(void *ctx, const struct tams_trash_rec *rec)
{
    struct tams_workers *w = ctx;
    const struct tams_store_handle *h = &w->app->store;
    const struct tams_media_backend *b = tams_app_backend(w->app, rec->storage_id);
    int rc;

    if (stopping(w))
        return 1;
    if (!b) {
        tams_log_warn("garbage collector: object '%s' is in storage backend '%s', which is not "
                      "configured; its media stays until it is",
                      rec->object_id, rec->storage_id ? rec->storage_id : "");
        return h->ops->gc_trash_retry(h->st, rec->id, RETRY_NO_BACKEND);
    }
    rc = b->ops->remove(b, rec->key);
    if (rc) {
        tams_log_warn("garbage collector: cannot delete the media of object '%s' from '%s' "
                      "(%s); retrying in %d s",
                      rec->object_id, b->label ? b->label : b->id, tams_strerror(rc), RETRY_IO);
        return h->ops->gc_trash_retry(h->st, rec->id, RETRY_IO);
    }
    tams_log(TAMS_LOG_DEBUG, "garbage collector: deleted object '%s' from '%s'", rec->object_id,
             b->label ? b->label : b->id);
    return h->ops->gc_trash_done(h->st, rec->id);
}

struct count_ctx {
    struct tams_workers *w;
    size_t n;
};

static int trash_count(void *ctx, const struct tams_trash_rec *rec)
{
    struct count_ctx *c = ctx;
    int rc = trash_one(c->w, rec);

    c->n += rc == 0;
    return rc;
}

/* One round: take every object that is due, then delete the media of the trash. */
static void gc_round(struct tams_workers *w)
{
    const struct tams_config *cfg = w->app->cfg;
    const struct tams_store_handle *h = &w->app->store;
    struct tams_gc_params p = {cfg->gc_grace, cfg->gc_unused_after, GC_BATCH};
    size_t taken;
    int rc;

    do {
        taken = 0;
        rc = h->ops->gc_collect(h->st, &p, &taken);
        if (rc && rc != TAMS_ERR_UNAVAILABLE)
            tams_log_warn("garbage collector: %s", tams_strerror(rc));
        if (taken)
            tams_log(TAMS_LOG_DEBUG, "garbage collector: took %zu object(s)", taken);
    } while (!rc && taken >= GC_BATCH && !stopping(w));
    for (;;) {
        struct count_ctx c = {w, 0};

        rc = h->ops->gc_trash_list(h->st, TRASH_BATCH, trash_count, &c);
        if (rc || c.n < TRASH_BATCH || stopping(w))
            break;
    }
    if (rc < 0 && rc != TAMS_ERR_UNAVAILABLE)
        tams_log_warn("garbage collector: %s", tams_strerror(rc));
}

static void *gc_main(void *arg)
{
    struct tams_workers *w = arg;

    do
        gc_round(w);
    while (pause_ms(w, (int64_t)w->app->cfg->gc_interval * 1000, false));
    return NULL;
}

int tams_workers_start(struct tams_app *app, struct tams_buf *why)
{
    struct tams_workers *w = tams_calloc(1, sizeof(*w));
    pthread_condattr_t ca;
    int rc;

    w->app = app;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    app->workers = w;
    rc = pthread_create(&w->del_thread, NULL, deletion_main, w);
    w->del_started = rc == 0;
    if (rc == 0) {
        rc = pthread_create(&w->gc_thread, NULL, gc_main, w);
        w->gc_started = rc == 0;
    }
    if (rc) {
        tams_buf_addf(why, "cannot start the background workers: %s", strerror(rc));
        tams_workers_stop(app);
        return TAMS_ERR_INTERNAL;
    }
    return 0;
}

void tams_workers_stop(struct tams_app *app)
{
    struct tams_workers *w = app->workers;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->del_started)
        pthread_join(w->del_thread, NULL);
    if (w->gc_started)
        pthread_join(w->gc_thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    tams_free(w);
    app->workers = NULL;
}

void tams_workers_wake(struct tams_app *app)
{
    struct tams_workers *w = app->workers;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->kick = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}
