/* SPDX-License-Identifier: Apache-2.0 */
/* flows.c - flows: the stored document with the columns filters use, tags and collections;
 * written whole or by property, deleted with everything of theirs, listed and read. */
#include "core/common.h"
#include "core/log.h"
#include "store/cursor.h"
#include "store/outbox.h"
#include "store/sort.h"
#include "store/store_int.h"

/* Columns of a flow record, in the order flow_emit() reads them. collected_by is folded into
 * the same statement (ids are UUIDs, so ',' is a safe separator) so one row is one record. */
#define FLOW_COLS(agg)                                                                             \
    "f.id, f.doc, f.created, f.metadata_updated, f.segments_updated, f.created_by,"                \
    " f.updated_by, f.read_only, " agg
#define FLOW_COLS_SQLITE                                                                           \
    FLOW_COLS("(SELECT group_concat(x.collector_id, ',') FROM (SELECT DISTINCT c.collector_id"     \
              " FROM flow_collection c WHERE c.member_id = f.id ORDER BY 1) x)")
#define FLOW_COLS_PG                                                                               \
    FLOW_COLS("(SELECT string_agg(x.collector_id, ',' ORDER BY x.collector_id) FROM (SELECT"       \
              " DISTINCT c.collector_id FROM flow_collection c WHERE c.member_id = f.id) x)")

static struct tams_sql q_lock =
    TAMS_SQL_PG("SELECT pg_advisory_xact_lock(hashtextextended('flow:' || ?1::text, 0))");
static struct tams_sql q_state =
    TAMS_SQL2("SELECT read_only, source_id, doc, deleting FROM flows WHERE id = ?1",
              "SELECT read_only, source_id, doc, deleting FROM flows WHERE id = ?1 FOR UPDATE");
static struct tams_sql q_exists = TAMS_SQL("SELECT 1 FROM flows WHERE id = ?1 AND deleting = 0");
static struct tams_sql q_upsert = TAMS_SQL(
    "INSERT INTO flows(id, source_id, format, codec, container, label, frame_width,"
    " frame_height, read_only, doc, created, metadata_updated, created_by, updated_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?12)"
    " ON CONFLICT(id) DO UPDATE SET source_id = excluded.source_id, format = excluded.format,"
    " codec = excluded.codec, container = excluded.container, label = excluded.label,"
    " frame_width = excluded.frame_width, frame_height = excluded.frame_height,"
    " read_only = excluded.read_only, doc = excluded.doc,"
    " metadata_updated = excluded.metadata_updated, updated_by = excluded.updated_by");
static struct tams_sql q_tags_delete = TAMS_SQL("DELETE FROM flow_tags WHERE flow_id = ?1");
static struct tams_sql q_tag_insert =
    TAMS_SQL("INSERT INTO flow_tags(flow_id, name, pos, value) VALUES (?1, ?2, ?3, ?4)"
             " ON CONFLICT(flow_id, name, pos) DO UPDATE SET value = excluded.value");
static struct tams_sql q_coll_delete =
    TAMS_SQL("DELETE FROM flow_collection WHERE collector_id = ?1");
static struct tams_sql q_coll_insert =
    TAMS_SQL("INSERT INTO flow_collection(collector_id, member_id, role, position)"
             " VALUES (?1, ?2, ?3, ?4)");
static struct tams_sql q_memberships_delete =
    TAMS_SQL("DELETE FROM flow_collection WHERE member_id = ?1");
static struct tams_sql q_coll_next = TAMS_SQL(
    "SELECT coalesce(max(position) + 1, 0), coalesce(max(CASE WHEN member_id = ?2 THEN 1 END), 0)"
    " FROM flow_collection WHERE collector_id = ?1");
static struct tams_sql q_collectors_of =
    TAMS_SQL("SELECT DISTINCT collector_id FROM flow_collection WHERE member_id = ?1"
             " AND collector_id <> ?1 ORDER BY 1");
static struct tams_sql q_get =
    TAMS_SQL2("SELECT " FLOW_COLS_SQLITE " FROM flows f WHERE f.id = ?1 AND f.deleting = 0",
              "SELECT " FLOW_COLS_PG " FROM flows f WHERE f.id = ?1 AND f.deleting = 0");
static struct tams_sql q_get_any =
    TAMS_SQL2("SELECT " FLOW_COLS_SQLITE " FROM flows f WHERE f.id = ?1",
              "SELECT " FLOW_COLS_PG " FROM flows f WHERE f.id = ?1");
static struct tams_sql q_set_doc =
    TAMS_SQL("UPDATE flows SET doc = ?2, metadata_updated = ?3 WHERE id = ?1");
