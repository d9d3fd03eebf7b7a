/* SPDX-License-Identifier: Apache-2.0 */
/* segments.c - segments: registration (each segment checked against the flow's timeline and
 * its object) and keyset-paged listing. Objects (allocation, what is known of one) are
 * objects.c. */
#include "core/common.h"
#include "core/json.h"
#include "core/log.h"
#include "store/cursor.h"
#include "store/outbox.h"
#include "store/store_int.h"

/* The flow a media write goes to; with ?2 (a TAMS 7.0 registration) also whether its document
 * says init_segments, read from the row the lock just took (no second read, no parse in the
 * process; the expression of the flows_init_segments index). */
static struct tams_sql q_media_flow = TAMS_SQL2(
    "SELECT read_only, container IS NOT NULL, ?2 AND coalesce(json_extract(doc,"
    " '$.essence_parameters.init_segments'), 0) = 1 FROM flows WHERE id = ?1 AND deleting = 0",
    "SELECT read_only, container IS NOT NULL, ?2::int = 1 AND coalesce(doc::jsonb #>>"
    " '{essence_parameters,init_segments}', 'false') = 'true' FROM flows"
    " WHERE id = ?1 AND deleting = 0");

/* ---- registration, one statement per segment (an in-process database) --------------------- */

/* What the object is, with its backend and size for the analytics aggregates; then an object
 * allocated here is claimed. (Not one UPDATE ... RETURNING: SQLite's RETURNING costs several
 * times a seek.) */
static struct tams_sql q_obj_state =
    TAMS_SQL("SELECT allocated_for_flow, first_referenced_by_flow IS NOT NULL,"
             " coalesce(storage_id, ''), size FROM objects WHERE id = ?1");
static struct tams_sql q_obj_claim =
    TAMS_SQL("UPDATE objects SET first_referenced_by_flow = ?2, unreferenced_at = NULL"
             " WHERE id = ?1 AND first_referenced_by_flow IS NULL");
static struct tams_sql q_obj_claim_sized =
    TAMS_SQL("UPDATE objects SET first_referenced_by_flow = ?2, unreferenced_at = NULL, size = ?3"
             " WHERE id = ?1 AND first_referenced_by_flow IS NULL");
/* Bulk ingest of objects whose backend and size the caller knows: claimed in one seek. */
static struct tams_sql q_obj_claim_known =
    TAMS_SQL("UPDATE objects SET first_referenced_by_flow = ?2, unreferenced_at = NULL, size = ?3"
             " WHERE id = ?1 AND first_referenced_by_flow IS NULL AND allocated_for_flow = ?2");
static struct tams_sql q_obj_insert_uncontrolled =
    TAMS_SQL("INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,"
             " first_referenced_by_flow, created) VALUES (?1, NULL, '', 0, NULL, ?2, ?3)");
