/* SPDX-License-Identifier: Apache-2.0 */
/* flows.c - /flows, /flows/{flowId} and the flow property sub-resources. */
#include "core/common.h"
#include "core/json.h"
#include "api/app.h"
#include "api/doc_cache.h"
#include "store/flow_doc.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/profiles.h"
#include "api/params.h"
#include "http/respond.h"
#include "tams/flow.h"
#include "tams/tag.h"
#include "tams/flow_v82.h"

#include <pthread.h>
#include <unistd.h>

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* Answer a store error with its status and, where there is one, the store's summary. */
static void send_store_error(struct tams_req *req, int rc, const struct tams_buf *why,
                             const char *flow_id)
{
    if (why && why->len)
        tams_send_error(req, rc, "%s", why->data);
    else if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "flow '%s' does not exist", flow_id);
    else if (rc == TAMS_ERR_READONLY)
        tams_send_error(req, rc, "flow '%s' is read-only; set read_only to false first", flow_id);
    else
        tams_send_error(req, rc, NULL);
}

static bool is_70(const struct tams_req *req)
{
    return req->api == TAMS_API_70;
}

/* ---- the versions' views ------------------------------------------------------------------- */

/* The stored document is the 8.2 shape; a request is answered with its version's view
 * (flow_v82.h; 7.0 also sees each list tag as its first value, tams/tag.h), made only when the
 * text may differ. */
static int write_flow(struct tams_req *req, struct tams_json *j, const struct tams_flow_rec *rec,
                      const struct tams_timerange *timerange)
{
    struct tams_flow_rec view;
    json_object *doc, *tags;
    bool v70 = is_70(req);

    if (v70 ? !tams_flow_view70_may_differ(rec->doc) && !tams_tags_text_has_list(rec->doc)
            : !tams_flow_view82_may_differ(rec->doc)) {
        tams_flow_doc_write(j, rec, timerange);
        return 0;
    }
    doc = json_tokener_parse(rec->doc);
    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        return TAMS_ERR_STORE;
    }
    if (v70) {
        tams_flow_view70(doc);
        if (json_object_object_get_ex(doc, "tags", &tags) && tams_tags_json_has_list(tags))
            tams_tags_json_to_70(tags);
    } else {
        tams_flow_view82(doc);
    }
    view = *rec;
    view.doc = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
    view.doclen = strlen(view.doc);
    tams_flow_doc_write(j, &view, timerange);
    json_object_put(doc);
    return 0;
}

/* ---- GET /flows ---------------------------------------------------------------------------- */

struct list_ctx {
    struct tams_req *req;
    struct tams_json *j;
};

static int list_row(void *ctx, const struct tams_flow_rec *rec)
{
    struct list_ctx *c = ctx;
    return write_flow(c->req, c->j, rec, NULL);
}

/* 8.2's filters of GET /flows (status, init_segments); 400 sent when one is wrong. */
static int filters_82_or_400(struct tams_req *req, struct tams_flow_filter *f, bool *init)
{
    bool has_init = tams_req_query_get(req, "init_segments") != NULL;

    if (tams_query_uuid_or_400(req, "profile_id", &f->profile_id) ||
        tams_req_query_str_or_400(req, "status", &f->status) ||
        tams_req_query_bool_or_400(req, "init_segments", init))
        return -1;
    if (f->status && !tams_flow_status_valid(f->status)) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter 'status' must be one of awaiting_content, ingesting,"
                        " replication_in_progress, closed_complete, not '%s'",
                        f->status);
        return -1;
    }
    if (has_init)
        f->init_segments = init;
    return 0;
}

