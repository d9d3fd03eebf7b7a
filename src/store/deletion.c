/* SPDX-License-Identifier: Apache-2.0 */
/* deletion.c - deleting segments and flows: small deletions at once, large ones as deletion
 * requests that a worker carries out batch by batch (notes §7). */
#include "core/common.h"
#include "core/log.h"
#include "core/random.h"
#include "store/store_int.h"

/* Segments of flow ?1 wholly inside [?2 .. ?4] whose lo is at most ?3 (a batch's end); the _OBJ
 * shapes only those of object ?5 (their extra parameter is then ?6, else ?5). Segments never
 * overlap, so hi grows with lo: the rows are one range of the primary key (or of
 * segments_object), plus at most one straddler at the end that `hi <= ?4` drops. */
#define SEL(head, tail)                                                                            \
    TAMS_SQL(head " FROM segments WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3 AND hi <= ?4" tail)
#define SEL_OBJ(head, tail)                                                                        \
    TAMS_SQL(head " FROM segments WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3 AND hi <= ?4"        \
                  " AND object_id = ?5" tail)

static struct tams_sql q_sel_nth = SEL("SELECT lo, start_incl", " ORDER BY lo LIMIT 1 OFFSET ?5");
static struct tams_sql q_sel_nth_obj =
    SEL_OBJ("SELECT lo, start_incl", " ORDER BY lo LIMIT 1 OFFSET ?6");
static struct tams_sql q_sel_count =
    TAMS_SQL("SELECT count(*) FROM (SELECT 1 FROM segments WHERE flow_id = ?1"
             " AND lo BETWEEN ?2 AND ?3 AND hi <= ?4 LIMIT ?5) x");
/* The references the selection holds: on its objects, and on their init objects (8.2). */
#define SEL_INIT(cond)                                                                             \
    " GROUP BY object_id UNION ALL SELECT init_object_id, count(*) FROM segments"                  \
    " WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3 AND hi <= ?4" cond                               \
    " AND init_object_id IS NOT NULL GROUP BY init_object_id"
static struct tams_sql q_sel_refs = SEL("SELECT object_id, count(*)", SEL_INIT(""));
static struct tams_sql q_sel_refs_obj =
    SEL_OBJ("SELECT object_id, count(*)", SEL_INIT(" AND object_id = ?5"));
static struct tams_sql q_sel_delete = SEL("DELETE", "");
static struct tams_sql q_sel_delete_obj = SEL_OBJ("DELETE", "");
static struct tams_sql q_ref_sub =
    TAMS_SQL("UPDATE object_refs SET count = count - ?3 WHERE object_id = ?1 AND flow_id = ?2"
             " AND count > ?3");
static struct tams_sql q_ref_delete =
    TAMS_SQL("DELETE FROM object_refs WHERE object_id = ?1 AND flow_id = ?2");
/* An object left with no reference is stamped: the collector's grace period starts. */
static struct tams_sql q_obj_unref =
    TAMS_SQL("UPDATE objects SET unreferenced_at = ?2 WHERE id = ?1"
             " AND NOT EXISTS (SELECT 1 FROM object_refs WHERE object_id = ?1)");
/* The same three steps for every object of a batch at once, over the network: one round trip
 * and one firing of the statement triggers of object_refs, where one per object cost ~4 ms a
 * segment (bench/soft_delete.py). ?2/?3: the objects and their counts; the statement's
 * snapshot still holds the rows it deletes, hence `flow_id <> ?1` in the last check. */
static struct tams_sql q_refs_drop_many = TAMS_SQL_PG(
    "WITH c AS (SELECT * FROM unnest(?2::text[], ?3::bigint[]) AS c(id, n)),"
    " sub AS (UPDATE object_refs r SET count = r.count - c.n FROM c"
    " WHERE r.object_id = c.id AND r.flow_id = ?1 AND r.count > c.n),"
    " gone AS (DELETE FROM object_refs r USING c WHERE r.object_id = c.id AND r.flow_id = ?1"
    " AND r.count <= c.n RETURNING r.object_id)"
    " UPDATE objects o SET unreferenced_at = ?4 FROM gone WHERE o.id = gone.object_id"
    " AND NOT EXISTS (SELECT 1 FROM object_refs x WHERE x.object_id = o.id AND x.flow_id <> ?1)");

#define DR_COLS                                                                                    \
    "id, flow_id, timerange_to_delete, timerange_remaining, delete_flow, status, created,"         \
    " created_by, updated, expiry, error"

