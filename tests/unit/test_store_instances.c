/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_instances.c - the store contract for TAMS 8.2 object instances (instances.c):
 * add, read with the segments, remove (the allocated instance replaced by a copy, the last one
 * kept), copies' media queued in the trash, on the back end named by argv[1]
 * (store_harness.h). */
#include "core/common.h"
#include "core/buf.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_segs.h"

#define OTHER "7a1b2c3d-4444-4aaa-8bbb-000000000004"

struct inst_seen {
    int calls;
    bool controlled;
    char storage_id[64], key[64], instances[1024];
};

static int inst_cb(void *ctx, const struct tams_object_inst *o)
{
    struct inst_seen *s = ctx;
    s->calls++;
    s->controlled = o->controlled;
    snprintf(s->storage_id, sizeof(s->storage_id), "%s", o->storage_id ? o->storage_id : "(null)");
    snprintf(s->key, sizeof(s->key), "%s", o->key ? o->key : "(null)");
    snprintf(s->instances, sizeof(s->instances), "%s", o->instances ? o->instances : "(null)");
    return 0;
}

static int seg_inst_cb(void *ctx, const struct tams_segment_rec *rec)
{
    snprintf(ctx, 1024, "%s", rec->instances ? rec->instances : "(null)");
    return 0;
}

/* The instances the (one) segment of a flow lists. */
static void seg_instances(unsigned flow, char out[1024])
{
    struct tams_segment_filter f = {0};
    struct tams_page page = {.limit = 10};
    char fl[37];

    fid(fl, flow);
    out[0] = '\0';
    CHECK_INT_EQ(tams_store_segments_list(ST, fl, &f, &page, seg_inst_cb, out), 0);
}

static int64_t trash_count(const char *object_id)
{
    return db_int("SELECT count(*) FROM object_trash WHERE object_id = ?1", object_id, NULL);
}

static int64_t trash_has(const char *object_id, const char *key)
{
    return db_int("SELECT count(*) FROM object_trash WHERE object_id = ?1 AND key = ?2", object_id,
                  key);
}

static void test_instances(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct inst_seen o = {0};
    struct seen s;
    size_t pages;
    char text[1024];

    CHECK_INT_EQ(put_flow(40, true), 0);
    CHECK_INT_EQ(allocate1(40, "i1"), 0);
    /* Allocated, never used: not an object to 8.2 yet. */
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "i1", inst_cb, &o), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i1", OTHER, "c/1", NULL, NULL, &why),
                 TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(add1s(40, "[0:0_1:0)", "i1", NULL), 0);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "i1", inst_cb, &o), 0);
    CHECK(o.controlled);
    CHECK_STR_EQ(o.storage_id, STORAGE);
    CHECK_STR_EQ(o.key, "k/i1");
    CHECK_STR_EQ(o.instances, "(null)");

    /* A copy and a URL; clashes are CONFLICT and change nothing. */
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i1", OTHER, "c/1", NULL, NULL, &why), 0);
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i1", NULL, NULL, "http://cdn/x", "cdn", &why),
                 0);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i1", OTHER, "c/2", NULL, NULL, &why),
                 TAMS_ERR_CONFLICT);
    CHECK(strstr(why.data, OTHER) != NULL);
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i1", STORAGE, "c/3", NULL, NULL, &why),
                 TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(
        tams_store_object_instance_add(ST, "i1", NULL, NULL, "http://other/x", "cdn", &why),
        TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "i1", inst_cb, &o), 0);
    CHECK_STR_EQ(o.instances, "[{\"storage_id\":\"" OTHER "\",\"key\":\"c/1\"},"
                              "{\"url\":\"http://cdn/x\",\"label\":\"cdn\"}]");

    /* The segments carry them. */
    seg_instances(40, text);
    CHECK_STR_EQ(text, o.instances);

    /* Removing: unknown ones are NOTFOUND; a URL goes; the allocated instance goes when a copy
     * takes its place, its media to the trash; the last controlled one stays. */
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "i1", NULL, "nope", &why),
                 TAMS_ERR_NOTFOUND);
    CHECK(strstr(why.data, "nope") != NULL);
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "i1", NULL, "cdn", &why), 0);
    CHECK_INT_EQ(trash_count("i1"), 0);
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "i1", STORAGE, NULL, &why), 0);
    CHECK_INT_EQ(trash_has("i1", "k/i1"), 1);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "i1", inst_cb, &o), 0);
    CHECK_STR_EQ(o.storage_id, OTHER);
    CHECK_STR_EQ(o.key, "c/1");
    CHECK_STR_EQ(o.instances, "(null)");
    CHECK_INT_EQ(list_all(40, NULL, 10, &s, &pages), 0);
    CHECK_STR_EQ(s.storage0, OTHER);
    CHECK_STR_EQ(s.key0, "c/1");
    seg_instances(40, text);
    CHECK_STR_EQ(text, "(null)");
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "i1", OTHER, NULL, &why),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "i1", inst_cb, &o), 0);
    CHECK_STR_EQ(o.storage_id, OTHER);

    /* A copy removed goes to the trash too; a copy that lost a race can be queued. */
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i1", STORAGE, "c/4", NULL, NULL, &why), 0);
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "i1", STORAGE, NULL, &why), 0);
    CHECK_INT_EQ(trash_has("i1", "c/4"), 1);
    CHECK_INT_EQ(tams_store_media_trash(ST, "i1", STORAGE, "c/5"), 0);
    CHECK_INT_EQ(trash_has("i1", "c/5"), 1);
    tams_buf_release(&why);
}

