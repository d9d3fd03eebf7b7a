/* SPDX-License-Identifier: Apache-2.0 */
/* analytics.c - GET /analytics and below: what the store holds, summed, outside the TAMS paths
 * (docs/analytics.md). Every answer comes from the store's aggregates (store/analytics.h). */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/respond.h"
#include "store/analytics.h"
#include "tams/timerange.h"
#include "tams/timestamp.h"

#include <errno.h>

#define INGEST_MINUTES 1440 /* the window the garbage collector keeps (jobs/gc.c) */

static struct tams_app *app_of(struct tams_req *req)
{
    return req->app;
}

static void send_store_error(struct tams_req *req, int rc, const char *what, const char *id)
{
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "%s '%s' does not exist", what, id);
    else
        tams_send_error(req, rc, NULL);
}

static void kts(struct tams_json *j, const char *key, int64_t ns)
{
    char ts[TAMS_TS_STRMAX];

    tams_ts_format(ns, ts);
    tams_json_kstr(j, key, ts);
}

/* [lo, hi] closed, written as [lo_hi+1): the form segments are usually registered in. */
static void ktr(struct tams_json *j, const char *key, int64_t lo, int64_t hi)
{
    char s[TAMS_TIMERANGE_STRMAX];
    struct tams_timerange tr = {lo, hi, true, false};

    tams_timerange_format(&tr, s);
    tams_json_kstr(j, key, s);
}

/* The members of a total; with_gaps for one flow, whose span less its coverage is its gaps. */
static void stats_write(struct tams_json *j, const struct tams_stats *s, bool with_gaps)
{
    tams_json_kint(j, "segment_count", s->segments);
    if (s->any)
        ktr(j, "timerange", s->first_lo, s->last_hi);
    else
        tams_json_kstr(j, "timerange", "()");
    kts(j, "covered_duration", s->covered_ns);
    if (with_gaps)
        kts(j, "gap_duration", s->any ? s->last_hi - s->first_lo + 1 - s->covered_ns : 0);
    tams_json_kint(j, "object_count", s->objects);
    tams_json_kint(j, "unsized_object_count", s->unsized_objects);
    tams_json_kint(j, "stored_bytes", s->bytes);
}

void analytics_get(struct tams_req *req)
{
    static const char *const known[] = {NULL};
    struct tams_stats s;
    struct tams_json *j;
    int rc;

    if (tams_query_known_or_400(req, known, false))
        return;
    if ((rc = tams_store_stats_service(app_of(req)->store, &s))) {
        tams_send_error(req, rc, NULL);
        return;
    }
    j = tams_res_json(req);
    tams_json_obj_open(j);
    tams_json_kint(j, "flow_count", s.flows);
    stats_write(j, &s, false);
    tams_json_obj_close(j);
    tams_send_json_body(req, 200);
}

void analytics_flow_get(struct tams_req *req)
{
    static const char *const known[] = {NULL};
    struct tams_stats s;
    struct tams_json *j;
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &id) || tams_query_known_or_400(req, known, false))
        return;
    if ((rc = tams_store_stats_flow(app_of(req)->store, id, &s))) {
        send_store_error(req, rc, "flow", id);
        return;
    }
    j = tams_res_json(req);
    tams_json_obj_open(j);
    tams_json_kstr(j, "flow_id", id);
    stats_write(j, &s, true);
    tams_json_obj_close(j);
    tams_send_json_body(req, 200);
}

static int gap_row(void *ctx, int64_t lo, int64_t hi)
{
    struct tams_json *j = ctx;

    tams_json_obj_open(j);
    ktr(j, "timerange", lo, hi);
    kts(j, "duration", hi - lo + 1);
    tams_json_obj_close(j);
    return 0;
}

void analytics_flow_gaps_get(struct tams_req *req)
{
    static const char *const known[] = {"page", "limit", NULL};
    struct tams_paging pg;
    struct tams_page page;
    struct tams_json *j;
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &id) || tams_query_known_or_400(req, known, false) ||
        tams_paging_parse_or_400(req, &pg))
        return;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    j = tams_res_json(req);
    tams_json_arr_open(j);
    rc = tams_store_stats_gaps(app_of(req)->store, id, &page, gap_row, j);
    if (rc == TAMS_ERR_NOTFOUND) {
        tams_buf_reset(&req->out);
        send_store_error(req, rc, "flow", id);
    } else if (rc) {
        tams_paging_send_error(req, rc);
    }
    if (rc) {
        tams_paging_release(&pg);
        return;
    }
    tams_json_arr_close(j);
    rc = tams_paging_headers(req, &pg);
    tams_paging_release(&pg);
    if (!rc)
        tams_send_json_body(req, 200);
}

