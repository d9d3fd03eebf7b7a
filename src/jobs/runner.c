/* SPDX-License-Identifier: Apache-2.0 */
/* runner.c - one thread per job; a mutex and a condition variable per job for its pauses.
 *
 * Each job has its own lock so a kick wakes only that job and a pause never contends with
 * other jobs. The runner's lock guards only its list of jobs. Pauses wait on CLOCK_MONOTONIC,
 * so setting the wall clock neither stretches nor cuts them.
 */
#include "core/common.h"
#include "core/clock.h"
#include "jobs/runner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

struct tams_job {
    tams_job_fn fn;
    void *ctx;
    char name[16];
    pthread_t thread;
    bool joined;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    bool kicked, stop;   /* under lock */
};

struct tams_runner {
    pthread_mutex_t lock;
    struct tams_job **jobs; /* under lock */
    size_t njobs;
    bool stopping;
};

struct tams_runner *tams_runner_new(void)
{
    struct tams_runner *r = tams_calloc(1, sizeof(*r));

    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void *job_main(void *arg)
{
    struct tams_job *job = arg;

    pthread_setname_np(pthread_self(), job->name);
    job->fn(job, job->ctx);
    return NULL;
}

static struct tams_job *job_new(const char *name, tams_job_fn fn, void *ctx, bool stop)
{
    struct tams_job *job = tams_calloc(1, sizeof(*job));
    pthread_condattr_t ca;

    job->fn = fn;
    job->ctx = ctx;
    job->stop = stop;
    snprintf(job->name, sizeof(job->name), "%s", name);
    pthread_mutex_init(&job->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&job->wake, &ca);
    pthread_condattr_destroy(&ca);
    return job;
}

static void job_free(struct tams_job *job)
{
    pthread_cond_destroy(&job->wake);
    pthread_mutex_destroy(&job->lock);
    tams_free(job);
}

/* Every signal but those the kernel raises for a fault in this very thread: blocking those
 * would only turn a crash report (ASan, a core dump with the right signal) into a plain kill. */
static void async_signals(sigset_t *set)
{
    sigfillset(set);
    sigdelset(set, SIGSEGV);
    sigdelset(set, SIGBUS);
    sigdelset(set, SIGFPE);
    sigdelset(set, SIGILL);
    sigdelset(set, SIGTRAP);
    sigdelset(set, SIGSYS);
}

int tams_runner_spawn(struct tams_runner *r, const char *name, tams_job_fn fn, void *ctx,
                      struct tams_job **out, struct tams_buf *why)
{
    struct tams_job *job;
    sigset_t block, old;
    int rc;

    pthread_mutex_lock(&r->lock);
    job = job_new(name, fn, ctx, r->stopping);
    r->jobs = tams_realloc(r->jobs, tams_st_mult(r->njobs + 1, sizeof(*r->jobs)));
    /* Before the thread exists: fn may find its handle through ctx from its first line. */
    if (out)
        *out = job;
    /* The new thread inherits the mask in force here; put ours back right after. */
    async_signals(&block);
    pthread_sigmask(SIG_SETMASK, &block, &old);
    rc = pthread_create(&job->thread, NULL, job_main, job);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        r->jobs[r->njobs++] = job;
    pthread_mutex_unlock(&r->lock);
    if (rc) {
        if (out)
            *out = NULL;
        if (why)
            tams_buf_addf(why, "cannot start job '%s': %s", name, strerror(rc));
        job_free(job);
        return TAMS_ERR_INTERNAL;
    }
    return 0;
}

static void job_set(struct tams_job *job, bool stop)
{
    pthread_mutex_lock(&job->lock);
    if (stop)
        job->stop = true;
    else
        job->kicked = true;
    pthread_cond_signal(&job->wake);
    pthread_mutex_unlock(&job->lock);
}

void tams_runner_stop(struct tams_runner *r)
{
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    for (size_t i = 0; i < r->njobs; i++)
        job_set(r->jobs[i], true);
    pthread_mutex_unlock(&r->lock);
}

void tams_runner_join(struct tams_runner *r)
{
    size_t n;

    /* Jobs are only added by this thread, so the list cannot grow while we join. */
    pthread_mutex_lock(&r->lock);
    n = r->njobs;
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < n; i++) {
        struct tams_job *job = r->jobs[i];

        if (!job->joined)
            pthread_join(job->thread, NULL);
        job->joined = true;
    }
}

void tams_runner_free(struct tams_runner *r)
{
    if (!r)
        return;
    tams_runner_stop(r);
    tams_runner_join(r);
    for (size_t i = 0; i < r->njobs; i++)
        job_free(r->jobs[i]);
    tams_free(r->jobs);
    pthread_mutex_destroy(&r->lock);
    tams_free(r);
}

void tams_job_kick(struct tams_job *job)
{
    if (job)
        job_set(job, false);
}

bool tams_job_pause(struct tams_job *job, int64_t ms)
{
    struct timespec until;
    bool go;

    tams_clock_mono_deadline(&until, ms > 0 ? ms : 0);
    pthread_mutex_lock(&job->lock);
    while (!job->stop && !job->kicked)
        if (pthread_cond_timedwait(&job->wake, &job->lock, &until) == ETIMEDOUT)
            break;
    job->kicked = false;
    go = !job->stop;
    pthread_mutex_unlock(&job->lock);
    return go;
}

bool tams_job_stopping(struct tams_job *job)
{
    bool stop;

    pthread_mutex_lock(&job->lock);
    stop = job->stop;
    pthread_mutex_unlock(&job->lock);
    return stop;
}
