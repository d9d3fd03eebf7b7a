/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_deletion.c - the store contract for deletion, deletion requests and garbage
 * collection, on the back end named by argv[1] ("sqlite" or "pg", store_harness.h). */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_harness.h"
#include "store_del.h"

#include <unistd.h>

static int64_t nsegs(unsigned flow)
{
    char fl[37];
    fid(fl, flow);
    return q_int("SELECT count(*) FROM segments WHERE flow_id = ?1", fl);
}

static int64_t refcount(const char *object_id, unsigned flow)
{
    char fl[37], sql[256];
    fid(fl, flow);
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(count), 0) FROM object_refs WHERE object_id = ?1"
             " AND flow_id = '%s'",
             fl);
    return q_int(sql, object_id);
}

/* 1 = stamped (no reference), 0 = not stamped, -1 = no row. */
static int stamped(const char *object_id)
{
    int64_t v = q_int("SELECT unreferenced_at IS NOT NULL FROM objects WHERE id = ?1", object_id);
    return (int)v;
}

struct got {
    int n;
    char id[64], status[16], to_delete[80], remaining[80], created_by[16];
    bool delete_flow, expiry, error;
};

static int got_req(void *ctx, const struct tams_delete_request *r)
{
    struct got *g = ctx;

    g->n++;
    snprintf(g->id, sizeof(g->id), "%s", r->id);
    snprintf(g->status, sizeof(g->status), "%s", r->status);
    snprintf(g->to_delete, sizeof(g->to_delete), "%s", r->timerange_to_delete);
    snprintf(g->remaining, sizeof(g->remaining), "%s",
             r->timerange_remaining ? r->timerange_remaining : "");
    snprintf(g->created_by, sizeof(g->created_by), "%s", r->created_by ? r->created_by : "");
    g->delete_flow = r->delete_flow;
    g->expiry = r->expiry != NULL;
    g->error = r->error != NULL;
    return 0;
}

static int count_flow(void *ctx, const struct tams_flow_rec *rec)
{
    (void)rec;
    (*(int *)ctx)++;
    return 0;
}

static int count_seg(void *ctx, const struct tams_segment_rec *rec)
{
    (void)rec;
    (*(int *)ctx)++;
    return 0;
}

static int del(unsigned flow, const char *range, const char *object_id, bool delete_flow,
               int64_t limit, unsigned *eff, struct got *g)
{
    struct tams_timerange tr;
    struct tams_delete_spec spec = {.object_id = object_id,
                                    .delete_flow = delete_flow,
                                    .sync_limit = limit,
                                    .principal = "bob"};
    char fl[37];

    fid(fl, flow);
    spec.flow_id = fl;
    if (range) {
        tr = tr_of(range);
        spec.timerange = &tr;
    }
    return tams_store_delete_start(ST, &spec, eff, got_req, g);
}

