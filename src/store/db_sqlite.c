/* SPDX-License-Identifier: Apache-2.0 */
/* db_sqlite.c - the SQLite driver: one connection per thread, cached statements, WAL, one
 * writer at a time, checkpoints on their own thread. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/diskfull.h"
#include "core/log.h"
#include "store/db.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000
#define CKPT_PAGES 1000       /* WAL pages that make the checkpointer run at once */
#define CKPT_INTERVAL_MS 1000 /* and it runs at least this often while there is work */
/* WAL frames past which the checkpointer also restarts the log (about journal_size_limit). */
#define CKPT_RESTART_FRAMES 16384
#define CKPT_RESTART_WAIT_MS 100 /* longest a restart holds writers back waiting for readers */

struct conn {
    struct tams_db base;
    struct sqlite_store *st;
    sqlite3 *db;
    sqlite3_stmt *stmts[TAMS_DB_MAX_STMTS];
    struct conn *next; /* registry of the store */
    bool writing;      /* in a write transaction: holds the store's write_mu */
};

struct sqlite_store {
    struct tams_store base;
    char *path;
    uint64_t serial; /* unique per open, so a thread never reuses a closed store's connection */
    pthread_mutex_t mu;
    struct conn *conns;       /* every connection opened, by any thread; closed by close() */
    pthread_mutex_t write_mu; /* held by this process's one write transaction (tx_begin) */
    /* Moved by every write that changed rows (atomics), for read caches: store-wide, or only
     * the scope's bucket (db.h). */
    uint64_t generation;
    uint64_t gen_buckets[TAMS_DB_GEN_BUCKETS];

    /* Checkpoints run on their own thread, never inside a request's commit (which cost bulk
     * segment registration a quarter of its time). */
    pthread_t ckpt_thread;
    bool ckpt_running, ckpt_wanted;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
};

static struct sqlite_store *store_of(struct tams_store *st)
{
    return (struct sqlite_store *)st;
}

/* Replaces SQLite's automatic checkpoint (sqlite3_wal_hook disables it): wake the
 * checkpointer instead of checkpointing in the committing thread. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_store *st = arg;
    (void)db;
    (void)name;
    if (pages >= CKPT_PAGES) {
        pthread_mutex_lock(&st->ckpt_mu);
        st->ckpt_wanted = true;
        pthread_cond_signal(&st->ckpt_cv);
        pthread_mutex_unlock(&st->ckpt_mu);
    }
    return SQLITE_OK;
}

/* A thread's connections, by store serial. A thread usually serves one store; a few slots
 * cover tests that open several. A slot of a closed store is never matched again (serials are
 * not reused) and is overwritten when needed. */
#define TLS_SLOTS 4
static _Thread_local struct {
    uint64_t serial;
    struct conn *c;
} tls_conn[TLS_SLOTS];

static pthread_mutex_t serial_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_serial = 1;

/* Map an SQLite failure to our errors. BUSY/LOCKED (after busy_timeout) means the database is
 * away for now: UNAVAILABLE, so the client may retry. FULL (the disk or a quota) and IOERR (a
 * write, fsync or read of the file failed) mean storage cannot take writes now: NOSPACE, logged
 * once per episode by core/diskfull (it ends at the next committed write). Anything else is
 * logged and STORE. */
static int sqlerr(struct conn *c, int rc, const char *what)
{
    int primary = rc & 0xff;

    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        tams_log_warn("sqlite: %s: database busy", what);
        return TAMS_ERR_UNAVAILABLE;
    }
    if (primary == SQLITE_FULL || primary == SQLITE_IOERR) {
        char cause[256];
        snprintf(cause, sizeof(cause), "sqlite: %s (%d)",
                 c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), rc);
        return tams_diskfull_hit(TAMS_DISKFULL_METADATA, cause);
    }
    tams_log_error("sqlite: %s: %s (%d)", what, c && c->db ? sqlite3_errmsg(c->db) : "", rc);
    return TAMS_ERR_STORE;
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < TAMS_DB_MAX_STMTS; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close_v2(c->db);
    tams_free(c);
}

