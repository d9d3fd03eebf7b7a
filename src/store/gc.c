/* SPDX-License-Identifier: Apache-2.0 */
/* gc.c - garbage collection of objects: rows no segment references any more are taken from the
 * store, and the media of controlled ones queued in a trash for deletion from their backend. */
#include "core/common.h"
#include "store/store_int.h"

#define CANDIDATES(cond, order)                                                                    \
    "SELECT id, controlled, storage_id, key, instances FROM objects WHERE " cond                   \
    " ORDER BY " order " LIMIT ?2"
/* SKIP LOCKED: rows another instance's collector holds are left to it. */
#define CANDIDATES_SQL(cond, order)                                                                \
    TAMS_SQL2(CANDIDATES(cond, order), CANDIDATES(cond, order) " FOR UPDATE SKIP LOCKED")

/* Objects whose last reference went before ?1, and objects allocated before ?1 that no
 * segment ever used. A segment kept in the soft-delete bin holds its object too. */
#define NOT_IN_BIN                                                                                 \
    " AND NOT EXISTS (SELECT 1 FROM bin_segments b WHERE b.object_id = objects.id)"                \
    " AND NOT EXISTS (SELECT 1 FROM bin_segments b WHERE b.init_object_id = objects.id)"
static struct tams_sql q_unreferenced = CANDIDATES_SQL(
    "unreferenced_at IS NOT NULL AND unreferenced_at <= ?1" NOT_IN_BIN, "unreferenced_at");
static struct tams_sql q_unused =
    CANDIDATES_SQL("first_referenced_by_flow IS NULL AND created <= ?1", "created");
/* The row goes only if no segment references the object, checked by the statement that
 * removes it. */
static struct tams_sql q_take =
    TAMS_SQL("DELETE FROM objects WHERE id = ?1"
             " AND NOT EXISTS (SELECT 1 FROM object_refs WHERE object_id = ?1)" NOT_IN_BIN);
/* Whether a round would find anything: an idle collector makes no write (which would move
 * the read caches' generation, and on PostgreSQL notify every instance). */
static struct tams_sql q_any_unreferenced = TAMS_SQL(
    "SELECT 1 FROM objects WHERE unreferenced_at IS NOT NULL AND unreferenced_at <= ?1" NOT_IN_BIN
    " LIMIT 1");
static struct tams_sql q_any_unused =
    TAMS_SQL("SELECT 1 FROM objects WHERE first_referenced_by_flow IS NULL AND created <= ?1"
             " LIMIT 1");
static struct tams_sql q_trash_insert =
    TAMS_SQL("INSERT INTO object_trash(object_id, storage_id, key, not_before)"
             " VALUES (?1, ?2, ?3, ?4)");
static struct tams_sql q_trash_due =
    TAMS_SQL("SELECT id, object_id, storage_id, key FROM object_trash"
             " WHERE not_before <= ?1 ORDER BY not_before LIMIT ?2");
static struct tams_sql q_trash_delete = TAMS_SQL("DELETE FROM object_trash WHERE id = ?1");
static struct tams_sql q_trash_retry =
    TAMS_SQL("UPDATE object_trash SET not_before = ?2 WHERE id = ?1");

static int take(struct tams_db *db, struct tams_sql *q, const char *cutoff, int limit,
                const char *now, size_t *taken)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    /* Kept: the rows are removed while they are read. */
    if ((rc = tams_db_query(db, q, ARGS(TEXT(cutoff), INT(limit)), &rows)) ||
        (rc = tams_db_keep(&rows)))
        goto out;
    while ((rc = tams_db_next(&rows)) == 1) {
        const char *id = tams_db_col(&rows, 0), *key = tams_db_col(&rows, 3);
        int64_t gone = 0;

        if ((rc = tams_db_exec1(db, &q_take, id, &gone)))
            break;
        if (!gone)
            continue;
        (*taken)++;
        /* The copies tamsd made (8.2 object instances) go with the object. */
        if ((rc = tams__instances_trash(db, id, tams_db_col(&rows, 4), now)))
            break;
        if (!tams_db_col_bool(&rows, 1) || !key || !key[0])
            continue; /* uncontrolled media is not ours: forgotten only */
        if ((rc = tams_db_exec(db, &q_trash_insert,
                               ARGS(TEXT(id), TEXT(tams_db_col(&rows, 2)), TEXT(key), TEXT(now)),
                               NULL)))
            break;
    }
