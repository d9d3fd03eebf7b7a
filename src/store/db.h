/* SPDX-License-Identifier: Apache-2.0 */
/* db.h - the SQL driver under the store: what differs between SQLite and PostgreSQL.
 *
 * The store's logic (flows.c, sources.c, segments.c, deletion.c, gc.c, events.c) is written
 * once against this interface; a driver (db_sqlite.c, db_pg.c) supplies connections,
 * transactions, statements, rows and error mapping. Internal to src/store/.
 *
 * Statements. Every statement is a struct tams_sql with its text for each driver side by side
 * (usually one text for both). Parameters are written ?1, ?2, ... in every text; the
 * PostgreSQL driver turns them into $1, $2, ... when it prepares. A NULL text means the driver
 * needs no statement there (a lock PostgreSQL takes and SQLite, with one writer, does not):
 * running it does nothing and returns no rows. Statements are prepared once per connection
 * and cached; generated SQL (listings whose shape depends on filters) is prepared each time.
 *
 * Operations. A store operation runs a body on a connection inside a transaction of the kind
 * it asks for (tams_db_run). The body may be run again from the start when the transaction
 * lost a race (PostgreSQL: serialisation failure, deadlock, a key a concurrent writer took,
 * a pooled connection found dead before anything was written); reset, when given, undoes
 * what the body left in its argument first. Callbacks of the store's callers run after
 * tams_db_run has returned, never inside a body: they may use the store again.
 *
 * Rows. A query leaves a struct tams_db_rows before its first row; tams_db_next moves to
 * each row. Values are valid until the next call of tams_db_next or tams_db_done on those
 * rows; a statement's rows must be done before the same statement runs again. Rows kept with
 * tams_db_keep outlive the body, until tams_db_done on the same thread: a copy, a result that
 * needs no connection, or (SQLite) a generated statement on the thread's own connection.
 */
#ifndef TAMS_STORE_DB_H
#define TAMS_STORE_DB_H

#include "core/common.h"
#include "core/buf.h"
#include "core/diskfull.h"

#define TAMS_DB_MAX_PARAMS 160 /* parameters of one statement (generated listings included) */
#define TAMS_DB_MAX_STMTS 256  /* distinct statements in the program (cache slots) */

/* An internal result: the transaction lost a race and runs again (tams_db_run never returns
 * it; a body may return it to ask for another attempt). */
#define TAMS_DB_RETRY (-100000)

enum tams_db_dialect { TAMS_DB_SQLITE, TAMS_DB_PG };

enum tams_db_caps {
    /* Several processes share the database: rows are leased, flows locked while written, and
     * read caches kept coherent across instances. */
    TAMS_DB_CAP_SHARED = 1 << 0,
    /* Every statement is a network round trip: a request's work goes in as few statements as
     * it can (array parameters, the schema's server-side functions). */
    TAMS_DB_CAP_REMOTE = 1 << 1,
};

/* A statement, its texts side by side. Define with TAMS_SQL, TAMS_SQL2 or TAMS_SQL_PG. */
struct tams_sql {
    const char *text[2]; /* by enum tams_db_dialect; NULL: nothing to run there */
    int slot;            /* cache slot, given on first use (0: none yet) */
};

#define TAMS_SQL(both)                                                                             \
    {                                                                                              \
        {both, both}, 0                                                                            \
    }
#define TAMS_SQL2(sqlite, pg)                                                                      \
    {                                                                                              \
        {sqlite, pg}, 0                                                                            \
    }
#define TAMS_SQL_PG(pg)                                                                            \
    {                                                                                              \
        {NULL, pg}, 0                                                                              \
    }

enum tams_db_type { TAMS_DB_NULL, TAMS_DB_TEXT, TAMS_DB_INT };

/* A parameter of a statement. Parameters are bound in order (?1 first), as an array and its
 * length. Text is not copied: it must stay valid until the statement's rows are done. */
