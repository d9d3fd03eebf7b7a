/* SPDX-License-Identifier: Apache-2.0 */
/* events.c - the event outbox and webhook registrations (notes §8): every write that fires an
 * event appends it in its own transaction; delivery reads the outbox in order and moves each
 * webhook's cursor. */
#include "core/common.h"
#include "core/json.h"
#include "core/log.h"
#include "store/outbox.h"
#include "store/store_int.h"

#define EV_PAYLOAD_MAX (256u << 20)

/* Transaction-scoped advisory lock keys of a shared database (see hooks_on): HOOKS_KEY is held
 * shared by every transaction that has looked for webhooks before writing events, and
 * exclusively by webhook_put; EVENTS_KEY is held exclusively from a transaction's first event
 * insert to its end, so events commit in seq order across every instance. One writer at a
 * time (SQLite) needs neither. */
#define HOOKS_KEY "7353417902"
#define EVENTS_KEY "7353417903"

static struct tams_sql q_hooks_share =
    TAMS_SQL_PG("SELECT pg_advisory_xact_lock_shared(" HOOKS_KEY ")");
static struct tams_sql q_hooks_exclusive =
    TAMS_SQL_PG("SELECT pg_advisory_xact_lock(" HOOKS_KEY ")");
static struct tams_sql q_events_lock = TAMS_SQL_PG("SELECT pg_advisory_xact_lock(" EVENTS_KEY ")");
/* Only webhooks that are delivered (status created or started) keep events waiting. */
#define WH_LIVE "status IN ('created', 'started')"
static struct tams_sql q_hooks_any =
    TAMS_SQL2("SELECT 1 FROM webhooks WHERE rowid > 0 AND " WH_LIVE " LIMIT 1",
              "SELECT 1 FROM webhooks WHERE " WH_LIVE " LIMIT 1");
static struct tams_sql q_insert =
    TAMS_SQL("INSERT INTO events(type, ts, flow_id, source_id, flow_collected_by,"
             " source_collected_by, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
/* A flow's source and the collectors that list it, comma-joined. */
static struct tams_sql q_flow_snap = TAMS_SQL2(
    "SELECT f.source_id, (SELECT group_concat(x.collector_id, ',') FROM"
    " (SELECT DISTINCT c.collector_id FROM flow_collection c WHERE c.member_id = f.id"
    " ORDER BY 1) x) FROM flows f WHERE f.id = ?1",
    "SELECT f.source_id, (SELECT string_agg(x.collector_id, ',' ORDER BY x.collector_id) FROM"
    " (SELECT DISTINCT c.collector_id FROM flow_collection c WHERE c.member_id = f.id) x)"
    " FROM flows f WHERE f.id = ?1");
static struct tams_sql q_object =
    TAMS_SQL("SELECT controlled, storage_id, key FROM objects WHERE id = ?1");
/* The segments of a deletion selection and its neighbours, each marked selected or kept. */
static struct tams_sql q_seg_runs =
    TAMS_SQL("SELECT lo, hi, start_incl, end_incl,"
             " hi <= ?4 AND (CAST(?5 AS TEXT) IS NULL OR object_id = ?5) FROM segments"
             " WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3 ORDER BY lo");

/* The identity: rows an older release kept with the value in clear are sealed at start
 * (tams_store_webhook_seal) and never match here until then. */
#define WH_COLS                                                                                    \
    "id, url, api_key_name, api_key_id, api_key_sealed, api_key_value, owner, owner_scopes, doc,"  \
    " cursor, status, error, api, prefix"
static struct tams_sql q_wh_find =
    TAMS_SQL("SELECT " WH_COLS " FROM webhooks WHERE url = ?1"
             " AND api_key_name IS NOT DISTINCT FROM ?2 AND api_key_id IS NOT DISTINCT FROM ?3"
             " AND api_key_value IS NULL");
static struct tams_sql q_wh_count =
    TAMS_SQL("SELECT count(*) FROM webhooks WHERE owner IS NOT DISTINCT FROM ?1");
/* A new webhook's cursor is the newest event ever written, so it only receives later ones:
 * seq is never reused after a purge (SQLite AUTOINCREMENT, a PostgreSQL sequence). */
#define NEWEST_SQLITE "(SELECT seq FROM sqlite_sequence WHERE name = 'events')"
#define NEWEST_PG "pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass)"
#define WH_INSERT(newest)                                                                          \
    "INSERT INTO webhooks(id, url, api_key_name, api_key_id, api_key_sealed, owner,"               \
    " owner_scopes, doc, created, cursor, status, api, prefix)"                                    \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, COALESCE(" newest ", 0), ?10, ?11, ?12)"
