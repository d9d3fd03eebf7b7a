/* SPDX-License-Identifier: Apache-2.0 */
/* instances.c - TAMS 8.2 object instances (ADR0038): the copies of an object beyond the one it
 * was allocated in, kept as a JSON array in objects.instances (schema 7 / 11). */
#include "core/common.h"
#include "store/store_int.h"

#include <json-c/json.h>

#define INST_COLS "controlled, storage_id, key, instances"
/* Registered objects only: one allocated and never used is not an object to 8.2 yet. */
#define INST_READ                                                                                  \
    "SELECT " INST_COLS " FROM objects WHERE id = ?1 AND first_referenced_by_flow IS NOT NULL"
static struct tams_sql q_read = TAMS_SQL(INST_READ);
/* In a change: the row is held until it is written back. */
static struct tams_sql q_read_lock = TAMS_SQL2(INST_READ, INST_READ " FOR UPDATE");
static struct tams_sql q_write =
    TAMS_SQL("UPDATE objects SET storage_id = ?2, key = ?3, instances = ?4 WHERE id = ?1");
static struct tams_sql q_trash = TAMS_SQL(
    "INSERT INTO object_trash(object_id, storage_id, key, not_before) VALUES (?1, ?2, ?3, ?4)");

/* The object's row, its further instances parsed (an empty array when none). */
struct row {
    bool controlled;
    char *storage_id, *key;
    json_object *list;
};

static void row_release(struct row *r)
{
    tams_free(r->storage_id);
    tams_free(r->key);
    json_object_put(r->list);
    memset(r, 0, sizeof(*r));
}

static char *dup_col(const struct tams_db_rows *rows, int col)
{
    const char *s = tams_db_col(rows, col);
    return s ? tams_strdup(s) : NULL;
}

static int row_read(struct tams_db *db, const char *id, bool lock, struct row *r)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_query(db, lock ? &q_read_lock : &q_read, ARGS(TEXT(id)), &rows);

    if (!rc && (rc = tams_db_next(&rows)) == 1) {
        const char *list = tams_db_col(&rows, 3);
        r->controlled = tams_db_col_bool(&rows, 0);
        r->storage_id = dup_col(&rows, 1);
        r->key = dup_col(&rows, 2);
        r->list = list ? json_tokener_parse(list) : NULL;
        if (!json_object_is_type(r->list, json_type_array)) {
            json_object_put(r->list);
            r->list = json_object_new_array();
        }
        rc = 0;
    } else if (rc == 0) {
        rc = TAMS_ERR_NOTFOUND;
    }
    tams_db_done(&rows);
    return rc;
}

static const char *member(json_object *o, const char *name)
{
    json_object *v;
    return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : NULL;
}

