/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_pg.c - the PostgreSQL metadata store through the vtable, on a real server.
 *
 * Needs TAMS_TEST_DATABASE=postgresql://... (scripts/test.sh starts a throwaway cluster and sets
 * it); without it every test is skipped with a message. Each run works in a schema of its own,
 * dropped at the end.
 */
#include "core/common.h"
#include "core/buf.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "check.h"
#include "unregistered_seen.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <unistd.h>

static struct tams_store *store;
static char base_url[1024], url[1200], schema[32];

#define ST store

static void fid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static void sid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-00000000000a", n);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int admin(const char *sql)
{
    PGconn *c = PQconnectdb(base_url);
    PGresult *r;
    int ok;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int put_doc(unsigned n, unsigned src, const char *format, const char *extra,
                   unsigned *effects, struct tams_buf *why)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 16);
    struct tams_flow_index idx;
    json_object *doc;
    char id[37], s[37];
    int rc;

    fid(id, n);
    sid(s, src);
    tams_buf_addf(&b, "{\"id\":\"%s\",\"source_id\":\"%s\",\"format\":\"%s\"", id, s, format);
    if (strstr(format, "video"))
        tams_buf_addstr(&b, ",\"codec\":\"video/h264\",\"container\":\"video/mp2t\","
                            "\"essence_parameters\":{\"frame_width\":1920,\"frame_height\":1080}");
    tams_buf_addf(&b, "%s%s}", extra[0] ? "," : "", extra);
    doc = json_tokener_parse(b.data);
    rc = tams_flow_validate(doc, why);
    if (rc == 0)
        rc = tams_flow_index_build(doc, &idx, why);
    if (rc == 0) {
        rc = tams_store_flow_put(ST, &idx, b.data, b.len, "alice", effects, why);
        tams_flow_index_release(&idx);
    }
    json_object_put(doc);
    tams_buf_release(&b);
    return rc;
}

static int put_video(unsigned n, unsigned src, const char *extra, unsigned *effects)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    int rc = put_doc(n, src, "urn:x-nmos:format:video", extra, effects, &why);

    if (rc)
        fprintf(stderr, "put %u: %s: %s\n", n, tams_err_name(rc), why.data);
    tams_buf_release(&why);
    return rc;
}

struct seen {
    char ids[64][37];
    int64_t lo[64];
    char doc[4096], first[64];
    bool read_only;
    size_t n, ncoll;
};

static int flow_cb(void *ctx, const struct tams_flow_rec *rec)
{
    struct seen *s = ctx;

    if (s->n < 64)
        snprintf(s->ids[s->n++], 37, "%s", rec->id);
    snprintf(s->doc, sizeof(s->doc), "%.*s", (int)rec->doclen, rec->doc);
    s->read_only = rec->read_only;
    s->ncoll = rec->ncollected_by;
    return 0;
}

static int seg_cb(void *ctx, const struct tams_segment_rec *rec)
{
    struct seen *s = ctx;

    if (s->n < 64)
        s->lo[s->n++] = rec->seg.tr.lo;
    return 0;
}

static int obj_cb(void *ctx, const struct tams_object_rec *rec)
{
    struct seen *s = ctx;

    for (size_t i = 0; i < rec->nreferenced_by_flows && s->n < 64; i++)
        snprintf(s->ids[s->n++], 37, "%s", rec->referenced_by_flows[i]);
    snprintf(s->first, sizeof(s->first), "%s",
             rec->first_referenced_by_flow ? rec->first_referenced_by_flow : "");
    return 0;
}

static void test_open_twice_and_settings(void)
{
    struct tams_store *h2 = NULL;
    struct tams_buf why = TAMS_BUF_INIT(1024), v = TAMS_BUF_INIT(1024);

    /* A second open finds the schema current and applies nothing. */
    CHECK_INT_EQ(tams_store_open(&h2, url, "", 3, &why), 0);
    CHECK_STR_EQ(tams_store_name(h2), "postgresql");
    CHECK_INT_EQ(tams_store_ping(h2), 0);
    tams_store_close(h2);
    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_setting_set(ST, "name", "Studio"), 0);
    CHECK_INT_EQ(tams_store_setting_set(ST, "name", "Studio B"), 0);
    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), 0);
    CHECK_STR_EQ(v.data, "Studio B");
    CHECK_INT_EQ(tams_store_setting_set(ST, "name", NULL), 0);
    tams_buf_reset(&v);
    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), TAMS_ERR_NOTFOUND);
    tams_buf_release(&why);
    tams_buf_release(&v);
}

