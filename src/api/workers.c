/* SPDX-License-Identifier: Apache-2.0 */
/* workers.c - background threads: deletion requests, the garbage collector and webhook
 * delivery.
 *
 * Both only drive store operations that are one transaction each, so a crash or SIGKILL at any
 * point leaves either the state before a batch or after it; on the next start the deletion
 * worker resumes unfinished requests and the collector finds objects and trash entries where
 * they were. Media is deleted only for trash entries, which the store writes in the same
 * transaction that removed the object's row after checking it has no reference.
 */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/random.h"
#include "api/app.h"
#include "media/get_urls.h"
#include "events/ssrf.h"
#include "events/webhook.h"
#include "http/server.h"
#include "store/outbox.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>

#define GC_BATCH 1000        /* objects taken per transaction */
#define TRASH_BATCH 100      /* trash entries read at once */
#define RETRY_IO 60          /* seconds before a failed media deletion is tried again */
#define RETRY_NO_BACKEND 600 /* ... when its backend is not configured (any more) */
#define BATCH_PAUSE_MS 2     /* between deletion batches, so request writers get the lock */

#define HOOK_POLL_MS 100     /* delivery threads look for new events this often when idle */
#define HOOK_EVENTS_BATCH 64 /* events read at once per webhook */
#define HOOK_BACKOFF_MIN_MS 500
#define HOOK_BACKOFF_MAX_MS 60000

struct delivery;

struct tams_workers {
    struct tams_app *app;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool stop, kick;
    pthread_t del_thread, gc_thread;
    bool del_started, gc_started;
    struct delivery *hooks; /* cfg->webhook_workers of them; NULL without webhook support */
    int nhooks;
    char *base_url; /* for get_urls in events; NULL until the HTTP server runs (mu) */
    char owner[TAMS_UUID_STRLEN + 1]; /* this process, as holder of webhook leases */
    /* /metrics counters (atomic) */
    uint64_t delivered, failed_attempts, given_up, filtered;
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
    struct tams_store *st = w->app->store;

