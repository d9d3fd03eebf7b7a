/* SPDX-License-Identifier: Apache-2.0 */
/* hashq.c - the password queue: PBKDF2 checks run on their own threads behind a bounded queue,
 * so that a flood of passwords cannot delay token and JWT requests (issue 14, F10). A request
 * whose password is queued is parked (its connection suspended) and woken when decided. */
#include "core/common.h"
#include "core/log.h"
#include "auth/auth_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HASH_NICE 10 /* hashing threads yield the CPU to request threads */

/* Frees p once neither a thread nor its caller holds it; under hq_lock. */
static void pending_unref(struct tams_auth_pending *p)
{
    if (--p->refs == 0)
        tams_free(p);
}

/* The secret and the snapshot go as soon as the check is done or given up. */
static void pending_drop_work(struct tams_auth *a, struct tams_auth_pending *p)
{
    if (p->pw) {
        OPENSSL_cleanse(p->pw, p->plen);
        tams_free(p->pw);
        p->pw = NULL;
    }
    tams_free(p->user);
    p->user = NULL;
    OPENSSL_cleanse(p->key, sizeof(p->key));
    if (p->snap)
        tams_auth_snap_put(a, p->snap);
    p->snap = NULL;
}

enum tams_auth_outcome
tams_auth_queue_password(struct tams_auth *a, const struct tams_auth_input *in,
                         struct snapshot *snap, const struct tams_client *c, uint64_t who,
                         const char *user, const char *pw, size_t plen, const unsigned char *key,
                         struct tams_auth_result *res, struct tams_auth_pending **out)
{
    struct tams_auth_pending *p;

    pthread_mutex_lock(&a->hq_lock);
    if (a->hq_closed || a->hq_len >= a->hq_max) {
        pthread_mutex_unlock(&a->hq_lock);
        tams_throttle_give_back(a->th, c, who); /* nothing was tried */
        __atomic_fetch_add(&a->n_busy, 1, __ATOMIC_RELAXED);
        res->retry_after = 1;
        return TAMS_AUTH_BUSY;
    }
    p = tams_calloc(1, sizeof(*p));
    p->a = a;
    p->refs = 2;
    p->snap = snap;
    pthread_mutex_lock(&a->lock);
    snap->refs++;
    pthread_mutex_unlock(&a->lock);
    p->user = tams_strdup(user);
    p->pw = tams_malloc(plen + 1);
    memcpy(p->pw, pw, plen);
    p->pw[plen] = '\0';
    p->plen = plen;
    memcpy(p->key, key, TAMS_SHA256_LEN);
    p->client = *c;
    p->who = who;
    p->wake = in->wake;
    p->wake_ctx = in->wake_ctx;
    if (a->hq_tail)
        a->hq_tail->next = p;
    else
        a->hq_head = p;
    a->hq_tail = p;
    a->hq_len++;
    pthread_cond_signal(&a->hq_cv);
    pthread_mutex_unlock(&a->hq_lock);
    *out = p;
    return TAMS_AUTH_PENDING;
}

static struct tams_auth_pending *hq_pop(struct tams_auth *a)
{
    struct tams_auth_pending *p = a->hq_head;
    a->hq_head = p->next;
    if (!a->hq_head)
        a->hq_tail = NULL;
    p->next = NULL;
    a->hq_len--;
    return p;
}

/* Marks p done; returns the wake to call (outside the lock) or NULL. Under hq_lock. A caller
 * still busy suspending its request wakes it itself once suspended. */
static void (*pending_done(struct tams_auth_pending *p, void **ctx))(void *)
{
    void (*wake)(void *) = p->parked && !p->suspending ? p->wake : NULL;
    *ctx = p->wake_ctx;
    p->wake_owed = p->parked && p->suspending;
    p->done = true;
    pending_unref(p);
    return wake;
}

