/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_segments.c - segments and objects in the SQLite store: rules, listing, query plans. */
#include "core/common.h"
#include "core/buf.h"
#include "store/cursor.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "check.h"
#include "unregistered_seen.h"

#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)

static char tmpdir[64];
static char dbpath[128];
static struct tams_store *store;
static sqlite3 *store_db; /* the store's own connection (this thread's), for query plans */
static sqlite3 *raw;      /* the test's connection, for looking at rows directly */
static bool capture_next;

#define ST store

/* ---- helpers (flow helpers as in test_store.c) -------------------------------------------- */

/* Flow ids: fixed-shape v4 UUIDs that sort by n. */
static void fid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static int put_json(const char *text)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_flow_index idx;
    json_object *doc = json_tokener_parse(text);
    unsigned eff;
    int rc;

    if (!doc)
        return TAMS_ERR_BADJSON;
    rc = tams_flow_validate(doc, &why);
    if (rc == 0)
        rc = tams_flow_index_build(doc, &idx, &why);
    if (rc == 0) {
        rc = tams_store_flow_put(ST, &idx, text, strlen(text), "alice", &eff, &why);
        tams_flow_index_release(&idx);
    }
    if (rc)
        fprintf(stderr, "put: %s: %s\n", tams_err_name(rc), why.data);
    json_object_put(doc);
    tams_buf_release(&why);
    return rc;
}

/* A video flow n (source n), with or without a container. */
static int put_flow(unsigned n, bool container)
{
    char doc[1024], id[37];

    fid(id, n);
    snprintf(doc, sizeof(doc),
             "{\"id\":\"%s\",\"source_id\":\"%08x-0000-4000-8000-00000000000a\","
             "\"format\":\"urn:x-nmos:format:video\",\"codec\":\"video/h264\"%s,"
             "\"essence_parameters\":{\"frame_width\":1920,\"frame_height\":1080}}",
             id, n, container ? ",\"container\":\"video/mp2t\"" : "");
    return put_json(doc);
}

static int set_read_only(void *ctx, json_object *doc, struct tams_buf *why)
{
    (void)why;
    json_object_object_add(doc, "read_only", json_object_new_boolean(*(bool *)ctx));
    return 0;
}

static struct tams_timerange tr_of(const char *s)
{
    struct tams_timerange r;

    tams_timerange_empty(&r);
    CHECK_INT_EQ(tams_timerange_parse(s, strlen(s), &r), 0);
    return r;
}

/* [i * 10 s, (i + 1) * 10 s) */
static struct tams_timerange tr_nth(int64_t i)
{
    struct tams_timerange r = {i * 10 * SEC, (i + 1) * 10 * SEC - 1, true, false};

    return r;
}

static int allocate(unsigned flow, const char *const *ids, size_t n, struct tams_buf *why)
{
    struct tams_object_alloc objs[16];
    char fl[37], keys[16][64];

    tams_assert(n <= 16);
    fid(fl, flow);
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k/%s", ids[i]);
        objs[i].id = ids[i];
        objs[i].key = keys[i];
    }
    return tams_store_objects_allocate(ST, fl, "5e0b8f4e-3c1a-4a5e-9f6b-2d7c8e9f0a1b", objs, n,
                                       why);
}

static int allocate1(unsigned flow, const char *id)
{
    return allocate(flow, &id, 1, NULL);
}

/* Register one segment; returns its result (or the batch's error), why gets the summary. */
static int add1(unsigned flow, struct tams_timerange tr, const char *object_id,
                const char *get_urls, struct tams_buf *why)
{
    struct tams_segment seg = {.tr = tr, .object_id = object_id, .get_urls = get_urls};
    char fl[37];
    int result = 12345, rc;

    fid(fl, flow);
    if (why)
        tams_buf_reset(why);
    rc = tams_store_segments_add(ST, fl, &seg, 1, &result, why, "bob");
    CHECK(rc == 0 || rc == result);
    return rc ? rc : result;
}

static int add1s(unsigned flow, const char *tr, const char *object_id, const char *get_urls)
{
    return add1(flow, tr_of(tr), object_id, get_urls, NULL);
}

/* What a listing saw. */
struct seen {
    int64_t lo[1200];
    char first[TAMS_TIMERANGE_STRMAX];
    char object0[64], get_urls0[128], storage0[64], key0[64];
    bool controlled0;
    unsigned has0;
    int64_t ts_offset0, sample_count0;
    size_t n;
};