    for (;;) {
        bool worked = false;
        int rc = tams_store_delete_requests_step(st, cfg->delete_batch, cfg->delete_request_ttl,
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
    struct tams_store *st = w->app->store;
    const struct tams_media_backend *b = tams_app_backend(w->app, rec->storage_id);
    int rc;

    if (stopping(w))
        return 1;
    if (!b) {
        tams_log_warn("garbage collector: object '%s' is in storage backend '%s', which is not "
                      "configured; its media stays until it is",
                      rec->object_id, rec->storage_id ? rec->storage_id : "");
        return tams_store_gc_trash_retry(st, rec->id, RETRY_NO_BACKEND);
    }
    rc = b->ops->remove(b, rec->key);
    if (rc) {
        tams_log_warn("garbage collector: cannot delete the media of object '%s' from '%s' "
                      "(%s); retrying in %d s",
                      rec->object_id, b->label ? b->label : b->id, tams_strerror(rc), RETRY_IO);
        return tams_store_gc_trash_retry(st, rec->id, RETRY_IO);
    }
    tams_log(TAMS_LOG_DEBUG, "garbage collector: deleted object '%s' from '%s'", rec->object_id,
             b->label ? b->label : b->id);
    return tams_store_gc_trash_done(st, rec->id);
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
    struct tams_store *st = w->app->store;
    struct tams_gc_params p = {cfg->gc_grace, cfg->gc_unused_after, GC_BATCH};
    size_t taken;
    int rc;

    do {
        taken = 0;
        rc = tams_store_gc_collect(st, &p, &taken);
        if (rc && rc != TAMS_ERR_UNAVAILABLE)
            tams_log_warn("garbage collector: %s", tams_strerror(rc));
        if (taken)
            tams_log(TAMS_LOG_DEBUG, "garbage collector: took %zu object(s)", taken);
    } while (!rc && taken >= GC_BATCH && !stopping(w));
    for (;;) {
        struct count_ctx c = {w, 0};

        rc = tams_store_gc_trash_list(st, TRASH_BATCH, trash_count, &c);
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

/* ---- webhook delivery ---------------------------------------------------------------------
 *
 * Events wait in the store's outbox; each webhook has a cursor there (the last event it is done
 * with). Webhook i is delivered by thread hash(id) % webhook_workers only, one event at a
 * time, so its order holds: the next event is not sent before the previous one got a 2xx or
 * was given up after webhook_retry_for seconds of failures (backoff doubles from 0.5 s to 60 s,
 * with jitter). The cursor moves in the store after each outcome, so a restart resends at most
 * the event in flight. Retry timing is in memory: after a restart a failing event is tried at
 * once and its webhook_retry_for starts again.
 *
 * Where several instances share the store (webhook_lease not NULL), an instance delivers a
 * webhook only while it holds its lease, renewed before each attempt when a third of it has
 * gone, and the cursor moves only while the lease is still held: so one instance at a time
 * sends a webhook's events, in order, and another takes over when an instance stops (the lease
 * is given up) or dies (it runs out: 3 x webhook_timeout + 10 s).
 */

#define HOOK_LEASE_RETRY_MS 1000 /* a webhook leased elsewhere is looked at again after this */

struct hook_state {
    char id[TAMS_UUID_STRLEN + 1];
    int64_t seq;      /* the event the failures below are about */
    int64_t first_us; /* monotonic time of its first failure, 0 = none */
    int64_t next_us;  /* not before this monotonic time */
    int attempts;
    bool seen;               /* still registered (mark and sweep each round) */
    int64_t leased_until_us; /* monotonic; our lease surely runs until then (0: not ours) */
    int64_t lease_retry_us;  /* leased elsewhere: do not ask again before this */
};

struct delivery {
    struct tams_workers *w;
    int index;
    pthread_t thread;
    bool started;
    CURL *curl;
    struct hook_state *hs;
    size_t nhs;
};

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct hook_state *hook_state(struct delivery *d, const char *id)
{
    for (size_t i = 0; i < d->nhs; i++)
        if (strcmp(d->hs[i].id, id) == 0)
            return &d->hs[i];
    d->hs = tams_realloc(d->hs, tams_st_mult(d->nhs + 1, sizeof(*d->hs)));
    memset(&d->hs[d->nhs], 0, sizeof(*d->hs));
    snprintf(d->hs[d->nhs].id, sizeof(d->hs[d->nhs].id), "%s", id);
    return &d->hs[d->nhs++];
}

/* One member of a stored segment written as is; "_" members are the store's, not the API's. */
static void write_segment(struct tams_json *j, const struct tams_app *app, const char *base,
                          json_object *seg, const struct tams_get_urls_filter *f, int64_t now)
{
    struct tams_get_urls_src src = {0};
    json_object *obj = NULL, *v;
    bool controlled = false;
    const char *storage_id = NULL;

    tams_json_obj_open(j);
    json_object_object_foreach(seg, key, val)
    {
        const char *text;

        if (key[0] == '_')
            continue;
        text = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
        tams_json_key(j, key);
        tams_json_raw(j, text, strlen(text));
    }
    if (json_object_object_get_ex(seg, "_get_urls", &v))
        src.uncontrolled = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (json_object_object_get_ex(seg, "_object", &obj)) {
        if (json_object_object_get_ex(obj, "controlled", &v))
            controlled = json_object_get_boolean(v);
        if (json_object_object_get_ex(obj, "storage_id", &v))
            storage_id = json_object_get_string(v);
        if (json_object_object_get_ex(obj, "key", &v))
            src.key = json_object_get_string(v);
    }
    if (controlled)
        src.backend = tams_app_backend(app, storage_id);
    if (base)
        tams_get_urls_write(j, &src, base, f, now);
    tams_json_obj_close(j);
}

/* flows/segments_added with get_urls shaped by this webhook's transforms (notes §8.3). */
static int write_segments_added(struct tams_json *j, const struct tams_app *app, const char *base,
                                const char *payload, const struct tams_webhook_reg *reg)
{
    struct tams_get_urls_filter f = {.presigned = reg->presigned, .verbose = reg->verbose_storage};
    json_object *doc = json_tokener_parse(payload), *flow_id, *segs;
    int64_t now = tams_clock_wall_us() / 1000000;

    if (!doc || !json_object_object_get_ex(doc, "flow_id", &flow_id) ||
        !json_object_object_get_ex(doc, "segments", &segs) ||
        !json_object_is_type(segs, json_type_array)) {
        json_object_put(doc);
        return TAMS_ERR_INTERNAL;
    }
    if (reg->accept_get_urls.set && reg->accept_get_urls.n == 0)
        f.none = true;
    else if (reg->accept_get_urls.set)
        f.labels = reg->accept_get_urls.v, f.nlabels = reg->accept_get_urls.n;
    if (reg->accept_storage_ids.n)
        f.storage_ids = reg->accept_storage_ids.v, f.nstorage_ids = reg->accept_storage_ids.n;
    tams_json_obj_open(j);
    tams_json_kstr(j, "flow_id", json_object_get_string(flow_id));
    tams_json_key(j, "segments");
    tams_json_arr_open(j);
    for (size_t i = 0; i < json_object_array_length(segs); i++)
        write_segment(j, app, base, json_object_array_get_idx(segs, i), &f, now);
    tams_json_arr_close(j);
    tams_json_obj_close(j);
    json_object_put(doc);
    return 0;
}

/* An IP address literal needs no resolution, so nothing to pin. */
static bool host_is_literal(const char *host)
{
    struct in_addr a;

    return host[0] == '[' || inet_pton(AF_INET, host, &a) == 1;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* One POST of body to the webhook: 0 on a 2xx, else an error (logged at debug level). The
 * host is resolved and checked again here, and the connection pinned to the checked address,
 * so a name that changed to an internal address since registration (DNS rebinding) is
 * refused. */
static int post_event(struct delivery *d, const struct tams_webhook_reg *reg, const char *body,
                      size_t len)
{
    const struct tams_config *cfg = d->w->app->cfg;
    struct curl_slist *headers = NULL, *resolve = NULL;
    struct tams_buf why = TAMS_BUF_INIT(1024), line = TAMS_BUF_INIT(8192);
    char addr[TAMS_SSRF_ADDRMAX], *port = NULL;
    CURLU *u = NULL;
    long status = 0;
    CURLcode cc;
    int rc;

    if ((rc = tams_ssrf_resolve(reg->host, cfg->webhooks_allow_private, addr, &why))) {
        tams_log_warn("webhook %s: %s", reg->url, why.data);
        goto out;
    }
    rc = TAMS_ERR_IO;
    u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, reg->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    if (!host_is_literal(reg->host)) {
        /* A name: replace whatever the handle's DNS cache holds, then pin. */
        tams_buf_addf(&line, "-%s:%s", reg->host, port);
        resolve = curl_slist_append(resolve, line.data);
        tams_buf_reset(&line);
        tams_buf_addf(&line, strchr(addr, ':') ? "%s:%s:[%s]" : "%s:%s:%s", reg->host, port, addr);
        resolve = curl_slist_append(resolve, line.data);
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    if (reg->api_key_name) {
        tams_buf_reset(&line);
        tams_buf_addf(&line, "%s: %s", reg->api_key_name, reg->api_key_value);
        headers = curl_slist_append(headers, line.data);
    }
    curl_easy_reset(d->curl);
    curl_easy_setopt(d->curl, CURLOPT_URL, reg->url);
    curl_easy_setopt(d->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(d->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(d->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, (long)cfg->webhook_timeout * 1000L);
    curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->webhook_timeout * 1000L);
    curl_easy_setopt(d->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(d->curl, CURLOPT_USERAGENT, "tamsd/" TAMS_VERSION);
    curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, discard);
    if (resolve)
        curl_easy_setopt(d->curl, CURLOPT_RESOLVE, resolve);
    cc = curl_easy_perform(d->curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK && status >= 200 && status < 300)
        rc = 0;
    else
        tams_log(TAMS_LOG_DEBUG, "webhook %s: %s", reg->url,
                 cc != CURLE_OK ? curl_easy_strerror(cc) : "answered with a non-2xx status");
out:
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_free(port);
    curl_url_cleanup(u);
    tams_buf_release(&why);
    tams_buf_release(&line);
    return rc;
}

struct hook_round {
    struct delivery *d;
    const struct tams_webhook_rec *rec;
    const struct tams_webhook_reg *reg;
    struct hook_state *hs;
    int64_t done_seq; /* filtered events not yet recorded as done */
    bool worked;
};

static int lease_seconds(const struct tams_workers *w)
{
    return 3 * w->app->cfg->webhook_timeout + 10;
}

/* Make sure this instance holds the webhook's lease with at least two thirds of it left,
 * taking or renewing it when not. 0: held (*cursor set when the store was asked, else left
 * alone); 1: not ours now; else an error. Always 0 where the store has no leases. */
static int hold_lease(struct tams_workers *w, const char *id, struct hook_state *hs,
                      int64_t *cursor)
{
    struct tams_store *st = w->app->store;
    int64_t now = tams_clock_mono_us(), lease_us = (int64_t)lease_seconds(w) * 1000000;
    int rc;

    if (!(tams_store_caps(st) & TAMS_STORE_CAP_LEASES) ||
        hs->leased_until_us - now > lease_us * 2 / 3)
        return 0;
    if (now < hs->lease_retry_us)
        return 1;
    rc = tams_store_webhook_lease(st, id, w->owner, lease_seconds(w), cursor);
    if (rc == 0) {
        hs->leased_until_us = now + lease_us - 1000000; /* a second for clock rate drift */
        return 0;
    }
    hs->leased_until_us = 0;
    if (rc == TAMS_ERR_CONFLICT) {
        hs->lease_retry_us = now + HOOK_LEASE_RETRY_MS * 1000;
        return 1;
    }
    return rc == TAMS_ERR_NOTFOUND ? 1 : rc;
}

static int advance(struct hook_round *r, int64_t seq)
{
    struct tams_workers *w = r->d->w;
    struct tams_store *st = w->app->store;
    int rc = tams_store_webhook_advance(
        st, r->rec->id, tams_store_caps(st) & TAMS_STORE_CAP_LEASES ? w->owner : NULL, seq);

    r->done_seq = 0;
    if (rc == TAMS_ERR_CONFLICT) /* the lease went to another instance, which goes on */
        r->hs->leased_until_us = 0;
    return rc == TAMS_ERR_NOTFOUND || rc == TAMS_ERR_CONFLICT ? 1 : rc; /* stop this round */
}

static int backoff_ms(int attempts)
{
    int64_t ms = HOOK_BACKOFF_MIN_MS;

    for (int i = 1; i < attempts && ms < HOOK_BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > HOOK_BACKOFF_MAX_MS)
        ms = HOOK_BACKOFF_MAX_MS;
    /* Jitter: 75% to 125%, so failing webhooks do not retry in step. */
    return (int)(ms * 3 / 4 + (int64_t)(tams_fast_random() % (uint64_t)(ms / 2 + 1)));
}

static int deliver_one(void *ctx, const struct tams_event_rec *ev)
{
    struct hook_round *r = ctx;
    struct tams_workers *w = r->d->w;
    struct tams_buf body = TAMS_BUF_INIT(512u << 20);
    struct tams_json j;
    char *base = NULL;
    int rc;

    if (stopping(w))
        return 1;
    r->worked = true;
    if (!tams_webhook_wants(r->reg, ev->type, ev->flow_id, ev->source_id, ev->flow_collected_by,
                            ev->source_collected_by)) {
        __atomic_fetch_add(&w->filtered, 1, __ATOMIC_RELAXED);
        r->done_seq = ev->seq;
        return 0;
    }
    if (r->done_seq && (rc = advance(r, r->done_seq)))
        return rc;
    tams_json_init(&j, &body);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "event_timestamp", ev->timestamp);
    tams_json_kstr(&j, "event_type", ev->type);
    tams_json_key(&j, "event");
    if (strcmp(ev->type, TAMS_EV_SEGMENTS_ADDED) == 0) {
        pthread_mutex_lock(&w->mu);
        base = w->base_url ? tams_strdup(w->base_url) : NULL;
        pthread_mutex_unlock(&w->mu);
        rc = write_segments_added(&j, w->app, base, ev->payload, r->reg);
        tams_free(base);
    } else {
        tams_json_raw(&j, ev->payload, strlen(ev->payload));
        rc = 0;
    }
    tams_json_obj_close(&j);
    if (rc || !tams_buf_ok(&body)) {
        tams_log_error("webhook %s: event %" PRId64 " cannot be rendered; skipped", r->reg->url,
                       ev->seq);
        tams_buf_release(&body);
        __atomic_fetch_add(&w->given_up, 1, __ATOMIC_RELAXED);
        return advance(r, ev->seq);
    }
    if (r->hs->seq != ev->seq) {
        r->hs->seq = ev->seq;
        r->hs->first_us = r->hs->next_us = 0;
        r->hs->attempts = 0;
    }
    /* A long round renews the lease here, so it never runs out during an attempt. */
    if ((rc = hold_lease(w, r->rec->id, r->hs, &(int64_t){0}))) {
        tams_buf_release(&body);
        return rc;
    }
    rc = post_event(r->d, r->reg, body.data, body.len);
    tams_buf_release(&body);
    if (rc == 0) {
        __atomic_fetch_add(&w->delivered, 1, __ATOMIC_RELAXED);
        r->hs->first_us = r->hs->next_us = 0;
        r->hs->attempts = 0;
        return advance(r, ev->seq);
    }
    __atomic_fetch_add(&w->failed_attempts, 1, __ATOMIC_RELAXED);
    r->hs->attempts++;
    if (!r->hs->first_us)
        r->hs->first_us = tams_clock_mono_us();
    if (tams_clock_mono_us() - r->hs->first_us >=
        (int64_t)w->app->cfg->webhook_retry_for * 1000000) {
        tams_log_warn("webhook %s: gave up %s event %" PRId64 " after %d attempts", r->reg->url,
                      ev->type, ev->seq, r->hs->attempts);
        __atomic_fetch_add(&w->given_up, 1, __ATOMIC_RELAXED);
        r->hs->first_us = r->hs->next_us = 0;
        r->hs->attempts = 0;
        return advance(r, ev->seq);
    }
    r->hs->next_us = tams_clock_mono_us() + (int64_t)backoff_ms(r->hs->attempts) * 1000;
    return 1; /* keep the order: nothing after it until it is through */
}

/* The registration as delivery needs it: the stored doc plus the secret kept beside it. */
static int reg_of(const struct tams_webhook_rec *rec, struct tams_webhook_reg *reg)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    json_object *doc = json_tokener_parse(rec->doc);
    int rc;

    if (!doc)
        return TAMS_ERR_INTERNAL;
    if (rec->api_key_value)
        json_object_object_add(doc, "api_key_value", json_object_new_string(rec->api_key_value));
    rc = tams_webhook_parse(doc, reg, &why);
    if (rc)
        tams_log_error("webhook %s: stored registration does not parse: %s", rec->url, why.data);
    json_object_put(doc);
    tams_buf_release(&why);
    return rc;
}

static int hook_round(void *ctx, const struct tams_webhook_rec *rec)
{
    struct hook_round *r = ctx;
    struct delivery *d = r->d;
    struct tams_store *st = d->w->app->store;
    struct tams_webhook_reg reg;
    struct hook_state *hs;
    int64_t cursor;
    int rc;

    if ((int)(hash_id(rec->id) % (uint32_t)d->w->nhooks) != d->index)
        return 0;
    if (stopping(d->w))
        return 1;
    hs = hook_state(d, rec->id);
    hs->seen = true;
    cursor = rec->cursor; /* while we hold the lease, only we move it */
    if ((rc = hold_lease(d->w, rec->id, hs, &cursor)))
        return 0;
    if (hs->next_us && tams_clock_mono_us() < hs->next_us)
        return 0;
    if (reg_of(rec, &reg))
        return 0;
    r->rec = rec;
    r->reg = &reg;
    r->hs = hs;
    r->done_seq = 0;
    rc = tams_store_events_after(st, cursor, HOOK_EVENTS_BATCH, deliver_one, r);
    if (rc >= 0 && r->done_seq)
        rc = advance(r, r->done_seq);
    tams_webhook_reg_release(&reg);
    if (rc < 0 && rc != TAMS_ERR_UNAVAILABLE)
        tams_log_warn("webhook delivery: %s", tams_strerror(rc));
    return 0;
}

static void *delivery_main(void *arg)
{
    struct delivery *d = arg;
    struct tams_store *st = d->w->app->store;

    for (;;) {
        struct hook_round r = {.d = d};
        size_t k = 0;
        int rc;

        for (size_t i = 0; i < d->nhs; i++)
            d->hs[i].seen = false;
        rc = tams_store_webhook_list(st, hook_round, &r);
        if (rc < 0 && rc != TAMS_ERR_UNAVAILABLE)
            tams_log_warn("webhook delivery: %s", tams_strerror(rc));
        /* Forget webhooks that are gone. */
        for (size_t i = 0; i < d->nhs; i++)
            if (d->hs[i].seen)
                d->hs[k++] = d->hs[i];
        d->nhs = k;
        if (!pause_ms(d->w, r.worked ? 0 : HOOK_POLL_MS, false))
            break;
    }
    return NULL;
}

static int deliveries_start(struct tams_workers *w, struct tams_buf *why)
{
    int n = w->app->cfg->webhook_workers > 0 ? w->app->cfg->webhook_workers : 1;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tams_buf_addstr(why, "cannot initialise libcurl for webhook delivery");
        return TAMS_ERR_INTERNAL;
    }
    w->hooks = tams_calloc((size_t)n, sizeof(*w->hooks));
    w->nhooks = n;
    for (int i = 0; i < n; i++) {
        struct delivery *d = &w->hooks[i];
        int rc;

        d->w = w;
        d->index = i;
        d->curl = curl_easy_init();
        if (!d->curl) {
            tams_buf_addstr(why, "cannot create a libcurl handle for webhook delivery");
            return TAMS_ERR_INTERNAL;
        }
        rc = pthread_create(&d->thread, NULL, delivery_main, d);
        if (rc) {
            tams_buf_addf(why, "cannot start a webhook delivery thread: %s", strerror(rc));
            return TAMS_ERR_INTERNAL;
        }
        d->started = true;
    }
    return 0;
}

static void deliveries_stop(struct tams_workers *w)
{
    struct tams_store *st = w->app->store;

    for (int i = 0; i < w->nhooks; i++) {
        struct delivery *d = &w->hooks[i];

        if (d->started)
            pthread_join(d->thread, NULL);
        /* Give our leases up, so another instance goes on at once. */
        for (size_t k = 0; k < d->nhs && (tams_store_caps(st) & TAMS_STORE_CAP_LEASES); k++)
            if (d->hs[k].leased_until_us)
                tams_store_webhook_lease(st, d->hs[k].id, w->owner, 0, &(int64_t){0});
        if (d->curl)
            curl_easy_cleanup(d->curl);
        tams_free(d->hs);
    }
    if (w->hooks)
        curl_global_cleanup();
    tams_free(w->hooks);
    w->hooks = NULL;
    w->nhooks = 0;
}

void tams_workers_serving(struct tams_app *app)
{
    struct tams_workers *w = app->workers;
    struct tams_buf b = TAMS_BUF_INIT(4096);
    const char *host = app->cfg->listen_host;

    if (!w)
        return;
    if (app->cfg->public_url && app->cfg->public_url[0])
        tams_buf_addstr(&b, app->cfg->public_url);
    else
        tams_buf_addf(&b, strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host,
                      (unsigned)tams_http_port(app->http));
    pthread_mutex_lock(&w->mu);
    tams_free(w->base_url);
    w->base_url = tams_buf_detach(&b, NULL);
    pthread_mutex_unlock(&w->mu);
    tams_buf_release(&b);
}

void tams_workers_metrics(struct tams_app *app, struct tams_buf *out)
{
    struct tams_workers *w = app->workers;
    struct tams_store *st = app->store;
    int64_t pending = 0;

    if (!w || !w->hooks)
        return;
    if (tams_store_events_pending(st, &pending))
        pending = -1;
    tams_buf_addf(out,
                  "# HELP tams_webhook_deliveries_total Webhook events delivered (2xx).\n"
                  "# TYPE tams_webhook_deliveries_total counter\n"
                  "tams_webhook_deliveries_total %" PRIu64 "\n"
                  "# HELP tams_webhook_failed_attempts_total Webhook delivery attempts that "
                  "failed (retried later).\n"
                  "# TYPE tams_webhook_failed_attempts_total counter\n"
                  "tams_webhook_failed_attempts_total %" PRIu64 "\n"
                  "# HELP tams_webhook_given_up_total Webhook events given up after "
                  "webhook_retry_for.\n"
                  "# TYPE tams_webhook_given_up_total counter\n"
                  "tams_webhook_given_up_total %" PRIu64 "\n"
                  "# HELP tams_webhook_filtered_total Events a webhook's filters left out.\n"
                  "# TYPE tams_webhook_filtered_total counter\n"
                  "tams_webhook_filtered_total %" PRIu64 "\n"
                  "# HELP tams_webhook_queue_depth Events waiting for delivery, summed over "
                  "webhooks (-1: the store did not answer).\n"
                  "# TYPE tams_webhook_queue_depth gauge\n"
                  "tams_webhook_queue_depth %" PRId64 "\n",
                  __atomic_load_n(&w->delivered, __ATOMIC_RELAXED),
                  __atomic_load_n(&w->failed_attempts, __ATOMIC_RELAXED),
                  __atomic_load_n(&w->given_up, __ATOMIC_RELAXED),
                  __atomic_load_n(&w->filtered, __ATOMIC_RELAXED), pending);
}

int tams_workers_start(struct tams_app *app, struct tams_buf *why)
{
    struct tams_workers *w = tams_calloc(1, sizeof(*w));
    pthread_condattr_t ca;
    int rc;

    w->app = app;
    tams_uuid_v4(w->owner);
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
    if ((rc = deliveries_start(w, why))) {
        tams_workers_stop(app);
        return rc;
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
    deliveries_stop(w);
    tams_free(w->base_url);
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
