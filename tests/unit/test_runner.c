/* SPDX-License-Identifier: Apache-2.0 */
/* test_runner.c - the jobs runner: kick, pause, stop, join, signals. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "jobs/runner.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

#define LONG_MS 60000     /* a pause no test should ever wait out */
#define PROMPT_US 2000000 /* "at once", with room for sanitizers on a busy machine */

/* What a test job reports; fields are read and written with atomics. */
struct probe {
    int started; /* the job is running */
    int wakes;   /* pauses that returned true */
    int ended;   /* the job function returned */
    int went_on; /* last pause result */
    int sigterm_blocked;
    int stopping_seen;
    int no_wait_ms, timed_ms; /* how long timed_job's pauses took */
    int64_t linger_ms;        /* after the loop, before returning */
};

static int load(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void store(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* Waits until *p reaches v, at most PROMPT_US; true when it did. */
static bool wait_for(const int *p, int v)
{
    int64_t until = tams_clock_mono_us() + PROMPT_US;

    while (load(p) < v && tams_clock_mono_us() < until)
        usleep(1000);
    return load(p) >= v;
}

/* A job as real ones are: pause, count, until stopped. */
static void pausing_job(struct tams_job *job, void *ctx)
{
    struct probe *p = ctx;
    sigset_t mask;

    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    store(&p->sigterm_blocked, sigismember(&mask, SIGTERM) && sigismember(&mask, SIGINT));
    store(&p->started, 1);
    while (tams_job_pause(job, LONG_MS))
        __atomic_fetch_add(&p->wakes, 1, __ATOMIC_SEQ_CST);
    store(&p->stopping_seen, tams_job_stopping(job));
    if (p->linger_ms)
        usleep((useconds_t)(p->linger_ms * 1000));
    store(&p->ended, 1);
}

static void returning_job(struct tams_job *job, void *ctx)
{
    (void)job;
    store(&((struct probe *)ctx)->ended, 1);
}

static void test_kick(void)
{
    struct tams_runner *r = tams_runner_new();
    struct tams_buf why = TAMS_BUF_INIT(256);
    struct probe p = {0};
    struct tams_job *job = NULL;
    int64_t t0;

    CHECK_INT_EQ(tams_runner_spawn(r, "test-kick", pausing_job, &p, &job, &why), 0);
    CHECK(job != NULL);
    CHECK(wait_for(&p.started, 1));
    usleep(50000); /* let it settle into its pause */
    t0 = tams_clock_mono_us();
    tams_job_kick(job);
    CHECK(wait_for(&p.wakes, 1));
    CHECK(tams_clock_mono_us() - t0 < PROMPT_US);
    /* kicks do not add up: many kicks, at least one more wake, and then it sleeps again */
    tams_job_kick(job);
    tams_job_kick(job);
    CHECK(wait_for(&p.wakes, 2));
    usleep(50000);
    CHECK(load(&p.wakes) <= 3);
    CHECK(!load(&p.ended));
    CHECK(load(&p.sigterm_blocked)); /* only main's sigwait takes SIGTERM */
    tams_job_kick(NULL);             /* no job: nothing to wake */
    tams_runner_stop(r);
    tams_runner_join(r);
    CHECK(load(&p.ended));
    tams_runner_free(r);
    tams_buf_release(&why);
}

static void test_stop_ends_pause(void)
{
    struct tams_runner *r = tams_runner_new();
    struct probe p[3] = {{0}};
    int64_t t0;

    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(tams_runner_spawn(r, "test-stop", pausing_job, &p[i], NULL, NULL), 0);
    for (int i = 0; i < 3; i++)
        CHECK(wait_for(&p[i].started, 1));
    usleep(50000);
    t0 = tams_clock_mono_us();
    tams_runner_stop(r);
    tams_runner_join(r);
    CHECK(tams_clock_mono_us() - t0 < PROMPT_US);
    for (int i = 0; i < 3; i++) {
        CHECK(load(&p[i].ended));
        CHECK_INT_EQ(load(&p[i].wakes), 0); /* the stop ended the pause: false, not a wake */
        CHECK(load(&p[i].stopping_seen));
    }
    tams_runner_free(r);
}

static void test_join_waits(void)
{
    struct tams_runner *r = tams_runner_new();
    struct probe p = {.linger_ms = 200};
    int64_t t0;

    CHECK_INT_EQ(tams_runner_spawn(r, "test-join", pausing_job, &p, NULL, NULL), 0);
    CHECK(wait_for(&p.started, 1));
    t0 = tams_clock_mono_us();
    tams_runner_stop(r);
    CHECK(!load(&p.ended)); /* stop only asks */
    tams_runner_join(r);
    CHECK(load(&p.ended)); /* join waited for the function to return */
    CHECK(tams_clock_mono_us() - t0 >= 150000);
    tams_runner_join(r); /* twice is fine */
    tams_runner_free(r);
}

static void test_early_return(void)
{
    struct tams_runner *r = tams_runner_new();
    struct probe p = {0}, q = {0};

    CHECK_INT_EQ(tams_runner_spawn(r, "test-early", returning_job, &p, NULL, NULL), 0);
    CHECK(wait_for(&p.ended, 1));
    usleep(20000); /* its thread is gone by now */
    CHECK_INT_EQ(tams_runner_spawn(r, "test-late", pausing_job, &q, NULL, NULL), 0);
    CHECK(wait_for(&q.started, 1));
    /* free alone stops and joins both, the one long returned included */
    tams_runner_free(r);
    CHECK(load(&q.ended));
    tams_runner_free(NULL);

    /* joined without a stop: the jobs ended by themselves */
    r = tams_runner_new();
    p = (struct probe){0};
    CHECK_INT_EQ(tams_runner_spawn(r, "test-self", returning_job, &p, NULL, NULL), 0);
    tams_runner_join(r);
    CHECK(load(&p.ended));
    tams_runner_free(r);
}

/* A job may use the handle spawn hands out from its very first line. */
struct self_probe {
    struct tams_job *self;
    int same;
};

static void self_job(struct tams_job *job, void *ctx)
{
    struct self_probe *p = ctx;

    store(&p->same, p->self == job);
}

static void test_handle_before_start(void)
{
    struct tams_runner *r = tams_runner_new();
    struct self_probe p[8];

    for (int i = 0; i < 8; i++) {
        p[i] = (struct self_probe){NULL, -1};
        CHECK_INT_EQ(tams_runner_spawn(r, "test-self", self_job, &p[i], &p[i].self, NULL), 0);
    }
    tams_runner_join(r);
    for (int i = 0; i < 8; i++)
        CHECK_INT_EQ(load(&p[i].same), 1);
    tams_runner_free(r);
}

static void test_spawn_after_stop(void)
{
    struct tams_runner *r = tams_runner_new();
    struct probe p = {0};
    int64_t t0 = tams_clock_mono_us();

    tams_runner_stop(r);
    CHECK_INT_EQ(tams_runner_spawn(r, "test-after", pausing_job, &p, NULL, NULL), 0);
    tams_runner_join(r);
    CHECK(load(&p.ended) && load(&p.stopping_seen) && load(&p.wakes) == 0);
    CHECK(tams_clock_mono_us() - t0 < PROMPT_US);
    tams_runner_free(r);
}

/* The pause itself: its timeout, and no wait at all for ms <= 0. */
static void timed_job(struct tams_job *job, void *ctx)
{
    struct probe *p = ctx;
    int64_t t0 = tams_clock_mono_us();
    bool go = tams_job_pause(job, 0) && tams_job_pause(job, -5);

    store(&p->no_wait_ms, (int)((tams_clock_mono_us() - t0) / 1000));
    t0 = tams_clock_mono_us();
    go = go && tams_job_pause(job, 100);
    store(&p->timed_ms, (int)((tams_clock_mono_us() - t0) / 1000));
    store(&p->went_on, go);
    store(&p->ended, 1);
}

static void test_pause_timeout(void)
{
    struct tams_runner *r = tams_runner_new();
    struct probe p = {0};

    CHECK_INT_EQ(tams_runner_spawn(r, "test-timed", timed_job, &p, NULL, NULL), 0);
    tams_runner_join(r);
    CHECK(load(&p.ended) && load(&p.went_on));
    CHECK(load(&p.no_wait_ms) < 50); /* pause(0) and pause(-5) did not wait */
    CHECK(load(&p.timed_ms) >= 99);  /* pause(100) waited its 100 ms */
    tams_runner_free(r);
}

int main(void)
{
    RUN(test_kick);
    RUN(test_stop_ends_pause);
    RUN(test_join_waits);
    RUN(test_early_return);
    RUN(test_handle_before_start);
    RUN(test_spawn_after_stop);
    RUN(test_pause_timeout);
    return check_report();
}
