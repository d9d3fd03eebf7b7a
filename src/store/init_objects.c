/* SPDX-License-Identifier: Apache-2.0 */
/* init_objects.c - TAMS 8.2 init objects (ADR0045, docs/tams-8.2-changes.md 22) in a
 * registration: which items may name theirs, and the reference each added item holds on it.
 *
 * An init object is an object some segment names as init_object_id (objects.is_init). It is
 * referenced like a media object, one object_refs count per segment of the flow that names
 * it, so referenced_by_flows, the deletions that lower counts and the collector treat both
 * alike; its reference is counted in the flow's analytics as a media object's is. */
#include "core/common.h"
#include "store/store_int.h"

/* What the store knows of the request's objects: all at once over the network, one seek each
 * in-process (a json_each list would be a scan). */
#define KIND_COLS                                                                                  \
    "id, is_init, first_referenced_by_flow IS NOT NULL, allocated_for_flow,"                       \
    " coalesce(storage_id, ''), size, init_object_id, timerange"
static struct tams_sql q_kinds =
    TAMS_SQL_PG("SELECT " KIND_COLS " FROM objects WHERE id = ANY(?1::text[])");
static struct tams_sql q_kind = TAMS_SQL("SELECT " KIND_COLS " FROM objects WHERE id = ?1");
static struct tams_sql q_claim =
    TAMS_SQL("UPDATE objects SET is_init = 1, unreferenced_at = NULL,"
             " first_referenced_by_flow = coalesce(first_referenced_by_flow, ?2) WHERE id = ?1");
static struct tams_sql q_ref_exists =
    TAMS_SQL("SELECT 1 FROM object_refs WHERE object_id = ?1 AND flow_id = ?2");
static struct tams_sql q_ref_add =
    TAMS_SQL("INSERT INTO object_refs(object_id, flow_id, count) VALUES (?1, ?2, ?3)"
             " ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count"
             " + excluded.count");
/* As registration counts a media object's reference (seg_stats.c). */
static struct tams_sql q_stats_object =
    TAMS_SQL("UPDATE flow_stats SET objects = objects + 1, unsized = unsized + ?2,"
             " bytes = bytes + ?3 WHERE flow_id = ?1");
static struct tams_sql q_stats_storage =
    TAMS_SQL("INSERT INTO flow_storage_stats(flow_id, storage_id, segments, bytes)"
             " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(flow_id, storage_id) DO UPDATE"
             " SET segments = flow_storage_stats.segments + excluded.segments,"
             " bytes = flow_storage_stats.bytes + excluded.bytes");

struct kind {
    char *id, *allocated_for, *storage_id, *init_id;
    char *timerange; /* objects.timerange: the first object_timerange given, or NULL */
    bool is_init, registered;
    int64_t size; /* -1: unknown */
};

struct kinds {
    struct kind *v;
    size_t n;
};

static int cmp_kind(const void *a, const void *b)
{
    return strcmp(((const struct kind *)a)->id, ((const struct kind *)b)->id);
}

static int cmp_id_kind(const void *id, const void *b)
{
    return strcmp(id, ((const struct kind *)b)->id);
}

static const struct kind *kind_of(const struct kinds *k, const char *id)
{
    return id && k->n ? bsearch(id, k->v, k->n, sizeof(*k->v), cmp_id_kind) : NULL;
}

static void kind_free(struct kind *o)
{
    tams_free(o->id);
    tams_free(o->allocated_for);
    tams_free(o->storage_id);
    tams_free(o->init_id);
    tams_free(o->timerange);
}

static void kinds_release(struct kinds *k)
{
    for (size_t i = 0; i < k->n; i++)
        kind_free(&k->v[i]);
    tams_free(k->v);
}

/* The row rows is on, appended: kinds_sort orders and dedupes them once, after the reads
 * (sorting after each row cost O(n^2 log n) per batch: 1,000 fresh objects, ~1.2 M
 * comparisons inside the flow's write lock). */
static void kind_add(struct kinds *k, size_t cap, const struct tams_db_rows *rows)
{
    const char *alloc = tams_db_col(rows, 3), *init_id = tams_db_col(rows, 6),
               *timerange = tams_db_col(rows, 7);

    if (k->n == cap)
        return;
    k->v[k->n++] = (struct kind){
        .id = tams_strdup(tams_db_col(rows, 0)),
        .is_init = tams_db_col_bool(rows, 1),
        .registered = tams_db_col_bool(rows, 2),
        .allocated_for = alloc ? tams_strdup(alloc) : NULL,
        .storage_id = tams_strdup(tams_db_col(rows, 4)),
        .size = tams_db_col_null(rows, 5) ? -1 : tams_db_col_int(rows, 5),
        .init_id = init_id ? tams_strdup(init_id) : NULL,
        .timerange = timerange ? tams_strdup(timerange) : NULL,
    };
}

