/* SPDX-License-Identifier: Apache-2.0 */
/* sort.c - keyset paging of listings sorted by a column (sort.h). */
#include "core/common.h"
#include "core/base64.h"
#include "core/random.h"
#include "store/cursor.h"
#include "store/sort.h"

#define VALUE_IN_CURSOR_MAX 150 /* its base64url and the id stay within TAMS_CURSOR_KEYMAX */

void tams__sort_init(struct tams__sort *s, const char *table, const char *col, const char *bare,
                     const char *idcol, bool desc, bool nullable)
{
    *s = (struct tams__sort){table, col, bare, idcol, desc, nullable, ""};
    snprintf(s->kind, sizeof(s->kind), "%s.%s.%s", table, bare, desc ? "d" : "a");
}

int tams__sort_groups(const struct tams__sort *s)
{
    return s->nullable ? 2 : 1;
}

/* Is group g the rows with a value (else those without)? */
static bool values_group(const struct tams__sort *s, int g)
{
    return !s->nullable || (s->desc ? g == 1 : g == 0);
}

int tams__sort_after(const struct tams__sort *s, const char *cursor, struct tams__sort_at *at)
{
    struct tams_buf key = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX + 1);
    const char *id, *bar, *v;
    int rc;

    memset(at, 0, sizeof(*at));
    if (!cursor)
        return 0;
    if ((rc = tams_cursor_decode(cursor, s->kind, &key)))
        goto out;
    rc = TAMS_ERR_BADPAGE;
    /* "<group>|<id>|<value>" */
    if (key.len < 4 || (key.data[0] != '0' && key.data[0] != '1') || key.data[1] != '|')
        goto out;
    at->group = key.data[0] - '0';
    id = key.data + 2;
    if (at->group >= tams__sort_groups(s) || !(bar = strchr(id, '|')) ||
        !tams_uuid_valid(id, (size_t)(bar - id)))
        goto out;
    memcpy(at->id, id, (size_t)(bar - id));
    v = bar + 1;
    if (!values_group(s, at->group)) {
        if (*v)
            goto out;
    } else if (strcmp(v, "~") == 0) {
        at->lookup = true;
    } else {
        size_t n = 0;
        if (tams_base64_decode(v, strlen(v), true, (unsigned char *)at->value, &n) ||
            n >= sizeof(at->value) || memchr(at->value, 0, n))
            goto out;
        at->value[n] = 0;
    }
    at->given = true;
    rc = 0;
out:
    tams_buf_release(&key);
    return rc;
}

void tams__sort_sql(struct tams_buf *sql, struct tams_db_params *p, const struct tams__sort *s,
                    int g, const struct tams__sort_at *at, int64_t limit)
{
    const char *op = s->desc ? "<" : ">", *dir = s->desc ? " DESC" : "";
    bool here = at && at->given && at->group == g;

    if (!values_group(s, g)) {
        tams_buf_addf(sql, " AND %s IS NULL", s->col);
        if (here) {
            tams_buf_addf(sql, " AND %s %s ?%d", s->idcol, op, p->n + 1);
            tams_db_text(p, at->id);
        }
        tams_buf_addf(sql, " ORDER BY %s%s LIMIT ?%d", s->idcol, dir, p->n + 1);
        tams_db_int(p, limit);
        return;
    }
    if (s->nullable)
        tams_buf_addf(sql, " AND %s IS NOT NULL", s->col);
    if (here && at->lookup) {
        tams_buf_addf(sql, " AND (%s, %s) %s ((SELECT x.%s FROM %s x WHERE x.id = ?%d), ?%d)",
                      s->col, s->idcol, op, s->bare, s->table, p->n + 1, p->n + 1);
        tams_db_text(p, at->id);
    } else if (here) {
        tams_buf_addf(sql, " AND (%s, %s) %s (?%d, ?%d)", s->col, s->idcol, op, p->n + 1, p->n + 2);
        tams_db_text(p, at->value);
        tams_db_text(p, at->id);
    }
    tams_buf_addf(sql, " ORDER BY %s%s, %s%s LIMIT ?%d", s->col, dir, s->idcol, dir, p->n + 1);
    tams_db_int(p, limit);
}

int tams__sort_cursor(struct tams_buf *out, const struct tams__sort *s, int g, const char *id,
                      const char *value)
{
    char key[TAMS_CURSOR_KEYMAX + 1], b64[TAMS_BASE64_ENCODED_MAX(VALUE_IN_CURSOR_MAX)];
    size_t n = value ? strlen(value) : 0;

    if (!values_group(s, g) || !value)
        b64[0] = 0;
    else if (n > VALUE_IN_CURSOR_MAX)
        snprintf(b64, sizeof(b64), "~");
    else
        tams_base64_encode((const unsigned char *)value, n, true, b64);
    /* an empty value (a label "") still needs a key that is not "~" or nothing */
    if (values_group(s, g) && !b64[0])
        snprintf(b64, sizeof(b64), "~");
    snprintf(key, sizeof(key), "%d|%s|%s", g, id, values_group(s, g) ? b64 : "");
    return tams_cursor_encode(out, s->kind, key);
}