void flows_list(struct tams_req *req)
{
    static const char *const known[] = {"source_id",   "timerange",    "format", "codec", "label",
                                        "frame_width", "frame_height", "page",   "limit", NULL};
    static const char *const known_82[] = {
        "source_id", "timerange",     "format",        "codec",
        "label",     "frame_width",   "frame_height",  "page",
        "limit",     "sort_by",       "reverse_order", "collected_by_ids",
        "status",    "init_segments", "profile_id",    NULL};
    static const char *const sorts[] = {"created", "metadata_updated", "label", NULL};
    static const enum tams_sort_by sort_values[] = {TAMS_SORT_CREATED, TAMS_SORT_METADATA_UPDATED,
                                                    TAMS_SORT_LABEL};
    struct tams_store *st = store_of(req);
    struct tams_flow_filter f = {.frame_width = -1, .frame_height = -1};
    bool init_segments = false;
    struct tams_timerange tr;
    struct tams_paging pg;
    struct tams_tag_filter *tags = NULL;
    struct tams_page page;
    struct list_ctx ctx;
    bool has_tr = false;
    int rc;

    if (tams_query_known_or_400(req, is_70(req) ? known : known_82, true) ||
        (!is_70(req) && filters_82_or_400(req, &f, &init_segments)) ||
        tams_query_uuid_or_400(req, "source_id", &f.source_id) ||
        tams_query_timerange_or_400(req, "timerange", &tr, &has_tr) ||
        tams_query_format_or_400(req, "format", &f.format) ||
        tams_req_query_str_or_400(req, "codec", &f.codec) ||
        tams_req_query_str_or_400(req, "label", &f.label) ||
        tams_req_query_int_or_400(req, "frame_width", 0, INT64_MAX, &f.frame_width) ||
        tams_req_query_int_or_400(req, "frame_height", 0, INT64_MAX, &f.frame_height) ||
        tams_tag_filters_or_400(req, &tags, &f.ntags))
        return;
    /* 8.2 lists newest first unless sort_by says otherwise (docs/tams-8.2-changes.md, 18) */
    if (!is_70(req) &&
        (tams_query_sort_or_400(req, sorts, sort_values, TAMS_SORT_CREATED, &f.sort, &f.reverse) ||
         tams_query_collected_or_400(req, "collected_by_ids", &f.collected_by)))
        return;
    if (f.codec && !strchr(f.codec, '/')) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter 'codec' must be a MIME type such as video/h264, not '%s'",
                        f.codec);
        return;
    }
    /* An eternity filter is the declared default: no filtering (notes §3.4). */
    if (has_tr && !tams_timerange_is_eternity(&tr))
        f.timerange = &tr;
    if (tams_paging_parse_or_400(req, &pg))
        return;
    f.tags = tags;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    ctx.req = req;
    ctx.j = tams_res_json(req);
    tams_json_arr_open(ctx.j);
    rc = tams_store_flow_list(st, &f, &page, list_row, &ctx);
    if (rc) {
        tams_paging_send_error(req, rc);
        tams_paging_release(&pg);
        return;
    }
    tams_json_arr_close(ctx.j);
    rc = tams_paging_headers(req, &pg);
    tams_paging_release(&pg);
    if (!rc)
        tams_send_json_body(req, 200);
}

/* ---- GET /flows/{flowId} ------------------------------------------------------------------- */

struct get_ctx {
    struct tams_req *req;
    const struct tams_timerange *timerange;
};

static int get_row(void *ctx, const struct tams_flow_rec *rec)
{
    struct get_ctx *c = ctx;
    return write_flow(c->req, tams_res_json(c->req), rec, c->timerange);
}

void flow_get(struct tams_req *req)
{
    static const char *const known[] = {"include_timerange", "timerange", NULL};
    struct tams_store *st = store_of(req);
    struct tams_timerange within, hull;
    struct get_ctx ctx = {req, NULL};
    bool include = false, has_within = false;
    struct tams_doc_cache *cache = ((struct tams_app *)req->app)->flow_cache;
    uint64_t gen = 0;
    const char *id;
    char key[TAMS_API_CACHE_KEY_MAX];
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &id) || tams_query_known_or_400(req, known, false) ||
        tams_req_query_bool_or_400(req, "include_timerange", &include) ||
        tams_query_timerange_or_400(req, "timerange", &within, &has_within))
        return;
    /* The plain document is cached; the generation is read before the store so that a write
     * racing with this read leaves an entry nobody will match. */
    tams_api_cache_key(req, id, key);
    if (!include) {
        gen = tams_store_generation(st, id);
        tams_buf_reset(&req->out);
        if (tams_doc_cache_get(cache, key, gen, &req->out)) {
            tams_send_json_body(req, 200);
            return;
        }
    }
    if (include) {
        rc = tams_store_flow_timerange(st, id, has_within ? &within : NULL, &hull);
        if (rc) {
            send_store_error(req, rc, NULL, id);
            return;
        }
        ctx.timerange = &hull;
    }
    rc = tams_store_flow_get(st, id, get_row, &ctx);
    if (rc) {
        send_store_error(req, rc, NULL, id);
        return;
    }
    if (!include)
        tams_doc_cache_put(cache, key, gen, req->out.data, req->out.len);
    tams_send_json_body(req, 200);
}