static void test_flows(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct seen s = {0};
    unsigned eff = 0;
    char id[37];

    CHECK_INT_EQ(put_video(1, 1, "\"tags\":{\"a\":\"1\"}", &eff), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_CREATED | TAMS_EFFECT_SOURCE_CREATED);
    CHECK_INT_EQ(put_video(1, 1, "\"label\":\"x/y\"", &eff), 0);
    CHECK_INT_EQ(eff, 0);
    CHECK_INT_EQ(put_video(2, 1,
                           "\"flow_collection\":[{\"id\":\"00000001-0000-4000-8000-"
                           "000000000000\",\"role\":\"video\"}]",
                           &eff),
                 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_CREATED);
    fid(id, 1);
    CHECK_INT_EQ(tams_store_flow_get(ST, id, flow_cb, &s), 0);
    CHECK(strstr(s.doc, "\"label\":\"x/y\"") != NULL);
    CHECK_INT_EQ(s.ncoll, 1);
    /* Another format for the same source: VALIDATION naming it. */
    CHECK_INT_EQ(
        put_doc(
            3, 1, "urn:x-nmos:format:data",
            "\"codec\":\"application/ttml+xml\",\"essence_parameters\":{\"data_type\":\"urn:x-tams:data:subtitle\"}",
            &eff, &why),
        TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "has format") != NULL);
    /* Unknown collection member. */
    tams_buf_reset(&why);
    CHECK_INT_EQ(put_doc(4, 4, "urn:x-nmos:format:video",
                         "\"flow_collection\":[{\"id\":\"00000099-0000-4000-8000-000000000000\","
                         "\"role\":\"x\"}]",
                         &eff, &why),
                 TAMS_ERR_VALIDATION);
    /* Read-only. */
    CHECK_INT_EQ(put_video(5, 5, "\"read_only\":true", &eff), 0);
    CHECK_INT_EQ(put_doc(5, 5, "urn:x-nmos:format:video", "", &eff, &why), TAMS_ERR_READONLY);
    fid(id, 5);
    CHECK_INT_EQ(tams_store_flow_delete(ST, id, &eff), TAMS_ERR_READONLY);
    /* Listing, paging, filters. */
    {
        struct tams_buf next = TAMS_BUF_INIT(1024);
        struct tams_page page = {.limit = 2, .next_key = &next};
        struct tams_flow_filter f = {0};
        struct tams_tag_filter tag = {"a", "1", true};

        f.frame_width = f.frame_height = -1;
        memset(&s, 0, sizeof(s));
        CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, flow_cb, &s), 0);
        CHECK_INT_EQ(s.n, 2);
        CHECK(next.len > 0);
        char *after = tams_strdup(next.data);
        page.after = after;
        CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, flow_cb, &s), 0);
        CHECK_INT_EQ(s.n, 3);
        CHECK_INT_EQ(next.len, 0);
        fid(id, 1);
        CHECK_STR_EQ(s.ids[0], id);
        tams_free(after);
        page.after = "bm90IGEgY3Vyc29y";
        CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, flow_cb, &s), TAMS_ERR_BADPAGE);
        page.after = NULL;
        f.tags = &tag;
        f.ntags = 1;
        memset(&s, 0, sizeof(s));
        CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, flow_cb, &s), 0);
        CHECK_INT_EQ(s.n, 0); /* flow 1 was replaced without tags */
        tams_buf_release(&next);
    }
    /* Deleting the member takes it out of the collector; the last flow takes its source. */
    fid(id, 1);
    CHECK_INT_EQ(tams_store_flow_delete(ST, id, &eff), 0);
    CHECK_INT_EQ(eff, 0);
    fid(id, 2);
    memset(&s, 0, sizeof(s));
    CHECK_INT_EQ(tams_store_flow_get(ST, id, flow_cb, &s), 0);
    CHECK(strstr(s.doc, "flow_collection") == NULL);
    CHECK_INT_EQ(tams_store_flow_delete(ST, id, &eff), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_SOURCE_DELETED);
    CHECK_INT_EQ(tams_store_flow_get(ST, id, flow_cb, &s), TAMS_ERR_NOTFOUND);
    tams_buf_release(&why);
}

