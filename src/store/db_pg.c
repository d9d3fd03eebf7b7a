/* SPDX-License-Identifier: Apache-2.0 */
/* db_pg.c - the PostgreSQL driver (libpq): a connection pool, prepared statements, retries of
 * transactions that lost a race, read caches coherent across instances (pg_peers.h). */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/diskfull.h"
#include "core/log.h"
#include "store/db.h"
#include "store/store.h"
#include "store/pg_connect.h"
#include "store/pg_peers.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <time.h>

#define DEFAULT_POOL 16
#define TX_RETRIES 4              /* serialisation failures, deadlocks and lost races are retried */
#define POOL_WAIT_MS 10000        /* longest wait for a free connection before UNAVAILABLE */
#define SLOW_CONNECT_MS 500       /* a failed connect that took longer: the host hangs */
#define SLOW_DOWN_PAUSE_MS 1000   /* ...and is not tried again before this */
#define MIGRATE_LOCK 7353417901ll /* pg_advisory_lock key held while migrating */
#define SQL_TEXT_MAX (1u << 20)   /* a statement's text after $N numbering */

struct conn {
    struct tams_db base;
    PGconn *pg;     /* NULL until first use and after the connection was lost */
    bool broken;    /* lost: closed when given back, reopened on next use */
    bool reused;    /* opened before this operation (may have died while idle) */
    unsigned nstmt; /* statements sent in this attempt */
    bool prepared[TAMS_DB_MAX_STMTS];
    struct conn *next; /* free list */
};

struct pg_store {
    struct tams_store base;
    char *url;
    int size;
    struct conn *conns; /* size of them */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *free;
    int in_use, waiting; /* guarded by mu, for tams_store_pool */
    uint64_t timeouts;
    /* Read caches key on its generation: moved by this process's commits at once, and by
     * other instances' commits before those are answered (pg_peers.h). */
    struct tams_pg_peers *peers;
    /* atomics: the last connect failed; one is under way while down; none before next_try_us */
    int down, probing;
    int64_t next_try_us;
};

static struct pg_store *store_of(struct tams_store *st)
{
    return (struct pg_store *)st;
}

static void conn_drop(struct conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->broken = false;
    memset(c->prepared, 0, sizeof(c->prepared));
}

/* ---- the pool ---------------------------------------------------------------------------- */

/* While the database cannot be reached, one request at a time tries to connect; the others
 * get UNAVAILABLE at once instead of each waiting out the connect timeout. An attempt that
 * failed slowly (a host that hangs) is not repeated for SLOW_DOWN_PAUSE_MS, so worker threads
 * stay free for everything else; a refused connection fails fast, so then every request may
 * try, and service resumes with the first one after the database is back. */