static struct tams_sql q_wh_insert = TAMS_SQL2(WH_INSERT(NEWEST_SQLITE), WH_INSERT(NEWEST_PG));
/* An update: ?3 the new status or NULL (keep). A webhook that was not delivered and is
 * started again begins at the newest event, as a new one. owner and owner_scopes change when
 * ?6 (a flag) is 1. */
#define WH_UPDATE(newest)                                                                                                       \
    "UPDATE webhooks SET doc = ?2, status = CASE WHEN CAST(?3 AS TEXT) IS NULL OR (CAST(?3 AS TEXT) = 'created'"                \
    " AND status = 'started') THEN status ELSE CAST(?3 AS TEXT) END,"                                                           \
    " error = CASE WHEN CAST(?3 AS TEXT) IS NULL THEN error END,"                                                               \
    " cursor = CASE WHEN CAST(?3 AS TEXT) = 'created' AND status IN ('disabled', 'error')"                                      \
    " THEN COALESCE(" newest ", 0) ELSE cursor END,"                                                                            \
    " api = ?4, prefix = ?5, owner = CASE WHEN CAST(?6 AS INTEGER) = 1 THEN ?7 ELSE owner END,"                                 \
    " owner_scopes = CASE WHEN CAST(?6 AS INTEGER) = 1 THEN ?8 ELSE owner_scopes END,"                                          \
    " url = COALESCE(CAST(?9 AS TEXT), url), api_key_name = CASE WHEN CAST(?9 AS TEXT) IS NULL THEN api_key_name ELSE ?10 END," \
    " api_key_id = CASE WHEN CAST(?9 AS TEXT) IS NULL THEN api_key_id ELSE ?11 END,"                                            \
    " api_key_sealed = CASE WHEN CAST(?9 AS TEXT) IS NULL THEN api_key_sealed ELSE ?12 END"                                     \
    " WHERE id = ?1"
static struct tams_sql q_wh_update = TAMS_SQL2(WH_UPDATE(NEWEST_SQLITE), WH_UPDATE(NEWEST_PG));
static struct tams_sql q_wh_get = TAMS_SQL("SELECT " WH_COLS " FROM webhooks WHERE id = ?1");
static struct tams_sql q_wh_status =
    TAMS_SQL("UPDATE webhooks SET status = ?3, error = ?4 WHERE id = ?1"
             " AND (CAST(?2 AS TEXT) IS NULL OR status = ?2)");
static struct tams_sql q_wh_delete = TAMS_SQL("DELETE FROM webhooks WHERE id = ?1");
static struct tams_sql q_wh_list =
    TAMS_SQL("SELECT " WH_COLS " FROM webhooks ORDER BY created, id");
static struct tams_sql q_wh_set_owner = TAMS_SQL("UPDATE webhooks SET owner = ?2 WHERE owner = ?1");
static struct tams_sql q_wh_seal =
    TAMS_SQL("UPDATE webhooks SET api_key_id = ?3, api_key_sealed = ?4, api_key_value = NULL"
             " WHERE id = ?1 AND api_key_value = ?2");
/* In a shared database only the holder of the delivery lease (?3) moves the cursor. */
static struct tams_sql q_wh_advance =
    TAMS_SQL2("UPDATE webhooks SET cursor = max(cursor, ?2) WHERE id = ?1",
              "UPDATE webhooks SET cursor = GREATEST(cursor, ?2) WHERE id = ?1"
              " AND (?3::text IS NULL OR lease_owner = ?3)");
static struct tams_sql q_wh_lease =
    TAMS_SQL_PG("UPDATE webhooks SET lease_owner = ?2,"
                " lease_until = now() + ?3::int * interval '1 second' WHERE id = ?1"
                " AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until < now())"
                " RETURNING cursor");