static void seg(struct tams_segment *g, int64_t lo, int64_t hi, const char *obj)
{
    memset(g, 0, sizeof(*g));
    g->tr.lo = lo;
    g->tr.hi = hi;
    g->tr.lo_incl = true;
    g->tr.hi_incl = false;
    g->object_id = obj;
}

static void test_segments(void)
{
    struct tams_buf whys[4] = {TAMS_BUF_INIT(1024), TAMS_BUF_INIT(1024), TAMS_BUF_INIT(1024),
                               TAMS_BUF_INIT(1024)};
    struct tams_object_alloc objs[2] = {{"obj-a", "key-a"}, {"obj-b", "key-b"}};
    struct tams_segment segs[4];
    struct tams_timerange tr;
    struct seen s = {0};
    int results[4];
    unsigned eff;
    char id[37];

    CHECK_INT_EQ(put_video(10, 10, "", &eff), 0);
    fid(id, 10);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-1", objs, 2, &whys[0]), 0);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-1", objs, 1, &whys[0]),
                 TAMS_ERR_VALIDATION);
    for (int i = 0; i < 4; i++)
        seg(&segs[i], i * 10, i * 10 + 9, i < 2 ? "obj-a" : "obj-b");
    segs[3].tr.lo = 25; /* overlaps segment 2 */
    CHECK_INT_EQ(tams_store_segments_add(ST, id, segs, 4, results, whys, NULL), 0);
    CHECK_INT_EQ(results[0], 0);
    CHECK_INT_EQ(results[2], 0);
    CHECK_INT_EQ(results[3], TAMS_ERR_VALIDATION);
    CHECK(strstr(whys[3].data, "overlaps") != NULL);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, NULL, &tr), 0);
    CHECK_INT_EQ(tr.lo, 0);
    CHECK_INT_EQ(tr.hi, 29);
    {
        struct tams_buf next = TAMS_BUF_INIT(1024);
        struct tams_page page = {.limit = 2, .next_key = &next};
        struct tams_segment_filter f = {.reverse = true};
        struct tams_timerange within = {5, 15, true, true};

        CHECK_INT_EQ(tams_store_segments_list(ST, id, &f, &page, seg_cb, &s), 0);
        CHECK_INT_EQ(s.n, 2);
        CHECK_INT_EQ(s.lo[0], 20);
        CHECK_INT_EQ(s.lo[1], 10);
        char *after = tams_strdup(next.data);
        page.after = after;
        CHECK_INT_EQ(tams_store_segments_list(ST, id, &f, &page, seg_cb, &s), 0);
        CHECK_INT_EQ(s.n, 3);
        CHECK_INT_EQ(s.lo[2], 0);
        CHECK_INT_EQ(next.len, 0);
        tams_free(after);
        page.after = NULL;
        f.reverse = false;
        f.timerange = &within;
        memset(&s, 0, sizeof(s));
        CHECK_INT_EQ(tams_store_segments_list(ST, id, &f, &page, seg_cb, &s), 0);
        CHECK_INT_EQ(s.n, 2); /* [0,9] reaches 5, [10,19] starts before 15 */
        CHECK_INT_EQ(s.lo[0], 0);
        tams_buf_release(&next);
    }
    memset(&s, 0, sizeof(s));
    CHECK_INT_EQ(tams_store_object_get(ST, "obj-a", NULL, obj_cb, &s), 0);
    CHECK_INT_EQ(s.n, 1);
    CHECK_STR_EQ(s.first, id);
    CHECK_INT_EQ(tams_store_object_get(ST, "nope", NULL, obj_cb, &s), TAMS_ERR_NOTFOUND);
    for (int i = 0; i < 4; i++)
        tams_buf_release(&whys[i]);
}

/* objects_unregistered: one query for the whole list, ids sent as a text[] literal that no id
 * can break out of. */
