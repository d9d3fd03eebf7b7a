/* SPDX-License-Identifier: Apache-2.0 */
/* hls.c - GET /hls/flows/{flowId}.m3u8: a media playlist from the flow's segment index
 * (docs/hls.md). The text is written by tams/hls.h straight into the response buffer while the
 * store pages through the segments, so the cost is linear in the segments listed. */
#include "core/common.h"
#include "core/clock.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/hls.h"
#include "api/params.h"
#include "http/respond.h"
#include "tams/hls.h"

#include <json-c/json.h>
#include <time.h>

#define NS 1000000000LL
#define PAGE_ROWS 1000
/* A live playlist lists this many of the latest segments (RFC 8216 §6.2.2 wants at least
 * three target durations). */
#define LIVE_WINDOW 6
#define LIVE_IDLE_MIN_NS (30 * NS)

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

int tams_hls_path_id_or_404(struct tams_req *req, const char *what, const char **id)
{
    const char *v = req->params[0];
    size_t n = v ? strlen(v) : 0;
    static const char suffix[] = ".m3u8";
    if (n < sizeof(suffix) || strcmp(v + n - (sizeof(suffix) - 1), suffix) != 0) {
        tams_send_error(req, TAMS_ERR_NOTFOUND, "no playlist here: the path must end in '%s.m3u8'",
                        what);
        return -1;
    }
    req->params[0] = tams_pool_strndup(&req->pool, v, n - (sizeof(suffix) - 1));
    return tams_path_uuid_or_404(req, 0, what, id);
}

void tams_hls_send_store_error(struct tams_req *req, int rc, const char *what, const char *id)
{
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "%s '%s' does not exist", what, id);
    else
        tams_send_error(req, rc, NULL);
}

/* ---- the flow ------------------------------------------------------------------------------ */