static struct tams_sql q_wh_exists = TAMS_SQL("SELECT 1 FROM webhooks WHERE id = ?1");
static struct tams_sql q_after =
    TAMS_SQL("SELECT seq, type, ts, flow_id, source_id, flow_collected_by,"
             " source_collected_by, payload FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
/* Events every webhook is done with go. */
static struct tams_sql q_purge = TAMS_SQL("DELETE FROM events WHERE seq <= (SELECT"
                                          " COALESCE(min(cursor), (SELECT max(seq) FROM events))"
                                          " FROM webhooks WHERE " WH_LIVE ")");
static struct tams_sql q_pending =
    TAMS_SQL("SELECT COALESCE(sum((SELECT count(*) FROM events e WHERE e.seq > w.cursor)), 0)"
             " FROM webhooks w WHERE " WH_LIVE);

/* ---- writing events ---------------------------------------------------------------------- */

enum { HOOKS_UNKNOWN, HOOKS_OFF, HOOKS_ON };

/* 1 when some webhook is registered, 0 when none, <0 on error; asked once per transaction.
 * Without webhooks no event is written: a webhook only receives events written after it was
 * registered. In a shared database this is exact under READ COMMITTED: HOOKS_KEY is taken
 * shared before looking, and webhook_put holds it exclusively, so no registration commits
 * between this look and our commit. When there is one, EVENTS_KEY is taken before the first
 * insert and held to the end: sequence values are handed out in commit order, so a reader that
 * sees seq N has seen every event below N that will ever commit, and a webhook's cursor never
 * passes an event still in flight. */
static int hooks_on(struct tams_db *db)
{
    int on, rc;

    if (db->hooks != HOOKS_UNKNOWN)
        return db->hooks == HOOKS_ON;
    if ((rc = tams_db_exec(db, &q_hooks_share, NO_ARGS, NULL)))
        return rc;
    {
        struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
        if ((on = tams_db_one(db, &q_hooks_any, NO_ARGS, &rows)) < 0)
            return on;
        tams_db_done(&rows);
    }
    if (on && (rc = tams_db_exec(db, &q_events_lock, NO_ARGS, NULL)))
        return rc;
    db->hooks = on ? HOOKS_ON : HOOKS_OFF;
    return on;
}

/* What a flow's events are filtered by (notes §8.3), read inside the transaction, so a deleted
 * flow still filters. */
struct snap {
    struct tams__strs strs;
    const char *source_id, *flow_cb, *source_cb;
};

static int snap_source(struct tams_db *db, struct snap *sn)
{
    char *cb = NULL;
    int rc = tams__source_collected_by(db, sn->source_id, &cb);

    sn->source_cb = cb ? tams__strs_keep(&sn->strs, cb) : NULL;
    return rc;
}

/* The flow's source and both collected_by lists; NOTFOUND when the row is gone. */
static int snap_flow(struct tams_db *db, const char *flow_id, struct snap *sn)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    if ((rc = tams_db_one(db, &q_flow_snap, ARGS(TEXT(flow_id)), &rows)) <= 0)
        return rc ? rc : TAMS_ERR_NOTFOUND;
    sn->source_id = tams__strs_dup(&sn->strs, tams_db_col(&rows, 0));
    sn->flow_cb = tams__strs_dup(&sn->strs, tams_db_col(&rows, 1));
    tams_db_done(&rows);
    return snap_source(db, sn);
}

static int ev_insert(struct tams_db *db, const char *type, const char *now, const char *flow_id,
                     const struct snap *sn, const struct tams_buf *payload)
{
    char ts[TAMS_RFC3339_MAX];

    if (!tams_buf_ok(payload)) {
        tams_log_error("store: %s event of flow/source '%s' is too large", type,
                       flow_id ? flow_id : sn->source_id);
        return TAMS_ERR_TOOBIG;
    }
    if (!now) {
        tams_clock_now_rfc3339(ts);
        now = ts;
    }
    return tams_db_exec(db, &q_insert,
                        ARGS(TEXT(type), TEXT(now), TEXT(flow_id), TEXT(sn->source_id),
                             TEXT(sn->flow_cb && sn->flow_cb[0] ? sn->flow_cb : NULL),
                             TEXT(sn->source_cb && sn->source_cb[0] ? sn->source_cb : NULL),
                             TEXTN(payload->data, payload->len)),
                        NULL);
}

static int render_flow(void *ctx, const struct tams_flow_rec *rec)
{
    tams_outbox_flow(ctx, rec);
    return 0;
}

