/* SPDX-License-Identifier: Apache-2.0 */
/* deletion.c - deletion requests, batch by batch. */
#include "core/common.h"
#include "core/log.h"
#include "core/registry.h"
#include "jobs/deletion.h"

#define BATCH_PAUSE_MS 2 /* between deletion batches, so request writers get the lock */

void tams_deletion_metrics(struct tams_deletion *d, struct tams_registry *r)
{
    d->batches = tams_registry_counter(r, "tams_deletion_batches_total",
                                       "Deletion request batches carried out.");
    d->errors = tams_registry_counter(r, "tams_deletion_errors_total",
                                      "Deletion request steps that failed (retried later).");
}

static void count(struct tams_counter *c)
{
    if (c)
        tams_counter_add(c, 1);
}

void tams_deletion_run(struct tams_job *job, void *ctx)
{
    const struct tams_deletion *d = ctx;
    const struct tams_config *cfg = d->cfg;

    for (;;) {
        bool worked = false;
        int rc = tams_store_delete_requests_step(d->store, cfg->delete_batch,
                                                 cfg->delete_request_ttl, &worked);

        if (rc)
            count(d->errors);
        else if (worked)
            count(d->batches);
        if (rc && rc != TAMS_ERR_UNAVAILABLE && rc != TAMS_ERR_NOSPACE) /* core/diskfull logs it */
            tams_log_warn("deletion worker: %s", tams_strerror(rc));
        if (!tams_job_pause(job, worked && !rc ? BATCH_PAUSE_MS : (int64_t)cfg->gc_interval * 1000))
            break;
    }
}
