/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_analytics.c - the analytics aggregates (store/analytics.h) on both back ends:
 * after every kind of write (item-by-item and set-based registration, refused overlaps,
 * deletion now and by a deletion request, flow removal, object sizes), each flow's totals and
 * gaps equal a brute-force recount over its segments, and the sums over sources, backends
 * and the service equal the sums of the flows'. */
#include "core/common.h"
#include "core/clock.h"
#include "store/analytics.h"
#include "store/cursor.h"
#include "store_old.h"
#include "store_segs.h"

/* ---- brute force: what the aggregates must say, recounted from the segments -------------- */

struct brute {
    int64_t n, covered, first, last;
    int64_t gaps[64][2];
    int ngaps;
    int64_t prev_hi;
};

static void brute_row(void *ctx, const struct tams_db_rows *row)
{
    struct brute *b = ctx;
    int64_t lo = tams_db_col_int(row, 0), hi = tams_db_col_int(row, 1);

    if (b->n == 0)
        b->first = lo;
    else if (b->prev_hi + 1 < lo && b->ngaps < 64) {
        b->gaps[b->ngaps][0] = b->prev_hi + 1;
        b->gaps[b->ngaps][1] = lo - 1;
        b->ngaps++;
    }
    b->n++;
    b->covered += hi - lo + 1;
    b->last = hi;
    b->prev_hi = hi;
}

static void brute(unsigned flow, struct brute *b)
{
    char fl[37];

    fid(fl, flow);
    memset(b, 0, sizeof(*b));
    CHECK_INT_EQ(db_rows(TAMS_DB_TX_NONE,
                         "SELECT lo, hi FROM segments WHERE flow_id = ?1 ORDER BY lo", fl, NULL,
                         brute_row, b),
                 0);
}

struct gaps {
    int64_t v[64][2];
    int n;
};

static int gap_cb(void *ctx, int64_t lo, int64_t hi)
{
    struct gaps *g = ctx;

    if (g->n < 64) {
        g->v[g->n][0] = lo;
        g->v[g->n][1] = hi;
    }
    g->n++;
    return 0;
}

/* Every page of the flow's gaps, `limit` at a time. */
static int all_gaps(unsigned flow, int limit, struct gaps *g)
{
    struct tams_buf next = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX * 2);
    char fl[37], after[1024];
    struct tams_page page = {NULL, limit, &next};
    int rc, pages = 0;

    fid(fl, flow);
    memset(g, 0, sizeof(*g));
    do {
        rc = tams_store_stats_gaps(ST, fl, &page, gap_cb, g);
        snprintf(after, sizeof(after), "%s", next.data ? next.data : "");
        page.after = after;
        pages++;
    } while (rc == 0 && next.len && pages < 100);
    tams_buf_release(&next);
    return rc;
}

/* The flow's totals and gaps agree with the recount. */
static void check_flow(unsigned flow)
{
    struct tams_stats s;
    struct brute b;
    struct gaps g;
    char fl[37];

    fid(fl, flow);
    brute(flow, &b);
    CHECK_INT_EQ(tams_store_stats_flow(ST, fl, &s), 0);
    CHECK_INT_EQ(s.flows, 1);
    CHECK_INT_EQ(s.segments, b.n);
    CHECK_INT_EQ(s.covered_ns, b.covered);
    CHECK_INT_EQ(s.any, b.n > 0);
    if (b.n) {
        CHECK_INT_EQ(s.first_lo, b.first);
        CHECK_INT_EQ(s.last_hi, b.last);
    }
    CHECK_INT_EQ(s.objects,
                 db_int("SELECT count(*) FROM object_refs WHERE flow_id = ?1", fl, NULL));
    CHECK_INT_EQ(s.bytes, db_int("SELECT coalesce(sum(o.size), 0) FROM object_refs r JOIN objects o"
                                 " ON o.id = r.object_id WHERE r.flow_id = ?1",
                                 fl, NULL));
    CHECK_INT_EQ(s.unsized_objects,
                 db_int("SELECT count(*) FROM object_refs r JOIN objects o"
                        " ON o.id = r.object_id WHERE r.flow_id = ?1 AND o.size IS NULL",
                        fl, NULL));
    /* The flow's rows per backend add up to its totals. */
    CHECK_INT_EQ(db_int("SELECT coalesce(sum(segments), 0) FROM flow_storage_stats"
                        " WHERE flow_id = ?1",
                        fl, NULL),
                 b.n);
    CHECK_INT_EQ(db_int("SELECT coalesce(sum(bytes), 0) FROM flow_storage_stats WHERE flow_id = ?1",
                        fl, NULL),
                 s.bytes);
    for (int limit = 1; limit <= 3; limit += 2) {
        CHECK_INT_EQ(all_gaps(flow, limit, &g), 0);
        CHECK_INT_EQ(g.n, b.ngaps);
        for (int i = 0; i < g.n && i < b.ngaps && i < 64; i++) {
            CHECK_INT_EQ(g.v[i][0], b.gaps[i][0]);
            CHECK_INT_EQ(g.v[i][1], b.gaps[i][1]);
        }
    }
}