static struct tams_sql q_segments_delete = TAMS_SQL("DELETE FROM segments WHERE flow_id = ?1");
static struct tams_sql q_refs_delete = TAMS_SQL("DELETE FROM object_refs WHERE flow_id = ?1");
static struct tams_sql q_delete = TAMS_SQL("DELETE FROM flows WHERE id = ?1");
/* Objects only this flow references are stamped for the collector. */
static struct tams_sql q_objects_unref = TAMS_SQL(
    "UPDATE objects SET unreferenced_at = ?2 WHERE id IN (SELECT object_id FROM object_refs"
    " WHERE flow_id = ?1) AND NOT EXISTS (SELECT 1 FROM object_refs r"
    " WHERE r.object_id = objects.id AND r.flow_id <> ?1)");
static struct tams_sql q_hide = TAMS_SQL("UPDATE flows SET deleting = 1 WHERE id = ?1");
static struct tams_sql q_touch_segments =
    TAMS_SQL("UPDATE flows SET segments_updated = ?2 WHERE id = ?1");
/* Segments never overlap, so hi grows with lo: these two seeks on the (flow_id, lo) key find
 * the segment around any instant. */
static struct tams_sql q_seg_last_le =
    TAMS_SQL("SELECT lo, hi, start_incl, end_incl FROM segments WHERE flow_id = ?1"
             " AND lo <= ?2 ORDER BY lo DESC LIMIT 1");
static struct tams_sql q_seg_first_gt =
    TAMS_SQL("SELECT lo, hi, start_incl, end_incl FROM segments WHERE flow_id = ?1"
             " AND lo > ?2 ORDER BY lo LIMIT 1");

/* ---- shared with the other resources ----------------------------------------------------- */

int tams__flow_lock(struct tams_db *db, const char *id)
{
    return tams_db_exec1(db, &q_lock, id, NULL);
}

void tams__flow_state_release(struct tams__flow_state *fs)
{
    tams_free(fs->source_id);
    tams_free(fs->doc);
    memset(fs, 0, sizeof(*fs));
}

int tams__flow_state_read(struct tams_db *db, const char *id, struct tams__flow_state *fs)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    memset(fs, 0, sizeof(*fs));
    rc = tams_db_one(db, &q_state, ARGS(TEXT(id)), &rows);
    if (rc <= 0)
        return rc;
    fs->exists = true;
    fs->read_only = tams_db_col_bool(&rows, 0);
    fs->source_id = tams_strdup(tams_db_col(&rows, 1));
    fs->doc = tams_strdup(tams_db_col(&rows, 2));
    fs->deleting = tams_db_col_bool(&rows, 3);
    tams_db_done(&rows);
    return 0;
}

static int seg_seek(struct tams_db *db, struct tams_sql *q, const char *flow_id, int64_t at,
                    struct tams__seg_end *out)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, q, ARGS(TEXT(flow_id), INT(at)), &rows);

    if (rc == 1) {
        out->lo = tams_db_col_int(&rows, 0);
        out->hi = tams_db_col_int(&rows, 1);
        out->start_incl = tams_db_col_bool(&rows, 2);
        out->end_incl = tams_db_col_bool(&rows, 3);
        tams_db_done(&rows);
    }
    return rc;
}

int tams__seg_first_after(struct tams_db *db, const char *flow_id, int64_t at,
                          struct tams__seg_end *out)
{
    return seg_seek(db, &q_seg_first_gt, flow_id, at, out);
}

int tams__seg_last_from(struct tams_db *db, const char *flow_id, int64_t at,
                        struct tams__seg_end *out)
{
    return seg_seek(db, &q_seg_last_le, flow_id, at, out);
}

int tams__flow_touch_segments(struct tams_db *db, const char *flow_id, const char *now)
{
    return tams_db_exec(db, &q_touch_segments, ARGS(TEXT(flow_id), TEXT(now)), NULL);
}

/* Hand the FLOW_COLS row to cb, with collected_by split from its comma list. */
static int flow_emit(const struct tams_db_rows *rows, tams_flow_cb cb, void *ctx)
{
    struct tams_flow_rec rec = {0};
    const char *coll = tams_db_col(rows, 8);
    const char **ids = NULL;
    char *copy = NULL;
    size_t n = 0;
    int rc;

    rec.id = tams_db_col(rows, 0);
    rec.doc = tams_db_col(rows, 1);
    rec.doclen = tams_db_col_len(rows, 1);
    rec.created = tams_db_col(rows, 2);
    rec.metadata_updated = tams_db_col(rows, 3);
    rec.segments_updated = tams_db_col(rows, 4);
    rec.created_by = tams_db_col(rows, 5);
    rec.updated_by = tams_db_col(rows, 6);
    rec.read_only = tams_db_col_bool(rows, 7);
    if (coll && coll[0]) {
        size_t max = 1;
        for (const char *p = coll; *p; p++)
            max += *p == ',';
        copy = tams_strdup(coll);
        ids = tams_calloc(max, sizeof(*ids));
        for (char *p = copy, *comma; p; p = comma ? comma + 1 : NULL) {
            comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            ids[n++] = p;
        }
    }
    rec.collected_by = ids;
    rec.ncollected_by = n;
    rc = cb(ctx, &rec);
    tams_free(ids);
    tams_free(copy);
    return rc;
}

