/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - opening the store on its driver, the service settings, and the helpers every
 * resource file shares (strings kept for an operation, page cursors, listing filters). */
#include "core/common.h"
#include "core/random.h"
#include "store/cursor.h"
#include "store/store_int.h"

#include <errno.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int tams_store_open(struct tams_store **out, const char *url, const char *data_dir, int pool_size,
                    struct tams_buf *why)
{
    const struct tams_db_driver *drv;
    int rc;

    *out = NULL;
    if (!url)
        url = "";
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) {
        drv = &tams_db_pg;
    } else if (url[0] == '\0' || has_prefix(url, "sqlite:")) {
        drv = &tams_db_sqlite;
    } else {
        if (why)
            tams_buf_addf(
                why, "unknown store URL scheme in '%s' (use sqlite:PATH or postgresql://...)", url);
        return TAMS_ERR_BADREQUEST;
    }
    rc = drv->open(out, url, data_dir, pool_size);
    if (rc && why)
        tams_buf_addf(why, "cannot open the %s metadata store", drv->name);
    return rc;
}

void tams_store_close(struct tams_store *st)
{
    if (st)
        st->drv->close(st);
}

const char *tams_store_name(const struct tams_store *st)
{
    return st->drv->name;
}

unsigned tams_store_caps(const struct tams_store *st)
{
    return st->drv->caps & TAMS_DB_CAP_SHARED ? TAMS_STORE_CAP_LEASES : 0;
}

uint64_t tams_store_generation(struct tams_store *st, const char *id)
{
    return st->drv->generation(st, id);
}

static struct tams_sql q_ping = TAMS_SQL("SELECT 1");
static struct tams_sql q_setting_get = TAMS_SQL("SELECT value FROM settings WHERE key = ?1");
static struct tams_sql q_setting_set =
    TAMS_SQL("INSERT INTO settings(key, value) VALUES (?1, ?2)"
             " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
static struct tams_sql q_setting_del = TAMS_SQL("DELETE FROM settings WHERE key = ?1");

static int ping_body(struct tams_db *db, void *arg)
{
    (void)arg;
    return tams_db_exec(db, &q_ping, NO_ARGS, NULL);
}

int tams_store_ping(struct tams_store *st)
{
    return tams_db_run(st, TAMS_DB_TX_NONE, ping_body, NULL, NULL);
}

bool tams_store_pool(struct tams_store *st, struct tams_store_pool *out)
{
    memset(out, 0, sizeof(*out));
    return st->drv->pool && st->drv->pool(st, out);
}

struct setting_args {
    const char *key, *value;
    struct tams_buf *out;
    size_t out_len;
};

static void setting_reset(void *arg)
{
    struct setting_args *a = arg;

    tams__why_cut(a->out, a->out_len);
}

static int setting_get_body(struct tams_db *db, void *arg)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    struct setting_args *a = arg;
    int rc = tams_db_one(db, &q_setting_get, ARGS(TEXT(a->key)), &rows);

    if (rc == 1)
        rc = tams_buf_add(a->out, tams_db_col(&rows, 0), tams_db_col_len(&rows, 0));
    else if (rc == 0)
        rc = TAMS_ERR_NOTFOUND;
    tams_db_done(&rows);
    return rc;
}

int tams_store_setting_get(struct tams_store *st, const char *key, struct tams_buf *out)
{
    struct setting_args a = {.key = key, .out = out, .out_len = out->len};

    return tams_db_run(st, TAMS_DB_TX_NONE, setting_get_body, setting_reset, &a);
}

static int setting_set_body(struct tams_db *db, void *arg)
{
    struct setting_args *a = arg;

    if (!a->value)
        return tams_db_exec1(db, &q_setting_del, a->key, NULL);
    return tams_db_exec(db, &q_setting_set, ARGS(TEXT(a->key), TEXT(a->value)), NULL);
}

int tams_store_setting_set(struct tams_store *st, const char *key, const char *value)
{
    struct setting_args a = {.key = key, .value = value};

    return tams_db_run(st, TAMS_DB_TX_WRITE, setting_set_body, NULL, &a);
}

/* ---- helpers of the resource files ------------------------------------------------------- */

