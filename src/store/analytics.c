/* SPDX-License-Identifier: Apache-2.0 */
/* analytics.c - reads of the aggregates the schema's triggers keep (analytics.h), the pruning
 * of old ingest buckets, and object sizes. No statement here reads the segments table: that
 * is the point of the aggregates. */
#include "core/common.h"
#include "core/alloc.h"
#include "store/analytics.h"
#include "store/cursor.h"
#include "store/store_int.h"

static struct tams_sql q_flow_visible =
    TAMS_SQL("SELECT 1 FROM flows WHERE id = ?1 AND deleting = 0");
static struct tams_sql q_source_exists = TAMS_SQL("SELECT 1 FROM sources WHERE id = ?1");

#define SUMS                                                                                       \
    "count(*), coalesce(sum(a.segments), 0), coalesce(sum(a.covered), 0), min(a.first_lo),"        \
    " max(a.last_hi), coalesce(sum(a.objects), 0), coalesce(sum(a.unsized), 0),"                   \
    " coalesce(sum(a.bytes), 0)"
/* A flow without a segment has no aggregate row yet: it counts as zeros. */
static struct tams_sql q_flow =
    TAMS_SQL("SELECT " SUMS " FROM flows f LEFT JOIN flow_stats a ON a.flow_id = f.id"
             " WHERE f.id = ?1 AND f.deleting = 0");
static struct tams_sql q_source =
    TAMS_SQL("SELECT " SUMS " FROM flows f LEFT JOIN flow_stats a ON a.flow_id = f.id"
             " WHERE f.source_id = ?1 AND f.deleting = 0");
static struct tams_sql q_service =
    TAMS_SQL("SELECT " SUMS " FROM flows f LEFT JOIN flow_stats a ON a.flow_id = f.id");
static struct tams_sql q_storage =
    TAMS_SQL("SELECT storage_id, sum(segments), sum(bytes) FROM flow_storage_stats"
             " GROUP BY storage_id HAVING sum(segments) > 0 OR sum(bytes) > 0 ORDER BY storage_id");
static struct tams_sql q_gaps = TAMS_SQL("SELECT lo, hi FROM flow_gaps WHERE flow_id = ?1"
                                         " AND lo > ?2 ORDER BY lo LIMIT ?3");
static struct tams_sql q_ingest_flow =
    TAMS_SQL("SELECT minute, segments, bytes FROM flow_ingest WHERE flow_id = ?1"
             " AND minute >= ?2 ORDER BY minute");
static struct tams_sql q_ingest_all =
    TAMS_SQL("SELECT minute, sum(segments), sum(bytes) FROM flow_ingest WHERE minute >= ?1"
             " GROUP BY minute ORDER BY minute");
static struct tams_sql q_ingest_any_old =
    TAMS_SQL("SELECT 1 FROM flow_ingest WHERE minute < ?1 LIMIT 1");
static struct tams_sql q_ingest_prune = TAMS_SQL("DELETE FROM flow_ingest WHERE minute < ?1");
static struct tams_sql q_set_size =
    TAMS_SQL2("UPDATE objects SET size = ?3 WHERE key = ?2 AND storage_id IS ?1"
              " AND size IS NOT ?3",
              "UPDATE objects SET size = ?3 WHERE key = ?2"
              " AND storage_id IS NOT DISTINCT FROM ?1 AND size IS DISTINCT FROM ?3::bigint");
/* Whether set_size has anything to write for an object already registered. */
static struct tams_sql q_size_needed =
    TAMS_SQL2("SELECT 1 FROM objects WHERE key = ?2 AND storage_id IS ?1"
              " AND first_referenced_by_flow IS NOT NULL AND size IS NOT ?3 LIMIT 1",
              "SELECT 1 FROM objects WHERE key = ?2 AND storage_id IS NOT DISTINCT FROM ?1"
              " AND first_referenced_by_flow IS NOT NULL AND size IS DISTINCT FROM ?3::bigint"
              " LIMIT 1");