static int seen_cb(void *ctx, const struct tams_segment_rec *rec)
{
    struct seen *s = ctx;

    if (s->n == 0) {
        tams_timerange_format(&rec->seg.tr, s->first);
        snprintf(s->object0, sizeof(s->object0), "%s", rec->seg.object_id);
        snprintf(s->get_urls0, sizeof(s->get_urls0), "%s",
                 rec->seg.get_urls ? rec->seg.get_urls : "(null)");
        snprintf(s->storage0, sizeof(s->storage0), "%s",
                 rec->storage_id ? rec->storage_id : "(null)");
        snprintf(s->key0, sizeof(s->key0), "%s", rec->key ? rec->key : "(null)");
        s->controlled0 = rec->controlled;
        s->has0 = rec->seg.has;
        s->ts_offset0 = rec->seg.ts_offset;
        s->sample_count0 = rec->seg.sample_count;
    }
    if (s->n < TAMS_ARRAY_SIZE(s->lo))
        s->lo[s->n] = rec->seg.tr.lo;
    s->n++;
    return 0;
}

/* Every page of a listing with the given page size; returns the first error. */
static int list_all(unsigned flow, const struct tams_segment_filter *f, int limit, struct seen *out,
                    size_t *pages)
{
    struct tams_buf next = TAMS_BUF_INIT(1024), cur = TAMS_BUF_INIT(1024);
    struct tams_page page = {.after = NULL, .limit = limit, .next_key = &next};
    char fl[37];
    int rc;

    memset(out, 0, sizeof(*out));
    *pages = 0;
    fid(fl, flow);
    for (;;) {
        size_t before = out->n;

        rc = tams_store_segments_list(ST, fl, f, &page, seen_cb, out);
        if (rc)
            break;
        ++*pages;
        CHECK(out->n - before <= (size_t)limit);
        if (next.len == 0)
            break;
        CHECK_INT_EQ(out->n - before, limit); /* only the last page is short */
        tams_buf_reset(&cur);
        tams_buf_addstr(&cur, next.data);
        page.after = cur.data;
        if (*pages > 2000) {
            CHECK(!"paging does not end");
            break;
        }
    }
    tams_buf_release(&next);
    tams_buf_release(&cur);
    return rc;
}

static size_t count_listed(unsigned flow, const struct tams_segment_filter *f)
{
    static struct seen s;
    size_t pages;

    CHECK_INT_EQ(list_all(flow, f, 1000, &s, &pages), 0);
    return s.n;
}

