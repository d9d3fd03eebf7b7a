/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_segments.c - the store contract for segments: registration rules, batches,
 * listings and flow timeranges, on the back end named by argv[1] (store_harness.h); SQLite
 * also its writers' queue and query plans. Objects: test_store_objects.c. */
#include "core/common.h"
#include "core/buf.h"
#include "store/cursor.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_segs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

static sqlite3 *store_db; /* SQLite: the store's own connection (this thread's), for plans */
static bool capture_next;

static int flow_upd_cb(void *ctx, const struct tams_flow_rec *rec)
{
    snprintf(ctx, 64, "%s", rec->segments_updated ? rec->segments_updated : "(null)");
    return 0;
}

/* The flow's segments_updated, or "(null)". out: 64 bytes. */
static const char *segments_updated_of(unsigned flow, char out[64])
{
    char fl[37];

    fid(fl, flow);
    out[0] = '\0';
    CHECK_INT_EQ(tams_store_flow_get(ST, fl, flow_upd_cb, out), 0);
    return out;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Notes §11.4: clusivity decides adjacency. */
static void test_adjacency(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    char upd[64];

    CHECK_INT_EQ(put_flow(1, true), 0);
    CHECK_STR_EQ(segments_updated_of(1, upd), "(null)");
    CHECK_INT_EQ(add1s(1, "[0:0_10:0)", "ext-a", "[]"), 0);
    CHECK_INT_EQ(add1s(1, "[10:0_20:0)", "ext-a", "[]"), 0);
    CHECK(strcmp(segments_updated_of(1, upd), "(null)") != 0);
    CHECK_INT_EQ(add1s(1, "[20:0]", "ext-a", "[]"), 0); /* an instant right after */
    CHECK_INT_EQ(add1(1, tr_of("[20:0_21:0)"), "ext-a", "[]", &why), TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "overlaps segment [20:0]") != NULL);

    CHECK_INT_EQ(put_flow(2, true), 0);
    CHECK_INT_EQ(add1s(2, "[0:0_10:0]", "ext-a", "[]"), 0);
    CHECK_INT_EQ(add1(2, tr_of("[10:0_20:0)"), "ext-a", "[]", &why), TAMS_ERR_VALIDATION);
    CHECK_STR_EQ(why.data, "segment [10:0_20:0) overlaps segment [0:0_10:0] of flow "
                           "00000002-0000-4000-8000-000000000000");
    /* Same range again, inside, around, straddling the start. */
    CHECK_INT_EQ(add1s(2, "[0:0_10:0]", "ext-a", "[]"), TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(add1s(2, "[3:0_4:0)", "ext-a", "[]"), TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(add1s(2, "[-5:0_50:0)", "ext-a", "[]"), TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(add1s(2, "[-5:0_0:0]", "ext-a", "[]"), TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(add1s(2, "[-5:0_0:0)", "ext-a", "[]"), 0);
    CHECK_INT_EQ(add1s(2, "[10:1_20:0)", "ext-a", "[]"), 0);
    /* Before the first, into a gap between two. */
    CHECK_INT_EQ(add1s(2, "[30:0_40:0)", "ext-a", "[]"), 0);
    CHECK_INT_EQ(add1s(2, "[20:0_30:0)", "ext-a", "[]"), 0);
    CHECK_INT_EQ(add1s(2, "[-100:0_-99:0)", "ext-a", "[]"), 0);
    CHECK_INT_EQ(count_listed(2, NULL), 6);
    tams_buf_release(&why);
}

static int set_collection(void *ctx, json_object *doc, struct tams_buf *why)
{
    json_object *item = json_object_new_object(), *list = json_object_new_array();

    (void)why;
    json_object_object_add(item, "id", json_object_new_string(ctx));
    json_object_object_add(item, "role", json_object_new_string("member"));
    json_object_array_add(list, item);
    json_object_object_add(doc, "flow_collection", list);
    return 0;
}

/* Read caches key on a generation per id (store/db.h): a segment write moves its own flow's
 * and no other's, storage allocation moves none, a flow write moves every id's; on PostgreSQL
 * the same holds in another instance once the write has returned (pg_peers.h). */
static void test_generation_scope(void)
{
    struct tams_store *other = NULL;
    struct tams_buf why = TAMS_BUF_INIT(256);
    struct tams_store *const seen[2] = {ST, NULL};
    char a[37], b[37];

    fid(a, 960);
    fid(b, 961);
    CHECK(tams_db_gen_bucket(a) != tams_db_gen_bucket(b));
    CHECK_INT_EQ(put_flow(960, true), 0);
    CHECK_INT_EQ(put_flow(961, true), 0);
    if (on_pg()) {
        CHECK_INT_EQ(tams_store_open(&other, harness.url, harness.dir, 2, &why), 0);
        wait_generation_stands(other);
        wait_generation_stands(ST);
    }
    for (int k = 0; k < 2; k++) {
        struct tams_store *st = k ? other : seen[0];
        uint64_t ga, gb, g0;

        if (!st)
            continue;
        ga = tams_store_generation(st, a);
        gb = tams_store_generation(st, b);
        g0 = tams_store_generation(st, NULL);
        CHECK_INT_EQ(allocate1(960, k ? "gen-obj-2" : "gen-obj-1"), 0);
        CHECK(tams_store_generation(st, a) == ga);
        CHECK(tams_store_generation(st, b) == gb);
        CHECK_INT_EQ(
            add1s(960, k ? "[10:0_20:0)" : "[0:0_10:0)", k ? "gen-obj-2" : "gen-obj-1", "[]"), 0);
        CHECK(tams_store_generation(st, a) != ga);
        CHECK(tams_store_generation(st, b) == gb);
        CHECK(tams_store_generation(st, NULL) == g0);
        /* A refused registration changes nothing; SQLite counts the rows a write changed and
         * moves nothing (PostgreSQL's commit moves the flow's part all the same). */
        ga = tams_store_generation(st, a);
        CHECK_INT_EQ(add1s(960, "[5:0_6:0)", "gen-obj-1", "[]"), TAMS_ERR_VALIDATION);
        CHECK(on_pg() || tams_store_generation(st, a) == ga);
        CHECK(tams_store_generation(st, b) == gb);
        CHECK_INT_EQ(put_flow(961, false), 0); /* a flow write: every id */
        CHECK(tams_store_generation(st, a) != ga);
        CHECK(tams_store_generation(st, b) != gb);
        CHECK(tams_store_generation(st, NULL) != g0);
        /* A property write: that flow's alone, unless it changes flow_collection (which
         * other flows show as collected_by). */
        ga = tams_store_generation(st, a);
        gb = tams_store_generation(st, b);
        g0 = tams_store_generation(st, NULL);
        CHECK_INT_EQ(
            tams_store_flow_mutate(ST, b, false, set_read_only, &(bool){false}, "alice", NULL), 0);
        CHECK(tams_store_generation(st, b) != gb);
        CHECK(tams_store_generation(st, a) == ga);
        CHECK(tams_store_generation(st, NULL) == g0);
        CHECK_INT_EQ(tams_store_flow_mutate(ST, b, false, set_collection, a, "alice", NULL), 0);
        CHECK(tams_store_generation(st, a) != ga);
        CHECK(tams_store_generation(st, NULL) != g0);
    }
    if (other)
        tams_store_close(other);
    tams_buf_release(&why);
}

/* One batch: items fail on their own, good ones are stored, nothing of a failed one is. */
static void test_batch(void)
{
    struct tams_segment segs[7];
    struct tams_buf whys[7];
    int results[7];
    struct seen s;
    size_t pages;
    char fl[37], upd[64];
    static const char *const tr[7] = {"[0:0_10:0)",  "[5:0_15:0)",  "[10:0_20:0)", "[15:0_16:0)",
                                      "[20:0_30:0)", "[30:0_40:0)", "[19:0_21:0)"};
    static const char *const ob[7] = {"b-1", "b-2", "b-3", "b-4", "b-unknown", "b-5", "b-6"};

    CHECK_INT_EQ(put_flow(3, true), 0);
    CHECK_INT_EQ(allocate(3, ob, 4, NULL), 0);
    CHECK_INT_EQ(allocate(3, &ob[5], 2, NULL), 0);
    for (size_t i = 0; i < 7; i++) {
        memset(&segs[i], 0, sizeof(segs[i]));
        segs[i].tr = tr_of(tr[i]);
        segs[i].object_id = ob[i];
        tams_buf_init(&whys[i], 1024);
    }
    fid(fl, 3);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, 7, results, whys, "bob"), 0);
    CHECK_INT_EQ(results[0], 0);
    CHECK_INT_EQ(results[1], TAMS_ERR_VALIDATION); /* overlaps item 0 of the same batch */
    CHECK(strstr(whys[1].data, "overlaps segment [0:0_10:0)") != NULL);
    CHECK_INT_EQ(results[2], 0);
    CHECK_INT_EQ(results[3], TAMS_ERR_VALIDATION); /* overlaps item 2 */
    CHECK_INT_EQ(results[4], TAMS_ERR_VALIDATION); /* unknown object, no get_urls */
    CHECK(strstr(whys[4].data, "object 'b-unknown' is unknown") != NULL);
    CHECK_INT_EQ(results[5], 0);
    CHECK_INT_EQ(results[6], TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(whys[0].len, 0);
    CHECK_INT_EQ(list_all(3, NULL, 10, &s, &pages), 0);
    CHECK_INT_EQ(s.n, 3);
    CHECK_INT_EQ(s.lo[0], 0);
    CHECK_INT_EQ(s.lo[1], 10 * SEC);
    CHECK_INT_EQ(s.lo[2], 30 * SEC);
    /* Failed items left nothing: their objects are still unregistered, no refs. */
    CHECK_INT_EQ(refcount("b-2", 3), 0);
    CHECK_INT_EQ(refcount("b-4", 3), 0);
    CHECK_INT_EQ(refcount("b-1", 3), 1);
    {
        struct obj_seen o;
        CHECK_INT_EQ(get_object("b-2", &o), TAMS_ERR_NOTFOUND);
        CHECK_INT_EQ(get_object("b-unknown", &o), TAMS_ERR_NOTFOUND);
        CHECK_INT_EQ(get_object("b-1", &o), 0);
    }

    /* A batch where everything fails leaves segments_updated alone; whys may be NULL. */
    CHECK_INT_EQ(put_flow(4, true), 0);
    fid(fl, 4);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, &segs[4], 1, results, NULL, "bob"), 0);
    CHECK_INT_EQ(results[0], TAMS_ERR_VALIDATION);
    CHECK_STR_EQ(segments_updated_of(4, upd), "(null)");
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, 0, results, NULL, "bob"), 0);
    for (size_t i = 0; i < 7; i++)
        tams_buf_release(&whys[i]);
}