int tams__flow_read_any(struct tams_db *db, const char *id, tams_flow_cb cb, void *ctx)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, &q_get_any, ARGS(TEXT(id)), &rows);

    if (rc == 1)
        rc = flow_emit(&rows, cb, ctx);
    else if (rc == 0)
        rc = TAMS_ERR_NOTFOUND;
    tams_db_done(&rows);
    return rc;
}

/* Drops member `id` from a collector's stored document. */
static void doc_drop_member(json_object *doc, const char *id)
{
    json_object *coll;

    if (!json_object_object_get_ex(doc, "flow_collection", &coll))
        return;
    for (size_t k = json_object_array_length(coll); k-- > 0;) {
        json_object *item = json_object_array_get_idx(coll, k), *mid;
        const char *mids =
            json_object_object_get_ex(item, "id", &mid) ? json_object_get_string(mid) : NULL;
        if (mids && strcmp(mids, id) == 0)
            json_object_array_del_idx(coll, k, 1);
    }
    if (json_object_array_length(coll) == 0)
        json_object_object_del(doc, "flow_collection");
}

/* Documents and flow_collection rows never disagree: both change here. */
int tams__flow_leave_collections(struct tams_db *db, const char *id, const char *now)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams__strs ids = {0};
    int rc;

    if ((rc = tams_db_query(db, &q_collectors_of, ARGS(TEXT(id)), &rows)))
        return rc;
    while ((rc = tams_db_next(&rows)) == 1)
        tams__strs_dup(&ids, tams_db_col(&rows, 0));
    tams_db_done(&rows);
    for (size_t i = 0; i < ids.n && rc == 0; i++) {
        struct tams__flow_state fs;
        json_object *doc = NULL, *coll;

        if ((rc = tams__flow_state_read(db, ids.v[i], &fs)))
            break;
        doc = fs.exists ? json_tokener_parse(fs.doc) : NULL;
        if (doc && json_object_object_get_ex(doc, "flow_collection", &coll) &&
            json_object_is_type(coll, json_type_array)) {
            doc_drop_member(doc, id);
            const char *text = json_object_to_json_string_ext(
                doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

            rc = tams_db_exec(db, &q_set_doc, ARGS(TEXT(ids.v[i]), TEXT(text), TEXT(now)), NULL);
            if (rc == 0)
                rc = tams__ev_flow(db, TAMS_EV_FLOW_UPDATED, ids.v[i], now);
        } else if (fs.exists) {
            tams_log_error("store: collection of flow '%s' is not in its document", ids.v[i]);
            rc = TAMS_ERR_STORE;
        }
        json_object_put(doc);
        tams__flow_state_release(&fs);
    }
    if (rc == 0)
        rc = tams_db_exec1(db, &q_memberships_delete, id, NULL);
    tams__strs_release(&ids);
    return rc;
}

int tams__flow_join_collection(struct tams_db *db, const char *collector_id, const char *member_id,
                               const char *role, const char *now)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams__flow_state fs;
    json_object *doc = NULL, *coll, *item;
    int64_t pos;
    bool listed;
    int rc;

    if ((rc = tams_db_one(db, &q_coll_next, ARGS(TEXT(collector_id), TEXT(member_id)), &rows)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_STORE;
    pos = tams_db_col_int(&rows, 0);
    listed = tams_db_col_bool(&rows, 1);
    tams_db_done(&rows);
    if (listed)
        return 0;
    if ((rc = tams__flow_state_read(db, collector_id, &fs)))
        return rc;
    if (!fs.exists || !(doc = json_tokener_parse(fs.doc)) ||
        !json_object_is_type(doc, json_type_object))
        goto out; /* gone since: nothing to join */
    if (!json_object_object_get_ex(doc, "flow_collection", &coll) ||
        !json_object_is_type(coll, json_type_array)) {
        coll = json_object_new_array();
        json_object_object_add(doc, "flow_collection", coll);
    }
    item = json_object_new_object();
    json_object_object_add(item, "id", json_object_new_string(member_id));
    json_object_object_add(item, "role", json_object_new_string(role));
    json_object_array_add(coll, item);
    {
        const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE);

        if ((rc = tams_db_exec(db, &q_coll_insert,
                               ARGS(TEXT(collector_id), TEXT(member_id), TEXT(role), INT(pos)),
                               NULL)) == 0 &&
            (rc = tams_db_exec(db, &q_set_doc, ARGS(TEXT(collector_id), TEXT(text), TEXT(now)),
                               NULL)) == 0)
            rc = tams__ev_flow(db, TAMS_EV_FLOW_UPDATED, collector_id, now);
    }
out:
    json_object_put(doc);
    tams__flow_state_release(&fs);
    return rc;
}

