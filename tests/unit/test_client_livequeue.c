/* SPDX-License-Identifier: Apache-2.0 */
/* test_client_livequeue.c - the live ingest's queue (client/livequeue): pushes go on while the
 * upload is stalled, up to the byte budget and no further; pieces arrive whole and in order;
 * an upload's failure stops the queue and reaches the next push and finish. */
#include "core/common.h"
#include "client/livequeue.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define PIECE 1000

/* The upload side: blocked until released (a server that is away), recording what it got. */
struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    int fail_at; /* the number whose upload fails (-1: none) */
    size_t got;
    size_t numbers[64];
    int64_t tags[64];
    bool intact;
};

static int upload(const struct tams_seg_piece *p, int64_t tag, void *arg)
{
    struct sink *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->open)
        pthread_cond_wait(&s->cv, &s->mu);
    for (size_t i = 0; i < p->size; i++)
        if (p->data[i] != (uint8_t)(p->number + i))
            s->intact = false;
    if (s->got < 64) {
        s->numbers[s->got] = p->number;
        s->tags[s->got] = tag;
    }
    s->got++;
    pthread_mutex_unlock(&s->mu);
    return (int)p->number == s->fail_at ? 42 : 0;
}

static void sink_init(struct sink *s, int fail_at)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->fail_at = fail_at;
    s->intact = true;
}

static void sink_open(struct sink *s)
{
    pthread_mutex_lock(&s->mu);
    s->open = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Piece n: PIECE bytes that tell where they came from; buf is the segmenter's buffer, reused. */
static int push(struct tams_livequeue *q, size_t n)
{
    static uint8_t buf[PIECE];
    struct tams_seg_piece p = {.number = n, .data = buf, .size = PIECE, .lo = (int64_t)n};

    for (size_t i = 0; i < PIECE; i++)
        buf[i] = (uint8_t)(n + i);
    return tams_livequeue_push(q, &p, (int64_t)n * 10);
}

struct pusher {
    struct tams_livequeue *q;
    size_t n;
    volatile int done;
};

static void *push_later(void *arg)
{
    struct pusher *p = arg;

    (void)push(p->q, p->n);
    p->done = 1;
    return NULL;
}

static void test_reader_goes_on_while_upload_waits(void)
{
    struct sink s;
    struct tams_livequeue *q;
    struct pusher late;
    pthread_t t;

    sink_init(&s, -1);
    q = tams_livequeue_start(4 * PIECE, upload, &s);
    CHECK(q != NULL);
    /* The upload is stalled: four pieces fit the budget, and pushing them does not wait. */
    for (size_t n = 0; n < 4; n++)
        CHECK_INT_EQ(push(q, n), 0);
    CHECK_INT_EQ(tams_livequeue_peak(q), 4 * PIECE);
    /* A fifth waits for room. */
    late = (struct pusher){q, 4, 0};
    pthread_create(&t, NULL, push_later, &late);
    usleep(200 * 1000);
    CHECK(!late.done);
    sink_open(&s);
    pthread_join(t, NULL);
    CHECK(late.done);
    for (size_t n = 5; n < 20; n++)
        CHECK_INT_EQ(push(q, n), 0);
    CHECK_INT_EQ(tams_livequeue_finish(q), 0);
    CHECK_INT_EQ(s.got, 20);
    for (size_t n = 0; n < 20; n++) {
        CHECK_INT_EQ(s.numbers[n], n);
        CHECK_INT_EQ(s.tags[n], (int64_t)n * 10);
    }
    CHECK(s.intact);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
}

static void test_a_failure_stops_the_queue(void)
{
    struct sink s;
    struct tams_livequeue *q;
    int rc = 0;

    sink_init(&s, 3);
    s.open = true;
    q = tams_livequeue_start(2 * PIECE, upload, &s);
    for (size_t n = 0; n < 50 && rc == 0; n++)
        rc = push(q, n);
    CHECK_INT_EQ(rc, 42); /* a push after the failure says so */
    CHECK_INT_EQ(tams_livequeue_finish(q), 42);
    CHECK_INT_EQ(s.got, 4); /* 0..3, nothing after the failed one */
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
}

static void test_one_piece_larger_than_the_budget(void)
{
    struct sink s;
    struct tams_livequeue *q;

    sink_init(&s, -1);
    s.open = true;
    q = tams_livequeue_start(PIECE / 2, upload, &s);
    for (size_t n = 0; n < 5; n++)
        CHECK_INT_EQ(push(q, n), 0);
    CHECK_INT_EQ(tams_livequeue_finish(q), 0);
    CHECK_INT_EQ(s.got, 5);
    CHECK(s.intact);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
}

int main(void)
{
    RUN(test_reader_goes_on_while_upload_waits);
    RUN(test_a_failure_stops_the_queue);
    RUN(test_one_piece_larger_than_the_budget);
    return check_report();
}
