/* SPDX-License-Identifier: Apache-2.0 */
/* profiles.c - TAMS 8.2 Profiles: created once, read, listed by label, format and codec. */
#include "core/common.h"
#include "core/log.h"
#include "store/cursor.h"
#include "store/profiles.h"
#include "store/store_int.h"

#define PROFILE_COLS "id, doc, created, created_by"

static struct tams_sql q_insert =
    TAMS_SQL("INSERT INTO profiles(id, label, format, codec, doc, created, created_by)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING");
static struct tams_sql q_get = TAMS_SQL("SELECT " PROFILE_COLS " FROM profiles WHERE id = ?1");

struct create_args {
    const char *id, *label, *format, *codec, *doc, *principal;
};

static int create_body(struct tams_db *db, void *arg)
{
    struct create_args *a = arg;
    char now[TAMS_RFC3339_MAX];
    int64_t changed = 0;
    int rc;

    tams_clock_now_rfc3339(now);
    rc = tams_db_exec(db, &q_insert,
                      ARGS(TEXT(a->id), TEXT(a->label), TEXT(a->format), TEXT(a->codec),
                           TEXT(a->doc), TEXT(now), TEXT(a->principal)),
                      &changed);
    if (rc == 0 && changed == 0)
        rc = TAMS_ERR_CONFLICT;
    return rc;
}

int tams_store_profile_create(struct tams_store *st, const char *id, const char *label,
                              const char *format, const char *codec, const char *doc,
                              const char *principal)
{
    struct create_args a = {id, label, format, codec, doc, principal};

    return tams_db_run(st, TAMS_DB_TX_WRITE, create_body, NULL, &a);
}

static int emit(const struct tams_db_rows *rows, tams_profile_cb cb, void *ctx)
{
    struct tams_profile_rec rec = {
        .id = tams_db_col(rows, 0),
        .doc = tams_db_col(rows, 1),
        .created = tams_db_col(rows, 2),
        .created_by = tams_db_col(rows, 3),
    };

    return cb(ctx, &rec);
}

int tams_store_profile_get(struct tams_store *st, const char *id, tams_profile_cb cb, void *ctx)
{
    struct tams_db_rows rows;
    int rc, found;

    if ((rc = tams__fetch(st, &q_get, NULL, ARGS(TEXT(id)), &rows)) == 0) {
        found = tams_db_next(&rows);
        rc = found == 1 ? emit(&rows, cb, ctx) : found == 0 ? TAMS_ERR_NOTFOUND : found;
    }
    tams_db_done(&rows);
    return rc;
}

int tams_store_profile_list(struct tams_store *st, const struct tams_profile_filter *f,
                            const struct tams_page *page, tams_profile_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(1024), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_buf last = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_db_params p = TAMS_DB_PARAMS_INIT;
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int limit = tams__page_start(page), sent = 0, rc;

    if ((rc = tams__page_after(page, "profiles", &after)))
        goto out;
    tams_buf_addstr(&sql, "SELECT " PROFILE_COLS " FROM profiles WHERE 1 = 1");
    if (f && f->label)
        tams__cond_text(&sql, &p, "label = ?%d", f->label);
    if (f && f->format)
        tams__cond_text(&sql, &p, "format = ?%d", f->format);
    if (f && f->codec)
        tams__cond_text(&sql, &p, "codec = ?%d", f->codec);
    if (after.len)
        tams__cond_text(&sql, &p, "id > ?%d", after.data);
    tams_buf_addf(&sql, " ORDER BY id LIMIT ?%d", p.n + 1);
    tams_db_int(&p, (int64_t)limit + 1);
    if (!tams_buf_ok(&sql)) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    if ((rc = tams__fetch(st, NULL, sql.data, p.v, p.n, &rows)))
        goto out;
    for (;;) {
        int more = tams_db_next(&rows);

        if (more <= 0) {
            rc = more;
            break;
        }
        if (sent == limit) {
            if (page && page->next_key)
                rc = tams_cursor_encode(page->next_key, "profiles", last.data);
            break;
        }
        sent++;
        tams_buf_reset(&last);
        tams_buf_addstr(&last, tams_db_col(&rows, 0));
        if ((rc = emit(&rows, cb, ctx)))
            break;
    }
out:
    tams_db_done(&rows);
    tams_buf_release(&sql);
    tams_buf_release(&after);
    tams_buf_release(&last);
    return rc;
}
