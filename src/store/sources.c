/* SPDX-License-Identifier: Apache-2.0 */
/* sources.c - sources: created with their first flow, read with their tags and the collections
 * their flows make, their label, description and tags written. */
#include "core/common.h"
#include "store/cursor.h"
#include "store/outbox.h"
#include "store/sort.h"
#include "store/store_int.h"

#define SOURCE_COLS                                                                                \
    "src.id, src.format, src.label, src.description, src.created, src.updated,"                    \
    " src.created_by, src.updated_by"

static struct tams_sql q_format = TAMS_SQL("SELECT format FROM sources WHERE id = ?1");
/* Insert-if-absent: two writers creating one source both get through, one creates it. */
static struct tams_sql q_insert =
    TAMS_SQL("INSERT INTO sources(id, format, created, updated, created_by, updated_by)"
             " VALUES (?1, ?2, ?3, ?3, ?4, ?4) ON CONFLICT(id) DO NOTHING");
static struct tams_sql q_has_flows = TAMS_SQL("SELECT 1 FROM flows WHERE source_id = ?1 LIMIT 1");
static struct tams_sql q_delete = TAMS_SQL("DELETE FROM sources WHERE id = ?1");
static struct tams_sql q_get =
    TAMS_SQL("SELECT " SOURCE_COLS " FROM sources src WHERE src.id = ?1");
static struct tams_sql q_tags =
    TAMS_SQL("SELECT name, pos, value FROM source_tags WHERE source_id = ?1 ORDER BY name, pos");
static struct tams_sql q_tag_rows =
    TAMS_SQL("SELECT name, pos, value FROM source_tags WHERE source_id = ?1 AND name = ?2"
             " ORDER BY pos");
/* The collection a source has is derived from its flows' collections. */
static struct tams_sql q_collection =
    TAMS_SQL("SELECT DISTINCT g.source_id, c.role FROM flows f"
             " JOIN flow_collection c ON c.collector_id = f.id JOIN flows g ON g.id = c.member_id"
             " WHERE f.source_id = ?1 ORDER BY 1, 2");
static struct tams_sql q_collected_by =
    TAMS_SQL("SELECT DISTINCT f.source_id FROM flows g"
             " JOIN flow_collection c ON c.member_id = g.id JOIN flows f ON f.id = c.collector_id"
             " WHERE g.source_id = ?1 ORDER BY 1");
static struct tams_sql q_set_label =
    TAMS_SQL("UPDATE sources SET label = ?2, updated = ?3, updated_by = ?4 WHERE id = ?1");
static struct tams_sql q_set_description =
    TAMS_SQL("UPDATE sources SET description = ?2, updated = ?3, updated_by = ?4 WHERE id = ?1");
static struct tams_sql q_touch =
    TAMS_SQL("UPDATE sources SET updated = ?2, updated_by = ?3 WHERE id = ?1");
static struct tams_sql q_tag_set =
    TAMS_SQL("INSERT INTO source_tags(source_id, name, pos, value) VALUES (?1, ?2, ?3, ?4)");
static struct tams_sql q_tag_delete =
    TAMS_SQL("DELETE FROM source_tags WHERE source_id = ?1 AND name = ?2");

/* ---- for flows and events ---------------------------------------------------------------- */

int tams__source_ensure(struct tams_db *db, const struct tams_flow_index *idx, const char *now,
                        const char *principal, unsigned *effects, struct tams_buf *why)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int64_t added = 0;
    int rc;

    if ((rc = tams_db_exec(
             db, &q_insert,
             ARGS(TEXT(idx->source_id), TEXT(idx->format), TEXT(now), TEXT(principal)), &added)))
        return rc;
    if (added) {
        if (effects)
            *effects |= TAMS_EFFECT_SOURCE_CREATED;
        return 0;
    }
    rc = tams_db_one(db, &q_format, ARGS(TEXT(idx->source_id)), &rows);
    if (rc == 0) {
        rc = TAMS_DB_RETRY; /* deleted since the insert looked */
    } else if (rc == 1) {
        const char *format = tams_db_col(&rows, 0);

        rc = 0;
        if (strcmp(format, idx->format) != 0) {
            tams__why_add(why, "source_id %s has format %s; flow format %s", idx->source_id, format,
                          idx->format);
            rc = TAMS_ERR_VALIDATION;
        }
    }
    tams_db_done(&rows);
    return rc;
}