static struct tams_sql q_dr_insert =
    TAMS_SQL("INSERT INTO deletion_requests(id, flow_id, sel_lo, sel_hi, timerange_to_delete,"
             " to_delete_hi, to_delete_hi_incl, timerange_remaining, delete_flow, status, created,"
             " created_by, updated, bin_id)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?5, ?8, 'created', ?9, ?10, ?9, ?11)");
static struct tams_sql q_dr_get = TAMS_SQL("SELECT " DR_COLS " FROM deletion_requests"
                                           " WHERE id = ?1 AND (expiry IS NULL OR expiry > ?2)");
static struct tams_sql q_dr_list = TAMS_SQL("SELECT " DR_COLS " FROM deletion_requests"
                                            " WHERE expiry IS NULL OR expiry > ?1"
                                            " ORDER BY created, id");
#define DR_NEXT                                                                                    \
    "SELECT id, flow_id, sel_lo, sel_hi, to_delete_hi, to_delete_hi_incl, delete_flow, bin_id"     \
    " FROM deletion_requests WHERE status IN ('created', 'started') ORDER BY created LIMIT 1"
/* SKIP LOCKED: another instance's worker on a request is left to it. */
static struct tams_sql q_dr_next = TAMS_SQL2(DR_NEXT, DR_NEXT " FOR UPDATE SKIP LOCKED");
static struct tams_sql q_dr_progress =
    TAMS_SQL("UPDATE deletion_requests SET status = 'started', timerange_remaining = ?2,"
             " updated = ?3 WHERE id = ?1");
static struct tams_sql q_dr_finish =
    TAMS_SQL("UPDATE deletion_requests SET status = ?2, timerange_remaining = ?3,"
             " updated = ?4, expiry = ?5, error = ?6 WHERE id = ?1");
static struct tams_sql q_dr_purge = TAMS_SQL("DELETE FROM deletion_requests WHERE expiry <= ?1");
/* Whether a step would find anything: an idle worker makes no write (which would move the
 * read caches' generation, and on PostgreSQL notify every instance). */
static struct tams_sql q_dr_any =
    TAMS_SQL("SELECT 1 FROM deletion_requests WHERE status IN ('created', 'started')"
             " OR expiry <= ?1 LIMIT 1");

/* ---- selections -------------------------------------------------------------------------- */

static void sel_params(struct tams_db_params *p, const struct tams__del_sel *sel, int64_t upto)
{
    p->n = 0;
    tams_db_text(p, sel->flow_id);
    tams_db_int(p, sel->lo);
    tams_db_int(p, upto);
    tams_db_int(p, sel->hi);
    if (sel->object_id)
        tams_db_text(p, sel->object_id);
}

/* The (n+1)-th selected segment in time order: 1 (lo, start clusivity), 0 none, <0 error. */
static int sel_nth(struct tams_db *db, const struct tams__del_sel *sel, int64_t n, int64_t *lo,
                   bool *incl)
{
    struct tams_db_params p;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    sel_params(&p, sel, sel->hi);
    tams_db_int(&p, n);
    rc = tams_db_one(db, sel->object_id ? &q_sel_nth_obj : &q_sel_nth, p.v, p.n, &rows);
    if (rc == 1) {
        *lo = tams_db_col_int(&rows, 0);
        *incl = tams_db_col_bool(&rows, 1);
        tams_db_done(&rows);
    }
    return rc;
}

/* How many segments the selection (never of one object) holds, counting no further than max
 * (index only). */
static int sel_count(struct tams_db *db, const struct tams__del_sel *sel, int64_t max, int64_t *n)
{
    struct tams_db_params p;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    tams_assert(!sel->object_id);
    sel_params(&p, sel, sel->hi);
    tams_db_int(&p, max);
    rc = tams_db_one(db, &q_sel_count, p.v, p.n, &rows);
    if (rc == 1) {
        *n = tams_db_col_int(&rows, 0);
        tams_db_done(&rows);
    }
    return rc < 0 ? rc : 0;
}

/* `count` fewer segments of flow_id use object_id. */
static int ref_drop(struct tams_db *db, const char *object_id, const char *flow_id, int64_t count,
                    const char *now)
{
    int64_t changed = 0;
    int rc;

    if ((rc = tams_db_exec(db, &q_ref_sub, ARGS(TEXT(object_id), TEXT(flow_id), INT(count)),
                           &changed)))
        return rc;
    if (changed)
        return 0; /* this flow still uses it */
    if ((rc = tams_db_exec(db, &q_ref_delete, ARGS(TEXT(object_id), TEXT(flow_id)), NULL)))
        return rc;
    return tams_db_exec(db, &q_obj_unref, ARGS(TEXT(object_id), TEXT(now)), NULL);
}