/* Segments [i*10 s, (i+1)*10 s) for each i of idx, in that order, as one batch; the caller
 * knows the object's size when size >= 0. */
static int add_sized(unsigned flow, const int *idx, size_t n, const char *obj, bool urls,
                     int64_t size)
{
    struct tams_segment segs[32];
    int results[32];
    char fl[37];
    int rc;

    tams_assert(n <= 32);
    fid(fl, flow);
    for (size_t i = 0; i < n; i++)
        segs[i] = (struct tams_segment){.tr = tr_nth(idx[i]),
                                        .object_id = obj,
                                        .get_urls = urls ? "[{\"url\":\"http://x/y\"}]" : NULL,
                                        .object_size = size,
                                        .object_storage = STORAGE,
                                        .has = size >= 0 ? TAMS_SEG_OBJECT_SIZE : 0};
    rc = tams_store_segments_add(ST, fl, segs, n, results, NULL, "bob");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (results[i])
            return results[i];
    return rc;
}

static int add_batch(unsigned flow, const int *idx, size_t n, const char *obj, bool urls)
{
    return add_sized(flow, idx, n, obj, urls, -1);
}

static int del_range(unsigned flow, const char *range, bool delete_flow, int64_t limit,
                     unsigned *eff)
{
    struct tams_timerange tr;
    struct tams_delete_spec spec = {
        .delete_flow = delete_flow, .sync_limit = limit, .principal = "bob"};
    char fl[37];

    fid(fl, flow);
    spec.flow_id = fl;
    if (range) {
        tr = tr_of(range);
        spec.timerange = &tr;
    }
    *eff = 0;
    return tams_store_delete_start(ST, &spec, eff, NULL, NULL);
}

/* ---- the tests --------------------------------------------------------------------------- */

static void test_empty_and_unknown(void)
{
    struct tams_stats s;
    struct gaps g;
    char fl[37];

    CHECK_INT_EQ(put_flow(1, true), 0);
    check_flow(1);
    fid(fl, 1);
    CHECK_INT_EQ(tams_store_stats_flow(ST, fl, &s), 0);
    CHECK_INT_EQ(s.segments, 0);
    CHECK(!s.any);
    fid(fl, 999);
    CHECK_INT_EQ(tams_store_stats_flow(ST, fl, &s), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_stats_gaps(ST, fl, NULL, gap_cb, &g), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_stats_source(ST, fl, &s), TAMS_ERR_NOTFOUND);
}

/* Appends, then segments filling, splitting and preceding gaps, one by one. */
static void test_item_by_item(void)
{
    static const int order[] = {0, 1, 2, 5, 6, 9, 3, 7, 12, -4, 14, 13, 11};

    CHECK_INT_EQ(put_flow(2, true), 0);
    CHECK_INT_EQ(allocate1(2, "an-a"), 0);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(order); i++) {
        CHECK_INT_EQ(add1(2, tr_nth(order[i]), "an-a", NULL, NULL), 0);
        check_flow(2);
    }
    /* Refused overlaps (the "overwrite" of a stored range) change nothing. */
    CHECK_INT_EQ(add1s(2, "[5:0_25:0)", "an-a", NULL), TAMS_ERR_VALIDATION);
    check_flow(2);
    /* Odd ends: an instant, an inclusive end, adjacent segments that leave no gap. */
    CHECK_INT_EQ(add1s(2, "[200:0_200:0]", "an-a", NULL), 0);
    CHECK_INT_EQ(add1s(2, "[200:1_201:0]", "an-a", NULL), 0);
    CHECK_INT_EQ(add1s(2, "[201:1_202:0)", "an-a", NULL), 0);
    check_flow(2);
}

