/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_objects.c - the store contract for objects: allocation, ownership and reuse,
 * reference counts, objects_unregistered and object_get's paging, on the back end named by
 * argv[1] (store_harness.h). */
#include "core/common.h"
#include "core/buf.h"
#include "store/cursor.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_segs.h"
#include "unregistered_seen.h"

/* Notes §6.3 and §11.17/18: ownership, reuse, external objects, reference counts. */
static void test_objects(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_segment segs[3];
    struct obj_seen o;
    struct seen s;
    size_t pages;
    int results[3];
    char fa[37], fb[37];
    static const char *const a_ids[] = {"tams-b/a1", "tams-b/a2"};

    CHECK_INT_EQ(put_flow(10, true), 0);
    CHECK_INT_EQ(put_flow(11, true), 0);
    fid(fa, 10);
    fid(fb, 11);
    CHECK_INT_EQ(allocate(10, a_ids, 2, NULL), 0);
    CHECK_INT_EQ(allocate1(11, "b1"), 0);

    /* Allocated for another flow and not registered yet. */
    CHECK_INT_EQ(add1(11, tr_nth(0), "tams-b/a1", NULL, &why), TAMS_ERR_VALIDATION);
    CHECK_STR_EQ(why.data, "object 'tams-b/a1' was allocated for another flow and has not been"
                           " registered yet");
    CHECK_INT_EQ(add1(11, tr_nth(0), "tams-b/a1", "[{\"url\":\"http://x/\"}]", &why),
                 TAMS_ERR_VALIDATION);                            /* get_urls do not change that */
    CHECK_INT_EQ(get_object("tams-b/a1", &o), TAMS_ERR_NOTFOUND); /* allocated only */
    CHECK_INT_EQ(add1(10, tr_nth(0), "tams-b/a1", NULL, &why), 0);
    /* Registered: any flow may reuse it now. */
    CHECK_INT_EQ(add1(11, tr_nth(5), "tams-b/a1", NULL, &why), 0);
    CHECK_INT_EQ(add1(10, tr_nth(1), "tams-b/a1", NULL, &why), 0);
    CHECK_INT_EQ(refcount("tams-b/a1", 10), 2);
    CHECK_INT_EQ(refcount("tams-b/a1", 11), 1);
    CHECK_INT_EQ(get_object("tams-b/a1", &o), 0);
    CHECK_INT_EQ(o.calls, 1);
    CHECK_INT_EQ(o.n, 2);
    CHECK_STR_EQ(o.flows[0], fa);
    CHECK_STR_EQ(o.flows[1], fb);
    CHECK_STR_EQ(o.first, fa);

    /* Consecutive segments of one object in a batch. */
    for (size_t i = 0; i < 3; i++) {
        memset(&segs[i], 0, sizeof(segs[i]));
        segs[i].tr = tr_nth(10 + (int64_t)i);
        segs[i].object_id = "tams-b/a2";
        segs[i].sample_offset = (int64_t)i * 250;
        segs[i].sample_count = 250;
        segs[i].has = TAMS_SEG_SAMPLE_OFFSET | TAMS_SEG_SAMPLE_COUNT;
    }
    segs[1].tr = tr_nth(10); /* fails: the ref count must still be 2 */
    CHECK_INT_EQ(tams_store_segments_add(ST, fa, segs, 3, results, NULL, "bob"), 0);
    CHECK_INT_EQ(results[0], 0);
    CHECK_INT_EQ(results[1], TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(results[2], 0);
    CHECK_INT_EQ(refcount("tams-b/a2", 10), 2);

    /* Unknown: refused without get_urls, external (uncontrolled) with them. */
    CHECK_INT_EQ(add1(10, tr_nth(20), "ext/1.ts", NULL, &why), TAMS_ERR_VALIDATION);
    CHECK_STR_EQ(why.data, "object 'ext/1.ts' is unknown: allocate it with POST"
                           " /flows/{id}/storage or give get_urls");
    CHECK_INT_EQ(add1(10, tr_nth(20), "ext/1.ts", "[{\"url\":\"http://ext/1.ts\"}]", &why), 0);
    CHECK_INT_EQ(add1(11, tr_nth(20), "ext/1.ts", NULL, &why), 0); /* reuse, no get_urls */
    CHECK_INT_EQ(get_object("ext/1.ts", &o), 0);
    CHECK_STR_EQ(o.first, fa);
    CHECK_INT_EQ(o.n, 2);
    {
        struct tams_segment_filter f = {.object_id = "ext/1.ts"};
        CHECK_INT_EQ(list_all(10, &f, 10, &s, &pages), 0);
        CHECK_INT_EQ(s.n, 1);
        CHECK(!s.controlled0);
        CHECK_STR_EQ(s.storage0, "(null)");
        CHECK_STR_EQ(s.key0, "(null)");
        CHECK_STR_EQ(s.get_urls0, "[{\"url\":\"http://ext/1.ts\"}]");
        f.object_id = "tams-b/a2";
        CHECK_INT_EQ(list_all(10, &f, 10, &s, &pages), 0);
        CHECK_INT_EQ(s.n, 2);
        CHECK(s.controlled0);
        CHECK_STR_EQ(s.storage0, "5e0b8f4e-3c1a-4a5e-9f6b-2d7c8e9f0a1b");
        CHECK_STR_EQ(s.key0, "k/tams-b/a2");
        CHECK_STR_EQ(s.get_urls0, "(null)");
        CHECK_INT_EQ(s.has0, TAMS_SEG_SAMPLE_OFFSET | TAMS_SEG_SAMPLE_COUNT);
        CHECK_INT_EQ(s.sample_count0, 250);
        CHECK_STR_EQ(s.first, "[100:0_110:0)");
        CHECK_INT_EQ(s.lo[1], 120 * SEC);
    }
    CHECK_INT_EQ(get_object("nothing-here", &o), TAMS_ERR_NOTFOUND);

    /* Allocation: an id that exists (allocated or registered) refuses the whole request. */
    {
        static const char *const dup1[] = {"n1", "n1"};
        static const char *const dup2[] = {"n2", "tams-b/a1"};
        static const char *const dup3[] = {"n3", "b1"};
        static const char *const dup4[] = {"ext/1.ts"};
        tams_buf_reset(&why);
        CHECK_INT_EQ(allocate(10, dup1, 2, &why), TAMS_ERR_VALIDATION);
        CHECK_STR_EQ(why.data, "object id 'n1' already exists");
        CHECK_INT_EQ(allocate(10, dup2, 2, NULL), TAMS_ERR_VALIDATION);
        CHECK_INT_EQ(allocate(10, dup3, 2, NULL), TAMS_ERR_VALIDATION);
        CHECK_INT_EQ(allocate(10, dup4, 1, NULL), TAMS_ERR_VALIDATION);
        /* Nothing of those was kept. */
        CHECK_INT_EQ(allocate1(10, "n1"), 0);
        CHECK_INT_EQ(allocate1(10, "n2"), 0);
        CHECK_INT_EQ(allocate1(10, "n3"), 0);
    }
    tams_buf_release(&why);
}

/* objects_unregistered: which of a list of ids are allocated and not registered yet. A
 * callback's error stops the calls and is the result (unreg_stop). */
static int unreg_stop(void *ctx, const struct tams_unregistered_object *o)
{
    (void)ctx;
    (void)o;
    return TAMS_ERR_CONFLICT;
}

static void test_unregistered(void)
{
    /* Quotes, backslashes, JSON and array syntax, control and non-ASCII characters, the empty
     * id and "NULL": each id is bound as a parameter on SQLite, quoted into one array literal
     * on PostgreSQL, where none may end its element or the array early or read as NULL. */
    static const char *const odd[] = {"u \"q\" 1",    "u\\2",    "u,{3}", " u4 ",
                                      "\xc3\xbc\t5]", "u}\"5\\", "",      "NULL"};
    const char *ask[] = {
        "u-unknown", odd[0], odd[1],  odd[2],  odd[3], odd[4],        odd[5],
        odd[6],      odd[7], "u-ext", "NULL ", "u4",   "{\"u,{3}\"}", "u \"q\" 1\",\"u\\\\2"};
    struct unreg_seen u = {0};
    char fl[37];

    fid(fl, 40);
    CHECK_INT_EQ(put_flow(40, true), 0);
    CHECK_INT_EQ(allocate(40, odd, TAMS_ARRAY_SIZE(odd), NULL), 0);
    CHECK_INT_EQ(add1s(40, "[0:0_1:0)", odd[1], NULL), 0); /* registered: no longer reported */
    CHECK_INT_EQ(add1s(40, "[1:0_2:0)", "u-ext", "[{\"url\":\"http://x/y\"}]"), 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, TAMS_ARRAY_SIZE(ask), unreg_cb, &u), 0);
    CHECK_INT_EQ(u.n, 7);
    qsort(u.ids, u.n, sizeof(u.ids[0]), cmp_id);
    CHECK_STR_EQ(u.ids[0], "");
    CHECK_STR_EQ(u.ids[1], " u4 ");
    CHECK_STR_EQ(u.ids[2], "NULL");
    CHECK_STR_EQ(u.ids[3], "u \"q\" 1");
    CHECK_STR_EQ(u.ids[4], "u,{3}");
    CHECK_STR_EQ(u.ids[5], "u}\"5\\");
    CHECK_STR_EQ(u.ids[6], odd[4]);
    CHECK_STR_EQ(u.storage, STORAGE);
    CHECK_STR_EQ(u.flow, fl);
    CHECK(strncmp(u.key, "k/", 2) == 0);
    /* Nothing asked, nothing found; a callback's error is the result. */
    u.n = 0;
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, 0, unreg_cb, &u), 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, 1, unreg_cb, &u), 0);
    CHECK_INT_EQ(u.n, 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, &odd[0], 1, unreg_stop, NULL),
                 TAMS_ERR_CONFLICT);
}

