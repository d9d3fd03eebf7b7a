/* SPDX-License-Identifier: Apache-2.0 */
/* bin.c - soft delete (docs/soft-delete.md): what a deletion removes is copied into the bin
 * tables first, outside every table a read looks at, so no read path changes and nothing can
 * leak; an entry is restored through registration, purged, or forgotten when it expires. */
#include "core/common.h"
#include "core/log.h"
#include "store/cursor.h"
#include "store/outbox.h"
#include "store/store_int.h"

#define BIN_COLS                                                                                   \
    "id, kind, flow_id, source_id, timerange, object_id, deleted, deleted_by, expires,"            \
    " segments, pending"
#define FLOW_COLS                                                                                  \
    "id, source_id, format, codec, container, label, frame_width, frame_height, read_only, doc,"   \
    " created, metadata_updated, segments_updated, created_by, updated_by"
#define SOURCE_COLS "id, format, label, description, created, updated, created_by, updated_by"
#define SEG_COLS                                                                                   \
    "lo, hi, start_incl, end_incl, object_id, ts_offset, last_duration, sample_offset,"            \
    " sample_count, key_frame_count, get_urls, object_timerange, init_object_id"
#define SEG_WHERE "FROM segments WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3 AND hi <= ?4"

static struct tams_sql q_open = TAMS_SQL(
    "INSERT INTO bin(id, kind, flow_id, source_id, timerange, object_id, deleted, deleted_by,"
    " expires, pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
static struct tams_sql q_keep_flow =
    TAMS_SQL("INSERT INTO bin_flows(bin_id, " FLOW_COLS ") SELECT CAST(?1 AS TEXT), " FLOW_COLS
             " FROM flows WHERE id = ?2");
static struct tams_sql q_keep_flow_tags =
    TAMS_SQL("INSERT INTO bin_flow_tags(bin_id, name, pos, value)"
             " SELECT CAST(?1 AS TEXT), name, pos, value FROM flow_tags WHERE flow_id = ?2");
static struct tams_sql q_keep_flow_coll = TAMS_SQL(
    "INSERT INTO bin_flow_collection(bin_id, member_id, role, position)"
    " SELECT CAST(?1 AS TEXT), member_id, role, position FROM flow_collection WHERE collector_id = ?2");
static struct tams_sql q_keep_source =
    TAMS_SQL("INSERT INTO bin_sources(bin_id, " SOURCE_COLS
             ") SELECT CAST(?1 AS TEXT), " SOURCE_COLS " FROM sources WHERE id = ?2");
static struct tams_sql q_keep_source_tags =
    TAMS_SQL("INSERT INTO bin_source_tags(bin_id, name, pos, value)"
             " SELECT CAST(?1 AS TEXT), name, pos, value FROM source_tags WHERE source_id = ?2");
/* The collections the flow is a member of, before the deletion drops it from them. */
static struct tams_sql q_keep_memberships =
    TAMS_SQL("INSERT INTO bin_memberships(bin_id, collector_id, role, position)"
             " SELECT CAST(?1 AS TEXT), collector_id, role, position FROM flow_collection"
             " WHERE member_id = ?2 AND collector_id <> ?2");
/* The selection of deletion.c (?1..?4, ?5 the object), the entry last. */
static struct tams_sql q_keep_segs = TAMS_SQL("INSERT INTO bin_segments(bin_id, " SEG_COLS
                                              ") SELECT CAST(?5 AS TEXT), " SEG_COLS " " SEG_WHERE);
static struct tams_sql q_keep_segs_obj =
    TAMS_SQL("INSERT INTO bin_segments(bin_id, " SEG_COLS ") SELECT CAST(?6 AS TEXT), " SEG_COLS
             " " SEG_WHERE " AND object_id = ?5");
static struct tams_sql q_count = TAMS_SQL("UPDATE bin SET segments = segments + ?2 WHERE id = ?1");
static struct tams_sql q_settle = TAMS_SQL("UPDATE bin SET pending = 0 WHERE id = ?1");

/* A page in (deleted, id) order after the key (?1, ?2); ("", "") from the start. */
static struct tams_sql q_list =
    TAMS_SQL("SELECT " BIN_COLS " FROM bin WHERE deleted > ?1 OR (deleted = ?1 AND id > ?2)"
             " ORDER BY deleted, id LIMIT ?3");
static struct tams_sql q_get = TAMS_SQL("SELECT " BIN_COLS " FROM bin WHERE id = ?1");
static struct tams_sql q_take = TAMS_SQL2("SELECT kind, flow_id, pending FROM bin WHERE id = ?1",
                                          "SELECT kind, flow_id, pending FROM bin WHERE id = ?1"
                                          " FOR UPDATE");
static struct tams_sql q_due =
    TAMS_SQL("SELECT id FROM bin WHERE expires <= ?1 AND pending = 0 ORDER BY expires LIMIT ?2");
static struct tams_sql q_any_due =
    TAMS_SQL("SELECT 1 FROM bin WHERE expires <= ?1 AND pending = 0 LIMIT 1");

/* Forgetting an entry: every table of it. */
static struct tams_sql q_forget[] = {
    TAMS_SQL("DELETE FROM bin_segments WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin_flow_tags WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin_flow_collection WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin_memberships WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin_flows WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin_source_tags WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin_sources WHERE bin_id = ?1"),
    TAMS_SQL("DELETE FROM bin WHERE id = ?1"),
};

/* Restoring: the flow's rows back, its source when gone. */
static struct tams_sql q_flow_exists = TAMS_SQL("SELECT 1 FROM flows WHERE id = ?1");
static struct tams_sql q_source_exists = TAMS_SQL("SELECT 1 FROM sources WHERE id = ?1");
static struct tams_sql q_source_clash =
    TAMS_SQL("SELECT 1 FROM sources s JOIN bin_flows b ON b.source_id = s.id"
             " WHERE b.bin_id = ?1 AND s.format <> b.format");
static struct tams_sql q_put_source =
    TAMS_SQL("INSERT INTO sources(" SOURCE_COLS ") SELECT " SOURCE_COLS
             " FROM bin_sources WHERE bin_id = ?1");
static struct tams_sql q_put_source_tags =
    TAMS_SQL("INSERT INTO source_tags(source_id, name, pos, value)"
             " SELECT CAST(?2 AS TEXT), name, pos, value FROM bin_source_tags WHERE bin_id = ?1");
static struct tams_sql q_put_flow = TAMS_SQL("INSERT INTO flows(" FLOW_COLS ") SELECT " FLOW_COLS
                                             " FROM bin_flows WHERE bin_id = ?1");
static struct tams_sql q_put_flow_tags =
    TAMS_SQL("INSERT INTO flow_tags(flow_id, name, pos, value)"
             " SELECT CAST(?2 AS TEXT), name, pos, value FROM bin_flow_tags WHERE bin_id = ?1");
/* Members deleted since are left out (the document keeps naming them, as a member deleted
 * after the write would). */
static struct tams_sql q_put_flow_coll =
    TAMS_SQL("INSERT INTO flow_collection(collector_id, member_id, role, position)"
             " SELECT CAST(?2 AS TEXT), member_id, role, position FROM bin_flow_collection c"
             " WHERE c.bin_id = ?1 AND EXISTS (SELECT 1 FROM flows f WHERE f.id = c.member_id"
             " AND f.deleting = 0)");
/* The collections to join again: those still there (a collector deleted since is left out). */
static struct tams_sql q_memberships =
    TAMS_SQL("SELECT m.collector_id, m.role FROM bin_memberships m JOIN flows f"
             " ON f.id = m.collector_id AND f.deleting = 0 WHERE m.bin_id = ?1"
             " ORDER BY m.collector_id, m.position");
/* Registration stamps segments_updated; a restored flow keeps the one it had. */
static struct tams_sql q_put_seg_time =
    TAMS_SQL("UPDATE flows SET segments_updated = (SELECT segments_updated FROM bin_flows"
             " WHERE bin_id = ?1) WHERE id = ?2");
/* Ingest per minute is history: what the restore's registration adds to the minutes it runs in
 * is taken back (the rows of this minute and the one before, kept and written back). */
static struct tams_sql q_ingest_get =
    TAMS_SQL("SELECT minute, segments, bytes FROM flow_ingest WHERE flow_id = ?1 AND minute >= ?2");
static struct tams_sql q_ingest_cut =
    TAMS_SQL("DELETE FROM flow_ingest WHERE flow_id = ?1 AND minute >= ?2");
static struct tams_sql q_ingest_put =
    TAMS_SQL("INSERT INTO flow_ingest(flow_id, minute, segments, bytes) VALUES (?1, ?2, ?3, ?4)");
static struct tams_sql q_segs = TAMS_SQL("SELECT " SEG_COLS " FROM bin_segments WHERE bin_id = ?1"
                                         " ORDER BY lo");

/* ---- filled by deletions --------------------------------------------------------------- */

int tams__bin_open(struct tams_db *db, const struct tams_delete_spec *spec, const char *source_id,
                   const char *timerange, bool pending, const char *now,
                   char id[TAMS_UUID_STRLEN + 1])
{
    char expires[TAMS_RFC3339_MAX];

    tams_uuid_v4(id);
    tams__time_after(spec->retention, expires);
    return tams_db_exec(db, &q_open,
                        ARGS(TEXT(id), TEXT(spec->delete_flow ? "flow" : "segments"),
                             TEXT(spec->flow_id), TEXT(source_id), TEXT(timerange),
                             TEXT(spec->object_id), TEXT(now), TEXT(spec->principal), TEXT(expires),
                             INT(pending)),
                        NULL);
}

int tams__bin_keep_flow(struct tams_db *db, const char *bin_id, const char *flow_id,
                        const char *source_id)
{
    int rc;

    if ((rc = tams_db_exec(db, &q_keep_flow, ARGS(TEXT(bin_id), TEXT(flow_id)), NULL)) ||
        (rc = tams_db_exec(db, &q_keep_flow_tags, ARGS(TEXT(bin_id), TEXT(flow_id)), NULL)) ||
        (rc = tams_db_exec(db, &q_keep_flow_coll, ARGS(TEXT(bin_id), TEXT(flow_id)), NULL)) ||
        (rc = tams_db_exec(db, &q_keep_memberships, ARGS(TEXT(bin_id), TEXT(flow_id)), NULL)) ||
        (rc = tams_db_exec(db, &q_keep_source, ARGS(TEXT(bin_id), TEXT(source_id)), NULL)))
        return rc;
    return tams_db_exec(db, &q_keep_source_tags, ARGS(TEXT(bin_id), TEXT(source_id)), NULL);
}

int tams__bin_keep_segments(struct tams_db *db, const char *bin_id, const struct tams__del_sel *sel,
                            int64_t upto)
{
    struct tams_db_params p = {0};
    int64_t n = 0;
    int rc;

    tams_db_text(&p, sel->flow_id);
    tams_db_int(&p, sel->lo);
    tams_db_int(&p, upto);
    tams_db_int(&p, sel->hi);
    if (sel->object_id)
        tams_db_text(&p, sel->object_id);
    tams_db_text(&p, bin_id);
    if ((rc = tams_db_exec(db, sel->object_id ? &q_keep_segs_obj : &q_keep_segs, p.v, p.n, &n)))
        return rc;
    return n ? tams_db_exec(db, &q_count, ARGS(TEXT(bin_id), INT(n)), NULL) : 0;
}

int tams__bin_settle(struct tams_db *db, const char *bin_id)
{
    return tams_db_exec1(db, &q_settle, bin_id, NULL);
}

int tams__bin_forget(struct tams_db *db, const char *bin_id)
{
    int rc = 0;

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(q_forget) && rc == 0; i++)
        rc = tams_db_exec1(db, &q_forget[i], bin_id, NULL);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* The key of a page cursor: "deleted|id" of the last entry given. */
static int page_key(const struct tams_page *page, char deleted[TAMS_RFC3339_MAX],
                    char id[TAMS_UUID_STRLEN + 1])
{
    struct tams_buf key = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    const char *bar;
    int rc = 0;

    deleted[0] = id[0] = 0;
    if (!page || !page->after)
        goto out;
    if ((rc = tams_cursor_decode(page->after, "trash", &key)))
        goto out;
    bar = strchr(key.data, '|');
    if (!bar || (size_t)(bar - key.data) >= TAMS_RFC3339_MAX || bar == key.data ||
        !tams_uuid_valid(bar + 1, strlen(bar + 1))) {
        rc = TAMS_ERR_BADPAGE;
        goto out;
    }
    memcpy(deleted, key.data, (size_t)(bar - key.data));
    deleted[bar - key.data] = 0;
    memcpy(id, bar + 1, TAMS_UUID_STRLEN + 1);
out:
    tams_buf_release(&key);
    return rc;
}

static struct tams_bin_rec entry_rec(struct tams_db_rows *rows)
{
    return (struct tams_bin_rec){
        .id = tams_db_col(rows, 0),
        .kind = tams_db_col(rows, 1),
        .flow_id = tams_db_col(rows, 2),
        .source_id = tams_db_col(rows, 3),
        .timerange = tams_db_col(rows, 4),
        .object_id = tams_db_col(rows, 5),
        .deleted = tams_db_col(rows, 6),
        .deleted_by = tams_db_col(rows, 7),
        .expires = tams_db_col(rows, 8),
        .segments = tams_db_col_int(rows, 9),
        .pending = tams_db_col_bool(rows, 10),
    };
}

int tams_store_bin_list(struct tams_store *st, const struct tams_page *page, tams_bin_cb cb,
                        void *ctx)
{
    struct tams_db_rows rows;
    struct tams_buf last = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    char deleted[TAMS_RFC3339_MAX], id[TAMS_UUID_STRLEN + 1];
    int limit = tams__page_start(page), n = 0, more = 0;
    int rc = page_key(page, deleted, id);

    if (rc == 0)
        rc = tams__fetch(st, &q_list, NULL, ARGS(TEXT(deleted), TEXT(id), INT(limit + 1)), &rows);
    else
        rows = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
    while (rc == 0 && (more = tams_db_next(&rows)) == 1 && n < limit) {
        struct tams_bin_rec r = entry_rec(&rows);

        n++;
        tams_buf_reset(&last);
        tams_buf_addf(&last, "%s|%s", r.deleted, r.id);
        rc = cb(ctx, &r);
    }
    if (rc == 0 && more < 0)
        rc = more;
    /* One row past the page: there is a next one. */
    if (rc == 0 && more == 1 && n == limit && page && page->next_key)
        rc = tams_cursor_encode(page->next_key, "trash", last.data);
    tams_db_done(&rows);
    tams_buf_release(&last);
    return rc;
}

int tams_store_bin_get(struct tams_store *st, const char *id, tams_bin_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    int rc = tams__fetch(st, &q_get, NULL, ARGS(TEXT(id)), &rows);

    if (rc == 0) {
        rc = tams_db_next(&rows);
        if (rc == 1) {
            struct tams_bin_rec r = entry_rec(&rows);

            rc = cb(ctx, &r);
        } else if (rc == 0) {
            rc = TAMS_ERR_NOTFOUND;
        }
    }
    tams_db_done(&rows);
    return rc;
}

/* ---- restore, purge, expiry ---------------------------------------------------------------- */

struct entry_args {
    const char *id;
    struct tams_buf *why;
    size_t why_len;
    char *flow_id;
    bool is_flow;
};

static void entry_reset(void *arg)
{
    struct entry_args *a = arg;

    tams_free(a->flow_id);
    a->flow_id = NULL;
    if (a->why)
        tams__why_cut(a->why, a->why_len);
}

/* The entry, locked for this transaction; NOTFOUND, or CONFLICT while pending. */
static int entry_take(struct tams_db *db, struct entry_args *a)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    bool pending;
    int rc = tams_db_one(db, &q_take, ARGS(TEXT(a->id)), &rows);

    if (rc <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    a->is_flow = strcmp(tams_db_col(&rows, 0), "flow") == 0;
    a->flow_id = tams_strdup(tams_db_col(&rows, 1));
    pending = tams_db_col_bool(&rows, 2);
    tams_db_done(&rows);
    if (pending) {
        tams__why_add(a->why,
                      "bin entry %s is still being deleted; try again when its deletion"
                      " request is done",
                      a->id);
        return TAMS_ERR_CONFLICT;
    }
    return 0;
}

/* Back into the collections that held the flow when it was deleted. */
static int restore_memberships(struct tams_db *db, struct entry_args *a, const char *now)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    if ((rc = tams_db_query(db, &q_memberships, ARGS(TEXT(a->id)), &rows)) ||
        (rc = tams_db_keep(&rows)))
        goto out;
    while ((rc = tams_db_next(&rows)) == 1 &&
           (rc = tams__flow_join_collection(db, tams_db_col(&rows, 0), a->flow_id,
                                            tams_db_col(&rows, 1), now)) == 0)
        ;
out:
    tams_db_done(&rows);
    return rc < 0 ? rc : 0;
}