/* Batches: clean ones (PostgreSQL writes them set-based), out of order and with gaps inside,
 * and a mixed one with a refused item (item by item). */
static void test_batches(void)
{
    static const int a[] = {0, 1, 3, 4, 8}, b[] = {20, 18, 15, 11, 10}, c[] = {5, 6, 9};
    static const int mixed[] = {2, 3, 30, 25};

    CHECK_INT_EQ(put_flow(3, true), 0);
    CHECK_INT_EQ(allocate1(3, "an-b"), 0);
    CHECK_INT_EQ(add_batch(3, a, TAMS_ARRAY_SIZE(a), "an-b", false), 0);
    check_flow(3);
    CHECK_INT_EQ(add_batch(3, b, TAMS_ARRAY_SIZE(b), "an-b", false), 0);
    check_flow(3);
    CHECK_INT_EQ(add_batch(3, c, TAMS_ARRAY_SIZE(c), "an-b", false), 0);
    check_flow(3);
    CHECK_INT_EQ(add_batch(3, mixed, TAMS_ARRAY_SIZE(mixed), "an-b", false), TAMS_ERR_VALIDATION);
    check_flow(3);
}

/* One clean batch naming every kind of object registration tells apart (PostgreSQL claims,
 * inserts and counts each kind in its own statement): allocated here and never registered
 * (twice, sized), registered by another flow, already referenced by this flow (twice, not
 * consecutive), unknown with get_urls, and one whose last reference went. */
static void test_mixed_objects(void)
{
    static const struct {
        const char *obj;
        int64_t size;
        bool urls;
    } items[] = {{"mx-fresh", 40, false}, {"mx-fresh", 40, false}, {"mx-shared", -1, false},
                 {"mx-own", -1, false},   {"mx-ext", -1, true},    {"mx-gone", -1, false},
                 {"mx-own", -1, false}};
    static const int one[] = {0}, two[] = {1};
    struct tams_segment segs[TAMS_ARRAY_SIZE(items)];
    int results[TAMS_ARRAY_SIZE(items)];
    unsigned eff;
    char fl[37], fl12[37];

    CHECK_INT_EQ(put_flow(11, true), 0);
    CHECK_INT_EQ(put_flow(12, true), 0);
    CHECK_INT_EQ(allocate1(11, "mx-fresh"), 0);
    CHECK_INT_EQ(allocate1(11, "mx-own"), 0);
    CHECK_INT_EQ(allocate1(11, "mx-gone"), 0);
    CHECK_INT_EQ(allocate1(12, "mx-shared"), 0);
    CHECK_INT_EQ(add_sized(12, one, 1, "mx-shared", false, 100), 0);
    CHECK_INT_EQ(add_sized(11, one, 1, "mx-own", false, 7), 0);
    CHECK_INT_EQ(add_sized(11, two, 1, "mx-gone", false, 5), 0);
    CHECK_INT_EQ(del_range(11, "[10:0_20:0)", false, 1000, &eff), 0);
    fid(fl, 11);
    fid(fl12, 12);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM objects WHERE id = 'mx-gone'"
                        " AND unreferenced_at IS NOT NULL",
                        NULL, NULL),
                 1);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(items); i++)
        segs[i] =
            (struct tams_segment){.tr = tr_nth(2 + (int)i),
                                  .object_id = items[i].obj,
                                  .get_urls = items[i].urls ? "[{\"url\":\"http://x/y\"}]" : NULL,
                                  .object_size = items[i].size,
                                  .object_storage = STORAGE,
                                  .has = items[i].size >= 0 ? TAMS_SEG_OBJECT_SIZE : 0};
    CHECK_INT_EQ(
        tams_store_segments_add(ST, fl, segs, TAMS_ARRAY_SIZE(items), results, NULL, "bob"), 0);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(items); i++)
        CHECK_INT_EQ(results[i], 0);
    check_flow(11);
    check_flow(12);
    CHECK_INT_EQ(
        db_int("SELECT count FROM object_refs WHERE object_id = 'mx-fresh' AND flow_id = ?1", fl,
               NULL),
        2);
    CHECK_INT_EQ(db_int("SELECT count FROM object_refs WHERE object_id = 'mx-own' AND flow_id = ?1",
                        fl, NULL),
                 3);
    CHECK_INT_EQ(db_int("SELECT count FROM object_refs WHERE object_id = 'mx-shared'"
                        " AND flow_id = ?1",
                        fl, NULL),
                 1);
    CHECK_INT_EQ(db_int("SELECT count FROM object_refs WHERE object_id = 'mx-shared'"
                        " AND flow_id = ?1",
                        fl12, NULL),
                 1);
    CHECK_INT_EQ(db_int("SELECT count FROM object_refs WHERE object_id = 'mx-ext' AND flow_id = ?1",
                        fl, NULL),
                 1);
    CHECK_INT_EQ(
        db_int("SELECT count FROM object_refs WHERE object_id = 'mx-gone' AND flow_id = ?1", fl,
               NULL),
        1);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM objects WHERE id = 'mx-gone'"
                        " AND unreferenced_at IS NULL",
                        NULL, NULL),
                 1);
    CHECK_INT_EQ(
        db_int("SELECT size FROM objects WHERE id = 'mx-fresh' AND first_referenced_by_flow"
               " = ?1",
               fl, NULL),
        40);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM objects WHERE id = 'mx-ext' AND storage_id IS NULL"
                        " AND first_referenced_by_flow = ?1",
                        fl, NULL),
                 1);
}

