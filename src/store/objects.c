/* SPDX-License-Identifier: Apache-2.0 */
/* objects.c - media objects: allocation for a flow (POST /flows/{id}/storage), what is known of
 * one (GET /objects/{id}: its flows, paged, and for 8.2 where its bytes are and what its first
 * segment says of it), and which of some ids were allocated but never registered (the
 * collector's question). */
#include "core/common.h"
#include "core/json.h"
#include "core/log.h"
#include "store/cursor.h"
#include "store/store_int.h"

/* An allocation's objects: one insert each in-process, all in one statement from two arrays
 * over the network. An id that exists already (or twice in the request) is skipped and then
 * refused, which rolls the allocation back. */
#define OBJ_INSERT                                                                                 \
    "INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow, created)"
static struct tams_sql q_obj_insert =
    TAMS_SQL(OBJ_INSERT " VALUES (?1, ?3, ?2, 1, ?4, ?5) ON CONFLICT(id) DO NOTHING");
static struct tams_sql q_obj_insert_many =
    TAMS_SQL_PG(OBJ_INSERT " SELECT u.id, ?3, u.key, 1, ?4, ?5"
                           " FROM unnest(?1::text[], ?2::text[]) AS u(id, key)"
                           " ON CONFLICT(id) DO NOTHING RETURNING id");
static struct tams_sql q_obj_first_ref =
    TAMS_SQL("SELECT o.first_referenced_by_flow, o.controlled, o.storage_id, o.key, o.timerange,"
             " o.is_init, o.init_object_id, io.controlled, io.storage_id, io.key, o.instances"
             " FROM objects o"
             " LEFT JOIN objects io ON io.id = o.init_object_id WHERE o.id = ?1");
/* The segment that speaks for an object: its first flow's earliest, else any (each one seek
 * of segments_object). */
#define OBJ_SEG                                                                                    \
    "SELECT lo, hi, start_incl, end_incl, ts_offset, object_timerange, key_frame_count, get_urls"  \
    " FROM segments WHERE object_id = ?1"
static struct tams_sql q_obj_first_seg =
    TAMS_SQL(OBJ_SEG " AND flow_id = ?2 ORDER BY flow_id, lo LIMIT 1");
static struct tams_sql q_obj_any_seg = TAMS_SQL(OBJ_SEG " ORDER BY flow_id, lo LIMIT 1");
static struct tams_sql q_obj_ref_flows =
    TAMS_SQL("SELECT r.flow_id FROM object_refs r JOIN flows f ON f.id = r.flow_id"
             " WHERE r.object_id = ?1 AND r.flow_id > ?2 AND f.deleting = 0"
             " ORDER BY r.flow_id LIMIT ?3");
static struct tams_sql q_obj_has_visible_refs =
    TAMS_SQL("SELECT 1 FROM object_refs r JOIN flows f ON f.id = r.flow_id"
             " WHERE r.object_id = ?1 AND f.deleting = 0 LIMIT 1");
/* The filter on controlled and first_referenced_by_flow is applied by the caller, not in the
 * WHERE: with it there PostgreSQL's planner sometimes chose a scan of the partial index on
 * never-registered objects over the primary key (209 ms a call where the key takes 0.1 ms). */
static struct tams_sql q_obj_unregistered =
    TAMS_SQL2("SELECT j.value, o.storage_id, o.key, o.allocated_for_flow,"
              " o.controlled <> 0 AND o.first_referenced_by_flow IS NULL"
              " FROM json_each(?1) j JOIN objects o ON o.id = j.value",
              "SELECT id, storage_id, key, allocated_for_flow,"
              " controlled <> 0 AND first_referenced_by_flow IS NULL"
              " FROM objects WHERE id = ANY(?1::text[])");

/* ---- objects ----------------------------------------------------------------------------- */

struct alloc_args {
    const char *flow_id, *storage_id;
    const struct tams_object_alloc *objs;
    size_t n;
    struct tams_buf *why;
    size_t why_len;
};

static void alloc_reset(void *arg)
{
    struct alloc_args *a = arg;

    tams__why_cut(a->why, a->why_len);
}

/* The first id of the request (in its order) that the insert did not take: inserted holds the
 * ids it took, sorted and unique (the primary key), each one answering for one occurrence. */
