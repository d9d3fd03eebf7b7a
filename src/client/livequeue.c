/* SPDX-License-Identifier: Apache-2.0 */
/* livequeue.c - the live ingest's bounded queue of segments and its upload thread
 * (livequeue.h). */
#include "core/common.h"
#include "client/livequeue.h"

#include <pthread.h>

#include "core/alloc.h"

struct item {
    struct tams_seg_piece p; /* p.data points at the copy */
    int64_t tag;
    struct item *next;
};

struct tams_livequeue {
    pthread_mutex_t mu;
    pthread_cond_t changed; /* an item came or went, the queue is closing, or fn failed */
    struct item *head, *tail;
    size_t bytes, peak, budget;
    bool closing;
    int rc; /* fn's first non-zero result */
    tams_livequeue_fn fn;
    void *arg;
    pthread_t thread;
};

static void *run(void *arg)
{
    struct tams_livequeue *q = arg;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->closing)
            pthread_cond_wait(&q->changed, &q->mu);
        if (!q->head)
            break;
        struct item *it = q->head;
        /* The item stays queued (and counted) while fn works on it: the budget bounds what the
         * process holds, the segment in flight included. */
        pthread_mutex_unlock(&q->mu);
        int rc = q->fn(&it->p, it->tag, q->arg);
        pthread_mutex_lock(&q->mu);
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
        q->bytes -= it->p.size;
        tams_free(it);
        if (rc) {
            q->rc = rc;
            /* Nothing after a failure is handed over: drop the rest. */
            while (q->head) {
                struct item *next = q->head->next;
                q->bytes -= q->head->p.size;
                tams_free(q->head);
                q->head = next;
            }
            q->tail = NULL;
        }
        pthread_cond_broadcast(&q->changed);
        if (rc)
            break;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct tams_livequeue *tams_livequeue_start(size_t budget, tams_livequeue_fn fn, void *arg)
{
    struct tams_livequeue *q = tams_calloc(1, sizeof(*q));

    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
    q->budget = budget;
    q->fn = fn;
    q->arg = arg;
    if (pthread_create(&q->thread, NULL, run, q) != 0) {
        pthread_cond_destroy(&q->changed);
        pthread_mutex_destroy(&q->mu);
        tams_free(q);
        return NULL;
    }
    return q;
}

int tams_livequeue_push(struct tams_livequeue *q, const struct tams_seg_piece *p, int64_t tag)
{
    /* One allocation: the item and its copy of the segment after it. */
    struct item *it = tams_malloc(sizeof(*it) + p->size);
    int rc;

    it->p = *p;
    it->p.data = (const uint8_t *)(it + 1);
    if (p->size)
        memcpy(it + 1, p->data, p->size);
    it->tag = tag;
    it->next = NULL;
    pthread_mutex_lock(&q->mu);
    while (!q->rc && q->head && q->bytes + p->size > q->budget)
        pthread_cond_wait(&q->changed, &q->mu);
    if (!(rc = q->rc)) {
        if (q->tail)
            q->tail->next = it;
        else
            q->head = it;
        q->tail = it;
        q->bytes += p->size;
        if (q->bytes > q->peak)
            q->peak = q->bytes;
        it = NULL;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->mu);
    tams_free(it);
    return rc;
}

int tams_livequeue_finish(struct tams_livequeue *q)
{
    int rc;

    pthread_mutex_lock(&q->mu);
    q->closing = true;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    rc = q->rc;
    pthread_cond_destroy(&q->changed);
    pthread_mutex_destroy(&q->mu);
    tams_free(q);
    return rc;
}

size_t tams_livequeue_peak(struct tams_livequeue *q)
{
    size_t n;

    pthread_mutex_lock(&q->mu);
    n = q->peak;
    pthread_mutex_unlock(&q->mu);
    return n;
}
