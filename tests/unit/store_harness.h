/* SPDX-License-Identifier: Apache-2.0 */
/* store_harness.h - runs a store contract test on the back end named by argv[1]: a fresh store,
 * and rows read or written through the store's own SQL driver on either back end.
 *
 * Usage: `int main(int argc, char **argv) { harness_init(argc, argv); harness_open(); RUN(...);
 * return harness_finish(); }`, then run the program as `test_x sqlite` or `test_x pg`.
 *
 * - sqlite: a database file in a temporary directory, removed at the end.
 * - pg: TAMS_TEST_DATABASE=postgresql://... names the database; the run works in a schema of
 *   its own (search_path in the store's URL), created first and dropped at the end. Without
 *   TAMS_TEST_DATABASE the program says so and exits 77, which ctest counts as skipped.
 *
 * The temporary directory exists on both back ends (harness.dir), for data_dir arguments.
 * db_rows, db_int and db_exec run SQL on the store's own connection (SQLite: this thread's;
 * PostgreSQL: one of the pool) with ?1-style parameters, which both drivers take.
 */
#ifndef TAMS_TESTS_STORE_HARNESS_H
#define TAMS_TESTS_STORE_HARNESS_H

#include "core/common.h"
#include "core/buf.h"
#include "store/db.h"
#include "store/store.h"
#include "check.h"

#include <libpq-fe.h>
#include <unistd.h>

#define HARNESS_SKIP 77 /* ctest's SKIP_RETURN_CODE */
#define HARNESS_PG_POOL 3

enum harness_backend { HARNESS_SQLITE, HARNESS_PG };

static struct {
    enum harness_backend backend;
    const char *name;    /* "sqlite" or "pg", as given */
    char dir[64];        /* a temporary directory, removed at the end */
    char dbpath[128];    /* SQLite: the database file */
    char url[1200];      /* what tams_store_open takes */
    char base_url[1024]; /* PostgreSQL: TAMS_TEST_DATABASE */
    char schema[32];     /* PostgreSQL: this run's schema */
} harness;

static struct tams_store *store;

#define ST store

static inline bool on_sqlite(void)
{
    return harness.backend == HARNESS_SQLITE;
}

static inline bool on_pg(void)
{
    return harness.backend == HARNESS_PG;
}

static inline void harness_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Runs sql on the database named by TAMS_TEST_DATABASE, outside any store. */
static inline int harness_admin(const char *sql)
{
    PGconn *c = PQconnectdb(harness.base_url);
    PGresult *r;
    int ok;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to TAMS_TEST_DATABASE: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, harness_quiet, NULL);
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Reads the back end from argv[1] and prepares a place for a fresh store (the store is not
 * opened yet: a test may set hooks first). Exits 2 on a usage error, 77 for pg without
 * TAMS_TEST_DATABASE, 1 when the place cannot be made. */
static inline void harness_init(int argc, char **argv)
{
    const char *prog = argc > 0 ? argv[0] : "test";

    if (argc != 2 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "pg") != 0)) {
        fprintf(stderr, "usage: %s sqlite|pg\n", prog);
        exit(2);
    }
    harness.name = argv[1];
    harness.backend = strcmp(argv[1], "pg") == 0 ? HARNESS_PG : HARNESS_SQLITE;
    if (on_pg()) {
        const char *env = getenv("TAMS_TEST_DATABASE");

        if (!env ||
            (strncmp(env, "postgresql://", 13) != 0 && strncmp(env, "postgres://", 11) != 0)) {
            printf("skipped: %s pg needs TAMS_TEST_DATABASE=postgresql://... (scripts/test.sh"
                   " starts a throwaway cluster and sets it)\n",
                   prog);
            exit(HARNESS_SKIP);
        }
        snprintf(harness.base_url, sizeof(harness.base_url), "%s", env);
    }
    snprintf(harness.dir, sizeof(harness.dir), "/tmp/tams_unit_store.XXXXXX");
    if (!mkdtemp(harness.dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(harness.dbpath, sizeof(harness.dbpath), "%s/meta.db", harness.dir);
    if (on_sqlite()) {
        snprintf(harness.url, sizeof(harness.url), "sqlite:%s", harness.dbpath);
    } else {
        char sql[128];

        snprintf(harness.schema, sizeof(harness.schema), "unit_%ld", (long)getpid());
        snprintf(harness.url, sizeof(harness.url), "%s%soptions=-csearch_path%%3D%s",
                 harness.base_url, strchr(harness.base_url, '?') ? "&" : "?", harness.schema);
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s",
                 harness.schema, harness.schema);
        if (harness_admin(sql) != 0)
            exit(1);
    }
}

