/* SPDX-License-Identifier: Apache-2.0 */
/* test_store.c - the store contract for settings, flows, sources, collections, flow listings
 * and threads, on the back end named by argv[1] ("sqlite" or "pg", store_harness.h). */
#include "core/common.h"
#include "core/buf.h"
#include "store/cursor.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_harness.h"

#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

/* Flow and source ids: fixed-shape v4 UUIDs that sort by n. */
/* A string tag write (or delete: value NULL) through the store, as 8.2 makes it. */
static int set_tag(struct tams_store *st, const char *id, const char *name, const char *value,
                   const char *principal)
{
    struct tams_tag t = {.name = name, .value = value};
    return tams_store_source_set_tag(st, id, &t, false, principal);
}

static void fid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static void sid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-00000000000a", n);
}

/* A valid video flow document; extra is spliced in as more members (may be ""). */
static void video_doc(struct tams_buf *b, const char *id, const char *source_id, int width,
                      const char *extra)
{
    tams_buf_reset(b);
    tams_buf_addf(b,
                  "{\"id\":\"%s\",\"source_id\":\"%s\",\"format\":\"urn:x-nmos:format:video\","
                  "\"codec\":\"video/h264\",\"container\":\"video/mp2t\","
                  "\"essence_parameters\":{\"frame_width\":%d,\"frame_height\":1080}%s%s}",
                  id, source_id, width, extra[0] ? "," : "", extra);
}

static int put_json(const char *text, const char *principal, unsigned *effects,
                    struct tams_buf *why)
{
    struct tams_flow_index idx;
    json_object *doc = json_tokener_parse(text);
    int rc;

    if (!doc)
        return TAMS_ERR_BADJSON;
    rc = tams_flow_validate(doc, why);
    if (rc == 0)
        rc = tams_flow_index_build(doc, &idx, why);
    if (rc == 0) {
        rc = tams_store_flow_put(ST, &idx, text, strlen(text), principal, effects, why);
        tams_flow_index_release(&idx);
    }
    json_object_put(doc);
    return rc;
}

static int put_video(unsigned n, unsigned src, int width, const char *extra, unsigned *effects)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 16), why = TAMS_BUF_INIT(1024);
    char id[37], s[37];
    int rc;

    fid(id, n);
    sid(s, src);
    video_doc(&b, id, s, width, extra);
    rc = put_json(b.data, "alice", effects, &why);
    if (rc)
        fprintf(stderr, "put %u: %s: %s\n", n, tams_err_name(rc), why.data);
    tams_buf_release(&b);
    tams_buf_release(&why);
    return rc;
}

/* ---- callbacks that copy what they see ---------------------------------------------------- */

struct flow_seen {
    char doc[4096];
    char created[64], updated[64], created_by[64], updated_by[64];
    bool read_only;
    char collected_by[8][37];
    size_t ncollected_by;
    int calls;
};

static int flow_seen_cb(void *ctx, const struct tams_flow_rec *rec)
{
    struct flow_seen *fs = ctx;

    fs->calls++;
    snprintf(fs->doc, sizeof(fs->doc), "%.*s", (int)rec->doclen, rec->doc);
    snprintf(fs->created, sizeof(fs->created), "%s", rec->created);
    snprintf(fs->updated, sizeof(fs->updated), "%s", rec->metadata_updated);
    snprintf(fs->created_by, sizeof(fs->created_by), "%s", rec->created_by ? rec->created_by : "");
    snprintf(fs->updated_by, sizeof(fs->updated_by), "%s", rec->updated_by ? rec->updated_by : "");
    fs->read_only = rec->read_only;
    fs->ncollected_by = rec->ncollected_by < 8 ? rec->ncollected_by : 8;
    for (size_t i = 0; i < fs->ncollected_by; i++)
        snprintf(fs->collected_by[i], 37, "%s", rec->collected_by[i]);
    return 0;
}

static int get_flow(unsigned n, struct flow_seen *fs)
{
    char id[37];

    memset(fs, 0, sizeof(*fs));
    fid(id, n);
    return tams_store_flow_get(ST, id, flow_seen_cb, fs);
}

struct id_list {
    char ids[400][37];
    size_t n;
};

static int id_list_cb(void *ctx, const struct tams_flow_rec *rec)
{
    struct id_list *l = ctx;

    if (l->n < 400)
        snprintf(l->ids[l->n++], 37, "%s", rec->id);
    return 0;
}

static int list_flows(const struct tams_flow_filter *f, struct id_list *l)
{
    struct tams_buf next = TAMS_BUF_INIT(1024);
    struct tams_page page = {.after = NULL, .limit = 1000, .next_key = &next};
    int rc;

    l->n = 0;
    rc = tams_store_flow_list(ST, f, &page, id_list_cb, l);
    CHECK_INT_EQ(next.len, 0);
    tams_buf_release(&next);
    return rc;
}

static struct tams_flow_filter no_filter(void)
{
    struct tams_flow_filter f = {0};

    f.frame_width = f.frame_height = -1;
    return f;
}

/* Count of flows matching f. */
static size_t count_flows(const struct tams_flow_filter *f)
{
    static struct id_list l;

    CHECK_INT_EQ(list_flows(f, &l), 0);
    return l.n;
}

struct source_seen {
    char format[64], label[64], updated[64], updated_by[64];
    size_t ntags, ncoll, ncollby;
    char coll_id[4][37], coll_role[4][32], collby[4][37];
    char tag0[64];
    int calls;
};