static struct tams_sql q_seg_insert =
    TAMS_SQL("INSERT INTO segments(flow_id, lo, hi, start_incl, end_incl, object_id, ts_offset,"
             " last_duration, sample_offset, sample_count, key_frame_count, get_urls,"
             " object_timerange, init_object_id)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
/* The object's timerange and init object, as the first registration that gave one said (8.2). */
static struct tams_sql q_obj_timerange =
    TAMS_SQL("UPDATE objects SET timerange = coalesce(timerange, ?2),"
             " init_object_id = coalesce(init_object_id, ?3) WHERE id = ?1");
static struct tams_sql q_ref_add =
    TAMS_SQL("INSERT INTO object_refs(object_id, flow_id, count) VALUES (?1, ?2, ?3)"
             " ON CONFLICT(object_id, flow_id) DO UPDATE SET count = count + excluded.count");
static struct tams_sql q_ref_exists =
    TAMS_SQL("SELECT 1 FROM object_refs WHERE object_id = ?1 AND flow_id = ?2");
static struct tams_sql q_obj_reref = TAMS_SQL(
    "UPDATE objects SET unreferenced_at = NULL WHERE id = ?1 AND unreferenced_at IS NOT NULL");

/* ---- registration in one statement (a database over the network) ------------------------- */

/* tams_segments_add (schema_pg.c, migration 15) runs the same checks as add_one below,
 * in request order, server-side, on the batch as a JSON array of rows (seg_row). One row per
 * item: r_code is an enum outcome. */
static struct tams_sql q_seg_add_many = TAMS_SQL_PG(
    "SELECT r_code, r_lo, r_hi, r_lo_incl, r_hi_incl FROM tams_segments_add(?1, ?2, ?3::json)");
/* What tams_segments_add does not know of (8.2's object_timerange, init_object_id), written
 * after it for the items it added that carry one: ?2 their starts, ?3, ?4 the members, ?5
 * the object_timerange when given (not derived from 7.0's pair), which the object keeps. */
static struct tams_sql q_seg_8x_many = TAMS_SQL_PG(
    "WITH s AS (UPDATE segments s SET object_timerange = u.otr, init_object_id = u.init"
    " FROM unnest(?2::bigint[], ?3::text[], ?4::text[], ?5::text[]) AS u(lo, otr, init, given)"
    " WHERE s.flow_id = ?1 AND s.lo = u.lo RETURNING s.object_id, u.given, s.init_object_id)"
    " UPDATE objects o SET timerange = coalesce(o.timerange, s.given),"
    " init_object_id = coalesce(o.init_object_id, s.init_object_id) FROM s"
    " WHERE o.id = s.object_id AND ((o.timerange IS NULL AND s.given IS NOT NULL)"
    " OR (o.init_object_id IS NULL AND s.init_object_id IS NOT NULL))");

/* ---- listing ------------------------------------------------------------------------------ */

/* A page of segments of flow ?1 in one order, objects joined for what get_urls are built from
 * (LEFT: a segment whose object row is missing still lists); nothing while the flow is being
 * deleted. Their lo lies in [lower, ?3], where lower is ?2, or the lo of the segment holding
 * instant ?4 when there is one (it starts before ?2 and overlaps the window), and at least ?5
 * (the page key). One statement, so one round trip and one snapshot: the hidden check and the
 * seek are evaluated once, and every shape is one range of the primary key (flow_id, lo) or of
 * segments_object, keyed (object_id, flow_id, lo) in both dialects. */
#define SEG_LIST(greatest, cast)                                                                   \
    "SELECT s.lo, s.hi, s.start_incl, s.end_incl, s.object_id, s.ts_offset, s.last_duration,"      \
    " s.sample_offset, s.sample_count, s.key_frame_count, s.get_urls, o.controlled,"               \
    " o.storage_id, o.key, o.instances, s.object_timerange, o.timerange,"                          \
    " coalesce(s.init_object_id, o.init_object_id), io.controlled,"                                \
    " io.storage_id, io.key FROM segments s LEFT JOIN objects o ON o.id = s.object_id"             \
    " LEFT JOIN objects io ON io.id = coalesce(s.init_object_id, o.init_object_id)"                \
    " WHERE s.flow_id = ?1"                                                                        \
    " AND NOT EXISTS (SELECT 1 FROM flows WHERE id = ?1 AND deleting = 1)"                         \
    " AND s.lo BETWEEN " greatest "(COALESCE((SELECT CASE WHEN hi >= ?4" cast " THEN lo END"       \
    " FROM segments WHERE flow_id = ?1 AND lo <= ?4" cast " ORDER BY lo DESC LIMIT 1), ?2" cast    \
    "), ?5" cast ") AND ?3" cast
#define SEG_LIST_SQLITE SEG_LIST("max", "")
#define SEG_LIST_PG SEG_LIST("GREATEST", "::bigint")
#define SEG_LIST_SQL(tail) TAMS_SQL2(SEG_LIST_SQLITE tail, SEG_LIST_PG tail)

static struct tams_sql q_list = SEG_LIST_SQL(" ORDER BY s.lo LIMIT ?6");
static struct tams_sql q_list_rev = SEG_LIST_SQL(" ORDER BY s.lo DESC LIMIT ?6");
static struct tams_sql q_list_obj = SEG_LIST_SQL(" AND s.object_id = ?7 ORDER BY s.lo LIMIT ?6");
static struct tams_sql q_list_obj_rev =
    SEG_LIST_SQL(" AND s.object_id = ?7 ORDER BY s.lo DESC LIMIT ?6");

/* The flow a media write goes to (segments, storage): it must exist (NOTFOUND), be writable
 * (READONLY) and have a container (VALIDATION, notes §11.14). */
int tams__media_flow_check(struct tams_db *db, const char *flow_id, const char *what,
                           bool refuse_init, struct tams_buf *why)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    bool read_only, container, init;
    int rc = tams_db_one(db, &q_media_flow, ARGS(TEXT(flow_id), INT(refuse_init)), &rows);

    if (rc <= 0) {
        if (rc == 0)
            tams__why_add(why, "flow %s does not exist", flow_id);
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    }
    read_only = tams_db_col_bool(&rows, 0);
    container = tams_db_col_bool(&rows, 1);
    init = tams_db_col_bool(&rows, 2);
    tams_db_done(&rows);
    if (read_only) {
        tams__why_add(why, "flow %s is read-only", flow_id);
        return TAMS_ERR_READONLY;
    }
    if (!container) {
        tams__why_add(why, "flow %s has no container: %s", flow_id, what);
        return TAMS_ERR_VALIDATION;
    }
    /* 7.0 cannot name init objects: its segments would be stored unplayable (R4). */
    if (init) {
        tams__why_add(why,
                      "flow '%s' has init_segments: its segments need init_object_id; register"
                      " them through /tams/v8.2",
                      flow_id);
        return TAMS_ERR_VALIDATION;
    }
    return 0;
}