static const char *alloc_refused(const struct alloc_args *a, char *const *inserted, size_t n)
{
    bool *used = tams_calloc(n ? n : 1, sizeof(*used));
    const char *refused = NULL;

    for (size_t i = 0; i < a->n && !refused; i++) {
        char *const *hit =
            n ? bsearch(&a->objs[i].id, inserted, n, sizeof(*inserted), tams_cmp_cstr) : NULL;
        if (!hit || used[hit - inserted])
            refused = a->objs[i].id;
        else
            used[hit - inserted] = true;
    }
    tams_free(used);
    return refused;
}

/* In-process: the first object whose insert did nothing is the one refused. */
static int alloc_each(struct tams_db *db, struct alloc_args *a, const char *now,
                      const char **refused)
{
    int64_t added = 0;
    int rc = 0;

    for (size_t i = 0; i < a->n && rc == 0 && !*refused; i++) {
        rc = tams_db_exec(db, &q_obj_insert,
                          ARGS(TEXT(a->objs[i].id), TEXT(a->objs[i].key), TEXT(a->storage_id),
                               TEXT(a->flow_id), TEXT(now)),
                          &added);
        if (rc == 0 && !added)
            *refused = a->objs[i].id;
    }
    return rc;
}

/* Over the network: one statement; what it did not insert is found from what it did. */
static int alloc_many(struct tams_db *db, struct alloc_args *a, const char *now,
                      const char **refused)
{
    struct tams_buf ids = TAMS_BUF_INIT(SIZE_MAX), keys = TAMS_BUF_INIT(SIZE_MAX);
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams__strs inserted = {0};
    int rc;

    for (size_t i = 0; i < a->n; i++) {
        tams_db_list_text(db->st, &ids, a->objs[i].id);
        tams_db_list_text(db->st, &keys, a->objs[i].key);
    }
    tams_db_list_end(db->st, &ids);
    tams_db_list_end(db->st, &keys);
    rc = tams_db_query(
        db, &q_obj_insert_many,
        ARGS(TEXT(ids.data), TEXT(keys.data), TEXT(a->storage_id), TEXT(a->flow_id), TEXT(now)),
        &rows);
    if (rc == 0) {
        while ((rc = tams_db_next(&rows)) == 1)
            tams__strs_dup(&inserted, tams_db_col(&rows, 0));
    }
    if (rc == 0 && inserted.n != a->n) {
        if (inserted.n) /* none inserted: v is NULL, which qsort must not see */
            qsort(inserted.v, inserted.n, sizeof(*inserted.v), tams_cmp_cstr);
        *refused = alloc_refused(a, inserted.v, inserted.n);
        if (!*refused)
            rc = TAMS_ERR_STORE;
    }
    tams_db_done(&rows);
    tams__strs_release(&inserted);
    tams_buf_release(&ids);
    tams_buf_release(&keys);
    return rc;
}

static int alloc_body(struct tams_db *db, void *arg)
{
    struct alloc_args *a = arg;
    const char *refused = NULL;
    char now[TAMS_RFC3339_MAX];
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = tams__flow_lock(db, a->flow_id)) ||
        (rc = tams__media_flow_check(db, a->flow_id, "storage cannot be allocated for it", false,
                                     a->why)) ||
        !a->n)
        return rc;
    rc = tams_db_caps(db) & TAMS_DB_CAP_REMOTE ? alloc_many(db, a, now, &refused)
                                               : alloc_each(db, a, now, &refused);
    if (rc == 0 && refused) {
        tams__why_add(a->why, "object id '%s' already exists", refused);
        rc = TAMS_ERR_VALIDATION;
    }
    return rc;
}

int tams_store_objects_allocate(struct tams_store *st, const char *flow_id, const char *storage_id,
                                const struct tams_object_alloc *objs, size_t n,
                                struct tams_buf *why)
{
    struct alloc_args a = {flow_id, storage_id, objs, n, why, why ? why->len : 0};

    /* No cached document shows objects: a quiet write leaves every read cache alone. */
    return tams_db_run(st, TAMS_DB_TX_QUIET, alloc_body, alloc_reset, &a);
}