static int conn_open(struct sqlite_store *st, struct conn **out)
{
    /* journal_size_limit: the WAL file keeps its high-water size (862 MB after a bench fill)
     * unless trimmed when a writer starts it over after a checkpoint. */
    static const char setup[] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                " PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864;";
    struct conn *c = tams_calloc(1, sizeof(*c));
    char *err = NULL;
    int rc;

    c->base.drv = &tams_db_sqlite;
    c->base.st = &st->base;
    rc = sqlite3_open_v2(st->path, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        tams_log_error("sqlite: cannot open '%s': %s", st->path,
                       c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_close(c);
        return TAMS_ERR_STORE;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_wal_hook(c->db, on_wal, st);
    c->st = st;
    rc = sqlite3_exec(c->db, setup, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        int e = sqlerr(c, rc, err ? err : "connection setup");
        sqlite3_free(err);
        conn_close(c);
        return e;
    }
    pthread_mutex_lock(&st->mu);
    c->next = st->conns;
    st->conns = c;
    pthread_mutex_unlock(&st->mu);
    *out = c;
    return 0;
}

/* This thread's connection to st, opened on first use. */
static int get_conn(struct sqlite_store *st, struct conn **out)
{
    size_t victim = 0;
    int rc;

    for (size_t i = 0; i < TLS_SLOTS; i++) {
        if (tls_conn[i].serial == st->serial) {
            *out = tls_conn[i].c;
            return 0;
        }
        if (tls_conn[i].serial < tls_conn[victim].serial)
            victim = i;
    }
    rc = conn_open(st, out);
    if (rc)
        return rc;
    tls_conn[victim].serial = st->serial;
    tls_conn[victim].c = *out;
    return 0;
}

/* ---- statements and rows ----------------------------------------------------------------- */

/* q's cached statement on c, prepared on first use; NULL with *rc set when it cannot be. */
static sqlite3_stmt *stmt(struct conn *c, struct tams_sql *q, int *rc)
{
    int slot = tams_db_slot(q);

    if (!c->stmts[slot]) {
        int e = sqlite3_prepare_v3(c->db, q->text[TAMS_DB_SQLITE], -1, SQLITE_PREPARE_PERSISTENT,
                                   &c->stmts[slot], NULL);
        if (e != SQLITE_OK) {
            *rc = sqlerr(c, e, "prepare");
            tams_log_error("sqlite: cannot prepare %s", q->text[TAMS_DB_SQLITE]);
            c->stmts[slot] = NULL;
            return NULL;
        }
    }
    return c->stmts[slot];
}

static void bind(sqlite3_stmt *s, const struct tams_db_param *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (v[i].type == TAMS_DB_INT)
            sqlite3_bind_int64(s, i + 1, v[i].i);
        else if (v[i].type == TAMS_DB_NULL || !v[i].s)
            sqlite3_bind_null(s, i + 1);
        else
            sqlite3_bind_text64(s, i + 1, v[i].s, v[i].len == SIZE_MAX ? strlen(v[i].s) : v[i].len,
                                SQLITE_STATIC, SQLITE_UTF8);
    }
}

/* Rows kept past their connection: every cell copied into one arena. */
struct kept {
    int ncols, nrows;
    struct cell {
        int64_t i;       /* an integer's value */
        size_t off, len; /* a text's place in text */
        bool null, is_text;
    } * cells;
    struct tams_buf text;
};

static void rows_reset(struct tams_db_rows *r)
{
    *r = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
}

static int sq_query(struct tams_db *db, struct tams_sql *q, const char *sql,
                    const struct tams_db_param *v, int n, struct tams_db_rows *rows)
{
    struct conn *c = (struct conn *)db;
    sqlite3_stmt *s = NULL;
    int rc = 0;

    rows_reset(rows);
    if (q && !q->text[TAMS_DB_SQLITE])
        return 0; /* nothing to run here: no rows */
    if (q) {
        if (!(s = stmt(c, q, &rc)))
            return rc;
    } else {
        int e = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL);
        if (e != SQLITE_OK)
            return sqlerr(c, e, "prepare listing");
        rows->finalize = true;
    }
    bind(s, v, n);
    rows->db = db;
    rows->drv = db->drv;
    rows->res = s;
    return 0;
}

