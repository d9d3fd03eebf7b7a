/* SPDX-License-Identifier: Apache-2.0 */
/* segments.c - GET/HEAD and POST /flows/{flowId}/segments. */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/registry.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "api/seg_timing.h"
#include "http/respond.h"
#include "media/get_urls.h"
#include "tams/timestamp.h"

#define OBJECT_ID_MAX 1024

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* ---- GET ----------------------------------------------------------------------------------- */

struct list_ctx {
    struct tams_json *j;
    const struct tams_app *app;
    const char *base_url;
    const struct tams_get_urls_filter *urls;
    int64_t now;
    struct tams_seg_rate rate; /* the 7.0 view's sample counts need it */
    bool v82, include_otr;
    size_t count;
    struct tams_timerange first, last;
};

static void write_ts(struct tams_json *j, const char *key, int64_t ns)
{
    char ts[TAMS_TS_STRMAX];
    tams_ts_format(ns, ts);
    tams_json_kstr(j, key, ts);
}

static int list_row(void *ctx, const struct tams_segment_rec *rec)
{
    struct list_ctx *c = ctx;
    const struct tams_segment *s = &rec->seg;
    struct tams_get_urls_src urls = {
        .backend = rec->controlled ? tams_app_backend(c->app, rec->storage_id) : NULL,
        .key = rec->key,
        .uncontrolled = s->get_urls,
        .instances = rec->instances,
        .backends = c->app->backends,
        .nbackends = c->app->nbackends,
    };
    char tr[TAMS_TIMERANGE_STRMAX];

    if (!c->count)
        c->first = s->tr;
    c->last = s->tr;
    c->count++;
    tams_timerange_format(&s->tr, tr);
    tams_json_obj_open(c->j);
    tams_json_kstr(c->j, "object_id", s->object_id);
    tams_json_kstr(c->j, "timerange", tr);
    if (s->has & TAMS_SEG_TS_OFFSET)
        write_ts(c->j, "ts_offset", s->ts_offset);
    if (s->has & TAMS_SEG_LAST_DURATION)
        write_ts(c->j, "last_duration", s->last_duration);
    tams_seg_timing_write(c->j, &c->rate, rec, c->v82, c->include_otr);
    if (s->has & TAMS_SEG_KEY_FRAME_COUNT)
        tams_json_kint(c->j, "key_frame_count", s->key_frame_count);
    tams_get_urls_write(c->j, &urls, c->base_url, c->urls, c->now);
    if (c->v82 && s->init_object_id) {
        struct tams_get_urls_src init = {
            .backend = rec->init_controlled ? tams_app_backend(c->app, rec->init_storage_id) : NULL,
            .key = rec->init_key,
        };
        tams_json_key(c->j, "init_object");
        tams_json_obj_open(c->j);
        tams_json_kstr(c->j, "object_id", s->init_object_id);
        tams_get_urls_write(c->j, &init, c->base_url, c->urls, c->now);
        tams_json_obj_close(c->j);
    }
    tams_json_obj_close(c->j);
    return 0;
}