int tams__source_drop_if_orphan(struct tams_db *db, const char *source_id, unsigned *effects)
{
    int rc = tams_db_exists(db, &q_has_flows, source_id);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    /* source_tags go by ON DELETE CASCADE */
    if ((rc = tams_db_exec1(db, &q_delete, source_id, NULL)))
        return rc;
    if (effects)
        *effects |= TAMS_EFFECT_SOURCE_DELETED;
    return tams__ev_source(db, TAMS_EV_SOURCE_DELETED, source_id, NULL);
}

int tams__source_collected_by(struct tams_db *db, const char *source_id, char **out)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams_buf b = TAMS_BUF_INIT(1 << 20);
    int rc;

    *out = NULL;
    if ((rc = tams_db_query(db, &q_collected_by, ARGS(TEXT(source_id)), &rows)))
        return rc;
    while ((rc = tams_db_next(&rows)) == 1) {
        if (b.len)
            tams_buf_addch(&b, ',');
        tams_buf_addstr(&b, tams_db_col(&rows, 0));
    }
    tams_db_done(&rows);
    if (rc == 0 && b.len)
        *out = tams_buf_detach(&b, NULL);
    tams_buf_release(&b);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

struct source_row {
    struct tams_source_rec rec;
    int group; /* of a sorted listing (store/sort.h) */
    struct tams_tag *tags;
    const char **values; /* the tags' list values */
    struct tams_collection_ref *coll;
    const char **collected_by;
};

/* Sources read in one operation, copied so callbacks run after it. */
struct source_rows {
    struct source_row *v;
    size_t n;
    bool more; /* a row beyond the limit was there */
    struct tams__strs strs;
};

static void source_rows_release(struct source_rows *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        tams_free(rs->v[i].tags);
        tams_free(rs->v[i].values);
        tams_free(rs->v[i].coll);
        tams_free(rs->v[i].collected_by);
    }
    tams_free(rs->v);
    tams__strs_release(&rs->strs);
    rs->v = NULL;
    rs->n = 0;
    rs->more = false;
}

/* The rows of one detail query of a source as a new array *out of n elements of size, each
 * one or two strings (the first columns). */
static int detail(struct tams_db *db, struct tams_sql *q, const char *id, size_t size, void **out,
                  size_t *n, struct tams__strs *strs)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    char *v = NULL;
    size_t cap = 0;
    int rc;

    *n = 0;
    if ((rc = tams_db_query(db, q, ARGS(TEXT(id)), &rows)))
        return rc;
    while ((rc = tams_db_next(&rows)) == 1) {
        const char **item;

        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            v = tams_realloc(v, tams_st_mult(cap, size));
        }
        item = (const char **)(void *)(v + *n * size);
        item[0] = tams__strs_dup(strs, tams_db_col(&rows, 0));
        if (size > sizeof(*item))
            item[1] = tams__strs_dup(strs, tams_db_col(&rows, 1));
        (*n)++;
    }
    tams_db_done(&rows);
    *out = v;
    return rc;
}

/* The tags of rows (name, pos, value) of source_tags, in name and pos order, as *tags_out
 * (values in *values_out; strings in strs). Rows: schema_sqlite.c, entry 7. */