/* Far before the other tests' segments, which flow filters count. */
#define FAR (-100000 * SEC)

static struct tams_timerange far(struct tams_timerange r)
{
    r.lo += FAR;
    r.hi += FAR;
    return r;
}

/* The overlap check skips its seek for a segment after the flow's last (ingest appending):
 * that shortcut must still see stored segments before it, the batch's own items after it,
 * and both ends' clusivity. */
static void test_batch_around_the_tail(void)
{
    static const char *const stored[] = {"[0:0_10:0)", "[20:0_30:0)", "[40:0_50:0)"};
    static const char *const tr[] = {
        "[60:0_70:0)", /* 0 after the tail: no seek, stored */
        "[45:0_55:0)", /* 1 before the tail, overlaps a stored segment */
        "[65:0_66:0)", /* 2 overlaps item 0: the tail moved with it */
        "[10:0_20:0)", /* 3 fills a gap before the tail */
        "[70:0_80:0]", /* 4 adjacent to item 0 (its end excluded), its own end included */
        "[80:0_81:0)", /* 5 meets item 4's included end */
        "[30:0_40:0)", /* 6 fills another gap */
        "[80:1_90:0)", /* 7 just after item 4 */
    };
    static const int want[] = {
        0, TAMS_ERR_VALIDATION, TAMS_ERR_VALIDATION, 0, 0, TAMS_ERR_VALIDATION, 0, 0};
    static const char *const ob[] = {"t-s0", "t-s1", "t-s2", "t-0", "t-1", "t-2",
                                     "t-3",  "t-4",  "t-5",  "t-6", "t-7"};
    static const int64_t los[] = {0,        10 * SEC, 20 * SEC, 30 * SEC,
                                  40 * SEC, 60 * SEC, 70 * SEC, 80 * SEC + 1};
    struct tams_segment segs[8];
    int results[8];
    struct seen s;
    size_t pages;

    CHECK_INT_EQ(put_flow(13, true), 0);
    CHECK_INT_EQ(allocate(13, ob, TAMS_ARRAY_SIZE(ob), NULL), 0);
    for (size_t i = 0; i < 3; i++) {
        memset(&segs[i], 0, sizeof(segs[i]));
        segs[i].tr = far(tr_of(stored[i]));
        segs[i].object_id = ob[i];
    }
    {
        char fl[37];
        fid(fl, 13);
        CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, 3, results, NULL, "bob"), 0);
        for (size_t i = 0; i < 8; i++) {
            memset(&segs[i], 0, sizeof(segs[i]));
            segs[i].tr = far(tr_of(tr[i]));
            segs[i].object_id = ob[3 + i];
        }
        CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, 8, results, NULL, "bob"), 0);
    }
    for (size_t i = 0; i < 8; i++)
        CHECK_INT_EQ(results[i], want[i]);
    CHECK_INT_EQ(list_all(13, NULL, 20, &s, &pages), 0);
    CHECK_INT_EQ(s.n, 8);
    for (size_t i = 0; i < 8 && i < s.n; i++)
        CHECK_INT_EQ(s.lo[i], los[i] + FAR);
}