int tams__ev_flow(struct tams_db *db, const char *type, const char *flow_id, const char *now)
{
    struct snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    int rc = hooks_on(db);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(db, flow_id, &sn)) == 0 &&
        (rc = tams__flow_read_any(db, flow_id, render_flow, &payload)) == 0)
        rc = ev_insert(db, type, now, flow_id, &sn, &payload);
    tams__strs_release(&sn.strs);
    tams_buf_release(&payload);
    return rc;
}

int tams__ev_flow_deleted(struct tams_db *db, const char *flow_id, const char *source_id,
                          const char *now)
{
    struct snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(4096);
    int rc = hooks_on(db);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(db, flow_id, &sn)) == TAMS_ERR_NOTFOUND) {
        sn.source_id = source_id;
        rc = 0;
    }
    tams_outbox_id(&payload, "flow_id", flow_id);
    if (rc == 0)
        rc = ev_insert(db, TAMS_EV_FLOW_DELETED, now, flow_id, &sn, &payload);
    tams__strs_release(&sn.strs);
    tams_buf_release(&payload);
    return rc;
}

static int render_source(void *ctx, const struct tams_source_rec *rec)
{
    tams_outbox_source(ctx, rec);
    return 0;
}

int tams__ev_source(struct tams_db *db, const char *type, const char *source_id, const char *now)
{
    struct snap sn = {.source_id = source_id};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    int rc = hooks_on(db);

    if (rc <= 0)
        return rc;
    if ((rc = snap_source(db, &sn)))
        goto out;
    if (strcmp(type, TAMS_EV_SOURCE_DELETED) == 0)
        tams_outbox_id(&payload, "source_id", source_id);
    else if ((rc = tams__source_read(db, source_id, render_source, &payload)))
        goto out;
    rc = ev_insert(db, type, now, NULL, &sn, &payload);
out:
    tams__strs_release(&sn.strs);
    tams_buf_release(&payload);
    return rc;
}

/* Where object id's bytes are, its strings kept in strs. Returns 1, 0 (no such object: not
 * controlled), or an error. */
static int where_of(struct tams_db *db, const char *id, struct tams_outbox_where *w,
                    struct tams__strs *strs)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, &q_object, ARGS(TEXT(id)), &rows);

    *w = (struct tams_outbox_where){0};
    if (rc == 1 && tams_db_col_bool(&rows, 0)) {
        w->controlled = true;
        w->storage_id = tams__strs_dup(strs, tams_db_col(&rows, 1));
        w->key = tams__strs_dup(strs, tams_db_col(&rows, 2));
    }
    tams_db_done(&rows);
    return rc;
}

int tams__ev_segments_added(struct tams_db *db, const char *flow_id,
                            const struct tams_segment *segs, size_t n, const int *results,
                            const char *now)
{
    struct snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    struct tams__strs obj_strs = {0}, init_strs = {0};
    struct tams_outbox_where init = {0};
    const char *init_id = NULL;
    struct tams_json j;
    int rc = hooks_on(db);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(db, flow_id, &sn)))
        goto out;
    tams_outbox_segments_begin(&j, &payload, flow_id);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct tams_outbox_where object = {0};

        if (results[i])
            continue;
        if ((rc = where_of(db, segs[i].object_id, &object, &obj_strs)) < 0)
            break;
        /* An init object is shared by a run of segments: read once per run. */
        if (segs[i].init_object_id && (!init_id || strcmp(init_id, segs[i].init_object_id) != 0)) {
            tams__strs_release(&init_strs);
            init_id = tams__strs_dup(&init_strs, segs[i].init_object_id);
            if ((rc = where_of(db, init_id, &init, &init_strs)) < 0)
                break;
        }
        tams_outbox_segment(&j, &segs[i], &object, &init);
        tams__strs_release(&obj_strs);
        rc = 0;
    }
    tams__strs_release(&obj_strs);
    tams__strs_release(&init_strs);
    tams_outbox_segments_end(&j);
    if (rc == 0)
        rc = ev_insert(db, TAMS_EV_SEGMENTS_ADDED, now, flow_id, &sn, &payload);
out:
    tams__strs_release(&sn.strs);
    tams_buf_release(&payload);
    return rc;
}