static void test_unregistered(void)
{
    static const char *const odd[] = {"u \"q\" 1", "u\\2", "u,{3}", " u4 ", "u}\"5\\", "", "NULL"};
    struct tams_object_alloc objs[TAMS_ARRAY_SIZE(odd)];
    struct tams_buf why = TAMS_BUF_INIT(1024);
    const char *ask[] = {"u-unknown",   odd[0], odd[1],
                         odd[2],        odd[3], odd[4],
                         odd[5],        odd[6], "u \"q\" 1\",\"u\\\\2",
                         "{\"u,{3}\"}", "u4"};
    struct tams_segment sg;
    struct unreg_seen u = {0};
    int result;
    unsigned eff;
    char id[37];

    CHECK_INT_EQ(put_video(30, 30, "", &eff), 0);
    fid(id, 30);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(odd); i++)
        objs[i] = (struct tams_object_alloc){odd[i], "key"};
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-2", objs, TAMS_ARRAY_SIZE(odd), &why),
                 0);
    seg(&sg, 0, 9, odd[1]); /* registered: no longer reported */
    CHECK_INT_EQ(tams_store_segments_add(ST, id, &sg, 1, &result, &why, NULL), 0);
    CHECK_INT_EQ(result, 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, TAMS_ARRAY_SIZE(ask), unreg_cb, &u), 0);
    CHECK_INT_EQ(u.n, 6);
    qsort(u.ids, u.n, sizeof(u.ids[0]), cmp_id);
    CHECK_STR_EQ(u.ids[0], "");
    CHECK_STR_EQ(u.ids[1], " u4 ");
    CHECK_STR_EQ(u.ids[2], "NULL");
    CHECK_STR_EQ(u.ids[3], "u \"q\" 1");
    CHECK_STR_EQ(u.ids[4], "u,{3}");
    CHECK_STR_EQ(u.ids[5], "u}\"5\\");
    CHECK_STR_EQ(u.flow, id);
    CHECK_STR_EQ(u.storage, "store-2");
    u.n = 0;
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, 0, unreg_cb, &u), 0);
    CHECK_INT_EQ(tams_store_objects_unregistered(ST, ask, 1, unreg_cb, &u), 0);
    CHECK_INT_EQ(u.n, 0);
    tams_buf_release(&why);
}

/* segments_add sends a request's items as array literals to one function: odd strings and
 * absent values come back as they went in, and each item sees the items before it. */
struct seg_seen {
    char obj[16][64], urls[16][128];
    int64_t lo[16], ts_offset[16];
    unsigned has[16];
    size_t n;
};

static int seg_full_cb(void *ctx, const struct tams_segment_rec *rec)
{
    struct seg_seen *s = ctx;

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

static void test_segments_in_one_statement(void)
{
    static const char *const odd[] = {"s \"q\" 1", "s\\2", "s,{3}", "null", "s}\"5\\"};
    static const char ext[] = "ext \"x\" \\";
    static const char urls[] = "[{\"url\":\"http://h/a\\\"b\\\\c\"}]";
    struct tams_object_alloc objs[TAMS_ARRAY_SIZE(odd)];
    struct tams_buf whys[10];
    struct tams_segment segs[10];
    struct seg_seen s = {0};
    struct seen o = {0};
    int results[10];
    unsigned eff;
    char id[37], other[37];

    for (int i = 0; i < 10; i++)
        tams_buf_init(&whys[i], 1024);
    CHECK_INT_EQ(put_video(40, 40, "", &eff), 0);
    CHECK_INT_EQ(put_video(41, 41, "", &eff), 0);
    fid(id, 40);
    fid(other, 41);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(odd); i++)
        objs[i] = (struct tams_object_alloc){odd[i], "key"};
    CHECK_INT_EQ(tams_store_objects_allocate(ST, id, "store-1", objs, 4, &whys[0]), 0);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, other, "store-1", &objs[4], 1, &whys[0]), 0);
    seg(&segs[0], 0, 9, odd[0]);
    segs[0].has = TAMS_SEG_TS_OFFSET;
    segs[0].ts_offset = -7;
    seg(&segs[1], 10, 19, odd[0]); /* same object: one reference run */
    seg(&segs[2], 20, 29, odd[3]); /* the id "null" is not SQL NULL */
    seg(&segs[3], 5, 14, odd[1]);  /* overlaps item 0, stored by this same call */
    seg(&segs[4], 30, 39, "s-unknown");
    seg(&segs[5], 40, 49, ext);
    segs[5].get_urls = urls;
    seg(&segs[6], 50, 59, odd[2]);
    segs[6].has = TAMS_SEG_SAMPLE_COUNT;
    seg(&segs[7], INT64_MIN, 59, odd[2]); /* unbounded: refused before the database */
    seg(&segs[8], 60, 69, odd[1]);        /* item 3 failed, so its object is free here */
    seg(&segs[9], 70, 79, odd[4]);        /* allocated for the other flow */
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
    CHECK_INT_EQ(tams_store_segments_list(ST, id, NULL, NULL, seg_full_cb, &s), 0);
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
    /* Registered objects are objects now, the external one too, each referenced by the flow. */
    CHECK_INT_EQ(tams_store_object_get(ST, odd[0], NULL, obj_cb, &o), 0);
    CHECK_INT_EQ(tams_store_object_get(ST, ext, NULL, obj_cb, &o), 0);
    CHECK_INT_EQ(tams_store_object_get(ST, "null", NULL, obj_cb, &o), 0);
    CHECK_INT_EQ(o.n, 3);
    CHECK_STR_EQ(o.ids[0], id);
    CHECK_STR_EQ(o.ids[2], id);
    CHECK_INT_EQ(tams_store_object_get(ST, odd[4], NULL, obj_cb, &o), TAMS_ERR_NOTFOUND);
    for (int i = 0; i < 10; i++)
        tams_buf_release(&whys[i]);
}