void analytics_source_get(struct tams_req *req)
{
    static const char *const known[] = {NULL};
    struct tams_stats s;
    struct tams_json *j;
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "source", &id) || tams_query_known_or_400(req, known, false))
        return;
    if ((rc = tams_store_stats_source(app_of(req)->store, id, &s))) {
        send_store_error(req, rc, "source", id);
        return;
    }
    j = tams_res_json(req);
    tams_json_obj_open(j);
    tams_json_kstr(j, "source_id", id);
    tams_json_kint(j, "flow_count", s.flows);
    stats_write(j, &s, false);
    tams_json_obj_close(j);
    tams_send_json_body(req, 200);
}

struct storage_ctx {
    struct tams_app *app;
    struct tams_json *j;
};

static int storage_row(void *ctx, const char *storage_id, const struct tams_stats *s)
{
    struct storage_ctx *c = ctx;
    const struct tams_media_backend *b = storage_id ? tams_app_backend(c->app, storage_id) : NULL;

    tams_json_obj_open(c->j);
    if (storage_id)
        tams_json_kstr(c->j, "storage_id", storage_id);
    else
        tams_json_kbool(c->j, "uncontrolled", true);
    if (b && b->label)
        tams_json_kstr(c->j, "label", b->label);
    tams_json_kint(c->j, "segment_count", s->segments);
    tams_json_kint(c->j, "stored_bytes", s->bytes);
    tams_json_obj_close(c->j);
    return 0;
}

void analytics_storage_get(struct tams_req *req)
{
    static const char *const known[] = {NULL};
    struct storage_ctx c = {app_of(req), NULL};
    int rc;

    if (tams_query_known_or_400(req, known, false))
        return;
    c.j = tams_res_json(req);
    tams_json_arr_open(c.j);
    if ((rc = tams_store_stats_storage(c.app->store, storage_row, &c))) {
        tams_buf_reset(&req->out);
        tams_send_error(req, rc, NULL);
        return;
    }
    tams_json_arr_close(c.j);
    tams_send_json_body(req, 200);
}

static int ingest_row(void *ctx, int64_t minute, int64_t segments, int64_t bytes)
{
    struct tams_json *j = ctx;
    char at[TAMS_RFC3339_MAX];

    tams_clock_rfc3339(minute * 60000000, at);
    tams_json_obj_open(j);
    tams_json_kstr(j, "minute", at);
    tams_json_kint(j, "segment_count", segments);
    tams_json_kint(j, "stored_bytes", bytes);
    tams_json_obj_close(j);
    return 0;
}

void analytics_ingest_get(struct tams_req *req)
{
    static const char *const known[] = {"flow_id", "minutes", NULL};
    const char *flow_id = NULL, *m = tams_req_query_get(req, "minutes");
    int64_t minutes = INGEST_MINUTES, now = tams_clock_wall_us() / 60000000;
    char from[TAMS_RFC3339_MAX];
    struct tams_json *j;
    int rc;

    if (tams_query_known_or_400(req, known, false) ||
        tams_query_uuid_or_400(req, "flow_id", &flow_id))
        return;
    if (m) {
        char *end;

        errno = 0;
        minutes = strtoll(m, &end, 10);
        if (errno || end == m || *end || minutes < 1 || minutes > INGEST_MINUTES) {
            tams_send_error(req, TAMS_ERR_BADQUERY,
                            "'minutes' must be an integer from 1 to %d, not '%s'", INGEST_MINUTES,
                            m);
            return;
        }
    }
    tams_clock_rfc3339((now - minutes + 1) * 60000000, from);
    j = tams_res_json(req);
    tams_json_obj_open(j);
    if (flow_id)
        tams_json_kstr(j, "flow_id", flow_id);
    tams_json_kstr(j, "from", from);
    tams_json_key(j, "minutes");
    tams_json_arr_open(j);
    rc = tams_store_stats_ingest(app_of(req)->store, flow_id, now - minutes + 1, ingest_row, j);
    if (rc) {
        tams_buf_reset(&req->out);
        send_store_error(req, rc, "flow", flow_id ? flow_id : "");
        return;
    }
    tams_json_arr_close(j);
    tams_json_obj_close(j);
    tams_send_json_body(req, 200);
}