struct tams_db_param {
    enum tams_db_type type;
    const char *s; /* TAMS_DB_TEXT: NULL binds SQL NULL */
    size_t len;    /* of s; SIZE_MAX: NUL-terminated */
    int64_t i;
};

/* Parameters built one by one (generated listings). */
struct tams_db_params {
    int n;
    struct tams_db_param v[TAMS_DB_MAX_PARAMS];
};

#define TAMS_DB_PARAMS_INIT                                                                        \
    {                                                                                              \
        .n = 0                                                                                     \
    }

/* Append a text (NULL: SQL NULL), a text of known length, an integer, an integer or NULL. */
void tams_db_text(struct tams_db_params *p, const char *s);
void tams_db_textn(struct tams_db_params *p, const char *s, size_t len);
void tams_db_int(struct tams_db_params *p, int64_t i);
void tams_db_int_opt(struct tams_db_params *p, bool has, int64_t i);

/* A connection inside one operation. Drivers embed it first in their own connection. */
struct tams_db {
    const struct tams_db_driver *drv;
    struct tams_store *st;
    int hooks; /* per transaction, events.c's: whether webhooks are registered (0: not asked) */
    const char *scope; /* per transaction: the run's scope, until the body widens it */
};

/* The body found that its write changes more documents than the scope's (tams_db_run_scoped). */
static inline void tams_db_unscope(struct tams_db *db)
{
    db->scope = NULL;
}

/* Rows of a query. Fields are the driver's. */
struct tams_db_rows {
    struct tams_db *db; /* NULL once kept */
    const struct tams_db_driver *drv;
    void *res;      /* the driver's statement or result */
    void *kept;     /* the driver's kept copy */
    int row, nrows; /* position, where the driver counts rows */
    bool finalize;  /* a generated statement the driver frees when done */
};

#define TAMS_DB_ROWS_INIT                                                                          \
    {                                                                                              \
        NULL, NULL, NULL, NULL, -1, 0, false                                                       \
    }

enum tams_db_tx {
    TAMS_DB_TX_NONE,  /* statements in autocommit, each on its own */
    TAMS_DB_TX_READ,  /* several reads from one snapshot */
    TAMS_DB_TX_WRITE, /* a logical change: whole or absent; read caches see it at once */
    TAMS_DB_TX_QUIET, /* a change no read cache depends on (webhook bookkeeping) */
};

/* Read caches key on a generation per id: the store-wide count of writes that may change any
 * cached document, plus the count of writes scoped to the id's bucket (a write to one flow's
 * segments changes that flow's document only). Both only grow, so the sum moves whenever
 * either does; ids sharing a bucket only cost each other a miss. */
#define TAMS_DB_GEN_BUCKETS 4096u

static inline unsigned tams_db_gen_bucket(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h & (TAMS_DB_GEN_BUCKETS - 1);
}

typedef int (*tams_db_body)(struct tams_db *db, void *arg);
typedef void (*tams_db_reset)(void *arg);

struct tams_store_pool;

struct tams_db_driver {
    const char *name;
    enum tams_db_dialect dialect;
    unsigned caps; /* enum tams_db_caps */

    /* url as tams_store_open takes it; pool_size <= 0: the driver's default. Migrates. */
    int (*open)(struct tams_store **out, const char *url, const char *data_dir, int pool_size);
    void (*close)(struct tams_store *st);
    /* The connection pool's state (tams_store_pool); NULL when the driver has none. */
    bool (*pool)(struct tams_store *st, struct tams_store_pool *out);
    /* The generation read caches key on for id (NULL: the store-wide part alone). */
    uint64_t (*generation)(struct tams_store *st, const char *id);
    /* scope: NULL, or the one id whose cached documents a TAMS_DB_TX_WRITE may change. */
    int (*run)(struct tams_store *st, enum tams_db_tx kind, const char *scope, tams_db_body body,
               tams_db_reset reset, void *arg);