/* The flow's rows, and its source's when gone (sources/created, flows/created). */
static int restore_flow(struct tams_db *db, struct entry_args *a, const char *now)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    char *source_id = NULL;
    int rc;

    if ((rc = tams_db_exists(db, &q_flow_exists, a->flow_id)) != 0) {
        if (rc == 1) {
            tams__why_add(a->why, "flow %s exists again; delete it first", a->flow_id);
            rc = TAMS_ERR_CONFLICT;
        }
        return rc;
    }
    if ((rc = tams_db_exists(db, &q_source_clash, a->id)) != 0) {
        if (rc == 1) {
            tams__why_add(a->why, "the source of flow %s exists again with another format",
                          a->flow_id);
            rc = TAMS_ERR_CONFLICT;
        }
        return rc;
    }
    if ((rc = tams_db_one(db, &q_get, ARGS(TEXT(a->id)), &rows)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    source_id = tams_strdup(tams_db_col(&rows, 3));
    tams_db_done(&rows);
    rc = tams_db_exists(db, &q_source_exists, source_id);
    if (rc == 0 && !(rc = tams_db_exec1(db, &q_put_source, a->id, NULL)) &&
        !(rc = tams_db_exec(db, &q_put_source_tags, ARGS(TEXT(a->id), TEXT(source_id)), NULL)))
        rc = tams__ev_source(db, TAMS_EV_SOURCE_CREATED, source_id, now);
    if (rc < 0 || (rc = tams_db_exec1(db, &q_put_flow, a->id, NULL)) ||
        (rc = tams_db_exec(db, &q_put_flow_tags, ARGS(TEXT(a->id), TEXT(a->flow_id)), NULL)) ||
        (rc = tams_db_exec(db, &q_put_flow_coll, ARGS(TEXT(a->id), TEXT(a->flow_id)), NULL)))
        goto out;
    if ((rc = tams__ev_flow(db, TAMS_EV_FLOW_CREATED, a->flow_id, now)) == 0)
        rc = restore_memberships(db, a, now);
out:
    tams_free(source_id);
    return rc < 0 ? rc : 0;
}

/* The kept segments, registered again as one batch: every one must be added. */
static int restore_segments(struct tams_db *db, struct entry_args *a)
{
    static const unsigned bits[] = {TAMS_SEG_TS_OFFSET, TAMS_SEG_LAST_DURATION,
                                    TAMS_SEG_SAMPLE_OFFSET, TAMS_SEG_SAMPLE_COUNT,
                                    TAMS_SEG_KEY_FRAME_COUNT};
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams_segment *segs = NULL;
    int *results = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if ((rc = tams_db_query(db, &q_segs, ARGS(TEXT(a->id)), &rows)) || (rc = tams_db_keep(&rows)))
        goto out;
    while ((rc = tams_db_next(&rows)) == 1) {
        struct tams_segment *g;
        int64_t *opt[5];

        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            segs = tams_realloc(segs, cap * sizeof(*segs));
        }
        g = &segs[n++];
        memset(g, 0, sizeof(*g));
        opt[0] = &g->ts_offset;
        opt[1] = &g->last_duration;
        opt[2] = &g->sample_offset;
        opt[3] = &g->sample_count;
        opt[4] = &g->key_frame_count;
        g->tr.lo = tams_db_col_int(&rows, 0);
        g->tr.hi = tams_db_col_int(&rows, 1);
        g->tr.lo_incl = tams_db_col_bool(&rows, 2);
        g->tr.hi_incl = tams_db_col_bool(&rows, 3);
        g->object_id = tams_db_col(&rows, 4);
        for (int k = 0; k < 5; k++) {
            if (!tams_db_col_null(&rows, 5 + k)) {
                *opt[k] = tams_db_col_int(&rows, 5 + k);
                g->has |= bits[k];
            }
        }
        g->get_urls = tams_db_col(&rows, 10);
        g->object_timerange = tams_db_col(&rows, 11);
        g->init_object_id = tams_db_col(&rows, 12);
    }
    if (rc < 0 || n == 0)
        goto out;
    results = tams_calloc(n, sizeof(*results));
    rc = tams__segments_add_in(db, a->flow_id, segs, n, results);
    if (rc == TAMS_ERR_NOTFOUND || rc == TAMS_ERR_READONLY || rc == TAMS_ERR_VALIDATION) {
        tams__why_add(a->why, "flow %s is gone, hidden or read-only", a->flow_id);
        rc = TAMS_ERR_CONFLICT;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (results[i]) {
            tams__why_add(a->why, "segment at %" PRId64 " of flow %s cannot be put back: %s",
                          segs[i].tr.lo, a->flow_id, tams_strerror(results[i]));
            rc = TAMS_ERR_CONFLICT;
        }
    }
out:
    tams_free(results);
    tams_free(segs); /* the strings were the rows' */
    tams_db_done(&rows);
    return rc < 0 ? rc : 0;
}