/* ---- registration ------------------------------------------------------------------------ */

/* What became of one segment of a registration (also tams_segments_add's r_code). */
enum outcome {
    ADDED = 0,
    OVERLAPS = 1,        /* a stored segment (or an earlier one of the batch) is in the way */
    ALLOCATED_OTHER = 2, /* object allocated for another flow and never registered */
    UNKNOWN_NO_URLS = 3, /* unknown object without get_urls */
    NOT_A_SEGMENT = 4,   /* no object_id, or a timerange that is not bounded and non-empty */
};

/* The segment's result, with its reason in why (may be NULL). */
static int outcome_result(enum outcome o, const struct tams__seg_end *other, const char *flow_id,
                          const struct tams_segment *seg, struct tams_buf *why)
{
    char x[TAMS_TIMERANGE_STRMAX], y[TAMS_TIMERANGE_STRMAX];
    struct tams_timerange tr;

    switch (o) {
    case ADDED:
        return 0;
    case OVERLAPS:
        tr = (struct tams_timerange){other->lo, other->hi, other->start_incl, other->end_incl};
        tams_timerange_format(&seg->tr, x);
        tams_timerange_format(&tr, y);
        tams__why_add(why, "segment %s overlaps segment %s of flow %s", x, y, flow_id);
        break;
    case ALLOCATED_OTHER:
        tams__why_add(why,
                      "object '%s' was allocated for another flow and has not been registered yet",
                      seg->object_id);
        break;
    case UNKNOWN_NO_URLS:
        tams__why_add(why,
                      "object '%s' is unknown: allocate it with POST /flows/{id}/storage or give"
                      " get_urls",
                      seg->object_id);
        break;
    case NOT_A_SEGMENT:
        tams__why_add(why, "a segment needs an object_id and a bounded, non-empty timerange");
        break;
    }
    return TAMS_ERR_VALIDATION;
}

static bool is_segment(const struct tams_segment *seg)
{
    return seg->object_id && seg->object_id[0] && tams_timerange_is_bounded(&seg->tr);
}

struct add_args {
    const char *flow_id;
    bool v70; /* a TAMS 7.0 registration: refused on a flow with init_segments */
    const struct tams_segment *segs;
    size_t n;
    int *results;
    struct tams_buf *whys;
    size_t *why_lens;
};

static void add_reset(void *arg)
{
    struct add_args *a = arg;

    for (size_t i = 0; i < a->n; i++) {
        a->results[i] = 0;
        if (a->whys)
            tams__why_cut(&a->whys[i], a->why_lens[i]);
    }
}

/* What a registration may do with its object (notes §6.3). */
enum obj_state {
    OBJ_UNKNOWN,         /* no row: external, acceptable only with get_urls */
    OBJ_REGISTERED,      /* some segment registered it once: reuse by any flow */
    OBJ_ALLOCATED_HERE,  /* allocated for this flow, first registration now */
    OBJ_ALLOCATED_OTHER, /* allocated for another flow and never registered: refused */
};

/* State of one registration, item by item. Strings point into the caller's segments. */
struct batch {
    struct tams_db *db;
    const char *flow_id;
    const char *now;
    const char *obj_id; /* object of the last lookup, and what it is by now */
    enum obj_state obj;
    bool obj_claimed;   /* obj_id was just registered for the first time by this batch */
    const char *ref_id; /* object whose reference count rise is still to be written */
    int64_t ref_count;
    bool ref_claimed; /* ref_id was claimed here: it cannot be waiting for the collector */
    /* The backend ('' for none) and size (-1: unknown) of obj_id, and of ref_id; owned. */
    char *obj_storage, *ref_storage;
    int64_t obj_size, ref_size;
    struct tams__seg_stats stats;
    /* The end of the flow's last segment (the batch's included; INT64_MIN: none), so a segment
     * after it, the common case of ingest appending, needs no overlap seek. */
    bool tail_known;
    int64_t tail_hi;
};

/* The backend and size of the object just read, from columns col and col + 1. */
static void obj_where(struct batch *b, const struct tams_db_rows *rows, int col)
{
    const char *sid = tams_db_col(rows, col);

    tams_free(b->obj_storage);
    b->obj_storage = tams_strdup(sid ? sid : "");
    b->obj_size = tams_db_col_null(rows, col + 1) ? -1 : tams_db_col_int(rows, col + 1);
}

