/* SPDX-License-Identifier: Apache-2.0 */
/* db.c - what every SQL driver shares: parameters, statement slots, small query shapes. */
#include "core/common.h"
#include "store/db.h"

static void param(struct tams_db_params *p, struct tams_db_param v)
{
    tams_assert(p->n < TAMS_DB_MAX_PARAMS);
    p->v[p->n++] = v;
}

void tams_db_text(struct tams_db_params *p, const char *s)
{
    param(p, TAMS_DB_TEXT_P(s));
}

void tams_db_textn(struct tams_db_params *p, const char *s, size_t len)
{
    param(p, TAMS_DB_TEXTN_P(s, len));
}

void tams_db_int(struct tams_db_params *p, int64_t i)
{
    param(p, TAMS_DB_INT_P(i));
}

void tams_db_int_opt(struct tams_db_params *p, bool has, int64_t i)
{
    param(p, TAMS_DB_INT_OR_NULL_P(has, i));
}

int tams_db_slot(struct tams_sql *q)
{
    static int next = 1;
    int slot = __atomic_load_n(&q->slot, __ATOMIC_ACQUIRE), expected = 0;

    if (slot)
        return slot;
    slot = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
    tams_assert(slot < TAMS_DB_MAX_STMTS);
    /* Two threads may race for a new statement: the first one's slot wins, the other's number
     * is never used. */
    if (!__atomic_compare_exchange_n(&q->slot, &expected, slot, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        slot = expected;
    return slot;
}

int tams_db_one(struct tams_db *db, struct tams_sql *q, const struct tams_db_param *v, int n,
                struct tams_db_rows *rows)
{
    int rc = tams_db_query(db, q, v, n, rows);

    if (rc == 0)
        rc = tams_db_next(rows);
    if (rc <= 0)
        tams_db_done(rows);
    return rc;
}

int tams_db_exists(struct tams_db *db, struct tams_sql *q, const char *key)
{
    struct tams_db_rows rows = TAMS_DB_ROWS_INIT;
    int rc = tams_db_one(db, q, TAMS_DB_ARGS(TAMS_DB_TEXT_P(key)), &rows);

    tams_db_done(&rows);
    return rc;
}

int tams_db_exec1(struct tams_db *db, struct tams_sql *q, const char *key, int64_t *changes)
{
    return tams_db_exec(db, q, TAMS_DB_ARGS(TAMS_DB_TEXT_P(key)), changes);
}

void tams_db_list_text(const struct tams_store *st, struct tams_buf *out, const char *s)
{
    st->drv->list_item(out, s == NULL, s, 0, false);
}

void tams_db_list_int(const struct tams_store *st, struct tams_buf *out, bool has, int64_t i)
{
    st->drv->list_item(out, !has, NULL, i, true);
}

void tams_db_list_end(const struct tams_store *st, struct tams_buf *out)
{
    st->drv->list_end(out);
}