/* A run never begins or ends in a gap or spans a kept segment (notes §3.4). */
int tams__ev_segments_deleted(struct tams_db *db, const struct tams__del_sel *sel, int64_t upto,
                              const char *now)
{
    struct snap sn = {0};
    struct tams_timerange run = {0};
    struct tams_buf payload = TAMS_BUF_INIT(4096);
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    bool open = false;
    int rc = hooks_on(db), more;

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(db, sel->flow_id, &sn)))
        goto out;
    if ((rc = tams_db_query(
             db, &q_seg_runs,
             ARGS(TEXT(sel->flow_id), INT(sel->lo), INT(upto), INT(sel->hi), TEXT(sel->object_id)),
             &rows)))
        goto out;
    do {
        bool selected;

        if ((more = tams_db_next(&rows)) < 0) {
            rc = more;
            break;
        }
        selected = more && tams_db_col_bool(&rows, 4);
        if (open && !selected) {
            tams_buf_reset(&payload);
            tams_outbox_segments_deleted(&payload, sel->flow_id, &run);
            if ((rc = ev_insert(db, TAMS_EV_SEGMENTS_DELETED, now, sel->flow_id, &sn, &payload)))
                break;
            open = false;
        }
        if (!selected)
            continue;
        if (!open) {
            run.lo = tams_db_col_int(&rows, 0);
            run.lo_incl = tams_db_col_bool(&rows, 2);
            open = true;
        }
        run.hi = tams_db_col_int(&rows, 1);
        run.hi_incl = tams_db_col_bool(&rows, 3);
    } while (more);
out:
    tams_db_done(&rows);
    tams__strs_release(&sn.strs);
    tams_buf_release(&payload);
    return rc;
}

/* ---- webhooks ---------------------------------------------------------------------------- */

struct put_args {
    const struct tams_webhook_rec *rec;
    const struct tams_webhook_caller *caller;
    tams_webhook_merge_cb merge;
    void *ctx;
    enum tams_webhook_put_result result;
    char now[TAMS_RFC3339_MAX];
    char id[TAMS_UUID_STRLEN + 1];
};

static const char *col_or_null(const struct tams_db_rows *r, int i)
{
    return tams_db_col_null(r, i) ? NULL : tams_db_col(r, i);
}

/* The row of a WH_COLS query. */
static struct tams_webhook_rec row_rec(const struct tams_db_rows *r)
{
    return (struct tams_webhook_rec){
        .id = tams_db_col(r, 0),
        .url = tams_db_col(r, 1),
        .api_key_name = col_or_null(r, 2),
        .api_key_id = col_or_null(r, 3),
        .api_key_sealed = col_or_null(r, 4),
        .api_key_value = col_or_null(r, 5),
        .owner = col_or_null(r, 6),
        .owner_scopes = (unsigned)tams_db_col_int(r, 7),
        .doc = tams_db_col(r, 8),
        .cursor = tams_db_col_int(r, 9),
        .status = tams_db_col(r, 10),
        .error = col_or_null(r, 11),
        .api = tams_db_col(r, 12),
        .prefix = tams_db_col(r, 13),
    };
}

static bool same_owner(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int put_new(struct tams_db *db, struct put_args *a, const struct tams_webhook_rec *rec)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int64_t n = 0;
    int rc;

    if (a->caller->max_per_owner > 0) {
        if ((rc = tams_db_one(db, &q_wh_count, ARGS(TEXT(rec->owner)), &rows)) < 0)
            return rc;
        if (rc == 1)
            n = tams_db_col_int(&rows, 0);
        tams_db_done(&rows);
        if (n >= a->caller->max_per_owner)
            return TAMS_ERR_BADREQUEST;
    }
    a->result = TAMS_WEBHOOK_CREATED;
    snprintf(a->id, sizeof(a->id), "%s", rec->id);
    return tams_db_exec(
        db, &q_wh_insert,
        ARGS(TEXT(rec->id), TEXT(rec->url), TEXT(rec->api_key_name), TEXT(rec->api_key_id),
             TEXT(rec->api_key_sealed), TEXT(rec->owner), INT(rec->owner_scopes), TEXT(rec->doc),
             TEXT(a->now), TEXT(rec->status ? rec->status : "created"),
             TEXT(rec->api ? rec->api : "7.0"), TEXT(rec->prefix ? rec->prefix : "")),
        NULL);
}

/* doc, status, api and prefix of webhook id; owner too when set_owner; url and api key too
 * when rec->url is not NULL and replace. */
