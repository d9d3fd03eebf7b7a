/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_trash.c - the store contract for soft delete (bin.c, docs/soft-delete.md): what a
 * deletion with retention removes is kept, restored exactly, purged or expired, and holds its
 * objects from the collector; on the back end named by argv[1] ("sqlite" or "pg"). */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_harness.h"
#include "store_del.h"

static int64_t nrows(const char *table, unsigned flow)
{
    char fl[37], sql[160];

    fid(fl, flow);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s = ?1", table,
             strcmp(table, "flows") == 0 ? "id" : "flow_id");
    return q_int(sql, fl);
}

/* Everything a client reads of flow n: the record and every segment, every field. */
static int dump_flow(void *ctx, const struct tams_flow_rec *r)
{
    tams_buf_addf(ctx, "%.*s|%s|%s|%s|%s|%s|%d|%zu\n", (int)r->doclen, r->doc, r->created,
                  r->metadata_updated, r->segments_updated ? r->segments_updated : "-",
                  r->created_by ? r->created_by : "-", r->updated_by ? r->updated_by : "-",
                  r->read_only, r->ncollected_by);
    return 0;
}

static int dump_seg(void *ctx, const struct tams_segment_rec *r)
{
    const struct tams_segment *g = &r->seg;

    tams_buf_addf(ctx,
                  "%" PRId64 ",%" PRId64 ",%d,%d,%s,%u,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
                  ",%" PRId64 ",%s,%d,%s,%s\n",
                  g->tr.lo, g->tr.hi, g->tr.lo_incl, g->tr.hi_incl, g->object_id, g->has,
                  g->ts_offset, g->last_duration, g->sample_offset, g->sample_count,
                  g->key_frame_count, g->get_urls ? g->get_urls : "-", r->controlled,
                  r->storage_id ? r->storage_id : "-", r->key ? r->key : "-");
    return 0;
}

static void dump(unsigned flow, struct tams_buf *out)
{
    struct tams_buf next = TAMS_BUF_INIT(256);
    struct tams_page page = {NULL, 1000, &next};
    struct tams_segment_filter f = {0};
    char fl[37], sql[256];

    fid(fl, flow);
    tams_buf_reset(out);
    CHECK_INT_EQ(tams_store_flow_get(ST, fl, dump_flow, out), 0);
    CHECK_INT_EQ(tams_store_segments_list(ST, fl, &f, &page, dump_seg, out), 0);
    /* The aggregates: the summary and the gaps. */
    snprintf(sql, sizeof(sql),
             "SELECT segments * 1000000 + objects * 1000 + (SELECT count(*) FROM flow_gaps g"
             " WHERE g.flow_id = ?1) FROM flow_stats WHERE flow_id = ?1");
    tams_buf_addf(out, "stats %" PRId64 " covered %" PRId64 "\n", q_int(sql, fl),
                  q_int("SELECT covered FROM flow_stats WHERE flow_id = ?1", fl));
    tams_buf_release(&next);
}

/* Segments [from, to) of flow with every optional member, one object each. */
static int add_full(unsigned flow, int from, int to, const char *const *objs)
{
    struct tams_segment segs[16];
    int results[16], n = 0, rc;
    char fl[37];

    fid(fl, flow);
    for (int i = from; i < to; i++, n++) {
        memset(&segs[n], 0, sizeof(segs[n]));
        segs[n].tr = tr_nth(i * 2); /* a gap after each */
        segs[n].object_id = objs[i - from];
        segs[n].ts_offset = i;
        segs[n].last_duration = 40;
        segs[n].sample_offset = 7 * i;
        segs[n].sample_count = 25;
        segs[n].key_frame_count = 1;
        segs[n].has = TAMS_SEG_TS_OFFSET | TAMS_SEG_LAST_DURATION | TAMS_SEG_SAMPLE_OFFSET |
                      TAMS_SEG_SAMPLE_COUNT | TAMS_SEG_KEY_FRAME_COUNT;
    }
    rc = tams_store_segments_add(ST, fl, segs, (size_t)n, results, NULL, NULL);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = results[i];
    return rc;
}

static int soft(unsigned flow, const char *range, bool delete_flow, int64_t limit,
                int64_t retention, unsigned *eff)
{
    struct tams_timerange tr;
    struct tams_delete_spec spec = {.delete_flow = delete_flow,
                                    .sync_limit = limit,
                                    .principal = "bob",
                                    .retention = retention};
    char fl[37];

    fid(fl, flow);
    spec.flow_id = fl;
    if (range) {
        tr = tr_of(range);
        spec.timerange = &tr;
    }
    return tams_store_delete_start(ST, &spec, eff, NULL, NULL);
}