static int source_seen_cb(void *ctx, const struct tams_source_rec *rec)
{
    struct source_seen *ss = ctx;

    memset(ss, 0, sizeof(*ss));
    ss->calls++;
    snprintf(ss->format, sizeof(ss->format), "%s", rec->format);
    snprintf(ss->label, sizeof(ss->label), "%s", rec->label ? rec->label : "(null)");
    snprintf(ss->updated, sizeof(ss->updated), "%s", rec->updated);
    snprintf(ss->updated_by, sizeof(ss->updated_by), "%s", rec->updated_by ? rec->updated_by : "");
    ss->ntags = rec->ntags;
    if (rec->ntags)
        snprintf(ss->tag0, sizeof(ss->tag0), "%s=%s", rec->tags[0].name, rec->tags[0].value);
    ss->ncoll = rec->nsource_collection;
    for (size_t i = 0; i < rec->nsource_collection && i < 4; i++) {
        snprintf(ss->coll_id[i], 37, "%s", rec->source_collection[i].id);
        snprintf(ss->coll_role[i], 32, "%s", rec->source_collection[i].role);
    }
    ss->ncollby = rec->ncollected_by;
    for (size_t i = 0; i < rec->ncollected_by && i < 4; i++)
        snprintf(ss->collby[i], 37, "%s", rec->collected_by[i]);
    return 0;
}

static int get_source(unsigned n, struct source_seen *ss)
{
    char id[37];

    memset(ss, 0, sizeof(*ss));
    sid(id, n);
    return tams_store_source_get(ST, id, source_seen_cb, ss);
}

/* Segment rows put in directly, through the store's own connection (test_store_segments.c
 * registers them the store's way), with their object, as the store keeps it
 * (harness_integrity). */
static void add_segment(unsigned flow, int64_t lo, int64_t hi, bool end_incl)
{
    char sql[256], id[37];

    fid(id, flow);
    snprintf(sql, sizeof(sql),
             "INSERT INTO objects(id, key, controlled, first_referenced_by_flow, created)"
             " VALUES ('obj', '', 0, '%s', '2026-01-01T00:00:00.000000Z')"
             " ON CONFLICT(id) DO NOTHING",
             id);
    CHECK_INT_EQ(db_exec(sql), 0);
    snprintf(sql, sizeof(sql),
             "INSERT INTO segments(flow_id, lo, hi, start_incl, end_incl, object_id)"
             " VALUES ('%s', %" PRId64 ", %" PRId64 ", 1, %d, 'obj')",
             id, lo, hi, end_incl ? 1 : 0);
    CHECK_INT_EQ(db_exec(sql), 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void copy_text(void *ctx, const struct tams_db_rows *row)
{
    const char *v = tams_db_col(row, 0);

    snprintf(ctx, 64, "%s", v ? v : "(null)");
}

/* Opening: a second store on the same database while the first is open, and the first closed
 * and opened again, find the schema current and apply nothing twice. */
static void test_open_and_migrations(void)
{
    struct tams_store *h2 = NULL;
    struct tams_buf why = TAMS_BUF_INIT(256);
    char text[64];

    CHECK_INT_EQ(tams_store_open(&h2, harness.url, harness.dir, HARNESS_PG_POOL, &why), 0);
    CHECK_STR_EQ(tams_store_name(h2), on_pg() ? "postgresql" : "sqlite");
    CHECK_INT_EQ(tams_store_ping(h2), 0);
    tams_store_close(h2);
    CHECK_STR_EQ(tams_store_name(ST), on_pg() ? "postgresql" : "sqlite");
    /* Only PostgreSQL is shared by several processes: background work is leased there. */
    CHECK_INT_EQ(tams_store_caps(ST), on_pg() ? TAMS_STORE_CAP_LEASES : 0);
    /* PostgreSQL that cannot be reached (nothing listens on port 1): the database is away. */
    CHECK_INT_EQ(tams_store_open(&h2, "postgresql://127.0.0.1:1/tams", harness.dir, 0, &why),
                 TAMS_ERR_UNAVAILABLE);
    CHECK(strstr(why.data, "cannot open the postgresql metadata store") != NULL);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_store_open(&h2, "mysql://x", harness.dir, 0, &why), TAMS_ERR_BADREQUEST);

    tams_store_close(store);
    CHECK_INT_EQ(harness_open(), 0);
    CHECK_INT_EQ(tams_store_ping(ST), 0);
    if (on_sqlite()) {
        /* SQLite only: the default path <data_dir>/tams.db, and "sqlite:" meaning it too. */
        CHECK_INT_EQ(tams_store_open(&h2, "", harness.dir, 0, &why), 0);
        CHECK_INT_EQ(tams_store_ping(h2), 0);
        tams_store_close(h2);
        CHECK_INT_EQ(tams_store_open(&h2, "sqlite:", harness.dir, 0, &why), 0);
        tams_store_close(h2);
        CHECK_INT_EQ(db_int("PRAGMA user_version", NULL, NULL), (int64_t)tams_schema_sqlite_count);
        CHECK_INT_EQ(db_rows(TAMS_DB_TX_NONE, "PRAGMA journal_mode", NULL, NULL, copy_text, text),
                     0);
        CHECK_STR_EQ(text, "wal");
    } else {
        /* PostgreSQL only: the version row of this run's schema. */
        CHECK_INT_EQ(db_int("SELECT version FROM tams_schema", NULL, NULL),
                     (int64_t)tams_schema_pg_count);
        CHECK_INT_EQ(db_int("SELECT count(*) FROM tams_schema", NULL, NULL), 1);
        CHECK_INT_EQ(
            db_rows(TAMS_DB_TX_NONE, "SELECT current_schema()", NULL, NULL, copy_text, text), 0);
        CHECK_STR_EQ(text, harness.schema);
    }
    tams_buf_release(&why);
}

static void test_settings(void)
{
    struct tams_buf v = TAMS_BUF_INIT(256);

    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_setting_set(ST, "name", "tamsd test"), 0);
    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), 0);
    CHECK_STR_EQ(v.data, "tamsd test");
    CHECK_INT_EQ(tams_store_setting_set(ST, "name", "renamed"), 0);
    tams_buf_reset(&v);
    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), 0);
    CHECK_STR_EQ(v.data, "renamed");
    CHECK_INT_EQ(tams_store_setting_set(ST, "name", NULL), 0);
    CHECK_INT_EQ(tams_store_setting_get(ST, "name", &v), TAMS_ERR_NOTFOUND);
    tams_buf_release(&v);
}