static void *hash_thread(void *arg)
{
    struct tams_auth *a = arg;

    /* Lower priority for this thread only (Linux's nice is per thread): request threads come
     * first when passwords pour in. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HASH_NICE) != 0)
        tams_log(TAMS_LOG_DEBUG, "cannot lower the password thread's priority: %s",
                 strerror(errno));
    pthread_mutex_lock(&a->hq_lock);
    for (;;) {
        struct tams_auth_pending *p;
        struct tams_auth_result res = {0};
        enum tams_auth_outcome out = TAMS_AUTH_INVALID;
        void (*wake)(void *);
        void *ctx;
        bool skip;

        while (!a->hq_head && !a->hq_stop)
            pthread_cond_wait(&a->hq_cv, &a->hq_lock);
        if (!a->hq_head)
            break;
        p = hq_pop(a);
        skip = p->cancelled;
        a->hq_running++;
        pthread_mutex_unlock(&a->hq_lock);
        if (!skip)
            out = tams_auth_finish_password(a, p->snap, &p->client, p->who, p->user, p->pw, p->plen,
                                            p->key, &res);
        pending_drop_work(a, p);
        pthread_mutex_lock(&a->hq_lock);
        p->outcome = out;
        p->res = res;
        wake = pending_done(p, &ctx);
        if (wake) {
            pthread_mutex_unlock(&a->hq_lock);
            wake(ctx);
            pthread_mutex_lock(&a->hq_lock);
        }
        /* Running until its request is woken: tams_auth_abort_pending's caller stops the
         * HTTP daemon next, which must find no request asleep. */
        a->hq_running--;
        pthread_cond_broadcast(&a->hq_idle);
    }
    pthread_mutex_unlock(&a->hq_lock);
    return NULL;
}

/* suspend runs outside hq_lock (libmicrohttpd takes locks of its own there); a check done
 * meanwhile leaves the wake to us, so it never comes before the suspension. */
bool tams_auth_pending_park(struct tams_auth_pending *p, void (*suspend)(void *ctx), void *ctx)
{
    struct tams_auth *a = p->a;
    bool owed;

    pthread_mutex_lock(&a->hq_lock);
    if (p->done) {
        pthread_mutex_unlock(&a->hq_lock);
        return false;
    }
    p->parked = p->suspending = true;
    pthread_mutex_unlock(&a->hq_lock);
    suspend(ctx);
    pthread_mutex_lock(&a->hq_lock);
    p->suspending = false;
    owed = p->wake_owed;
    p->wake_owed = false;
    pthread_mutex_unlock(&a->hq_lock);
    if (owed)
        p->wake(p->wake_ctx);
    return true;
}

enum tams_auth_outcome tams_auth_pending_finish(struct tams_auth_pending *p,
                                                struct tams_auth_result *res)
{
    struct tams_auth *a = p->a;
    enum tams_auth_outcome out;

    pthread_mutex_lock(&a->hq_lock);
    tams_assert(p->done);
    out = p->outcome;
    *res = p->res;
    pending_unref(p);
    pthread_mutex_unlock(&a->hq_lock);
    return out;
}

void tams_auth_pending_cancel(struct tams_auth_pending *p)
{
    struct tams_auth *a = p->a;

    pthread_mutex_lock(&a->hq_lock);
    tams_assert(!p->parked || p->done);
    p->cancelled = true;
    pending_unref(p);
    pthread_mutex_unlock(&a->hq_lock);
}

void tams_auth_abort_pending(struct tams_auth *a)
{
    pthread_mutex_lock(&a->hq_lock);
    a->hq_closed = true;
    while (a->hq_head) {
        struct tams_auth_pending *p = hq_pop(a);
        void (*wake)(void *);
        void *ctx;

        p->outcome = TAMS_AUTH_BUSY;
        p->res.retry_after = 1;
        pthread_mutex_unlock(&a->hq_lock);
        pending_drop_work(a, p);
        pthread_mutex_lock(&a->hq_lock);
        wake = pending_done(p, &ctx);
        if (wake) {
            pthread_mutex_unlock(&a->hq_lock);
            wake(ctx);
            pthread_mutex_lock(&a->hq_lock);
        }
    }
    while (a->hq_running > 0)
        pthread_cond_wait(&a->hq_idle, &a->hq_lock);
    pthread_mutex_unlock(&a->hq_lock);
}

int tams_auth_start_hashing(struct tams_auth *a, int n, struct tams_buf *why)
{
    sigset_t all, old;
    int rc = 0;

    /* The threads take no signal: main() waits for them (they may start before it blocks). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    a->hq_threads = tams_calloc((size_t)n, sizeof(*a->hq_threads));
    for (; a->hq_nthreads < n; a->hq_nthreads++) {
        int e = pthread_create(&a->hq_threads[a->hq_nthreads], NULL, hash_thread, a);
        if (e) {
            tams_buf_addf(why, "cannot start a password-checking thread: %s", strerror(e));
            rc = TAMS_ERR_INTERNAL;
            break;
        }
        pthread_setname_np(a->hq_threads[a->hq_nthreads], "tams-auth-hash");
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