/* objects_allocate takes the whole list or nothing: one id already there, or twice in the
 * request, refuses all of it and names that id (PostgreSQL inserts the list in one statement). */
static void test_allocate_all_or_nothing(void)
{
    struct tams_object_alloc first[2] = {{"al-1", "k1"}, {"al \"2\"", "k2"}};
    struct tams_object_alloc clash[3] = {{"al-3", "k3"}, {"al \"2\"", "k4"}, {"al-5", "k5"}};
    struct tams_object_alloc twice[3] = {{"al-6", "k6"}, {"al-7", "k7"}, {"al-6", "k8"}};
    const char *ask[] = {"al-1", "al \"2\"", "al-3", "al-5", "al-6", "al-7"};
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct unreg_seen u = {0};
    char id[37];

    CHECK_INT_EQ(put_flow(50, true), 0);
    fid(id, 50);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-2", first, 2, &why), 0);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-2", clash, 3, &why),
                 TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "object id 'al \"2\"' already exists") != NULL);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-2", twice, 3, &why),
                 TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "object id 'al-6' already exists") != NULL);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-2", first, 0, &why), 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, TAMS_ARRAY_SIZE(ask), unreg_cb, &u), 0);
    CHECK_INT_EQ(u.n, 2); /* only the first allocation's */
    CHECK_STR_EQ(u.storage, "store-2");
    tams_buf_release(&why);
}