static int row_write(struct tams_db *db, const char *id, const struct row *r)
{
    const char *list = json_object_array_length(r->list)
                           ? json_object_to_json_string_ext(
                                 r->list, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                           : NULL;
    return tams_db_exec(db, &q_write,
                        ARGS(TEXT(id), TEXT(r->storage_id), TEXT(r->key ? r->key : ""), TEXT(list)),
                        NULL);
}

int tams__instances_trash(struct tams_db *db, const char *object_id, const char *instances,
                          const char *now)
{
    json_object *list = instances ? json_tokener_parse(instances) : NULL;
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    int rc = 0;

    for (size_t i = 0; !rc && i < n; i++) {
        json_object *it = json_object_array_get_idx(list, i);
        const char *sid = member(it, "storage_id"), *key = member(it, "key");
        if (sid && key && key[0])
            rc = tams_db_exec(db, &q_trash, ARGS(TEXT(object_id), TEXT(sid), TEXT(key), TEXT(now)),
                              NULL);
    }
    json_object_put(list);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

struct get_args {
    const char *id;
    struct row r;
};

static void get_reset(void *arg)
{
    row_release(&((struct get_args *)arg)->r);
}

static int get_body(struct tams_db *db, void *arg)
{
    struct get_args *a = arg;
    return row_read(db, a->id, false, &a->r);
}

int tams_store_object_instances_get(struct tams_store *st, const char *id, tams_object_inst_cb cb,
                                    void *ctx)
{
    struct get_args a = {.id = id};
    int rc = tams_db_run(st, TAMS_DB_TX_READ, get_body, get_reset, &a);

    if (!rc) {
        struct tams_object_inst o = {
            .controlled = a.r.controlled,
            .storage_id = a.r.controlled ? a.r.storage_id : NULL,
            .key = a.r.controlled ? a.r.key : NULL,
            .instances =
                json_object_array_length(a.r.list)
                    ? json_object_to_json_string_ext(a.r.list, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE)
                    : NULL,
        };
        rc = cb(ctx, &o);
    }
    get_reset(&a);
    return rc;
}

/* ---- adding ------------------------------------------------------------------------------- */

struct add_args {
    const char *id, *storage_id, *key, *url, *label;
    struct tams_buf *why;
    size_t why_len;
    struct row r;
};

static void add_reset(void *arg)
{
    struct add_args *a = arg;
    row_release(&a->r);
    tams__why_cut(a->why, a->why_len);
}

/* Whether the object has an instance in backend sid, or one labelled label. */
static bool has_instance(const struct row *r, const char *sid, const char *label)
{
    if (sid && r->controlled && r->storage_id && strcmp(r->storage_id, sid) == 0)
        return true;
    for (size_t i = 0, n = json_object_array_length(r->list); i < n; i++) {
        json_object *it = json_object_array_get_idx(r->list, i);
        const char *v = member(it, sid ? "storage_id" : "label");
        if (v && strcmp(v, sid ? sid : label) == 0)
            return true;
    }
    return false;
}

static int add_body(struct tams_db *db, void *arg)
{
    struct add_args *a = arg;
    json_object *it;
    int rc;

    if ((rc = row_read(db, a->id, true, &a->r)))
        return rc;
    if (has_instance(&a->r, a->storage_id, a->label)) {
        tams__why_add(a->why,
                      a->storage_id ? "object '%s' already has an instance in storage "
                                      "backend '%s'"
                                    : "object '%s' already has an instance labelled '%s'",
                      a->id, a->storage_id ? a->storage_id : a->label);
        return TAMS_ERR_CONFLICT;
    }
    it = json_object_new_object();
    if (a->storage_id) {
        json_object_object_add(it, "storage_id", json_object_new_string(a->storage_id));
        json_object_object_add(it, "key", json_object_new_string(a->key));
    } else {
        json_object_object_add(it, "url", json_object_new_string(a->url));
        json_object_object_add(it, "label", json_object_new_string(a->label));
    }
    json_object_array_add(a->r.list, it);
    return row_write(db, a->id, &a->r);
}

int tams_store_object_instance_add(struct tams_store *st, const char *id, const char *storage_id,
                                   const char *key, const char *url, const char *label,
                                   struct tams_buf *why)
{
    struct add_args a = {id, storage_id, key, url, label, why, why ? why->len : 0, {0}};
    int rc = tams_db_run(st, TAMS_DB_TX_WRITE, add_body, add_reset, &a);

    row_release(&a.r);
    return rc;
}

/* ---- removing ----------------------------------------------------------------------------- */

struct remove_args {
    const char *id, *storage_id, *label;
    struct tams_buf *why;
    size_t why_len;
    char now[TAMS_RFC3339_MAX];
    struct row r;
};

static void remove_reset(void *arg)
{
    struct remove_args *a = arg;
    row_release(&a->r);
    tams__why_cut(a->why, a->why_len);
}

/* The first further instance in a backend, or -1. */
static int first_controlled(json_object *list)
{
    for (size_t i = 0, n = json_object_array_length(list); i < n; i++)
        if (member(json_object_array_get_idx(list, i), "storage_id"))
            return (int)i;
    return -1;
}

static int remove_body(struct tams_db *db, void *arg)
{
    struct remove_args *a = arg;
    size_t n;
    int rc, at = -1, next;

    if ((rc = row_read(db, a->id, true, &a->r)))
        return rc;
    n = json_object_array_length(a->r.list);
    for (size_t i = 0; at < 0 && i < n; i++) {
        const char *v =
            member(json_object_array_get_idx(a->r.list, i), a->storage_id ? "storage_id" : "label");
        if (v && strcmp(v, a->storage_id ? a->storage_id : a->label) == 0)
            at = (int)i;
    }
    if (at >= 0) {
        json_object *it = json_object_array_get_idx(a->r.list, (size_t)at);
        const char *sid = member(it, "storage_id"), *key = member(it, "key");
        /* The object itself (its allocation, or the URLs its segments were registered with)
         * always remains, so a further instance can always go. */
        if (sid && key && key[0] &&
            (rc = tams_db_exec(db, &q_trash, ARGS(TEXT(a->id), TEXT(sid), TEXT(key), TEXT(a->now)),
                               NULL)))
            return rc;
        json_object_array_del_idx(a->r.list, (size_t)at, 1);
        return row_write(db, a->id, &a->r);
    }
    if (!a->storage_id || !a->r.controlled || !a->r.storage_id ||
        strcmp(a->r.storage_id, a->storage_id) != 0) {
        tams__why_add(a->why, "object '%s' has no instance %s '%s'", a->id,
                      a->storage_id ? "in storage backend" : "labelled",
                      a->storage_id ? a->storage_id : a->label);
        return TAMS_ERR_NOTFOUND;
    }
    /* The instance it was allocated in: a copy in another backend takes its place. */
    if ((next = first_controlled(a->r.list)) < 0) {
        tams__why_add(a->why,
                      "storage backend '%s' holds the last controlled instance of object '%s': "
                      "delete the segments that use it to remove it",
                      a->storage_id, a->id);
        return TAMS_ERR_VALIDATION;
    }
    if ((rc = tams_db_exec(db, &q_trash,
                           ARGS(TEXT(a->id), TEXT(a->r.storage_id), TEXT(a->r.key), TEXT(a->now)),
                           NULL)))
        return rc;
    {
        json_object *it = json_object_array_get_idx(a->r.list, (size_t)next);
        tams_free(a->r.storage_id);
        tams_free(a->r.key);
        a->r.storage_id = tams_strdup(member(it, "storage_id"));
        a->r.key = tams_strdup(member(it, "key") ? member(it, "key") : "");
        json_object_array_del_idx(a->r.list, (size_t)next, 1);
    }
    return row_write(db, a->id, &a->r);
}

int tams_store_object_instance_remove(struct tams_store *st, const char *id, const char *storage_id,
                                      const char *label, struct tams_buf *why)
{
    struct remove_args a = {.id = id,
                            .storage_id = storage_id,
                            .label = label,
                            .why = why,
                            .why_len = why ? why->len : 0};
    int rc;

    tams_clock_now_rfc3339(a.now);
    rc = tams_db_run(st, TAMS_DB_TX_WRITE, remove_body, remove_reset, &a);
    row_release(&a.r);
    return rc;
}

/* ---- media that lost its place ------------------------------------------------------------ */

struct trash_args {
    const char *id, *storage_id, *key;
    char now[TAMS_RFC3339_MAX];
};

static int trash_body(struct tams_db *db, void *arg)
{
    struct trash_args *a = arg;
    return tams_db_exec(db, &q_trash,
                        ARGS(TEXT(a->id), TEXT(a->storage_id), TEXT(a->key), TEXT(a->now)), NULL);
}

int tams_store_media_trash(struct tams_store *st, const char *object_id, const char *storage_id,
                           const char *key)
{
    struct trash_args a = {object_id, storage_id, key, {0}};

    tams_clock_now_rfc3339(a.now);
    return tams_db_run(st, TAMS_DB_TX_QUIET, trash_body, NULL, &a);
}