/* Sorted by id for kind_of, once per id (an id asked twice was read twice). */
static void kinds_sort(struct kinds *k)
{
    size_t m = 0;

    if (k->n > 1)
        qsort(k->v, k->n, sizeof(*k->v), cmp_kind);
    for (size_t i = 0; i < k->n; i++) {
        if (m && strcmp(k->v[m - 1].id, k->v[i].id) == 0)
            kind_free(&k->v[i]);
        else
            k->v[m++] = k->v[i];
    }
    k->n = m;
}

static int kinds_read(struct tams_db *db, const struct tams_segment *segs, size_t n,
                      const int *results, struct kinds *k)
{
    struct tams_buf list = TAMS_BUF_INIT(SIZE_MAX);
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    bool remote = tams_db_caps(db) & TAMS_DB_CAP_REMOTE;
    size_t cap = 2 * n;
    int rc = 0;

    const char *last[2] = {NULL, NULL}; /* each kind's previous id: a long object's segments */

    k->v = tams_calloc(cap ? cap : 1, sizeof(*k->v));

    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *ids[2] = {segs[i].object_id, segs[i].init_object_id};

        for (int w = 0; w < 2 && !results[i] && rc == 0; w++) {
            if (!ids[w] || (last[w] && strcmp(last[w], ids[w]) == 0))
                continue;
            last[w] = ids[w];
            if (remote) {
                tams_db_list_text(db->st, &list, ids[w]);
            } else if ((rc = tams_db_one(db, &q_kind, ARGS(TEXT(ids[w])), &rows)) == 1) {
                kind_add(k, cap, &rows);
                tams_db_done(&rows);
                rc = 0;
            }
        }
    }
    if (remote && rc == 0 && list.len) {
        tams_db_list_end(db->st, &list);
        if ((rc = tams_db_query(db, &q_kinds, ARGS(TEXT(list.data)), &rows)) == 0)
            while ((rc = tams_db_next(&rows)) == 1)
                kind_add(k, cap, &rows);
        tams_db_done(&rows);
    }
    tams_buf_release(&list);
    kinds_sort(k);
    return rc < 0 ? rc : 0;
}

/* Is id named as the other kind by an item of the batch other than item i? */
static bool batch_names(const struct tams_segment *segs, size_t n, const int *results, size_t i,
                        const char *id, bool as_init)
{
    for (size_t k = 0; k < n; k++) {
        const char *other = as_init ? segs[k].init_object_id : segs[k].object_id;
        if (k != i && !results[k] && other && strcmp(other, id) == 0)
            return true;
    }
    return false;
}

static int refuse(int *result, struct tams_buf *whys, size_t i, const char *fmt, const char *id)
{
    *result = TAMS_ERR_VALIDATION;
    if (whys)
        tams__why_add(&whys[i], fmt, id);
    return 0;
}

/* An object_timerange the registration gives (not one derived from 7.0's sample pair). */
static const char *given_otr(const struct tams_segment *g)
{
    return g->has & TAMS_SEG_OTR_DERIVED ? NULL : g->object_timerange;
}

/* object_timerange is the object's own timerange (8.2's POST segments: "reject requests
 * where object_timerange is set to a value that conflicts with the existing Media Object
 * metadata"; "requests which change object properties (... object_timerange ...) SHOULD be
 * rejected"). Once known (stored, or given by an earlier item of this batch), a reuse may
 * repeat it or leave it out, nothing else. Returns the timerange item i conflicts with, or
 * NULL. */
static const char *otr_conflict(const struct kinds *k, const struct tams_segment *segs,
                                const int *results, size_t i)
{
    const struct tams_segment *g = &segs[i];
    const struct kind *media = kind_of(k, g->object_id);
    const char *known = media ? media->timerange : NULL, *mine = given_otr(g);
    struct tams_timerange a, b;

    for (size_t j = 0; !known && j < i; j++)
        if (!results[j] && given_otr(&segs[j]) && strcmp(segs[j].object_id, g->object_id) == 0)
            known = segs[j].object_timerange;
    if (!mine || !known || strcmp(mine, known) == 0)
        return NULL;
    /* Both are canonical text when tamsd wrote them; compared as timeranges all the same. */
    if (tams_timerange_parse(mine, strlen(mine), &a) == 0 &&
        tams_timerange_parse(known, strlen(known), &b) == 0 && a.lo == b.lo && a.hi == b.hi &&
        a.lo_incl == b.lo_incl && a.hi_incl == b.hi_incl)
        return NULL;
    return known;
}

int tams__init_check(struct tams_db *db, const char *flow_id, const struct tams_segment *segs,
                     size_t n, int *results, struct tams_buf *whys, struct tams_segment **own,
                     struct tams__strs *inherited)
{
    struct kinds k = {0};
    bool any_init = false;
    int rc;