struct object_args {
    struct tams_store *st;
    const char *id, *after;
    const struct tams_tag_filter *tags;
    size_t ntags;
    int limit;
    char *first;
    struct tams__strs flows;
    bool more;
    /* The object's own members (tams_object_rec), owned. */
    bool controlled;
    char *storage_id, *key, *get_urls, *timerange;
    int64_t key_frame_count;
    bool is_init, init_controlled;
    char *init_id, *init_storage_id, *init_key;
    char *instances;
};

static void object_reset(void *arg)
{
    struct object_args *a = arg;

    tams_free(a->first);
    tams_free(a->storage_id);
    tams_free(a->key);
    tams_free(a->get_urls);
    tams_free(a->timerange);
    tams_free(a->init_id);
    tams_free(a->init_storage_id);
    tams_free(a->init_key);
    tams_free(a->instances);
    a->init_id = a->init_storage_id = a->init_key = a->instances = NULL;
    a->first = a->storage_id = a->key = a->get_urls = a->timerange = NULL;
    a->key_frame_count = -1;
    tams__strs_release(&a->flows);
    a->more = false;
}

static char *dup_col(const struct tams_db_rows *rows, int col)
{
    const char *v = tams_db_col(rows, col);
    return v ? tams_strdup(v) : NULL;
}

/* What the object's first segment says of it (object_args' own members). */
static int object_seg(struct tams_db *db, struct object_args *a)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams_timerange tr;
    char text[TAMS_TIMERANGE_STRMAX];
    int64_t tso;
    int rc =
        a->first ? tams_db_one(db, &q_obj_first_seg, ARGS(TEXT(a->id), TEXT(a->first)), &rows) : 0;

    if (rc == 0)
        rc = tams_db_one(db, &q_obj_any_seg, ARGS(TEXT(a->id)), &rows);
    if (rc <= 0)
        return rc;
    if (!tams_db_col_null(&rows, 6))
        a->key_frame_count = tams_db_col_int(&rows, 6);
    a->get_urls = dup_col(&rows, 7);
    if (!a->timerange)
        a->timerange = dup_col(&rows, 5);
    if (!a->timerange) { /* the whole object: the segment's timerange less ts_offset */
        tso = tams_db_col_null(&rows, 4) ? 0 : tams_db_col_int(&rows, 4);
        tr = (struct tams_timerange){tams_db_col_int(&rows, 0), tams_db_col_int(&rows, 1),
                                     tams_db_col_bool(&rows, 2), tams_db_col_bool(&rows, 3)};
        if (!__builtin_sub_overflow(tr.lo, tso, &tr.lo) &&
            !__builtin_sub_overflow(tr.hi, tso, &tr.hi)) {
            tams_timerange_format(&tr, text);
            a->timerange = tams_strdup(text);
        }
    }
    tams_db_done(&rows);
    return 0;
}

/* The flows referencing the object, one page, through the flow tag filters when given. */
static int object_flows(struct tams_db *db, struct object_args *a, struct tams_db_rows *rows)
{
    struct tams_buf sql = TAMS_BUF_INIT(SIZE_MAX);
    struct tams_db_params p = {.n = 0};
    int rc;

    if (!a->ntags)
        return tams_db_query(db, &q_obj_ref_flows,
                             ARGS(TEXT(a->id), TEXT(a->after), INT(a->limit + 1)), rows);
    tams_buf_addstr(&sql, "SELECT r.flow_id FROM object_refs r JOIN flows f ON f.id = r.flow_id"
                          " WHERE f.deleting = 0");
    tams__cond_text(&sql, &p, "r.object_id = ?%d", a->id);
    tams__cond_text(&sql, &p, "r.flow_id > ?%d", a->after);
    tams__tag_filters(a->st->drv->dialect, &sql, &p, "flow_tags", "flow_id", "f.id", a->tags,
                      a->ntags);
    tams_buf_addf(&sql, " ORDER BY r.flow_id LIMIT ?%d", p.n + 1);
    tams_db_int(&p, (int64_t)a->limit + 1);
    rc = tams_buf_ok(&sql) ? tams_db_query_sql(db, sql.data, &p, rows) : TAMS_ERR_STORE;
    tams_buf_release(&sql);
    return rc;
}

/* The object's first flow and a page of the flows using it. An object no segment ever
 * registered (allocated only) is NOTFOUND, and so is one no segment references any more,
 * whatever it was before: its row waits for the garbage collector (notes §6.5). */