    /* q (cached) or sql (generated, not cached; ?N parameters). */
    int (*query)(struct tams_db *db, struct tams_sql *q, const char *sql,
                 const struct tams_db_param *v, int n, struct tams_db_rows *rows);
    /* Runs q to its end; *changes (may be NULL) gets the rows it changed. */
    int (*exec)(struct tams_db *db, struct tams_sql *q, const struct tams_db_param *v, int n,
                int64_t *changes);
    int (*next)(struct tams_db_rows *rows);
    const char *(*text)(const struct tams_db_rows *rows, int col);
    size_t (*len)(const struct tams_db_rows *rows, int col);
    int64_t (*integer)(const struct tams_db_rows *rows, int col);
    bool (*is_null)(const struct tams_db_rows *rows, int col);
    int (*keep)(struct tams_db_rows *rows);
    void (*done)(struct tams_db_rows *rows);

    /* A list parameter (tams_db_list_*): the dialect's array text. */
    void (*list_item)(struct tams_buf *out, bool null, const char *s, int64_t i, bool is_int);
    void (*list_end)(struct tams_buf *out);
};

extern const struct tams_db_driver tams_db_sqlite, tams_db_pg;

/* What every driver's store starts with. */
struct tams_store {
    const struct tams_db_driver *drv;
};

/* Run body on a connection of st inside a transaction of the given kind (see the top). A write
 * transaction that commits tells core/diskfull that the metadata store takes writes again.
 * scope: NULL, or the one id (a flow's, for its segments) whose cached documents the write may
 * change: caches of every other id keep their entries. */
static inline int tams_db_run_scoped(struct tams_store *st, enum tams_db_tx kind, const char *scope,
                                     tams_db_body body, tams_db_reset reset, void *arg)
{
    int rc = st->drv->run(st, kind, scope, body, reset, arg);

    if (rc == 0 && (kind == TAMS_DB_TX_WRITE || kind == TAMS_DB_TX_QUIET))
        tams_diskfull_clear(TAMS_DISKFULL_METADATA);
    return rc;
}

/* A write that may change any cached document (scope NULL). */
static inline int tams_db_run(struct tams_store *st, enum tams_db_tx kind, tams_db_body body,
                              tams_db_reset reset, void *arg)
{
    return tams_db_run_scoped(st, kind, NULL, body, reset, arg);
}

static inline unsigned tams_db_caps(const struct tams_db *db)
{
    return db->drv->caps;
}

/* Runs q with parameters v[0..n-1] (TAMS_DB_ARGS writes both); rows before the first row. */
static inline int tams_db_query(struct tams_db *db, struct tams_sql *q,
                                const struct tams_db_param *v, int n, struct tams_db_rows *rows)
{
    return db->drv->query(db, q, NULL, v, n, rows);
}

static inline int tams_db_query_sql(struct tams_db *db, const char *sql,
                                    const struct tams_db_params *p, struct tams_db_rows *rows)
{
    return db->drv->query(db, NULL, sql, p->v, p->n, rows);
}

/* Runs q to its end; *changes (may be NULL) gets the rows it changed. */
static inline int tams_db_exec(struct tams_db *db, struct tams_sql *q,
                               const struct tams_db_param *v, int n, int64_t *changes)
{
    return db->drv->exec(db, q, v, n, changes);
}

/* 1 = on a row, 0 = no more rows (also for rows never queried), < 0 = error. */
static inline int tams_db_next(struct tams_db_rows *r)
{
    return r->drv ? r->drv->next(r) : 0;
}

/* A column of the current row: text (NULL for SQL NULL; for text columns only), its length,
 * integer, boolean (an integer other than 0, or PostgreSQL's true; NULL is false), NULL or
 * not. */
static inline const char *tams_db_col(const struct tams_db_rows *r, int col)
{
    return r->drv->text(r, col);
}