/* SQLite only: writers of one process queue on a mutex (db_sqlite.c tx_begin). A write asked for
 * inside a write on the same thread is refused at once; one that waits longer than the busy bound
 * (5 s) is UNAVAILABLE, like a busy database; the queue is free again once the holder ends. */
struct holder {
    int nested_rc;
    int holding; /* atomic: the holder is inside its transaction */
};

static int hold_the_write(void *ctx, json_object *doc, struct tams_buf *why)
{
    struct holder *hd = ctx;

    (void)doc;
    (void)why;
    hd->nested_rc = put_flow(71, true);
    __atomic_store_n(&hd->holding, 1, __ATOMIC_RELEASE);
    usleep(6500 * 1000);
    return 0;
}

static void *holder_run(void *arg)
{
    char fl[37];

    fid(fl, 70);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, fl, false, hold_the_write, arg, "carol", NULL), 0);
    return NULL;
}

static void test_writers_queue(void)
{
    struct holder hd = {.nested_rc = 1};
    pthread_t t;

    CHECK_INT_EQ(put_flow(70, true), 0);
    CHECK_INT_EQ(pthread_create(&t, NULL, holder_run, &hd), 0);
    while (!__atomic_load_n(&hd.holding, __ATOMIC_ACQUIRE))
        usleep(1000);
    CHECK_INT_EQ(hd.nested_rc, TAMS_ERR_STORE);
    CHECK_INT_EQ(put_flow(72, true), TAMS_ERR_UNAVAILABLE); /* gives up after 5 s */
    pthread_join(t, NULL);
    CHECK_INT_EQ(put_flow(72, true), 0);
    CHECK_INT_EQ(put_flow(71, true), 0); /* the refused nested write left nothing behind */
}

/* A batch in which every item is added, in every way an item can use its object: a fresh
 * object allocated for the flow (claimed), one registered before (reused, its collector stamp
 * cleared), an unknown one given get_urls (recorded as uncontrolled) and then reused by later
 * items without get_urls, items out of time order but never overlapping. PostgreSQL writes such
 * a batch set-based, other batches item by item; both must end in the same rows. */