static int wh_update(struct tams_db *db, const char *id, const struct tams_webhook_rec *rec,
                     const char *doc, bool set_owner, bool replace)
{
    return tams_db_exec(
        db, &q_wh_update,
        ARGS(TEXT(id), TEXT(doc), TEXT(rec->status), TEXT(rec->api ? rec->api : "7.0"),
             TEXT(rec->prefix ? rec->prefix : ""), INT(set_owner), TEXT(rec->owner),
             INT(rec->owner_scopes), TEXT(replace ? rec->url : NULL), TEXT(rec->api_key_name),
             TEXT(rec->api_key_id), TEXT(rec->api_key_sealed)),
        NULL);
}

static int put_body(struct tams_db *db, void *arg)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct put_args *a = arg;
    const struct tams_webhook_rec *rec = a->rec;
    const struct tams_webhook_caller *caller = a->caller;
    struct tams_webhook_merged m = {0};
    struct tams_webhook_rec changed = *rec;
    char *id = NULL, *owner = NULL;
    bool mine, claim;
    int rc;

    /* Exclusive: no transaction that looked for webhooks is in flight, so none of their events
     * is still to take a sequence value below the new cursor. */
    if ((rc = tams_db_exec(db, &q_hooks_exclusive, NO_ARGS, NULL)))
        return rc;
    if ((rc = tams_db_one(db, &q_wh_find,
                          ARGS(TEXT(rec->url), TEXT(rec->api_key_name), TEXT(rec->api_key_id)),
                          &rows)) < 0)
        return rc;
    if (rc == 1) {
        struct tams_webhook_rec old = row_rec(&rows);

        id = tams_strdup(old.id);
        owner = old.owner ? tams_strdup(old.owner) : NULL;
        rc = a->merge && rec->doc ? a->merge(a->ctx, &old, &m) : 0;
    } else if (rc == 0 && a->merge && rec->doc) {
        rc = a->merge(a->ctx, NULL, &m);
    }
    tams_db_done(&rows);
    if (rc < 0)
        goto out;
    if (m.doc)
        changed.doc = m.doc;
    if (m.status)
        changed.status = m.status;
    rec = &changed;
    if (!id) {
        a->result = TAMS_WEBHOOK_REMOVED;
        rc = rec->doc ? put_new(db, a, rec) : 0;
        goto out;
    }
    snprintf(a->id, sizeof(a->id), "%s", id);
    mine = same_owner(owner, rec->owner);
    claim = !mine && owner && caller->legacy && strcmp(owner, caller->legacy) == 0;
    if (!mine && !claim && !caller->admin) {
        rc = TAMS_ERR_FORBIDDEN;
    } else if (!rec->doc) {
        a->result = TAMS_WEBHOOK_REMOVED;
        if ((rc = tams_db_exec1(db, &q_wh_delete, id, NULL)) == 0)
            rc = tams_db_exec(db, &q_purge, NO_ARGS, NULL);
    } else {
        /* an admin's change leaves the owner as it is */
        a->result = TAMS_WEBHOOK_UPDATED;
        rc = wh_update(db, id, rec, rec->doc, mine || claim, false);
    }
out:
    tams_free(id);
    tams_free(owner);
    tams_free(m.doc);
    return rc;
}

int tams_store_webhook_register(struct tams_store *st, const struct tams_webhook_rec *rec,
                                const struct tams_webhook_caller *caller,
                                tams_webhook_merge_cb merge, void *ctx,
                                enum tams_webhook_put_result *result, char *id)
{
    static const struct tams_webhook_caller nobody = {0};
    struct put_args a = {
        .rec = rec, .caller = caller ? caller : &nobody, .merge = merge, .ctx = ctx};
    int rc;

    tams_clock_now_rfc3339(a.now);
    rc = tams_db_run(st, TAMS_DB_TX_QUIET, put_body, NULL, &a);
    if (rc == 0)
        *result = a.result;
    if (rc == 0 && id)
        memcpy(id, a.id, sizeof(a.id));
    return rc;
}

int tams_store_webhook_put(struct tams_store *st, const struct tams_webhook_rec *rec,
                           const struct tams_webhook_caller *caller,
                           enum tams_webhook_put_result *result)
{
    return tams_store_webhook_register(st, rec, caller, NULL, NULL, result, NULL);
}

struct get_args {
    const char *id;
    tams_webhook_cb cb;
    void *ctx;
};

