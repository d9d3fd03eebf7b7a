/* SPDX-License-Identifier: Apache-2.0 */
/* seg_stats.c - a registration batch's share of the analytics aggregates on an in-process
 * database (docs/internals/store.md, "Analytics aggregates"): summed as the batch goes and
 * written once at its end (the flow's totals, one row per backend, the minute's ingest); gaps
 * as they appear: an appended segment adds one only after a hole, a segment before the flow's
 * end replaces the gap it falls into by those around it. PostgreSQL's registration does the
 * same server-side (schema_pg.c, tams_stats_batch_add). */
#include "core/common.h"
#include "store/store_int.h"

static struct tams_sql q_stats_flow = TAMS_SQL(
    "INSERT INTO flow_stats(flow_id, segments, covered, first_lo, last_hi, objects, unsized,"
    " bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(flow_id) DO UPDATE SET"
    " segments = segments + excluded.segments, covered = covered + excluded.covered,"
    " first_lo = CASE WHEN first_lo IS NULL OR excluded.first_lo < first_lo"
    " THEN excluded.first_lo ELSE first_lo END,"
    " last_hi = CASE WHEN last_hi IS NULL OR excluded.last_hi > last_hi"
    " THEN excluded.last_hi ELSE last_hi END, objects = objects + excluded.objects,"
    " unsized = unsized + excluded.unsized, bytes = bytes + excluded.bytes");
static struct tams_sql q_stats_storage =
    TAMS_SQL("INSERT INTO flow_storage_stats(flow_id, storage_id, segments, bytes)"
             " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(flow_id, storage_id) DO UPDATE"
             " SET segments = segments + excluded.segments, bytes = bytes + excluded.bytes");
static struct tams_sql q_stats_ingest =
    TAMS_SQL("INSERT INTO flow_ingest(flow_id, minute, segments, bytes)"
             " VALUES (?1, CAST(strftime('%s', 'now') AS INTEGER) / 60, ?2, ?3)"
             " ON CONFLICT(flow_id, minute) DO UPDATE"
             " SET segments = segments + excluded.segments, bytes = bytes + excluded.bytes");
static struct tams_sql q_gap_add =
    TAMS_SQL("INSERT INTO flow_gaps(flow_id, lo, hi) VALUES (?1, ?2, ?3)"
             " ON CONFLICT(flow_id, lo) DO UPDATE SET hi = excluded.hi");
static struct tams_sql q_gap_del = TAMS_SQL("DELETE FROM flow_gaps WHERE flow_id = ?1 AND lo = ?2");

void tams__seg_stats_segment(struct tams__seg_stats *t, const struct tams_segment *seg)
{
    if (!t->segments || seg->tr.lo < t->first_lo)
        t->first_lo = seg->tr.lo;
    if (!t->segments || seg->tr.hi > t->last_hi)
        t->last_hi = seg->tr.hi;
    t->segments++;
    t->covered += seg->tr.hi - seg->tr.lo + 1;
}

void tams__seg_stats_run(struct tams__seg_stats *t, const char *storage_id, int64_t segments,
                         int64_t size, bool fresh)
{
    struct tams__seg_stats_storage *g = NULL;
    int64_t bytes = size < 0 ? 0 : size;

    for (size_t i = 0; i < t->nstorage && !g; i++)
        if (strcmp(t->storage[i].id, storage_id) == 0)
            g = &t->storage[i];
    if (!g) {
        t->storage = tams_realloc(t->storage, (t->nstorage + 1) * sizeof(*t->storage));
        g = &t->storage[t->nstorage++];
        *g = (struct tams__seg_stats_storage){tams_strdup(storage_id), 0, 0};
    }
    g->segments += segments;
    if (fresh) {
        t->objects++;
        t->unsized += size < 0;
        t->bytes += bytes;
        g->bytes += bytes;
    }
}

int tams__seg_stats_write(struct tams_db *db, const char *flow_id, const struct tams__seg_stats *t)
{
    int rc;

    if (!t->segments)
        return 0;
    if ((rc = tams_db_exec(db, &q_stats_flow,
                           ARGS(TEXT(flow_id), INT(t->segments), INT(t->covered), INT(t->first_lo),
                                INT(t->last_hi), INT(t->objects), INT(t->unsized), INT(t->bytes)),
                           NULL)))
        return rc;
    for (size_t i = 0; i < t->nstorage; i++)
        if ((rc = tams_db_exec(db, &q_stats_storage,
                               ARGS(TEXT(flow_id), TEXT(t->storage[i].id),
                                    INT(t->storage[i].segments), INT(t->storage[i].bytes)),
                               NULL)))
            return rc;
    return tams_db_exec(db, &q_stats_ingest, ARGS(TEXT(flow_id), INT(t->segments), INT(t->bytes)),
                        NULL);
}

void tams__seg_stats_release(struct tams__seg_stats *t)
{
    for (size_t i = 0; i < t->nstorage; i++)
        tams_free(t->storage[i].id);
    tams_free(t->storage);
}

int tams__seg_gap_append(struct tams_db *db, const char *flow_id, int64_t tail_hi,
                         const struct tams_segment *seg)
{
    if (tail_hi == INT64_MIN || tail_hi + 1 >= seg->tr.lo)
        return 0;
    return tams_db_exec(db, &q_gap_add, ARGS(TEXT(flow_id), INT(tail_hi + 1), INT(seg->tr.lo - 1)),
                        NULL);
}

int tams__seg_gaps_insert(struct tams_db *db, const char *flow_id, const struct tams_segment *seg,
                          bool has_prev, int64_t prev_hi)
{
    struct tams__seg_end next;
    int rc;

    if (has_prev && prev_hi + 1 < seg->tr.lo)
        rc = tams_db_exec(db, &q_gap_add,
                          ARGS(TEXT(flow_id), INT(prev_hi + 1), INT(seg->tr.lo - 1)), NULL);
    else if (has_prev)
        rc = tams_db_exec(db, &q_gap_del, ARGS(TEXT(flow_id), INT(prev_hi + 1)), NULL);
    else
        rc = 0;
    if (rc)
        return rc;
    if ((rc = tams__seg_first_after(db, flow_id, seg->tr.lo, &next)) <= 0)
        return rc; /* before the end, so a successor exists; none would mean no gap after */
    if (seg->tr.hi + 1 < next.lo &&
        (rc = tams_db_exec(db, &q_gap_add,
                           ARGS(TEXT(flow_id), INT(seg->tr.hi + 1), INT(next.lo - 1)), NULL)))
        return rc;
    return 0;
}
