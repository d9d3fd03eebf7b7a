/* SPDX-License-Identifier: Apache-2.0 */
/* delivery.h - webhook delivery: events from the store's outbox POSTed to each registered
 * webhook, in order, by webhook_workers jobs (jobs/runner.h).
 *
 * Events wait in the store's outbox; each webhook has a cursor there (the last event it is
 * done with). Webhook i is delivered by job hash(id) % webhook_workers only, one event at a
 * time, so its order holds: the next event is not sent before the previous one got a 2xx or
 * was given up after webhook_retry_for seconds of failures (backoff doubles from 0.5 s to
 * 60 s, with jitter). The cursor moves in the store after each outcome, so a restart resends
 * at most the event in flight. Retry timing is in memory: after a restart a failing event is
 * tried at once and its webhook_retry_for starts again.
 *
 * Where several instances share the store (TAMS_STORE_CAP_LEASES), an instance delivers a
 * webhook only while it holds its lease (tams_store_webhook_lease), renewed before each
 * attempt when a third of it has gone, and the cursor moves only while the lease is still
 * held: so one instance at a time sends a webhook's events, in order, and another takes over
 * when an instance stops (its jobs give their leases up) or dies (the lease runs out:
 * 3 x webhook_timeout + 10 s).
 *
 * Each attempt resolves the webhook's host again and refuses it when it now points at an
 * address webhooks may not reach (events/ssrf.h, DNS rebinding); the connection is pinned to
 * the address checked.
 *
 * An event goes out only while the webhook's owner may read (may_read): one whose owner may
 * not now (a revoked token, a user without the read scope any more, an anonymous owner once
 * authentication is in force, an older release's owner nobody claimed) is withheld: skipped
 * for good, as a filtered one. The api key is kept sealed (events/secrets.h) and opened for
 * each round of a webhook only.
 *
 * Metrics (registered at start): tams_webhook_deliveries_total, _failed_attempts_total,
 * _given_up_total, _filtered_total, _withheld_total and the gauge tams_webhook_queue_depth.
 */
#ifndef TAMS_EVENTS_DELIVERY_H
#define TAMS_EVENTS_DELIVERY_H

#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/registry.h"
#include "jobs/runner.h"
#include "media/media.h"
#include "store/store.h"

struct tams_delivery;

/* What delivery uses; everything must outlive the struct tams_delivery. */
struct tams_delivery_config {
    struct tams_store *store;
    /* webhook_workers, webhook_timeout, webhook_retry_for, webhooks_allow_private */
    const struct tams_config *cfg;
    struct tams_media_backend *const *backends; /* for get_urls in segments_added events */
    size_t nbackends;
    struct tams_registry *metrics;
    const struct tams_webhook_secrets *secrets; /* opens the sealed api keys */
    /* May this owner (a principal, NULL: anonymous) with the scopes it registered with read
     * everything now? Called for each event, from delivery threads. */
    bool (*may_read)(void *ctx, const char *owner, unsigned scopes);
    void *may_read_ctx;
};

/* Starts the delivery jobs in jobs. *out is set whatever the result; on an error (why says
 * which) some jobs may run: stop and join the runner, then free *out as after a success. */
int tams_delivery_start(struct tams_delivery **out, struct tams_runner *jobs,
                        const struct tams_delivery_config *c, struct tams_buf *why);
/* The HTTP server runs at base_url (copied): delivery begins (flows/segments_added events carry
 * the get_urls of controlled objects, made from it). Nothing is delivered before. Thread-safe. */
void tams_delivery_serving(struct tams_delivery *d, const char *base_url);
/* Frees the delivery state; call once the runner has joined the delivery jobs. NULL is
 * allowed. */
void tams_delivery_free(struct tams_delivery *d);

#endif