static int object_state(struct batch *b, const char *id)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(b->db, &q_obj_state, ARGS(TEXT(id)), &rows);
    const char *alloc;

    if (rc <= 0) {
        b->obj = OBJ_UNKNOWN;
        return rc;
    }
    alloc = tams_db_col(&rows, 0);
    obj_where(b, &rows, 2);
    if (tams_db_col_bool(&rows, 1))
        b->obj = OBJ_REGISTERED;
    else if (alloc && strcmp(alloc, b->flow_id) != 0)
        b->obj = OBJ_ALLOCATED_OTHER;
    else
        b->obj = OBJ_ALLOCATED_HERE;
    tams_db_done(&rows);
    return 0;
}

/* Writes the pending reference count rise: consecutive segments of one object (a long object
 * cut into many segments) cost one upsert. */
static int flush_ref(struct batch *b)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int64_t count = b->ref_count;
    bool fresh;
    int rc;

    if (count == 0)
        return 0;
    b->ref_count = 0;
    /* An object this batch registered first is new to the flow; another may be known to it. */
    fresh = b->ref_claimed;
    if (!fresh) {
        if ((rc = tams_db_one(b->db, &q_ref_exists, ARGS(TEXT(b->ref_id), TEXT(b->flow_id)),
                              &rows)) < 0)
            return rc;
        tams_db_done(&rows);
        fresh = rc == 0;
    }
    if ((rc = tams_db_exec(b->db, &q_ref_add, ARGS(TEXT(b->ref_id), TEXT(b->flow_id), INT(count)),
                           NULL)))
        return rc;
    tams__seg_stats_run(&b->stats, b->ref_storage, count, b->ref_size, fresh);
    /* Referenced again: no longer the collector's (a freshly claimed object never was). */
    return b->ref_claimed ? 0 : tams_db_exec1(b->db, &q_obj_reref, b->ref_id, NULL);
}

/* The object of seg may be referenced by this flow: claimed, recorded or looked at. */
static int add_object(struct batch *b, const struct tams_segment *seg, enum outcome *o)
{
    const struct tams_db_param v[] = {TEXT(seg->object_id), TEXT(b->flow_id), TEXT(b->now)};
    int rc = 0;

    *o = ADDED;
    if (!b->obj_id || strcmp(b->obj_id, seg->object_id) != 0) {
        int64_t claimed = 0;

        b->obj_claimed = false;
        if (seg->has & TAMS_SEG_OBJECT_SIZE && seg->object_storage &&
            (rc = tams_db_exec(b->db, &q_obj_claim_known,
                               ARGS(TEXT(seg->object_id), TEXT(b->flow_id), INT(seg->object_size)),
                               &claimed)))
            return rc;
        if (claimed == 1) {
            b->obj_claimed = true;
            b->obj = OBJ_REGISTERED;
            tams_free(b->obj_storage);
            b->obj_storage = tams_strdup(seg->object_storage);
            b->obj_size = seg->object_size;
        } else if ((rc = object_state(b, seg->object_id))) {
            return rc;
        }
        b->obj_id = seg->object_id;
    }
    switch (b->obj) {
    case OBJ_ALLOCATED_OTHER:
        *o = ALLOCATED_OTHER;
        return 0;
    case OBJ_UNKNOWN:
        if (!seg->get_urls) {
            *o = UNKNOWN_NO_URLS;
            return 0;
        }
        rc = tams_db_exec(b->db, &q_obj_insert_uncontrolled, v, 3, NULL);
        tams_free(b->obj_storage);
        b->obj_storage = tams_strdup("");
        b->obj_size = -1;
        b->obj_claimed = true;
        break;
    case OBJ_ALLOCATED_HERE:
        if (seg->has & TAMS_SEG_OBJECT_SIZE) {
            rc = tams_db_exec(b->db, &q_obj_claim_sized,
                              ARGS(TEXT(seg->object_id), TEXT(b->flow_id), INT(seg->object_size)),
                              NULL);
            b->obj_size = seg->object_size;
        } else {
            rc = tams_db_exec(b->db, &q_obj_claim, v, 2, NULL);
        }
        b->obj_claimed = true;
        break;
    case OBJ_REGISTERED:
        break;
    }
    b->obj = OBJ_REGISTERED;
    return rc;
}

/* Checks and stores one segment; *o says what became of it (nothing of it is written unless
 * ADDED). Returns 0 or a failure that ends the whole batch. */
static int add_one(struct batch *b, const struct tams_segment *seg, enum outcome *o,
                   struct tams__seg_end *prev)
{
    unsigned has = seg->has;
    const char *otr;
    bool before_end, has_prev;
    int64_t prev_hi;
    int rc;

