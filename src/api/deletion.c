/* SPDX-License-Identifier: Apache-2.0 */
/* deletion.c - DELETE /flows/{flowId}, DELETE /flows/{flowId}/segments and /flow-delete-requests.
 */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/params.h"
#include "http/respond.h"
#include "jobs/runner.h"

static struct tams_app *app_of(struct tams_req *req)
{
    return req->app;
}

/* One deletion request as deletion-request.json. */
static void write_request(struct tams_json *j, const struct tams_delete_request *r)
{
    tams_json_obj_open(j);
    tams_json_kstr(j, "id", r->id);
    tams_json_kstr(j, "flow_id", r->flow_id);
    tams_json_kstr(j, "timerange_to_delete", r->timerange_to_delete);
    if (r->timerange_remaining)
        tams_json_kstr(j, "timerange_remaining", r->timerange_remaining);
    tams_json_kbool(j, "delete_flow", r->delete_flow);
    tams_json_kstr(j, "status", r->status);
    if (r->created)
        tams_json_kstr(j, "created", r->created);
    if (r->created_by)
        tams_json_kstr(j, "created_by", r->created_by);
    if (r->updated)
        tams_json_kstr(j, "updated", r->updated);
    if (r->expiry)
        tams_json_kstr(j, "expiry", r->expiry);
    if (r->error) {
        tams_json_key(j, "error");
        tams_json_raw(j, r->error, strlen(r->error));
    }
    tams_json_obj_close(j);
}

/* 202: the request as body, its absolute URL as Location (notes §1.6, §11.24). */
static int accepted(void *ctx, const struct tams_delete_request *rec)
{
    struct tams_req *req = ctx;
    struct tams_buf loc = TAMS_BUF_INIT(8192);

    tams_buf_addf(&loc, "%s/flow-delete-requests/%s", tams_req_base_url(req), rec->id);
    tams_res_header(req, "Location", loc.data);
    tams_buf_release(&loc);
    write_request(tams_res_json(req), rec);
    tams_send_json_body(req, 202);
    return 0;
}

/* Run a deletion: 204 when done now, 202 when recorded as a request. */
static void run_delete(struct tams_req *req, const struct tams_delete_spec *spec)
{
    struct tams_app *app = app_of(req);
    struct tams_store *st = app->store;
    unsigned effects = 0;
    int rc = tams_store_delete_start(st, spec, &effects, accepted, req);

    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "flow '%s' does not exist", spec->flow_id);
    else if (rc == TAMS_ERR_READONLY)
        tams_send_error(req, rc, "flow '%s' is read-only; set read_only to false first",
                        spec->flow_id);
    else if (rc)
        tams_send_error(req, rc, NULL);
    else if (effects & TAMS_EFFECT_DEFERRED)
        tams_job_kick(app->deletion_job); /* the 202 is sent by accepted() */
    else
        tams_send_empty(req, 204);
}

void flow_delete(struct tams_req *req)
{
    struct tams_delete_spec spec = {.delete_flow = true, .principal = req->principal};

    if (tams_path_uuid_or_404(req, 0, "flow", &spec.flow_id) ||
        tams_query_known_or_400(req, (const char *const[]){NULL}, false))
        return;
    spec.sync_limit = app_of(req)->cfg->delete_sync_limit;
    spec.retention = app_of(req)->cfg->soft_delete_retention;
    run_delete(req, &spec);
}

void segments_delete(struct tams_req *req)
{
    static const char *const known[] = {"timerange", "object_id", NULL};
    struct tams_delete_spec spec = {.principal = req->principal};
    struct tams_timerange tr;
    bool has_tr = false;

    if (tams_path_uuid_or_404(req, 0, "flow", &spec.flow_id) ||
        tams_query_known_or_400(req, known, false) ||
        tams_query_timerange_or_400(req, "timerange", &tr, &has_tr) ||
        tams_req_query_str_or_400(req, "object_id", &spec.object_id))
        return;
    if (has_tr)
        spec.timerange = &tr;
    spec.sync_limit = app_of(req)->cfg->delete_sync_limit;
    spec.retention = app_of(req)->cfg->soft_delete_retention;
    run_delete(req, &spec);
}

/* ---- GET /flow-delete-requests ------------------------------------------------------------- */

static int list_row(void *ctx, const struct tams_delete_request *rec)
{
    write_request(ctx, rec);
    return 0;
}

void delete_requests_list(struct tams_req *req)
{
    struct tams_store *st = app_of(req)->store;
    char now[TAMS_RFC3339_MAX];
    struct tams_json *j;
    int rc;

    if (tams_query_known_or_400(req, (const char *const[]){NULL}, false))
        return;
    tams_clock_now_rfc3339(now);
    j = tams_res_json(req);
    tams_json_arr_open(j);
    rc = tams_store_delete_requests_list(st, now, list_row, j);
    if (rc) {
        tams_buf_reset(&req->out);
        tams_send_error(req, rc, NULL);
        return;
    }
    tams_json_arr_close(j);
    tams_send_json_body(req, 200);
}

void delete_request_get(struct tams_req *req)
{
    struct tams_store *st = app_of(req)->store;
    const char *id = req->params[0];
    char now[TAMS_RFC3339_MAX];
    int rc;

    if (tams_query_known_or_400(req, (const char *const[]){NULL}, false))
        return;
    tams_clock_now_rfc3339(now);
    rc = tams_store_delete_request_get(st, id, now, list_row, tams_res_json(req));
    if (rc) {
        tams_buf_reset(&req->out);
        if (rc == TAMS_ERR_NOTFOUND)
            tams_send_error(req, rc, "deletion request '%s' does not exist or has expired", id);
        else
            tams_send_error(req, rc, NULL);
        return;
    }
    tams_send_json_body(req, 200);
}