/* The generation moves with every committed write and never with a read, so read caches can
 * trust it. */
static void test_generation(void)
{
    struct flow_seen fs;
    uint64_t g0, g1;
    unsigned eff;

    if (on_pg())
        wait_generation_stands(ST);
    g0 = tams_store_generation(ST, NULL);
    CHECK_INT_EQ(get_flow(901, &fs), TAMS_ERR_NOTFOUND);
    CHECK(tams_store_generation(ST, NULL) == g0);
    CHECK_INT_EQ(put_video(901, 901, 640, "\"label\":\"gen\"", &eff), 0);
    g1 = tams_store_generation(ST, NULL);
    CHECK(g1 != g0);
    CHECK_INT_EQ(get_flow(901, &fs), 0);
    CHECK(tams_store_generation(ST, NULL) == g1);
    CHECK_INT_EQ(tams_store_setting_set(ST, "gen", "x"), 0);
    CHECK(tams_store_generation(ST, NULL) != g1);

    /* Background work that finds nothing to do writes nothing: the caches keep their entries
     * (an idle collector or deletion worker used to move the generation every round). */
    {
        struct tams_gc_params gp = {.grace = 3600, .unused_after = 3600, .batch = 10};
        size_t taken = 1;
        bool worked = true;
        uint64_t g2 = tams_store_generation(ST, NULL);

        CHECK_INT_EQ(tams_store_gc_collect(ST, &gp, &taken), 0);
        CHECK_INT_EQ(taken, 0);
        CHECK_INT_EQ(tams_store_delete_requests_step(ST, 10, 60, &worked), 0);
        CHECK(!worked);
        CHECK(tams_store_generation(ST, NULL) == g2);
    }
    /* Webhook bookkeeping is a quiet write: no cached document depends on it. */
    {
        struct tams_webhook_rec rec = {.id = "00000901-0000-4000-8000-0000000000ff",
                                       .url = "https://example.com/gen",
                                       .doc = "{\"url\":\"https://example.com/gen\"}"};
        enum tams_webhook_put_result result;
        uint64_t g3 = tams_store_generation(ST, NULL);

        CHECK_INT_EQ(tams_store_webhook_put(ST, &rec, NULL, &result), 0);
        CHECK_INT_EQ(result, TAMS_WEBHOOK_CREATED);
        CHECK(tams_store_generation(ST, NULL) == g3);
        rec.doc = NULL;
        CHECK_INT_EQ(tams_store_webhook_put(ST, &rec, NULL, &result), 0);
        CHECK_INT_EQ(result, TAMS_WEBHOOK_REMOVED);
        CHECK(tams_store_generation(ST, NULL) == g3);
    }
}

static void test_cursor(void)
{
    struct tams_buf c = TAMS_BUF_INIT(1024), k = TAMS_BUF_INIT(512);

    for (size_t len = 1; len < 40; len++) {
        char key[41];
        memset(key, 'a' + (int)(len % 26), len);
        key[len] = '\0';
        tams_buf_reset(&c);
        tams_buf_reset(&k);
        CHECK_INT_EQ(tams_cursor_encode(&c, "flows", key), 0);
        CHECK_INT_EQ(tams_cursor_decode(c.data, "flows", &k), 0);
        CHECK_STR_EQ(k.data, key);
        CHECK_INT_EQ(tams_cursor_decode(c.data, "sources", &k), TAMS_ERR_BADPAGE);
    }
    tams_buf_reset(&k);
    CHECK_INT_EQ(tams_cursor_decode("", "flows", &k), TAMS_ERR_BADPAGE);
    CHECK_INT_EQ(tams_cursor_decode("12", "flows", &k), TAMS_ERR_BADPAGE);
    CHECK_INT_EQ(tams_cursor_decode("abc=", "flows", &k), TAMS_ERR_BADPAGE);
    CHECK_INT_EQ(tams_cursor_decode("a+b/", "flows", &k), TAMS_ERR_BADPAGE);
    CHECK_INT_EQ(tams_cursor_decode("A", "flows", &k), TAMS_ERR_BADPAGE);
    /* "v1|flows|" with no key, and non-canonical trailing bits. */
    tams_buf_reset(&c);
    CHECK_INT_EQ(tams_cursor_encode(&c, "flows", "x"), 0);
    c.data[c.len - 1] = c.data[c.len - 1] == 'A' ? 'B' : (char)(c.data[c.len - 1] + 1);
    CHECK_INT_EQ(tams_cursor_decode(c.data, "flows", &k), TAMS_ERR_BADPAGE);
    CHECK_INT_EQ(k.len, 0);
    tams_buf_release(&c);
    tams_buf_release(&k);
}