    *o = NOT_A_SEGMENT;
    if (!is_segment(seg))
        return 0;
    /* Stored segments never overlap, so hi grows with lo: of those starting at or before this
     * one's end, only the last can reach its start. One seek; earlier items of the batch are in
     * the table already, so this covers them too. A segment after the flow's last needs none. */
    if (!b->tail_known) {
        if ((rc = tams__seg_last_from(b->db, b->flow_id, INT64_MAX, prev)) < 0)
            return rc;
        b->tail_known = true;
        b->tail_hi = rc == 1 ? prev->hi : INT64_MIN;
    }
    before_end = seg->tr.lo <= b->tail_hi; /* a bounded start is never INT64_MIN */
    rc = before_end ? tams__seg_last_from(b->db, b->flow_id, seg->tr.hi, prev) : 0;
    if (rc < 0)
        return rc;
    if (rc == 1 && prev->hi >= seg->tr.lo) {
        *o = OVERLAPS;
        return 0;
    }
    has_prev = rc == 1;
    prev_hi = has_prev ? prev->hi : 0;
    if ((rc = add_object(b, seg, o)) || *o != ADDED)
        return rc;

    if ((rc = tams_db_exec(b->db, &q_seg_insert,
                           ARGS(TEXT(b->flow_id), INT(seg->tr.lo), INT(seg->tr.hi),
                                INT(seg->tr.lo_incl), INT(seg->tr.hi_incl), TEXT(seg->object_id),
                                INT_OR_NULL(has & TAMS_SEG_TS_OFFSET, seg->ts_offset),
                                INT_OR_NULL(has & TAMS_SEG_LAST_DURATION, seg->last_duration),
                                INT_OR_NULL(has & TAMS_SEG_SAMPLE_OFFSET, seg->sample_offset),
                                INT_OR_NULL(has & TAMS_SEG_SAMPLE_COUNT, seg->sample_count),
                                INT_OR_NULL(has & TAMS_SEG_KEY_FRAME_COUNT, seg->key_frame_count),
                                TEXT(seg->get_urls), TEXT(seg->object_timerange),
                                TEXT(seg->init_object_id)),
                           NULL)))
        return rc;
    /* A timerange derived from 7.0's sample pair says the samples used: not the object's. */
    otr = has & TAMS_SEG_OTR_DERIVED ? NULL : seg->object_timerange;
    if ((otr || seg->init_object_id) &&
        (rc = tams_db_exec(b->db, &q_obj_timerange,
                           ARGS(TEXT(seg->object_id), TEXT(otr), TEXT(seg->init_object_id)), NULL)))
        return rc;
    if ((rc = before_end ? tams__seg_gaps_insert(b->db, b->flow_id, seg, has_prev, prev_hi)
                         : tams__seg_gap_append(b->db, b->flow_id, b->tail_hi, seg)))
        return rc;

    if (b->ref_count && strcmp(b->ref_id, seg->object_id) != 0 && (rc = flush_ref(b)))
        return rc;
    if (!b->ref_count) {
        b->ref_claimed = b->obj_claimed;
        tams_free(b->ref_storage);
        b->ref_storage = tams_strdup(b->obj_storage ? b->obj_storage : "");
        b->ref_size = b->obj_size;
    }
    b->ref_id = seg->object_id;
    b->ref_count++;
    if (seg->tr.hi > b->tail_hi)
        b->tail_hi = seg->tr.hi;
    tams__seg_stats_segment(&b->stats, seg);
    return 0;
}

/* In-process: one cheap statement after another, with shortcuts for appending ingest. */
static int add_each(struct tams_db *db, struct add_args *a, const char *now, size_t *added)
{
    struct batch b = {.db = db, .flow_id = a->flow_id, .now = now, .obj = OBJ_UNKNOWN};
    int rc = 0;

    for (size_t i = 0; i < a->n && rc == 0; i++) {
        struct tams__seg_end other;
        enum outcome o;

        if (a->results[i]) /* refused before: tams__init_check */
            continue;
        if ((rc = add_one(&b, &a->segs[i], &o, &other)) == 0)
            a->results[i] =
                outcome_result(o, &other, a->flow_id, &a->segs[i], a->whys ? &a->whys[i] : NULL);
        *added += rc == 0 && o == ADDED;
    }
    if (rc == 0 && (rc = flush_ref(&b)) == 0)
        rc = tams__seg_stats_write(db, a->flow_id, &b.stats);
    tams__seg_stats_release(&b.stats);
    tams_free(b.obj_storage);
    tams_free(b.ref_storage);
    return rc;
}

/* One item as a row of segments for tams_segments_add: a member per column, named as the
 * column (json_populate_recordset); a member left out is NULL, flow_id comes from the call.
 * A column segments gains is one line here. */
