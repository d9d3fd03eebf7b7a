/* SPDX-License-Identifier: Apache-2.0 */
/* test_store_events.c - the store contract for webhook registrations, the event outbox, cursors
 * and delivery leases, on the back end named by argv[1] ("sqlite" or "pg", store_harness.h). */
#include "core/common.h"
#include "core/buf.h"
#include "store/store.h"
#include "tams/flow.h"
#include "tams/timerange.h"
#include "store_harness.h"

#define STORAGE "5e0b8f4e-3c1a-4a5e-9f6b-2d7c8e9f0a1b"

static void fid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static void sid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-00000000000a", n);
}

/* Webhook ids: fixed-shape UUIDs that sort by n. */
static void wid(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-0000000000bb", n);
}

/* A video flow n with a container in source `source`; extra members spliced in (may be ""). */
static int put_flow(unsigned n, unsigned source, const char *extra)
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
             "\"codec\":\"video/h264\",\"container\":\"video/mp2t\","
             "\"essence_parameters\":{\"frame_width\":1920,\"frame_height\":1080}%s%s}",
             id, src, extra[0] ? "," : "", extra);
    doc = json_tokener_parse(text);
    rc = tams_flow_validate(doc, &why);
    if (rc == 0)
        rc = tams_flow_index_build(doc, &idx, &why);
    if (rc == 0) {
        rc = tams_store_flow_put(ST, &idx, text, strlen(text), "alice", &eff, &why);
        tams_flow_index_release(&idx);
    }
    if (rc)
        fprintf(stderr, "put %u: %s: %s\n", n, tams_err_name(rc), why.data);
    json_object_put(doc);
    tams_buf_release(&why);
    return rc;
}

/* Webhook n of owner (with the scopes 3), its key known by key_id (the store keeps what it is
 * given: "sealed-" + key_id stands for the sealed value). */
static int put_hook_as(unsigned n, const char *url, const char *key_id, const char *doc,
                       const char *owner, const struct tams_webhook_caller *caller,
                       enum tams_webhook_put_result *result)
{
    struct tams_webhook_rec rec = {0};
    char id[37], sealed[64];

    wid(id, n);
    snprintf(sealed, sizeof(sealed), "sealed-%s", key_id ? key_id : "");
    rec.id = id;
    rec.url = url;
    rec.api_key_name = key_id ? "X-Key" : NULL;
    rec.api_key_id = key_id;
    rec.api_key_sealed = key_id ? sealed : NULL;
    rec.owner = owner;
    rec.owner_scopes = 3;
    rec.doc = doc;
    return tams_store_webhook_put(ST, &rec, caller, result);
}

static int put_hook(unsigned n, const char *url, const char *key_id, const char *doc,
                    enum tams_webhook_put_result *result)
{
    return put_hook_as(n, url, key_id, doc, "user:alice", NULL, result);
}

/* ---- what the listings saw ----------------------------------------------------------------- */

struct hooks_seen {
    char id[8][37], url[8][64], key[8][16], sealed[8][32], clear[8][16], owner[8][32];
    char doc[8][128];
    unsigned scopes[8];
    int64_t cursor[8];
    size_t n;
};

static int hook_cb(void *ctx, const struct tams_webhook_rec *rec)
{
    struct hooks_seen *h = ctx;

    if (h->n < 8) {
        snprintf(h->id[h->n], 37, "%s", rec->id);
        snprintf(h->url[h->n], 64, "%s", rec->url);
        snprintf(h->key[h->n], 16, "%s", rec->api_key_id ? rec->api_key_id : "(null)");
        snprintf(h->sealed[h->n], 32, "%s", rec->api_key_sealed ? rec->api_key_sealed : "(null)");
        snprintf(h->clear[h->n], 16, "%s", rec->api_key_value ? rec->api_key_value : "(null)");
        snprintf(h->owner[h->n], 32, "%s", rec->owner ? rec->owner : "(null)");
        h->scopes[h->n] = rec->owner_scopes;
        snprintf(h->doc[h->n], 128, "%s", rec->doc);
        h->cursor[h->n] = rec->cursor;
    }
    h->n++;
    return 0;
}