static void test_delete_segments_now(void)
{
    const char *objs[] = {"ds-a", "ds-b"};
    struct got g = {0};
    unsigned eff = 99;

    CHECK_INT_EQ(put_flow(1, 1), 0);
    CHECK_INT_EQ(put_flow(2, 2), 0);
    CHECK_INT_EQ(allocate1(1, "ds-a"), 0);
    CHECK_INT_EQ(allocate1(1, "ds-b"), 0);
    CHECK_INT_EQ(add_segs(1, 0, 3, objs, 2, false), 0); /* a b a */
    CHECK_INT_EQ(add_segs(2, 0, 1, objs, 1, false), 0); /* flow 2 uses a too */
    CHECK_INT_EQ(refcount("ds-a", 1), 2);
    /* Containment: [5 s, 25 s) holds only the middle one (b). */
    CHECK_INT_EQ(del(1, "[5:0_25:0)", NULL, false, 100, &eff, &g), 0);
    CHECK_INT_EQ(eff, 0);
    CHECK_INT_EQ(g.n, 0);
    CHECK_INT_EQ(nsegs(1), 2);
    CHECK_INT_EQ(refcount("ds-b", 1), 0);
    CHECK_INT_EQ(stamped("ds-b"), 1);
    CHECK_INT_EQ(stamped("ds-a"), 0);
    /* object_id AND timerange. */
    CHECK_INT_EQ(del(1, "[0:0_10:0)", "ds-b", false, 100, &eff, &g), 0);
    CHECK_INT_EQ(nsegs(1), 2);
    CHECK_INT_EQ(del(1, NULL, "ds-a", false, 0, &eff, &g), 0); /* never deferred */
    CHECK_INT_EQ(eff, 0);
    CHECK_INT_EQ(nsegs(1), 0);
    CHECK_INT_EQ(refcount("ds-a", 1), 0);
    CHECK_INT_EQ(refcount("ds-a", 2), 1);
    CHECK_INT_EQ(stamped("ds-a"), 0); /* flow 2 still uses it */
    /* Errors. */
    CHECK_INT_EQ(del(77, NULL, NULL, false, 100, &eff, &g), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(del(77, NULL, NULL, true, 100, &eff, &g), TAMS_ERR_NOTFOUND);
    /* Re-referencing clears the stamp. */
    CHECK_INT_EQ(add_segs(1, 5, 6, objs + 1, 1, false), 0);
    CHECK_INT_EQ(stamped("ds-b"), 0);
    /* The whole flow, now: refs gone, stamps set, source gone. */
    CHECK_INT_EQ(del(1, NULL, NULL, true, 100, &eff, &g), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_SOURCE_DELETED);
    CHECK_INT_EQ(nsegs(1), 0);
    CHECK_INT_EQ(stamped("ds-b"), 1);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM sources WHERE id = ?1", "00000001-0000-4000-8000-"
                                                                     "00000000000a"),
                 0);
}