static void test_flow_put_get(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024), b = TAMS_BUF_INIT(4096);
    struct flow_seen fs, fs2;
    struct source_seen ss;
    struct tams_flow_filter genre = no_filter();
    struct tams_tag_filter tag = {0};
    unsigned eff = 99;
    char id[37], s[37];

    CHECK_INT_EQ(get_flow(1, &fs), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(put_video(1, 1, 1920, "\"label\":\"one\",\"tags\":{\"genre\":\"news\"}", &eff), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_CREATED | TAMS_EFFECT_SOURCE_CREATED);
    CHECK_INT_EQ(get_flow(1, &fs), 0);
    CHECK_INT_EQ(fs.calls, 1);
    CHECK(strstr(fs.doc, "\"label\":\"one\"") != NULL);
    CHECK(strstr(fs.doc, "\"codec\":\"video/h264\"") != NULL); /* as put: no "\/" escapes */
    CHECK_STR_EQ(fs.created_by, "alice");
    CHECK_STR_EQ(fs.updated_by, "alice");
    CHECK(!fs.read_only);
    CHECK_INT_EQ(fs.ncollected_by, 0);
    CHECK_INT_EQ(get_source(1, &ss), 0);
    CHECK_STR_EQ(ss.format, "urn:x-nmos:format:video");

    tag.name = "genre";
    tag.value = "news";
    genre.tags = &tag;
    genre.ntags = 1;
    CHECK_INT_EQ(count_flows(&genre), 1);

    /* Replace: created and created_by kept, updated_by moves, the old tags are gone. */
    usleep(2000);
    fid(id, 1);
    sid(s, 1);
    video_doc(&b, id, s, 1920, "\"label\":\"one again\"");
    CHECK_INT_EQ(put_json(b.data, "bob", &eff, &why), 0);
    CHECK_INT_EQ(eff, 0);
    CHECK_INT_EQ(get_flow(1, &fs2), 0);
    CHECK_STR_EQ(fs2.created, fs.created);
    CHECK(strcmp(fs2.updated, fs.updated) > 0);
    CHECK_STR_EQ(fs2.created_by, "alice");
    CHECK_STR_EQ(fs2.updated_by, "bob");
    CHECK(strstr(fs2.doc, "one again") != NULL);
    CHECK_INT_EQ(count_flows(&genre), 0);

    /* A second flow of the same source does not create it again. */
    CHECK_INT_EQ(put_video(2, 1, 1280, "", &eff), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_CREATED);

    /* Source format conflict. */
    tams_buf_reset(&why);
    fid(id, 3);
    tams_buf_reset(&b);
    tams_buf_addf(&b,
                  "{\"id\":\"%s\",\"source_id\":\"%s\",\"format\":\"urn:x-nmos:format:audio\","
                  "\"codec\":\"audio/aac\",\"essence_parameters\":{\"sample_rate\":48000,"
                  "\"channels\":2}}",
                  id, s);
    CHECK_INT_EQ(put_json(b.data, "alice", &eff, &why), TAMS_ERR_VALIDATION);
    CHECK(strstr(why.data, "has format urn:x-nmos:format:video") != NULL);
    CHECK_INT_EQ(get_flow(3, &fs), TAMS_ERR_NOTFOUND);

    /* Unknown collection member. */
    tams_buf_reset(&why);
    CHECK_INT_EQ(put_video(4, 4, 640,
                           "\"flow_collection\":[{\"id\":\"0000ffff-0000-4000-8000-000000000000\","
                           "\"role\":\"x\"}]",
                           &eff),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(get_flow(4, &fs), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(get_source(4, &ss), TAMS_ERR_NOTFOUND); /* rolled back with the flow */

    /* Moving a flow to another source deletes the old one when it is left empty. */
    CHECK_INT_EQ(put_video(5, 5, 640, "", &eff), 0);
    CHECK_INT_EQ(put_video(5, 6, 640, "", &eff), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_SOURCE_CREATED | TAMS_EFFECT_SOURCE_DELETED);
    CHECK_INT_EQ(get_source(5, &ss), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(get_source(6, &ss), 0);

    tams_buf_release(&why);
    tams_buf_release(&b);
}

static char label_two[] = "two", label_x[] = "x";

static int set_label(void *ctx, json_object *doc, struct tams_buf *why)
{
    (void)why;
    json_object_object_add(doc, "label", json_object_new_string(ctx));
    return 0;
}

static int set_read_only(void *ctx, json_object *doc, struct tams_buf *why)
{
    (void)why;
    json_object_object_add(doc, "read_only", json_object_new_boolean(*(bool *)ctx));
    return 0;
}

static int break_doc(void *ctx, json_object *doc, struct tams_buf *why)
{
    (void)ctx;
    (void)why;
    json_object_object_add(doc, "format", json_object_new_string("urn:x-nmos:format:nonsense"));
    return 0;
}

static int refuse(void *ctx, json_object *doc, struct tams_buf *why)
{
    (void)ctx;
    (void)doc;
    tams_buf_addstr(why, "no");
    return TAMS_ERR_FORBIDDEN;
}

static void test_mutate_and_read_only(void)
{
    struct tams_flow_filter f = no_filter();
    struct flow_seen fs;
    char id[37];
    unsigned eff;
    bool yes = true, no = false;

    fid(id, 2);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, id, false, set_label, label_two, "carol", NULL), 0);
    CHECK_INT_EQ(get_flow(2, &fs), 0);
    CHECK(strstr(fs.doc, "\"label\":\"two\"") != NULL);
    CHECK(strstr(fs.doc, "video/h264") != NULL); /* no "\/" escapes */
    CHECK_STR_EQ(fs.updated_by, "carol");
    f.label = "two";
    CHECK_INT_EQ(count_flows(&f), 1); /* columns re-derived */

    CHECK_INT_EQ(tams_store_flow_mutate(ST, id, false, break_doc, NULL, "carol", NULL),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, id, false, refuse, NULL, "carol", NULL),
                 TAMS_ERR_FORBIDDEN);
    CHECK_INT_EQ(get_flow(2, &fs), 0);
    CHECK(strstr(fs.doc, "urn:x-nmos:format:video") != NULL);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, "0000ffff-0000-4000-8000-000000000000", false,
                                        set_label, label_x, NULL, NULL),
                 TAMS_ERR_NOTFOUND);

    /* read_only blocks everything but itself. */
    CHECK_INT_EQ(tams_store_flow_mutate(ST, id, false, set_read_only, &yes, "carol", NULL), 0);
    CHECK_INT_EQ(get_flow(2, &fs), 0);
    CHECK(fs.read_only);
    CHECK_INT_EQ(put_video(2, 1, 1280, "", &eff), TAMS_ERR_READONLY);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, id, false, set_label, label_x, NULL, NULL),
                 TAMS_ERR_READONLY);
    CHECK_INT_EQ(tams_store_flow_delete(ST, id, &eff), TAMS_ERR_READONLY);
    CHECK_INT_EQ(tams_store_flow_mutate(ST, id, true, set_read_only, &no, "carol", NULL), 0);
    CHECK_INT_EQ(get_flow(2, &fs), 0);
    CHECK(!fs.read_only);
}