int tams__flow_hide(struct tams_db *db, const char *id, const char *now)
{
    int rc;

    if ((rc = tams_db_exec1(db, &q_hide, id, NULL)) ||
        (rc = tams__flow_leave_collections(db, id, now)))
        return rc;
    return tams_db_exec1(db, &q_coll_delete, id, NULL);
}

int tams__flow_remove(struct tams_db *db, const char *id, const char *source_id, const char *now,
                      unsigned *eff, bool flow_event)
{
    int rc;

    /* flows/deleted first, with the collections it was in before it leaves them. */
    if (flow_event && (rc = tams__ev_flow_deleted(db, id, source_id, now)))
        return rc;
    /* Tags and its own collection rows go by ON DELETE CASCADE. */
    if ((rc = tams__flow_leave_collections(db, id, now)) ||
        (rc = tams_db_exec1(db, &q_segments_delete, id, NULL)) ||
        (rc = tams_db_exec(db, &q_objects_unref, ARGS(TEXT(id), TEXT(now)), NULL)) ||
        (rc = tams_db_exec1(db, &q_refs_delete, id, NULL)) ||
        (rc = tams_db_exec1(db, &q_delete, id, NULL)))
        return rc;
    return tams__source_drop_if_orphan(db, source_id, eff);
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Write the flow row (insert, or update keeping created/created_by/segments_updated) and
 * replace its tag and collection rows, all derived from idx. */
static int write_rows(struct tams_db *db, const struct tams_flow_index *idx, const char *doc,
                      size_t doclen, const char *now, const char *principal, struct tams_buf *why)
{
    int rc;

    for (size_t i = 0; i < idx->ncollection; i++) {
        if (strcmp(idx->collection[i].id, idx->id) == 0) {
            tams__why_add(why, "flow_collection must not list the flow itself (%s)", idx->id);
            return TAMS_ERR_VALIDATION;
        }
        rc = tams_db_exists(db, &q_exists, idx->collection[i].id);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            tams__why_add(why, "flow_collection member %s does not exist", idx->collection[i].id);
            return TAMS_ERR_VALIDATION;
        }
    }
    if ((rc =
             tams_db_exec(db, &q_upsert,
                          ARGS(TEXT(idx->id), TEXT(idx->source_id), TEXT(idx->format),
                               TEXT(idx->codec), TEXT(idx->container), TEXT(idx->label),
                               INT_OR_NULL(idx->frame_width >= 0, idx->frame_width),
                               INT_OR_NULL(idx->frame_height >= 0, idx->frame_height),
                               INT(idx->read_only), TEXTN(doc, doclen), TEXT(now), TEXT(principal)),
                          NULL)) ||
        (rc = tams_db_exec1(db, &q_tags_delete, idx->id, NULL)))
        return rc;
    for (size_t i = 0; i < idx->ntags && rc == 0; i++)
        rc = tams__tag_rows(db, &q_tag_insert, idx->id, &idx->tags[i]);
    if (rc || (rc = tams_db_exec1(db, &q_coll_delete, idx->id, NULL)))
        return rc;
    for (size_t i = 0; i < idx->ncollection && rc == 0; i++) {
        rc = tams_db_exec(
            db, &q_coll_insert,
            ARGS(TEXT(idx->id), TEXT(idx->collection[i].id), TEXT(idx->collection[i].role), INT(i)),
            NULL);
    }
    return rc;
}

struct put_args {
    const struct tams_flow_index *idx;
    const char *doc, *principal;
    size_t doclen;
    unsigned eff;
    struct tams_buf *why;
    size_t why_len;
    bool check;         /* put_if: the stored document must still be expect */
    const char *expect; /* NULL: the flow must not exist */
    bool stale;
};

static void put_reset(void *arg)
{
    struct put_args *a = arg;

    a->eff = 0;
    a->stale = false;
    tams__why_cut(a->why, a->why_len);
}