out:
    tams_db_done(&rows);
    return rc;
}

struct collect_args {
    const struct tams_gc_params *p;
    char now[TAMS_RFC3339_MAX], grace[TAMS_RFC3339_MAX], unused[TAMS_RFC3339_MAX];
    size_t taken;
    bool any;
};

static void collect_reset(void *arg)
{
    ((struct collect_args *)arg)->taken = 0;
}

static int any_body(struct tams_db *db, void *arg)
{
    struct collect_args *a = arg;
    int rc = tams_db_exists(db, &q_any_unreferenced, a->grace);

    if (rc == 0)
        rc = tams_db_exists(db, &q_any_unused, a->unused);
    a->any = rc == 1;
    return rc < 0 ? rc : 0;
}

static int collect_body(struct tams_db *db, void *arg)
{
    struct collect_args *a = arg;
    int limit = a->p->batch > 0 ? a->p->batch : 1000;
    int rc;

    if ((rc = take(db, &q_unreferenced, a->grace, limit, a->now, &a->taken)))
        return rc;
    return take(db, &q_unused, a->unused, limit, a->now, &a->taken);
}

int tams_store_gc_collect(struct tams_store *st, const struct tams_gc_params *p, size_t *taken)
{
    struct collect_args a = {.p = p};
    int64_t us = tams_clock_wall_us();
    int rc;

    tams_clock_rfc3339(us, a.now);
    tams_clock_rfc3339(us - p->grace * 1000000, a.grace);
    tams_clock_rfc3339(us - p->unused_after * 1000000, a.unused);
    *taken = 0;
    if ((rc = tams_db_run(st, TAMS_DB_TX_NONE, any_body, NULL, &a)) || !a.any)
        return rc;
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, collect_body, collect_reset, &a);
    *taken = rc == 0 ? a.taken : 0;
    return rc;
}

struct trash_args {
    int64_t id, delay;
};

int tams_store_gc_trash_list(struct tams_store *st, int limit, tams_trash_cb cb, void *ctx)
{
    char now[TAMS_RFC3339_MAX];
    struct tams_db_rows rows;
    int rc;

    tams_clock_now_rfc3339(now);
    rc = tams__fetch(st, &q_trash_due, NULL, ARGS(TEXT(now), INT(limit)), &rows);
    while (rc == 0 && tams_db_next(&rows) == 1) {
        struct tams_trash_rec t = {tams_db_col_int(&rows, 0), tams_db_col(&rows, 1),
                                   tams_db_col(&rows, 2), tams_db_col(&rows, 3)};
        rc = cb(ctx, &t);
    }
    tams_db_done(&rows);
    return rc;
}

static int trash_done_body(struct tams_db *db, void *arg)
{
    return tams_db_exec(db, &q_trash_delete, ARGS(INT(((struct trash_args *)arg)->id)), NULL);
}

static int trash_retry_body(struct tams_db *db, void *arg)
{
    struct trash_args *a = arg;
    char when[TAMS_RFC3339_MAX];

    tams__time_after(a->delay, when);
    return tams_db_exec(db, &q_trash_retry, ARGS(INT(a->id), TEXT(when)), NULL);
}

int tams_store_gc_trash_done(struct tams_store *st, int64_t id)
{
    struct trash_args a = {id, 0};

    return tams_db_run(st, TAMS_DB_TX_WRITE, trash_done_body, NULL, &a);
}

int tams_store_gc_trash_retry(struct tams_store *st, int64_t id, int64_t delay)
{
    struct trash_args a = {id, delay};

    return tams_db_run(st, TAMS_DB_TX_WRITE, trash_retry_body, NULL, &a);
}