static void test_collections(void)
{
    struct source_seen ss;
    struct flow_seen fs;
    unsigned eff;
    char m1[37], m2[37], extra[512], s10[37], s11[37], s12[37];

    /* Flows 10 (source 10) and 11 (source 11); multi flow 12 (source 12) collects both. */
    fid(m1, 10);
    fid(m2, 11);
    sid(s10, 10);
    sid(s11, 11);
    sid(s12, 12);
    CHECK_INT_EQ(put_video(10, 10, 320, "", &eff), 0);
    CHECK_INT_EQ(put_video(11, 11, 320, "", &eff), 0);
    {
        struct tams_buf b = TAMS_BUF_INIT(4096), why = TAMS_BUF_INIT(1024);
        char id[37];
        fid(id, 12);
        tams_buf_addf(&b,
                      "{\"id\":\"%s\",\"source_id\":\"%s\",\"format\":\"urn:x-nmos:format:multi\","
                      "\"flow_collection\":[{\"id\":\"%s\",\"role\":\"video\"},"
                      "{\"id\":\"%s\",\"role\":\"audio\"}]}",
                      id, s12, m1, m2);
        CHECK_INT_EQ(put_json(b.data, "alice", &eff, &why), 0);
        tams_buf_release(&b);
        tams_buf_release(&why);
    }
    /* Flow 13 (source 10 too) also collects flow 10. */
    snprintf(extra, sizeof(extra), "\"flow_collection\":[{\"id\":\"%s\",\"role\":\"main\"}]", m1);
    CHECK_INT_EQ(put_video(13, 10, 320, extra, &eff), 0);

    CHECK_INT_EQ(get_flow(10, &fs), 0);
    CHECK_INT_EQ(fs.ncollected_by, 2);
    {
        char c12[37], c13[37];
        fid(c12, 12);
        fid(c13, 13);
        CHECK_STR_EQ(fs.collected_by[0], c12);
        CHECK_STR_EQ(fs.collected_by[1], c13);
    }
    CHECK_INT_EQ(get_source(12, &ss), 0);
    CHECK_INT_EQ(ss.ncoll, 2);
    CHECK_STR_EQ(ss.coll_id[0], s10);
    CHECK_STR_EQ(ss.coll_role[0], "video");
    CHECK_STR_EQ(ss.coll_id[1], s11);
    CHECK_STR_EQ(ss.coll_role[1], "audio");
    CHECK_INT_EQ(get_source(10, &ss), 0);
    /* Source 10 collects itself through flow 13 -> flow 10, and is collected by 10 and 12. */
    CHECK_INT_EQ(ss.ncoll, 1);
    CHECK_STR_EQ(ss.coll_id[0], s10);
    CHECK_INT_EQ(ss.ncollby, 2);
    CHECK_STR_EQ(ss.collby[0], s10);
    CHECK_STR_EQ(ss.collby[1], s12);
    CHECK_INT_EQ(get_source(11, &ss), 0);
    CHECK_INT_EQ(ss.ncollby, 1);
    CHECK_STR_EQ(ss.collby[0], s12);

    /* Deleting member 11 removes it from flow 12's document and rows. */
    CHECK_INT_EQ(tams_store_flow_delete(ST, m2, &eff), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_SOURCE_DELETED);
    CHECK_INT_EQ(get_source(11, &ss), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(get_flow(12, &fs), 0);
    CHECK(strstr(fs.doc, m2) == NULL);
    CHECK(strstr(fs.doc, m1) != NULL);
    CHECK_INT_EQ(get_source(12, &ss), 0);
    CHECK_INT_EQ(ss.ncoll, 1);
    CHECK_INT_EQ(tams_store_flow_delete(ST, m2, &eff), TAMS_ERR_NOTFOUND);

    /* Deleting the collector clears collected_by of its members. */
    {
        char id[37];
        fid(id, 12);
        CHECK_INT_EQ(tams_store_flow_delete(ST, id, &eff), 0);
        CHECK_INT_EQ(eff, TAMS_EFFECT_SOURCE_DELETED);
    }
    CHECK_INT_EQ(get_flow(10, &fs), 0);
    CHECK_INT_EQ(fs.ncollected_by, 1);
    /* Flow 10 goes: flow 13's collection becomes empty and its source stays (13 is in it). */
    CHECK_INT_EQ(tams_store_flow_delete(ST, m1, &eff), 0);
    CHECK_INT_EQ(eff, 0);
    CHECK_INT_EQ(get_flow(13, &fs), 0);
    CHECK(strstr(fs.doc, "flow_collection") == NULL);
    CHECK_INT_EQ(get_source(10, &ss), 0);
    CHECK_INT_EQ(ss.ncoll, 0);
    CHECK_INT_EQ(ss.ncollby, 0);
}

static void test_sources(void)
{
    struct source_seen ss;
    char id[37];
    struct tams_tag_filter tf[2];
    struct tams_source_filter f = {0};
    struct tams_buf next = TAMS_BUF_INIT(512);
    struct tams_page page = {.after = NULL, .limit = 1000, .next_key = &next};

    sid(id, 1);
    CHECK_INT_EQ(get_source(1, &ss), 0);
    CHECK_STR_EQ(ss.label, "(null)");
    CHECK_INT_EQ(tams_store_source_set_prop(ST, id, TAMS_SOURCE_LABEL, "cam 1", "dave"), 0);
    CHECK_INT_EQ(tams_store_source_set_prop(ST, id, TAMS_SOURCE_DESCRIPTION, "desc", "dave"), 0);
    CHECK_INT_EQ(get_source(1, &ss), 0);
    CHECK_STR_EQ(ss.label, "cam 1");
    CHECK_STR_EQ(ss.updated_by, "dave");
    CHECK_INT_EQ(tams_store_source_set_prop(ST, "0000ffff-0000-4000-8000-00000000000a",
                                            TAMS_SOURCE_LABEL, "x", NULL),
                 TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(set_tag(ST, id, "site", "london", "erin"), 0);
    CHECK_INT_EQ(set_tag(ST, id, "site", "paris", "erin"), 0);
    CHECK_INT_EQ(get_source(1, &ss), 0);
    CHECK_INT_EQ(ss.ntags, 1);
    CHECK_STR_EQ(ss.tag0, "site=paris");
    CHECK_STR_EQ(ss.updated_by, "erin");
    CHECK_INT_EQ(set_tag(ST, id, "nope", NULL, "erin"), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(set_tag(ST, "0000ffff-0000-4000-8000-00000000000a", "a", "b", NULL),
                 TAMS_ERR_NOTFOUND);

    /* Listing filters. */
    ss.calls = 0;
    f.label = "cam 1";
    CHECK_INT_EQ(tams_store_source_list(ST, &f, &page, source_seen_cb, &ss), 0);
    CHECK_INT_EQ(ss.calls, 1);
    f.label = NULL;
    tf[0] = (struct tams_tag_filter){.name = "site", .value = "paris"};
    f.tags = tf;
    f.ntags = 1;
    ss.calls = 0;
    CHECK_INT_EQ(tams_store_source_list(ST, &f, &page, source_seen_cb, &ss), 0);
    CHECK_INT_EQ(ss.calls, 1);
    tf[0] = (struct tams_tag_filter){.name = "site", .value = NULL, .exists = false};
    f.format = "urn:x-nmos:format:audio";
    ss.calls = 0;
    CHECK_INT_EQ(tams_store_source_list(ST, &f, &page, source_seen_cb, &ss), 0);
    CHECK_INT_EQ(ss.calls, 0);
    f.format = "urn:x-nmos:format:video";
    CHECK_INT_EQ(tams_store_source_list(ST, &f, &page, source_seen_cb, &ss), 0);
    CHECK(ss.calls > 0);
    CHECK(strcmp(ss.label, "cam 1") != 0); /* the tagged one is excluded */

    CHECK_INT_EQ(set_tag(ST, id, "site", NULL, "erin"), 0);
    CHECK_INT_EQ(get_source(1, &ss), 0);
    CHECK_INT_EQ(ss.ntags, 0);

    page.after = "bm90IGEgY3Vyc29y";
    CHECK_INT_EQ(tams_store_source_list(ST, NULL, &page, source_seen_cb, &ss), TAMS_ERR_BADPAGE);
    tams_buf_release(&next);
}

static void test_flow_filters_and_timerange(void)
{
    struct tams_flow_filter f = no_filter();
    struct tams_tag_filter tf[2];
    struct tams_timerange tr, out;
    char id[37], s[37], str[TAMS_TIMERANGE_STRMAX];
    unsigned eff;

    /* Flows 20..23: source 20, widths 100..103, tags. */
    CHECK_INT_EQ(put_video(20, 20, 100, "\"label\":\"a\",\"tags\":{\"k\":\"v1\"}", &eff), 0);
    CHECK_INT_EQ(put_video(21, 20, 101, "\"label\":\"b\",\"tags\":{\"k\":\"v2\"}", &eff), 0);
    CHECK_INT_EQ(put_video(22, 20, 102, "\"label\":\"a\",\"tags\":{\"j\":\"v1\"}", &eff), 0);
    CHECK_INT_EQ(put_video(23, 20, 103, "\"label\":\"c\"", &eff), 0);
    sid(s, 20);
    f.source_id = s;
    CHECK_INT_EQ(count_flows(&f), 4);
    f.label = "a";
    CHECK_INT_EQ(count_flows(&f), 2);
    f.frame_width = 102;
    CHECK_INT_EQ(count_flows(&f), 1);
    f.frame_width = -1;
    f.frame_height = 1080;
    CHECK_INT_EQ(count_flows(&f), 2);
    f.frame_height = 1081;
    CHECK_INT_EQ(count_flows(&f), 0);
    f.frame_height = -1;
    f.label = NULL;
    f.codec = "video/h264";
    f.format = "urn:x-nmos:format:video";
    CHECK_INT_EQ(count_flows(&f), 4);
    f.codec = "video/h265";
    CHECK_INT_EQ(count_flows(&f), 0);
    f.codec = NULL;
    f.format = "urn:x-nmos:format:audio";
    CHECK_INT_EQ(count_flows(&f), 0);
    f.format = NULL;
    f.tags = tf;
    f.ntags = 1;
    tf[0] = (struct tams_tag_filter){.name = "k", .value = "v1"};
    CHECK_INT_EQ(count_flows(&f), 1);
    tf[0] = (struct tams_tag_filter){.name = "k", .value = NULL, .exists = true};
    CHECK_INT_EQ(count_flows(&f), 2);
    tf[0].exists = false;
    CHECK_INT_EQ(count_flows(&f), 2);
    tf[1] = (struct tams_tag_filter){.name = "j", .value = "v1"};
    f.ntags = 2;
    CHECK_INT_EQ(count_flows(&f), 1);
    {
        /* Many tag filters work up to the cap, then are a 400, never an abort. */
        static struct tams_tag_filter many[65];
        static struct id_list l;
        for (size_t i = 0; i < 65; i++)
            many[i] = (struct tams_tag_filter){.name = "k", .value = NULL, .exists = true};
        f.tags = many;
        f.ntags = 64;
        CHECK_INT_EQ(count_flows(&f), 2);
        f.ntags = 65;
        CHECK_INT_EQ(list_flows(&f, &l), TAMS_ERR_BADQUERY);
        f.tags = tf;
    }
    f.ntags = 0;

    /* Segments: flow 20 has [0,10) [10,20) [30,40]; flow 21 has [100,200). */
    add_segment(20, 0, 9, false);
    add_segment(20, 10, 19, false);
    add_segment(20, 30, 40, true);
    add_segment(21, 100, 199, false);
    CHECK_INT_EQ(tams_timerange_parse("()", 2, &tr), 0);
    f.timerange = &tr;
    CHECK_INT_EQ(count_flows(&f), 2); /* 22, 23 have no segments */
    CHECK_INT_EQ(tams_timerange_parse("_", 1, &tr), 0);
    CHECK_INT_EQ(count_flows(&f), 4);
    CHECK_INT_EQ(tams_timerange_parse("[0:20_0:30)", 11, &tr), 0);
    CHECK_INT_EQ(count_flows(&f), 0); /* falls in the gap */
    CHECK_INT_EQ(tams_timerange_parse("[0:20_0:30]", 11, &tr), 0);
    CHECK_INT_EQ(count_flows(&f), 1);
    CHECK_INT_EQ(tams_timerange_parse("[0:35_", 6, &tr), 0);
    CHECK_INT_EQ(count_flows(&f), 2);
    CHECK_INT_EQ(tams_timerange_parse("_0:0]", 5, &tr), 0);
    CHECK_INT_EQ(count_flows(&f), 1);

    fid(id, 20);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, NULL, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[0:0_0:40]");
    CHECK_INT_EQ(tams_timerange_parse("[0:15_0:35)", 11, &tr), 0);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, &tr, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[0:10_0:40]");
    CHECK_INT_EQ(tams_timerange_parse("[0:20_0:30)", 11, &tr), 0);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, &tr, &out), 0);
    CHECK(tams_timerange_is_empty(&out));
    CHECK_INT_EQ(tams_timerange_parse("[0:5_0:12]", 10, &tr), 0);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, &tr, &out), 0);
    tams_timerange_format(&out, str);
    CHECK_STR_EQ(str, "[0:0_0:20)");
    CHECK_INT_EQ(tams_timerange_parse("()", 2, &tr), 0);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, &tr, &out), 0);
    CHECK(tams_timerange_is_empty(&out));
    fid(id, 23);
    CHECK_INT_EQ(tams_store_flow_timerange(ST, id, NULL, &out), 0);
    CHECK(tams_timerange_is_empty(&out));
    CHECK_INT_EQ(tams_store_flow_timerange(ST, "0000ffff-0000-4000-8000-000000000000", NULL, &out),
                 TAMS_ERR_NOTFOUND);

    /* Deleting a flow with segments removes them. */
    fid(id, 21);
    CHECK_INT_EQ(tams_store_flow_delete(ST, id, &eff), 0);
    CHECK_INT_EQ(eff, 0);
    CHECK_INT_EQ(tams_timerange_parse("[0:100_", 7, &tr), 0);
    CHECK_INT_EQ(count_flows(&f), 0);
}