/* ---- PUT /flows/{flowId} ------------------------------------------------------------------- */

/* 7.0's tags are strings (8.2's validation, shared, takes lists too). */
static int tags_70_or_why(json_object *doc, struct tams_buf *why)
{
    json_object *tags;

    if (!json_object_object_get_ex(doc, "tags", &tags) ||
        !json_object_is_type(tags, json_type_object))
        return 0;
    json_object_object_foreach(tags, name, v)
    {
        if (!json_object_is_type(v, json_type_string)) {
            tams_buf_addf(why, "tags.%s must be a string", name);
            return TAMS_ERR_VALIDATION;
        }
    }
    return 0;
}

static int stored_row(void *ctx, const struct tams_flow_rec *rec)
{
    *(char **)ctx = tams_strdup(rec->doc);
    return 0;
}

/* One attempt of a 7.0 PUT: the body made into the stored shape, keeping what the stored flow
 * has that 7.0 cannot say (R2), written only if the flow is still as read. */
static int put70_once(struct tams_req *req, const char *id, json_object *body, unsigned *effects,
                      bool *stale, struct tams_buf *why)
{
    struct tams_store *st = store_of(req);
    struct tams_flow_index idx = {0};
    json_object *doc = NULL, *stored = NULL;
    char *expect = NULL;
    const char *text;
    int rc = tams_store_flow_get(st, id, stored_row, &expect);

    if (rc == TAMS_ERR_NOTFOUND)
        rc = 0;
    if (!rc && json_object_deep_copy(body, &doc, NULL) != 0)
        rc = TAMS_ERR_STORE; /* json-c out of memory */
    if (!rc) {
        stored = expect ? json_tokener_parse(expect) : NULL;
        tams_flow_from70(doc, stored);
        rc = flow_profile_keep70(st, doc, stored);
    }
    if (!rc && stored) { /* R2: the stored lists 7.0 was shown are kept (tams/tag.h) */
        json_object *old, *tags;
        if (json_object_object_get_ex(stored, "tags", &old) &&
            json_object_object_get_ex(doc, "tags", &tags))
            rc = tams_tags_json_merge_70(old, tags, why);
    }
    if (!rc && !(rc = tams_flow_index_build(doc, &idx, why))) {
        text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
        rc = tams_store_flow_put_if(st, &idx, text, strlen(text), expect, req->principal, effects,
                                    stale, why);
    }
    tams_flow_index_release(&idx);
    json_object_put(doc);
    json_object_put(stored);
    tams_free(expect);
    return rc;
}

/* 7.0 PUTs of one flow in this process take turns (a stripe of locks by flow id), so they do
 * not make each other stale; only writes of other instances or of 8.2 can. */
#define PUT70_STRIPES 64
static pthread_mutex_t put70_locks[PUT70_STRIPES];
static pthread_once_t put70_locks_once = PTHREAD_ONCE_INIT;

static void put70_locks_init(void)
{
    for (size_t i = 0; i < PUT70_STRIPES; i++)
        pthread_mutex_init(&put70_locks[i], NULL);
}

static pthread_mutex_t *put70_lock_of(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    pthread_once(&put70_locks_once, put70_locks_init);
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &put70_locks[h % PUT70_STRIPES];
}

/* A 7.0 PUT, again while another write changed the flow in between (with a short pause that
 * grows, a bounded number of times). */
static int put70(struct tams_req *req, const char *id, json_object *body, unsigned *effects,
                 struct tams_buf *why)
{
    pthread_mutex_t *lock = put70_lock_of(id);
    bool stale = true;
    int rc = TAMS_ERR_CONFLICT;

    pthread_mutex_lock(lock);
    for (int attempt = 0; attempt < 32 && stale; attempt++) {
        if (attempt)
            usleep((useconds_t)(1000 * (attempt < 10 ? attempt : 10)));
        stale = false;
        tams_buf_reset(why);
        rc = put70_once(req, id, body, effects, &stale, why);
    }
    pthread_mutex_unlock(lock);
    if (stale)
        tams_buf_addf(why, "flow %s changes too often to be written through 7.0; try again", id);
    return rc;
}