static void sq_done(struct tams_db_rows *r)
{
    struct kept *k = r->kept;
    sqlite3_stmt *s = r->res;

    if (k) {
        tams_free(k->cells);
        tams_buf_release(&k->text);
        tams_free(k);
    }
    /* Every use of a cached statement ends here, so no statement holds a read snapshot open. */
    if (s && r->finalize) {
        sqlite3_finalize(s);
    } else if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
    rows_reset(r);
}

static int sq_next(struct tams_db_rows *r)
{
    int rc;

    if (r->kept)
        return ++r->row < ((struct kept *)r->kept)->nrows;
    if (!r->res)
        return 0;
    rc = sqlite3_step(r->res);
    r->nrows = rc == SQLITE_ROW; /* a live statement: 1 while on a row */
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sqlerr((struct conn *)r->db, rc, sqlite3_sql(r->res));
}

static const struct cell *cell(const struct tams_db_rows *r, int col)
{
    const struct kept *k = r->kept;

    return &k->cells[(size_t)r->row * (size_t)k->ncols + (size_t)col];
}

static const char *sq_text(const struct tams_db_rows *r, int col)
{
    if (r->kept) {
        const struct cell *x = cell(r, col);
        return !x->is_text ? NULL : ((struct kept *)r->kept)->text.data + x->off;
    }
    return (const char *)sqlite3_column_text(r->res, col);
}

static size_t sq_len(const struct tams_db_rows *r, int col)
{
    if (r->kept)
        return cell(r, col)->len;
    return (size_t)sqlite3_column_bytes(r->res, col);
}

static int64_t sq_integer(const struct tams_db_rows *r, int col)
{
    if (r->kept)
        return cell(r, col)->i;
    return sqlite3_column_int64(r->res, col);
}

static bool sq_is_null(const struct tams_db_rows *r, int col)
{
    if (r->kept)
        return cell(r, col)->null;
    return sqlite3_column_type(r->res, col) == SQLITE_NULL;
}

/* A generated statement is the rows' own: it stays live past the operation (the thread's
 * connection goes on serving it, and nothing else can reset it). A cached one is shared, so
 * the current row (when on one) and the rows still to come are copied, and the statement goes
 * back; the rows are then before the first one copied. Integers are kept as integers only. */
static int sq_keep(struct tams_db_rows *r)
{
    struct kept *k;
    sqlite3_stmt *s = r->res;
    size_t cap = 0;
    int rc;

    if (r->kept || !s || r->finalize) {
        r->db = NULL;
        return 0;
    }
    k = tams_calloc(1, sizeof(*k));
    tams_buf_init(&k->text, SIZE_MAX);
    k->ncols = sqlite3_column_count(s);
    for (rc = r->nrows ? 1 : sq_next(r); rc == 1; rc = sq_next(r)) {
        size_t need = tams_st_mult((size_t)k->nrows + 1, (size_t)k->ncols);
        if (need > cap) {
            cap = need * 2;
            k->cells = tams_realloc(k->cells, tams_st_mult(cap, sizeof(*k->cells)));
        }
        for (int col = 0; col < k->ncols; col++) {
            struct cell *x = &k->cells[(size_t)k->nrows * (size_t)k->ncols + (size_t)col];
            int type = sqlite3_column_type(s, col);

            memset(x, 0, sizeof(*x));
            x->null = type == SQLITE_NULL;
            if (type == SQLITE_INTEGER) {
                x->i = sqlite3_column_int64(s, col);
            } else if (!x->null) {
                const unsigned char *t = sqlite3_column_text(s, col);
                x->len = (size_t)sqlite3_column_bytes(s, col);
                x->off = k->text.len;
                x->is_text = true;
                tams_buf_add(&k->text, t, x->len + 1); /* with its NUL */
            }
        }
        k->nrows++;
    }
    sq_done(r); /* the statement goes back; r is reset */
    if (rc < 0) {
        tams_free(k->cells);
        tams_buf_release(&k->text);
        tams_free(k);
        return rc;
    }
    r->drv = &tams_db_sqlite;
    r->kept = k;
    return 0;
}

