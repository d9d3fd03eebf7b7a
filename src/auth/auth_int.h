/* SPDX-License-Identifier: Apache-2.0 */
/* auth_int.h - what auth.c and hashq.c share: the authenticator's state and the steps of a
 * password check. Internal to src/auth; nothing outside includes it. */
#ifndef TAMS_AUTH_AUTH_INT_H
#define TAMS_AUTH_AUTH_INT_H

#include "core/common.h"
#include "core/crypto.h"
#include "auth/auth.h"
#include "auth/creds.h"
#include "auth/jwt.h"
#include "auth/throttle.h"

#include <pthread.h>
#include <sys/stat.h>

#define CACHE_SLOTS 128

/* One loaded version of the credentials file; freed when the last user lets go. */
struct snapshot {
    struct tams_creds creds;
    uint64_t gen;
    int refs;
};

struct cache_entry {
    unsigned char key[TAMS_SHA256_LEN];
    int64_t expires_us;
    uint64_t gen;
    unsigned scopes;
    char name[TAMS_CREDS_NAME_MAX + 1];
};

struct tams_auth_pending {
    struct tams_auth *a;
    struct tams_auth_pending *next;
    int refs; /* the queue's (until a thread is done with it) and the caller's */
    bool done, parked, cancelled;
    bool suspending; /* the caller is suspending its request right now */
    bool wake_owed;  /* done meanwhile: the caller wakes its request itself */
    enum tams_auth_outcome outcome;
    struct tams_auth_result res;
    struct snapshot *snap;
    char *user, *pw;
    size_t plen;
    unsigned char key[TAMS_SHA256_LEN];
    struct tams_client client;
    uint64_t who;
    void (*wake)(void *ctx);
    void *wake_ctx;
};

struct tams_auth {
    bool off;    /* auth_disabled */
    bool always; /* not loopback: authentication in force even with no credential */
    bool armed;  /* a credentials file was seen: in force for good (atomic) */
    bool metrics_public;
    char *path;
    struct tams_jwt_verifier *jwt;
    char *jwt_issuer; /* configured iss, or NULL */
    struct tams_proxies proxies;

    pthread_mutex_t lock; /* snapshot pointer and refs */
    struct snapshot *cur;
    pthread_mutex_t reload_lock;
    int64_t next_check_us;
    struct stat seen;
    bool seen_exists;

    pthread_mutex_t cache_lock;
    unsigned char cache_key[TAMS_SHA256_LEN];
    struct cache_entry cache[CACHE_SLOTS];
    size_t cache_next;

    struct tams_throttle *th;

    /* Password checks waiting for a hashing thread. */
    pthread_mutex_t hq_lock;
    pthread_cond_t hq_cv;   /* work or stop */
    pthread_cond_t hq_idle; /* a thread finished a check */
    struct tams_auth_pending *hq_head, *hq_tail;
    int hq_len, hq_max, hq_running;
    bool hq_closed; /* abort_pending ran: no more checks */
    bool hq_stop;   /* close: threads end */
    pthread_t *hq_threads;
    int hq_nthreads;

    uint64_t n_missing, n_invalid, n_forbidden;
    uint64_t n_throttled, n_throttled_unknown, n_busy;
};

/* auth.c: let go of a snapshot of the credentials (the last user frees it). */
void tams_auth_snap_put(struct tams_auth *a, struct snapshot *s);
/* auth.c: PBKDF2 and what follows it: the outcome of checking user and password against snap,
 * the throttle and the cache updated. Costs ~0.2 s of CPU: run on a hashing thread. */
enum tams_auth_outcome tams_auth_finish_password(struct tams_auth *a, struct snapshot *snap,
                                                 const struct tams_client *c, uint64_t who,
                                                 const char *user, const char *pw, size_t plen,
                                                 const unsigned char key[TAMS_SHA256_LEN],
                                                 struct tams_auth_result *res);

/* hashq.c: queue a password check for a hashing thread. Takes over the caller's reference to
 * snap. Returns TAMS_AUTH_PENDING with *out set (in->wake runs when it is decided), or
 * TAMS_AUTH_BUSY when the queue is full or closed. */
enum tams_auth_outcome
tams_auth_queue_password(struct tams_auth *a, const struct tams_auth_input *in,
                         struct snapshot *snap, const struct tams_client *c, uint64_t who,
                         const char *user, const char *pw, size_t plen, const unsigned char *key,
                         struct tams_auth_result *res, struct tams_auth_pending **out);
/* hashq.c: start n hashing threads (they take no signal). */
int tams_auth_start_hashing(struct tams_auth *a, int n, struct tams_buf *why);

#endif