static int read_tags(struct tams_db_rows *rows, struct tams_tag **tags_out, size_t *ntags,
                     const char ***values_out, struct tams__strs *strs)
{
    struct tams_tag *tags = NULL;
    const char **values = NULL;
    size_t cap = 0, vcap = 0, nv = 0, n = 0;
    int rc;

    while ((rc = tams_db_next(rows)) == 1) {
        const char *name = tams_db_col(rows, 0), *value = tams_db_col(rows, 2);
        int64_t pos = tams_db_col_int(rows, 1);

        if (pos < 0 || n == 0 || strcmp(tags[n - 1].name, name) != 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 4;
                tags = tams_realloc(tags, tams_st_mult(cap, sizeof(*tags)));
            }
            tags[n++] = (struct tams_tag){.name = tams__strs_dup(strs, name),
                                          .value = pos == -1 ? tams__strs_dup(strs, value) : "",
                                          .list = pos != -1};
            /* values are an offset into the array until it stops moving */
            tags[n - 1].values = (const char *const *)(uintptr_t)nv;
        }
        if (pos >= 0) {
            if (nv == vcap) {
                vcap = vcap ? vcap * 2 : 4;
                values = tams_realloc(values, tams_st_mult(vcap, sizeof(*values)));
            }
            values[nv++] = tams__strs_dup(strs, value ? value : "");
            tags[n - 1].nvalues++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)(uintptr_t)tags[i].values;
        tags[i].values = tags[i].list && values ? values + at : NULL;
        if (tags[i].nvalues)
            tags[i].value = values[at];
    }
    *tags_out = tags;
    *ntags = n;
    *values_out = values;
    return rc;
}

static int tags_of(struct tams_db *db, const char *id, struct tams_tag **tags, size_t *n,
                   const char ***values, struct tams__strs *strs)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    *tags = NULL;
    *values = NULL;
    *n = 0;
    if ((rc = tams_db_query(db, &q_tags, ARGS(TEXT(id)), &rows)))
        return rc;
    rc = read_tags(&rows, tags, n, values, strs);
    tams_db_done(&rows);
    return rc;
}

/* Tags and the derived collection members of one source. */
static int source_row_complete(struct tams_db *db, struct source_rows *rs, struct source_row *r)
{
    struct tams_source_rec *rec = &r->rec;
    void *coll = NULL, *collected_by = NULL;
    int rc;

    rc = tags_of(db, rec->id, &r->tags, &rec->ntags, &r->values, &rs->strs);
    rec->tags = r->tags;
    if (rc == 0 && (rc = detail(db, &q_collection, rec->id, sizeof(*r->coll), &coll,
                                &rec->nsource_collection, &rs->strs)) == 0)
        rc = detail(db, &q_collected_by, rec->id, sizeof(*r->collected_by), &collected_by,
                    &rec->ncollected_by, &rs->strs);
    rec->source_collection = r->coll = coll;
    rec->collected_by = r->collected_by = collected_by;
    return rc;
}

/* Rows of a SOURCE_COLS query appended to rs up to limit in all (a row beyond sets more),
 * each completed with its details. */
static int source_rows_read(struct tams_db *db, struct tams_db_rows *rows, int limit,
                            struct source_rows *rs)
{
    size_t cap = rs->n, start = rs->n;
    int rc;

    while ((rc = tams_db_next(rows)) == 1) {
        struct tams_source_rec *s;

        if ((int)rs->n == limit) {
            rs->more = true;
            break;
        }
        if (rs->n == cap) {
            cap = cap ? cap * 2 : 8;
            rs->v = tams_realloc(rs->v, tams_st_mult(cap, sizeof(*rs->v)));
        }
        memset(&rs->v[rs->n], 0, sizeof(rs->v[rs->n]));
        s = &rs->v[rs->n++].rec;
        s->id = tams__strs_dup(&rs->strs, tams_db_col(rows, 0));
        s->format = tams__strs_dup(&rs->strs, tams_db_col(rows, 1));
        s->label = tams__strs_dup(&rs->strs, tams_db_col(rows, 2));
        s->description = tams__strs_dup(&rs->strs, tams_db_col(rows, 3));
        s->created = tams__strs_dup(&rs->strs, tams_db_col(rows, 4));
        s->updated = tams__strs_dup(&rs->strs, tams_db_col(rows, 5));
        s->created_by = tams__strs_dup(&rs->strs, tams_db_col(rows, 6));
        s->updated_by = tams__strs_dup(&rs->strs, tams_db_col(rows, 7));
    }
    tams_db_done(rows);
    for (size_t i = start; i < rs->n && rc >= 0; i++)
        rc = source_row_complete(db, rs, &rs->v[i]);
    return rc < 0 ? rc : 0;
}