struct entries {
    int n;
    char id[37], kind[16];
    int64_t segments;
    bool pending;
};

static int got_entry(void *ctx, const struct tams_bin_rec *r)
{
    struct entries *e = ctx;

    e->n++;
    snprintf(e->id, sizeof(e->id), "%s", r->id);
    snprintf(e->kind, sizeof(e->kind), "%s", r->kind);
    e->segments = r->segments;
    e->pending = r->pending;
    return 0;
}

static struct entries last_entry(void)
{
    struct entries e = {0};

    CHECK_INT_EQ(tams_store_bin_list(ST, NULL, got_entry, &e), 0);
    return e;
}

static void test_flow_restored_exactly(void)
{
    const char *objs[] = {"tb-a", "tb-b", "tb-c"};
    struct tams_buf before = TAMS_BUF_INIT(1 << 16), after = TAMS_BUF_INIT(1 << 16);
    struct tams_gc_params now = {0, 0, 100};
    struct entries e;
    unsigned eff = 0;
    size_t taken;
    int64_t ingest;
    char src[37], fl[37];

    sid(src, 1);
    fid(fl, 1);
    CHECK_INT_EQ(put_flow(1, 1), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(allocate1(1, objs[i]), 0);
    CHECK_INT_EQ(add_full(1, 0, 3, objs), 0);
    dump(1, &before);
    ingest = q_int("SELECT sum(segments) FROM flow_ingest WHERE flow_id = ?1", fl);
    CHECK_INT_EQ(ingest, 3);

    CHECK_INT_EQ(soft(1, NULL, true, 100, 3600, &eff), 0);
    CHECK(eff & TAMS_EFFECT_SOURCE_DELETED);
    CHECK_INT_EQ(nrows("flows", 1), 0);
    CHECK_INT_EQ(nrows("segments", 1), 0);
    CHECK_INT_EQ(nrows("object_refs", 1), 0);
    CHECK_INT_EQ(nrows("flow_stats", 1), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM sources WHERE id = ?1", src), 0);
    e = last_entry();
    CHECK_INT_EQ(e.n, 1);
    CHECK_STR_EQ(e.kind, "flow");
    CHECK_INT_EQ(e.segments, 3);
    CHECK(!e.pending);
    /* The collector leaves objects the bin holds, whatever the grace. */
    CHECK_INT_EQ(tams_store_gc_collect(ST, &now, &taken), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM objects WHERE id = ?1", "tb-a"), 1);

    CHECK_INT_EQ(tams_store_bin_restore(ST, e.id, NULL), 0);
    dump(1, &after);
    CHECK_STR_EQ(after.data, before.data);
    /* Ingest is history: a restore is not ingest. */
    CHECK_INT_EQ(q_int("SELECT sum(segments) FROM flow_ingest WHERE flow_id = ?1", fl), ingest);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM sources WHERE id = ?1", src), 1);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM source_tags WHERE source_id = ?1", src), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM flow_tags WHERE flow_id = ?1",
                       "00000001-0000-4000-8000-000000000000"),
                 1);
    CHECK_INT_EQ(
        q_int("SELECT count(*) FROM objects WHERE id = ?1 AND unreferenced_at IS NULL", "tb-b"), 1);
    CHECK_INT_EQ(last_entry().n, 0);
    CHECK_INT_EQ(tams_store_bin_restore(ST, e.id, NULL), TAMS_ERR_NOTFOUND);
    tams_buf_release(&before);
    tams_buf_release(&after);
}