static int put_body(struct tams_db *db, void *arg)
{
    struct put_args *a = arg;
    const struct tams_flow_index *idx = a->idx;
    struct tams__flow_state fs = {0};
    const char *doc = a->doc;
    size_t doclen = a->doclen;
    char now[TAMS_RFC3339_MAX];
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = tams__flow_lock(db, idx->id)) || (rc = tams__flow_state_read(db, idx->id, &fs)))
        goto out;
    if (fs.exists && fs.deleting) {
        tams__why_add(a->why,
                      "flow %s is being deleted; try again when its deletion request is done",
                      idx->id);
        rc = TAMS_ERR_CONFLICT;
        goto out;
    }
    if (fs.exists && fs.read_only) {
        tams__why_add(a->why, "flow %s is read-only", idx->id);
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    if (a->check &&
        (fs.exists ? !a->expect || strcmp(fs.doc, a->expect) != 0 : a->expect != NULL)) {
        a->stale = true;
        rc = TAMS_ERR_CONFLICT;
        goto out;
    }
    if (!fs.exists)
        a->eff |= TAMS_EFFECT_CREATED;
    if ((rc = tams__source_ensure(db, idx, now, a->principal, &a->eff, a->why)) ||
        (rc = write_rows(db, idx, doc, doclen, now, a->principal, a->why)))
        goto out;
    if ((a->eff & TAMS_EFFECT_SOURCE_CREATED) &&
        (rc = tams__ev_source(db, TAMS_EV_SOURCE_CREATED, idx->source_id, now)))
        goto out;
    if ((rc = tams__ev_flow(db, fs.exists ? TAMS_EV_FLOW_UPDATED : TAMS_EV_FLOW_CREATED, idx->id,
                            now)))
        goto out;
    if (fs.exists && strcmp(fs.source_id, idx->source_id) != 0)
        rc = tams__source_drop_if_orphan(db, fs.source_id, &a->eff);
out:
    tams__flow_state_release(&fs);
    return rc;
}

static int flow_put(struct tams_store *st, struct put_args *a, unsigned *effects)
{
    int rc;

    if (effects)
        *effects = 0;
    if (a->doclen > INT32_MAX)
        return TAMS_ERR_TOOBIG;
    if (strlen(a->doc) != a->doclen)
        return TAMS_ERR_VALIDATION; /* a NUL inside: no store holds it */
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, put_body, put_reset, a);
    if (rc == 0 && effects)
        *effects = a->eff;
    return rc;
}

int tams_store_flow_put_if(struct tams_store *st, const struct tams_flow_index *idx,
                           const char *doc, size_t doclen, const char *expect,
                           const char *principal, unsigned *effects, bool *stale,
                           struct tams_buf *why)
{
    struct put_args a = {idx,  doc,    principal, doclen, 0, why, why ? why->len : 0,
                         true, expect, false};
    int rc = flow_put(st, &a, effects);

    *stale = a.stale;
    return rc;
}

int tams_store_flow_put(struct tams_store *st, const struct tams_flow_index *idx, const char *doc,
                        size_t doclen, const char *principal, unsigned *effects,
                        struct tams_buf *why)
{
    struct put_args a = {idx,   doc,  principal, doclen, 0, why, why ? why->len : 0,
                         false, NULL, false};

    return flow_put(st, &a, effects);
}

struct mutate_args {
    const char *id, *principal;
    bool allow_read_only;
    tams_flow_mutate_fn fn;
    void *ctx;
    struct tams_buf *why;
    size_t why_len;
};

static void mutate_reset(void *arg)
{
    struct mutate_args *a = arg;

    tams__why_cut(a->why, a->why_len);
}

/* The flow_collection of a flow document as JSON text ("" when it has none). */
static const char *collection_text(json_object *doc)
{
    json_object *c = json_object_object_get(doc, "flow_collection");

    return c ? json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN) : "";
}