static int object_body(struct tams_db *db, void *arg)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct object_args *a = arg;
    int rc;

    if ((rc = tams_db_one(db, &q_obj_first_ref, ARGS(TEXT(a->id)), &rows)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    a->first = dup_col(&rows, 0);
    a->controlled = tams_db_col_bool(&rows, 1);
    a->storage_id = dup_col(&rows, 2);
    a->key = dup_col(&rows, 3);
    a->timerange = dup_col(&rows, 4);
    a->is_init = tams_db_col_bool(&rows, 5);
    a->init_id = dup_col(&rows, 6);
    a->init_controlled = tams_db_col_bool(&rows, 7);
    a->init_storage_id = dup_col(&rows, 8);
    a->init_key = dup_col(&rows, 9);
    a->instances = dup_col(&rows, 10);
    tams_db_done(&rows);
    if ((rc = tams_db_exists(db, &q_obj_has_visible_refs, a->id)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    if ((!a->is_init && (rc = object_seg(db, a))) || (rc = object_flows(db, a, &rows)))
        return rc;
    while ((rc = tams_db_next(&rows)) == 1) {
        if ((int)a->flows.n == a->limit) {
            a->more = true;
            break;
        }
        tams__strs_dup(&a->flows, tams_db_col(&rows, 0));
    }
    tams_db_done(&rows);
    return rc < 0 ? rc : 0;
}

int tams_store_object_get(struct tams_store *st, const char *id, const struct tams_page *page,
                          tams_object_cb cb, void *ctx)
{
    return tams_store_object_get_tagged(st, id, NULL, 0, page, cb, ctx);
}

int tams_store_object_get_tagged(struct tams_store *st, const char *id,
                                 const struct tams_tag_filter *flow_tags, size_t nflow_tags,
                                 const struct tams_page *page, tams_object_cb cb, void *ctx)
{
    struct tams_buf after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_object_rec rec = {.id = id};
    struct object_args a = {.st = st,
                            .id = id,
                            .tags = flow_tags,
                            .ntags = nflow_tags,
                            .limit = tams__page_start(page),
                            .key_frame_count = -1};
    int rc;

    if ((rc = tams__page_after(page, "objflows", &after)))
        goto out;
    a.after = after.data; /* "" sorts before every id */
    if ((rc = tams_db_run(st, TAMS_DB_TX_READ, object_body, object_reset, &a)))
        goto out;
    if (a.more && a.flows.n && page && page->next_key &&
        (rc = tams_cursor_encode(page->next_key, "objflows", a.flows.v[a.flows.n - 1])))
        goto out;
    rec.referenced_by_flows = (const char *const *)a.flows.v;
    rec.nreferenced_by_flows = a.flows.n;
    rec.first_referenced_by_flow = a.first;
    rec.controlled = a.controlled;
    rec.storage_id = a.storage_id;
    rec.key = a.key;
    rec.get_urls = a.get_urls;
    rec.key_frame_count = a.key_frame_count;
    rec.timerange = a.timerange;
    rec.is_init = a.is_init;
    rec.init_object_id = a.init_id;
    rec.init_controlled = a.init_controlled;
    rec.init_storage_id = a.init_storage_id;
    rec.init_key = a.init_key;
    rec.instances = a.instances;
    rc = cb(ctx, &rec);
out:
    object_reset(&a);
    tams_buf_release(&after);
    return rc;
}

int tams_store_objects_unregistered(struct tams_store *st, const char *const *ids, size_t n,
                                    tams_unregistered_object_cb cb, void *ctx)
{
    struct tams_buf list = TAMS_BUF_INIT(SIZE_MAX);
    struct tams_db_rows rows;
    int rc;

    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        tams_db_list_text(st, &list, ids[i]);
    tams_db_list_end(st, &list);
    rc = tams__fetch(st, &q_obj_unregistered, NULL, ARGS(TEXT(list.data)), &rows);
    while (rc == 0 && tams_db_next(&rows) == 1) {
        struct tams_unregistered_object o = {tams_db_col(&rows, 0), tams_db_col(&rows, 1),
                                             tams_db_col(&rows, 2), tams_db_col(&rows, 3)};
        if (tams_db_col_bool(&rows, 4))
            rc = cb(ctx, &o);
    }
    tams_db_done(&rows);
    tams_buf_release(&list);
    return rc;
}