void flow_put(struct tams_req *req)
{
    struct tams_store *st = store_of(req);
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_flow_index idx = {0};
    json_object *doc = req->json, *body_id;
    const char *id, *text;
    size_t textlen;
    unsigned effects = 0;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &id))
        return;
    if (!json_object_is_type(doc, json_type_object)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body must be a Flow JSON object");
        return;
    }
    tams_flow_strip_server_members(doc);
    if (tams_body_sane_or_400(req, doc, "Flow member"))
        return;
    if (json_object_object_get_ex(doc, "id", &body_id) &&
        json_object_is_type(body_id, json_type_string) &&
        strcmp(json_object_get_string(body_id), id) != 0) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body's id '%s' differs from the path's '%s'",
                        json_object_get_string(body_id), id);
        return;
    }
    if (!is_70(req) && flow_profile_apply_or_400(req, doc))
        return;
    rc = tams_flow_validate_rules(doc, is_70(req) ? TAMS_FLOW_RULES_70 : TAMS_FLOW_RULES_82, &why);
    if (!rc && is_70(req))
        rc = tags_70_or_why(doc, &why);
    if (!rc && !is_70(req))
        rc = tams_flow_index_build(doc, &idx, &why);
    if (rc) {
        tams_send_error(req, rc, "%s", why.len ? why.data : "invalid Flow");
        goto out;
    }
    if (req->api == TAMS_API_70) {
        rc = put70(req, id, doc, &effects, &why);
    } else {
        text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
        textlen = strlen(text);
        rc = tams_store_flow_put(st, &idx, text, textlen, req->principal, &effects, &why);
    }
    if (rc) {
        send_store_error(req, rc, &why, id);
        goto out;
    }
    if (effects & TAMS_EFFECT_CREATED) {
        struct get_ctx ctx = {req, NULL};
        rc = tams_store_flow_get(st, id, get_row, &ctx);
        if (rc) {
            send_store_error(req, rc, NULL, id);
            goto out;
        }
        tams_send_json_body(req, 201);
    } else {
        tams_send_empty(req, 204);
    }
out:
    tams_flow_index_release(&idx);
    tams_buf_release(&why);
}

/* DELETE /flows/{flowId} is in deletion.c, with the other deletions. */

/* ---- properties ---------------------------------------------------------------------------- */

enum prop_type { PROP_STRING, PROP_BOOL, PROP_UINT, PROP_COLLECTION, PROP_TAGS };

struct flow_prop {
    const char *member;
    enum prop_type type;
    const char *unset_json; /* body when unset; NULL = 404 */
    bool writable_when_read_only;
};

static const struct flow_prop prop_label = {"label", PROP_STRING, NULL, false};
static const struct flow_prop prop_description = {"description", PROP_STRING, NULL, false};
static const struct flow_prop prop_read_only = {"read_only", PROP_BOOL, "false", true};
static const struct flow_prop prop_collection = {"flow_collection", PROP_COLLECTION, "[]", false};
static const struct flow_prop prop_max_bit_rate = {"max_bit_rate", PROP_UINT, NULL, false};
static const struct flow_prop prop_avg_bit_rate = {"avg_bit_rate", PROP_UINT, NULL, false};
static const struct flow_prop prop_tags = {"tags", PROP_TAGS, "{}", false};

struct prop_get_ctx {
    struct tams_req *req;
    bool view70;
    const struct flow_prop *prop;
    const char *tag; /* for tags/{name} */
    bool found;
};

static int prop_get_row(void *ctx, const struct tams_flow_rec *rec)
{
    struct prop_get_ctx *c = ctx;
    json_object *doc = json_tokener_parse(rec->doc), *v = NULL;
    if (!doc)
        return TAMS_ERR_STORE;
    if (c->view70)
        tams_flow_view70(doc);
    if (json_object_object_get_ex(doc, c->prop->member, &v) && c->tag) {
        json_object *t = NULL;
        v = json_object_object_get_ex(v, c->tag, &t) ? t : NULL;
    }
    if (v && c->prop->type == PROP_TAGS && is_70(c->req)) {
        /* the 7.0 view of a list (tams/tag.h); the converted value belongs to doc */
        if (c->tag) {
            json_object *shown = tams_tag_json_70(v);
            json_object_object_add(doc, "_tams_shown", shown);
            v = shown;
        } else {
            tams_tags_json_to_70(v);
        }
    }
    if (v) {
        const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
        tams_send_json_text(c->req, 200, text, strlen(text));
        c->found = true;
    }
    json_object_put(doc);
    return 0;
}