    if ((rc = kinds_read(db, segs, n, results, &k)))
        return rc;
    for (size_t i = 0; i < n; i++)
        any_init |= !results[i] && segs[i].init_object_id;
    for (size_t i = 0; i < n; i++) {
        const struct tams_segment *g = &segs[i];
        const struct kind *media, *init;
        const char *known_otr;

        if (results[i] || !g->object_id)
            continue;
        media = kind_of(&k, g->object_id);
        if ((media && media->is_init) ||
            (any_init && batch_names(segs, n, results, i, g->object_id, true))) {
            refuse(&results[i], whys, i,
                   "object '%s' is an init object: it cannot be a segment's media object",
                   g->object_id);
            continue;
        }
        if ((known_otr = otr_conflict(&k, segs, results, i))) {
            results[i] = TAMS_ERR_VALIDATION;
            if (whys)
                tams__why_add(&whys[i],
                              "object '%s' has object_timerange %s: a segment reusing it may"
                              " give that or none, not %s",
                              g->object_id, known_otr, g->object_timerange);
            continue;
        }
        if (!g->init_object_id) {
            /* A media object registered with its init keeps it when reused. */
            if (media && media->init_id) {
                if (!*own) {
                    *own = tams_malloc(n * sizeof(**own));
                    memcpy(*own, segs, n * sizeof(**own));
                }
                (*own)[i].init_object_id = tams__strs_dup(inherited, media->init_id);
            }
            continue;
        }
        init = kind_of(&k, g->init_object_id);
        if (strcmp(g->init_object_id, g->object_id) == 0 ||
            (init && init->registered && !init->is_init) ||
            batch_names(segs, n, results, i, g->init_object_id, false))
            refuse(&results[i], whys, i,
                   "object '%s' is a media object: it cannot be an init object", g->init_object_id);
        else if (!init)
            refuse(&results[i], whys, i,
                   "init object '%s' is unknown: allocate it with POST /flows/{id}/storage and"
                   " upload it first",
                   g->init_object_id);
        else if (!init->registered && init->allocated_for &&
                 strcmp(init->allocated_for, flow_id) != 0)
            refuse(&results[i], whys, i,
                   "init object '%s' was allocated for another flow and has not been registered"
                   " yet",
                   g->init_object_id);
    }
    kinds_release(&k);
    return 0;
}

/* One init object's references from the items added: claimed, counted, in the analytics. */
static int claim(struct tams_db *db, const char *flow_id, const struct kind *o, int64_t count)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    bool fresh;
    int rc;

    if ((rc = tams_db_exec(db, &q_claim, ARGS(TEXT(o->id), TEXT(flow_id)), NULL)) ||
        (rc = tams_db_one(db, &q_ref_exists, ARGS(TEXT(o->id), TEXT(flow_id)), &rows)) < 0)
        return rc;
    tams_db_done(&rows);
    fresh = rc == 0;
    if ((rc = tams_db_exec(db, &q_ref_add, ARGS(TEXT(o->id), TEXT(flow_id), INT(count)), NULL)))
        return rc;
    if (fresh && (rc = tams_db_exec(
                      db, &q_stats_object,
                      ARGS(TEXT(flow_id), INT(o->size < 0), INT(o->size < 0 ? 0 : o->size)), NULL)))
        return rc;
    return tams_db_exec(db, &q_stats_storage,
                        ARGS(TEXT(flow_id), TEXT(o->storage_id), INT(count),
                             INT(fresh && o->size > 0 ? o->size : 0)),
                        NULL);
}

int tams__init_claim(struct tams_db *db, const char *flow_id, const struct tams_segment *segs,
                     size_t n, const int *results)
{
    struct kinds k = {0};
    int *no_results, rc = 0;
    bool any = false;

    for (size_t i = 0; i < n; i++)
        any |= !results[i] && segs[i].init_object_id;
    if (!any)
        return 0;
    no_results = tams_calloc(n, sizeof(*no_results));
    for (size_t i = 0; i < n; i++) /* only the init ids of the items added are read */
        no_results[i] = results[i] || !segs[i].init_object_id;
    rc = kinds_read(db, segs, n, no_results, &k);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct kind *o;
        int64_t count = 0;
        bool first = true;

        if (no_results[i] || !(o = kind_of(&k, segs[i].init_object_id)))
            continue;
        /* Once per init object, with every added item naming it. */
        for (size_t j = 0; j < n && first; j++)
            first = !(j < i && !no_results[j] && strcmp(segs[j].init_object_id, o->id) == 0);
        if (!first)
            continue;
        for (size_t j = i; j < n; j++)
            count += !no_results[j] && strcmp(segs[j].init_object_id, o->id) == 0;
        rc = claim(db, flow_id, o, count);
    }
    kinds_release(&k);
    tams_free(no_results);
    return rc;
}