void segments_list(struct tams_req *req)
{
    static const char *const known[] = {"object_id", "timerange", "reverse_order",
                                        "page",      "limit",     TAMS_GET_URLS_QUERY_NAMES,
                                        NULL};
    static const char *const known_82[] = {"object_id",
                                           "timerange",
                                           "reverse_order",
                                           "page",
                                           "limit",
                                           "include_object_timerange",
                                           TAMS_GET_URLS_QUERY_NAMES,
                                           NULL};
    struct tams_store *st = store_of(req);
    struct tams_segment_filter f = {0};
    struct tams_get_urls_filter urls;
    struct tams_timerange tr, hull;
    struct tams_paging pg;
    struct tams_page page;
    struct list_ctx ctx = {0};
    char hull_text[TAMS_TIMERANGE_STRMAX];
    char count[24];
    const char *flow_id;
    bool has_tr = false;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &flow_id) ||
        tams_query_known_or_400(req, req->api == TAMS_API_82 ? known_82 : known, false) ||
        tams_req_query_bool_or_400(req, "include_object_timerange", &ctx.include_otr) ||
        tams_req_query_str_or_400(req, "object_id", &f.object_id) ||
        tams_query_timerange_or_400(req, "timerange", &tr, &has_tr) ||
        tams_req_query_bool_or_400(req, "reverse_order", &f.reverse) ||
        tams_get_urls_filter_or_400(req, &urls) || tams_paging_parse_or_400(req, &pg))
        return;
    if (has_tr)
        f.timerange = &tr;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    ctx.j = tams_res_json(req);
    ctx.app = req->app;
    ctx.base_url = urls.none ? NULL : tams_req_base_url(req);
    ctx.urls = &urls;
    ctx.now = tams_clock_wall_us() / 1000000;
    ctx.rate = (struct tams_seg_rate){.st = st, .flow_id = flow_id};
    ctx.v82 = req->api == TAMS_API_82;
    tams_json_arr_open(ctx.j);
    /* An unknown flow lists nothing: 200 [] (notes §11.6). */
    rc = tams_store_segments_list(st, flow_id, &f, &page, list_row, &ctx);
    if (rc) {
        tams_paging_send_error(req, rc);
        tams_paging_release(&pg);
        return;
    }
    tams_json_arr_close(ctx.j);
    if (ctx.count)
        tams_timerange_hull(&ctx.first, &ctx.last, &hull);
    else
        tams_timerange_empty(&hull);
    tams_timerange_format(&hull, hull_text);
    snprintf(count, sizeof(count), "%zu", ctx.count);
    tams_res_header(req, "X-Paging-Count", count);
    tams_res_header(req, "X-Paging-Timerange", hull_text);
    tams_res_header(req, "X-Paging-Reverse-Order", f.reverse ? "true" : "false");
    tams_paging_headers(req, &pg);
    tams_paging_release(&pg);
    tams_send_json_body(req, 200);
}

/* ---- POST ---------------------------------------------------------------------------------- */

static int invalid(struct tams_buf *why, const char *fmt, ...) TAMS_PRINTF(2, 3);
static int invalid(struct tams_buf *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tams_buf_vaddf(why, fmt, ap);
    va_end(ap);
    return TAMS_ERR_VALIDATION;
}

static int parse_ts_member(json_object *item, const char *name, int64_t *out, struct tams_buf *why)
{
    json_object *v;
    const char *s;
    if (!json_object_object_get_ex(item, name, &v))
        return 1; /* absent */
    if (!json_object_is_type(v, json_type_string))
        return invalid(why, "%s must be a timestamp string such as \"0:0\"", name);
    s = json_object_get_string(v);
    if (tams_ts_parse(s, (size_t)json_object_get_string_len(v), out))
        return invalid(why, "%s '%s' is not a valid timestamp", name, s);
    return 0;
}

static int parse_count_member(json_object *item, const char *name, int64_t *out,
                              struct tams_buf *why)
{
    json_object *v;
    if (!json_object_object_get_ex(item, name, &v))
        return 1;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return invalid(why, "%s must be an integer >= 0", name);
    *out = json_object_get_int64(v);
    return 0;
}