static void prop_get(struct tams_req *req, const struct flow_prop *prop, const char *tag)
{
    struct tams_store *st = store_of(req);
    struct prop_get_ctx ctx = {req, req->api == TAMS_API_70, prop, tag, false};
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &id))
        return;
    rc = tams_store_flow_get(st, id, prop_get_row, &ctx);
    if (rc) {
        send_store_error(req, rc, NULL, id);
        return;
    }
    if (ctx.found)
        return;
    if (tag)
        tams_send_error(req, TAMS_ERR_NOTFOUND, "flow '%s' has no tag '%s'", id, tag);
    else if (prop->unset_json)
        tams_send_json_text(req, 200, prop->unset_json, strlen(prop->unset_json));
    else
        tams_send_error(req, TAMS_ERR_NOTFOUND, "flow '%s' has no %s", id, prop->member);
}

struct mutate_ctx {
    const struct flow_prop *prop;
    const char *tag;
    json_object *value; /* NULL = remove */
    bool v70; /* a TAMS 7.0 write: a stored list is kept a list, or refused; flow_status */
};

/* The value a 7.0 write of tag c->tag puts over old (tams_tag_70_write), or NULL to refuse. */
static json_object *tag_value_70(const struct mutate_ctx *c, json_object *old, struct tams_buf *why)
{
    struct tams_tag t;
    enum tams_tag_70 what = TAMS_TAG70_STRING;
    json_object *arr;

    if (old && tams_tag_from_json(old, c->tag, &t, NULL) == 0) {
        what = tams_tag_70_write(&t, json_object_get_string(c->value), true);
        tams_tag_release(&t);
    }
    switch (what) {
    case TAMS_TAG70_CONFLICT:
        tams_tag_conflict_why(why, c->tag);
        return NULL;
    case TAMS_TAG70_KEEP:
    case TAMS_TAG70_LIST1:
        arr = json_object_new_array();
        json_object_array_add(arr, json_object_get(c->value));
        return arr;
    case TAMS_TAG70_STRING:
        break;
    }
    return json_object_get(c->value);
}

/* 7.0 names the status by the tag flow_status: writing a status value sets it, deleting the tag
 * clears it (and the real tag, if any). Returns 1 when done here. */
static int status_tag70(struct mutate_ctx *c, json_object *doc, json_object *tags)
{
    bool had_tag = tags && json_object_object_get_ex(tags, c->tag, NULL);
    bool had_status = json_object_object_get_ex(doc, "status", NULL);

    if (c->value) {
        if (!tams_flow_status_valid(json_object_get_string(c->value)))
            return 0;
        json_object_object_add(doc, "status", json_object_get(c->value));
    } else {
        if (!had_tag && !had_status)
            return 0;
        json_object_object_del(doc, "status");
    }
    if (had_tag)
        json_object_object_del(tags, c->tag);
    return 1;
}

static int mutate(void *ctx, json_object *doc, struct tams_buf *why)
{
    struct mutate_ctx *c = ctx;
    json_object *tags = NULL;

    if (c->v70 && c->prop->type == PROP_COLLECTION && c->value)
        tams_flow_from70_collection(c->value);
    if (!c->tag) {
        if (c->value)
            json_object_object_add(doc, c->prop->member, json_object_get(c->value));
        else
            json_object_object_del(doc, c->prop->member);
        return 0;
    }
    if (!json_object_object_get_ex(doc, "tags", &tags) ||
        !json_object_is_type(tags, json_type_object))
        tags = NULL;
    if (c->v70 && strcmp(c->tag, TAMS_FLOW_STATUS_TAG) == 0 && status_tag70(c, doc, tags))
        return 0;
    if (!tags) {
        if (!c->value) {
            tams_buf_addf(why, "the flow has no tag '%s'", c->tag);
            return TAMS_ERR_NOTFOUND;
        }
        tags = json_object_new_object();
        json_object_object_add(doc, "tags", tags);
    }
    if (c->value && c->v70) {
        json_object *old = NULL, *v;

        json_object_object_get_ex(tags, c->tag, &old);
        if (!(v = tag_value_70(c, old, why)))
            return TAMS_ERR_CONFLICT;
        json_object_object_add(tags, c->tag, v);
    } else if (c->value) {
        json_object_object_add(tags, c->tag, json_object_get(c->value));
    } else if (json_object_object_get_ex(tags, c->tag, NULL)) {
        json_object_object_del(tags, c->tag);
    } else {
        tams_buf_addf(why, "the flow has no tag '%s'", c->tag);
        return TAMS_ERR_NOTFOUND;
    }
    return 0;
}