static void test_delete(void)
{
    static const int a[] = {0, 1, 2, 4, 5, 7, 8, 9, 11, 12}, again[] = {5, 0};
    unsigned eff;
    bool worked = true;
    char fl[37];

    CHECK_INT_EQ(put_flow(4, true), 0);
    CHECK_INT_EQ(allocate1(4, "an-c"), 0);
    CHECK_INT_EQ(add_batch(4, a, TAMS_ARRAY_SIZE(a), "an-c", false), 0);
    check_flow(4);
    /* The middle, joining gaps; then the first and the last segments. */
    CHECK_INT_EQ(del_range(4, "[40:0_90:0)", false, 1000, &eff), 0);
    CHECK_INT_EQ(eff & TAMS_EFFECT_DEFERRED, 0);
    check_flow(4);
    CHECK_INT_EQ(del_range(4, "[0:0_10:0)", false, 1000, &eff), 0);
    check_flow(4);
    CHECK_INT_EQ(del_range(4, "[120:0_130:0)", false, 1000, &eff), 0);
    check_flow(4);
    /* A deletion request, a few segments a step. */
    CHECK_INT_EQ(add_batch(4, again, 2, "an-c", false), 0);
    check_flow(4);
    CHECK_INT_EQ(del_range(4, "[0:0_100:0)", false, 1, &eff), 0);
    CHECK(eff & TAMS_EFFECT_DEFERRED);
    while (worked) {
        CHECK_INT_EQ(tams_store_delete_requests_step(ST, 2, 3600, &worked), 0);
        check_flow(4);
    }
    fid(fl, 4);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM segments WHERE flow_id = ?1", fl, NULL), 1);
    /* Everything: the flow's aggregate rows go with it. */
    CHECK_INT_EQ(del_range(4, NULL, true, 1000, &eff), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_stats WHERE flow_id = ?1", fl, NULL), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_gaps WHERE flow_id = ?1", fl, NULL), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_storage_stats WHERE flow_id = ?1", fl, NULL), 0);
}

/* One object's segments, interleaved with another's: the deleted ones form several runs,
 * each between its own surviving neighbours (PostgreSQL's trigger works per run). */