/* objects_allocate inserts the whole list at once: one id already there, or twice in the
 * request, refuses all of it and names that id. */
static void test_allocate_all_or_nothing(void)
{
    struct tams_object_alloc first[2] = {{"al-1", "k1"}, {"al \"2\"", "k2"}};
    struct tams_object_alloc clash[3] = {{"al-3", "k3"}, {"al \"2\"", "k4"}, {"al-5", "k5"}};
    struct tams_object_alloc twice[3] = {{"al-6", "k6"}, {"al-7", "k7"}, {"al-6", "k8"}};
    const char *ask[] = {"al-1", "al \"2\"", "al-3", "al-5", "al-6", "al-7"};
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct unreg_seen u = {0};
    unsigned eff;
    char id[37];

    CHECK_INT_EQ(put_video(50, 50, "", &eff), 0);
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

/* Many threads writing one flow through a pool smaller than the thread count. */
struct writer {
    int rc;
    unsigned created;
};

static void *writer_run(void *arg)
{
    struct writer *w = arg;

    for (int i = 0; i < 10 && w->rc == 0; i++) {
        unsigned eff = 0;
        char extra[64];

        snprintf(extra, sizeof(extra), "\"label\":\"round %d\"", i);
        w->rc = put_video(20, 20, extra, &eff);
        w->created += (eff & TAMS_EFFECT_CREATED) != 0;
    }
    return NULL;
}

static void test_concurrent_writers(void)
{
    pthread_t t[8];
    struct writer w[8] = {{0}};
    unsigned created = 0;

    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, writer_run, &w[i]);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT_EQ(w[i].rc, 0);
        created += w[i].created;
    }
    CHECK_INT_EQ(created, 1);
}

int main(void)
{
    const char *env = getenv("TAMS_TEST_DATABASE");
    struct tams_buf why = TAMS_BUF_INIT(1024);
    char sql[256];

    if (!env || (strncmp(env, "postgresql://", 13) != 0 && strncmp(env, "postgres://", 11) != 0)) {
        printf("skipped: set TAMS_TEST_DATABASE=postgresql://... to test the PostgreSQL store"
               " (scripts/test.sh does)\n");
        return 0;
    }
    snprintf(base_url, sizeof(base_url), "%s", env);
    snprintf(schema, sizeof(schema), "unit_%ld", (long)getpid());
    snprintf(url, sizeof(url), "%s%soptions=-csearch_path%%3D%s", base_url,
             strchr(base_url, '?') ? "&" : "?", schema);
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
             schema);
    CHECK_INT_EQ(admin(sql), 0);
    CHECK_INT_EQ(tams_store_open(&store, url, "", 3, &why), 0);
    if (!store) {
        fprintf(stderr, "cannot open the store: %s\n", why.data);
        return check_report();
    }
    RUN(test_open_twice_and_settings);
    RUN(test_flows);
    RUN(test_segments);
    RUN(test_unregistered);
    RUN(test_segments_in_one_statement);
    RUN(test_allocate_all_or_nothing);
    RUN(test_concurrent_writers);
    tams_store_close(store);
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
    CHECK_INT_EQ(admin(sql), 0);
    tams_buf_release(&why);
    return check_report();
}