/* ref_drop for every (object, count) row of refs, in one statement. */
static int refs_drop_many(struct tams_db *db, struct tams_db_rows *refs, const char *flow_id,
                          const char *now)
{
    struct tams_buf ids = TAMS_BUF_INIT(SIZE_MAX), counts = TAMS_BUF_INIT(SIZE_MAX);
    size_t m = 0;
    int rc;

    while ((rc = tams_db_next(refs)) == 1) {
        tams_db_list_text(db->st, &ids, tams_db_col(refs, 0));
        tams_db_list_int(db->st, &counts, true, tams_db_col_int(refs, 1));
        m++;
    }
    if (rc == 0 && m) {
        tams_db_list_end(db->st, &ids);
        tams_db_list_end(db->st, &counts);
        rc = tams_db_exec(db, &q_refs_drop_many,
                          ARGS(TEXT(flow_id), TEXT(ids.data), TEXT(counts.data), TEXT(now)), NULL);
    }
    tams_buf_release(&ids);
    tams_buf_release(&counts);
    return rc;
}

/* Delete the first `max` selected segments in time order (max <= 0: all of them) and lower
 * the reference counts of their objects. Three statements whatever the count: find the
 * batch's last lo, count per object, delete the range. With emit, flows/segments_deleted.
 * With bin_id, the segments are copied into that bin entry first (soft delete). */
static int sel_delete(struct tams_db *db, const struct tams__del_sel *sel, int64_t max,
                      const char *now, int64_t *deleted, bool emit, const char *bin_id)
{
    struct tams_db_params p;
    struct tams_db_rows refs = TAMS_DB_ROWS_INIT;
    int64_t upto = sel->hi;
    bool incl;
    int rc;

    *deleted = 0;
    if (max > 0) {
        rc = sel_nth(db, sel, max - 1, &upto, &incl);
        if (rc < 0)
            return rc;
        if (rc == 0)
            upto = sel->hi;
    }
    /* One event per run of removed segments, before they go. */
    if (emit && (rc = tams__ev_segments_deleted(db, sel, upto, now)))
        return rc;
    if (bin_id && (rc = tams__bin_keep_segments(db, bin_id, sel, upto)))
        return rc;
    sel_params(&p, sel, upto);
    /* The counts are kept: they are read after their segments are gone. */
    if ((rc = tams_db_query(db, sel->object_id ? &q_sel_refs_obj : &q_sel_refs, p.v, p.n, &refs)) ||
        (rc = tams_db_keep(&refs)))
        goto out;
    if ((rc = tams_db_exec(db, sel->object_id ? &q_sel_delete_obj : &q_sel_delete, p.v, p.n,
                           deleted)))
        goto out;
    if (tams_db_caps(db) & TAMS_DB_CAP_REMOTE)
        rc = refs_drop_many(db, &refs, sel->flow_id, now);
    else
        while ((rc = tams_db_next(&refs)) == 1 &&
               (rc = ref_drop(db, tams_db_col(&refs, 0), sel->flow_id, tams_db_col_int(&refs, 1),
                              now)) == 0)
            ;
out:
    tams_db_done(&refs);
    return rc;
}

/* ---- starting a deletion ----------------------------------------------------------------- */

struct start_args {
    const struct tams_delete_spec *spec;
    unsigned eff;
    char now[TAMS_RFC3339_MAX], id[TAMS_UUID_STRLEN + 1], text[TAMS_TIMERANGE_STRMAX];
    char bin[TAMS_UUID_STRLEN + 1]; /* the soft delete's bin entry, when retention is on */
};

static void start_reset(void *arg)
{
    ((struct start_args *)arg)->eff = 0;
}

/* The flow's timerange: from its first segment to its last; empty when it has none. */
static int flow_span(struct tams_db *db, const char *flow_id, struct tams_timerange *out)
{
    struct tams__seg_end first, last;
    int rc;

    tams_timerange_empty(out);
    if ((rc = tams__seg_first_after(db, flow_id, INT64_MIN, &first)) <= 0 ||
        (rc = tams__seg_last_from(db, flow_id, INT64_MAX, &last)) <= 0)
        return rc < 0 ? rc : 0;
    *out = (struct tams_timerange){first.lo, last.hi, first.start_incl, last.end_incl};
    return 0;
}