static int get_body(struct tams_db *db, void *arg)
{
    struct get_args *a = arg;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, &q_wh_get, ARGS(TEXT(a->id)), &rows);

    if (rc == 1) {
        struct tams_webhook_rec rec = row_rec(&rows);
        rc = a->cb(a->ctx, &rec);
    } else if (rc == 0) {
        rc = TAMS_ERR_NOTFOUND;
    }
    tams_db_done(&rows);
    return rc;
}

int tams_store_webhook_get(struct tams_store *st, const char *id, tams_webhook_cb cb, void *ctx)
{
    struct get_args a = {id, cb, ctx};

    return tams_db_run(st, TAMS_DB_TX_READ, get_body, NULL, &a);
}

struct replace_args {
    const struct tams_webhook_rec *rec;
    bool keep_owner;
};

static int replace_body(struct tams_db *db, void *arg)
{
    struct replace_args *a = arg;
    const struct tams_webhook_rec *rec = a->rec;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    if ((rc = tams_db_exec(db, &q_hooks_exclusive, NO_ARGS, NULL)))
        return rc;
    if ((rc = tams_db_exists(db, &q_wh_exists, rec->id)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    rc = tams_db_one(db, &q_wh_find,
                     ARGS(TEXT(rec->url), TEXT(rec->api_key_name), TEXT(rec->api_key_id)), &rows);
    if (rc == 1 && strcmp(tams_db_col(&rows, 0), rec->id) != 0)
        rc = TAMS_ERR_CONFLICT;
    tams_db_done(&rows);
    if (rc < 0)
        return rc;
    return wh_update(db, rec->id, rec, rec->doc, !a->keep_owner, true);
}

int tams_store_webhook_replace(struct tams_store *st, const struct tams_webhook_rec *rec,
                               bool keep_owner)
{
    struct replace_args a = {rec, keep_owner};

    return tams_db_run(st, TAMS_DB_TX_QUIET, replace_body, NULL, &a);
}

static int delete_body(struct tams_db *db, void *arg)
{
    int64_t n = 0;
    int rc = tams_db_exec1(db, &q_wh_delete, arg, &n);

    if (rc == 0 && n == 0)
        return TAMS_ERR_NOTFOUND;
    return rc ? rc : tams_db_exec(db, &q_purge, NO_ARGS, NULL);
}

int tams_store_webhook_delete(struct tams_store *st, const char *id)
{
    return tams_db_run(st, TAMS_DB_TX_QUIET, delete_body, NULL, (void *)(uintptr_t)id);
}

struct status_args {
    const char *id, *from, *to, *error;
    int64_t n;
};

static int status_body(struct tams_db *db, void *arg)
{
    struct status_args *a = arg;

    return tams_db_exec(db, &q_wh_status,
                        ARGS(TEXT(a->id), TEXT(a->from), TEXT(a->to), TEXT(a->error)), &a->n);
}

int tams_store_webhook_set_status(struct tams_store *st, const char *id, const char *from,
                                  const char *to, const char *error, bool *changed)
{
    struct status_args a = {id, from, to, error, 0};
    int rc = tams_db_run(st, TAMS_DB_TX_QUIET, status_body, NULL, &a);

    if (changed)
        *changed = rc == 0 && a.n > 0;
    return rc;
}

struct owner_args {
    const char *from, *to;
    int64_t changed;
};

static int set_owner_body(struct tams_db *db, void *arg)
{
    struct owner_args *a = arg;

    return tams_db_exec(db, &q_wh_set_owner, ARGS(TEXT(a->from), TEXT(a->to)), &a->changed);
}

int tams_store_webhook_set_owner(struct tams_store *st, const char *from, const char *to,
                                 int64_t *changed)
{
    struct owner_args a = {from, to, 0};
    int rc = tams_db_run(st, TAMS_DB_TX_QUIET, set_owner_body, NULL, &a);

    if (changed)
        *changed = a.changed;
    return rc;
}

struct seal_args {
    const char *id, *clear, *key_id, *sealed;
};

static int seal_body(struct tams_db *db, void *arg)
{
    struct seal_args *a = arg;
    int64_t n = 0;
    int rc = tams_db_exec(db, &q_wh_seal,
                          ARGS(TEXT(a->id), TEXT(a->clear), TEXT(a->key_id), TEXT(a->sealed)), &n);

    return rc ? rc : n ? 0 : TAMS_ERR_NOTFOUND;
}

int tams_store_webhook_seal(struct tams_store *st, const char *id, const char *clear,
                            const char *api_key_id, const char *api_key_sealed)
{
    struct seal_args a = {id, clear, api_key_id, api_key_sealed};

    return tams_db_run(st, TAMS_DB_TX_QUIET, seal_body, NULL, &a);
}

int tams_store_webhook_list(struct tams_store *st, tams_webhook_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    int rc = tams__fetch(st, &q_wh_list, NULL, NO_ARGS, &rows);

    while (rc == 0 && tams_db_next(&rows) == 1) {
        struct tams_webhook_rec rec = row_rec(&rows);
        rc = cb(ctx, &rec);
    }
    tams_db_done(&rows);
    return rc;
}

int tams_store_events_after(struct tams_store *st, int64_t after, int limit, tams_event_cb cb,
                            void *ctx)
{
    struct tams_db_rows rows;
    int rc = tams__fetch(st, &q_after, NULL, ARGS(INT(after), INT(limit > 0 ? limit : 1)), &rows);

    while (rc == 0 && tams_db_next(&rows) == 1) {
        const struct tams_db_rows *r = &rows;
        struct tams_event_rec ev = {
            .seq = tams_db_col_int(r, 0),
            .type = tams_db_col(r, 1),
            .timestamp = tams_db_col(r, 2),
            .flow_id = tams_db_col(r, 3),
            .source_id = tams_db_col(r, 4),
            .flow_collected_by = tams_db_col(r, 5),
            .source_collected_by = tams_db_col(r, 6),
            .payload = tams_db_col(r, 7),
        };
        rc = cb(ctx, &ev);
    }
    tams_db_done(&rows);
    return rc;
}

int tams_store_events_pending(struct tams_store *st, int64_t *count)
{
    struct tams_db_rows rows;
    int rc = tams__fetch(st, &q_pending, NULL, NO_ARGS, &rows);

    *count = 0;
    if (rc == 0 && tams_db_next(&rows) == 1)
        *count = tams_db_col_int(&rows, 0);
    tams_db_done(&rows);
    return rc;
}

/* Nothing matched the webhook and its lease owner: CONFLICT if the webhook is there. */
static int lease_lost_or_gone(struct tams_db *db, const char *id)
{
    int rc = tams_db_exists(db, &q_wh_exists, id);

    return rc < 0 ? rc : rc ? TAMS_ERR_CONFLICT : TAMS_ERR_NOTFOUND;
}

struct lease_args {
    const char *id, *owner;
    int64_t seconds_or_seq;
    int64_t cursor;
};

static int lease_body(struct tams_db *db, void *arg)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct lease_args *a = arg;
    int rc = tams_db_one(db, &q_wh_lease, ARGS(TEXT(a->id), TEXT(a->owner), INT(a->seconds_or_seq)),
                         &rows);

    if (rc == 1) {
        a->cursor = tams_db_col_int(&rows, 0);
        tams_db_done(&rows);
        return 0;
    }
    return rc < 0 ? rc : lease_lost_or_gone(db, a->id);
}

int tams_store_webhook_lease(struct tams_store *st, const char *id, const char *owner, int seconds,
                             int64_t *cursor)
{
    struct lease_args a = {id, owner, seconds, 0};
    int rc;

    if (!(st->drv->caps & TAMS_DB_CAP_SHARED))
        return TAMS_ERR_INTERNAL;
    rc = tams_db_run(st, TAMS_DB_TX_QUIET, lease_body, NULL, &a);
    *cursor = a.cursor;
    return rc;
}

/* One process uses an unshared database: there are no leases, and owner is not checked. */
static int advance_body(struct tams_db *db, void *arg)
{
    struct lease_args *a = arg;
    const struct tams_db_param v[] = {TEXT(a->id), INT(a->seconds_or_seq), TEXT(a->owner)};
    int64_t n = 0;
    /* Without leases the statement takes no owner. */
    int rc = tams_db_exec(db, &q_wh_advance, v, tams_db_caps(db) & TAMS_DB_CAP_SHARED ? 3 : 2, &n);

    if (rc)
        return rc;
    if (n == 0)
        return lease_lost_or_gone(db, a->id);
    return tams_db_exec(db, &q_purge, NO_ARGS, NULL);
}

int tams_store_webhook_advance(struct tams_store *st, const char *id, const char *owner,
                               int64_t seq)
{
    struct lease_args a = {id, owner, seq, 0};

    return tams_db_run(st, TAMS_DB_TX_QUIET, advance_body, NULL, &a);
}