static int source_rows_emit(const struct source_rows *rs, tams_source_cb cb, void *ctx)
{
    int rc = 0;

    for (size_t i = 0; i < rs->n && rc == 0; i++)
        rc = cb(ctx, &rs->v[i].rec);
    return rc;
}

/* One source by id into rs. */
static int source_get_rows(struct tams_db *db, const char *id, struct source_rows *rs)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc;

    if ((rc = tams_db_query(db, &q_get, ARGS(TEXT(id)), &rows)))
        return rc;
    return source_rows_read(db, &rows, 1, rs);
}

int tams__source_read(struct tams_db *db, const char *id, tams_source_cb cb, void *ctx)
{
    struct source_rows rs = {0};
    int rc = source_get_rows(db, id, &rs);

    if (rc == 0)
        rc = rs.n ? source_rows_emit(&rs, cb, ctx) : TAMS_ERR_NOTFOUND;
    source_rows_release(&rs);
    return rc;
}

struct list_args {
    const char *id; /* source_get */
    /* source_list */
    const struct tams_source_filter *f;
    enum tams_db_dialect dialect;
    const struct tams__sort *sort; /* NULL: by id (7.0) */
    struct tams__sort_at at;
    const char *after; /* by id: the last id of the previous page */
    struct tams_buf *sql;
    struct tams_db_params p;
    int limit;
    struct source_rows rs;
};

static void list_reset(void *arg)
{
    source_rows_release(&((struct list_args *)arg)->rs);
}

/* The sources of collected_by_ids (store.h): those a flow of any given source collects a flow
 * of, or with none given those no flow collects a flow of (as q_collected_by derives them). */
static void collected_sql(struct tams_buf *sql, struct tams_db_params *p,
                          const struct tams_collected_filter *c)
{
    if (!c->given)
        return;
    if (c->n == 0) {
        tams_buf_addstr(sql, " AND NOT EXISTS (SELECT 1 FROM flows g JOIN flow_collection c"
                             " ON c.member_id = g.id WHERE g.source_id = src.id)");
        return;
    }
    tams_buf_addstr(sql, " AND src.id IN (SELECT g.source_id FROM flows f"
                         " JOIN flow_collection c ON c.collector_id = f.id"
                         " JOIN flows g ON g.id = c.member_id WHERE f.source_id IN (");
    for (size_t i = 0; i < c->n; i++) {
        tams_buf_addf(sql, i ? ", ?%d" : "?%d", p->n + 1);
        tams_db_text(p, c->ids[i]);
    }
    tams_buf_addstr(sql, "))");
}

/* The statement of group g of the page (store/sort.h), for want rows. */
static int list_sql(struct list_args *a, int g, int64_t want)
{
    const struct tams_source_filter *f = a->f;

    tams_buf_reset(a->sql);
    a->p = (struct tams_db_params)TAMS_DB_PARAMS_INIT;
    tams_buf_addstr(a->sql, "SELECT " SOURCE_COLS " FROM sources src WHERE true");
    if (f && f->format)
        tams__cond_text(a->sql, &a->p, "src.format = ?%d", f->format);
    if (f && f->label)
        tams__cond_text(a->sql, &a->p, "src.label = ?%d", f->label);
    if (f) {
        tams__tag_filters(a->dialect, a->sql, &a->p, "source_tags", "source_id", "src.id", f->tags,
                          f->ntags);
        collected_sql(a->sql, &a->p, &f->collected_by);
    }
    if (a->sort) {
        tams__sort_sql(a->sql, &a->p, a->sort, g, &a->at, want);
    } else {
        if (a->after)
            tams__cond_text(a->sql, &a->p, "src.id > ?%d", a->after);
        tams_buf_addf(a->sql, " ORDER BY src.id LIMIT ?%d", a->p.n + 1);
        tams_db_int(&a->p, want);
    }
    return tams_buf_ok(a->sql) ? 0 : TAMS_ERR_STORE;
}