static inline size_t tams_db_col_len(const struct tams_db_rows *r, int col)
{
    return r->drv->len(r, col);
}

static inline int64_t tams_db_col_int(const struct tams_db_rows *r, int col)
{
    return r->drv->integer(r, col);
}

static inline bool tams_db_col_bool(const struct tams_db_rows *r, int col)
{
    return r->drv->integer(r, col) != 0;
}

static inline bool tams_db_col_null(const struct tams_db_rows *r, int col)
{
    return r->drv->is_null(r, col);
}

/* Make the rows not yet read independent of the connection (see the top). */
static inline int tams_db_keep(struct tams_db_rows *r)
{
    return r->drv ? r->drv->keep(r) : 0;
}

/* Release rows; safe on rows never queried or already done. */
static inline void tams_db_done(struct tams_db_rows *r)
{
    if (r->drv)
        r->drv->done(r);
}

/* Runs q and moves to its first row: 1 = a row (done it after), 0 = none (already done),
 * < 0 = error (already done). */
int tams_db_one(struct tams_db *db, struct tams_sql *q, const struct tams_db_param *v, int n,
                struct tams_db_rows *rows);
/* 1 when q (one text parameter) returns a row, 0 when not, < 0 on error. */
int tams_db_exists(struct tams_db *db, struct tams_sql *q, const char *key);
/* Runs q with one text parameter; *changes as tams_db_exec. */
int tams_db_exec1(struct tams_db *db, struct tams_sql *q, const char *key, int64_t *changes);

/* Parameters written in place: TAMS_DB_ARGS(TAMS_DB_TEXT_P(id), TAMS_DB_INT_P(n)) stands for
 * the two arguments v, n of tams_db_query, tams_db_exec and tams_db_one; TAMS_DB_NO_ARGS for
 * none. */
#define TAMS_DB_TEXT_P(s) ((struct tams_db_param){TAMS_DB_TEXT, (s), SIZE_MAX, 0})
#define TAMS_DB_TEXTN_P(s, n) ((struct tams_db_param){TAMS_DB_TEXT, (s), (n), 0})
#define TAMS_DB_INT_P(i) ((struct tams_db_param){TAMS_DB_INT, NULL, 0, (int64_t)(i)})
#define TAMS_DB_INT_OR_NULL_P(has, i)                                                              \
    ((struct tams_db_param){(has) ? TAMS_DB_INT : TAMS_DB_NULL, NULL, 0, (int64_t)(i)})
#define TAMS_DB_ARGS(...)                                                                          \
    (const struct tams_db_param[]){__VA_ARGS__},                                                   \
        (int)(sizeof((const struct tams_db_param[]){__VA_ARGS__}) / sizeof(struct tams_db_param))
#define TAMS_DB_NO_ARGS NULL, 0

/* A list of texts or integers as one parameter (SQLite: a JSON array for json_each;
 * PostgreSQL: an array literal). Append items to an empty buffer, end it, then bind its data
 * with tams_db_text while the buffer lives. */
void tams_db_list_text(const struct tams_store *st, struct tams_buf *out, const char *s);
void tams_db_list_int(const struct tams_store *st, struct tams_buf *out, bool has, int64_t i);
void tams_db_list_end(const struct tams_store *st, struct tams_buf *out);

/* The cache slot of q, given on first use (thread-safe). */
int tams_db_slot(struct tams_sql *q);

/* Migrations, one list per dialect (schema.c): entry i brings the schema from version i to
 * i + 1. Never edit a shipped entry; append. */
extern const char *const tams_schema_sqlite[];
extern const size_t tams_schema_sqlite_count;
extern const char *const tams_schema_pg[];
extern const size_t tams_schema_pg_count;
/* PostgreSQL migration 20, long enough for a file of its own (schema_pg_add.c). */
extern const char tams_schema_pg_segments_add_v3[];

#endif
