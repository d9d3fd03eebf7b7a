/* SPDX-License-Identifier: Apache-2.0 */
/* sort.h - the keyset paging of listings sorted by a column (TAMS 8.2 sort_by), for the
 * listings of sources.c and flows.c.
 *
 * A sorted listing is one or two groups, each read by an index (column, id): the rows with a
 * value, ordered by (value, id), and, for a nullable column, the rows without one, ordered by
 * id, after the others in ascending order and before them in descending order (the 8.2 rule
 * for an unset key). Each group is a statement of its own (keyset condition, ORDER BY,
 * LIMIT), so no page sorts more than it returns. The cursor names the listing, column and
 * direction (a cursor of another order is BADPAGE) and holds the group, the last id and, for
 * the value group, the last value (base64url); a value too long for a cursor is looked up
 * again by id (a page after a row deleted since then ends that group).
 */
#ifndef TAMS_STORE_SORT_H
#define TAMS_STORE_SORT_H

#include "core/common.h"
#include "core/buf.h"
#include "store/db.h"

#define TAMS__SORT_VALUE_MAX 1024

struct tams__sort {
    const char *table; /* "sources", "flows": for the cursor kind and a value lookup */
    const char *col;   /* the column, qualified ("src.created"); NULL: by id alone */
    const char *bare;  /* the same column unqualified, for the lookup */
    const char *idcol; /* "src.id" */
    bool desc;         /* values (and ids) in descending order */
    bool nullable;     /* the column may be NULL: a second group */
    char kind[64];     /* cursor kind, made by tams__sort_init */
};

/* Where the previous page ended. */
struct tams__sort_at {
    bool given;
    int group;   /* 0 or 1: the group of the last row */
    bool lookup; /* the value was too long for the cursor: look it up by id */
    char id[64];
    char value[TAMS__SORT_VALUE_MAX];
};

void tams__sort_init(struct tams__sort *s, const char *table, const char *col, const char *bare,
                     const char *idcol, bool desc, bool nullable);
/* Groups of the listing: 1, or 2 when nullable. */
int tams__sort_groups(const struct tams__sort *s);
/* Decode the page cursor (NULL: first page). BADPAGE for a cursor of another listing. */
int tams__sort_after(const struct tams__sort *s, const char *cursor, struct tams__sort_at *at);
/* Append, for group g (0 from at->group on), " AND <the group and the rows after at>
 * ORDER BY ... LIMIT ?" with limit. */
void tams__sort_sql(struct tams_buf *sql, struct tams_db_params *p, const struct tams__sort *s,
                    int g, const struct tams__sort_at *at, int64_t limit);
/* The cursor of a page that ended at the row (id, value) of group g (value NULL: no value). */
int tams__sort_cursor(struct tams_buf *out, const struct tams__sort *s, int g, const char *id,
                      const char *value);

#endif
