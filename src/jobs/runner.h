/* SPDX-License-Identifier: Apache-2.0 */
/* runner.h - background jobs, each on its own thread: spawn, kick, pause, stop, join.
 *
 * A job is a function and its context. The runner calls it once, on a thread of its own, and
 * knows nothing else about it. A job loops: it does a round of work, then calls
 * tams_job_pause() until the next round, and returns once the pause (or tams_job_stopping)
 * says the runner is stopping. Work inside a round should be short steps (one transaction,
 * one request) that check tams_job_stopping() in between, so a stop waits for one step only.
 *
 * Job threads start with every asynchronous signal blocked, so SIGTERM and SIGINT reach only
 * the threads that want them (main's sigwait), whatever the spawning thread's mask is.
 *
 * Lifecycle: tams_runner_new, tams_runner_spawn for each job, ... tams_runner_stop (asks every
 * job to stop and wakes it), tams_runner_join (waits for each job's function to return), then
 * tams_runner_free. tams_runner_free stops and joins by itself, so error paths need only it.
 * A job's ctx stays the caller's and must stay valid until the job is joined.
 *
 * Threads: tams_job_kick, tams_job_pause, tams_job_stopping and tams_runner_stop may be called
 * from any thread. tams_runner_spawn, tams_runner_join and tams_runner_free belong to the
 * thread that owns the runner (never a job of it). A struct tams_job lives until
 * tams_runner_free.
 */
#ifndef TAMS_JOBS_RUNNER_H
#define TAMS_JOBS_RUNNER_H

#include "core/common.h"
#include "core/buf.h"

struct tams_runner;
struct tams_job;

/* The job's body; job is the handle to pass to tams_job_pause and tams_job_stopping. */
typedef void (*tams_job_fn)(struct tams_job *job, void *ctx);

struct tams_runner *tams_runner_new(void);
/* Stops and joins every job still running, then frees. NULL is allowed. */
void tams_runner_free(struct tams_runner *r);

/* Starts fn(job, ctx) on a new thread named name (Linux shows 15 bytes of it). *out (may be
 * NULL) gets the job's handle, for tams_job_kick, before the thread starts (so ctx may hold
 * out and fn may use it at once); NULL when this fails. A job spawned after tams_runner_stop
 * sees the stop at once. Returns 0, or TAMS_ERR_INTERNAL with a summary in why (may be NULL) when
 * no thread could be started (then fn never runs). */
int tams_runner_spawn(struct tams_runner *r, const char *name, tams_job_fn fn, void *ctx,
                      struct tams_job **out, struct tams_buf *why);
/* Asks every job to stop and wakes those in tams_job_pause. Returns at once. */
void tams_runner_stop(struct tams_runner *r);
/* Waits until every job's function has returned (a job that returned long ago included). Call
 * after tams_runner_stop, or when the jobs end by themselves. */
void tams_runner_join(struct tams_runner *r);

/* Wakes the job: its current or next tams_job_pause returns at once (kicks do not add up:
 * one pause consumes any number of them). NULL is allowed (no job: nothing to wake). */
void tams_job_kick(struct tams_job *job);
/* For the job itself: waits up to ms milliseconds (<= 0: does not wait), less when kicked or
 * stopped. Returns true to go on, false once the runner is stopping. */
bool tams_job_pause(struct tams_job *job, int64_t ms);
/* True once the runner is stopping: end the round early. */
bool tams_job_stopping(struct tams_job *job);

#endif