static void test_deferred_flow_delete(void)
{
    const char *objs[] = {"df-a", "df-b", "df-c"};
    struct got g = {0}, g2 = {0};
    unsigned eff = 0;
    struct tams_flow_filter f = {.frame_width = -1, .frame_height = -1};
    struct tams_page page = {.limit = 100};
    struct tams_buf why = TAMS_BUF_INIT(256);
    char fl[37], now[TAMS_RFC3339_MAX];
    int n = 0, steps = 0;
    bool worked = true;

    fid(fl, 10);
    CHECK_INT_EQ(put_flow(10, 10), 0);
    CHECK_INT_EQ(put_flow(11, 10), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(allocate1(10, objs[i]), 0);
    CHECK_INT_EQ(add_segs(10, 0, 40, objs, 3, false), 0);
    CHECK_INT_EQ(add_segs(11, 0, 1, objs, 1, false), 0); /* df-a shared */
    CHECK_INT_EQ(del(10, NULL, NULL, true, 39, &eff, &g), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_DEFERRED);
    CHECK_INT_EQ(g.n, 1);
    CHECK_STR_EQ(g.status, "created");
    CHECK_STR_EQ(g.to_delete, "[0:0_400:0)");
    CHECK_STR_EQ(g.remaining, "[0:0_400:0)");
    CHECK_STR_EQ(g.created_by, "bob");
    CHECK(g.delete_flow && !g.expiry && !g.error);
    CHECK_INT_EQ(nsegs(10), 40); /* nothing yet */
    /* Hidden at once. */
    CHECK_INT_EQ(tams_store_flow_get(ST, fl, count_flow, &n), TAMS_ERR_NOTFOUND);
    f.source_id = "0000000a-0000-4000-8000-00000000000a";
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, count_flow, &n), 0);
    CHECK_INT_EQ(n, 1); /* flow 11 only */
    n = 0;
    CHECK_INT_EQ(tams_store_segments_list(ST, fl, NULL, &page, count_seg, &n), 0);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(add_segs(10, 50, 51, objs, 1, false), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(del(10, NULL, NULL, true, 39, &eff, &g2), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(put_flow(10, 10), TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(put_flow(12, 12), 0);
    (void)why;
    /* Worker steps of 7: status started and the remaining range shrinks. */
    CHECK_INT_EQ(tams_store_delete_requests_step(ST, 7, 3600, &worked), 0);
    CHECK(worked);
    tams_clock_now_rfc3339(now);
    CHECK_INT_EQ(tams_store_delete_request_get(ST, g.id, now, got_req, &g2), 0);
    CHECK_STR_EQ(g2.status, "started");
    CHECK_STR_EQ(g2.remaining, "[70:0_400:0)");
    CHECK_INT_EQ(nsegs(10), 33);
    while (worked && steps++ < 100)
        CHECK_INT_EQ(tams_store_delete_requests_step(ST, 7, 3600, &worked), 0);
    CHECK(!worked);
    CHECK_INT_EQ(nsegs(10), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM flows WHERE id = ?1", fl), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM object_refs WHERE flow_id = ?1", fl), 0);
    CHECK_INT_EQ(stamped("df-a"), 0);
    CHECK_INT_EQ(stamped("df-b"), 1);
    CHECK_INT_EQ(stamped("df-c"), 1);
    CHECK_INT_EQ(tams_store_delete_request_get(ST, g.id, now, got_req, &g2), 0);
    CHECK_STR_EQ(g2.status, "done");
    CHECK_STR_EQ(g2.remaining, "()");
    CHECK(g2.expiry);
    g2.n = 0;
    CHECK_INT_EQ(tams_store_delete_requests_list(ST, now, got_req, &g2), 0);
    CHECK(g2.n >= 1);
    /* The id is free again. */
    CHECK_INT_EQ(put_flow(10, 10), 0);
    CHECK_INT_EQ(tams_store_delete_request_get(ST, "nope", now, got_req, &g2), TAMS_ERR_NOTFOUND);
    tams_buf_release(&why);
}

static void test_deferred_segments_and_expiry(void)
{
    const char *objs[] = {"dx-a"};
    struct got g = {0}, g2 = {0};
    unsigned eff = 0;
    char now[TAMS_RFC3339_MAX], later[TAMS_RFC3339_MAX];
    bool worked = true;
    int steps = 0;

    CHECK_INT_EQ(put_flow(20, 20), 0);
    CHECK_INT_EQ(add_segs(20, 0, 30, objs, 1, true), 0);
    CHECK_INT_EQ(del(20, "[100:0_200:0)", NULL, false, 5, &eff, &g), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_DEFERRED);
    CHECK_STR_EQ(g.to_delete, "[100:0_200:0)");
    CHECK(!g.delete_flow);
    while (worked && steps++ < 100)
        CHECK_INT_EQ(tams_store_delete_requests_step(ST, 4, 1, &worked), 0);
    CHECK_INT_EQ(nsegs(20), 20);
    CHECK_INT_EQ(refcount("dx-a", 20), 20);
    tams_clock_now_rfc3339(now);
    CHECK_INT_EQ(tams_store_delete_request_get(ST, g.id, now, got_req, &g2), 0);
    CHECK_STR_EQ(g2.status, "done");
    /* Expired (ttl 1 s): 404, then purged by the next step. */
    tams_clock_rfc3339(tams_clock_wall_us() + 2000000, later);
    CHECK_INT_EQ(tams_store_delete_request_get(ST, g.id, later, got_req, &g2), TAMS_ERR_NOTFOUND);
    sleep(2);
    CHECK_INT_EQ(tams_store_delete_requests_step(ST, 4, 1, &worked), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM deletion_requests WHERE id = ?1", g.id), 0);
}

struct trash {
    int n;
    int64_t ids[16];
    char objs[16][32];
};

static int got_trash(void *ctx, const struct tams_trash_rec *r)
{
    struct trash *t = ctx;

    if (t->n < 16) {
        t->ids[t->n] = r->id;
        snprintf(t->objs[t->n], sizeof(t->objs[0]), "%s", r->object_id);
        CHECK_STR_EQ(r->storage_id, STORAGE);
        CHECK_STR_EQ(r->key, r->object_id); /* allocate1 uses the id as key */
    }
    t->n++;
    return 0;
}

static void test_gc(void)
{
    const char *ctl[] = {"gc-ctl"}, *ext[] = {"gc-ext"}, *shared[] = {"gc-shared"};
    struct tams_gc_params keep = {3600, 3600, 100}, now = {0, 0, 100};
    struct trash t = {0};
    struct got g = {0};
    unsigned eff;
    size_t taken;

    /* Drain what earlier tests left. */
    CHECK_INT_EQ(tams_store_gc_collect(ST, &now, &taken), 0);
    CHECK_INT_EQ(tams_store_gc_trash_list(ST, 100, got_trash, &t), 0);
    for (int i = 0; i < t.n && i < 16; i++)
        CHECK_INT_EQ(tams_store_gc_trash_done(ST, t.ids[i]), 0);
    memset(&t, 0, sizeof(t));

    CHECK_INT_EQ(put_flow(30, 30), 0);
    CHECK_INT_EQ(put_flow(31, 31), 0);
    CHECK_INT_EQ(allocate1(30, "gc-ctl"), 0);
    CHECK_INT_EQ(allocate1(30, "gc-shared"), 0);
    CHECK_INT_EQ(allocate1(30, "gc-unused"), 0);
    CHECK_INT_EQ(add_segs(30, 0, 1, ctl, 1, false), 0);
    CHECK_INT_EQ(add_segs(30, 1, 2, ext, 1, true), 0);
    CHECK_INT_EQ(add_segs(30, 2, 3, shared, 1, false), 0);
    CHECK_INT_EQ(add_segs(31, 0, 1, shared, 1, false), 0);
    /* Referenced objects are never taken, whatever the grace. */
    CHECK_INT_EQ(tams_store_gc_collect(ST, &now, &taken), 0);
    CHECK_INT_EQ(taken, 1); /* gc-unused: allocated, never used */
    CHECK_INT_EQ(q_int("SELECT count(*) FROM objects WHERE id = ?1", "gc-unused"), 0);
    CHECK_INT_EQ(del(30, NULL, NULL, false, 100, &eff, &g), 0);
    /* Within the grace: nothing. */
    CHECK_INT_EQ(tams_store_gc_collect(ST, &keep, &taken), 0);
    CHECK_INT_EQ(taken, 0);
    CHECK_INT_EQ(tams_store_gc_collect(ST, &now, &taken), 0);
    CHECK_INT_EQ(taken, 2); /* gc-ctl and gc-ext; gc-shared is still used by flow 31 */
    CHECK_INT_EQ(q_int("SELECT count(*) FROM objects WHERE id = ?1", "gc-ext"), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM objects WHERE id = ?1", "gc-ctl"), 0);
    CHECK_INT_EQ(q_int("SELECT count(*) FROM objects WHERE id = ?1", "gc-shared"), 1);
    /* Trash: the controlled ones only (gc-unused, gc-ctl); uncontrolled media is not ours. */
    CHECK_INT_EQ(tams_store_gc_trash_list(ST, 100, got_trash, &t), 0);
    CHECK_INT_EQ(t.n, 2);
    CHECK_STR_EQ(t.objs[0], "gc-unused");
    CHECK_STR_EQ(t.objs[1], "gc-ctl");
    CHECK_INT_EQ(tams_store_gc_trash_retry(ST, t.ids[0], 3600), 0);
    CHECK_INT_EQ(tams_store_gc_trash_done(ST, t.ids[1]), 0);
    memset(&t, 0, sizeof(t));
    CHECK_INT_EQ(tams_store_gc_trash_list(ST, 100, got_trash, &t), 0);
    CHECK_INT_EQ(t.n, 0); /* one postponed, one done */
    CHECK_INT_EQ(q_int("SELECT count(*) FROM object_trash", NULL), 1);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_delete_segments_now);
    RUN(test_deferred_flow_delete);
    RUN(test_deferred_segments_and_expiry);
    RUN(test_gc);
    return harness_finish();
}