/* The page and the details of each of its sources come from one snapshot. */
static int list_body(struct tams_db *db, void *arg)
{
    struct list_args *a = arg;
    int groups = a->sort ? tams__sort_groups(a->sort) : 1;
    int rc = 0;

    if (a->id) {
        struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
        if ((rc = tams_db_query(db, &q_get, ARGS(TEXT(a->id)), &rows)))
            return rc;
        return source_rows_read(db, &rows, 1, &a->rs);
    }
    for (int g = a->at.group; g < groups && rc == 0 && !a->rs.more; g++) {
        struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
        size_t before = a->rs.n;

        if ((rc = list_sql(a, g, (int64_t)a->limit - (int64_t)a->rs.n + 1)) ||
            (rc = tams_db_query_sql(db, a->sql->data, &a->p, &rows)) ||
            (rc = source_rows_read(db, &rows, a->limit, &a->rs)))
            break;
        for (size_t i = before; i < a->rs.n; i++)
            a->rs.v[i].group = g;
    }
    return rc;
}

int tams_store_source_get(struct tams_store *st, const char *id, tams_source_cb cb, void *ctx)
{
    struct list_args a = {.id = id, .limit = 1};
    int rc = tams_db_run(st, TAMS_DB_TX_READ, list_body, list_reset, &a);

    if (rc == 0)
        rc = a.rs.n ? source_rows_emit(&a.rs, cb, ctx) : TAMS_ERR_NOTFOUND;
    source_rows_release(&a.rs);
    return rc;
}

/* The sort value of a source (NULL: unset). */
static const char *sort_value(const struct tams_source_rec *r, enum tams_sort_by by)
{
    return by == TAMS_SORT_CREATED ? r->created : by == TAMS_SORT_UPDATED ? r->updated : r->label;
}

int tams_store_source_list(struct tams_store *st, const struct tams_source_filter *f,
                           const struct tams_page *page, tams_source_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(TAMS__SQL_MAX), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct list_args a = {
        .f = f, .dialect = st->drv->dialect, .sql = &sql, .limit = tams__page_start(page)};
    struct tams__sort sort;
    char col[32]; /* sort.col: lives as long as the listing */
    enum tams_sort_by by = f ? f->sort : TAMS_SORT_ID;
    int rc;

    if (f && !tams__filters_fit(f->tags, f->ntags, f->collected_by.n)) {
        rc = TAMS_ERR_BADQUERY;
        goto out;
    }
    if (by == TAMS_SORT_CREATED || by == TAMS_SORT_UPDATED || by == TAMS_SORT_LABEL) {
        bool desc = by != TAMS_SORT_LABEL; /* times newest first, labels A to Z */
        const char *bare = by == TAMS_SORT_CREATED   ? "created"
                           : by == TAMS_SORT_UPDATED ? "updated"
                                                     : "label";

        snprintf(col, sizeof(col), "src.%s", bare);
        tams__sort_init(&sort, "sources", col, bare, "src.id", desc != f->reverse,
                        by == TAMS_SORT_LABEL);
        a.sort = &sort;
        if ((rc = tams__sort_after(&sort, page ? page->after : NULL, &a.at)))
            goto out;
    } else {
        if ((rc = tams__page_after(page, "sources", &after)))
            goto out;
        a.after = after.len ? after.data : NULL;
    }
    if ((rc = tams_db_run(st, TAMS_DB_TX_READ, list_body, list_reset, &a)))
        goto out;
    if (a.rs.more && a.rs.n && page && page->next_key) {
        const struct source_row *last = &a.rs.v[a.rs.n - 1];
        rc = a.sort ? tams__sort_cursor(page->next_key, a.sort, last->group, last->rec.id,
                                        sort_value(&last->rec, by))
                    : tams_cursor_encode(page->next_key, "sources", last->rec.id);
        if (rc)
            goto out;
    }
    rc = source_rows_emit(&a.rs, cb, ctx);
out:
    source_rows_release(&a.rs);
    tams_buf_release(&sql);
    tams_buf_release(&after);
    return rc;
}