static void test_delete_interleaved(void)
{
    static const int a[] = {0, 2, 3, 5, 9, 10}, b[] = {1, 4, 6, 8, 11};
    struct tams_timerange all = tr_of("[0:0_200:0)");
    struct tams_delete_spec spec = {
        .timerange = &all, .object_id = "an-ia", .sync_limit = 1000, .principal = "bob"};
    unsigned eff = 0;
    char fl[37];

    CHECK_INT_EQ(put_flow(13, true), 0);
    CHECK_INT_EQ(add_batch(13, a, TAMS_ARRAY_SIZE(a), "an-ia", true), 0);
    CHECK_INT_EQ(add_batch(13, b, TAMS_ARRAY_SIZE(b), "an-ib", true), 0);
    check_flow(13);
    fid(fl, 13);
    spec.flow_id = fl;
    CHECK_INT_EQ(tams_store_delete_start(ST, &spec, &eff, NULL, NULL), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM segments WHERE flow_id = ?1", fl, NULL), 5);
    check_flow(13);
}

/* A flow deleted by a deletion request, and one removed with its many segments at once. */
static void test_flow_delete(void)
{
    static const int a[] = {0, 2, 4, 6, 8, 10};
    unsigned eff;
    bool worked = true;
    char fl[37];

    CHECK_INT_EQ(put_flow(5, true), 0);
    CHECK_INT_EQ(allocate1(5, "an-d"), 0);
    CHECK_INT_EQ(add_batch(5, a, TAMS_ARRAY_SIZE(a), "an-d", false), 0);
    CHECK_INT_EQ(del_range(5, NULL, true, 2, &eff), 0);
    CHECK(eff & TAMS_EFFECT_DEFERRED);
    while (worked)
        CHECK_INT_EQ(tams_store_delete_requests_step(ST, 2, 3600, &worked), 0);
    fid(fl, 5);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flows WHERE id = ?1", fl, NULL), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_stats WHERE flow_id = ?1", fl, NULL), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_gaps WHERE flow_id = ?1", fl, NULL), 0);

    CHECK_INT_EQ(put_flow(6, true), 0);
    CHECK_INT_EQ(add_batch(6, a, TAMS_ARRAY_SIZE(a), "an-ext", true), 0);
    check_flow(6);
    fid(fl, 6);
    CHECK_INT_EQ(tams_store_flow_delete(ST, fl, &eff), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_stats WHERE flow_id = ?1", fl, NULL), 0);
}

struct storage_seen {
    int64_t ctl_segments, ctl_bytes, ext_segments, ext_bytes;
    int n;
};

static int storage_cb(void *ctx, const char *id, const struct tams_stats *s)
{
    struct storage_seen *g = ctx;

    g->n++;
    if (!id) {
        g->ext_segments = s->segments;
        g->ext_bytes = s->bytes;
    } else if (strcmp(id, STORAGE) == 0) {
        g->ctl_segments = s->segments;
        g->ctl_bytes = s->bytes;
    }
    return 0;
}

/* Object sizes, known before or after registration; totals of sources, backends, service. */
static void test_sizes_and_sums(void)
{
    static const int a[] = {0, 1, 2}, b[] = {3, 4}, c[] = {0, 5};
    struct storage_seen g = {0};
    struct tams_stats s, f7, f8, svc;
    char fl[37], src[37];

    CHECK_INT_EQ(put_flow(7, true), 0);
    CHECK_INT_EQ(put_flow(8, true), 0);
    CHECK_INT_EQ(allocate1(7, "an-s1"), 0);
    CHECK_INT_EQ(allocate1(7, "an-s2"), 0);
    /* Known before (the upload's size of a registered object only, then the registration's
     * own): counted at registration. */
    CHECK_INT_EQ(tams_store_object_set_size(ST, STORAGE, "k/an-s1", 999, true), 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM objects WHERE size IS NOT NULL", NULL, NULL), 0);
    CHECK_INT_EQ(add_sized(7, a, TAMS_ARRAY_SIZE(a), "an-s1", false, 1000), 0);
    check_flow(7);
    /* Known after: counted from then on. */
    CHECK_INT_EQ(add_batch(7, b, TAMS_ARRAY_SIZE(b), "an-s2", false), 0);
    check_flow(7);
    fid(fl, 7);
    CHECK_INT_EQ(tams_store_stats_flow(ST, fl, &f7), 0);
    CHECK_INT_EQ(f7.bytes, 1000);
    CHECK_INT_EQ(f7.unsized_objects, 1);
    CHECK_INT_EQ(tams_store_object_set_size(ST, STORAGE, "k/an-s2", 24, true), 0);
    CHECK_INT_EQ(tams_store_object_set_size(ST, STORAGE, "k/unknown", 24, false), 0);
    check_flow(7);
    CHECK_INT_EQ(tams_store_stats_flow(ST, fl, &f7), 0);
    CHECK_INT_EQ(f7.bytes, 1024);
    CHECK_INT_EQ(f7.unsized_objects, 0);
    /* An object shared by two flows counts in both; an external one in none of the backends. */
    CHECK_INT_EQ(add_batch(8, c, 1, "an-s1", false), 0);
    CHECK_INT_EQ(add_batch(8, c + 1, 1, "an-ext8", true), 0);
    check_flow(8);
    fid(fl, 8);
    CHECK_INT_EQ(tams_store_stats_flow(ST, fl, &f8), 0);
    CHECK_INT_EQ(f8.bytes, 1000);
    CHECK_INT_EQ(f8.unsized_objects, 1);

    /* Flow n's source is source n. */
    snprintf(src, sizeof(src), "%08x-0000-4000-8000-00000000000a", 8u);
    CHECK_INT_EQ(tams_store_stats_source(ST, src, &s), 0);
    CHECK_INT_EQ(s.flows, 1);
    CHECK_INT_EQ(s.segments, f8.segments);
    CHECK_INT_EQ(s.bytes, f8.bytes);
    CHECK_INT_EQ(s.first_lo, f8.first_lo);
    CHECK_INT_EQ(s.last_hi, f8.last_hi);

    CHECK_INT_EQ(tams_store_stats_service(ST, &svc), 0);
    CHECK_INT_EQ(svc.flows, db_int("SELECT count(*) FROM flows", NULL, NULL));
    CHECK_INT_EQ(svc.segments, db_int("SELECT count(*) FROM segments", NULL, NULL));
    CHECK_INT_EQ(svc.covered_ns, db_int("SELECT sum(hi - lo + 1) FROM segments", NULL, NULL));
    CHECK_INT_EQ(svc.objects, db_int("SELECT count(*) FROM object_refs", NULL, NULL));
    CHECK_INT_EQ(svc.bytes, 2024);

    CHECK_INT_EQ(tams_store_stats_storage(ST, storage_cb, &g), 0);
    CHECK_INT_EQ(g.ctl_bytes, 2024);
    CHECK_INT_EQ(g.ctl_segments,
                 db_int("SELECT count(*) FROM segments s JOIN objects o ON o.id = s.object_id"
                        " WHERE o.storage_id = ?1",
                        STORAGE, NULL));
    CHECK_INT_EQ(g.ext_segments,
                 db_int("SELECT count(*) FROM segments s JOIN objects o ON o.id = s.object_id"
                        " WHERE o.storage_id IS NULL",
                        NULL, NULL));
    CHECK_INT_EQ(g.ext_bytes, 0);
}

struct ingest_seen {
    int64_t minutes, segments, bytes, last;
};

static int ingest_cb(void *ctx, int64_t minute, int64_t segments, int64_t bytes)
{
    struct ingest_seen *g = ctx;

    g->minutes++;
    g->segments += segments;
    g->bytes += bytes;
    g->last = minute;
    return 0;
}

static void test_ingest(void)
{
    static const int a[] = {0, 1, 2, 3};
    int64_t now_min = tams_clock_wall_us() / 60000000, dropped = -1;
    struct ingest_seen g = {0}, all = {0};
    char fl[37];

    CHECK_INT_EQ(put_flow(9, true), 0);
    CHECK_INT_EQ(allocate1(9, "an-i"), 0);
    CHECK_INT_EQ(tams_store_object_set_size(ST, STORAGE, "k/an-i", 7, false), 0);
    CHECK_INT_EQ(add_batch(9, a, TAMS_ARRAY_SIZE(a), "an-i", false), 0);
    fid(fl, 9);
    CHECK_INT_EQ(tams_store_stats_ingest(ST, fl, now_min - 1, ingest_cb, &g), 0);
    CHECK_INT_EQ(g.segments, 4);
    CHECK_INT_EQ(g.bytes, 7); /* the object, once: it is one reference */
    CHECK(g.minutes >= 1 && g.minutes <= 2);
    CHECK(g.last >= now_min && g.last <= now_min + 1);
    CHECK_INT_EQ(tams_store_stats_ingest(ST, NULL, now_min - 1, ingest_cb, &all), 0);
    /* Deleted segments stay in the history: overall ingest is at least what is stored. */
    CHECK(all.segments >= db_int("SELECT count(*) FROM segments", NULL, NULL));
    /* Nothing older than the window: pruning drops nothing and writes nothing. */
    CHECK_INT_EQ(tams_store_stats_ingest_prune(ST, now_min - 1440, &dropped), 0);
    CHECK_INT_EQ(dropped, 0);
    CHECK_INT_EQ(tams_store_stats_ingest_prune(ST, now_min + 2, &dropped), 0);
    CHECK(dropped >= 1);
    memset(&g, 0, sizeof(g));
    CHECK_INT_EQ(tams_store_stats_ingest(ST, fl, 0, ingest_cb, &g), 0);
    CHECK_INT_EQ(g.minutes, 0);
}

/* Runs sql on the old store being made: the SQLite file, or the PostgreSQL schema. */
/* A store made before the analytics entry (every earlier entry, rows written without the
 * triggers) gets its aggregates computed by the migration. */
static void test_migration(void)
{
    static const int64_t segs[][2] = {{0, 9}, {10, 19}, {40, 49}, {55, 59}, {100, 109}};
    size_t before = on_sqlite() ? 4 : 8; /* the analytics entry: SQLite's 5, PostgreSQL's 9 */
    struct tams_store *saved = store;
    struct tams_buf why = TAMS_BUF_INIT(512);
    struct harness_old old;
    char fl[37], sql[512];

    fid(fl, 50);
    harness_old_make(&old, "old", before);
    snprintf(sql, sizeof(sql),
             "INSERT INTO sources(id, format, created, updated) VALUES ('s', 'f', 't', 't');"
             "INSERT INTO flows(id, source_id, format, doc, created, metadata_updated)"
             " VALUES ('%s', 's', 'f', '{}', 't', 't');"
             "INSERT INTO objects(id, storage_id, key, controlled, created)"
             " VALUES ('o', '" STORAGE "', 'k', 1, 't');"
             "INSERT INTO object_refs(object_id, flow_id, count) VALUES ('o', '%s', 5);",
             fl, fl);
    CHECK_INT_EQ(harness_old_exec(&old, sql), 0);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(segs); i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO segments(flow_id, lo, hi, start_incl, end_incl, object_id)"
                 " VALUES ('%s', %" PRId64 ", %" PRId64 ", 1, 1, 'o')",
                 fl, segs[i][0] * SEC, segs[i][1] * SEC);
        CHECK_INT_EQ(harness_old_exec(&old, sql), 0);
    }
    harness_old_ready(&old);
    CHECK_INT_EQ(tams_store_open(&store, old.url, harness.dir, 1, &why), 0);
    if (store) {
        struct storage_seen g = {0};

        check_flow(50);
        /* Closed ends: [0 s, 9 s] and [10 s, 19 s] leave (9 s, 10 s) uncovered too. */
        CHECK_INT_EQ(db_int("SELECT count(*) FROM flow_gaps", NULL, NULL), 4);
        CHECK_INT_EQ(tams_store_stats_storage(ST, storage_cb, &g), 0);
        CHECK_INT_EQ(g.ctl_segments, 5);
        tams_store_close(store);
    }
    store = saved;
    harness_old_drop(&old);
    tams_buf_release(&why);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_empty_and_unknown);
    RUN(test_item_by_item);
    RUN(test_batches);
    RUN(test_delete);
    RUN(test_delete_interleaved);
    RUN(test_flow_delete);
    RUN(test_sizes_and_sums);
    RUN(test_ingest);
    RUN(test_mixed_objects); /* after the service-wide totals of test_sizes_and_sums */
    RUN(test_migration);
    return harness_finish();
}