static int sq_exec(struct tams_db *db, struct tams_sql *q, const struct tams_db_param *v, int n,
                   int64_t *changes)
{
    struct conn *c = (struct conn *)db;
    sqlite3_stmt *s;
    int rc = 0;

    if (changes)
        *changes = 0;
    if (!q->text[TAMS_DB_SQLITE])
        return 0;
    if (!(s = stmt(c, q, &rc)))
        return rc;
    bind(s, v, n);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, q->text[TAMS_DB_SQLITE]);
    if (rc == 0 && changes)
        *changes = sqlite3_changes64(c->db);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

/* A JSON array for json_each(): strings escaped so every byte but NUL comes back as it was. */
static void sq_list_item(struct tams_buf *out, bool null, const char *s, int64_t i, bool is_int)
{
    tams_buf_addch(out, out->len ? ',' : '[');
    if (null) {
        tams_buf_addstr(out, "null");
    } else if (is_int) {
        tams_buf_addf(out, "%" PRId64, i);
    } else {
        tams_buf_addch(out, '"');
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
            if (*c == '"' || *c == '\\')
                tams_buf_addch(out, '\\');
            if (*c < 0x20)
                tams_buf_addf(out, "\\u%04x", *c);
            else
                tams_buf_addch(out, (char)*c);
        }
        tams_buf_addch(out, '"');
    }
}

static void sq_list_end(struct tams_buf *out)
{
    tams_buf_addstr(out, out->len ? "]" : "[]");
}

/* ---- transactions ------------------------------------------------------------------------ */

static struct tams_sql q_begin = TAMS_SQL("BEGIN IMMEDIATE");
static struct tams_sql q_begin_read = TAMS_SQL("BEGIN");
static struct tams_sql q_commit = TAMS_SQL("COMMIT");
static struct tams_sql q_rollback = TAMS_SQL("ROLLBACK");

/* SQLite lets one writer in at a time. The writers of this process queue on write_mu rather
 * than in SQLite's busy handler, which polls with sleeps growing to 100 ms, so a lock released
 * is taken at once (bulk registration from 4 connections: 103k -> 122k segments/s). Another
 * process on the same file still meets the busy handler. The wait has the same bound. */
static int tx_begin(struct conn *c)
{
    struct timespec until;
    int rc;

    tams_clock_deadline(&until, BUSY_TIMEOUT_MS);
    if ((rc = pthread_mutex_timedlock(&c->st->write_mu, &until)) != 0) {
        if (rc == EDEADLK) {
            tams_log_error("sqlite: a write transaction inside another on one thread");
            return TAMS_ERR_STORE;
        }
        tams_log_warn("sqlite: no turn to write within %d ms: database busy", BUSY_TIMEOUT_MS);
        return TAMS_ERR_UNAVAILABLE;
    }
    if ((rc = sq_exec(&c->base, &q_begin, NULL, 0, NULL)) == 0)
        c->writing = true;
    else
        pthread_mutex_unlock(&c->st->write_mu);
    return rc;
}

/* Commit on rc == 0, else roll back; returns the operation's result. */
static int tx_end(struct conn *c, int rc)
{
    if (rc == 0)
        rc = sq_exec(&c->base, &q_commit, NULL, 0, NULL);
    if (rc && !sqlite3_get_autocommit(c->db))
        (void)sq_exec(&c->base, &q_rollback, NULL, 0, NULL);
    if (c->writing) {
        c->writing = false;
        pthread_mutex_unlock(&c->st->write_mu);
    }
    return rc;
}

/* One writer at a time never loses a race, so the body runs once and reset is never needed.
 * A write that changed rows moves the generation once committed (a quiet one, or one that
 * found nothing to do, leaves read caches alone). */