struct fetch_args {
    struct tams_sql *q;
    const char *sql;
    const struct tams_db_param *v;
    int n;
    struct tams_db_rows *rows;
};

static void fetch_reset(void *arg)
{
    tams_db_done(((struct fetch_args *)arg)->rows);
}

static int fetch_body(struct tams_db *db, void *arg)
{
    struct fetch_args *a = arg;
    int rc = db->drv->query(db, a->q, a->sql, a->v, a->n, a->rows);

    return rc ? rc : tams_db_keep(a->rows);
}

int tams__fetch(struct tams_store *st, struct tams_sql *q, const char *sql,
                const struct tams_db_param *v, int n, struct tams_db_rows *rows)
{
    struct fetch_args a = {q, sql, v, n, rows};

    *rows = (struct tams_db_rows)TAMS_DB_ROWS_INIT;
    return tams_db_run(st, TAMS_DB_TX_NONE, fetch_body, fetch_reset, &a);
}

const char *tams__strs_keep(struct tams__strs *k, char *s)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 16;
        k->v = tams_realloc(k->v, tams_st_mult(k->cap, sizeof(*k->v)));
    }
    k->v[k->n++] = s;
    return s;
}

const char *tams__strs_dup(struct tams__strs *k, const char *s)
{
    return s ? tams__strs_keep(k, tams_strdup(s)) : NULL;
}

void tams__strs_release(struct tams__strs *k)
{
    for (size_t i = 0; i < k->n; i++)
        tams_free(k->v[i]);
    tams_free(k->v);
    k->v = NULL;
    k->n = k->cap = 0;
}

void tams__why_add(struct tams_buf *why, const char *fmt, ...)
{
    va_list ap;

    if (!why)
        return;
    va_start(ap, fmt);
    tams_buf_vaddf(why, fmt, ap);
    va_end(ap);
}

void tams__why_cut(struct tams_buf *why, size_t len)
{
    if (why && why->len > len) {
        why->len = len;
        why->data[len] = '\0';
    }
}

int tams__page_lo(const struct tams_page *page, const char *kind, bool *have, int64_t *out)
{
    struct tams_buf key = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    char canon[32], *end;
    long long v;
    int rc;

    *have = false;
    if (!page || !page->after)
        return 0;
    rc = tams_cursor_decode(page->after, kind, &key);
    if (rc == 0) {
        errno = 0;
        v = strtoll(key.data, &end, 10);
        snprintf(canon, sizeof(canon), "%lld", v);
        if (errno || *end || strcmp(canon, key.data) != 0) {
            rc = TAMS_ERR_BADPAGE;
        } else {
            *out = (int64_t)v;
            *have = true;
        }
    }
    tams_buf_release(&key);
    return rc;
}

int tams__page_after(const struct tams_page *page, const char *kind, struct tams_buf *key)
{
    int rc;

    if (!page || !page->after)
        return 0;
    rc = tams_cursor_decode(page->after, kind, key);
    if (rc == 0 && !tams_uuid_valid(key->data, key->len))
        rc = TAMS_ERR_BADPAGE;
    return rc;
}

int tams__page_start(const struct tams_page *page)
{
    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    return page && page->limit > 0 ? page->limit : 100;
}

void tams__time_after(int64_t seconds, char out[TAMS_RFC3339_MAX])
{
    int64_t us = tams_clock_wall_us();
    int64_t add = seconds > INT64_MAX / 2000000 ? INT64_MAX / 2000000 : seconds;

    tams_clock_rfc3339(us + add * 1000000, out);
}

bool tams__filters_fit(const struct tams_tag_filter *tags, size_t ntags, size_t more)
{
    size_t n = more + 16; /* the listing's own: other filters, cursor, limit */

    if (ntags > TAMS__MAX_TAG_FILTERS)
        return false;
    for (size_t i = 0; i < ntags; i++)
        n += 1 + (tags[i].value ? (tags[i].nvalues > 1 ? tags[i].nvalues : 1) : 0);
    return n <= TAMS_DB_MAX_PARAMS;
}