/* object_get pages referenced_by_flows by flow id. */
static void test_object_paging(void)
{
    struct tams_buf next = TAMS_BUF_INIT(1024), cur = TAMS_BUF_INIT(1024);
    struct tams_page page = {.after = NULL, .limit = 2, .next_key = &next};
    struct obj_seen o;
    char fl[37];
    int pages = 0;

    for (unsigned f = 30; f < 35; f++)
        CHECK_INT_EQ(put_flow(f, true), 0);
    CHECK_INT_EQ(allocate1(33, "shared"), 0);
    CHECK_INT_EQ(add1(33, tr_nth(0), "shared", NULL, NULL), 0);
    for (unsigned f = 30; f < 35; f++) {
        if (f != 33)
            CHECK_INT_EQ(add1(f, tr_nth(1), "shared", NULL, NULL), 0);
    }
    memset(&o, 0, sizeof(o));
    for (;;) {
        size_t before = o.n;
        CHECK_INT_EQ(tams_store_object_get(ST, "shared", &page, obj_cb, &o), 0);
        pages++;
        CHECK(o.n - before <= 2);
        if (!next.len || pages > 5)
            break;
        tams_buf_reset(&cur);
        tams_buf_addstr(&cur, next.data);
        page.after = cur.data;
    }
    CHECK_INT_EQ(pages, 3);
    CHECK_INT_EQ(o.n, 5);
    for (unsigned f = 30; f < 35 && f - 30 < o.n; f++) {
        fid(fl, f);
        CHECK_STR_EQ(o.flows[f - 30], fl);
    }
    fid(fl, 33);
    CHECK_STR_EQ(o.first, fl);
    page.after = "bm90IGEgY3Vyc29y";
    CHECK_INT_EQ(tams_store_object_get(ST, "shared", &page, obj_cb, &o), TAMS_ERR_BADPAGE);
    tams_buf_reset(&cur);
    CHECK_INT_EQ(tams_cursor_encode(&cur, "flows", "00000031-0000-4000-8000-000000000000"), 0);
    page.after = cur.data;
    CHECK_INT_EQ(tams_store_object_get(ST, "shared", &page, obj_cb, &o), TAMS_ERR_BADPAGE);

    /* flow_delete drops the flow's references; first_referenced_by_flow stays. */
    fid(fl, 33);
    {
        unsigned eff;
        CHECK_INT_EQ(tams_store_flow_delete(ST, fl, &eff), 0);
    }
    CHECK_INT_EQ(refcount("shared", 33), 0);
    CHECK_INT_EQ(get_object("shared", &o), 0);
    CHECK_INT_EQ(o.n, 4);
    CHECK_STR_EQ(o.first, fl);
    CHECK_INT_EQ(count_listed(33, NULL), 0);
    /* Once no flow references it, the object is gone from /objects (notes §6.5). */
    for (unsigned f = 30; f < 35; f++) {
        unsigned eff;
        if (f == 33)
            continue;
        fid(fl, f);
        CHECK_INT_EQ(tams_store_flow_delete(ST, fl, &eff), 0);
    }
    CHECK_INT_EQ(get_object("shared", &o), TAMS_ERR_NOTFOUND);
    tams_buf_release(&next);
    tams_buf_release(&cur);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_objects);
    RUN(test_unregistered);
    RUN(test_allocate_all_or_nothing);
    RUN(test_object_paging);
    return harness_finish();
}