/* Opens `store` on this run's database (again, after a close). */
static inline int harness_open(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    int rc = tams_store_open(&store, harness.url, harness.dir, HARNESS_PG_POOL, &why);

    if (rc)
        fprintf(stderr, "cannot open the %s store: %s: %s\n", harness.name, tams_err_name(rc),
                why.data);
    CHECK_INT_EQ(rc, 0);
    tams_buf_release(&why);
    return rc;
}

/* Closes the store, removes the directory (and the schema); the checks' report. */
static inline void harness_integrity(void);

/* Checks the store's references (harness_integrity), closes it and removes what the run made. */
static inline int harness_finish(void)
{
    char cmd[160];

    harness_integrity();
    tams_store_close(store);
    store = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", harness.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", harness.dir);
    if (on_pg()) {
        char sql[80];

        snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", harness.schema);
        CHECK_INT_EQ(harness_admin(sql), 0);
    }
    printf("%s: ", harness.name);
    return check_report();
}

/* ---- rows through the store's own driver ------------------------------------------------- */

typedef void (*db_row_fn)(void *ctx, const struct tams_db_rows *row);

struct harness_sql {
    const char *sql;
    struct tams_db_params params;
    db_row_fn fn;
    void *ctx;
};

static inline int harness_sql_body(struct tams_db *db, void *arg)
{
    struct harness_sql *h = arg;
    struct tams_db_rows rows;
    int rc = tams_db_query_sql(db, h->sql, &h->params, &rows);

    while (rc == 0 && (rc = tams_db_next(&rows)) == 1) {
        if (h->fn)
            h->fn(h->ctx, &rows);
        rc = 0;
    }
    tams_db_done(&rows);
    return rc;
}

/* Runs sql with up to two text parameters (?1 = a1, ?2 = a2; NULL = not given) inside a
 * transaction of the given kind; fn (may be NULL) sees each row. 0 or the driver's error. */
static inline int db_rows(enum tams_db_tx kind, const char *sql, const char *a1, const char *a2,
                          db_row_fn fn, void *ctx)
{
    struct harness_sql h = {.sql = sql, .params = TAMS_DB_PARAMS_INIT, .fn = fn, .ctx = ctx};

    if (a1)
        tams_db_text(&h.params, a1);
    if (a1 && a2)
        tams_db_text(&h.params, a2);
    return tams_db_run(ST, kind, harness_sql_body, NULL, &h);
}

static inline void harness_first_int(void *ctx, const struct tams_db_rows *row)
{
    int64_t *v = ctx;

    if (*v == -1)
        *v = tams_db_col_null(row, 0) ? -2 : tams_db_col_int(row, 0);
}

/* The first column of the first row of a read: -1 when there is no row, -2 for NULL. */
static inline int64_t db_int(const char *sql, const char *a1, const char *a2)
{
    int64_t v = -1;

    CHECK_INT_EQ(db_rows(TAMS_DB_TX_NONE, sql, a1, a2, harness_first_int, &v), 0);
    return v;
}

/* PostgreSQL: the generation stands only while the instance may trust its read caches, from
 * 1.5 s after it registered (pg_peers.h); before, every call moves it. Waits for that (10 s at
 * most). Writes of other instances on the database move it too: ctest runs the PostgreSQL
 * halves one at a time (RESOURCE_LOCK in CMakeLists.txt). */
static inline void wait_generation_stands(struct tams_store *st)
{
    for (int i = 0; i < 100; i++) {
        uint64_t g = tams_store_generation(st, NULL);

        usleep(100 * 1000);
        if (tams_store_generation(st, NULL) == g)
            return;
    }
    CHECK(!"the generation never stands");
}

/* What every test leaves behind, whatever it did: no segment without its flow or its object, no
 * reference count without its object. PostgreSQL keeps these by locks, not foreign keys
 * (schema_pg.c, migration 7), so every contract test checks them at its end. */
static inline void harness_integrity(void)
{
    CHECK_INT_EQ(db_int("SELECT count(*) FROM segments s WHERE NOT EXISTS"
                        " (SELECT 1 FROM flows f WHERE f.id = s.flow_id)",
                        NULL, NULL),
                 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM segments s WHERE NOT EXISTS"
                        " (SELECT 1 FROM objects o WHERE o.id = s.object_id)",
                        NULL, NULL),
                 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM object_refs r WHERE NOT EXISTS"
                        " (SELECT 1 FROM objects o WHERE o.id = r.object_id)",
                        NULL, NULL),
                 0);
}

/* A change (no parameters), in a write transaction. */
static inline int db_exec(const char *sql)
{
    return db_rows(TAMS_DB_TX_WRITE, sql, NULL, NULL, NULL, NULL);
}

#endif