static int mutate_body(struct tams_db *db, void *arg)
{
    struct mutate_args *a = arg;
    struct tams__flow_state fs = {0};
    struct tams_flow_index idx = {0};
    json_object *doc = NULL;
    char now[TAMS_RFC3339_MAX];
    char *coll_before = NULL;
    unsigned effects = 0;
    bool have_idx = false;
    const char *text;
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = tams__flow_lock(db, a->id)) || (rc = tams__flow_state_read(db, a->id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (fs.read_only && !a->allow_read_only) {
        tams__why_add(a->why, "flow %s is read-only", a->id);
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    doc = json_tokener_parse(fs.doc);
    if (!doc || !json_object_is_type(doc, json_type_object)) {
        tams_log_error("store: stored document of flow '%s' does not parse", a->id);
        rc = TAMS_ERR_STORE;
        goto out;
    }
    coll_before = tams_strdup(collection_text(doc));
    if ((rc = a->fn(a->ctx, doc, a->why)) || (rc = tams_flow_validate(doc, a->why)) ||
        (rc = tams_flow_index_build(doc, &idx, a->why)))
        goto out;
    have_idx = true;
    /* Other flows' and sources' documents show this flow only through its flow_collection
     * (collected_by): unless that changed, the write is this flow's alone. */
    if (strcmp(coll_before, collection_text(doc)) != 0)
        tams_db_unscope(db);
    /* Property updates never move a flow: the path names it, and ADR 0025 says source_id does
     * not change after creation (a PUT of the whole flow may still do it). */
    if (strcmp(idx.id, a->id) != 0) {
        tams__why_add(a->why, "id cannot be changed (%s)", a->id);
        rc = TAMS_ERR_VALIDATION;
        goto out;
    }
    if (strcmp(idx.source_id, fs.source_id) != 0) {
        tams__why_add(a->why, "source_id cannot be changed by a property update");
        rc = TAMS_ERR_VALIDATION;
        goto out;
    }
    if ((rc = tams__source_ensure(db, &idx, now, a->principal, &effects, a->why)))
        goto out;
    if (effects & TAMS_EFFECT_SOURCE_CREATED) /* not expected: the flow held it */
        tams_db_unscope(db);
    text = json_object_to_json_string_ext(doc,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = write_rows(db, &idx, text, strlen(text), now, a->principal, a->why);
    if (rc == 0)
        rc = tams__ev_flow(db, TAMS_EV_FLOW_UPDATED, a->id, now);
out:
    if (have_idx)
        tams_flow_index_release(&idx);
    json_object_put(doc);
    tams_free(coll_before);
    tams__flow_state_release(&fs);
    return rc;
}

int tams_store_flow_mutate(struct tams_store *st, const char *id, bool allow_read_only,
                           tams_flow_mutate_fn fn, void *ctx, const char *principal,
                           struct tams_buf *why)
{
    struct tams_buf why_local = TAMS_BUF_INIT(1024);
    /* fn and the validator always get a buffer */
    struct mutate_args a = {
        id, principal, allow_read_only, fn, ctx, why ? why : &why_local, why ? why->len : 0};
    /* A property write changes this flow's document alone, unless the body finds otherwise. */
    int rc = tams_db_run_scoped(st, TAMS_DB_TX_WRITE, id, mutate_body, mutate_reset, &a);

    tams_buf_release(&why_local);
    return rc;
}

struct delete_args {
    const char *id;
    unsigned eff;
};

static void delete_reset(void *arg)
{
    ((struct delete_args *)arg)->eff = 0;
}

static int delete_body(struct tams_db *db, void *arg)
{
    struct delete_args *a = arg;
    struct tams__flow_state fs = {0};
    char now[TAMS_RFC3339_MAX];
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = tams__flow_lock(db, a->id)) || (rc = tams__flow_state_read(db, a->id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting)
        rc = TAMS_ERR_NOTFOUND;
    else if (fs.read_only)
        rc = TAMS_ERR_READONLY;
    else
        rc = tams__flow_remove(db, a->id, fs.source_id, now, &a->eff, true);
out:
    tams__flow_state_release(&fs);
    return rc;
}

int tams_store_flow_delete(struct tams_store *st, const char *id, unsigned *effects)
{
    struct delete_args a = {id, 0};
    int rc;

    if (effects)
        *effects = 0;
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, delete_body, delete_reset, &a);
    if (rc == 0 && effects)
        *effects = a.eff;
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

int tams_store_flow_get(struct tams_store *st, const char *id, tams_flow_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    int rc, found;

    /* Kept: the callback may use the store (flow_timerange for include_timerange, even
     * flow_get). */
    if ((rc = tams__fetch(st, &q_get, NULL, ARGS(TEXT(id)), &rows)) == 0) {
        found = tams_db_next(&rows);
        rc = found == 1 ? flow_emit(&rows, cb, ctx) : found == 0 ? TAMS_ERR_NOTFOUND : found;
    }
    tams_db_done(&rows);
    return rc;
}

/* 8.2's members live in the document (docs/tams-8.2-changes.md 15, 16, 17): read there,
 * through indexes on these very expressions (schema_sqlite.c 13, schema_pg.c 19): keep them
 * alike. */
static void filters_82(enum tams_db_dialect d, struct tams_buf *sql, struct tams_db_params *p,
                       const struct tams_flow_filter *f)
{
    bool pg = d == TAMS_DB_PG;

    if (f->status)
        tams__cond_text(sql, p,
                        pg ? "(f.doc::jsonb ->> 'status') = ?%d"
                           : "json_extract(f.doc, '$.status') = ?%d",
                        f->status);
    if (f->profile_id)
        tams__cond_text(sql, p,
                        pg ? "(f.doc::jsonb ->> 'profile_id') = ?%d"
                           : "json_extract(f.doc, '$.profile_id') = ?%d",
                        f->profile_id);
    if (f->init_segments && pg)
        tams_buf_addf(sql,
                      " AND coalesce(f.doc::jsonb #>> '{essence_parameters,init_segments}',"
                      " 'false') = '%s'",
                      *f->init_segments ? "true" : "false");
    else if (f->init_segments)
        tams_buf_addf(sql,
                      " AND coalesce(json_extract(f.doc, '$.essence_parameters.init_segments'),"
                      " 0) = %d",
                      *f->init_segments ? 1 : 0);
}

/* collected_by_ids (store.h): flows some given flow collects, or with none given those no
 * flow collects. */
static void collected_sql(struct tams_buf *sql, struct tams_db_params *p,
                          const struct tams_collected_filter *c)
{
    if (!c->given)
        return;
    if (c->n == 0) {
        tams_buf_addstr(
            sql, " AND NOT EXISTS (SELECT 1 FROM flow_collection c WHERE c.member_id = f.id)");
        return;
    }
    tams_buf_addstr(sql, " AND EXISTS (SELECT 1 FROM flow_collection c WHERE c.member_id = f.id"
                         " AND c.collector_id IN (");
    for (size_t i = 0; i < c->n; i++) {
        tams_buf_addf(sql, i ? ", ?%d" : "?%d", p->n + 1);
        tams_db_text(p, c->ids[i]);
    }
    tams_buf_addstr(sql, "))");
}

/* The statement of group g of a page (store/sort.h; sort NULL: by id after `after`), for want
 * rows. A sorted listing reads the sort value as a last column. */
static int list_sql(enum tams_db_dialect dialect, const struct tams_flow_filter *f,
                    const struct tams__sort *sort, int g, const struct tams__sort_at *at,
                    const char *after, int64_t want, struct tams_buf *sql, struct tams_db_params *p)
{
    tams_buf_reset(sql);
    *p = (struct tams_db_params)TAMS_DB_PARAMS_INIT;
    tams_buf_addstr(sql,
                    dialect == TAMS_DB_PG ? "SELECT " FLOW_COLS_PG : "SELECT " FLOW_COLS_SQLITE);
    if (sort)
        tams_buf_addf(sql, ", %s", sort->col);
    tams_buf_addstr(sql, " FROM flows f WHERE f.deleting = 0");
    if (f && f->source_id)
        tams__cond_text(sql, p, "f.source_id = ?%d", f->source_id);
    if (f && f->format)
        tams__cond_text(sql, p, "f.format = ?%d", f->format);
    if (f && f->codec)
        tams__cond_text(sql, p, "f.codec = ?%d", f->codec);
    if (f && f->label)
        tams__cond_text(sql, p, "f.label = ?%d", f->label);
    if (f && f->frame_width >= 0)
        tams__cond_int(sql, p, "f.frame_width = ?%d", f->frame_width);
    if (f && f->frame_height >= 0)
        tams__cond_int(sql, p, "f.frame_height = ?%d", f->frame_height);
    if (f && f->timerange && tams_timerange_is_empty(f->timerange)) {
        tams_buf_addstr(sql, " AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.flow_id = f.id)");
    } else if (f && f->timerange && !tams_timerange_is_eternity(f->timerange)) {
        /* Segments of a flow do not overlap, so hi grows with lo: the only segment that can
         * reach X.lo among those starting at or before X.hi is the last of them. One seek on
         * the (flow_id, lo) key per flow instead of a scan of its segments. */
        tams_buf_addf(sql,
                      " AND (SELECT s.hi FROM segments s WHERE s.flow_id = f.id"
                      " AND s.lo <= ?%d ORDER BY s.lo DESC LIMIT 1) >= ?%d",
                      p->n + 1, p->n + 2);
        tams_db_int(p, f->timerange->hi);
        tams_db_int(p, f->timerange->lo);
    }
    if (f) {
        tams__tag_filters(dialect, sql, p, "flow_tags", "flow_id", "f.id", f->tags, f->ntags);
        collected_sql(sql, p, &f->collected_by);
        filters_82(dialect, sql, p, f);
    }
    if (sort) {
        tams__sort_sql(sql, p, sort, g, at, want);
    } else {
        if (after)
            tams__cond_text(sql, p, "f.id > ?%d", after);
        tams_buf_addf(sql, " ORDER BY f.id LIMIT ?%d", p->n + 1);
        tams_db_int(p, want);
    }
    if (!tams_buf_ok(sql)) {
        tams_log_error("store: generated statement too long");
        return TAMS_ERR_STORE;
    }
    return 0;
}

/* The sort of an 8.2 sort_by (store.h), or false for the 7.0 order by id. */
static bool flow_sort(const struct tams_flow_filter *f, struct tams__sort *sort)
{
    enum tams_sort_by by = f ? f->sort : TAMS_SORT_ID;

    switch (by) {
    case TAMS_SORT_CREATED:
        tams__sort_init(sort, "flows", "f.created", "created", "f.id", !f->reverse, false);
        return true;
    case TAMS_SORT_METADATA_UPDATED:
        tams__sort_init(sort, "flows", "f.metadata_updated", "metadata_updated", "f.id",
                        !f->reverse, false);
        return true;
    case TAMS_SORT_LABEL:
        tams__sort_init(sort, "flows", "f.label", "label", "f.id", f->reverse, true);
        return true;
    case TAMS_SORT_ID:
    case TAMS_SORT_UPDATED:
        break;
    }
    return false;
}

int tams_store_flow_list(struct tams_store *st, const struct tams_flow_filter *f,
                         const struct tams_page *page, tams_flow_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(TAMS__SQL_MAX), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_buf last = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_buf last_value = TAMS_BUF_INIT(TAMS__SORT_VALUE_MAX);
    struct tams_db_params p = TAMS_DB_PARAMS_INIT;
    struct tams__sort sortv, *sort = NULL;
    struct tams__sort_at at = {0};
    int limit = tams__page_start(page), sent = 0, last_group = 0, rc;
    bool last_null = false, done = false;

    if (f && !tams__filters_fit(f->tags, f->ntags, f->collected_by.n)) {
        rc = TAMS_ERR_BADQUERY;
        goto out;
    }
    if (flow_sort(f, &sortv)) {
        sort = &sortv;
        rc = tams__sort_after(sort, page ? page->after : NULL, &at);
    } else {
        rc = tams__page_after(page, "flows", &after);
    }
    if (rc)
        goto out;
    for (int g = at.group; !done && g < (sort ? tams__sort_groups(sort) : 1); g++) {
        struct tams_db_rows rows = TAMS_DB_ROWS_INIT;

        if ((rc = list_sql(st->drv->dialect, f, sort, g, &at, after.len ? after.data : NULL,
                           (int64_t)limit - sent + 1, &sql, &p)) ||
            (rc = tams__fetch(st, NULL, sql.data, p.v, p.n, &rows))) {
            tams_db_done(&rows);
            goto out;
        }
        for (;;) {
            int more = tams_db_next(&rows);

            if (more <= 0) {
                rc = more;
                break;
            }
            if (sent == limit) {
                /* A row beyond the page: there is a next page, starting after the last sent. */
                if (page && page->next_key)
                    rc = sort ? tams__sort_cursor(page->next_key, sort, last_group, last.data,
                                                  last_null ? NULL : last_value.data)
                              : tams_cursor_encode(page->next_key, "flows", last.data);
                done = true;
                break;
            }
            sent++;
            tams_buf_reset(&last);
            tams_buf_addstr(&last, tams_db_col(&rows, 0));
            if (sort) {
                const char *v = tams_db_col(&rows, 9);
                last_group = g;
                last_null = v == NULL;
                tams_buf_reset(&last_value);
                tams_buf_addstr(&last_value, v ? v : "");
            }
            if ((rc = flow_emit(&rows, cb, ctx)))
                break;
        }
        tams_db_done(&rows);
        if (rc)
            break;
    }
out:
    tams_buf_release(&sql);
    tams_buf_release(&after);
    tams_buf_release(&last);
    tams_buf_release(&last_value);
    return rc;
}

struct timerange_args {
    const char *id;
    const struct tams_timerange *within;
    struct tams_timerange *out;
};

static int timerange_body(struct tams_db *db, void *arg)
{
    struct timerange_args *a = arg;
    const struct tams_timerange *within = a->within;
    struct tams__seg_end first, last;
    int found;

    tams_timerange_empty(a->out);
    if ((found = tams_db_exists(db, &q_exists, a->id)) <= 0)
        return found < 0 ? found : TAMS_ERR_NOTFOUND;
    if (tams_timerange_is_empty(within))
        return 0;
    /* First segment reaching within.lo: the last one starting at or before it if it reaches
     * that far, else the next one. Segments never overlap, so hi grows with lo. */
    found = tams__seg_last_from(db, a->id, within->lo, &first);
    if (found == 1 && first.hi < within->lo)
        found = 0;
    if (found == 0 && within->lo != INT64_MAX)
        found = tams__seg_first_after(db, a->id, within->lo, &first);
    if (found <= 0 || first.lo > within->hi)
        return found < 0 ? found : 0;
    found = tams__seg_last_from(db, a->id, within->hi, &last);
    if (found <= 0)
        return found < 0 ? found : 0;
    a->out->lo = first.lo;
    a->out->lo_incl = first.start_incl;
    a->out->hi = last.hi;
    a->out->hi_incl = last.end_incl;
    return 0;
}

int tams_store_flow_timerange(struct tams_store *st, const char *id,
                              const struct tams_timerange *within, struct tams_timerange *out)
{
    struct tams_timerange all;
    struct timerange_args a = {id, within, out};
    int rc;

    if (!within) {
        tams_timerange_eternity(&all);
        a.within = &all;
    }
    rc = tams_db_run(st, TAMS_DB_TX_READ, timerange_body, NULL, &a);
    if (rc)
        tams_timerange_empty(out);
    return rc;
}