static int sq_run(struct tams_store *base, enum tams_db_tx kind, const char *scope,
                  tams_db_body body, tams_db_reset reset, void *arg)
{
    struct sqlite_store *st = store_of(base);
    int64_t changes = 0;
    struct conn *c;
    int rc = get_conn(st, &c);

    (void)reset;
    if (rc)
        return rc;
    c->base.hooks = 0;
    c->base.scope = scope;
    if (kind == TAMS_DB_TX_WRITE || kind == TAMS_DB_TX_QUIET)
        rc = tx_begin(c);
    else if (kind == TAMS_DB_TX_READ)
        rc = sq_exec(&c->base, &q_begin_read, NULL, 0, NULL);
    if (rc)
        return rc;
    changes = sqlite3_total_changes64(c->db);
    rc = body(&c->base, arg);
    if (rc == TAMS_DB_RETRY) {
        tams_log_error("sqlite: a transaction asked to be run again");
        rc = TAMS_ERR_STORE;
    }
    if (kind == TAMS_DB_TX_NONE)
        return rc;
    changes = sqlite3_total_changes64(c->db) - changes;
    scope = c->base.scope;
    if ((rc = tx_end(c, rc)) == 0 && kind == TAMS_DB_TX_WRITE && changes)
        __atomic_fetch_add(scope ? &st->gen_buckets[tams_db_gen_bucket(scope)] : &st->generation, 1,
                           __ATOMIC_RELEASE);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------------ */

static int read_user_version(struct conn *c, int *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : sqlerr(c, rc, "read schema version");
}

/* Each migration runs in its own IMMEDIATE transaction and re-reads the version inside it, so
 * two processes opening the same file at once apply each migration exactly once. */
static int migrate(struct conn *c)
{
    const int target = (int)tams_schema_sqlite_count;

    for (;;) {
        char *err = NULL, pragma[64];
        int version = 0, rc = tx_begin(c);

        if (rc)
            return rc;
        rc = read_user_version(c, &version);
        if (rc == 0 && version > target) {
            tams_log_error("sqlite: schema version %d is newer than this tamsd knows (%d)", version,
                           target);
            rc = TAMS_ERR_STORE;
        }
        if (rc || version == target)
            return tx_end(c, rc);
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
        if (sqlite3_exec(c->db, tams_schema_sqlite[version], NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(c->db, pragma, NULL, NULL, &err) != SQLITE_OK) {
            tams_log_error("sqlite: migration %d failed: %s", version + 1, err ? err : "");
            sqlite3_free(err);
            rc = TAMS_ERR_STORE;
        }
        rc = tx_end(c, rc);
        if (rc)
            return rc;
        tams_log_info("sqlite: schema migrated to version %d", version + 1);
    }
}

/* A passive checkpoint, and a RESTART when the log has grown long. Under a steady stream of
 * writes a passive checkpoint never catches up with the last frame, so no writer ever starts
 * the log over: it grows with every commit (862 MB during a 10,000-flow fill) and so does
 * every reader's search of it. RESTART waits, holding new writers back for at most
 * CKPT_RESTART_WAIT_MS, until readers are on the newest snapshot, copies the rest, and the
 * next writer starts the log over (cut back to journal_size_limit). Busy: next round. */
static void checkpoint(struct conn *c)
{
    int log = 0, done = 0;

    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (log < CKPT_RESTART_FRAMES)
        return;
    sqlite3_busy_timeout(c->db, CKPT_RESTART_WAIT_MS);
    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
}

static void *checkpointer(void *arg)
{
    struct sqlite_store *st = arg;
    struct conn *c = NULL;

    pthread_mutex_lock(&st->ckpt_mu);
    while (st->ckpt_running) {
        struct timespec until;
        tams_clock_deadline(&until, CKPT_INTERVAL_MS);
        if (!st->ckpt_wanted)
            pthread_cond_timedwait(&st->ckpt_cv, &st->ckpt_mu, &until);
        st->ckpt_wanted = false;
        if (!st->ckpt_running)
            break;
        pthread_mutex_unlock(&st->ckpt_mu);
        /* PASSIVE: copy what no reader still needs; never blocks writers or readers. */
        if (c || conn_open(st, &c) == 0)
            checkpoint(c);
        pthread_mutex_lock(&st->ckpt_mu);
    }
    pthread_mutex_unlock(&st->ckpt_mu);
    return NULL; /* c is in the store's registry; close() closes it */
}

static int checkpointer_start(struct sqlite_store *st)
{
    sigset_t all, old;
    int rc;
    st->ckpt_running = true;
    /* Signals belong to the main thread's sigwait(), whatever mask the caller has now. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&st->ckpt_thread, NULL, checkpointer, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        st->ckpt_running = false;
        tams_log_error("sqlite: cannot start the checkpoint thread");
        return TAMS_ERR_STORE;
    }
    return 0;
}

static void checkpointer_stop(struct sqlite_store *st)
{
    pthread_mutex_lock(&st->ckpt_mu);
    if (!st->ckpt_running) {
        pthread_mutex_unlock(&st->ckpt_mu);
        return;
    }
    st->ckpt_running = false;
    pthread_cond_signal(&st->ckpt_cv);
    pthread_mutex_unlock(&st->ckpt_mu);
    pthread_join(st->ckpt_thread, NULL);
}

static uint64_t sq_generation(struct tams_store *base, const char *id)
{
    struct sqlite_store *st = store_of(base);
    uint64_t g = __atomic_load_n(&st->generation, __ATOMIC_ACQUIRE);

    return id ? g + __atomic_load_n(&st->gen_buckets[tams_db_gen_bucket(id)], __ATOMIC_ACQUIRE) : g;
}

static void sq_close(struct tams_store *base)
{
    struct sqlite_store *st = store_of(base);
    struct conn *c, *next;

    if (!st)
        return;
    checkpointer_stop(st);
    for (size_t i = 0; i < TLS_SLOTS; i++)
        if (tls_conn[i].serial == st->serial) {
            tls_conn[i].serial = 0;
            tls_conn[i].c = NULL;
        }
    pthread_mutex_lock(&st->mu);
    for (c = st->conns; c; c = next) {
        next = c->next;
        conn_close(c);
    }
    st->conns = NULL;
    pthread_mutex_unlock(&st->mu);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->write_mu);
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_cond_destroy(&st->ckpt_cv);
    tams_free(st->path);
    tams_free(st);
}

/* Before SQLite's first use in the process: no memory statistics, which tamsd never reads and
 * which cost a global mutex on every SQLite malloc and free (5% of a bulk registration's
 * time). Once SQLite is initialised (another store opened first) the call is refused: harmless. */
static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(struct tams_store **out, const char *url, const char *data_dir, int pool_size)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    const char *path = url && strncmp(url, "sqlite:", 7) == 0 ? url + 7 : "";
    pthread_mutexattr_t attr;
    struct sqlite_store *st;
    struct conn *c;
    int rc;

    (void)pool_size; /* one connection per thread */
    *out = NULL;
    pthread_once(&configured, sqlite_configure);
    st = tams_calloc(1, sizeof(*st));
    st->base.drv = &tams_db_sqlite;
    if (path[0]) {
        st->path = tams_strdup(path);
    } else {
        struct tams_buf b = TAMS_BUF_INIT(4096);
        tams_buf_addf(&b, "%s/tams.db", data_dir && data_dir[0] ? data_dir : ".");
        st->path = tams_buf_detach(&b, NULL);
    }
    pthread_mutex_init(&st->mu, NULL);
    /* A thread asking again while it writes (a bug): an error at once, not a hang. */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&st->write_mu, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&st->ckpt_mu, NULL);
    pthread_cond_init(&st->ckpt_cv, NULL);
    pthread_mutex_lock(&serial_mu);
    st->serial = next_serial++;
    pthread_mutex_unlock(&serial_mu);

    rc = get_conn(st, &c);
    if (rc == 0)
        rc = migrate(c);
    if (rc == 0)
        rc = checkpointer_start(st);
    if (rc) {
        sq_close(&st->base);
        return rc;
    }
    *out = &st->base;
    return 0;
}

const struct tams_db_driver tams_db_sqlite = {
    .name = "sqlite",
    .dialect = TAMS_DB_SQLITE,
    .caps = 0,
    .open = sq_open,
    .close = sq_close,
    .generation = sq_generation,
    .run = sq_run,
    .query = sq_query,
    .exec = sq_exec,
    .next = sq_next,
    .text = sq_text,
    .len = sq_len,
    .integer = sq_integer,
    .is_null = sq_is_null,
    .keep = sq_keep,
    .done = sq_done,
    .list_item = sq_list_item,
    .list_end = sq_list_end,
};
