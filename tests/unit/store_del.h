/* SPDX-License-Identifier: Apache-2.0 */
/* store_del.h - helpers of the deletion and soft-delete contract tests (test_store_deletion.c,
 * test_store_trash.c): flows in sources, objects, runs of 10 s segments, one-value queries. */
#ifndef TAMS_TESTS_STORE_DEL_H
#define TAMS_TESTS_STORE_DEL_H

#include "core/common.h"
#include "core/buf.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_harness.h"

#define SEC INT64_C(1000000000)
#define STORAGE "5e0b8f4e-3c1a-4a5e-9f6b-2d7c8e9f0a1b"

static inline void fid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static inline void sid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-00000000000a", n);
}

/* A video flow n with a container, in source `source`. */
static inline int put_flow(unsigned n, unsigned source)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_flow_index idx;
    char text[1024], id[37], src[37];
    json_object *doc;
    unsigned eff;
    int rc;

    fid(id, n);
    sid(src, source);
    snprintf(text, sizeof(text),
             "{\"id\":\"%s\",\"source_id\":\"%s\",\"format\":\"urn:x-nmos:format:video\","
             "\"codec\":\"video/h264\",\"container\":\"video/mp2t\",\"tags\":{\"t\":\"x\"},"
             "\"essence_parameters\":{\"frame_width\":1920,\"frame_height\":1080}}",
             id, src);
    doc = json_tokener_parse(text);
    rc = tams_flow_validate(doc, &why);
    if (rc == 0)
        rc = tams_flow_index_build(doc, &idx, &why);
    if (rc == 0) {
        rc = tams_store_flow_put(ST, &idx, text, strlen(text), "alice", &eff, &why);
        tams_flow_index_release(&idx);
    }
    json_object_put(doc);
    tams_buf_release(&why);
    return rc;
}

static inline struct tams_timerange tr_nth(int64_t i)
{
    struct tams_timerange r = {i * 10 * SEC, (i + 1) * 10 * SEC - 1, true, false};
    return r;
}

static inline struct tams_timerange tr_of(const char *s)
{
    struct tams_timerange r;
    tams_timerange_empty(&r);
    CHECK_INT_EQ(tams_timerange_parse(s, strlen(s), &r), 0);
    return r;
}

static inline int allocate1(unsigned flow, const char *id)
{
    struct tams_object_alloc o = {id, id};
    char fl[37];

    fid(fl, flow);
    return tams_store_objects_allocate(ST, fl, STORAGE, &o, 1, NULL);
}

/* Segments [from, to) of flow (10 s each), object objs[i % nobjs]; uncontrolled when ext. */
static inline int add_segs(unsigned flow, int from, int to, const char *const *objs, int nobjs,
                           bool ext)
{
    struct tams_segment segs[64];
    int results[64], n = 0, rc;
    char fl[37];

    tams_assert(to - from <= 64);
    fid(fl, flow);
    for (int i = from; i < to; i++, n++) {
        memset(&segs[n], 0, sizeof(segs[n]));
        segs[n].tr = tr_nth(i);
        segs[n].object_id = objs[i % nobjs];
        segs[n].get_urls = ext ? "[{\"url\":\"http://x/y\"}]" : NULL;
    }
    rc = tams_store_segments_add(ST, fl, segs, (size_t)n, results, NULL, NULL);
    for (int i = 0; rc == 0 && i < n; i++)
        if (results[i])
            rc = results[i];
    return rc;
}

/* The first column of the first row of sql (one text parameter, or none): -1 when there is
 * no row, -2 for NULL. Read through the store's own connection. */
static inline int64_t q_int(const char *sql, const char *arg)
{
    return db_int(sql, arg, NULL);
}

#endif