/* A callback that calls the store again (include_timerange does this). */
static int nested_cb(void *ctx, const struct tams_flow_rec *rec)
{
    struct tams_timerange out;
    struct flow_seen fs;
    int *calls = ctx;

    (*calls)++;
    CHECK_INT_EQ(tams_store_flow_timerange(ST, rec->id, NULL, &out), 0);
    CHECK_INT_EQ(tams_store_flow_get(ST, rec->id, flow_seen_cb, &fs), 0);
    return 0;
}

static void test_nested_calls(void)
{
    struct tams_flow_filter f = no_filter();
    struct tams_buf next = TAMS_BUF_INIT(512);
    struct tams_page page = {.after = NULL, .limit = 10, .next_key = &next};
    char id[37];
    int calls = 0;

    fid(id, 20);
    CHECK_INT_EQ(tams_store_flow_get(ST, id, nested_cb, &calls), 0);
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, nested_cb, &calls), 0);
    CHECK(calls > 1);
    tams_buf_release(&next);
}

static int stop_cb(void *ctx, const struct tams_flow_rec *rec)
{
    (void)ctx;
    (void)rec;
    return 42;
}

static void test_paging(void)
{
    struct tams_flow_filter f = no_filter();
    struct tams_buf next = TAMS_BUF_INIT(512), after = TAMS_BUF_INIT(512);
    struct tams_page page = {.after = NULL, .limit = 100, .next_key = &next};
    static struct id_list all, l;
    char s[37];
    unsigned eff;
    int pages = 0;

    for (unsigned i = 0; i < 250; i++)
        CHECK_INT_EQ(put_video(1000 + i, 1000, 640, "", &eff), 0);
    sid(s, 1000);
    f.source_id = s;
    all.n = 0;
    for (;;) {
        l.n = 0;
        CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, id_list_cb, &l), 0);
        pages++;
        for (size_t i = 0; i < l.n; i++)
            snprintf(all.ids[all.n++], 37, "%s", l.ids[i]);
        if (!next.len)
            break;
        CHECK_INT_EQ(l.n, 100);
        tams_buf_reset(&after);
        tams_buf_add(&after, next.data, next.len);
        page.after = after.data;
        if (pages > 5)
            break;
    }
    CHECK_INT_EQ(pages, 3);
    CHECK_INT_EQ(all.n, 250);
    for (size_t i = 0; i < all.n; i++) {
        char want[37];
        fid(want, 1000 + (unsigned)i);
        CHECK_STR_EQ(all.ids[i], want); /* in order, no duplicates, no skips */
    }
    /* Exactly one page's worth: no next key. */
    page.after = NULL;
    page.limit = 250;
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, id_list_cb, &l), 0);
    CHECK_INT_EQ(next.len, 0);
    /* A callback's non-zero result stops the listing and is returned. */
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, stop_cb, NULL), 42);

    /* Forged cursors. */
    page.limit = 100;
    page.after = "garbage!";
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, id_list_cb, &l), TAMS_ERR_BADPAGE);
    page.after = "";
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, id_list_cb, &l), TAMS_ERR_BADPAGE);
    tams_buf_reset(&after);
    CHECK_INT_EQ(tams_cursor_encode(&after, "flows", "' OR 1=1 --"), 0);
    page.after = after.data;
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, id_list_cb, &l), TAMS_ERR_BADPAGE);
    tams_buf_reset(&after);
    CHECK_INT_EQ(tams_cursor_encode(&after, "sources", "00000001-0000-4000-8000-000000000000"), 0);
    page.after = after.data;
    CHECK_INT_EQ(tams_store_flow_list(ST, &f, &page, id_list_cb, &l), TAMS_ERR_BADPAGE);
    tams_buf_release(&next);
    tams_buf_release(&after);
}