static bool may_connect(struct pg_store *st)
{
    int expected = 0;

    if (!__atomic_load_n(&st->down, __ATOMIC_ACQUIRE))
        return true;
    if (tams_clock_mono_us() < __atomic_load_n(&st->next_try_us, __ATOMIC_ACQUIRE))
        return false;
    return __atomic_compare_exchange_n(&st->probing, &expected, 1, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void connected(struct pg_store *st, bool ok, int64_t took_us)
{
    if (!ok && took_us > SLOW_CONNECT_MS * 1000)
        __atomic_store_n(&st->next_try_us, tams_clock_mono_us() + SLOW_DOWN_PAUSE_MS * 1000,
                         __ATOMIC_RELEASE);
    __atomic_store_n(&st->down, ok ? 0 : 1, __ATOMIC_RELEASE);
    __atomic_store_n(&st->probing, 0, __ATOMIC_RELEASE);
}

/* libpq's message as one log line. */
static void one_line(char *out, size_t size, const char *msg)
{
    snprintf(out, size, "%s", msg ? msg : "");
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

static int conn_connect(struct pg_store *st, struct conn *c)
{
    int64_t t0;

    conn_drop(c);
    if (!may_connect(st))
        return TAMS_ERR_UNAVAILABLE;
    t0 = tams_clock_mono_us();
    c->pg = tams_pg_connect(st->url);
    connected(st, c->pg && PQstatus(c->pg) == CONNECTION_OK, tams_clock_mono_us() - t0);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        char msg[256];

        one_line(msg, sizeof(msg), c->pg ? PQerrorMessage(c->pg) : "out of memory");
        tams_log_warn("postgresql: cannot connect: %s", msg);
        conn_drop(c);
        return TAMS_ERR_UNAVAILABLE;
    }
    return 0;
}

static void give_back(struct pg_store *st, struct conn *c)
{
    pthread_mutex_lock(&st->mu);
    c->next = st->free;
    st->free = c;
    st->in_use--;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* Take a connection from the pool (waiting for one), connected. */
static int acquire(struct pg_store *st, struct conn **out)
{
    struct timespec until;
    struct conn *c;
    int rc = 0;

    tams_clock_deadline(&until, POOL_WAIT_MS);
    pthread_mutex_lock(&st->mu);
    if (!st->free) {
        st->waiting++;
        while (!st->free && rc == 0)
            rc = pthread_cond_timedwait(&st->cv, &st->mu, &until);
        st->waiting--;
    }
    c = st->free;
    if (c) {
        st->free = c->next;
        st->in_use++;
    } else {
        st->timeouts++;
    }
    pthread_mutex_unlock(&st->mu);
    if (!c) {
        tams_log_warn("postgresql: no free connection in the pool after %d ms", POOL_WAIT_MS);
        return TAMS_ERR_UNAVAILABLE;
    }
    c->next = NULL;
    c->reused = c->pg != NULL;
    c->nstmt = 0;
    c->base.hooks = 0;
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK)
        c->broken = true;
    if (c->broken || !c->pg) {
        c->reused = false;
        if ((rc = conn_connect(st, c))) {
            give_back(st, c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

static void release(struct pg_store *st, struct conn *c)
{
    if (!c)
        return;
    if (c->broken)
        conn_drop(c);
    else if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK")); /* never hand out a connection inside a transaction */
    give_back(st, c);
}

/* Map a failed result. A lost connection (or the server going away: class 08, 57P) is
 * UNAVAILABLE and the connection is reset when given back; a lost race is TAMS_DB_RETRY; a full
 * disk (53100 disk_full) or an I/O error (58030 io_error) on the server is NOSPACE, logged once
 * per episode by core/diskfull; anything else is logged and STORE. */
static int pgerr(struct conn *c, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char m[512];

    one_line(m, sizeof(m), r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
    if (PQstatus(c->pg) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0) {
        c->broken = true;
        tams_log_warn("postgresql: %s: connection lost: %s", what, m);
        return TAMS_ERR_UNAVAILABLE;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "23505") == 0 ||
        strcmp(state, "23503") == 0)
        return TAMS_DB_RETRY; /* a lost race is routine: run again, no log */
    if (strcmp(state, "53100") == 0 || strcmp(state, "58030") == 0)
        return tams_diskfull_hit(TAMS_DISKFULL_METADATA, m);
    tams_log_error("postgresql: %s: %s (%s)", what, m, state);
    return TAMS_ERR_STORE;
}

/* ---- statements and rows ----------------------------------------------------------------- */

/* sql with ?N parameters written as PostgreSQL's $N, into out. Quoted text and identifiers
 * are copied as they are. */
static int number_params(const char *sql, struct tams_buf *out)
{
    char quote = 0;

    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
            tams_buf_addch(out, '$');
            continue;
        }
        tams_buf_addch(out, *p);
    }
    return tams_buf_ok(out) ? 0 : TAMS_ERR_STORE;
}

/* Parameters as libpq's text values (NUL-terminated: a text's len is not looked at); integers
 * are written into num. */
static void values_of(const struct tams_db_param *p, int n, const char **v, char (*num)[24])
{
    for (int i = 0; i < n; i++) {
        if (p[i].type == TAMS_DB_INT) {
            snprintf(num[i], sizeof(num[i]), "%" PRId64, p[i].i);
            v[i] = num[i];
        } else {
            v[i] = p[i].type == TAMS_DB_TEXT ? p[i].s : NULL;
        }
    }
}

static int prepare(struct conn *c, struct tams_sql *q, int slot, const char *name)
{
    struct tams_buf sql = TAMS_BUF_INIT(SQL_TEXT_MAX);
    PGresult *r;
    int rc;

    if ((rc = number_params(q->text[TAMS_DB_PG], &sql)) == 0) {
        r = PQprepare(c->pg, name, sql.data, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pgerr(c, r, "prepare");
            if (rc == TAMS_ERR_STORE)
                tams_log_error("postgresql: cannot prepare %s", sql.data);
        } else {
            c->prepared[slot] = true;
        }
        PQclear(r);
    }
    tams_buf_release(&sql);
    return rc;
}

/* Sends q (cached) or sql (generated); *out gets the result when 0. */
static int send(struct conn *c, struct tams_sql *q, const char *sql, const struct tams_db_param *p,
                int n, PGresult **out)
{
    const char *v[TAMS_DB_MAX_PARAMS];
    char num[TAMS_DB_MAX_PARAMS][24];
    PGresult *r = NULL;
    int rc;

    *out = NULL;
    tams_assert(n <= TAMS_DB_MAX_PARAMS);
    values_of(p, n, v, num);
    c->nstmt++;
    if (q) {
        int slot = tams_db_slot(q);
        char name[16];

        snprintf(name, sizeof(name), "s%d", slot);
        if (!c->prepared[slot] && (rc = prepare(c, q, slot, name)))
            return rc;
        r = PQexecPrepared(c->pg, name, n, v, NULL, NULL, 0);
    } else {
        struct tams_buf text = TAMS_BUF_INIT(SQL_TEXT_MAX);

        if ((rc = number_params(sql, &text)) == 0)
            r = PQexecParams(c->pg, text.data, n, NULL, v, NULL, NULL, 0);
        tams_buf_release(&text);
        if (rc)
            return rc;
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pgerr(c, r, q ? q->text[TAMS_DB_PG] : "listing");
        PQclear(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int pg_query(struct tams_db *db, struct tams_sql *q, const char *sql,
                    const struct tams_db_param *v, int n, struct tams_db_rows *rows)
{
    PGresult *r;
    int rc;

    *rows = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
    if (q && !q->text[TAMS_DB_PG])
        return 0;
    if ((rc = send((struct conn *)db, q, sql, v, n, &r)))
        return rc;
    rows->db = db;
    rows->drv = db->drv;
    rows->res = r;
    rows->nrows = PQntuples(r);
    return 0;
}

static int pg_exec(struct tams_db *db, struct tams_sql *q, const struct tams_db_param *v, int n,
                   int64_t *changes)
{
    PGresult *r;
    int rc;

    if (changes)
        *changes = 0;
    if (!q->text[TAMS_DB_PG])
        return 0;
    if ((rc = send((struct conn *)db, q, NULL, v, n, &r)))
        return rc;
    if (changes) {
        const char *t = PQcmdTuples(r);
        *changes = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(r);
    return 0;
}

static int pg_next(struct tams_db_rows *r)
{
    if (r->row + 1 >= r->nrows) {
        r->row = r->nrows;
        return 0;
    }
    r->row++;
    return 1;
}

static const char *pg_text(const struct tams_db_rows *r, int col)
{
    return PQgetisnull(r->res, r->row, col) ? NULL : PQgetvalue(r->res, r->row, col);
}

static size_t pg_len(const struct tams_db_rows *r, int col)
{
    return (size_t)PQgetlength(r->res, r->row, col);
}

/* Integers, and booleans as 1/0 ("t"/"f"); NULL reads 0. */
static int64_t pg_integer(const struct tams_db_rows *r, int col)
{
    const char *v = pg_text(r, col);

    if (!v)
        return 0;
    if (v[0] == 't' || v[0] == 'f')
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static bool pg_is_null(const struct tams_db_rows *r, int col)
{
    return PQgetisnull(r->res, r->row, col);
}

/* A result needs no connection: only step back onto the current row, if on one. */
static int pg_keep(struct tams_db_rows *r)
{
    r->db = NULL;
    if (r->row >= 0 && r->row < r->nrows)
        r->row--;
    return 0;
}

static void pg_done(struct tams_db_rows *r)
{
    PQclear(r->res);
    *r = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
}

/* An array literal ('{...}'); strings double-quoted with '"' and '\\' escaped, so no value can
 * end its element or the array early, read as NULL or lose its white space. */
static void pg_list_item(struct tams_buf *out, bool null, const char *s, int64_t i, bool is_int)
{
    tams_buf_addch(out, out->len ? ',' : '{');
    if (null) {
        tams_buf_addstr(out, "NULL");
    } else if (is_int) {
        tams_buf_addf(out, "%" PRId64, i);
    } else {
        tams_buf_addch(out, '"');
        for (const char *c = s; *c; c++) {
            if (*c == '"' || *c == '\\')
                tams_buf_addch(out, '\\');
            tams_buf_addch(out, *c);
        }
        tams_buf_addch(out, '"');
    }
}

static void pg_list_end(struct tams_buf *out)
{
    tams_buf_addstr(out, out->len ? "}" : "{}");
}

/* ---- transactions ------------------------------------------------------------------------ */

static int simple(struct conn *c, const char *sql)
{
    PGresult *r;
    int rc = 0;

    c->nstmt++;
    r = PQexec(c->pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pgerr(c, r, sql);
    PQclear(r);
    return rc;
}

/* Runs body on a pooled connection inside the transaction kind asks for; retried (with reset
 * first) when it lost a race, or when a connection that sat idle in the pool turns out to be
 * dead before anything was sent that could have changed the database. */
static int pg_run(struct tams_store *base, enum tams_db_tx kind, const char *scope,
                  tams_db_body body, tams_db_reset reset, void *arg)
{
    struct pg_store *st = store_of(base);
    struct conn *c = NULL;
    int rc = 0;

    for (int attempt = 0;; attempt++) {
        bool stale;

        if ((rc = acquire(st, &c)))
            return rc;
        c->base.scope = scope;
        /* Writes are READ COMMITTED whatever the cluster's default: each statement sees what
         * committed before it, which insert-if-absent and the webhook check rely on. */
        if (kind == TAMS_DB_TX_WRITE || kind == TAMS_DB_TX_QUIET)
            rc = simple(c, "BEGIN ISOLATION LEVEL READ COMMITTED");
        else if (kind == TAMS_DB_TX_READ)
            rc = simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (rc == 0)
            rc = body(&c->base, arg);
        if (kind != TAMS_DB_TX_NONE && !c->broken) {
            if (rc == 0 && kind == TAMS_DB_TX_WRITE) {
                char sql[160];

                tams_pg_peers_commit_sql(st->peers, c->base.scope, sql, sizeof(sql));
                if ((rc = simple(c, sql)) == 0)
                    tams_pg_peers_bump(st->peers, c->base.scope);
            } else if (rc == 0) {
                rc = simple(c, "COMMIT");
            } else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
                PQclear(PQexec(c->pg, "ROLLBACK"));
            }
        }
        stale = rc == TAMS_ERR_UNAVAILABLE && c->broken && c->reused &&
                (kind == TAMS_DB_TX_NONE || kind == TAMS_DB_TX_READ || c->nstmt <= 1);
        release(st, c);
        c = NULL;
        if (!(rc == TAMS_DB_RETRY || stale) || attempt >= TX_RETRIES)
            break;
        if (reset)
            reset(arg);
        if (rc == TAMS_DB_RETRY && attempt > 0) {
            struct timespec ts = {0, (long)(1000000 * (1 + tams_clock_wall_us() % 10) * attempt)};
            nanosleep(&ts, NULL);
        }
    }
    if (rc == TAMS_DB_RETRY) {
        tams_log_warn("postgresql: a transaction kept losing races; giving up for now");
        rc = TAMS_ERR_UNAVAILABLE;
    }
    /* Answered only once no other instance can serve what this write changed from a cache. */
    if (rc == 0 && kind == TAMS_DB_TX_WRITE)
        tams_pg_peers_wait(st->peers);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------------ */

static uint64_t pg_generation(struct tams_store *base, const char *id)
{
    return tams_pg_peers_generation(store_of(base)->peers, id);
}

static void pg_close(struct tams_store *base)
{
    struct pg_store *st = store_of(base);

    if (!st)
        return;
    tams_pg_peers_stop(st->peers);
    for (int i = 0; i < st->size; i++)
        conn_drop(&st->conns[i]);
    tams_free(st->conns);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    tams_free(st->url);
    tams_free(st);
}

/* Pending migrations under a session advisory lock, so instances starting together apply
 * each one exactly once; each migration and its version bump are one transaction. */
static int migrate(struct conn *c)
{
    const int target = (int)tams_schema_pg_count;
    char sql[128];
    int rc, version = 0;
    PGresult *r;

    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", MIGRATE_LOCK);
    if ((rc = simple(c, sql)))
        return rc;
    rc = simple(c, "CREATE TABLE IF NOT EXISTS tams_schema(version INTEGER NOT NULL)");
    while (rc == 0) {
        if ((rc = simple(c, "BEGIN")))
            break;
        r = PQexec(c->pg, "SELECT version FROM tams_schema");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pgerr(c, r, "read schema version");
        } else if (PQntuples(r) == 0) {
            rc = simple(c, "INSERT INTO tams_schema(version) VALUES (0)");
            version = 0;
        } else {
            version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
        }
        PQclear(r);
        if (rc == 0 && version > target) {
            tams_log_error("postgresql: schema version %d is newer than this tamsd knows (%d)",
                           version, target);
            rc = TAMS_ERR_STORE;
        }
        if (rc == 0 && version < target) {
            snprintf(sql, sizeof(sql), "UPDATE tams_schema SET version = %d", version + 1);
            if ((rc = simple(c, tams_schema_pg[version])) == 0)
                rc = simple(c, sql);
            if (rc)
                tams_log_error("postgresql: migration %d failed", version + 1);
        }
        if (rc == 0)
            rc = simple(c, "COMMIT");
        else if (!c->broken)
            PQclear(PQexec(c->pg, "ROLLBACK"));
        if (rc || version >= target)
            break;
        tams_log_info("postgresql: schema migrated to version %d", version + 1);
    }
    if (!c->broken) {
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MIGRATE_LOCK);
        PQclear(PQexec(c->pg, sql));
    }
    return rc == TAMS_DB_RETRY ? TAMS_ERR_STORE : rc;
}

static int pg_open(struct tams_store **out, const char *url, const char *data_dir, int pool_size)
{
    struct pg_store *st;
    struct conn *c = NULL;
    int rc;

    (void)data_dir;
    *out = NULL;
    st = tams_calloc(1, sizeof(*st));
    st->base.drv = &tams_db_pg;
    st->url = tams_strdup(url ? url : "");
    st->size = pool_size > 0 ? pool_size : DEFAULT_POOL;
    st->conns = tams_calloc((size_t)st->size, sizeof(*st->conns));
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    for (int i = st->size; i-- > 0;) {
        st->conns[i].base.drv = &tams_db_pg;
        st->conns[i].base.st = &st->base;
        st->conns[i].next = st->free;
        st->free = &st->conns[i];
    }
    rc = acquire(st, &c);
    if (rc == 0) {
        rc = migrate(c);
        release(st, c);
    }
    if (rc) {
        pg_close(&st->base);
        return rc;
    }
    st->peers = tams_pg_peers_start(st->url);
    tams_log_info("postgresql: connected (pool of %d connections)", st->size);
    *out = &st->base;
    return 0;
}

static bool pg_pool(struct tams_store *base, struct tams_store_pool *out)
{
    struct pg_store *st = store_of(base);

    pthread_mutex_lock(&st->mu);
    out->size = st->size;
    out->in_use = st->in_use;
    out->waiting = st->waiting;
    out->timeouts = st->timeouts;
    pthread_mutex_unlock(&st->mu);
    return true;
}

const struct tams_db_driver tams_db_pg = {
    .name = "postgresql",
    .dialect = TAMS_DB_PG,
    .caps = TAMS_DB_CAP_SHARED | TAMS_DB_CAP_REMOTE,
    .open = pg_open,
    .close = pg_close,
    .pool = pg_pool,
    .generation = pg_generation,
    .run = pg_run,
    .query = pg_query,
    .exec = pg_exec,
    .next = pg_next,
    .text = pg_text,
    .len = pg_len,
    .integer = pg_integer,
    .is_null = pg_is_null,
    .keep = pg_keep,
    .done = pg_done,
    .list_item = pg_list_item,
    .list_end = pg_list_end,
};