static int list_hooks(struct hooks_seen *h)
{
    memset(h, 0, sizeof(*h));
    return tams_store_webhook_list(ST, hook_cb, h);
}

/* The cursor of webhook n, or -1 when it is not registered. */
static int64_t cursor_of(unsigned n)
{
    struct hooks_seen h;
    char id[37];

    wid(id, n);
    CHECK_INT_EQ(list_hooks(&h), 0);
    for (size_t i = 0; i < h.n && i < 8; i++)
        if (strcmp(h.id[i], id) == 0)
            return h.cursor[i];
    return -1;
}

struct events_seen {
    int64_t seq[32];
    char type[32][32], flow[32][37], source[32][37], flow_cb[32][80], payload[32][512];
    size_t n;
};

static int event_cb(void *ctx, const struct tams_event_rec *ev)
{
    struct events_seen *e = ctx;

    if (e->n < 32) {
        e->seq[e->n] = ev->seq;
        snprintf(e->type[e->n], 32, "%s", ev->type);
        snprintf(e->flow[e->n], 37, "%s", ev->flow_id ? ev->flow_id : "(null)");
        snprintf(e->source[e->n], 37, "%s", ev->source_id ? ev->source_id : "(null)");
        snprintf(e->flow_cb[e->n], 80, "%s",
                 ev->flow_collected_by ? ev->flow_collected_by : "(null)");
        snprintf(e->payload[e->n], 512, "%s", ev->payload);
        CHECK(ev->timestamp && strlen(ev->timestamp) > 19);
    }
    e->n++;
    return 0;
}

/* Every event after seq `after`, read in pages of `limit`. */
static int events_from(int64_t after, int limit, struct events_seen *e)
{
    int rc = 0;

    memset(e, 0, sizeof(*e));
    for (int pages = 0; pages < 100; pages++) {
        size_t before = e->n;

        if ((rc = tams_store_events_after(ST, after, limit, event_cb, e)) || e->n == before)
            break;
        CHECK(e->n - before <= (size_t)limit);
        after = e->seq[e->n - 1 < 32 ? e->n - 1 : 31];
        if (e->n >= 32)
            break;
    }
    return rc;
}

static int64_t pending(void)
{
    int64_t n = -1;

    CHECK_INT_EQ(tams_store_events_pending(ST, &n), 0);
    return n;
}

static int64_t events_stored(void)
{
    return db_int("SELECT count(*) FROM events", NULL, NULL);
}

static int stop_hook(void *ctx, const struct tams_webhook_rec *rec)
{
    (void)ctx;
    (void)rec;
    return 7;
}