static void test_clean_batch(void)
{
    static const char *const fresh[] = {"cb-fresh-1", "cb-fresh-2"};
    struct tams_segment segs[6];
    int results[6];
    struct seen s;
    size_t pages;
    char fl[37];
    const char *obj[6] = {"cb-fresh-1", "cb-ext", "cb-old", "cb-ext", "cb-fresh-2", "cb-old"};
    const char *urls[6] = {NULL, "[{\"url\":\"http://e.example/1\"}]", NULL, NULL, NULL, NULL};
    const int at[6] = {50, 10, 30, 20, 0, 40}; /* seconds: out of order, no overlap */

    CHECK_INT_EQ(put_flow(60, true), 0);
    CHECK_INT_EQ(allocate(60, fresh, 2, NULL), 0);
    /* cb-old: registered by flow 61, then its segment deleted: unreferenced, stamped. */
    CHECK_INT_EQ(put_flow(61, true), 0);
    CHECK_INT_EQ(allocate1(61, "cb-old"), 0);
    CHECK_INT_EQ(add1(61, tr_nth(0), "cb-old", NULL, NULL), 0);
    {
        struct tams_delete_spec spec = {.sync_limit = 100};
        char f61[37];
        unsigned eff;

        fid(f61, 61);
        spec.flow_id = f61;
        CHECK_INT_EQ(tams_store_delete_start(ST, &spec, &eff, NULL, NULL), 0);
    }
    CHECK_INT_EQ(db_int("SELECT count(*) FROM objects WHERE id = ?1 AND unreferenced_at IS NOT"
                        " NULL",
                        "cb-old", NULL),
                 1);
    for (int i = 0; i < 6; i++) {
        memset(&segs[i], 0, sizeof(segs[i]));
        segs[i].tr = (struct tams_timerange){at[i] * SEC, (at[i] + 10) * SEC - 1, true, true};
        segs[i].object_id = obj[i];
        segs[i].get_urls = urls[i];
        segs[i].ts_offset = i;
        segs[i].has = TAMS_SEG_TS_OFFSET;
    }
    fid(fl, 60);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, 6, results, NULL, "bob"), 0);
    for (int i = 0; i < 6; i++)
        CHECK_INT_EQ(results[i], 0);
    CHECK_INT_EQ(list_all(60, NULL, 100, &s, &pages), 0);
    CHECK_INT_EQ(s.n, 6);
    for (size_t i = 0; i < s.n && i < 6; i++)
        CHECK_INT_EQ(s.lo[i], (int64_t)(i * 10) * SEC);
    CHECK_INT_EQ(refcount("cb-fresh-1", 60), 1);
    CHECK_INT_EQ(refcount("cb-fresh-2", 60), 1);
    CHECK_INT_EQ(refcount("cb-ext", 60), 2);
    CHECK_INT_EQ(refcount("cb-old", 60), 2);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM objects WHERE id IN ('cb-fresh-1', 'cb-fresh-2',"
                        " 'cb-old') AND first_referenced_by_flow IS NOT NULL"
                        " AND unreferenced_at IS NULL",
                        NULL, NULL),
                 3);
    CHECK_INT_EQ(db_int("SELECT controlled FROM objects WHERE id = ?1 AND"
                        " first_referenced_by_flow = ?2",
                        "cb-ext", fl),
                 0);
    CHECK_INT_EQ(db_int("SELECT count(*) FROM segments WHERE flow_id = ?1 AND get_urls IS NOT"
                        " NULL",
                        fl, NULL),
                 1);
    CHECK_INT_EQ(db_int("SELECT sum(ts_offset) FROM segments WHERE flow_id = ?1", fl, NULL), 15);

    /* The same items into another flow, one of them now overlapping a later one: every other
     * item is still added, each judged on its own (the objects are all registered by now, and
     * a registered object may be used by any flow). */
    CHECK_INT_EQ(put_flow(62, true), 0);
    fid(fl, 62);
    segs[2].tr = segs[3].tr; /* now overlaps item 3 (which comes after it) */
    for (int i = 0; i < 6; i++)
        segs[i].get_urls = urls[i];
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, 6, results, NULL, "bob"), 0);
    for (int i = 0; i < 6; i++)
        CHECK_INT_EQ(results[i], i == 3 ? TAMS_ERR_VALIDATION : 0); /* the later of the two */
    CHECK_INT_EQ(list_all(62, NULL, 100, &s, &pages), 0);
    CHECK_INT_EQ(s.n, 5);
    CHECK_INT_EQ(refcount("cb-ext", 62), 1);
    CHECK_INT_EQ(refcount("cb-old", 62), 2);
    for (unsigned f = 60; f <= 62; f++) { /* out of the way of the flow filter tests */
        char id[37];
        fid(id, f);
        CHECK_INT_EQ(tams_store_flow_delete(ST, id, NULL), 0);
    }
}

/* Flow-level checks: unknown, read-only, no container (notes §11.13, §11.14). */
static void test_flow_checks(void)
{
    struct tams_segment seg = {.tr = tr_nth(0), .object_id = "x", .get_urls = "[]"};
    struct tams_object_alloc obj = {.id = "fc-1", .key = "k"};
    struct tams_buf why = TAMS_BUF_INIT(1024);
    int result = 0;
    char fl[37];
    bool yes = true, no = false;

    fid(fl, 0xdead);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, &seg, 1, &result, &why, "bob"), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(result, TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, fl, NULL, &obj, 1, NULL), TAMS_ERR_NOTFOUND);

    CHECK_INT_EQ(put_flow(5, false), 0);
    fid(fl, 5);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, &seg, 1, &result, &why, "bob"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(result, TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "flow 00000005-0000-4000-8000-000000000000 has no container: ") ==
          why.data);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, fl, NULL, &obj, 1, &why), TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "has no container: ") != NULL);

    CHECK_INT_EQ(put_flow(6, true), 0);
    fid(fl, 6);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, fl, false, set_read_only, &yes, "carol", NULL), 0);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, &seg, 1, &result, NULL, "bob"), TAMS_ERR_READONLY);
    CHECK_INT_EQ(result, TAMS_ERR_READONLY);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, fl, NULL, &obj, 1, NULL), TAMS_ERR_READONLY);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, fl, true, set_read_only, &no, "carol", NULL), 0);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, &seg, 1, &result, NULL, "bob"), 0);
    CHECK_INT_EQ(result, 0);
    CHECK_INT_EQ(count_listed(5, NULL), 0);
    CHECK_INT_EQ(count_listed(6, NULL), 1);
    tams_buf_release(&why);
}

/* Optional members round-trip, absent ones stay absent. */
static void test_fields(void)
{
    struct tams_segment seg = {.tr = tr_of("[1:0_2:0]"), .object_id = "f-1"};
    struct seen s;
    size_t pages;
    int result;
    char fl[37];

    CHECK_INT_EQ(put_flow(12, true), 0);
    CHECK_INT_EQ(allocate1(12, "f-1"), 0);
    fid(fl, 12);
    seg.ts_offset = -SEC;
    seg.last_duration = 40000000;
    seg.key_frame_count = 1;
    seg.sample_count = 0;
    seg.has = TAMS_SEG_TS_OFFSET | TAMS_SEG_LAST_DURATION | TAMS_SEG_KEY_FRAME_COUNT;
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, &seg, 1, &result, NULL, NULL), 0);
    CHECK_INT_EQ(result, 0);
    CHECK_INT_EQ(list_all(12, NULL, 5, &s, &pages), 0);
    CHECK_INT_EQ(s.n, 1);
    CHECK_STR_EQ(s.first, "[1:0_2:0]");
    CHECK_INT_EQ(s.has0, TAMS_SEG_TS_OFFSET | TAMS_SEG_LAST_DURATION | TAMS_SEG_KEY_FRAME_COUNT);
    CHECK_INT_EQ(s.ts_offset0, -SEC);
    CHECK_STR_EQ(s.object0, "f-1");
}