struct ingest_rows {
    int n;
    int64_t v[8][3];
};

static int ingest_keep(struct tams_db *db, const char *flow_id, int64_t from, struct ingest_rows *k)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    k->n = 0;
    if ((rc = tams_db_query(db, &q_ingest_get, ARGS(TEXT(flow_id), INT(from)), &rows)))
        return rc;
    while ((rc = tams_db_next(&rows)) == 1 && k->n < 8) {
        for (int c = 0; c < 3; c++)
            k->v[k->n][c] = tams_db_col_int(&rows, c);
        k->n++;
    }
    tams_db_done(&rows);
    return rc < 0 ? rc : 0;
}

static int ingest_put_back(struct tams_db *db, const char *flow_id, int64_t from,
                           const struct ingest_rows *k)
{
    int rc = tams_db_exec(db, &q_ingest_cut, ARGS(TEXT(flow_id), INT(from)), NULL);

    for (int i = 0; rc == 0 && i < k->n; i++)
        rc = tams_db_exec(db, &q_ingest_put,
                          ARGS(TEXT(flow_id), INT(k->v[i][0]), INT(k->v[i][1]), INT(k->v[i][2])),
                          NULL);
    return rc;
}

static int restore_body(struct tams_db *db, void *arg)
{
    struct entry_args *a = arg;
    struct ingest_rows ingest;
    char now[TAMS_RFC3339_MAX];
    /* The minute before this one too: the database's clock may be a little behind ours. */
    int64_t from = tams_clock_wall_us() / 60000000 - 1;
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = entry_take(db, a)) || (rc = tams__flow_lock(db, a->flow_id)))
        return rc;
    if (a->is_flow && (rc = restore_flow(db, a, now)))
        return rc;
    if ((rc = ingest_keep(db, a->flow_id, from, &ingest)) || (rc = restore_segments(db, a)) ||
        (rc = ingest_put_back(db, a->flow_id, from, &ingest)))
        return rc;
    if (a->is_flow &&
        (rc = tams_db_exec(db, &q_put_seg_time, ARGS(TEXT(a->id), TEXT(a->flow_id)), NULL)))
        return rc;
    return tams__bin_forget(db, a->id);
}