static int stop_event(void *ctx, const struct tams_event_rec *ev)
{
    (void)ctx;
    (void)ev;
    return 9;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* While no webhook is registered, writes leave no event and nothing is pending. */
static void test_no_webhook_no_events(void)
{
    struct events_seen e;
    struct hooks_seen h;

    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_INT_EQ(h.n, 0);
    CHECK_INT_EQ(put_flow(1, 1, ""), 0);
    CHECK_INT_EQ(events_from(0, 10, &e), 0);
    CHECK_INT_EQ(e.n, 0);
    CHECK_INT_EQ(events_stored(), 0);
    CHECK_INT_EQ(pending(), 0);
}

/* Identity is (url, api_key_name, api_key_value): the same one is updated (id, owner and cursor
 * kept), another is a new registration, removal of an unknown one is no error. */
static void test_registrations(void)
{
    enum tams_webhook_put_result r = -1;
    struct hooks_seen h;
    char id[37];

    CHECK_INT_EQ(put_hook(1, "http://h/a", "k1", "{\"v\":1}", &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    CHECK_INT_EQ(put_hook(2, "http://h/a", "k2", "{\"v\":2}", &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    CHECK_INT_EQ(put_hook(3, "http://h/a", NULL, "{\"v\":3}", &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    CHECK_INT_EQ(put_hook(9, "http://h/a", "k1", "{\"v\":4}", &r), 0); /* id 9 is not used */
    CHECK_INT_EQ(r, TAMS_WEBHOOK_UPDATED);
    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_INT_EQ(h.n, 3);
    wid(id, 1);
    CHECK_STR_EQ(h.id[0], id);
    CHECK_STR_EQ(h.doc[0], "{\"v\":4}");
    CHECK_STR_EQ(h.key[0], "k1");
    CHECK_STR_EQ(h.sealed[0], "sealed-k1");
    CHECK_STR_EQ(h.clear[0], "(null)");
    CHECK_STR_EQ(h.owner[0], "user:alice");
    CHECK_INT_EQ(h.scopes[0], 3);
    CHECK_INT_EQ(h.cursor[0], 0); /* no event was ever written */
    CHECK_STR_EQ(h.key[1], "k2");
    CHECK_STR_EQ(h.key[2], "(null)");
    CHECK_STR_EQ(h.url[2], "http://h/a");
    /* A callback's non-zero result stops the listing and is returned. */
    CHECK_INT_EQ(tams_store_webhook_list(ST, stop_hook, NULL), 7);

    CHECK_INT_EQ(put_hook(4, "http://h/unknown", NULL, NULL, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(put_hook(0, "http://h/a", "k2", NULL, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(put_hook(0, "http://h/a", NULL, NULL, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_INT_EQ(h.n, 1);
    CHECK_STR_EQ(h.id[0], id);
}

/* Each write appends its events in its own transaction, in order, with the filter snapshot. */
static void test_events_of_writes(void)
{
    static const struct {
        const char *type;
        unsigned flow; /* 0: none */
    } want[] = {
        {"sources/created", 0},       {"flows/created", 10},          /* put 10 */
        {"flows/created", 11},                                        /* put 11, collects 10 */
        {"flows/updated", 10},                                        /* put 10 again */
        {"sources/updated", 0},                                       /* source label */
        {"flows/segments_added", 10}, {"flows/segments_deleted", 10}, /* one segment */
        {"flows/deleted", 10},        {"flows/updated", 11},          /* 10 leaves 11 */
        {"flows/deleted", 11},        {"sources/deleted", 0},         /* the last flow */
    };
    struct tams_object_alloc obj = {"ev-obj", "ev/key"};
    struct tams_segment seg = {.tr = {0, 9999999999, true, false}, .object_id = "ev-obj"};
    struct tams_delete_spec del = {.sync_limit = 100, .principal = "bob"};
    struct events_seen e;
    char f10[37], f11[37], s10[37], extra[128];
    int64_t c0 = cursor_of(1), last = c0;
    unsigned eff;
    int result;

    fid(f10, 10);
    fid(f11, 11);
    sid(s10, 10);
    CHECK_INT_EQ(put_flow(10, 10, ""), 0);
    snprintf(extra, sizeof(extra), "\"flow_collection\":[{\"id\":\"%s\",\"role\":\"v\"}]", f10);
    CHECK_INT_EQ(put_flow(11, 10, extra), 0);
    CHECK_INT_EQ(put_flow(10, 10, "\"label\":\"again\""), 0);
    CHECK_INT_EQ(tams_store_source_set_prop(ST, s10, TAMS_SOURCE_LABEL, "cam", "bob"), 0);
    CHECK_INT_EQ(tams_store_objects_allocate(ST, f10, STORAGE, &obj, 1, NULL), 0);
    CHECK_INT_EQ(tams_store_segments_add(ST, f10, &seg, 1, &result, NULL, "bob"), 0);
    CHECK_INT_EQ(result, 0);
    del.flow_id = f10;
    CHECK_INT_EQ(tams_store_delete_start(ST, &del, &eff, NULL, NULL), 0);
    del.delete_flow = true;
    CHECK_INT_EQ(tams_store_delete_start(ST, &del, &eff, NULL, NULL), 0);
    del.flow_id = f11;
    CHECK_INT_EQ(tams_store_delete_start(ST, &del, &eff, NULL, NULL), 0);
    CHECK_INT_EQ(eff, TAMS_EFFECT_SOURCE_DELETED);

    CHECK_INT_EQ(events_from(c0, 3, &e), 0); /* in pages of 3 */
    CHECK_INT_EQ(e.n, TAMS_ARRAY_SIZE(want));
    for (size_t i = 0; i < e.n && i < TAMS_ARRAY_SIZE(want); i++) {
        char fl[37];

        CHECK(e.seq[i] > last); /* increasing */
        last = e.seq[i];
        CHECK_STR_EQ(e.type[i], want[i].type);
        if (want[i].flow)
            fid(fl, want[i].flow);
        CHECK_STR_EQ(e.flow[i], want[i].flow ? fl : "(null)");
        CHECK_STR_EQ(e.source[i], s10); /* a deleted flow or source still filters */
    }
    if (e.n != TAMS_ARRAY_SIZE(want))
        return;
    CHECK(strstr(e.payload[0], "\"source\":{") != NULL);
    CHECK(strstr(e.payload[1], "\"flow\":{") != NULL);
    CHECK_STR_EQ(e.flow_cb[1], "(null)");
    CHECK_STR_EQ(e.flow_cb[3], f11); /* flow 10 is collected by 11 now */
    CHECK(strstr(e.payload[3], "again") != NULL);
    CHECK(strstr(e.payload[4], "cam") != NULL);
    CHECK(strstr(e.payload[5], "\"segments\":[") != NULL);
    CHECK(strstr(e.payload[5], "\"_object\":{") != NULL);
    CHECK(strstr(e.payload[5], "ev/key") != NULL);
    CHECK(strstr(e.payload[6], "\"timerange\":\"[0:0_10:0)\"") != NULL);
    CHECK_STR_EQ(e.flow_cb[7], f11); /* the snapshot before it left the collection */
    CHECK(strstr(e.payload[7], f10) != NULL);
    CHECK(strstr(e.payload[8], "flow_collection") == NULL);
    CHECK(strstr(e.payload[10], s10) != NULL);
    /* A callback's non-zero result stops the reading and is returned. */
    CHECK_INT_EQ(tams_store_events_after(ST, c0, 5, stop_event, NULL), 9);
}

/* Cursors: a new webhook starts at the newest event; advance moves forward only; events every
 * webhook is done with are purged; sequence numbers are never reused after a purge. */
static void test_cursors_and_purge(void)
{
    enum tams_webhook_put_result r;
    struct events_seen e;
    int64_t c1 = cursor_of(1), newest, stored;
    char id1[37], id5[37];

    wid(id1, 1);
    wid(id5, 5);
    CHECK_INT_EQ(events_from(c1, 100, &e), 0);
    CHECK(e.n >= 2);
    newest = e.seq[e.n - 1 < 32 ? e.n - 1 : 31];
    CHECK_INT_EQ(pending(), (int64_t)e.n);
    stored = events_stored();
    /* Registered now: nothing of the past is pending for it. */
    CHECK_INT_EQ(put_hook(5, "http://h/b", NULL, "{}", &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    CHECK_INT_EQ(cursor_of(5), newest);
    CHECK_INT_EQ(pending(), (int64_t)e.n);
    /* Forward only. */
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id1, NULL, e.seq[0]), 0);
    CHECK_INT_EQ(cursor_of(1), e.seq[0]);
    CHECK_INT_EQ(pending(), (int64_t)e.n - 1);
    CHECK_INT_EQ(events_stored(), stored - 1); /* both webhooks are past the first: purged */
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id1, NULL, c1), 0);
    CHECK_INT_EQ(cursor_of(1), e.seq[0]);
    CHECK_INT_EQ(
        tams_store_webhook_advance(ST, "00000000-0000-4000-8000-0000000000cc", NULL, newest),
        TAMS_ERR_NOTFOUND);
    /* A later write is pending for both. */
    CHECK_INT_EQ(put_flow(20, 20, ""), 0);
    CHECK_INT_EQ(pending(), (int64_t)e.n - 1 + 2 * 2);
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id1, NULL, newest + 1000), 0);
    CHECK_INT_EQ(pending(), 2);
    CHECK(events_stored() >= 2);
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id5, NULL, newest + 1000), 0);
    CHECK_INT_EQ(pending(), 0);
    CHECK_INT_EQ(events_stored(), 0);
    /* The last webhook gone: every event goes with it, and writes leave none. */
    CHECK_INT_EQ(put_flow(21, 20, ""), 0);
    CHECK_INT_EQ(events_stored(), 1);
    CHECK_INT_EQ(put_hook(0, "http://h/a", "k1", NULL, &r), 0);
    CHECK_INT_EQ(put_hook(0, "http://h/b", NULL, NULL, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(events_stored(), 0);
    CHECK_INT_EQ(put_flow(22, 20, ""), 0);
    CHECK_INT_EQ(events_stored(), 0);
    /* A new one starts after the newest event ever written, though none is stored. */
    CHECK_INT_EQ(put_hook(6, "http://h/c", NULL, "{}", &r), 0);
    CHECK(cursor_of(6) > newest);
    CHECK_INT_EQ(pending(), 0);
    CHECK_INT_EQ(put_flow(23, 20, ""), 0);
    CHECK_INT_EQ(events_from(cursor_of(6), 10, &e), 0);
    CHECK_INT_EQ(e.n, 1);
    CHECK(e.seq[0] > newest);
}

/* Delivery leases exist where several processes share the store (PostgreSQL); a store only one
 * process uses has none (INTERNAL), and advance takes no owner there. */
static void test_leases(void)
{
    enum tams_webhook_put_result r;
    int64_t cursor = -1;
    char id[37];

    wid(id, 7);
    CHECK_INT_EQ(put_hook(7, "http://h/lease", NULL, "{}", &r), 0);
    if (on_sqlite()) {
        CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o1", 30, &cursor), TAMS_ERR_INTERNAL);
        CHECK_INT_EQ(tams_store_webhook_advance(ST, id, "o1", cursor_of(7)), 0);
        return;
    }
    CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o1", 30, &cursor), 0);
    CHECK_INT_EQ(cursor, cursor_of(7));
    CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o2", 30, &cursor), TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o1", 30, &cursor), 0); /* renewed */
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id, "o2", cursor + 1), TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(cursor_of(7), cursor);
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id, "o1", cursor + 1), 0);
    CHECK_INT_EQ(cursor_of(7), cursor + 1);
    CHECK_INT_EQ(tams_store_webhook_advance(ST, id, NULL, cursor + 2), 0); /* no owner: any */
    CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o1", 0, &cursor), 0);   /* given up */
    usleep(10 * 1000);
    CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o2", 30, &cursor), 0);
    CHECK_INT_EQ(cursor, cursor_of(7));
    CHECK_INT_EQ(
        tams_store_webhook_lease(ST, "00000000-0000-4000-8000-0000000000cc", "o2", 30, &cursor),
        TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_webhook_advance(ST, "00000000-0000-4000-8000-0000000000cc", "o2", 1),
                 TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(put_hook(0, "http://h/lease", NULL, NULL, &r), 0);
    CHECK_INT_EQ(tams_store_webhook_lease(ST, id, "o2", 30, &cursor), TAMS_ERR_NOTFOUND);
}

/* A registration is its owner's: others may neither change nor remove it, an admin may
 * (keeping the owner), an older release's owner may be claimed by name; each owner has a
 * cap. */
static void test_owners_and_cap(void)
{
    const struct tams_webhook_caller admin = {.admin = true}, capped = {.max_per_owner = 2},
                                     claimer = {.legacy = "legacy:carol"};
    enum tams_webhook_put_result r = -1;
    struct hooks_seen h;
    size_t before;

    CHECK_INT_EQ(list_hooks(&h), 0);
    before = h.n;
    CHECK_INT_EQ(put_hook_as(10, "http://o/1", "k", "{\"v\":1}", "user:bob", NULL, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    /* The JWT subject bob is not the user bob. */
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", "{\"v\":2}", "jwt::bob", NULL, &r),
                 TAMS_ERR_FORBIDDEN);
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", NULL, "jwt::bob", NULL, &r), TAMS_ERR_FORBIDDEN);
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", NULL, NULL, NULL, &r), TAMS_ERR_FORBIDDEN);
    /* The same url with another key is another registration, the JWT's own. */
    CHECK_INT_EQ(put_hook_as(11, "http://o/1", "k2", "{}", "jwt::bob", NULL, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    /* An admin changes bob's; the owner stays. */
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", "{\"v\":3}", "user:root", &admin, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_UPDATED);
    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_STR_EQ(h.owner[h.n - 2], "user:bob");
    CHECK_STR_EQ(h.doc[h.n - 2], "{\"v\":3}");
    /* The cap counts one owner's registrations; updates and removals always pass. */
    CHECK_INT_EQ(put_hook_as(12, "http://o/2", NULL, "{}", "user:bob", &capped, &r), 0);
    CHECK_INT_EQ(put_hook_as(13, "http://o/3", NULL, "{}", "user:bob", &capped, &r),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(put_hook_as(13, "http://o/3", NULL, "{}", "user:eve", &capped, &r), 0);
    CHECK_INT_EQ(put_hook_as(0, "http://o/2", NULL, "{\"v\":4}", "user:bob", &capped, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_UPDATED);
    CHECK_INT_EQ(put_hook_as(0, "http://o/2", NULL, NULL, "user:bob", &capped, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(put_hook_as(16, "http://o/4", NULL, "{}", "user:bob", &capped, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    /* set_owner moves every registration of one owner; a legacy owner can be claimed. */
    {
        int64_t n = -1;
        CHECK_INT_EQ(tams_store_webhook_set_owner(ST, "user:bob", "legacy:carol", &n), 0);
        CHECK_INT_EQ(n, 2);
    }
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", "{}", "jwt:i:carol", NULL, &r),
                 TAMS_ERR_FORBIDDEN);
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", "{\"v\":5}", "jwt:i:carol", &claimer, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_UPDATED);
    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_STR_EQ(h.owner[h.n - 4], "jwt:i:carol");
    CHECK_STR_EQ(h.owner[h.n - 1], "legacy:carol");
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k", NULL, "jwt:i:carol", NULL, &r), 0);
    CHECK_INT_EQ(put_hook_as(0, "http://o/1", "k2", NULL, "jwt::bob", NULL, &r), 0);
    CHECK_INT_EQ(put_hook_as(0, "http://o/3", NULL, NULL, "user:root", &admin, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(put_hook_as(0, "http://o/4", NULL, NULL, "user:x", &claimer, &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_INT_EQ(h.n, before);
}

/* A value an older release kept in clear is sealed once, only while it is still in clear; it
 * is no identity until then. */
static void test_seal_clear_value(void)
{
    enum tams_webhook_put_result r;
    struct hooks_seen h;
    char id[37];
    char sql[256];

    wid(id, 14);
    CHECK_INT_EQ(put_hook(14, "http://s/1", NULL, "{}", &r), 0);
    snprintf(sql, sizeof(sql),
             "UPDATE webhooks SET api_key_name = 'X-Key', api_key_value = 'old',"
             " owner = 'legacy:alice' WHERE id = '%s'",
             id);
    CHECK_INT_EQ(db_exec(sql), 0);
    /* In clear, it is not found by identity: a registration of the same key is another one. */
    CHECK_INT_EQ(put_hook(15, "http://s/1", "id-of-old", "{}", &r), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    CHECK_INT_EQ(put_hook(0, "http://s/1", "id-of-old", NULL, &r), 0);
    CHECK_INT_EQ(tams_store_webhook_seal(ST, id, "other", "id-of-old", "sealed-old"),
                 TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_webhook_seal(ST, id, "old", "id-of-old", "sealed-old"), 0);
    CHECK_INT_EQ(tams_store_webhook_seal(ST, id, "old", "id-of-old", "sealed-old"),
                 TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(list_hooks(&h), 0);
    CHECK_STR_EQ(h.id[h.n - 1], id);
    CHECK_STR_EQ(h.clear[h.n - 1], "(null)");
    CHECK_STR_EQ(h.key[h.n - 1], "id-of-old");
    CHECK_STR_EQ(h.sealed[h.n - 1], "sealed-old");
    /* Now it is found, by whoever may claim it. */
    {
        const struct tams_webhook_caller claimer = {.legacy = "legacy:alice"};
        CHECK_INT_EQ(put_hook_as(0, "http://s/1", "id-of-old", NULL, "user:alice", &claimer, &r),
                     0);
        CHECK_INT_EQ(r, TAMS_WEBHOOK_REMOVED);
    }
    CHECK_INT_EQ(list_hooks(&h), 0);
    for (size_t i = 0; i < h.n && i < 8; i++)
        CHECK(strcmp(h.id[i], id) != 0);
}

/* ---- 8.2: status, error, version, the per-id operations ---------------------------------- */

struct one_seen {
    char url[64], status[16], error[128], api[8], prefix[16], doc[128];
    int64_t cursor;
};

static int one_cb(void *ctx, const struct tams_webhook_rec *rec)
{
    struct one_seen *o = ctx;

    snprintf(o->url, sizeof(o->url), "%s", rec->url);
    snprintf(o->status, sizeof(o->status), "%s", rec->status);
    snprintf(o->error, sizeof(o->error), "%s", rec->error ? rec->error : "(null)");
    snprintf(o->api, sizeof(o->api), "%s", rec->api);
    snprintf(o->prefix, sizeof(o->prefix), "%s", rec->prefix);
    snprintf(o->doc, sizeof(o->doc), "%s", rec->doc);
    o->cursor = rec->cursor;
    return 0;
}

static struct one_seen get_one(const char *id)
{
    struct one_seen o = {0};

    CHECK_INT_EQ(tams_store_webhook_get(ST, id, one_cb, &o), 0);
    return o;
}

static int merge_cb(void *ctx, const struct tams_webhook_rec *old, struct tams_webhook_merged *out)
{
    int *calls = ctx;

    ++*calls;
    if (old && strcmp(old->status, "error") == 0)
        out->status = "created";
    out->doc = tams_strdup(old ? "{\"merged\":true}" : "{\"fresh\":true}");
    return 0;
}

static void test_status_82(void)
{
    struct tams_webhook_rec rec = {0};
    enum tams_webhook_put_result r;
    struct one_seen o;
    char id[37], got[37], other[37];
    int calls = 0;
    bool changed = true;
    int64_t before;

    wid(id, 30);
    wid(other, 31);
    rec = (struct tams_webhook_rec){.id = id,
                                    .url = "http://s82/a",
                                    .owner = "user:alice",
                                    .owner_scopes = 3,
                                    .doc = "{\"v\":1}",
                                    .status = "created",
                                    .api = "8.2",
                                    .prefix = "/tams/v8.2"};
    CHECK_INT_EQ(tams_store_webhook_register(ST, &rec, NULL, merge_cb, &calls, &r, got), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_CREATED);
    CHECK_STR_EQ(got, id);
    CHECK_INT_EQ(calls, 1);
    o = get_one(id);
    CHECK_STR_EQ(o.status, "created");
    CHECK_STR_EQ(o.api, "8.2");
    CHECK_STR_EQ(o.prefix, "/tams/v8.2");
    CHECK_STR_EQ(o.doc, "{\"fresh\":true}");
    CHECK_STR_EQ(o.error, "(null)");
    /* delivery: created -> started once */
    CHECK_INT_EQ(tams_store_webhook_set_status(ST, id, "created", "started", NULL, &changed), 0);
    CHECK(changed);
    CHECK_INT_EQ(tams_store_webhook_set_status(ST, id, "created", "started", NULL, &changed), 0);
    CHECK(!changed);
    CHECK_STR_EQ(get_one(id).status, "started");
    /* "created" on a started webhook leaves it started */
    rec.doc = "{\"v\":2}";
    rec.api = "7.0";
    rec.prefix = "";
    CHECK_INT_EQ(tams_store_webhook_replace(ST, &rec, false), 0);
    o = get_one(id);
    CHECK_STR_EQ(o.status, "started");
    CHECK_STR_EQ(o.doc, "{\"v\":2}");
    CHECK_STR_EQ(o.api, "7.0");
    /* disabled: events written meanwhile are not kept for it; started again at the newest */
    rec.status = "disabled";
    rec.url = "http://s82/b";
    CHECK_INT_EQ(tams_store_webhook_replace(ST, &rec, false), 0);
    o = get_one(id);
    CHECK_STR_EQ(o.url, "http://s82/b");
    CHECK_STR_EQ(o.status, "disabled");
    before = o.cursor;
    CHECK_INT_EQ(put_flow(40, 40, ""), 0);
    CHECK_INT_EQ(get_one(id).cursor, before);
    rec.status = "created";
    CHECK_INT_EQ(tams_store_webhook_replace(ST, &rec, false), 0);
    o = get_one(id);
    CHECK_STR_EQ(o.status, "created");
    CHECK(o.cursor > before);
    CHECK_INT_EQ(pending() >= 0, 1);
    /* error with its body; a registration's merge may start it again, which clears the error */
    CHECK_INT_EQ(tams_store_webhook_set_status(ST, id, NULL, "error", "{\"type\":\"X\"}", &changed),
                 0);
    CHECK(changed);
    o = get_one(id);
    CHECK_STR_EQ(o.status, "error");
    CHECK_STR_EQ(o.error, "{\"type\":\"X\"}");
    before = o.cursor;
    CHECK_INT_EQ(put_flow(41, 40, ""), 0);
    rec.status = NULL; /* a 7.0 update keeps the status, unless the merge says otherwise */
    CHECK_INT_EQ(tams_store_webhook_register(ST, &rec, NULL, merge_cb, &calls, &r, got), 0);
    CHECK_INT_EQ(r, TAMS_WEBHOOK_UPDATED);
    o = get_one(id);
    CHECK_STR_EQ(o.status, "created");
    CHECK_STR_EQ(o.error, "(null)");
    CHECK_STR_EQ(o.doc, "{\"merged\":true}");
    CHECK(o.cursor > before);
    /* a replace onto another webhook's identity is a conflict, and changes nothing */
    rec = (struct tams_webhook_rec){.id = other,
                                    .url = "http://s82/c",
                                    .owner = "user:alice",
                                    .owner_scopes = 3,
                                    .doc = "{}",
                                    .status = "created"};
    CHECK_INT_EQ(tams_store_webhook_register(ST, &rec, NULL, NULL, NULL, &r, got), 0);
    rec.url = "http://s82/b";
    CHECK_INT_EQ(tams_store_webhook_replace(ST, &rec, false), TAMS_ERR_CONFLICT);
    CHECK_STR_EQ(get_one(other).url, "http://s82/c");
    rec.id = "00000000-0000-4000-8000-0000000000cc";
    CHECK_INT_EQ(tams_store_webhook_replace(ST, &rec, false), TAMS_ERR_NOTFOUND);
    /* delete */
    CHECK_INT_EQ(tams_store_webhook_delete(ST, id), 0);
    CHECK_INT_EQ(tams_store_webhook_delete(ST, id), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_webhook_get(ST, id, one_cb, &o), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_store_webhook_delete(ST, other), 0);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    if (harness_open() != 0)
        return harness_finish();
    RUN(test_no_webhook_no_events);
    RUN(test_registrations);
    RUN(test_events_of_writes);
    RUN(test_cursors_and_purge);
    RUN(test_leases);
    RUN(test_owners_and_cap);
    RUN(test_seal_clear_value);
    RUN(test_status_82);
    return harness_finish();
}
