/* SPDX-License-Identifier: Apache-2.0 */
/* delivery.c - webhook delivery jobs: leases, ordering, retries and the POST itself. */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/random.h"
#include "events/delivery.h"
#include "events/message.h"
#include "events/secrets.h"
#include "events/ssrf.h"
#include "events/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <pthread.h>

#define HOOK_POLL_MS 100     /* delivery jobs look for new events this often when idle */
#define SERVING_POLL_MS 20   /* ... and this often, at start, for the server to serve */
#define HOOK_EVENTS_BATCH 64 /* events read at once per webhook */
#define HOOK_BACKOFF_MIN_MS 500
#define HOOK_BACKOFF_MAX_MS 60000
#define HOOK_LEASE_RETRY_MS 1000 /* a webhook leased elsewhere is looked at again after this */

struct hook_state {
    char id[TAMS_UUID_STRLEN + 1];
    int64_t seq;      /* the event the failures below are about */
    int64_t first_us; /* monotonic time of its first failure, 0 = none */
    int64_t next_us;  /* not before this monotonic time */
    int attempts;
    int given_up_run;        /* events given up in a row (webhook_error_after) */
    bool seen;               /* still registered (mark and sweep each round) */
    bool withheld;           /* its owner may not read: said once in the log */
    int64_t leased_until_us; /* monotonic; our lease surely runs until then (0: not ours) */
    int64_t lease_retry_us;  /* leased elsewhere: do not ask again before this */
};

/* One delivery job and what only it touches. */
struct worker {
    struct tams_delivery *d;
    int index;
    CURL *curl;
    char why[160]; /* why the last attempt failed */
    struct hook_state *hs;
    size_t nhs;
};