/* An uncontrolled object: its URLs live on its segments, instances are added beside them. */
static void test_uncontrolled(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct inst_seen o = {0};

    CHECK_INT_EQ(put_flow(42, true), 0);
    CHECK_INT_EQ(add1s(42, "[0:0_1:0)", "ext/u", "[{\"url\":\"http://ext/u\"}]"), 0);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "ext/u", inst_cb, &o), 0);
    CHECK(!o.controlled);
    CHECK_STR_EQ(o.storage_id, "(null)");
    CHECK_INT_EQ(
        tams_store_object_instance_add(ST, "ext/u", NULL, NULL, "http://cdn/u", "cdn", &why), 0);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "ext/u", inst_cb, &o), 0);
    CHECK(!o.controlled);
    CHECK_STR_EQ(o.instances, "[{\"url\":\"http://cdn/u\",\"label\":\"cdn\"}]");
    /* Its own place is not an instance in a backend. */
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "ext/u", STORAGE, NULL, &why),
                 TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_object_instance_remove(ST, "ext/u", NULL, "cdn", &why), 0);
    CHECK_INT_EQ(tams_store_object_instances_get(ST, "ext/u", inst_cb, &o), 0);
    CHECK_STR_EQ(o.instances, "(null)");
    CHECK_INT_EQ(trash_count("ext/u"), 0);
    tams_buf_release(&why);
}

/* The collector takes an object's copies with it. */
static void test_collected(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_gc_params p = {0, 0, 100};
    size_t taken = 0;
    char fl[37];

    CHECK_INT_EQ(put_flow(41, true), 0);
    CHECK_INT_EQ(allocate1(41, "i2"), 0);
    CHECK_INT_EQ(add1s(41, "[0:0_1:0)", "i2", NULL), 0);
    CHECK_INT_EQ(tams_store_object_instance_add(ST, "i2", OTHER, "c/i2", NULL, NULL, &why), 0);
    fid(fl, 41);
    CHECK_INT_EQ(tams_store_flow_delete(ST, fl, NULL), 0);
    CHECK_INT_EQ(tams_store_gc_collect(ST, &p, &taken), 0);
    CHECK_INT_EQ(trash_has("i2", "k/i2"), 1);
    CHECK_INT_EQ(trash_has("i2", "c/i2"), 1);
    tams_buf_release(&why);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_instances);
    RUN(test_uncontrolled);
    RUN(test_collected);
    return harness_finish();
}
