/* SPDX-License-Identifier: Apache-2.0 */
/* deletion.h - the job that carries out flow deletion requests (DELETE /flows/{id} with many
 * segments, POST /flows/{id}/segments deletions), one batch per transaction.
 *
 * Each batch is one store transaction, so a crash or SIGKILL at any point leaves the state
 * before or after it; on the next start the job resumes unfinished requests at once. Between
 * batches it pauses briefly so request writers get the store; when there is nothing to do it
 * sleeps gc_interval seconds or until kicked (api/deletion.c kicks it when it records a
 * request). With several instances the store hands each batch to one of them (row locks).
 */
#ifndef TAMS_JOBS_DELETION_H
#define TAMS_JOBS_DELETION_H

#include "core/common.h"
#include "core/config.h"
#include "jobs/runner.h"
#include "store/store.h"

struct tams_registry;
struct tams_counter;

/* The job's context; the caller keeps it (and the store) alive until the job is joined. */
struct tams_deletion {
    struct tams_store *store;
    const struct tams_config *cfg; /* delete_batch, delete_request_ttl, gc_interval */
    /* Set by tams_deletion_metrics; NULL counters count nothing. */
    struct tams_counter *batches, *errors;
};

/* Registers tams_deletion_batches_total and tams_deletion_errors_total in r and points d's
 * fields at them. Call before the job starts. */
void tams_deletion_metrics(struct tams_deletion *d, struct tams_registry *r);

/* The job body, for tams_runner_spawn with a struct tams_deletion as ctx. */
void tams_deletion_run(struct tams_job *job, void *ctx);

#endif