static void any_of(struct tams_buf *sql, struct tams_db_params *p, bool pg, const char *table,
                   const char *idcol, const char *outer, const struct tams_tag_filter *t)
{
    if (!pg)
        tams_buf_addf(sql, " AND %s IN (SELECT t.%s FROM %s t WHERE t.name = ?%d AND t.value IN (",
                      outer, idcol, table, p->n + 1);
    else
        tams_buf_addf(sql,
                      " AND EXISTS (SELECT 1 FROM %s t WHERE t.%s = %s AND t.name = ?%d"
                      " AND t.value IN (",
                      table, idcol, outer, p->n + 1);
    tams_db_text(p, t->name);
    for (size_t k = 0; k < t->nvalues; k++) {
        tams_buf_addf(sql, k ? ", ?%d" : "?%d", p->n + 1);
        tams_db_text(p, t->values[k]);
    }
    tams_buf_addstr(sql, "))");
}

/* SQLite drives the query from the (name, value, <id>) index with IN lists (for
 * tag.{name}=v it even yields ids in order, so keyset paging needs no sort); PostgreSQL probes
 * the (<id>, name) key with EXISTS. tag_exists=false is NOT EXISTS on that key in both. The
 * texts take table, id column, outer id, then the parameter numbers. */
void tams__tag_filters(enum tams_db_dialect dialect, struct tams_buf *sql, struct tams_db_params *p,
                       const char *table, const char *idcol, const char *outer,
                       const struct tams_tag_filter *tags, size_t ntags)
{
    bool pg = dialect == TAMS_DB_PG;
    const char *value =
        !pg ? " AND %3$s IN (SELECT t.%2$s FROM %1$s t WHERE t.name = ?%4$d AND t.value = ?%5$d)"
            : " AND EXISTS (SELECT 1 FROM %1$s t WHERE t.%2$s = %3$s AND t.name = ?%4$d"
              " AND t.value = ?%5$d)";
    const char *exists =
        !pg ? " AND %3$s IN (SELECT t.%2$s FROM %1$s t WHERE t.name = ?%4$d)"
            : " AND EXISTS (SELECT 1 FROM %1$s t WHERE t.%2$s = %3$s AND t.name = ?%4$d)";
    const char *absent = " AND NOT EXISTS (SELECT 1 FROM %1$s t WHERE t.%2$s = %3$s"
                         " AND t.name = ?%4$d)";

    for (size_t i = 0; i < ntags; i++) {
        const char *fmt = tags[i].value ? value : tags[i].exists ? exists : absent;

        if (tags[i].value && tags[i].values && tags[i].nvalues > 1) {
            /* any of the values: the same texts with t.value IN (...) */
            any_of(sql, p, pg, table, idcol, outer, &tags[i]);
            continue;
        }
        tams_buf_addf(sql, fmt, table, idcol, outer, p->n + 1, p->n + 2);
        tams_db_text(p, tags[i].name);
        if (tags[i].value)
            tams_db_text(p, tags[i].value);
    }
}

int tams__tag_rows(struct tams_db *db, struct tams_sql *q, const char *id, const struct tams_tag *t)
{
    int rc = 0;

    if (!t->list)
        return tams_db_exec(db, q, ARGS(TEXT(id), TEXT(t->name), INT(-1), TEXT(t->value)), NULL);
    if (t->nvalues == 0)
        return tams_db_exec(db, q, ARGS(TEXT(id), TEXT(t->name), INT(-2), TEXT(NULL)), NULL);
    for (size_t i = 0; i < t->nvalues && rc == 0; i++)
        rc = tams_db_exec(db, q, ARGS(TEXT(id), TEXT(t->name), INT((int64_t)i), TEXT(t->values[i])),
                          NULL);
    return rc;
}

void tams__cond_text(struct tams_buf *sql, struct tams_db_params *p, const char *cond,
                     const char *v)
{
    tams_buf_addstr(sql, " AND ");
    tams_buf_addf(sql, cond, p->n + 1);
    tams_db_text(p, v);
}

void tams__cond_int(struct tams_buf *sql, struct tams_db_params *p, const char *cond, int64_t v)
{
    tams_buf_addstr(sql, " AND ");
    tams_buf_addf(sql, cond, p->n + 1);
    tams_db_int(p, v);
}
