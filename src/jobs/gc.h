/* SPDX-License-Identifier: Apache-2.0 */
/* gc.h - the garbage collector job: objects no segment uses any more, and their media.
 *
 * Every gc_interval seconds a round takes every object that is due (gc_grace seconds after its
 * last reference went, or gc_unused_after seconds after allocation when no segment ever used
 * it) out of the store, GC_BATCH per transaction, and then deletes the media of the store's
 * trash entries one by one. Media is deleted only for trash entries, which the store writes
 * in the same transaction that removed the object's row after checking it has no reference,
 * so a crash at any point leaves objects and trash entries where they were for the next round.
 * A deletion that fails is retried later (a minute; ten when its backend is not configured).
 * Each round first forgets the soft-delete bin's expired entries (docs/soft-delete.md).
 */
#ifndef TAMS_JOBS_GC_H
#define TAMS_JOBS_GC_H

#include "core/common.h"
#include "core/config.h"
#include "jobs/runner.h"
#include "media/media.h"
#include "store/store.h"

struct tams_registry;
struct tams_counter;

/* The job's context; the caller keeps it, the store and the backends alive until the job is
 * joined. */
struct tams_gc {
    struct tams_store *store;
    const struct tams_config *cfg;              /* gc_interval, gc_grace, gc_unused_after */
    struct tams_media_backend *const *backends; /* where trash entries' media lives */
    size_t nbackends;
    /* Set by tams_gc_metrics; NULL counters count nothing. */
    struct tams_counter *rounds, *collected, *deleted, *delete_failures, *errors;
};

/* Registers the job's counters (tams_gc_rounds_total, tams_gc_objects_collected_total,
 * tams_gc_media_deleted_total, tams_gc_media_delete_failures_total, tams_gc_errors_total)
 * in r and points gc's fields at them. Call before the job starts. */
void tams_gc_metrics(struct tams_gc *gc, struct tams_registry *r);

/* The job body, for tams_runner_spawn with a struct tams_gc as ctx. */
void tams_gc_run(struct tams_job *job, void *ctx);

#endif
