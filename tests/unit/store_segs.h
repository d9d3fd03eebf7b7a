/* SPDX-License-Identifier: Apache-2.0 */
/* store_segs.h - helpers of the segment and object contract tests (test_store_segments.c,
 * test_store_objects.c): flows, allocation, registration, listings and what they saw.
 */
#ifndef TAMS_TESTS_STORE_SEGS_H
#define TAMS_TESTS_STORE_SEGS_H

#include "core/common.h"
#include "core/buf.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_harness.h"

#define SEC INT64_C(1000000000)
#define STORAGE "5e0b8f4e-3c1a-4a5e-9f6b-2d7c8e9f0a1b"

/* Flow ids: fixed-shape v4 UUIDs that sort by n. */
static inline void fid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static inline int put_json(const char *text)
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
static inline int put_flow(unsigned n, bool container)
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

static inline int set_read_only(void *ctx, json_object *doc, struct tams_buf *why)
{
    (void)why;
    json_object_object_add(doc, "read_only", json_object_new_boolean(*(bool *)ctx));
    return 0;
}

static inline struct tams_timerange tr_of(const char *s)
{
    struct tams_timerange r;

    tams_timerange_empty(&r);
    CHECK_INT_EQ(tams_timerange_parse(s, strlen(s), &r), 0);
    return r;
}

/* [i * 10 s, (i + 1) * 10 s) */
static inline struct tams_timerange tr_nth(int64_t i)
{
    struct tams_timerange r = {i * 10 * SEC, (i + 1) * 10 * SEC - 1, true, false};

    return r;
}

static inline int allocate(unsigned flow, const char *const *ids, size_t n, struct tams_buf *why)
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
    return tams_store_objects_allocate(ST, fl, STORAGE, objs, n, why);
}

static inline int allocate1(unsigned flow, const char *id)
{
    return allocate(flow, &id, 1, NULL);
}

/* Register one segment; returns its result (or the batch's error), why gets the summary. */
static inline int add1(unsigned flow, struct tams_timerange tr, const char *object_id,
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

static inline int add1s(unsigned flow, const char *tr, const char *object_id, const char *get_urls)
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

static inline int seen_cb(void *ctx, const struct tams_segment_rec *rec)
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
static inline int list_all(unsigned flow, const struct tams_segment_filter *f, int limit,
                           struct seen *out, size_t *pages)
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

static inline size_t count_listed(unsigned flow, const struct tams_segment_filter *f)
{
    static struct seen s;
    size_t pages;

    CHECK_INT_EQ(list_all(flow, f, 1000, &s, &pages), 0);
    return s.n;
}

/* The object's reference count held by the flow (0 when there is no row). */
static inline int64_t refcount(const char *object_id, unsigned flow)
{
    char fl[37];
    int64_t n;

    fid(fl, flow);
    n = db_int("SELECT count FROM object_refs WHERE object_id = ?1 AND flow_id = ?2", object_id,
               fl);
    return n < 0 ? 0 : n;
}

struct obj_seen {
    char flows[16][37];
    char first[37];
    size_t n;
    int calls;
};

static inline int obj_cb(void *ctx, const struct tams_object_rec *rec)
{
    struct obj_seen *o = ctx;

    o->calls++;
    snprintf(o->first, sizeof(o->first), "%s",
             rec->first_referenced_by_flow ? rec->first_referenced_by_flow : "(null)");
    for (size_t i = 0; i < rec->nreferenced_by_flows && o->n < 16; i++)
        snprintf(o->flows[o->n++], 37, "%s", rec->referenced_by_flows[i]);
    return 0;
}

static inline int get_object(const char *id, struct obj_seen *o)
{
    memset(o, 0, sizeof(*o));
    return tams_store_object_get(ST, id, NULL, obj_cb, o);
}

#endif