static void seg_row(struct tams_json *j, const struct tams_segment *g)
{
    tams_json_obj_open(j);
    tams_json_kint(j, "lo", g->tr.lo);
    tams_json_kint(j, "hi", g->tr.hi);
    tams_json_kint(j, "start_incl", g->tr.lo_incl);
    tams_json_kint(j, "end_incl", g->tr.hi_incl);
    tams_json_kstr(j, "object_id", g->object_id);
    if (g->has & TAMS_SEG_TS_OFFSET)
        tams_json_kint(j, "ts_offset", g->ts_offset);
    if (g->has & TAMS_SEG_LAST_DURATION)
        tams_json_kint(j, "last_duration", g->last_duration);
    if (g->has & TAMS_SEG_SAMPLE_OFFSET)
        tams_json_kint(j, "sample_offset", g->sample_offset);
    if (g->has & TAMS_SEG_SAMPLE_COUNT)
        tams_json_kint(j, "sample_count", g->sample_count);
    if (g->has & TAMS_SEG_KEY_FRAME_COUNT)
        tams_json_kint(j, "key_frame_count", g->key_frame_count);
    if (g->get_urls)
        tams_json_kstr(j, "get_urls", g->get_urls);
    /* Not a column: the size the caller learnt, for the object's row. */
    if (g->has & TAMS_SEG_OBJECT_SIZE && g->object_id)
        tams_json_kint(j, "object_size", g->object_size);
    tams_json_obj_close(j);
}

/* The 8.2 members of the items added, in one more statement when any carries one. */
static int add_8x_many(struct tams_db *db, const struct add_args *a)
{
    struct tams_buf los = TAMS_BUF_INIT(SIZE_MAX), otrs = TAMS_BUF_INIT(SIZE_MAX),
                    inits = TAMS_BUF_INIT(SIZE_MAX), given = TAMS_BUF_INIT(SIZE_MAX);
    size_t m = 0;
    int rc = 0;

    for (size_t i = 0; i < a->n; i++)
        if (!a->results[i] && (a->segs[i].object_timerange || a->segs[i].init_object_id)) {
            tams_db_list_int(db->st, &los, true, a->segs[i].tr.lo);
            tams_db_list_text(db->st, &otrs, a->segs[i].object_timerange);
            tams_db_list_text(db->st, &inits, a->segs[i].init_object_id);
            tams_db_list_text(db->st, &given,
                              a->segs[i].has & TAMS_SEG_OTR_DERIVED ? NULL
                                                                    : a->segs[i].object_timerange);
            m++;
        }
    if (m) {
        tams_db_list_end(db->st, &los);
        tams_db_list_end(db->st, &otrs);
        tams_db_list_end(db->st, &inits);
        tams_db_list_end(db->st, &given);
        rc = tams_db_exec(db, &q_seg_8x_many,
                          ARGS(TEXT(a->flow_id), TEXT(los.data), TEXT(otrs.data), TEXT(inits.data),
                               TEXT(given.data)),
                          NULL);
    }
    tams_buf_release(&los);
    tams_buf_release(&otrs);
    tams_buf_release(&inits);
    tams_buf_release(&given);
    return rc;
}

/* Over the network: the items go as one JSON array to tams_segments_add, one statement
 * whatever the request's size. */
static int add_many(struct tams_db *db, struct add_args *a, const char *now, size_t *added)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams_buf body = TAMS_BUF_INIT(SIZE_MAX);
    struct tams_json j;
    size_t *sent = tams_calloc(a->n ? a->n : 1, sizeof(*sent)), nsent = 0;
    int rc = 0;

    tams_json_init(&j, &body);
    tams_json_arr_open(&j);
    for (size_t i = 0; i < a->n; i++) {
        const struct tams_segment *g = &a->segs[i];

        if (a->results[i]) /* refused before: tams__init_check */
            continue;
        if (!is_segment(g)) {
            a->results[i] =
                outcome_result(NOT_A_SEGMENT, NULL, a->flow_id, g, a->whys ? &a->whys[i] : NULL);
            continue;
        }
        seg_row(&j, g);
        sent[nsent++] = i;
    }
    tams_json_arr_close(&j);
    if (!nsent)
        goto out;
    if ((rc = tams_db_query(db, &q_seg_add_many, ARGS(TEXT(a->flow_id), TEXT(now), TEXT(body.data)),
                            &rows)))
        goto out;
    for (size_t k = 0; k < nsent; k++) {
        const struct tams_segment *g = &a->segs[sent[k]];
        struct tams__seg_end other = {0};

        if ((rc = tams_db_next(&rows)) != 1) {
            tams_log_error("store: tams_segments_add answered %zu rows for %zu segments", k, nsent);
            rc = rc < 0 ? rc : TAMS_ERR_STORE;
            goto out;
        }
        if (!tams_db_col_null(&rows, 1)) {
            other.lo = tams_db_col_int(&rows, 1);
            other.hi = tams_db_col_int(&rows, 2);
            other.start_incl = tams_db_col_bool(&rows, 3);
            other.end_incl = tams_db_col_bool(&rows, 4);
        }
        a->results[sent[k]] = outcome_result((enum outcome)tams_db_col_int(&rows, 0), &other,
                                             a->flow_id, g, a->whys ? &a->whys[sent[k]] : NULL);
        *added += a->results[sent[k]] == 0;
    }
    tams_db_done(&rows);
    rc = add_8x_many(db, a);