static void stats_read(const struct tams_db_rows *rows, struct tams_stats *out)
{
    *out = (struct tams_stats){
        .flows = tams_db_col_int(rows, 0),
        .segments = tams_db_col_int(rows, 1),
        .covered_ns = tams_db_col_int(rows, 2),
        .objects = tams_db_col_int(rows, 5),
        .unsized_objects = tams_db_col_int(rows, 6),
        .bytes = tams_db_col_int(rows, 7),
    };
    if (!tams_db_col_null(rows, 3) && !tams_db_col_null(rows, 4) && out->segments > 0) {
        out->any = true;
        out->first_lo = tams_db_col_int(rows, 3);
        out->last_hi = tams_db_col_int(rows, 4);
    }
}

struct sums_args {
    struct tams_sql *exists; /* NULL: nothing to check */
    struct tams_sql *q;
    const char *key; /* the one parameter, or NULL */
    struct tams_stats *out;
};

static int sums_body(struct tams_db *db, void *arg)
{
    struct sums_args *a = arg;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    if (a->exists && (rc = tams_db_exists(db, a->exists, a->key)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    rc = a->key ? tams_db_one(db, a->q, ARGS(TEXT(a->key)), &rows)
                : tams_db_one(db, a->q, NO_ARGS, &rows);
    if (rc <= 0)
        return rc < 0 ? rc : TAMS_ERR_STORE; /* an aggregate always has a row */
    stats_read(&rows, a->out);
    tams_db_done(&rows);
    return 0;
}

static int sums(struct tams_store *st, struct tams_sql *exists, struct tams_sql *q, const char *key,
                struct tams_stats *out)
{
    struct sums_args a = {exists, q, key, out};

    *out = (struct tams_stats){0};
    return tams_db_run(st, TAMS_DB_TX_READ, sums_body, NULL, &a);
}

int tams_store_stats_flow(struct tams_store *st, const char *flow_id, struct tams_stats *out)
{
    return sums(st, &q_flow_visible, &q_flow, flow_id, out);
}

int tams_store_stats_source(struct tams_store *st, const char *source_id, struct tams_stats *out)
{
    return sums(st, &q_source_exists, &q_source, source_id, out);
}

int tams_store_stats_service(struct tams_store *st, struct tams_stats *out)
{
    return sums(st, NULL, &q_service, NULL, out);
}

int tams_store_stats_storage(struct tams_store *st, tams_stats_storage_cb cb, void *ctx)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams__fetch(st, &q_storage, NULL, NO_ARGS, &rows);

    while (rc == 0) {
        struct tams_stats s = {0};
        const char *id;
        int more = tams_db_next(&rows);

        if (more <= 0) {
            rc = more;
            break;
        }
        id = tams_db_col(&rows, 0);
        s.segments = tams_db_col_int(&rows, 1);
        s.bytes = tams_db_col_int(&rows, 2);
        rc = cb(ctx, id && id[0] ? id : NULL, &s);
    }
    tams_db_done(&rows);
    return rc;
}

/* Rows of a listing that must exist first, read in one snapshot and kept for the callbacks. */
struct rows_args {
    const char *flow_id; /* checked when not NULL */
    struct tams_sql *q;
    struct tams_db_param v[3];
    int n;
    struct tams_db_rows *rows;
};

static int rows_body(struct tams_db *db, void *arg)
{
    struct rows_args *a = arg;
    int rc;

    if (a->flow_id && (rc = tams_db_exists(db, &q_flow_visible, a->flow_id)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    if ((rc = tams_db_query(db, a->q, a->v, a->n, a->rows)))
        return rc;
    return tams_db_keep(a->rows);
}

static void rows_reset(void *arg)
{
    struct rows_args *a = arg;

    tams_db_done(a->rows);
    *a->rows = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
}

static int rows_fetch(struct tams_store *st, struct rows_args *a)
{
    *a->rows = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
    return tams_db_run(st, TAMS_DB_TX_READ, rows_body, rows_reset, a);
}

int tams_store_stats_gaps(struct tams_store *st, const char *flow_id, const struct tams_page *page,
                          tams_stats_gap_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    int limit = tams__page_start(page), sent = 0, rc;
    bool have_after;
    int64_t after = INT64_MIN, last = 0;
    struct rows_args a = {.flow_id = flow_id, .q = &q_gaps, .n = 3, .rows = &rows};

    if ((rc = tams__page_lo(page, "gaps", &have_after, &after)))
        return rc;
    a.v[0] = TEXT(flow_id);
    a.v[1] = INT(have_after ? after : INT64_MIN);
    a.v[2] = INT((int64_t)limit + 1);
    if ((rc = rows_fetch(st, &a)))
        goto out;
    for (;;) {
        int more = tams_db_next(&rows);

        if (more <= 0) {
            rc = more;
            break;
        }
        if (sent == limit) {
            char key[24];

            snprintf(key, sizeof(key), "%" PRId64, last);
            if (page && page->next_key)
                rc = tams_cursor_encode(page->next_key, "gaps", key);
            break;
        }
        last = tams_db_col_int(&rows, 0);
        sent++;
        if ((rc = cb(ctx, last, tams_db_col_int(&rows, 1))))
            break;
    }
out:
    tams_db_done(&rows);
    return rc;
}

int tams_store_stats_ingest(struct tams_store *st, const char *flow_id, int64_t since_minute,
                            tams_stats_ingest_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    struct rows_args a = {.flow_id = flow_id, .rows = &rows};
    int rc;

    if (flow_id) {
        a.q = &q_ingest_flow;
        a.v[0] = TEXT(flow_id);
        a.v[1] = INT(since_minute);
        a.n = 2;
    } else {
        a.q = &q_ingest_all;
        a.v[0] = INT(since_minute);
        a.n = 1;
    }
    if ((rc = rows_fetch(st, &a)))
        goto out;
    for (;;) {
        int more = tams_db_next(&rows);

        if (more <= 0) {
            rc = more;
            break;
        }
        if ((rc = cb(ctx, tams_db_col_int(&rows, 0), tams_db_col_int(&rows, 1),
                     tams_db_col_int(&rows, 2))))
            break;
    }
out:
    tams_db_done(&rows);
    return rc;
}

struct prune_args {
    int64_t before;
    int64_t *dropped;
};

static int prune_any_body(struct tams_db *db, void *arg)
{
    struct prune_args *a = arg;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, &q_ingest_any_old, ARGS(INT(a->before)), &rows);

    if (rc == 1)
        tams_db_done(&rows);
    *a->dropped = rc == 1;
    return rc < 0 ? rc : 0;
}

static int prune_body(struct tams_db *db, void *arg)
{
    struct prune_args *a = arg;

    return tams_db_exec(db, &q_ingest_prune, ARGS(INT(a->before)), a->dropped);
}

int tams_store_stats_ingest_prune(struct tams_store *st, int64_t before_minute, int64_t *dropped)
{
    int64_t n = 0;
    struct prune_args a = {before_minute, &n};
    int rc;

    /* An idle round writes nothing: a write would move the read caches' generation. */
    if ((rc = tams_db_run(st, TAMS_DB_TX_NONE, prune_any_body, NULL, &a)) == 0 && n)
        rc = tams_db_run(st, TAMS_DB_TX_QUIET, prune_body, NULL, &a);
    if (dropped)
        *dropped = rc ? 0 : n;
    return rc;
}

struct size_args {
    const char *storage_id, *key;
    int64_t size;
    bool needed;
};

static struct tams_db_param storage_param(const char *storage_id)
{
    return storage_id ? TEXT(storage_id) : (struct tams_db_param){TAMS_DB_NULL, NULL, 0, 0};
}

static int size_needed_body(struct tams_db *db, void *arg)
{
    struct size_args *a = arg;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, &q_size_needed,
                         ARGS(storage_param(a->storage_id), TEXT(a->key), INT(a->size)), &rows);

    tams_db_done(&rows);
    a->needed = rc == 1;
    return rc < 0 ? rc : 0;
}

static int size_body(struct tams_db *db, void *arg)
{
    struct size_args *a = arg;

    return tams_db_exec(db, &q_set_size,
                        ARGS(storage_param(a->storage_id), TEXT(a->key), INT(a->size)), NULL);
}

int tams_store_object_set_size(struct tams_store *st, const char *storage_id, const char *key,
                               int64_t size, bool if_registered)
{
    struct size_args a = {storage_id, key, size, true};
    int rc;

    /* A read first: most uploads precede their registration, which records the size itself,
     * and a write transaction per upload would cost more than the upload. */
    if (if_registered &&
        ((rc = tams_db_run(st, TAMS_DB_TX_NONE, size_needed_body, NULL, &a)) || !a.needed))
        return rc;
    /* No read cache holds a size: the documents' caches stay valid. */
    return tams_db_run(st, TAMS_DB_TX_QUIET, size_body, NULL, &a);
}