struct tams_delivery {
    struct tams_delivery_config c;
    char owner[TAMS_UUID_STRLEN + 1]; /* this process, as holder of webhook leases */
    pthread_mutex_t lock;
    char *base_url; /* under lock; NULL until the HTTP server runs */
    struct worker *workers;
    int nworkers;
    bool curl_ready;
    struct tams_counter *delivered, *failed_attempts, *given_up, *filtered, *withheld;
};

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct hook_state *hook_state(struct worker *w, const char *id)
{
    for (size_t i = 0; i < w->nhs; i++)
        if (strcmp(w->hs[i].id, id) == 0)
            return &w->hs[i];
    w->hs = tams_realloc(w->hs, tams_st_mult(w->nhs + 1, sizeof(*w->hs)));
    memset(&w->hs[w->nhs], 0, sizeof(*w->hs));
    snprintf(w->hs[w->nhs].id, sizeof(w->hs[w->nhs].id), "%s", id);
    return &w->hs[w->nhs++];
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
static int post_event(struct worker *w, const struct tams_webhook_reg *reg, const char *body,
                      size_t len)
{
    const struct tams_config *cfg = w->d->c.cfg;
    struct curl_slist *headers = NULL, *resolve = NULL;
    struct tams_buf why = TAMS_BUF_INIT(1024), line = TAMS_BUF_INIT(8192);
    char addr[TAMS_SSRF_ADDRMAX], *port = NULL;
    CURLU *u = NULL;
    long status = 0;
    CURLcode cc;
    int rc;

    if ((rc = tams_ssrf_resolve(reg->host, cfg->webhooks_allow_private, addr, &why))) {
        tams_log_warn("webhook %s: %s", reg->url, why.data);
        snprintf(w->why, sizeof(w->why), "%s", why.data);
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
    curl_easy_reset(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_URL, reg->url);
    curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(w->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(w->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)cfg->webhook_timeout * 1000L);
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->webhook_timeout * 1000L);
    curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "tamsd/" TAMS_VERSION);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
    if (resolve)
        curl_easy_setopt(w->curl, CURLOPT_RESOLVE, resolve);
    cc = curl_easy_perform(w->curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK && status >= 200 && status < 300)
        rc = 0;
    else if (cc == CURLE_OK)
        snprintf(w->why, sizeof(w->why), "the receiver answered %ld", status);
    else
        snprintf(w->why, sizeof(w->why), "%s", curl_easy_strerror(cc));
    if (rc)
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

/* One pass of a worker over one webhook's pending events. */
struct hook_round {
    struct worker *w;
    struct tams_job *job;
    const struct tams_webhook_rec *rec;
    const struct tams_webhook_reg *reg;
    struct hook_state *hs;
    const char *status; /* the webhook's, as this round knows it */
    int64_t done_seq;   /* filtered events not yet recorded as done */
    bool worked;
};

static bool leases(const struct tams_delivery *d)
{
    return tams_store_caps(d->c.store) & TAMS_STORE_CAP_LEASES;
}

static int lease_seconds(const struct tams_delivery *d)
{
    return 3 * d->c.cfg->webhook_timeout + 10;
}

/* Make sure this instance holds the webhook's lease with at least two thirds of it left,
 * taking or renewing it when not. 0: held (*cursor set when the store was asked, else left
 * alone); 1: not ours now; else an error. Always 0 where the store has no leases. */
static int hold_lease(struct tams_delivery *d, const char *id, struct hook_state *hs,
                      int64_t *cursor)
{
    int64_t now = tams_clock_mono_us(), lease_us = (int64_t)lease_seconds(d) * 1000000;
    int rc;

    if (!leases(d) || hs->leased_until_us - now > lease_us * 2 / 3)
        return 0;
    if (now < hs->lease_retry_us)
        return 1;
    rc = tams_store_webhook_lease(d->c.store, id, d->owner, lease_seconds(d), cursor);
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
    struct tams_delivery *d = r->w->d;
    int rc = tams_store_webhook_advance(d->c.store, r->rec->id, leases(d) ? d->owner : NULL, seq);

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

static void forget_failures(struct hook_state *hs)
{
    hs->first_us = hs->next_us = 0;
    hs->attempts = 0;
}

/* The message for ev as this webhook wants it, into body. */
/* get_urls of the built-in store are made under the prefix the webhook was registered under
 * (docs/api-versions.md: links keep the prefix). */
static int render(struct tams_delivery *d, const struct tams_event_rec *ev,
                  const struct tams_webhook_rec *rec, const struct tams_webhook_reg *reg,
                  struct tams_buf *body)
{
    struct tams_message_urls urls = {d->c.backends, d->c.nbackends, NULL};
    struct tams_buf base = TAMS_BUF_INIT(16384);
    int rc;

    pthread_mutex_lock(&d->lock);
    if (d->base_url)
        tams_buf_addf(&base, "%s%s", d->base_url, rec->prefix ? rec->prefix : "");
    pthread_mutex_unlock(&d->lock);
    urls.base_url = base.len ? base.data : NULL;
    rc = tams_message_render(body, ev, reg, &urls);
    tams_buf_release(&base);
    return rc;
}

/* webhook_error_after events given up in a row: the webhook goes to `error` (8.2's status)
 * and is not delivered until a client sets it `created` again (docs/webhooks.md). */
static int to_error(struct hook_round *r)
{
    struct tams_delivery *d = r->w->d;
    struct tams_buf err = TAMS_BUF_INIT(2048), sum = TAMS_BUF_INIT(1024);
    struct tams_json j;
    char now[TAMS_RFC3339_MAX];
    bool changed = false;
    int rc;

    tams_clock_now_rfc3339(now);
    tams_json_init(&j, &err);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "type", "WebhookDeliveryFailed");
    tams_buf_addf(&sum,
                  "%d events in a row could not be delivered within webhook_retry_for (%d s) "
                  "each; the last attempt: %s",
                  r->hs->given_up_run, d->c.cfg->webhook_retry_for, r->w->why);
    tams_json_kstr(&j, "summary", sum.data);
    tams_json_kstr(&j, "time", now);
    tams_json_obj_close(&j);
    rc = tams_store_webhook_set_status(d->c.store, r->rec->id, r->status, "error", err.data,
                                       &changed);
    if (rc == 0 && changed)
        tams_log_warn("webhook %s: status 'error': %s", r->reg->url, sum.data);
    r->hs->given_up_run = 0;
    tams_buf_release(&err);
    tams_buf_release(&sum);
    return rc ? rc : 1; /* stop this round */
}

static int deliver_one(void *ctx, const struct tams_event_rec *ev)
{
    struct hook_round *r = ctx;
    struct tams_delivery *d = r->w->d;
    struct tams_buf body = TAMS_BUF_INIT(512u << 20);
    int rc;

    if (tams_job_stopping(r->job))
        return 1;
    r->worked = true;
    if (!tams_webhook_wants(r->reg, ev->type, ev->flow_id, ev->source_id, ev->flow_collected_by,
                            ev->source_collected_by)) {
        tams_counter_add(d->filtered, 1);
        r->done_seq = ev->seq;
        return 0;
    }
    /* Never more than its owner may read (docs/authentication.md). */
    if (d->c.may_read && !d->c.may_read(d->c.may_read_ctx, r->rec->owner, r->rec->owner_scopes)) {
        if (!r->hs->withheld)
            tams_log_warn("webhook %s: its owner '%s' may not read now; its events are withheld",
                          r->reg->url, r->rec->owner ? r->rec->owner : "(anonymous)");
        r->hs->withheld = true;
        tams_counter_add(d->withheld, 1);
        r->done_seq = ev->seq;
        return 0;
    }
    r->hs->withheld = false;
    if (r->done_seq && (rc = advance(r, r->done_seq)))
        return rc;
    if (render(d, ev, r->rec, r->reg, &body)) {
        tams_log_error("webhook %s: event %" PRId64 " cannot be rendered; skipped", r->reg->url,
                       ev->seq);
        tams_buf_release(&body);
        tams_counter_add(d->given_up, 1);
        return advance(r, ev->seq);
    }
    if (r->hs->seq != ev->seq) {
        r->hs->seq = ev->seq;
        forget_failures(r->hs);
    }
    /* A long round renews the lease here, so it never runs out during an attempt. */
    if ((rc = hold_lease(d, r->rec->id, r->hs, &(int64_t){0}))) {
        tams_buf_release(&body);
        return rc;
    }
    rc = post_event(r->w, r->reg, body.data, body.len);
    tams_buf_release(&body);
    if (rc == 0) {
        tams_counter_add(d->delivered, 1);
        forget_failures(r->hs);
        r->hs->given_up_run = 0;
        return advance(r, ev->seq);
    }
    tams_counter_add(d->failed_attempts, 1);
    r->hs->attempts++;
    if (!r->hs->first_us)
        r->hs->first_us = tams_clock_mono_us();
    if (tams_clock_mono_us() - r->hs->first_us >= (int64_t)d->c.cfg->webhook_retry_for * 1000000) {
        tams_log_warn("webhook %s: gave up %s event %" PRId64 " after %d attempts", r->reg->url,
                      ev->type, ev->seq, r->hs->attempts);
        tams_counter_add(d->given_up, 1);
        forget_failures(r->hs);
        rc = advance(r, ev->seq);
        if (rc == 0 && ++r->hs->given_up_run >= d->c.cfg->webhook_error_after &&
            d->c.cfg->webhook_error_after > 0)
            rc = to_error(r);
        return rc;
    }
    r->hs->next_us = tams_clock_mono_us() + (int64_t)backoff_ms(r->hs->attempts) * 1000;
    return 1; /* keep the order: nothing after it until it is through */
}

/* The registration as delivery needs it: the stored doc plus its api key, opened. */
static int reg_of(struct tams_delivery *d, const struct tams_webhook_rec *rec,
                  struct tams_webhook_reg *reg)
{
    struct tams_buf why = TAMS_BUF_INIT(1024), key = TAMS_BUF_INIT(64 * 1024);
    json_object *doc = json_tokener_parse(rec->doc);
    int rc = 0;

    if (!doc)
        return TAMS_ERR_INTERNAL;
    if (rec->api_key_sealed) {
        rc = tams_webhook_secret_open(d->c.secrets, rec->url, rec->api_key_name,
                                      rec->api_key_sealed, &key);
        if (rc)
            tams_log_error("webhook %s: its api key does not open with this server's "
                           "webhook_secret_key; not delivered",
                           rec->url);
    } else if (rec->api_key_value) { /* an older release's, until it is sealed at start */
        tams_buf_addstr(&key, rec->api_key_value);
    }
    if (!rc && (rec->api_key_sealed || rec->api_key_value))
        json_object_object_add(doc, "api_key_value",
                               json_object_new_string_len(key.data, (int)key.len));
    if (!rc &&
        (rc = tams_webhook_parse_as(
             doc, TAMS_WEBHOOK_STORED | (strcmp(rec->api, "8.2") == 0 ? TAMS_WEBHOOK_V82 : 0), reg,
             &why)))
        tams_log_error("webhook %s: stored registration does not parse: %s", rec->url, why.data);
    json_object_put(doc); /* the registration holds its own reference when it parsed */
    OPENSSL_cleanse(key.data, key.len);
    tams_buf_release(&key);
    tams_buf_release(&why);
    return rc;
}

static int hook_round(void *ctx, const struct tams_webhook_rec *rec)
{
    struct hook_round *r = ctx;
    struct worker *w = r->w;
    struct tams_webhook_reg reg;
    struct hook_state *hs;
    int64_t cursor;
    int rc;

    if ((int)(hash_id(rec->id) % (uint32_t)w->d->nworkers) != w->index)
        return 0;
    /* disabled or error: nothing is sent, nothing waits (the store keeps no events for it) */
    if (strcmp(rec->status, "created") != 0 && strcmp(rec->status, "started") != 0)
        return 0;
    if (tams_job_stopping(r->job))
        return 1;
    hs = hook_state(w, rec->id);
    hs->seen = true;
    cursor = rec->cursor; /* while we hold the lease, only we move it */
    if ((rc = hold_lease(w->d, rec->id, hs, &cursor)))
        return 0;
    if (hs->next_us && tams_clock_mono_us() < hs->next_us)
        return 0;
    if (reg_of(w->d, rec, &reg))
        return 0;
    r->status = rec->status;
    if (strcmp(rec->status, "created") == 0) {
        bool changed = false;
        if (tams_store_webhook_set_status(w->d->c.store, rec->id, "created", "started", NULL,
                                          &changed) == 0 &&
            changed)
            r->status = "started";
    }
    r->rec = rec;
    r->reg = &reg;
    r->hs = hs;
    r->done_seq = 0;
    rc = tams_store_events_after(w->d->c.store, cursor, HOOK_EVENTS_BATCH, deliver_one, r);
    if (rc >= 0 && r->done_seq)
        rc = advance(r, r->done_seq);
    tams_webhook_reg_release(&reg);
    if (rc < 0 && rc != TAMS_ERR_UNAVAILABLE && rc != TAMS_ERR_NOSPACE) /* core/diskfull logs it */
        tams_log_warn("webhook delivery: %s", tams_strerror(rc));
    return 0;
}

/* Give our lease of hs's webhook up, so another instance goes on at once. */
static void give_lease_up(struct tams_delivery *d, struct hook_state *hs)
{
    if (leases(d) && hs->leased_until_us)
        tams_store_webhook_lease(d->c.store, hs->id, d->owner, 0, &(int64_t){0});
    hs->leased_until_us = 0;
}

/* Has the HTTP server given its URL? */
static bool serving(struct tams_delivery *d)
{
    bool yes;

    pthread_mutex_lock(&d->lock);
    yes = d->base_url != NULL;
    pthread_mutex_unlock(&d->lock);
    return yes;
}

static void worker_run(struct tams_job *job, void *ctx)
{
    struct worker *w = ctx;

    /* Events left from an earlier run name the server's URLs (get_urls): none is delivered
     * before the server serves and has said where. */
    while (!serving(w->d))
        if (!tams_job_pause(job, SERVING_POLL_MS))
            return;
    for (;;) {
        struct hook_round r = {.w = w, .job = job};
        size_t k = 0;
        int rc;

        for (size_t i = 0; i < w->nhs; i++)
            w->hs[i].seen = false;
        rc = tams_store_webhook_list(w->d->c.store, hook_round, &r);
        if (rc < 0 && rc != TAMS_ERR_UNAVAILABLE && rc != TAMS_ERR_NOSPACE)
            tams_log_warn("webhook delivery: %s", tams_strerror(rc));
        /* Forget webhooks that are gone or no longer delivered to, giving up what we held of
         * them. A round cut short by stopping saw only some: keep the others' leases, given up
         * below, else another instance would wait for them to run out. */
        for (size_t i = 0; i < w->nhs; i++) {
            if (w->hs[i].seen || tams_job_stopping(job))
                w->hs[k++] = w->hs[i];
            else
                give_lease_up(w->d, &w->hs[i]);
        }
        w->nhs = k;
        if (!tams_job_pause(job, r.worked ? 0 : HOOK_POLL_MS))
            break;
    }
    for (size_t i = 0; i < w->nhs; i++)
        give_lease_up(w->d, &w->hs[i]);
}

static int64_t queue_depth(void *ctx)
{
    int64_t pending = 0;

    return tams_store_events_pending(ctx, &pending) ? -1 : pending;
}

static void register_metrics(struct tams_delivery *d, struct tams_registry *m)
{
    d->delivered = tams_registry_counter(m, "tams_webhook_deliveries_total",
                                         "Webhook events delivered (2xx).");
    d->failed_attempts =
        tams_registry_counter(m, "tams_webhook_failed_attempts_total",
                              "Webhook delivery attempts that failed (retried later).");
    d->given_up = tams_registry_counter(m, "tams_webhook_given_up_total",
                                        "Webhook events given up after webhook_retry_for.");
    d->filtered = tams_registry_counter(m, "tams_webhook_filtered_total",
                                        "Events a webhook's filters left out.");
    d->withheld = tams_registry_counter(m, "tams_webhook_withheld_total",
                                        "Events not sent because the webhook's owner may not "
                                        "read them now.");
    tams_registry_gauge(m, "tams_webhook_queue_depth",
                        "Events waiting for delivery, summed over webhooks (-1: the store did "
                        "not answer).",
                        queue_depth, d->c.store);
}

int tams_delivery_start(struct tams_delivery **out, struct tams_runner *jobs,
                        const struct tams_delivery_config *c, struct tams_buf *why)
{
    struct tams_delivery *d = tams_calloc(1, sizeof(*d));
    int n = c->cfg->webhook_workers > 0 ? c->cfg->webhook_workers : 1;
    int rc = 0;

    *out = d;
    d->c = *c;
    tams_uuid_v4(d->owner);
    pthread_mutex_init(&d->lock, NULL);
    register_metrics(d, c->metrics);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tams_buf_addstr(why, "cannot initialise libcurl for webhook delivery");
        return TAMS_ERR_INTERNAL;
    }
    d->curl_ready = true;
    d->workers = tams_calloc((size_t)n, sizeof(*d->workers));
    d->nworkers = n;
    for (int i = 0; i < n && !rc; i++) {
        struct worker *w = &d->workers[i];
        char name[32]; /* the runner keeps 15 bytes of it */

        w->d = d;
        w->index = i;
        w->curl = curl_easy_init();
        if (!w->curl) {
            tams_buf_addstr(why, "cannot create a libcurl handle for webhook delivery");
            return TAMS_ERR_INTERNAL;
        }
        snprintf(name, sizeof(name), "tams-hook-%d", i);
        rc = tams_runner_spawn(jobs, name, worker_run, w, NULL, why);
    }
    return rc;
}

void tams_delivery_serving(struct tams_delivery *d, const char *base_url)
{
    char *copy = tams_strdup(base_url);

    pthread_mutex_lock(&d->lock);
    tams_free(d->base_url);
    d->base_url = copy;
    pthread_mutex_unlock(&d->lock);
}

void tams_delivery_free(struct tams_delivery *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nworkers; i++) {
        if (d->workers[i].curl)
            curl_easy_cleanup(d->workers[i].curl);
        tams_free(d->workers[i].hs);
    }
    tams_free(d->workers);
    if (d->curl_ready)
        curl_global_cleanup();
    tams_free(d->base_url);
    pthread_mutex_destroy(&d->lock);
    tams_free(d);
}
