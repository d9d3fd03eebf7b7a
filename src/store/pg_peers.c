/* SPDX-License-Identifier: Apache-2.0 */
/* pg_peers.c - cache coherence between instances on one PostgreSQL (see pg_peers.h). */
#include "core/common.h"
#include "store/pg_peers.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "store/db.h"
#include "store/pg_connect.h"

#define KEY_MAX (TAMS_UUID_STRLEN + 24) /* "<uuid>.<epoch>" */
#define ACK_PAYLOAD_MAX 7900            /* NOTIFY payloads stop at 8000 bytes */
#define PURGE_EVERY 60                  /* renewals between purges of long-dead rows */
#define TAG_LEN 16                      /* hex digits of the store's tag in a write's payload */

struct peer {
    char key[KEY_MAX];
    int64_t deadline_us; /* monotonic: its lease has surely run out by then */
    int64_t acked;       /* the highest of our pings it has answered */
    bool seen;           /* in the latest read of the table */
};

/* Pingers heard since the last answer, each with the highest ping heard. */
struct heard {
    char writer[TAMS_UUID_STRLEN + 1];
    int64_t n;
};

struct tams_pg_peers {
    char *url;
    char id[TAMS_UUID_STRLEN + 1]; /* this process, as writer */
    char key[KEY_MAX];             /* this process's row while listening: id.epoch */
    /* The store's tag: a hash of the schema its tables are in. Notifications reach every
     * session of the database, so instances of other stores (other schemas) hear our writes
     * too: the tag lets them pass over them. Written once, before tagged is set. */
    char tag[TAG_LEN + 1];
    int tagged; /* atomic */
    unsigned epoch;
    uint64_t generation;                       /* atomic: store-wide (db.h) */
    uint64_t gen_buckets[TAMS_DB_GEN_BUCKETS]; /* atomics: writes scoped to an id's bucket */
    int wake;                                  /* eventfd: a writer wants a ping */
    /* atomics: caches are trusted only between these (monotonic microseconds) and listening */
    int64_t trusted_from_us, trusted_until_us;
    int listening, stop;

    pthread_mutex_t mu; /* guards peers, npeers, peers_at_us, pings_sent, ping_wanted */
    pthread_cond_t acked_cv;
    int64_t pings_sent; /* numbers given to our pings so far */
    bool ping_wanted;   /* a writer waits for a ping numbered after pings_sent */
    struct peer *peers;
    size_t npeers;
    int64_t peers_at_us;
    bool warned_stale;

    pthread_t thread;
    bool started;
};

static bool stopping(struct tams_pg_peers *p)
{
    return __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) != 0;
}

/* A scope travels in a notification's payload, so only an id's own characters are taken;
 * anything else widens the write to the whole store. */
static bool scope_ok(const char *scope)
{
    size_t n = 0;

    if (!scope)
        return false;
    for (; scope[n]; n++)
        if (n >= TAMS_UUID_STRLEN || !(isxdigit((unsigned char)scope[n]) || scope[n] == '-'))
            return false;
    return n > 0;
}

void tams_pg_peers_bump(struct tams_pg_peers *p, const char *scope)
{
    __atomic_add_fetch(scope_ok(scope) ? &p->gen_buckets[tams_db_gen_bucket(scope)]
                                       : &p->generation,
                       1, __ATOMIC_ACQ_REL);
}

uint64_t tams_pg_peers_generation(struct tams_pg_peers *p, const char *id)
{
    int64_t now = tams_clock_mono_us();
    uint64_t g;

    if (!__atomic_load_n(&p->listening, __ATOMIC_ACQUIRE) ||
        now < __atomic_load_n(&p->trusted_from_us, __ATOMIC_ACQUIRE) ||
        now >= __atomic_load_n(&p->trusted_until_us, __ATOMIC_ACQUIRE))
        g = __atomic_add_fetch(&p->generation, 1, __ATOMIC_ACQ_REL);
    else
        g = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
    return id ? g + __atomic_load_n(&p->gen_buckets[tams_db_gen_bucket(id)], __ATOMIC_ACQUIRE) : g;
}

void tams_pg_peers_commit_sql(struct tams_pg_peers *p, const char *scope, char *sql, size_t size)
{
    /* Untagged until the tag is known: every instance then takes the write as its store's. */
    bool tagged = __atomic_load_n(&p->tagged, __ATOMIC_ACQUIRE) != 0;

    snprintf(sql, size, "NOTIFY tams_generation, '%s%s%s%s%s'; COMMIT", p->id, tagged ? "@" : "",
             tagged ? p->tag : "", scope_ok(scope) ? " " : "", scope_ok(scope) ? scope : "");
}