/* Records the request: a flow to delete shows its own timerange (notes §7.2) and is gone for
 * clients from then on (hidden, out of every collection); its segments, references, row and
 * source go with the request's last step. */
static int start_deferred(struct tams_db *db, struct start_args *a, const struct tams__del_sel *sel,
                          struct tams_timerange shown, const char *source_id)
{
    const struct tams_delete_spec *spec = a->spec;
    int rc;

    if (spec->delete_flow && (rc = flow_span(db, spec->flow_id, &shown)))
        return rc;
    tams_timerange_format(&shown, a->text);
    tams_uuid_v4(a->id);
    /* Soft delete: the entry is filled step by step, the flow's rows now, before it hides. */
    if (spec->retention > 0 &&
        ((rc = tams__bin_open(db, spec, source_id, a->text, true, a->now, a->bin)) ||
         (spec->delete_flow && (rc = tams__bin_keep_flow(db, a->bin, spec->flow_id, source_id)))))
        return rc;
    if ((rc = tams_db_exec(db, &q_dr_insert,
                           ARGS(TEXT(a->id), TEXT(spec->flow_id), INT(sel->lo), INT(sel->hi),
                                TEXT(a->text), INT(shown.hi), INT(shown.hi_incl),
                                INT(spec->delete_flow), TEXT(a->now), TEXT(spec->principal),
                                TEXT(spec->retention > 0 ? a->bin : NULL)),
                           NULL)))
        return rc;
    a->eff |= TAMS_EFFECT_DEFERRED;
    if (spec->delete_flow && (rc = tams__ev_flow_deleted(db, spec->flow_id, source_id, a->now)))
        return rc;
    return spec->delete_flow ? tams__flow_hide(db, spec->flow_id, a->now) : 0;
}