static int64_t refcount(const char *object_id, unsigned flow)
{
    sqlite3_stmt *s;
    char fl[37];
    int64_t n = 0;

    fid(fl, flow);
    CHECK_INT_EQ(sqlite3_prepare_v2(raw,
                                    "SELECT count FROM object_refs WHERE object_id = ?1"
                                    " AND flow_id = ?2",
                                    -1, &s, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(s, 1, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, fl, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

struct obj_seen {
    char flows[16][37];
    char first[37];
    size_t n;
    int calls;
};

static int obj_cb(void *ctx, const struct tams_object_rec *rec)
{
    struct obj_seen *o = ctx;

    o->calls++;
    snprintf(o->first, sizeof(o->first), "%s",
             rec->first_referenced_by_flow ? rec->first_referenced_by_flow : "(null)");
    for (size_t i = 0; i < rec->nreferenced_by_flows && o->n < 16; i++)
        snprintf(o->flows[o->n++], 37, "%s", rec->referenced_by_flows[i]);
    return 0;
}

static int get_object(const char *id, struct obj_seen *o)
{
    memset(o, 0, sizeof(*o));
    return tams_store_object_get(ST, id, NULL, obj_cb, o);
}

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

/* Writers of one process queue on a mutex (sqlite.c tx_begin). A write asked for inside a
 * write on the same thread is refused at once; one that waits longer than the busy bound (5 s)
 * is UNAVAILABLE, like a busy database; the queue is free again once the holder ends. */
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
    /* Quotes, backslashes, JSON and array syntax, control and non-ASCII characters: each id is
     * bound as a parameter on SQLite, quoted into one array literal on PostgreSQL. */
    static const char *const odd[] = {"u \"q\" 1", "u\\2", "u,{3}", " u4 ", "\xc3\xbc\t5]"};
    const char *ask[] = {"u-unknown", odd[0], odd[1], odd[2], odd[3], odd[4], "u-ext", "NULL"};
    struct unreg_seen u = {0};
    char fl[37];

    fid(fl, 40);
    CHECK_INT_EQ(put_flow(40, true), 0);
    CHECK_INT_EQ(allocate(40, odd, 5, NULL), 0);
    CHECK_INT_EQ(add1s(40, "[0:0_1:0)", odd[1], NULL), 0); /* registered: no longer reported */
    CHECK_INT_EQ(add1s(40, "[1:0_2:0)", "u-ext", "[{\"url\":\"http://x/y\"}]"), 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, TAMS_ARRAY_SIZE(ask), unreg_cb, &u), 0);
    CHECK_INT_EQ(u.n, 4);
    qsort(u.ids, u.n, sizeof(u.ids[0]), cmp_id);
    CHECK_STR_EQ(u.ids[0], " u4 ");
    CHECK_STR_EQ(u.ids[1], "u \"q\" 1");
    CHECK_STR_EQ(u.ids[2], "u,{3}");
    CHECK_STR_EQ(u.ids[3], odd[4]);
    CHECK_STR_EQ(u.storage, "5e0b8f4e-3c1a-4a5e-9f6b-2d7c8e9f0a1b");
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

/* ---- query plans: every statement a segment operation runs is an index search ------------ */

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

/* For every statement of the store's connection that ran since reset_run_counts(): its plan
 * has no full scan and no sort. Returns how many ran; *used gets whether any plan names index
 * `want` (may be NULL). */
static int check_plans(const char *shape, const char *want, bool *used)
{
    char sql[16][2048];
    int n = 0, ran = 0;

    if (used)
        *used = false;
    for (sqlite3_stmt *s = sqlite3_next_stmt(store_db, NULL); s && n < 16;
         s = sqlite3_next_stmt(store_db, s)) {
        if (sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0) > 0)
            snprintf(sql[n++], sizeof(sql[0]), "EXPLAIN QUERY PLAN %s", sqlite3_sql(s));
    }
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *e;
        if (strncmp(sql[i], "EXPLAIN QUERY PLAN BEGIN", 24) == 0 ||
            strncmp(sql[i], "EXPLAIN QUERY PLAN COMMIT", 25) == 0)
            continue;
        ran++;
        CHECK_INT_EQ(sqlite3_prepare_v2(raw, sql[i], -1, &e, NULL), SQLITE_OK);
        while (sqlite3_step(e) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(e, 3);
            bool scan = strncmp(d, "SCAN", 4) == 0, sort = strstr(d, "TEMP B-TREE") != NULL;
            if (scan || sort)
                fprintf(stderr, "%s: %s\n  plan: %s\n", shape, sql[i] + 19, d);
            CHECK(!scan);
            CHECK(!sort);
            if (used && want && strstr(d, want))
                *used = true;
        }
        sqlite3_finalize(e);
    }
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

int main(void)
{
    struct tams_buf why = TAMS_BUF_INIT(256);
    char url[160];

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store_segments.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/meta.db", tmpdir);
    snprintf(url, sizeof(url), "sqlite:%s", dbpath);
    /* The store opens this thread's connection in open(): catch it for the plan checks. */
    sqlite3_auto_extension((void (*)(void))capture_db);
    capture_next = true;
    CHECK_INT_EQ(tams_store_open(&store, url, tmpdir, 0, &why), 0);
    capture_next = false;
    CHECK_INT_EQ(sqlite3_open(dbpath, &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);

    RUN(test_adjacency);
    RUN(test_batch);
    RUN(test_batch_around_the_tail);
    RUN(test_writers_queue);
    RUN(test_flow_checks);
    RUN(test_objects);
    RUN(test_unregistered);
    RUN(test_fields);
    RUN(test_listing);
    RUN(test_flow_timerange);
    RUN(test_flow_filter);
    RUN(test_object_paging);
    RUN(test_query_plans);

    sqlite3_close(raw);
    tams_store_close(store);
    sqlite3_reset_auto_extension();
    tams_buf_release(&why);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", tmpdir);
    }
    return check_report();
}