size_t tams_pg_peers_count(struct tams_pg_peers *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->npeers;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* The earliest deadline among peers that still owe an answer for ping n; 0 when none does. */
static int64_t owed_until(struct tams_pg_peers *p, int64_t n, int64_t now)
{
    int64_t until = 0;

    for (size_t i = 0; i < p->npeers; i++) {
        const struct peer *q = &p->peers[i];

        if (q->acked < n && q->deadline_us > now && (!until || q->deadline_us < until))
            until = q->deadline_us;
    }
    return until;
}

void tams_pg_peers_wait(struct tams_pg_peers *p)
{
    int64_t now, until, need;

    pthread_mutex_lock(&p->mu);
    if (!p->npeers) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    now = tams_clock_mono_us();
    if (now - p->peers_at_us > 2 * PEERS_RENEW_MS * 1000 && !p->warned_stale) {
        p->warned_stale = true;
        tams_log_warn("postgresql: the list of other instances is %" PRId64 " ms old; a cache "
                      "of an instance started meanwhile may serve data older than this write",
                      (now - p->peers_at_us) / 1000);
    }
    /* Our commit is done; the next ping numbered is sent after it, so commits after it too. */
    need = p->pings_sent + 1;
    if (!p->ping_wanted) {
        p->ping_wanted = true;
        if (write(p->wake, &(uint64_t){1}, sizeof(uint64_t)) < 0 && errno != EAGAIN)
            tams_log_warn("postgresql: cannot wake the listening thread: %s", strerror(errno));
    }
    while (!stopping(p) && (until = owed_until(p, need, now))) {
        struct timespec ts = {.tv_sec = (time_t)(until / 1000000),
                              .tv_nsec = (long)(until % 1000000) * 1000};

        pthread_cond_timedwait(&p->acked_cv, &p->mu, &ts);
        now = tams_clock_mono_us();
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---- the listening thread ------------------------------------------------------------------ */

static bool ok(PGconn *pg, PGresult *r, ExecStatusType want, const char *what)
{
    bool good = PQresultStatus(r) == want;

    if (!good && PQstatus(pg) == CONNECTION_OK)
        tams_log_warn("postgresql: %s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return good;
}

/* The store's tag, from the schema the connection's tables are in (current_schema()). */
static bool learn_tag(struct tams_pg_peers *p, PGconn *pg)
{
    PGresult *r;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    if (__atomic_load_n(&p->tagged, __ATOMIC_ACQUIRE))
        return true;
    r = PQexec(pg, "SELECT coalesce(current_schema(), '')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        return ok(pg, r, PGRES_TUPLES_OK, "reading the store's schema");
    for (const char *c = PQgetvalue(r, 0, 0); *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    PQclear(r);
    snprintf(p->tag, sizeof(p->tag), "%016" PRIx64, h);
    __atomic_store_n(&p->tagged, 1, __ATOMIC_RELEASE);
    return true;
}

/* Is a write's payload, after the writer's id, another store's? Untagged payloads (from
 * instances that do not tag, or before they knew their tag) and tags that cannot be read count
 * as ours, to be safe. *rest is moved past a tag. */
static bool other_store(struct tams_pg_peers *p, const char **rest)
{
    const char *s = *rest;

    if (s[0] != '@' || strnlen(s + 1, TAG_LEN) < TAG_LEN ||
        (s[1 + TAG_LEN] != ' ' && s[1 + TAG_LEN] != '\0'))
        return false;
    *rest = s + 1 + TAG_LEN;
    return __atomic_load_n(&p->tagged, __ATOMIC_ACQUIRE) && memcmp(s + 1, p->tag, TAG_LEN) != 0;
}

/* Renew our row and read everyone else's; *trusted_until is how long our lease surely runs.
 * false when the connection failed. */
static bool renew(struct tams_pg_peers *p, PGconn *pg, unsigned round, int64_t *trusted_until)
{
    char lease[24];
    const char *v[2] = {p->key, lease};
    int64_t t0 = tams_clock_mono_us(), t1;
    PGresult *r;
    int n;

    snprintf(lease, sizeof(lease), "%d", PEERS_LEASE_MS);
    r = PQexecParams(pg,
                     "INSERT INTO tams_instances(key, lease_until, pid) VALUES ($1, now() +"
                     " $2::int * interval '1 millisecond', pg_backend_pid()) ON CONFLICT (key)"
                     " DO UPDATE SET lease_until = EXCLUDED.lease_until, pid = EXCLUDED.pid",
                     2, NULL, v, NULL, NULL, 0);
    if (!ok(pg, r, PGRES_COMMAND_OK, "renewing this instance's lease"))
        return false;
    /* The row's lease started after t0, so it surely runs until t0 + lease. */
    *trusted_until = t0 + (PEERS_LEASE_MS - PEERS_MARGIN_MS) * 1000;
    /* A peer whose listening session the database no longer has is gone (a crashed process's
     * sessions end as soon as its sockets close): nothing to wait for, whatever its lease. A
     * row without a pid (an older release) counts until its lease runs out. */
    r = PQexecParams(pg,
                     "SELECT key, (extract(epoch FROM lease_until - now()) * 1000000)::bigint"
                     " FROM tams_instances i WHERE lease_until > now() AND key <> $1 AND"
                     " (pid IS NULL OR EXISTS (SELECT 1 FROM pg_stat_activity a"
                     " WHERE a.pid = i.pid))",
                     1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return ok(pg, r, PGRES_TUPLES_OK, "reading the other instances");
    t1 = tams_clock_mono_us();
    n = PQntuples(r);
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->npeers; i++)
        p->peers[i].seen = false;
    for (int row = 0; row < n; row++) {
        const char *key = PQgetvalue(r, row, 0);
        int64_t left = strtoll(PQgetvalue(r, row, 1), NULL, 10);
        struct peer *q = NULL;

        for (size_t i = 0; i < p->npeers && !q; i++)
            if (strcmp(p->peers[i].key, key) == 0)
                q = &p->peers[i];
        if (!q) {
            p->peers = tams_realloc(p->peers, tams_st_mult(p->npeers + 1, sizeof(*p->peers)));
            q = &p->peers[p->npeers++];
            memset(q, 0, sizeof(*q));
            snprintf(q->key, sizeof(q->key), "%s", key);
            /* Pings numbered so far were sent before we knew it: it may have joined after
             * them and never hear them, and owes no answer, as it trusts no cache until every
             * writer knows it. Waiting for one would last as long as it renews its lease. */
            q->acked = p->pings_sent;
        }
        /* Measured from after the answer: later than the database's view, never earlier. */
        q->deadline_us = t1 + left + PEERS_MARGIN_MS * 1000;
        q->seen = true;
    }
    {
        size_t k = 0;

        for (size_t i = 0; i < p->npeers; i++)
            if (p->peers[i].seen)
                p->peers[k++] = p->peers[i];
        p->npeers = k;
    }
    p->peers_at_us = t1;
    p->warned_stale = false;
    pthread_cond_broadcast(&p->acked_cv); /* peers that left owe nothing any more */
    pthread_mutex_unlock(&p->mu);
    PQclear(r);
    if (round % PURGE_EVERY == 0)
        PQclear(PQexec(pg, "DELETE FROM tams_instances WHERE lease_until < now() - interval"
                           " '1 minute'"));
    return true;
}

/* An answer "<peer key> <pinger> <m> ...": record what it says about our pings. */
static void on_ack(struct tams_pg_peers *p, char *payload)
{
    char *save = NULL, *from = strtok_r(payload, " ", &save), *w, *n;

    if (!from)
        return;
    pthread_mutex_lock(&p->mu);
    while ((w = strtok_r(NULL, " ", &save)) && (n = strtok_r(NULL, " ", &save))) {
        if (strcmp(w, p->id) != 0)
            continue;
        for (size_t i = 0; i < p->npeers; i++)
            if (strcmp(p->peers[i].key, from) == 0) {
                int64_t v = strtoll(n, NULL, 10);

                if (v > p->peers[i].acked)
                    p->peers[i].acked = v;
                pthread_cond_broadcast(&p->acked_cv);
            }
    }
    pthread_mutex_unlock(&p->mu);
}

/* A ping "<pinger> <m>" heard: remember the highest m per pinger, to answer after the bump. */
static void on_ping(struct tams_pg_peers *p, const char *payload, struct heard **h, size_t *nh)
{
    char writer[TAMS_UUID_STRLEN + 1];
    int64_t n;

    if (sscanf(payload, "%36s %" SCNd64, writer, &n) != 2 || strcmp(writer, p->id) == 0)
        return;
    for (size_t i = 0; i < *nh; i++)
        if (strcmp((*h)[i].writer, writer) == 0) {
            if (n > (*h)[i].n)
                (*h)[i].n = n;
            return;
        }
    *h = tams_realloc(*h, tams_st_mult(*nh + 1, sizeof(**h)));
    snprintf((*h)[*nh].writer, sizeof((*h)[*nh].writer), "%s", writer);
    (*h)[(*nh)++].n = n;
}

/* Send the ping writers wait for, numbered after every commit they made. false on failure. */
static bool ping(struct tams_pg_peers *p, PGconn *pg)
{
    char payload[TAMS_UUID_STRLEN + 24];
    const char *v[1] = {payload};
    uint64_t ignored;
    bool wanted;

    if (read(p->wake, &ignored, sizeof(ignored)) < 0 && errno != EAGAIN)
        return true;
    pthread_mutex_lock(&p->mu);
    wanted = p->ping_wanted;
    p->ping_wanted = false;
    if (wanted)
        snprintf(payload, sizeof(payload), "%s %" PRId64, p->id, ++p->pings_sent);
    pthread_mutex_unlock(&p->mu);
    if (!wanted ||
        ok(pg, PQexecParams(pg, "SELECT pg_notify('tams_ping', $1)", 1, NULL, v, NULL, NULL, 0),
           PGRES_TUPLES_OK, "pinging the other instances"))
        return true;
    /* Lost: ping again once connected anew (the numbers only grow). */
    pthread_mutex_lock(&p->mu);
    p->ping_wanted = true;
    pthread_mutex_unlock(&p->mu);
    if (write(p->wake, &(uint64_t){1}, sizeof(uint64_t)) < 0 && errno != EAGAIN)
        tams_log_warn("postgresql: cannot wake the listening thread: %s", strerror(errno));
    return false;
}

/* Answer every pinger heard (the generation has already moved). false when the send failed. */
static bool answer(struct tams_pg_peers *p, PGconn *pg, const struct heard *h, size_t nh)
{
    struct tams_buf b = TAMS_BUF_INIT(ACK_PAYLOAD_MAX + 64);
    bool good = true;

    for (size_t i = 0; i < nh && good; i++) {
        if (!b.len)
            tams_buf_addstr(&b, p->key);
        tams_buf_addf(&b, " %s %" PRId64, h[i].writer, h[i].n);
        if (i + 1 == nh || b.len + KEY_MAX + 24 > ACK_PAYLOAD_MAX) {
            const char *v[1] = {b.data};

            good = ok(
                pg, PQexecParams(pg, "SELECT pg_notify('tams_ack', $1)", 1, NULL, v, NULL, NULL, 0),
                PGRES_TUPLES_OK, "answering a ping");
            tams_buf_reset(&b);
        }
    }
    tams_buf_release(&b);
    return good;
}

static void lose(struct tams_pg_peers *p, PGconn **pg)
{
    __atomic_store_n(&p->listening, 0, __ATOMIC_RELEASE);
    PQfinish(*pg);
    *pg = NULL;
    tams_pg_peers_bump(p, NULL);
}

/* LISTEN, then register: whatever is written after registration is heard. */
static PGconn *join(struct tams_pg_peers *p, int64_t *trusted_until)
{
    PGconn *pg = tams_pg_connect(p->url);

    if (PQstatus(pg) != CONNECTION_OK || !learn_tag(p, pg) ||
        !ok(pg, PQexec(pg, "LISTEN tams_generation; LISTEN tams_ping; LISTEN tams_ack"),
            PGRES_COMMAND_OK, "listening")) {
        PQfinish(pg);
        return NULL;
    }
    if (p->epoch) { /* the row of the last connection: writers stop waiting for it at once */
        const char *v[1] = {p->key};

        PQclear(PQexecParams(pg, "DELETE FROM tams_instances WHERE key = $1", 1, NULL, v, NULL,
                             NULL, 0));
    }
    snprintf(p->key, sizeof(p->key), "%s.%u", p->id, ++p->epoch);
    if (!renew(p, pg, 1, trusted_until)) {
        PQfinish(pg);
        return NULL;
    }
    /* Trusted once every writer has had two renewals to learn of this row. */
    __atomic_store_n(&p->trusted_from_us,
                     tams_clock_mono_us() + (2 * PEERS_RENEW_MS + PEERS_MARGIN_MS) * 1000,
                     __ATOMIC_RELEASE);
    tams_pg_peers_bump(p, NULL); /* writes may have gone unheard while not listening */
    return pg;
}

/* Take in what the connection holds: answers, others' writes (bump) and pings (bump, then
 * answer). false when the connection is lost. */
static bool drain(struct tams_pg_peers *p, PGconn *pg, struct heard **h)
{
    size_t nh = 0;
    bool bumped = false;
    PGnotify *nt;

    if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK)
        return false;
    while ((nt = PQnotifies(pg))) {
        if (strcmp(nt->relname, "tams_ack") == 0) {
            on_ack(p, nt->extra);
        } else if (strcmp(nt->relname, "tams_ping") == 0) {
            /* No bump: the pinger's writes were heard (and bumped for) before its ping, as
             * notifications arrive in commit order. */
            on_ping(p, nt->extra, h, &nh);
        } else if (strncmp(nt->extra, p->id, TAMS_UUID_STRLEN) != 0) {
            /* Another's write: caches made before it are stale, of its scope or of all; unless
             * it was to another store. */
            const char *rest = nt->extra + strnlen(nt->extra, TAMS_UUID_STRLEN);

            if (!other_store(p, &rest)) {
                if (*rest == ' ')
                    tams_pg_peers_bump(p, rest + 1);
                else
                    bumped = true;
            }
        }
        PQfreemem(nt);
    }
    if (bumped)
        tams_pg_peers_bump(p, NULL);
    return !nh || answer(p, pg, *h, nh); /* after the bump: the writer goes on once answered */
}

/* Publish how long our own lease surely runs. Writes heard up to the renewal have been taken
 * in (drain) first; coming back from a lapse moves the generation, as the lapse may have hidden
 * writes whose writers did not wait for us. */
static void trust_until(struct tams_pg_peers *p, int64_t until)
{
    bool lapsed = tams_clock_mono_us() >= __atomic_load_n(&p->trusted_until_us, __ATOMIC_ACQUIRE);

    __atomic_store_n(&p->trusted_until_us, until, __ATOMIC_RELEASE);
    if (lapsed)
        tams_pg_peers_bump(p, NULL);
}

static void *peers_run(void *arg)
{
    struct tams_pg_peers *p = arg;
    PGconn *pg = NULL;
    struct heard *h = NULL;
    int64_t next_renew = 0;
    unsigned round = 1;

    while (!stopping(p)) {
        struct pollfd pfd[2];
        int64_t now = tams_clock_mono_us(), wait_ms, until;

        if (!pg) {
            if (!(pg = join(p, &until)) || !drain(p, pg, &h)) {
                PQfinish(pg);
                pg = NULL;
                for (int i = 0; i < 10 && !stopping(p); i++)
                    nanosleep(&(struct timespec){0, 100000000}, NULL);
                continue;
            }
            trust_until(p, until);
            __atomic_store_n(&p->listening, 1, __ATOMIC_RELEASE);
            next_renew = tams_clock_mono_us() + PEERS_RENEW_MS * 1000;
        }
        if (now >= next_renew) {
            if (!renew(p, pg, ++round, &until) || !drain(p, pg, &h)) {
                lose(p, &pg);
                continue;
            }
            trust_until(p, until);
            next_renew = now + PEERS_RENEW_MS * 1000;
        }
        wait_ms = (next_renew - now) / 1000 + 1;
        pfd[0] = (struct pollfd){.fd = PQsocket(pg), .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = p->wake, .events = POLLIN};
        if (poll(pfd, 2, (int)(wait_ms < 200 ? wait_ms : 200)) < 0 && errno != EINTR)
            break;
        if (((pfd[1].revents & POLLIN) && !ping(p, pg)) || !drain(p, pg, &h))
            lose(p, &pg);
    }
    if (pg) {
        const char *v[1] = {p->key};

        PQclear(PQexecParams(pg, "DELETE FROM tams_instances WHERE key = $1", 1, NULL, v, NULL,
                             NULL, 0));
        lose(p, &pg);
    }
    tams_free(h);
    return NULL;
}

struct tams_pg_peers *tams_pg_peers_start(const char *url)
{
    struct tams_pg_peers *p = tams_calloc(1, sizeof(*p));
    sigset_t all, old;

    p->url = tams_strdup(url);
    tams_uuid_v4(p->id);
    p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&p->mu, NULL);
    {
        pthread_condattr_t a;

        /* Deadlines are monotonic (tams_clock_mono_us), and so are the waits for them. */
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&p->acked_cv, &a);
        pthread_condattr_destroy(&a);
    }
    /* The thread takes no signals: they belong to the thread that waits for them in main. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    p->started = p->wake >= 0 && pthread_create(&p->thread, NULL, peers_run, p) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!p->started)
        tams_log_error("postgresql: cannot start the listening thread; caches stay off");
    return p;
}

void tams_pg_peers_stop(struct tams_pg_peers *p)
{
    if (!p)
        return;
    if (p->started) {
        __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->acked_cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->acked_cv);
    if (p->wake >= 0)
        close(p->wake);
    tams_free(p->peers);
    tams_free(p->url);
    tams_free(p);
}