static int start_body(struct tams_db *db, void *arg)
{
    struct start_args *a = arg;
    const struct tams_delete_spec *spec = a->spec;
    struct tams__del_sel sel = {spec->flow_id, INT64_MIN, INT64_MAX, spec->object_id};
    struct tams__flow_state fs = {0};
    struct tams_timerange shown;
    int64_t n = 0;
    int rc;

    if (spec->timerange) {
        sel.lo = spec->timerange->lo;
        sel.hi = spec->timerange->hi;
        shown = *spec->timerange;
    } else {
        tams_timerange_eternity(&shown);
    }
    if ((rc = tams__flow_lock(db, spec->flow_id)) ||
        (rc = tams__flow_state_read(db, spec->flow_id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (fs.read_only) {
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    if (sel.lo > sel.hi && !spec->delete_flow)
        goto out; /* an empty range selects nothing */
    /* A deletion request cannot carry an object_id (notes §7.1): those run now, whatever the
     * size. Otherwise count no further than the limit, on the index. */
    if (!spec->object_id && (rc = sel_count(db, &sel, spec->sync_limit + 1, &n)))
        goto out;
    if (!spec->object_id && n > spec->sync_limit) {
        rc = start_deferred(db, a, &sel, shown, fs.source_id);
        goto out;
    }
    if (spec->retention > 0) {
        char text[TAMS_TIMERANGE_STRMAX];

        if (spec->delete_flow && (rc = flow_span(db, spec->flow_id, &shown)))
            goto out;
        tams_timerange_format(&shown, text);
        if ((rc = tams__bin_open(db, spec, fs.source_id, text, false, a->now, a->bin)) ||
            (spec->delete_flow &&
             (rc = tams__bin_keep_flow(db, a->bin, spec->flow_id, fs.source_id))))
            goto out;
    }
    if ((rc = sel_delete(db, &sel, 0, a->now, &n, !spec->delete_flow,
                         spec->retention > 0 ? a->bin : NULL)))
        goto out;
    /* A range that held nothing leaves no entry. */
    if (spec->retention > 0 && !spec->delete_flow && n == 0 && (rc = tams__bin_forget(db, a->bin)))
        goto out;
    if (spec->delete_flow)
        rc = tams__flow_remove(db, spec->flow_id, fs.source_id, a->now, &a->eff, true);
    else if (n)
        rc = tams__flow_touch_segments(db, spec->flow_id, a->now);
out:
    tams__flow_state_release(&fs);
    return rc;
}

int tams_store_delete_start(struct tams_store *st, const struct tams_delete_spec *spec,
                            unsigned *effects, tams_delete_request_cb cb, void *ctx)
{
    struct start_args a = {.spec = spec};
    struct tams_delete_request rec = {0};
    int rc;

    if (effects)
        *effects = 0;
    tams_clock_now_rfc3339(a.now);
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, start_body, start_reset, &a);
    if (rc == 0 && effects)
        *effects = a.eff;
    if (rc == 0 && (a.eff & TAMS_EFFECT_DEFERRED) && cb) {
        rec.id = a.id;
        rec.flow_id = spec->flow_id;
        rec.timerange_to_delete = a.text;
        rec.timerange_remaining = a.text;
        rec.delete_flow = spec->delete_flow;
        rec.status = "created";
        rec.created = a.now;
        rec.created_by = spec->principal;
        rec.updated = a.now;
        rc = cb(ctx, &rec);
    }
    return rc;
}

/* ---- reading requests -------------------------------------------------------------------- */

/* The requests of q (one with an id); NOTFOUND for none with an id. */
static int read_requests(struct tams_store *st, const char *id, const char *now,
                         tams_delete_request_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    int rc, n = 0, more = 0;

    if (id)
        rc = tams__fetch(st, &q_dr_get, NULL, ARGS(TEXT(id), TEXT(now)), &rows);
    else
        rc = tams__fetch(st, &q_dr_list, NULL, ARGS(TEXT(now)), &rows);
    while (rc == 0 && (more = tams_db_next(&rows)) == 1) {
        struct tams_delete_request d = {
            .id = tams_db_col(&rows, 0),
            .flow_id = tams_db_col(&rows, 1),
            .timerange_to_delete = tams_db_col(&rows, 2),
            .timerange_remaining = tams_db_col(&rows, 3),
            .delete_flow = tams_db_col_bool(&rows, 4),
            .status = tams_db_col(&rows, 5),
            .created = tams_db_col(&rows, 6),
            .created_by = tams_db_col(&rows, 7),
            .updated = tams_db_col(&rows, 8),
            .expiry = tams_db_col(&rows, 9),
            .error = tams_db_col(&rows, 10),
        };
        n++;
        rc = cb(ctx, &d);
    }
    if (rc == 0 && more < 0)
        rc = more;
    if (rc == 0 && id && n == 0)
        rc = TAMS_ERR_NOTFOUND;
    tams_db_done(&rows);
    return rc;
}

int tams_store_delete_requests_list(struct tams_store *st, const char *now,
                                    tams_delete_request_cb cb, void *ctx)
{
    return read_requests(st, NULL, now, cb, ctx);
}

int tams_store_delete_request_get(struct tams_store *st, const char *id, const char *now,
                                  tams_delete_request_cb cb, void *ctx)
{
    return read_requests(st, id, now, cb, ctx);
}

/* ---- carrying requests out --------------------------------------------------------------- */

/* The unfinished request a worker step works on. */
struct work {
    char *id, *flow_id, *bin_id; /* bin_id: the soft delete's entry, or NULL */
    int64_t sel_lo, sel_hi, hi;
    bool hi_incl, delete_flow;
};

static int dr_finish(struct tams_db *db, const char *id, const char *status, const char *now,
                     int64_t ttl, const char *error)
{
    char expiry[TAMS_RFC3339_MAX];

    tams__time_after(ttl, expiry);
    return tams_db_exec(
        db, &q_dr_finish,
        ARGS(TEXT(id), TEXT(status), TEXT("()"), TEXT(now), TEXT(expiry), TEXT(error)), NULL);
}

/* One batch of w. */
static int dr_step(struct tams_db *db, const struct work *w, int batch, int64_t ttl,
                   const char *now)
{
    struct tams__del_sel sel = {w->flow_id, w->sel_lo, w->sel_hi, NULL};
    struct tams__flow_state fs = {0};
    int64_t n, lo;
    bool incl;
    int rc;

    if ((rc = tams__flow_lock(db, w->flow_id)) ||
        (rc = sel_delete(db, &sel, batch > 0 ? batch : 1, now, &n, !w->delete_flow, w->bin_id)))
        return rc;
    if (n && !w->delete_flow && (rc = tams__flow_touch_segments(db, w->flow_id, now)))
        return rc;
    rc = sel_nth(db, &sel, 0, &lo, &incl);
    if (rc == 1) {
        struct tams_timerange left = {lo, w->hi, incl, w->hi_incl};
        char text[TAMS_TIMERANGE_STRMAX];

        if (w->hi == INT64_MAX)
            left.hi_incl = false;
        tams_timerange_format(&left, text);
        return tams_db_exec(db, &q_dr_progress, ARGS(TEXT(w->id), TEXT(text), TEXT(now)), NULL);
    }
    if (rc < 0)
        return rc;
    /* Nothing left: the flow goes too when asked, and the request is done. */
    if (w->delete_flow) {
        if ((rc = tams__flow_state_read(db, w->flow_id, &fs)) == 0 && fs.exists)
            rc = tams__flow_remove(db, w->flow_id, fs.source_id, now, NULL, false);
        tams__flow_state_release(&fs);
        if (rc)
            return rc;
    }
    if (w->bin_id && (rc = tams__bin_settle(db, w->bin_id)))
        return rc;
    return dr_finish(db, w->id, "done", now, ttl, NULL);
}

struct step_args {
    int batch;
    int64_t ttl;
    bool worked;
    struct work w;
    char now[TAMS_RFC3339_MAX];
    const char *error; /* the error step: mark request w.id failed with this error.json */
};

static void step_reset(void *arg)
{
    struct step_args *a = arg;

    tams_free(a->w.id);
    tams_free(a->w.flow_id);
    tams_free(a->w.bin_id);
    memset(&a->w, 0, sizeof(a->w));
    a->worked = false;
}

static int step_body(struct tams_db *db, void *arg)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct step_args *a = arg;
    int rc;

    if ((rc = tams_db_exec1(db, &q_dr_purge, a->now, NULL)))
        return rc;
    if ((rc = tams_db_one(db, &q_dr_next, NO_ARGS, &rows)) <= 0)
        return rc;
    a->w.id = tams_strdup(tams_db_col(&rows, 0));
    a->w.flow_id = tams_strdup(tams_db_col(&rows, 1));
    a->w.sel_lo = tams_db_col_int(&rows, 2);
    a->w.sel_hi = tams_db_col_int(&rows, 3);
    a->w.hi = tams_db_col_int(&rows, 4);
    a->w.hi_incl = tams_db_col_bool(&rows, 5);
    a->w.delete_flow = tams_db_col_bool(&rows, 6);
    a->w.bin_id = tams_db_col_null(&rows, 7) ? NULL : tams_strdup(tams_db_col(&rows, 7));
    tams_db_done(&rows);
    a->worked = true;
    return dr_step(db, &a->w, a->batch, a->ttl, a->now);
}

static int any_body(struct tams_db *db, void *arg)
{
    struct step_args *a = arg;
    int rc = tams_db_exists(db, &q_dr_any, a->now);

    a->worked = rc == 1;
    return rc < 0 ? rc : 0;
}

static int fail_body(struct tams_db *db, void *arg)
{
    struct step_args *a = arg;
    int rc;

    /* Its bin entry holds what went so far: no longer pending, so an admin can purge it. */
    if (a->w.bin_id && (rc = tams__bin_settle(db, a->w.bin_id)))
        return rc;
    return dr_finish(db, a->w.id, "error", a->now, a->ttl, a->error);
}

int tams_store_delete_requests_step(struct tams_store *st, int batch, int64_t ttl, bool *worked)
{
    struct step_args a = {.batch = batch, .ttl = ttl};
    int rc;

    tams_clock_now_rfc3339(a.now);
    *worked = false;
    if ((rc = tams_db_run(st, TAMS_DB_TX_NONE, any_body, NULL, &a)) || !a.worked)
        return rc;
    a.worked = false;
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, step_body, step_reset, &a);
    *worked = a.worked;
    if (rc == TAMS_ERR_STORE && a.w.id) {
        /* Not a passing state (busy is UNAVAILABLE and simply retried): the request ends in
         * error, with the error.json shape; the flow stays hidden. */
        char err[512];

        tams_log_error("deletion request %s failed", a.w.id);
        snprintf(err, sizeof(err),
                 "{\"type\":\"%s\",\"summary\":\"the metadata store failed while deleting flow "
                 "%s; see the server log\",\"time\":\"%s\"}",
                 tams_err_type(rc), a.w.flow_id, a.now);
        a.error = err;
        (void)tams_db_run(st, TAMS_DB_TX_WRITE, fail_body, NULL, &a);
    }
    step_reset(&a);
    return rc;
}