out:
    tams_db_done(&rows);
    tams_free(sent);
    tams_buf_release(&body);
    return rc;
}

static int add_body(struct tams_db *db, void *arg)
{
    struct add_args *a = arg;
    const struct tams_segment *given = a->segs;
    struct tams_segment *own = NULL;
    struct tams__strs inherited = {0};
    char now[TAMS_RFC3339_MAX];
    size_t added = 0;
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = tams__flow_lock(db, a->flow_id)) ||
        (rc = tams__media_flow_check(db, a->flow_id, "segments cannot be registered on it", a->v70,
                                     a->whys && a->n ? &a->whys[0] : NULL)))
        return rc;
    if ((rc = tams__init_check(db, a->flow_id, a->segs, a->n, a->results, a->whys, &own,
                               &inherited)))
        goto out;
    if (own)
        a->segs = own;
    rc = tams_db_caps(db) & TAMS_DB_CAP_REMOTE ? add_many(db, a, now, &added)
                                               : add_each(db, a, now, &added);
    if (rc == 0 && added)
        rc = tams__init_claim(db, a->flow_id, a->segs, a->n, a->results);
    if (rc == 0 && added)
        rc = tams__flow_touch_segments(db, a->flow_id, now);
    /* One flows/segments_added for the whole request, no flows/updated (lessons 17). */
    if (rc == 0 && added)
        rc = tams__ev_segments_added(db, a->flow_id, a->segs, a->n, a->results, now);
out:
    a->segs = given;
    tams_free(own);
    tams__strs_release(&inherited);
    return rc;
}

int tams__segments_add_in(struct tams_db *db, const char *flow_id, const struct tams_segment *segs,
                          size_t n, int *results)
{
    struct add_args a = {flow_id, false, segs, n, results, NULL, NULL};

    for (size_t i = 0; i < n; i++)
        results[i] = 0;
    return add_body(db, &a);
}

static int segments_add(struct tams_store *st, const char *flow_id, bool v70,
                        const struct tams_segment *segs, size_t n, int *results,
                        struct tams_buf *whys, const char *principal)
{
    /* Per-item outcomes are needed for the event even when the caller does not want them. */
    int *res_v = results ? results : (n ? tams_calloc(n, sizeof(*res_v)) : NULL);
    struct add_args a = {flow_id, v70, segs, n, res_v, whys, NULL};
    int rc;

    (void)principal; /* segment writes bump segments_updated only, not updated_by (§11.12) */
    if (whys && n) {
        a.why_lens = tams_calloc(n, sizeof(*a.why_lens));
        for (size_t i = 0; i < n; i++)
            a.why_lens[i] = whys[i].len;
    }
    for (size_t i = 0; i < n; i++)
        res_v[i] = 0;
    /* Of the documents read caches keep, segments change only their flow's (segments_updated). */
    rc = tams_db_run_scoped(st, TAMS_DB_TX_WRITE, flow_id, add_body, add_reset, &a);
    /* Nothing was stored: every segment shares the batch's fate. */
    for (size_t i = 0; rc && i < n; i++)
        res_v[i] = rc;
    if (!results)
        tams_free(res_v);
    tams_free(a.why_lens);
    return rc;
}

int tams_store_segments_add(struct tams_store *st, const char *flow_id,
                            const struct tams_segment *segs, size_t n, int *results,
                            struct tams_buf *whys, const char *principal)
{
    return segments_add(st, flow_id, false, segs, n, results, whys, principal);
}

int tams_store_segments_add_70(struct tams_store *st, const char *flow_id,
                               const struct tams_segment *segs, size_t n, int *results,
                               struct tams_buf *whys, const char *principal)
{
    return segments_add(st, flow_id, true, segs, n, results, whys, principal);
}

/* ---- listing ----------------------------------------------------------------------------- */