/* ---- writing ----------------------------------------------------------------------------- */

struct write_args {
    const char *id, *name, *value, *principal;
    enum tams_source_prop prop;
};

static int set_prop_body(struct tams_db *db, void *arg)
{
    struct write_args *a = arg;
    char now[TAMS_RFC3339_MAX];
    int64_t n = 0;
    int rc;

    tams_clock_now_rfc3339(now);
    rc = tams_db_exec(db, a->prop == TAMS_SOURCE_LABEL ? &q_set_label : &q_set_description,
                      ARGS(TEXT(a->id), TEXT(a->value), TEXT(now), TEXT(a->principal)), &n);
    if (rc)
        return rc;
    return n ? tams__ev_source(db, TAMS_EV_SOURCE_UPDATED, a->id, now) : TAMS_ERR_NOTFOUND;
}

int tams_store_source_set_prop(struct tams_store *st, const char *id, enum tams_source_prop prop,
                               const char *value, const char *principal)
{
    struct write_args a = {.id = id, .value = value, .principal = principal, .prop = prop};

    return tams_db_run(st, TAMS_DB_TX_WRITE, set_prop_body, NULL, &a);
}

struct tag_args {
    const char *id, *principal;
    const struct tams_tag *tag; /* with its name; value NULL: delete it */
    bool v70;
};

/* What a 7.0 write makes of the stored tag (tams_tag_70_write), as the tag to write. */
static int tag_70(struct tams_db *db, const struct tag_args *a, struct tams_tag *out,
                  const char **one)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct tams__strs strs = {0};
    struct tams_tag *stored = NULL;
    const char **values = NULL;
    size_t n = 0;
    int rc;

    *out = *a->tag;
    if ((rc = tams_db_query(db, &q_tag_rows, ARGS(TEXT(a->id), TEXT(a->tag->name)), &rows)))
        return rc;
    rc = read_tags(&rows, &stored, &n, &values, &strs);
    tams_db_done(&rows);
    if (rc == 0 && n) {
        switch (tams_tag_70_write(&stored[0], a->tag->value, true)) {
        case TAMS_TAG70_CONFLICT:
            rc = TAMS_ERR_CONFLICT;
            break;
        case TAMS_TAG70_LIST1:
        case TAMS_TAG70_KEEP:
            *one = a->tag->value;
            *out = (struct tams_tag){a->tag->name, a->tag->value, one, 1, true};
            break;
        case TAMS_TAG70_STRING:
            break;
        }
    }
    tams_free(stored);
    tams_free(values);
    tams__strs_release(&strs);
    return rc;
}

static int set_tag_body(struct tams_db *db, void *arg)
{
    struct tag_args *a = arg;
    struct tams_tag write = {0};
    const char *one = NULL;
    char now[TAMS_RFC3339_MAX];
    int64_t n = 0;
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = tams_db_exec(db, &q_touch, ARGS(TEXT(a->id), TEXT(now), TEXT(a->principal)), &n)))
        return rc;
    if (n == 0)
        return TAMS_ERR_NOTFOUND;
    if (a->tag->value && a->v70 && (rc = tag_70(db, a, &write, &one)))
        return rc;
    if (a->tag->value && !a->v70)
        write = *a->tag;
    if ((rc = tams_db_exec(db, &q_tag_delete, ARGS(TEXT(a->id), TEXT(a->tag->name)), &n)))
        return rc;
    if (!a->tag->value && n == 0)
        return TAMS_ERR_NOTFOUND;
    if (a->tag->value && (rc = tams__tag_rows(db, &q_tag_set, a->id, &write)))
        return rc;
    return tams__ev_source(db, TAMS_EV_SOURCE_UPDATED, a->id, now);
}

int tams_store_source_set_tag(struct tams_store *st, const char *id, const struct tams_tag *tag,
                              bool v70, const char *principal)
{
    struct tag_args a = {.id = id, .principal = principal, .tag = tag, .v70 = v70};

    return tams_db_run(st, TAMS_DB_TX_WRITE, set_tag_body, NULL, &a);
}