/* Is the body the JSON type the property takes? Sends the 400 when not. */
static int value_ok_or_400(struct tams_req *req, const struct flow_prop *prop, json_object *v)
{
    const char *want = NULL;
    switch (prop->type) {
    case PROP_STRING:
        if (!json_object_is_type(v, json_type_string))
            want = "a JSON string (with quotes)";
        break;
    case PROP_TAGS: /* 8.2: or a list (tams/tag.h) */
        if (!tams_tag_json_valid(v, !is_70(req)))
            want =
                is_70(req) ? "a JSON string (with quotes)" : "a JSON string or an array of strings";
        break;
    case PROP_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            want = "a JSON boolean";
        break;
    case PROP_UINT:
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
            want = "a JSON integer >= 0";
        break;
    case PROP_COLLECTION:
        if (!json_object_is_type(v, json_type_array))
            want = "a JSON array of {id, role} items";
        /* 7.0 requires each item's role (8.2 does not); the store checks the rest. */
        for (size_t i = 0; !want && req->api == TAMS_API_70 && i < json_object_array_length(v);
             i++) {
            json_object *item = json_object_array_get_idx(v, i), *role;
            if (json_object_is_type(item, json_type_object) &&
                (!json_object_object_get_ex(item, "role", &role) ||
                 !json_object_is_type(role, json_type_string)))
                want = "a JSON array of {id, role} items, each with a string role";
        }
        break;
    }
    if (!want)
        return 0;
    tams_send_error(req, TAMS_ERR_VALIDATION, "the %s must be %s",
                    prop->type == PROP_TAGS ? "tag value" : prop->member, want);
    return -1;
}

static void prop_write(struct tams_req *req, const struct flow_prop *prop, const char *tag,
                       bool remove)
{
    struct tams_store *st = store_of(req);
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct mutate_ctx ctx = {prop, tag, remove ? NULL : req->json, is_70(req)};
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &id))
        return;
    if (!remove && (value_ok_or_400(req, prop, req->json) ||
                    tams_body_sane_or_400(
                        req, req->json, prop->type == PROP_TAGS ? "the tag value" : prop->member)))
        return;
    rc = tams_store_flow_mutate(st, id, prop->writable_when_read_only, mutate, &ctx, req->principal,
                                &why);
    if (rc)
        send_store_error(req, rc, &why, id);
    else
        tams_send_empty(req, 204);
    tams_buf_release(&why);
}

#define FLOW_PROP_HANDLERS(name, prop)                                                             \
    void flow_##name##_get(struct tams_req *req)                                                   \
    {                                                                                              \
        prop_get(req, &(prop), NULL);                                                              \
    }                                                                                              \
    void flow_##name##_put(struct tams_req *req)                                                   \
    {                                                                                              \
        prop_write(req, &(prop), NULL, false);                                                     \
    }                                                                                              \
    void flow_##name##_delete(struct tams_req *req)                                                \
    {                                                                                              \
        prop_write(req, &(prop), NULL, true);                                                      \
    }

FLOW_PROP_HANDLERS(label, prop_label)
FLOW_PROP_HANDLERS(description, prop_description)
FLOW_PROP_HANDLERS(flow_collection, prop_collection)
FLOW_PROP_HANDLERS(max_bit_rate, prop_max_bit_rate)
FLOW_PROP_HANDLERS(avg_bit_rate, prop_avg_bit_rate)

void flow_read_only_get(struct tams_req *req)
{
    prop_get(req, &prop_read_only, NULL);
}

void flow_read_only_put(struct tams_req *req)
{
    prop_write(req, &prop_read_only, NULL, false);
}

void flow_tags_get(struct tams_req *req)
{
    prop_get(req, &prop_tags, NULL);
}

void flow_tag_get(struct tams_req *req)
{
    prop_get(req, &prop_tags, req->params[1]);
}

void flow_tag_put(struct tams_req *req)
{
    prop_write(req, &prop_tags, req->params[1], false);
}

void flow_tag_delete(struct tams_req *req)
{
    prop_write(req, &prop_tags, req->params[1], true);
}