/* Client get_urls: [{url, label?}]; a label may not be a storage backend's. */
static int parse_get_urls(struct tams_req *req, json_object *v, const char **out,
                          struct tams_buf *why)
{
    const struct tams_app *app = req->app;
    size_t n;
    if (!json_object_is_type(v, json_type_array))
        return invalid(why, "get_urls must be an array of {url, label} objects");
    n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(v, i), *url, *label = NULL;
        if (!json_object_is_type(item, json_type_object))
            return invalid(why, "get_urls[%zu] must be an object", i);
        json_object_object_foreach(item, key, val)
        {
            (void)val;
            if (strcmp(key, "url") && strcmp(key, "label"))
                return invalid(why, "get_urls[%zu].%s is not allowed: only url and label", i, key);
        }
        if (!json_object_object_get_ex(item, "url", &url) ||
            !json_object_is_type(url, json_type_string) || !json_object_get_string_len(url))
            return invalid(why, "get_urls[%zu].url must be a non-empty string", i);
        /* 8.2 makes the label mandatory and unique (ADR0042); 7.0 items without one are shown
         * to 8.2 readers with a label made on read (media/get_urls.h). */
        if (!json_object_object_get_ex(item, "label", &label) && req->api == TAMS_API_82)
            return invalid(why, "get_urls[%zu].label is required: name each URL", i);
        if (label) {
            if (!json_object_is_type(label, json_type_string))
                return invalid(why, "get_urls[%zu].label must be a string", i);
            for (size_t k = 0; k < i && req->api == TAMS_API_82; k++) {
                json_object *other;
                if (json_object_object_get_ex(json_object_array_get_idx(v, k), "label", &other) &&
                    strcmp(json_object_get_string(other), json_object_get_string(label)) == 0)
                    return invalid(why, "get_urls[%zu].label '%s' is used twice", i,
                                   json_object_get_string(label));
            }
            for (size_t k = 0; k < app->nbackends; k++)
                if (app->backends[k]->label &&
                    strcmp(json_object_get_string(label), app->backends[k]->label) == 0)
                    return invalid(why,
                                   "get_urls[%zu].label '%s' is the label of a storage backend; "
                                   "choose another",
                                   i, json_object_get_string(label));
        }
    }
    *out = n ? tams_pool_strdup(&req->pool,
                                json_object_to_json_string_ext(
                                    v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
             : NULL;
    return 0;
}

static int parse_segment(struct tams_req *req, json_object *item, struct tams_segment *seg,
                         struct tams_buf *why)
{
    static const struct {
        const char *name;
        unsigned bit;
        bool timestamp;
        size_t off;
    } members[] = {
        {"ts_offset", TAMS_SEG_TS_OFFSET, true, offsetof(struct tams_segment, ts_offset)},
        {"last_duration", TAMS_SEG_LAST_DURATION, true,
         offsetof(struct tams_segment, last_duration)},
        {"sample_offset", TAMS_SEG_SAMPLE_OFFSET, false,
         offsetof(struct tams_segment, sample_offset)},
        {"sample_count", TAMS_SEG_SAMPLE_COUNT, false, offsetof(struct tams_segment, sample_count)},
        {"key_frame_count", TAMS_SEG_KEY_FRAME_COUNT, false,
         offsetof(struct tams_segment, key_frame_count)},
    };
    json_object *v;
    const char *s, *reason;
    size_t len;
    int rc;

    memset(seg, 0, sizeof(*seg));
    if (!json_object_is_type(item, json_type_object))
        return invalid(why, "a segment must be a JSON object");
    if (!json_object_object_get_ex(item, "object_id", &v) ||
        !json_object_is_type(v, json_type_string))
        return invalid(why, "object_id is required and must be a string");
    s = json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    if (!len || len > OBJECT_ID_MAX || strlen(s) != len)
        return invalid(why, "object_id must be 1 to %d bytes without NUL", OBJECT_ID_MAX);
    seg->object_id = s;
    if (!json_object_object_get_ex(item, "timerange", &v) ||
        !json_object_is_type(v, json_type_string))
        return invalid(why, "timerange is required and must be a string");
    s = json_object_get_string(v);
    rc = tams_timerange_parse(s, (size_t)json_object_get_string_len(v), &seg->tr);
    if (rc)
        return invalid(why, "timerange '%s' is not a valid timerange%s", s,
                       rc == TAMS_ERR_OVERFLOW ? " (a timestamp is out of range)" : "");
    if (tams_timerange_check_segment(&seg->tr, &reason))
        return invalid(why, "timerange '%s': %s", s, reason);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(members); i++) {
        int64_t *field = (int64_t *)(void *)((char *)seg + members[i].off);
        rc = members[i].timestamp ? parse_ts_member(item, members[i].name, field, why)
                                  : parse_count_member(item, members[i].name, field, why);
        if (rc < 0)
            return rc;
        if (rc == 0)
            seg->has |= members[i].bit;
    }
    if ((seg->has & TAMS_SEG_LAST_DURATION) && seg->last_duration < 0)
        return invalid(why, "last_duration must not be negative");
    /* 8.2 (ADR0045): the init object the media object needs; 7.0 has no such member. */
    if (req->api == TAMS_API_82 && json_object_object_get_ex(item, "init_object_id", &v)) {
        len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : 0;
        if (!len || len > OBJECT_ID_MAX || strlen(json_object_get_string(v)) != len)
            return invalid(why, "init_object_id must be a string of 1 to %d bytes without NUL",
                           OBJECT_ID_MAX);
        seg->init_object_id = json_object_get_string(v);
    }
    /* 8.2 (ADR0036): where in its object's timeline the object lies; 7.0 has no such member. */
    if (req->api == TAMS_API_82 && json_object_object_get_ex(item, "object_timerange", &v)) {
        struct tams_timerange otr;
        char text[TAMS_TIMERANGE_STRMAX];

        if (!json_object_is_type(v, json_type_string) ||
            tams_timerange_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                                 &otr) ||
            !tams_timerange_is_bounded(&otr))
            return invalid(why, "object_timerange must be a bounded, non-empty timerange");
        tams_timerange_format(&otr, text);
        seg->object_timerange = tams_pool_strdup(&req->pool, text);
    }
    if (json_object_object_get_ex(item, "get_urls", &v))
        return parse_get_urls(req, v, &seg->get_urls, why);
    return 0;
}