static int flow_row(void *ctx, const struct tams_flow_rec *rec)
{
    struct tams_hls_flow *f = ctx;
    f->doc = json_tokener_parse(rec->doc);
    f->read_only = rec->read_only;
    f->segments_updated_us = -1;
    if (rec->segments_updated) {
        struct tm tm = {0};
        if (sscanf(rec->segments_updated, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            f->segments_updated_us = (int64_t)timegm(&tm) * 1000000;
        }
    }
    return f->doc ? 0 : TAMS_ERR_INTERNAL;
}

int tams_hls_flow_load(struct tams_store *st, const char *id, struct tams_hls_flow *f)
{
    *f = (struct tams_hls_flow){0};
    return tams_store_flow_get(st, id, flow_row, f);
}

void tams_hls_flow_release(struct tams_hls_flow *f)
{
    json_object_put(f->doc);
    f->doc = NULL;
}

const char *tams_hls_flow_str(const struct tams_hls_flow *f, const char *key)
{
    json_object *v;
    if (!f->doc || !json_object_object_get_ex(f->doc, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* ---- segment URIs -------------------------------------------------------------------------- */

struct media_ctx {
    struct tams_req *req;
    const struct tams_app *app;
    struct tams_hls_media *m;
    const char *base_url;
    int64_t now;
    struct tams_buf url;
    /* live: the window, newest first */
    bool collect;
    struct {
        int64_t start, end;
        char *uri;
    } win[LIVE_WINDOW];
    size_t nwin;
};

/* The first URL a player can fetch without headers: a controlled object's (signed when the
 * backend signs) or else the first of the client's own get_urls. Empty when there is none. */
static void segment_uri(struct media_ctx *c, const struct tams_segment_rec *rec)
{
    const struct tams_media_backend *b =
        rec->controlled ? tams_app_backend(c->app, rec->storage_id) : NULL;
    bool presigned = false;

    tams_buf_reset(&c->url);
    if (b && b->ops->get_url(b, c->base_url, rec->key, c->now, &c->url, &presigned) == 0 &&
        tams_buf_ok(&c->url) && c->url.len)
        return;
    tams_buf_reset(&c->url);
    if (rec->seg.get_urls) {
        json_object *arr = json_tokener_parse(rec->seg.get_urls), *item, *url;
        if (json_object_is_type(arr, json_type_array) && json_object_array_length(arr) > 0 &&
            (item = json_object_array_get_idx(arr, 0)) &&
            json_object_object_get_ex(item, "url", &url) &&
            json_object_is_type(url, json_type_string))
            tams_buf_addstr(&c->url, json_object_get_string(url));
        json_object_put(arr);
    }
}

/* A URI must not break the playlist's line structure. */
static bool uri_ok(const struct tams_buf *u)
{
    return u->len && !memchr(u->data, '\n', u->len) && !memchr(u->data, '\r', u->len);
}

static int media_row(void *ctx, const struct tams_segment_rec *rec)
{
    struct media_ctx *c = ctx;
    int64_t start = rec->seg.tr.lo, end = rec->seg.tr.hi + 1; /* [lo, hi] closed ns */

    segment_uri(c, rec);
    if (!uri_ok(&c->url))
        return 0; /* no URL a player could use: left out, so it shows as a gap */
    if (c->collect) {
        if (c->nwin < LIVE_WINDOW) {
            c->win[c->nwin].start = start;
            c->win[c->nwin].end = end;
            c->win[c->nwin].uri = tams_pool_strdup(&c->req->pool, c->url.data);
            c->nwin++;
        }
        return 0;
    }
    tams_hls_media_segment(c->m, start, end, c->url.data);
    return tams_buf_ok(&c->req->out) ? 0 : TAMS_ERR_TOOBIG;
}

/* ---- nominal duration and mode ------------------------------------------------------------ */

static int first_row(void *ctx, const struct tams_segment_rec *rec)
{
    *(int64_t *)ctx = rec->seg.tr.hi + 1 - rec->seg.tr.lo;
    return 0;
}

int64_t tams_hls_nominal_ns(struct tams_store *st, const char *id, const struct tams_hls_flow *f)
{
    json_object *sd, *num, *den;
    int64_t ns = 0;
    if (json_object_object_get_ex(f->doc, "segment_duration", &sd) &&
        json_object_object_get_ex(sd, "numerator", &num) &&
        json_object_is_type(num, json_type_int)) {
        int64_t n = json_object_get_int64(num), d = 1;
        if (json_object_object_get_ex(sd, "denominator", &den) &&
            json_object_is_type(den, json_type_int))
            d = json_object_get_int64(den);
        if (n > 0 && d > 0 && n / d < 86400)
            ns = (int64_t)((double)n * (double)NS / (double)d + 0.5);
    }
    if (ns <= 0) {
        /* The flow's first segment: fixed once written, so every reload numbers alike. */
        struct tams_segment_filter sf = {0};
        struct tams_buf next = TAMS_BUF_INIT(1024);
        struct tams_page page = {.after = NULL, .limit = 1, .next_key = &next};
        tams_store_segments_list(st, id, &sf, &page, first_row, &ns);
        tams_buf_release(&next);
    }
    return ns > 0 ? ns : 2 * NS;
}

/* Live or VOD (docs/hls.md): an open-ended timerange is live; a closed one is VOD once the
 * flow's segments reach its end (or the flow is read-only: nothing more will come); no
 * timerange is live while the flow is written to (not read-only, segments registered in the
 * last max(30 s, 3 nominal durations)). */
static int decide_live(struct tams_store *st, const char *id, const struct tams_hls_flow *f,
                       const struct tams_timerange *tr, bool has_tr, int64_t nominal, bool *live)
{
    struct tams_timerange hull;
    int rc;
    if (has_tr && tr->hi == TAMS_TS_POS_INF) {
        *live = true;
        return 0;
    }
    if (f->read_only) {
        *live = false;
        return 0;
    }
    if (has_tr) {
        if ((rc = tams_store_flow_timerange(st, id, NULL, &hull)))
            return rc;
        *live = tams_timerange_is_empty(&hull) || hull.hi < tr->hi;
        return 0;
    }
    {
        int64_t idle = 3 * nominal > LIVE_IDLE_MIN_NS ? 3 * nominal : LIVE_IDLE_MIN_NS;
        int64_t now_us = tams_clock_wall_us();
        *live = f->segments_updated_us >= 0 && (now_us - f->segments_updated_us) * 1000 < idle;
    }
    return 0;
}

/* ---- GET /hls/flows/{flowId}.m3u8 ---------------------------------------------------------- */

void hls_flow_get(struct tams_req *req)
{
    static const char *const known[] = {"timerange", NULL};
    struct tams_store *st = store_of(req);
    struct tams_hls_flow flow = {0};
    struct tams_segment_filter sf = {0};
    struct tams_timerange tr;
    struct tams_hls_media m;
    struct media_ctx c = {0};
    struct tams_buf next = TAMS_BUF_INIT(1024), after = TAMS_BUF_INIT(1024);
    int64_t nominal, first;
    bool has_tr = false, live = false;
    const char *id;
    int rc = 0;

    c.url = (struct tams_buf)TAMS_BUF_INIT(8192);
    if (tams_hls_path_id_or_404(req, "flow", &id) || tams_query_known_or_400(req, known, false) ||
        tams_query_timerange_or_400(req, "timerange", &tr, &has_tr))
        goto out;
    if ((rc = tams_hls_flow_load(st, id, &flow))) {
        tams_hls_send_store_error(req, rc, "flow", id);
        goto out;
    }
    nominal = tams_hls_nominal_ns(st, id, &flow);
    if ((rc = decide_live(st, id, &flow, &tr, has_tr, nominal, &live))) {
        tams_hls_send_store_error(req, rc, "flow", id);
        goto out;
    }
    if (has_tr)
        sf.timerange = &tr;
    c.req = req;
    c.app = req->app;
    c.m = &m;
    c.base_url = tams_req_base_url(req);
    c.now = tams_clock_wall_us() / 1000000;
    tams_hls_media_init(&m, &req->out, nominal);
    if (live) {
        /* The latest segments, newest first, then written oldest first. */
        struct tams_page page = {.after = NULL, .limit = LIVE_WINDOW, .next_key = &next};
        sf.reverse = true;
        c.collect = true;
        rc = tams_store_segments_list(st, id, &sf, &page, media_row, &c);
        for (size_t i = c.nwin; i-- > 0;)
            tams_hls_media_segment(&m, c.win[i].start, c.win[i].end, c.win[i].uri);
    } else {
        /* Page by page with the store's cursor: never the whole flow in memory but the text. */
        for (;;) {
            struct tams_page page = {
                .after = after.len ? after.data : NULL, .limit = PAGE_ROWS, .next_key = &next};
            tams_buf_reset(&next);
            if ((rc = tams_store_segments_list(st, id, &sf, &page, media_row, &c)))
                break;
            if (!next.len)
                break;
            tams_buf_reset(&after);
            tams_buf_add(&after, next.data, next.len);
        }
    }
    if (rc == TAMS_ERR_TOOBIG) {
        tams_buf_reset(&req->out);
        tams_send_error(req, TAMS_ERR_INTERNAL,
                        "the playlist is larger than the server allows; ask for a shorter "
                        "timerange");
        goto out;
    }
    if (rc) {
        tams_buf_reset(&req->out);
        tams_hls_send_store_error(req, rc, "flow", id);
        goto out;
    }
    /* Numbered from the timeline: the same on every reload and every instance. */
    first = tams_hls_media_first(&m);
    if (tams_hls_media_finish(&m, first == INT64_MIN ? 0 : tams_hls_media_sequence(first, nominal),
                              !live)) {
        tams_buf_reset(&req->out);
        tams_send_error(req, TAMS_ERR_INTERNAL,
                        "the playlist is larger than the server allows; ask for a shorter "
                        "timerange");
        goto out;
    }
    tams_res_header(req, "Cache-Control", live ? "no-cache" : "private, max-age=60");
    tams_send_out(req, 200, TAMS_HLS_CONTENT_TYPE);
out:
    tams_hls_flow_release(&flow);
    tams_buf_release(&c.url);
    tams_buf_release(&next);
    tams_buf_release(&after);
}