/* SQLite only: another process that holds the write lock past busy_timeout makes writes
 * UNAVAILABLE (a 503), while reads go on (WAL). */
static void test_busy(void)
{
    struct tams_buf v = TAMS_BUF_INIT(256);
    sqlite3 *db;

    CHECK_INT_EQ(tams_store_setting_set(ST, "k", "v"), 0);
    CHECK_INT_EQ(sqlite3_open(harness.dbpath, &db), SQLITE_OK);
    CHECK_INT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT_EQ(tams_store_setting_get(ST, "k", &v), 0);
    CHECK_STR_EQ(v.data, "v");
    CHECK_INT_EQ(put_video(3000, 3000, 640, "", NULL), TAMS_ERR_UNAVAILABLE);
    CHECK_INT_EQ(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT_EQ(tams_store_setting_set(ST, "k", "w"), 0);
    tams_buf_release(&v);
}

/* ---- threads ------------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 200

static int bump_counter(void *ctx, json_object *doc, struct tams_buf *why)
{
    json_object *tags, *n;
    char v[32];
    long long cur = 0;

    (void)ctx;
    (void)why;
    if (json_object_object_get_ex(doc, "tags", &tags) && json_object_object_get_ex(tags, "n", &n))
        cur = strtoll(json_object_get_string(n), NULL, 10);
    else {
        tags = json_object_new_object();
        json_object_object_add(doc, "tags", tags);
    }
    snprintf(v, sizeof(v), "%lld", cur + 1);
    json_object_object_add(tags, "n", json_object_new_string(v));
    return 0;
}

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    char a[37], extra[128];
    int failures = 0;

    fid(a, 2000);
    for (unsigned i = 0; i < ROUNDS; i++) {
        unsigned eff;
        if (tams_store_flow_mutate(ST, a, false, bump_counter, NULL, "worker", NULL))
            failures++;
        snprintf(extra, sizeof(extra), "\"label\":\"t%u-%u\",\"tags\":{\"who\":\"t%u-%u\"}", t, i,
                 t, i);
        if (put_video(2001, 2000, 640, extra, &eff))
            failures++;
    }
    return (void *)(uintptr_t)failures;
}

static void test_threads(void)
{
    pthread_t th[THREADS];
    struct flow_seen fs;
    struct tams_flow_filter f = no_filter();
    struct tams_tag_filter tf;
    json_object *doc, *tags = NULL, *n = NULL, *label = NULL;
    unsigned eff;
    int failures = 0;

    CHECK_INT_EQ(put_video(2000, 2000, 640, "", &eff), 0);
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK_INT_EQ(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        failures += (int)(uintptr_t)r;
    }
    CHECK_INT_EQ(failures, 0);

    /* No lost update: every mutate saw the one before it. */
    CHECK_INT_EQ(get_flow(2000, &fs), 0);
    doc = json_tokener_parse(fs.doc);
    CHECK(doc != NULL);
    CHECK(json_object_object_get_ex(doc, "tags", &tags) &&
          json_object_object_get_ex(tags, "n", &n));
    CHECK_INT_EQ(strtoll(json_object_get_string(n), NULL, 10), THREADS * ROUNDS);
    json_object_put(doc);

    /* The last put won whole: label, tag and the indexed rows agree. */
    CHECK_INT_EQ(get_flow(2001, &fs), 0);
    doc = json_tokener_parse(fs.doc);
    CHECK(doc != NULL);
    CHECK(json_object_object_get_ex(doc, "label", &label) &&
          json_object_object_get_ex(doc, "tags", &tags) &&
          json_object_object_get_ex(tags, "who", &n));
    CHECK_STR_EQ(json_object_get_string(label), json_object_get_string(n));
    f.label = json_object_get_string(label);
    tf = (struct tams_tag_filter){.name = "who", .value = json_object_get_string(n)};
    f.tags = &tf;
    f.ntags = 1;
    CHECK_INT_EQ(count_flows(&f), 1);
    json_object_put(doc);
}

/* Threads writing one new flow at once (on PostgreSQL through a pool of 3 connections,
 * fewer than the threads): each put succeeds and exactly one created it. */
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
        w->rc = put_video(2100, 2100, 640, extra, &eff);
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
        CHECK_INT_EQ(pthread_create(&t[i], NULL, writer_run, &w[i]), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT_EQ(w[i].rc, 0);
        created += w[i].created;
    }
    CHECK_INT_EQ(created, 1);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    RUN(test_cursor);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_open_and_migrations);
    RUN(test_settings);
    RUN(test_generation);
    RUN(test_flow_put_get);
    RUN(test_mutate_and_read_only);
    RUN(test_collections);
    RUN(test_sources);
    RUN(test_flow_filters_and_timerange);
    RUN(test_nested_calls);
    RUN(test_paging);
    RUN(test_threads);
    RUN(test_concurrent_writers);
    if (on_sqlite())
        RUN(test_busy);
    return harness_finish();
}