static void test_range_conflict_and_purge(void)
{
    const char *objs[] = {"tr-a", "tr-b", "tr-c"}, *late[] = {"tr-late"};
    struct tams_buf why = TAMS_BUF_INIT(1024), before = TAMS_BUF_INIT(1 << 16),
                    after = TAMS_BUF_INIT(1 << 16);
    struct tams_gc_params now = {0, 0, 100};
    struct entries e;
    unsigned eff = 0;
    size_t taken;

    CHECK_INT_EQ(put_flow(2, 2), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(allocate1(2, objs[i]), 0);
    CHECK_INT_EQ(allocate1(2, "tr-late"), 0);
    CHECK_INT_EQ(add_full(2, 0, 3, objs), 0);
    /* An empty range keeps no entry. */
    CHECK_INT_EQ(soft(2, "[500:0_600:0)", false, 100, 3600, &eff), 0);
    CHECK_INT_EQ(last_entry().n, 0);
    CHECK_INT_EQ(soft(2, "[20:0_30:0)", false, 100, 3600, &eff), 0); /* the second segment */
    CHECK_INT_EQ(nrows("segments", 2), 2);
    e = last_entry();
    CHECK_STR_EQ(e.kind, "segments");
    CHECK_INT_EQ(e.segments, 1);
    /* A segment written since over the hole: 409, nothing changed. */
    CHECK_INT_EQ(add_segs(2, 2, 3, late, 1, false), 0);
    dump(2, &before);
    CHECK_INT_EQ(tams_store_bin_restore(ST, e.id, &why), TAMS_ERR_CONFLICT);
    CHECK(strstr(why.data, "cannot be put back") != NULL);
    dump(2, &after);
    CHECK_STR_EQ(after.data, before.data);
    CHECK_INT_EQ(last_entry().n, 1);
    /* Purged: the object is the collector's again. */
    CHECK_INT_EQ(tams_store_bin_purge(ST, e.id), 0);
    CHECK_INT_EQ(tams_store_bin_purge(ST, e.id), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM bin_segments WHERE object_id = ?1", "tr-b"), 0);
    CHECK_INT_EQ(tams_store_gc_collect(ST, &now, &taken), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM objects WHERE id = ?1", "tr-b"), 0);
    /* A flow created again under the same id. */
    CHECK_INT_EQ(soft(2, NULL, true, 100, 3600, &eff), 0);
    e = last_entry();
    CHECK_INT_EQ(put_flow(2, 2), 0);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_bin_restore(ST, e.id, &why), TAMS_ERR_CONFLICT);
    CHECK(strstr(why.data, "exists again") != NULL);
    CHECK_INT_EQ(tams_store_bin_purge(ST, e.id), 0);
    tams_buf_release(&why);
    tams_buf_release(&before);
    tams_buf_release(&after);
}

static void test_deferred_and_expiry(void)
{
    const char *objs[] = {"td-a", "td-b", "td-c"};
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct entries e;
    unsigned eff = 0;
    bool worked = true;
    size_t n = 99;

    CHECK_INT_EQ(put_flow(3, 3), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(allocate1(3, objs[i]), 0);
    CHECK_INT_EQ(add_full(3, 0, 3, objs), 0);
    CHECK_INT_EQ(soft(3, NULL, true, 1, 3600, &eff), 0);
    CHECK(eff & TAMS_EFFECT_DEFERRED);
    e = last_entry();
    CHECK(e.pending);
    CHECK_INT_EQ(tams_store_bin_restore(ST, e.id, &why), TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(tams_store_bin_purge(ST, e.id), TAMS_ERR_CONFLICT);
    /* Pending entries never expire. */
    CHECK_INT_EQ(db_exec("UPDATE bin SET expires = '2000-01-01T00:00:00Z'"), 0);
    CHECK_INT_EQ(tams_store_bin_expire(ST, 10, &n), 0);
    CHECK_INT_EQ(n, 0);
    while (worked)
        CHECK_INT_EQ(tams_store_delete_requests_step(ST, 2, 3600, &worked), 0);
    CHECK_INT_EQ(nrows("flows", 3), 0);
    e = last_entry();
    CHECK(!e.pending);
    CHECK_INT_EQ(e.segments, 3);
    CHECK_INT_EQ(tams_store_bin_expire(ST, 10, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(last_entry().n, 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM bin_segments", NULL), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM bin_flows", NULL), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM bin_sources", NULL), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM bin_flow_tags", NULL), 0);
    tams_buf_release(&why);
}

static void test_retention_off(void)
{
    const char *objs[] = {"to-a"};
    unsigned eff = 0;

    CHECK_INT_EQ(put_flow(4, 4), 0);
    CHECK_INT_EQ(allocate1(4, "to-a"), 0);
    CHECK_INT_EQ(add_full(4, 0, 1, objs), 0);
    CHECK_INT_EQ(soft(4, NULL, true, 100, 0, &eff), 0);
    CHECK_INT_EQ(nrows("flows", 4), 0);
    CHECK_INT_EQ(last_entry().n, 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM bin_segments", NULL), 0);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_flow_restored_exactly);
    RUN(test_range_conflict_and_purge);
    RUN(test_deferred_and_expiry);
    RUN(test_retention_off);
    return harness_finish();
}