static void write_failure(struct tams_json *j, json_object *item, int err, const char *summary,
                          const char *now)
{
    struct tams_timerange tr;
    json_object *v = NULL;
    tams_json_obj_open(j);
    json_object_object_get_ex(item, "object_id", &v);
    tams_json_kstr(j, "object_id",
                   json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
    /* Echoed only when it is a timerange: the failure body must still match its schema. */
    if (json_object_object_get_ex(item, "timerange", &v) &&
        json_object_is_type(v, json_type_string) &&
        tams_timerange_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                             &tr) == 0)
        tams_json_kstr(j, "timerange", json_object_get_string(v));
    tams_json_key(j, "error");
    tams_json_obj_open(j);
    tams_json_kstr(j, "type", tams_err_type(err));
    tams_json_kstr(j, "summary", summary);
    tams_json_kstr(j, "time", now);
    tams_json_obj_close(j);
    tams_json_obj_close(j);
}

/* ---- upload check (verify_uploads) --------------------------------------------------------- */

/* An object of the batch allocated for this flow and never registered: its bytes are asked
 * for. */
struct pending_obj {
    const char *id, *key;
    const struct tams_media_backend *b;
    int result;   /* 0, TAMS_ERR_NOTFOUND or TAMS_ERR_IO once asked; TAMS_ERR_TOOBIG: too large */
    int64_t size; /* with result 0: bytes, -1 when the backend did not say */
};

struct pending_set {
    struct tams_req *req;
    const char *flow_id;
    struct pending_obj *v;
    size_t n, cap; /* cap: the distinct ids asked about, so the store cannot report more */
};

/* How much of s a summary quotes: at most max bytes, cut before a UTF-8 continuation byte, so
 * an id of OBJECT_ID_MAX bytes still leaves the summary within its buffer. */
