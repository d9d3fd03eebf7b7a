/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_v82.c - the TAMS 8.2 flows migration (docs/tams-8.2-changes.md 4, 14) on a store
 * made before it: video flows without frame_rate get vfr true, live and in the bin, others
 * keep their document; the profiles table exists. The entry is found by its text, so the test
 * holds wherever the migration lands in the list. */
#include "core/common.h"
#include "store_old.h"

#define VIDEO_NO_RATE                                                                              \
    "{\"id\":\"a\",\"format\":\"urn:x-nmos:format:video\",\"essence_parameters\":"                 \
    "{\"frame_width\":1,\"frame_height\":1}}"
#define VIDEO_RATE                                                                                 \
    "{\"id\":\"b\",\"format\":\"urn:x-nmos:format:video\",\"essence_parameters\":"                 \
    "{\"frame_width\":1,\"frame_height\":1,\"frame_rate\":{\"numerator\":25}}}"
#define AUDIO "{\"id\":\"c\",\"format\":\"urn:x-nmos:format:audio\",\"essence_parameters\":{}}"

struct doc_seen {
    char text[512];
};

static void doc_row(void *ctx, const struct tams_db_rows *row)
{
    struct doc_seen *d = ctx;
    snprintf(d->text, sizeof(d->text), "%s", tams_db_col(row, 0));
}

static json_object *doc_of(const char *table, const char *id)
{
    struct doc_seen d = {""};
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT doc FROM %s WHERE id = ?1", table);
    CHECK_INT_EQ(db_rows(TAMS_DB_TX_NONE, sql, id, NULL, doc_row, &d), 0);
    return json_tokener_parse(d.text);
}

static json_object *ep_member(json_object *doc, const char *name)
{
    json_object *ep = NULL, *v = NULL;

    json_object_object_get_ex(doc, "essence_parameters", &ep);
    return ep && json_object_object_get_ex(ep, name, &v) ? v : NULL;
}

static void test_migration(void)
{
    const char *const *entries = on_sqlite() ? tams_schema_sqlite : tams_schema_pg;
    size_t count = on_sqlite() ? tams_schema_sqlite_count : tams_schema_pg_count, before = count;
    struct tams_store *saved = store;
    struct tams_buf why = TAMS_BUF_INIT(512);
    struct harness_old old;
    char sql[2048];

    for (size_t i = 0; i < count && before == count; i++)
        if (strstr(entries[i], "CREATE TABLE profiles("))
            before = i;
    CHECK(before < count);
    if (before == count)
        return;
    harness_old_make(&old, "old82", before);
    snprintf(sql, sizeof(sql),
             "INSERT INTO sources(id, format, created, updated) VALUES ('s', 'f', 't', 't');"
             "INSERT INTO flows(id, source_id, format, doc, created, metadata_updated) VALUES"
             " ('a', 's', 'urn:x-nmos:format:video', '%s', 't', 't'),"
             " ('b', 's', 'urn:x-nmos:format:video', '%s', 't', 't'),"
             " ('c', 's', 'urn:x-nmos:format:audio', '%s', 't', 't');"
             "INSERT INTO bin(id, kind, flow_id, timerange, deleted, expires)"
             " VALUES ('x', 'flow', 'd', '_', 't', 't');"
             "INSERT INTO bin_flows(bin_id, id, source_id, format, read_only, doc, created,"
             " metadata_updated) VALUES ('x', 'd', 's', 'urn:x-nmos:format:video', 0, '%s', 't',"
             " 't');",
             VIDEO_NO_RATE, VIDEO_RATE, AUDIO, VIDEO_NO_RATE);
    CHECK_INT_EQ(harness_old_exec(&old, sql), 0);
    harness_old_ready(&old);
    CHECK_INT_EQ(tams_store_open(&store, old.url, harness.dir, 1, &why), 0);
    if (store) {
        json_object *a = doc_of("flows", "a"), *b = doc_of("flows", "b"), *c = doc_of("flows", "c");
        json_object *d = doc_of("bin_flows", "d"), *bw = json_tokener_parse(VIDEO_RATE);
        json_object *cw = json_tokener_parse(AUDIO);

        CHECK(ep_member(a, "vfr") && json_object_get_boolean(ep_member(a, "vfr")));
        CHECK(ep_member(a, "frame_width") != NULL);
        CHECK(ep_member(d, "vfr") && json_object_get_boolean(ep_member(d, "vfr")));
        CHECK(json_object_equal(b, bw));
        CHECK(json_object_equal(c, cw));
        CHECK_INT_EQ(db_int("SELECT count(*) FROM profiles", NULL, NULL), 0);
        json_object_put(a);
        json_object_put(b);
        json_object_put(c);
        json_object_put(d);
        json_object_put(bw);
        json_object_put(cw);
        tams_store_close(store);
    }
    store = saved;
    tams_buf_release(&why);
    harness_old_drop(&old);
}

struct text_seen {
    char *doc;
};

static int text_row(void *ctx, const struct tams_flow_rec *rec)
{
    ((struct text_seen *)ctx)->doc = tams_strdup(rec->doc);
    return 0;
}

static int put_if(const char *text, const char *expect, bool *stale)
{
    struct tams_flow_index idx;
    json_object *doc = json_tokener_parse(text);
    int rc = tams_flow_index_build(doc, &idx, NULL);

    CHECK_INT_EQ(rc, 0);
    if (!rc)
        rc = tams_store_flow_put_if(ST, &idx, text, strlen(text), expect, "t", NULL, stale, NULL);
    tams_flow_index_release(&idx);
    json_object_put(doc);
    return rc;
}

#define PUT_DOC(label)                                                                             \
    "{\"id\":\"4f79cfd1-c057-47f4-8e4d-1b126ca7bf34\","                                            \
    "\"source_id\":\"2aa143ac-0ab7-4d75-bc32-5c00c13d186f\",\"label\":\"" label "\","              \
    "\"format\":\"urn:x-nmos:format:multi\"}"

/* A write computed from the stored document (7.0's PUT) lands only on that document. */
static void test_put_if(void)
{
    struct text_seen seen = {NULL};
    bool stale = true;

    CHECK_INT_EQ(put_if(PUT_DOC("one"), NULL, &stale), 0);
    CHECK(!stale);
    CHECK_INT_EQ(put_if(PUT_DOC("two"), NULL, &stale), TAMS_ERR_CONFLICT);
    CHECK(stale);
    CHECK_INT_EQ(put_if(PUT_DOC("two"), "{\"label\":\"other\"}", &stale), TAMS_ERR_CONFLICT);
    CHECK(stale);
    CHECK_INT_EQ(tams_store_flow_get(ST, "4f79cfd1-c057-47f4-8e4d-1b126ca7bf34", text_row, &seen),
                 0);
    CHECK(seen.doc && strstr(seen.doc, "\"one\""));
    CHECK_INT_EQ(put_if(PUT_DOC("two"), seen.doc, &stale), 0);
    CHECK(!stale);
    tams_free(seen.doc);
    seen.doc = NULL;
    CHECK_INT_EQ(tams_store_flow_get(ST, "4f79cfd1-c057-47f4-8e4d-1b126ca7bf34", text_row, &seen),
                 0);
    CHECK(seen.doc && strstr(seen.doc, "\"two\""));
    tams_free(seen.doc);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_migration);
    RUN(test_put_if);
    return harness_finish();
}