#define NSEG 1000

/* Flow 20: NSEG segments [10i s, 10(i+1) s), object "c<i%3>" (allocated, then reused). */
static void fill_big_flow(void)
{
    static struct tams_segment segs[NSEG];
    static int results[NSEG];
    static const char *const objs[] = {"c0", "c1", "c2"};
    char fl[37];

    CHECK_INT_EQ(put_flow(20, true), 0);
    CHECK_INT_EQ(allocate(20, objs, 3, NULL), 0);
    /* In reverse order, in two batches: insertion order must not matter. */
    for (size_t i = 0; i < NSEG; i++) {
        size_t k = NSEG - 1 - i;
        memset(&segs[i], 0, sizeof(segs[i]));
        segs[i].tr = tr_nth((int64_t)k);
        segs[i].object_id = objs[k % 3];
    }
    fid(fl, 20);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs, NSEG / 2, results, NULL, "bob"), 0);
    CHECK_INT_EQ(tams_store_segments_add(ST, fl, segs + NSEG / 2, NSEG / 2, results, NULL, "bob"),
                 0);
    for (size_t i = 0; i < NSEG / 2; i++)
        CHECK_INT_EQ(results[i], 0);
    CHECK_INT_EQ(refcount("c0", 20), 334);
    CHECK_INT_EQ(refcount("c1", 20), 333);
}

/* The listing of s is ascending (or descending) lo values lo_first, lo_first + step, ... */
static void check_run(const struct seen *s, size_t n, int64_t first, int64_t step)
{
    CHECK_INT_EQ(s->n, n);
    for (size_t i = 0; i < n && i < s->n; i++) {
        if (s->lo[i] != first + (int64_t)i * step) {
            CHECK_INT_EQ(s->lo[i], first + (int64_t)i * step);
            break;
        }
    }
}

static void test_listing(void)
{
    struct tams_segment_filter f = {0};
    struct tams_timerange tr;
    static struct seen s;
    size_t pages;
    const int64_t T = 10 * SEC;

    fill_big_flow();

    /* Whole flow, both directions, pages of 7: no gaps, no duplicates. */
    CHECK_INT_EQ(list_all(20, NULL, 7, &s, &pages), 0);
    check_run(&s, NSEG, 0, T);
    CHECK_INT_EQ(pages, (NSEG + 6) / 7);
    CHECK_STR_EQ(s.first, "[0:0_10:0)");
    f.reverse = true;
    CHECK_INT_EQ(list_all(20, &f, 7, &s, &pages), 0);
    check_run(&s, NSEG, (NSEG - 1) * T, -T);
    CHECK_STR_EQ(s.first, "[9990:0_10000:0)");
    CHECK_INT_EQ(list_all(20, &f, NSEG, &s, &pages), 0); /* exactly one full page */
    CHECK_INT_EQ(pages, 1);
    CHECK_INT_EQ(s.n, NSEG);

    /* Overlap, partial at both ends. */
    f.timerange = &tr;
    f.reverse = false;
    tr = tr_of("[25:0_45:0)");
    CHECK_INT_EQ(list_all(20, &f, 2, &s, &pages), 0);
    check_run(&s, 3, 20 * SEC, T);
    f.reverse = true;
    CHECK_INT_EQ(list_all(20, &f, 2, &s, &pages), 0);
    check_run(&s, 3, 40 * SEC, -T);
    f.reverse = false;
    /* Edges: exclusive ends touch nothing, inclusive ones do. */
    tr = tr_of("[30:0_40:0)");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 1, 30 * SEC, T);
    tr = tr_of("[30:0_40:0]");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 2, 30 * SEC, T);
    tr = tr_of("(20:0_30:0)");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 1, 20 * SEC, T);
    tr = tr_of("(19:999999999_30:0)");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 1, 20 * SEC, T);
    tr = tr_of("[19:999999999_30:0]");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 3, 10 * SEC, T);
    tr = tr_of("[29:999999999]"); /* an instant inside one segment */
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 1, 20 * SEC, T);
    tr = tr_of("_0:5");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 1, 0, T);
    tr = tr_of("_-1:0");
    CHECK_INT_EQ(count_listed(20, &f), 0);
    tr = tr_of("[9995:0_");
    CHECK_INT_EQ(list_all(20, &f, 10, &s, &pages), 0);
    check_run(&s, 1, 9990 * SEC, T);
    tr = tr_of("[10000:0_");
    CHECK_INT_EQ(count_listed(20, &f), 0);
    tr = tr_of("()");
    CHECK_INT_EQ(count_listed(20, &f), 0);
    tr = tr_of("_");
    CHECK_INT_EQ(count_listed(20, &f), NSEG);
    /* Paged, both ways. */
    tr = tr_of("[25:0_105:0)");
    CHECK_INT_EQ(list_all(20, &f, 2, &s, &pages), 0);
    check_run(&s, 9, 20 * SEC, T);
    CHECK_INT_EQ(pages, 5);
    f.reverse = true;
    CHECK_INT_EQ(list_all(20, &f, 2, &s, &pages), 0);
    check_run(&s, 9, 100 * SEC, -T);
    tr = tr_of("[5000:0_");
    CHECK_INT_EQ(list_all(20, &f, 9, &s, &pages), 0);
    check_run(&s, 500, (NSEG - 1) * T, -T);
    f.reverse = false;

    /* object_id, alone and with a timerange, both ways. */
    f.timerange = NULL;
    f.object_id = "c1";
    CHECK_INT_EQ(list_all(20, &f, 50, &s, &pages), 0);
    check_run(&s, 333, 1 * T, 3 * T);
    f.reverse = true;
    CHECK_INT_EQ(list_all(20, &f, 50, &s, &pages), 0);
    check_run(&s, 333, 997 * T, -3 * T);
    f.timerange = &tr;
    tr = tr_of("[15:0_95:0]"); /* segments 1..9; c1 ones: 1, 4, 7 */
    CHECK_INT_EQ(list_all(20, &f, 2, &s, &pages), 0);
    check_run(&s, 3, 7 * T, -3 * T);
    f.reverse = false;
    CHECK_INT_EQ(list_all(20, &f, 2, &s, &pages), 0);
    check_run(&s, 3, 1 * T, 3 * T);
    f.object_id = "c9";
    CHECK_INT_EQ(count_listed(20, &f), 0);
    f.object_id = NULL;
    f.timerange = NULL;

    /* Unknown flow: nothing, no error. */
    CHECK_INT_EQ(count_listed(0xbeef, NULL), 0);

    /* Cursors are validated; one of the other direction is refused. */
    {
        struct tams_buf next = TAMS_BUF_INIT(1024), k = TAMS_BUF_INIT(1024);
        struct tams_page page = {.after = NULL, .limit = 3, .next_key = &next};
        static const char *const bad_keys[] = {
            "abc", "007", "+7", " 7", "7 ", "-0", "99999999999999999999"};
        char fl[37];

        fid(fl, 20);
        memset(&s, 0, sizeof(s));
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, NULL, &page, seen_cb, &s), 0);
        CHECK(next.len > 0);
        tams_buf_addstr(&k, next.data);
        f.reverse = true;
        page.after = k.data;
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, &f, &page, seen_cb, &s), TAMS_ERR_BADPAGE);
        CHECK_INT_EQ(next.len, 0);
        f.reverse = false;
        page.after = "bm90IGEgY3Vyc29y";
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, NULL, &page, seen_cb, &s), TAMS_ERR_BADPAGE);
        for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad_keys); i++) {
            tams_buf_reset(&k);
            CHECK_INT_EQ(tams_cursor_encode(&k, "segments", bad_keys[i]), 0);
            page.after = k.data;
            CHECK_INT_EQ(tams_store_segments_list(ST, fl, NULL, &page, seen_cb, &s),
                         TAMS_ERR_BADPAGE);
        }
        tams_buf_reset(&k);
        CHECK_INT_EQ(tams_cursor_encode(&k, "flows", "00000001-0000-4000-8000-000000000000"), 0);
        page.after = k.data;
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, NULL, &page, seen_cb, &s), TAMS_ERR_BADPAGE);
        /* Extreme but well-formed positions are just empty pages. */
        tams_buf_reset(&k);
        CHECK_INT_EQ(tams_cursor_encode(&k, "segments", "9223372036854775807"), 0);
        page.after = k.data;
        s.n = 0;
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, NULL, &page, seen_cb, &s), 0);
        CHECK_INT_EQ(s.n, 0);
        tams_buf_reset(&k);
        CHECK_INT_EQ(tams_cursor_encode(&k, "segments-rev", "-9223372036854775808"), 0);
        page.after = k.data;
        f.reverse = true;
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, &f, &page, seen_cb, &s), 0);
        CHECK_INT_EQ(s.n, 0);
        f.reverse = false;
        tams_buf_release(&next);
        tams_buf_release(&k);
    }
}