static int quoted_len(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

static const char *label_of(const struct tams_media_backend *b)
{
    return b->label ? b->label : b->id;
}

static int cmp_pending(const void *a, const void *b)
{
    return strcmp(((const struct pending_obj *)a)->id, ((const struct pending_obj *)b)->id);
}

static int pending_add(void *ctx, const struct tams_unregistered_object *o)
{
    struct pending_set *ps = ctx;
    const struct tams_media_backend *b;

    /* Allocated for another flow: segments_add refuses it with its own reason. A backend no
     * longer configured cannot be asked: the object is taken as before this check existed. */
    if (!o->allocated_for_flow || strcmp(o->allocated_for_flow, ps->flow_id) != 0 ||
        !(b = tams_app_backend(ps->req->app, o->storage_id)))
        return 0;
    if (ps->n == ps->cap)
        return TAMS_ERR_INTERNAL; /* the store reported an id twice */
    if (!ps->v)
        ps->v = tams_pool_alloc(&ps->req->pool, ps->cap * sizeof(*ps->v));
    ps->v[ps->n++] = (struct pending_obj){.id = tams_pool_strdup(&ps->req->pool, o->id),
                                          .key = tams_pool_strdup(&ps->req->pool, o->key),
                                          .b = b};
    return 0;
}

/* Ask each backend, all its objects at once, whether their bytes are there. UNAVAILABLE (with
 * a summary in why) when one cannot tell. */
static int ask_backends(struct tams_req *req, struct pending_set *ps, struct tams_buf *why)
{
    const struct tams_app *app = req->app;
    const char **keys = tams_pool_alloc(&req->pool, ps->n * sizeof(*keys));
    int *results = tams_pool_alloc(&req->pool, ps->n * sizeof(*results));
    struct tams_media_stat *stats = tams_pool_alloc(&req->pool, ps->n * sizeof(*stats));
    size_t *which = tams_pool_alloc(&req->pool, ps->n * sizeof(*which));

    for (size_t k = 0; k < app->nbackends; k++) {
        const struct tams_media_backend *b = app->backends[k];
        size_t m = 0;

        for (size_t i = 0; i < ps->n; i++)
            if (ps->v[i].b == b) {
                which[m] = i;
                keys[m++] = ps->v[i].key;
            }
        if (!m)
            continue;
        if (b->ops->exists_many(b, keys, m, results, stats)) {
            tams_log_warn("storage backend '%s' cannot tell whether %zu objects were uploaded: "
                          "segment registration answers 503",
                          label_of(b), m);
            tams_buf_addf(why,
                          "storage backend '%.*s' cannot tell whether the objects of this request "
                          "were uploaded; nothing was registered: try again later",
                          quoted_len(label_of(b), 512), label_of(b));
            return TAMS_ERR_UNAVAILABLE;
        }
        for (size_t j = 0; j < m; j++) {
            struct pending_obj *o = &ps->v[which[j]];
            o->result = results[j];
            o->size = results[j] == 0 ? stats[j].size : -1;
            /* A presigned PUT cannot cap the size: the cap applies here (max_object_bytes). */
            if (o->result == 0 && o->size > (int64_t)app->cfg->max_object_bytes)
                o->result = TAMS_ERR_TOOBIG;
        }
    }
    return 0;
}

/* The sizes the built-in store just gave go with the segments, for the analytics' stored
 * bytes: its uploads leave them to the registration (objects_http.c). */
static void give_sizes(struct tams_req *req, struct pending_set *ps, struct tams_segment *segs,
                       size_t n, const int *results)
{
    const struct tams_app *app = req->app;

    qsort(ps->v, ps->n, sizeof(*ps->v), cmp_pending);
    for (size_t i = 0; i < n; i++) {
        struct pending_obj key = {.id = segs[i].object_id}, *o;

        if (!results[i] && (o = bsearch(&key, ps->v, ps->n, sizeof(*ps->v), cmp_pending)) &&
            o->result == 0 && o->size >= 0 && strcmp(o->b->id, app->local_store_id) == 0) {
            segs[i].object_size = o->size;
            segs[i].object_storage = o->b->id;
            segs[i].has |= TAMS_SEG_OBJECT_SIZE;
        }
    }
}

/* With verify_uploads, fail each segment (results[i] and whys[i]) whose object was allocated
 * for this flow, is registered now for the first time and has no bytes in its backend yet, or
 * more than max_object_bytes of them.
 * Only segments that parsed (results[i] == 0) are looked at. Returns 0, or the request's error
 * with its summary in why (UNAVAILABLE: a backend cannot tell; a store failure). */
static int check_uploads(struct tams_req *req, const char *flow_id, struct tams_segment *segs,
                         size_t n, int *results, struct tams_buf *whys, struct tams_buf *why)
{
    struct tams_store *st = store_of(req);
    struct pending_set ps = {.req = req, .flow_id = flow_id};
    const char **ids;
    size_t nids = 0, nd = 0, nmissing = 0;
    int rc;

    if (!((const struct tams_app *)req->app)->cfg->verify_uploads)
        return 0;
    ids = tams_pool_alloc(&req->pool, (n + 1) * sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        if (!results[i])
            ids[nids++] = segs[i].object_id;
    if (!nids)
        return 0;
    /* One question per distinct object: a long object is often cut into many segments. */
    qsort(ids, nids, sizeof(*ids), tams_cmp_cstr);
    for (size_t i = 0; i < nids; i++)
        if (!nd || strcmp(ids[nd - 1], ids[i]) != 0)
            ids[nd++] = ids[i];
    ps.cap = nd;
    if ((rc = tams_store_objects_unregistered(st, ids, nd, pending_add, &ps)))
        return rc;
    if (!ps.n || (rc = ask_backends(req, &ps, why)))
        return rc;
    give_sizes(req, &ps, segs, n, results);
    /* The missing (and too large) ones first, sorted, so each segment is one binary search. */
    for (size_t i = 0; i < ps.n; i++)
        if (ps.v[i].result == TAMS_ERR_NOTFOUND || ps.v[i].result == TAMS_ERR_TOOBIG)
            ps.v[nmissing++] = ps.v[i];
    if (!nmissing)
        return 0;
    qsort(ps.v, nmissing, sizeof(*ps.v), cmp_pending);
    for (size_t i = 0; i < n; i++) {
        struct pending_obj key = {.id = segs[i].object_id}, *miss;
        if (results[i] || !(miss = bsearch(&key, ps.v, nmissing, sizeof(*ps.v), cmp_pending)))
            continue;
        results[i] = TAMS_ERR_VALIDATION;
        if (miss->result == TAMS_ERR_TOOBIG) {
            tams_buf_addf(&whys[i],
                          "object '%.*s%s' in storage backend '%.*s' is %" PRId64
                          " bytes, more than this server's max_object_bytes (%zu): upload a "
                          "smaller object under a new object id",
                          quoted_len(miss->id, 400), miss->id, strlen(miss->id) > 400 ? "..." : "",
                          quoted_len(label_of(miss->b), 200), label_of(miss->b), miss->size,
                          ((const struct tams_app *)req->app)->cfg->max_object_bytes);
            continue;
        }
        tams_buf_addf(&whys[i],
                      "object '%.*s%s' has not been uploaded to storage backend '%.*s' yet: PUT "
                      "its bytes to the put_url from POST /flows/{id}/storage, then register it",
                      quoted_len(miss->id, 400), miss->id, strlen(miss->id) > 400 ? "..." : "",
                      quoted_len(label_of(miss->b), 200), label_of(miss->b));
    }
    return 0;
}

void segments_post(struct tams_req *req)
{
    struct tams_store *st = store_of(req);
    json_object *body = req->json;
    bool bulk = json_object_is_type(body, json_type_array);
    size_t n = bulk ? json_object_array_length(body) : 1, ngood = 0, nfailed = 0;
    struct tams_segment *segs, *good;
    struct tams_buf *whys;
    int *results, *store_results;
    size_t *good_index;
    struct tams_buf flow_why = TAMS_BUF_INIT(1024);
    const char *flow_id;
    struct tams_seg_rate rate;
    char now[TAMS_RFC3339_MAX];
    struct tams_json *j;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &flow_id))
        return;
    rate = (struct tams_seg_rate){.st = st, .flow_id = flow_id};
    if (!bulk && !json_object_is_type(body, json_type_object)) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "the body must be a segment object or an array of segments");
        return;
    }
    /* A value json-c cannot keep as sent (an integer beyond 64 bits saturates, NaN, U+0000)
     * makes the whole body 400, array or not, like any other body that is not plain JSON. */
    if (tams_body_sane_or_400(req, body, "segment member"))
        return;
    segs = tams_pool_zalloc(&req->pool, (n + 1) * sizeof(*segs));
    good = tams_pool_zalloc(&req->pool, (n + 1) * sizeof(*good));
    good_index = tams_pool_zalloc(&req->pool, (n + 1) * sizeof(*good_index));
    results = tams_pool_zalloc(&req->pool, (n + 1) * sizeof(*results));
    store_results = tams_pool_zalloc(&req->pool, (n + 1) * sizeof(*store_results));
    whys = tams_pool_zalloc(&req->pool, (n + 1) * sizeof(*whys));
    for (size_t i = 0; i < n; i++) {
        json_object *item = bulk ? json_object_array_get_idx(body, i) : body;
        tams_buf_init(&whys[i], 1024);
        results[i] = parse_segment(req, item, &segs[i], &whys[i]);
        if (!results[i])
            tams_seg_timing_derive(&rate, &req->pool, &segs[i]);
    }
    /* Before the store's transaction: a backend may take a while to answer. */
    rc = check_uploads(req, flow_id, segs, n, results, whys, &flow_why);
    if (rc) {
        if (flow_why.len)
            tams_send_error(req, rc, "%s", flow_why.data);
        else
            tams_send_error(req, rc, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!results[i]) {
            good[ngood] = segs[i];
            good_index[ngood++] = i;
        }
    /* The store runs even with no good segment: the flow's own checks (404, 403, no
     * container) come before any per-segment answer. */
    {
        struct tams_buf *good_whys = tams_pool_zalloc(&req->pool, (ngood + 1) * sizeof(*good_whys));
        for (size_t k = 0; k <= ngood; k++)
            tams_buf_init(&good_whys[k], 1024);
        /* 7.0 cannot name init objects: a flow with init_segments refuses its segments,
         * which would be stored unplayable (R4); the store reads the flag with the flow. */
        rc = (req->api == TAMS_API_70 ? tams_store_segments_add_70 : tams_store_segments_add)(
            st, flow_id, good, ngood, store_results, good_whys, req->principal);
        if (rc) /* a flow-level failure: its summary, if any, is in the first slot */
            tams_buf_add(&flow_why, good_whys[0].data, good_whys[0].len);
        for (size_t k = 0; k < ngood && !rc; k++) {
            size_t i = good_index[k];
            results[i] = store_results[k];
            if (store_results[k]) {
                tams_buf_reset(&whys[i]);
                tams_buf_add(&whys[i], good_whys[k].data, good_whys[k].len);
            }
        }
        for (size_t k = 0; k <= ngood; k++)
            tams_buf_release(&good_whys[k]);
    }
    if (rc) { /* the flow itself: unknown, read-only, no container, or the store failed */
        if (rc == TAMS_ERR_NOTFOUND)
            tams_send_error(req, rc, "flow '%s' does not exist", flow_id);
        else if (rc == TAMS_ERR_READONLY)
            tams_send_error(req, rc, "flow '%s' is read-only", flow_id);
        else if (flow_why.len)
            tams_send_error(req, rc, "%s", flow_why.data);
        else
            tams_send_error(req, rc, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        nfailed += results[i] != 0;
    tams_counter_add(((const struct tams_app *)req->app)->segments_registered, n - nfailed);
    if (!bulk) {
        if (results[0])
            tams_send_error(req, results[0], "%s", whys[0].data);
        else
            tams_send_empty(req, 201);
        goto out;
    }
    if (!nfailed) {
        tams_send_empty(req, 201);
        goto out;
    }
    tams_clock_now_rfc3339(now);
    j = tams_res_json(req);
    tams_json_obj_open(j);
    tams_json_key(j, "failed_segments");
    tams_json_arr_open(j);
    for (size_t i = 0; i < n; i++)
        if (results[i])
            write_failure(j, json_object_array_get_idx(body, i), results[i], whys[i].data, now);
    tams_json_arr_close(j);
    tams_json_obj_close(j);
    tams_send_json_body(req, 200);
out:
    for (size_t i = 0; i < n; i++)
        tams_buf_release(&whys[i]);
    tams_buf_release(&flow_why);
}