/* The statement and parameters of a page; false when the page is empty whatever is stored. */
static bool list_query(const struct tams_segment_filter *f, const char *flow_id, bool have_after,
                       int64_t after, int limit, struct tams_db_params *p, struct tams_sql **q)
{
    static struct tams_sql *const shapes[2][2] = {{&q_list, &q_list_rev},
                                                  {&q_list_obj, &q_list_obj_rev}};
    const struct tams_timerange *tr = f ? f->timerange : NULL;
    bool reverse = f && f->reverse;
    int64_t lo_min = tr ? tr->lo : INT64_MIN, lo_max = tr ? tr->hi : INT64_MAX, floor = INT64_MIN;
    /* Overlap with X = lo in [L, X.hi], where L is the start of the one segment that starts
     * at or before X.lo and still reaches it (hi grows with lo), else X.lo. The statement looks
     * for it unless the window is open at the start or an ascending page key is past X.lo. */
    bool seek = tr && tr->lo != INT64_MIN && !(have_after && !reverse && after >= tr->lo);

    p->n = 0;
    if (tr && tams_timerange_is_empty(tr))
        return false;
    /* Keyset: continue after the last lo sent, in the listing's direction. */
    if (have_after && !reverse) {
        if (after == INT64_MAX)
            return false;
        floor = after + 1;
    } else if (have_after) {
        if (after == INT64_MIN)
            return false;
        if (after - 1 < lo_max)
            lo_max = after - 1;
    }
    /* The seek only lowers lo_min, never below floor. */
    if ((floor > lo_min ? floor : lo_min) > lo_max)
        return false;
    tams_db_text(p, flow_id);
    tams_db_int(p, lo_min);
    tams_db_int(p, lo_max);
    tams_db_int_opt(p, seek, tr ? tr->lo : 0);
    tams_db_int(p, floor);
    tams_db_int(p, (int64_t)limit + 1);
    if (f && f->object_id)
        tams_db_text(p, f->object_id);
    *q = shapes[f && f->object_id][reverse];
    return true;
}

/* The current row as a record. */
static void seg_rec_read(const struct tams_db_rows *rows, struct tams_segment_rec *rec)
{
    static const unsigned bits[] = {TAMS_SEG_TS_OFFSET, TAMS_SEG_LAST_DURATION,
                                    TAMS_SEG_SAMPLE_OFFSET, TAMS_SEG_SAMPLE_COUNT,
                                    TAMS_SEG_KEY_FRAME_COUNT};
    struct tams_segment *g = &rec->seg;
    int64_t *opt[] = {&g->ts_offset, &g->last_duration, &g->sample_offset, &g->sample_count,
                      &g->key_frame_count};

    memset(rec, 0, sizeof(*rec));
    g->tr.lo = tams_db_col_int(rows, 0);
    g->tr.hi = tams_db_col_int(rows, 1);
    g->tr.lo_incl = tams_db_col_bool(rows, 2);
    g->tr.hi_incl = tams_db_col_bool(rows, 3);
    g->object_id = tams_db_col(rows, 4);
    for (int k = 0; k < 5; k++) {
        if (!tams_db_col_null(rows, 5 + k)) {
            *opt[k] = tams_db_col_int(rows, 5 + k);
            g->has |= bits[k];
        }
    }
    g->get_urls = tams_db_col(rows, 10);
    rec->controlled = tams_db_col_bool(rows, 11); /* NULL (no object row) reads as false */
    if (rec->controlled) {
        rec->storage_id = tams_db_col(rows, 12);
        rec->key = tams_db_col(rows, 13);
    }
    rec->instances = tams_db_col(rows, 14);
    g->object_timerange = tams_db_col(rows, 15);
    rec->object_timerange = tams_db_col(rows, 16);
    g->init_object_id = tams_db_col(rows, 17);
    rec->init_controlled = tams_db_col_bool(rows, 18);
    if (rec->init_controlled) {
        rec->init_storage_id = tams_db_col(rows, 19);
        rec->init_key = tams_db_col(rows, 20);
    }
}

int tams_store_segments_list(struct tams_store *st, const char *flow_id,
                             const struct tams_segment_filter *f, const struct tams_page *page,
                             tams_segment_cb cb, void *ctx)
{
    const char *kind = f && f->reverse ? "segments-rev" : "segments";
    struct tams_db_params p;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int limit = tams__page_start(page), sent = 0, rc;
    struct tams_sql *q;
    bool have_after;
    int64_t after = 0, last = 0;

    if ((rc = tams__page_lo(page, kind, &have_after, &after)) ||
        !list_query(f, flow_id, have_after, after, limit, &p, &q) ||
        (rc = tams__fetch(st, q, NULL, p.v, p.n, &rows)))
        goto out;
    for (;;) {
        struct tams_segment_rec rec;
        int more = tams_db_next(&rows);

        if (more <= 0) {
            rc = more;
            break;
        }
        if (sent == limit) {
            char key[32];

            snprintf(key, sizeof(key), "%" PRId64, last);
            if (page && page->next_key)
                rc = tams_cursor_encode(page->next_key, kind, key);
            break;
        }
        seg_rec_read(&rows, &rec);
        last = rec.seg.tr.lo;
        sent++;
        if ((rc = cb(ctx, &rec)))
            break;
    }
out:
    tams_db_done(&rows);
    return rc;
}