/* Flow timerange and the flows timerange filter over real segments. */
static void test_flow_timerange(void)
{
    struct tams_timerange tr, out;
    char fl[37], str[TAMS_TIMERANGE_STRMAX];

    fid(fl, 20);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, fl, NULL, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[0:0_10000:0)");
    tr = tr_of("[25:0_45:0)");
    CHECK_INT_EQ(tams_store_flow_timerange(ST, fl, &tr, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[20:0_50:0)");
    fid(fl, 2); /* [-100:0_-99:0) ... [30:0_40:0) */
    CHECK_INT_EQ(tams_store_flow_timerange(ST, fl, NULL, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[-100:0_40:0)");
    fid(fl, 1);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, fl, NULL, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[0:0_20:0]");
}

static int count_flow_cb(void *ctx, const struct tams_flow_rec *rec)
{
    int *n = ctx;

    (void)rec;
    ++*n;
    return 0;
}

static int count_flows_overlapping(const char *tr)
{
    struct tams_flow_filter ff = {0};
    struct tams_timerange r = tr_of(tr);
    struct tams_page page = {.after = NULL, .limit = 1000, .next_key = NULL};
    int n = 0;

    ff.frame_width = ff.frame_height = -1;
    ff.timerange = &r;
    CHECK_INT_EQ(tams_store_flow_list(ST, &ff, &page, count_flow_cb, &n), 0);
    return n;
}

static void test_flow_filter(void)
{
    CHECK_INT_EQ(count_flows_overlapping("[9995:0_"), 1);
    CHECK_INT_EQ(count_flows_overlapping("[35:0_36:0)"), 3); /* flows 2, 3 and 20 */
    CHECK_INT_EQ(count_flows_overlapping("[40:0_40:1)"), 1); /* 2, 3 end at 40 excl.: only 20 */
    CHECK_INT_EQ(count_flows_overlapping("[20:0]"), 3);      /* 1, 2, 20 */
    CHECK_INT_EQ(count_flows_overlapping("[-200:0_-100:0)"), 0);
}

/* Odd strings come back as they went in: object ids and get_urls with quotes, backslashes,
 * array syntax, or spelled "null" (PostgreSQL sends a request's items as array literals to one
 * function, SQLite binds each), and absent optional members stay absent. Each item sees the
 * items before it: one that overlaps an earlier item fails, and a failed item's object is free
 * for a later one. */
struct odd_seen {
    char obj[16][64], urls[16][128];
    int64_t lo[16], ts_offset[16];
    unsigned has[16];
    size_t n;
};

static int odd_cb(void *ctx, const struct tams_segment_rec *rec)
{
    struct odd_seen *s = ctx;

    if (s->n < 16) {
        snprintf(s->obj[s->n], sizeof(s->obj[0]), "%s", rec->seg.object_id);
        snprintf(s->urls[s->n], sizeof(s->urls[0]), "%s",
                 rec->seg.get_urls ? rec->seg.get_urls : "(none)");
        s->lo[s->n] = rec->seg.tr.lo;
        s->ts_offset[s->n] = rec->seg.ts_offset;
        s->has[s->n++] = rec->seg.has;
    }
    return 0;
}

/* [lo, hi) in nanoseconds. */
static void seg_ns(struct tams_segment *g, int64_t lo, int64_t hi, const char *obj)
{
    memset(g, 0, sizeof(*g));
    g->tr.lo = lo;
    g->tr.hi = hi;
    g->tr.lo_incl = true;
    g->tr.hi_incl = false;
    g->object_id = obj;
}

static void test_odd_strings(void)
{
    static const char *const odd[] = {"s \"q\" 1", "s\\2", "s,{3}", "null", "s}\"5\\"};
    static const char ext[] = "ext \"x\" \\";
    static const char urls[] = "[{\"url\":\"http://h/a\\\"b\\\\c\"}]";
    struct tams_object_alloc objs[TAMS_ARRAY_SIZE(odd)];
    struct tams_buf whys[10];
    struct tams_segment segs[10];
    struct odd_seen s = {0};
    struct obj_seen o = {0};
    int results[10];
    char id[37], other[37];

    for (int i = 0; i < 10; i++)
        tams_buf_init(&whys[i], 1024);
    CHECK_INT_EQ(put_flow(50, true), 0);
    CHECK_INT_EQ(put_flow(51, true), 0);
    fid(id, 50);
    fid(other, 51);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(odd); i++)
        objs[i] = (struct tams_object_alloc){odd[i], "key"};
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-1", objs, 4, &whys[0]), 0);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, other, "store-1", &objs[4], 1, &whys[0]), 0);
    seg_ns(&segs[0], 0, 9, odd[0]);
    segs[0].has = TAMS_SEG_TS_OFFSET;
    segs[0].ts_offset = -7;
    seg_ns(&segs[1], 10, 19, odd[0]); /* same object: one reference run */
    seg_ns(&segs[2], 20, 29, odd[3]); /* the id "null" is not SQL NULL */
    seg_ns(&segs[3], 5, 14, odd[1]);  /* overlaps item 0, stored by this same call */
    seg_ns(&segs[4], 30, 39, "s-unknown");
    seg_ns(&segs[5], 40, 49, ext);
    segs[5].get_urls = urls;
    seg_ns(&segs[6], 50, 59, odd[2]);
    segs[6].has = TAMS_SEG_SAMPLE_COUNT;
    seg_ns(&segs[7], INT64_MIN, 59, odd[2]); /* unbounded: refused before the database */
    seg_ns(&segs[8], 60, 69, odd[1]);        /* item 3 failed, so its object is free here */
    seg_ns(&segs[9], 70, 79, odd[4]);        /* allocated for the other flow */
    CHECK_INT_EQ(tams_store_segments_add(ST, id, segs, 10, results, whys, NULL), 0);
    CHECK_INT_EQ(results[0], 0);
    CHECK_INT_EQ(results[1], 0);
    CHECK_INT_EQ(results[2], 0);
    CHECK_INT_EQ(results[3], TAMS_ERR_VALIDATION);
    CHECK(strstr(whys[3].data, "overlaps segment") != NULL);
    CHECK_INT_EQ(results[4], TAMS_ERR_VALIDATION);
    CHECK(strstr(whys[4].data, "'s-unknown' is unknown") != NULL);
    CHECK_INT_EQ(results[5], 0);
    CHECK_INT_EQ(results[6], 0);
    CHECK_INT_EQ(results[7], TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(results[8], 0);
    CHECK_INT_EQ(results[9], TAMS_ERR_VALIDATION);
    CHECK(strstr(whys[9].data, "allocated for another flow") != NULL);
    CHECK_INT_EQ(tams_store_segments_list(ST, id, NULL, NULL, odd_cb, &s), 0);
    CHECK_INT_EQ(s.n, 6);
    CHECK_STR_EQ(s.obj[0], odd[0]);
    CHECK_INT_EQ(s.has[0], TAMS_SEG_TS_OFFSET);
    CHECK_INT_EQ(s.ts_offset[0], -7);
    CHECK_STR_EQ(s.urls[0], "(none)");
    CHECK_STR_EQ(s.obj[1], odd[0]);
    CHECK_INT_EQ(s.has[1], 0);
    CHECK_STR_EQ(s.obj[2], "null");
    CHECK_STR_EQ(s.obj[3], ext);
    CHECK_STR_EQ(s.urls[3], urls);
    CHECK_STR_EQ(s.obj[4], odd[2]);
    CHECK_INT_EQ(s.has[4], TAMS_SEG_SAMPLE_COUNT);
    CHECK_STR_EQ(s.obj[5], odd[1]);
    CHECK_INT_EQ(s.lo[5], 60);
    CHECK_INT_EQ(refcount(odd[0], 50), 2);
    /* Registered objects are objects now, the external one too, each referenced by the flow. */
    CHECK_INT_EQ(tams_store_object_get(ST, odd[0], NULL, obj_cb, &o), 0);
    CHECK_INT_EQ(tams_store_object_get(ST, ext, NULL, obj_cb, &o), 0);
    CHECK_INT_EQ(tams_store_object_get(ST, "null", NULL, obj_cb, &o), 0);
    CHECK_INT_EQ(o.n, 3);
    CHECK_STR_EQ(o.flows[0], id);
    CHECK_STR_EQ(o.flows[2], id);
    CHECK_INT_EQ(tams_store_object_get(ST, odd[4], NULL, obj_cb, &o), TAMS_ERR_NOTFOUND);
    for (int i = 0; i < 10; i++)
        tams_buf_release(&whys[i]);
}

/* ---- SQLite only: every statement a segment operation runs is an index search ----------- */

static int capture_db(sqlite3 *db, const char **err, const struct sqlite3_api_routines *api)
{
    (void)err;
    (void)api;
    if (capture_next) {
        store_db = db;
        capture_next = false;
    }
    return SQLITE_OK;
}

static void reset_run_counts(void)
{
    for (sqlite3_stmt *s = sqlite3_next_stmt(store_db, NULL); s; s = sqlite3_next_stmt(store_db, s))
        (void)sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 1);
}

struct plan_seen {
    const char *shape, *sql, *want;
    bool used;
};

static void plan_row(void *ctx, const struct tams_db_rows *row)
{
    struct plan_seen *p = ctx;
    const char *d = tams_db_col(row, 3);
    bool scan = strncmp(d, "SCAN", 4) == 0, sort = strstr(d, "TEMP B-TREE") != NULL;

    if (scan || sort)
        fprintf(stderr, "%s: %s\n  plan: %s\n", p->shape, p->sql + 19, d);
    CHECK(!scan);
    CHECK(!sort);
    if (p->want && strstr(d, p->want))
        p->used = true;
}

/* For every statement of the store's connection that ran since reset_run_counts(): its plan
 * (EXPLAIN QUERY PLAN, on that same connection) has no full scan and no sort. Returns how
 * many ran; *used gets whether any plan names index `want` (may be NULL). */
static int check_plans(const char *shape, const char *want, bool *used)
{
    char sql[16][2048];
    int n = 0, ran = 0;
    struct plan_seen p = {.shape = shape, .want = want};

    for (sqlite3_stmt *s = sqlite3_next_stmt(store_db, NULL); s && n < 16;
         s = sqlite3_next_stmt(store_db, s)) {
        if (sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0) > 0)
            snprintf(sql[n++], sizeof(sql[0]), "EXPLAIN QUERY PLAN %s", sqlite3_sql(s));
    }
    for (int i = 0; i < n; i++) {
        if (strncmp(sql[i], "EXPLAIN QUERY PLAN BEGIN", 24) == 0 ||
            strncmp(sql[i], "EXPLAIN QUERY PLAN COMMIT", 25) == 0)
            continue;
        ran++;
        p.sql = sql[i];
        CHECK_INT_EQ(db_rows(TAMS_DB_TX_NONE, sql[i], NULL, NULL, plan_row, &p), 0);
    }
    if (used)
        *used = p.used;
    return ran;
}

static void test_query_plans(void)
{
    struct tams_buf next = TAMS_BUF_INIT(1024);
    struct tams_page page = {.after = NULL, .limit = 5, .next_key = &next};
    struct tams_segment_filter f = {0};
    struct tams_timerange tr = tr_of("[25:0_45:0)");
    static const struct {
        const char *name;
        bool timerange, reverse;
        const char *object_id, *index;
    } shapes[] = {
        {"plain", false, false, NULL, "PRIMARY KEY"},
        {"timerange", true, false, NULL, "PRIMARY KEY"},
        {"reverse", false, true, NULL, "PRIMARY KEY"},
        {"timerange+reverse", true, true, NULL, "PRIMARY KEY"},
        {"object_id", false, false, "c1", "segments_object"},
        {"object_id+reverse", false, true, "c1", "segments_object"},
        {"object_id+timerange", true, false, "c1", "segments_object"},
    };
    struct seen s;
    char fl[37];
    bool used;

    CHECK(store_db != NULL);
    if (!store_db)
        return;
    fid(fl, 20);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(shapes); i++) {
        f.timerange = shapes[i].timerange ? &tr : NULL;
        f.reverse = shapes[i].reverse;
        f.object_id = shapes[i].object_id;
        memset(&s, 0, sizeof(s));
        reset_run_counts();
        page.after = NULL;
        CHECK_INT_EQ(tams_store_segments_list(ST, fl, &f, &page, seen_cb, &s), 0);
        CHECK(s.n > 0);
        CHECK(check_plans(shapes[i].name, shapes[i].index, &used) >= 1);
        CHECK(used);
    }

    /* segments_add, objects_allocate, object_get. */
    reset_run_counts();
    CHECK_INT_EQ(allocate1(20, "plan-1"), 0);
    CHECK_INT_EQ(add1(20, tr_nth(5000), "plan-1", NULL, NULL), 0);
    CHECK_INT_EQ(add1(20, tr_nth(5001), "plan-ext", "[]", NULL), 0);
    CHECK_INT_EQ(add1(20, tr_nth(5002), "c1", NULL, NULL), 0);
    CHECK(check_plans("segments_add", NULL, NULL) >= 8);
    reset_run_counts();
    {
        struct obj_seen o;
        CHECK_INT_EQ(get_object("c1", &o), 0);
        CHECK_INT_EQ(o.n, 1);
    }
    CHECK(check_plans("object_get", NULL, NULL) >= 2);
    tams_buf_release(&next);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (on_sqlite()) {
        /* The store opens this thread's connection in open(): catch it for the plan checks. */
        sqlite3_auto_extension((void (*)(void))capture_db);
        capture_next = true;
    }
    if (harness_open() != 0)
        return harness_finish();
    capture_next = false;

    RUN(test_adjacency);
    RUN(test_generation_scope);
    RUN(test_batch);
    RUN(test_batch_around_the_tail);
    RUN(test_clean_batch);
    if (on_sqlite())
        RUN(test_writers_queue);
    RUN(test_flow_checks);
    RUN(test_fields);
    RUN(test_odd_strings);
    RUN(test_listing);
    RUN(test_flow_timerange);
    RUN(test_flow_filter);
    if (on_sqlite())
        RUN(test_query_plans);

    if (on_sqlite())
        sqlite3_reset_auto_extension();
    return harness_finish();
}