int tams_store_bin_restore(struct tams_store *st, const char *id, struct tams_buf *why)
{
    struct entry_args a = {.id = id, .why = why, .why_len = why ? why->len : 0};
    int rc = tams_db_run(st, TAMS_DB_TX_WRITE, restore_body, entry_reset, &a);

    tams_free(a.flow_id);
    return rc;
}

static int purge_body(struct tams_db *db, void *arg)
{
    struct entry_args *a = arg;
    int rc = entry_take(db, a);

    return rc ? rc : tams__bin_forget(db, a->id);
}

int tams_store_bin_purge(struct tams_store *st, const char *id)
{
    struct entry_args a = {.id = id};
    int rc = tams_db_run(st, TAMS_DB_TX_WRITE, purge_body, entry_reset, &a);

    tams_free(a.flow_id);
    return rc;
}

struct expire_args {
    int limit;
    size_t n;
    bool any;
    char now[TAMS_RFC3339_MAX];
};

static int expire_any(struct tams_db *db, void *arg)
{
    struct expire_args *a = arg;
    int rc = tams_db_exists(db, &q_any_due, a->now);

    a->any = rc == 1;
    return rc < 0 ? rc : 0;
}

static void expire_reset(void *arg)
{
    ((struct expire_args *)arg)->n = 0;
}

static int expire_body(struct tams_db *db, void *arg)
{
    struct expire_args *a = arg;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    if ((rc = tams_db_query(db, &q_due, ARGS(TEXT(a->now), INT(a->limit)), &rows)) ||
        (rc = tams_db_keep(&rows)))
        goto out;
    while ((rc = tams_db_next(&rows)) == 1 &&
           (rc = tams__bin_forget(db, tams_db_col(&rows, 0))) == 0)
        a->n++;
out:
    tams_db_done(&rows);
    return rc < 0 ? rc : 0;
}

int tams_store_bin_expire(struct tams_store *st, int limit, size_t *n)
{
    struct expire_args a = {.limit = limit};
    int rc;

    *n = 0;
    tams_clock_now_rfc3339(a.now);
    if ((rc = tams_db_run(st, TAMS_DB_TX_NONE, expire_any, NULL, &a)) || !a.any)
        return rc;
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, expire_body, expire_reset, &a);
    *n = a.n;
    return rc;
}
