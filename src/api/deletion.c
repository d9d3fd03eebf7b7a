/* SPDX-License-Identifier: Apache-2.0 */
/* deletion.c - DELETE /flows/{flowId}, DELETE /flows/{flowId}/segments and /flow-delete-requests.
 */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/random.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
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

/* ---- 8.2: sorted and paged ---------------------------------------------------------------
 * The requests readable at one time are few (finished ones expire after delete_request_ttl),
 * so the 8.2 listing reads them all, sorts them here and pages by key: the page key is the
 * last item's sort value and id, and the next page starts after that place in the order, so
 * requests made or expired between two pages shift nothing. */

struct dr_list {
    struct tams_pool *pool;
    struct tams_delete_request *items;
    size_t n, cap;
    bool by_expiry;
};

static const char *dup_or_null(struct tams_pool *pool, const char *s)
{
    return s ? tams_pool_strdup(pool, s) : NULL;
}

static int collect_row(void *ctx, const struct tams_delete_request *rec)
{
    struct dr_list *l = ctx;
    struct tams_delete_request *d;

    if (l->n == l->cap) {
        struct tams_delete_request *more;
        l->cap = l->cap ? 2 * l->cap : 64;
        more = tams_pool_alloc(l->pool, l->cap * sizeof(*more));
        if (l->n)
            memcpy(more, l->items, l->n * sizeof(*more));
        l->items = more;
    }
    d = &l->items[l->n++];
    *d = (struct tams_delete_request){
        dup_or_null(l->pool, rec->id),
        dup_or_null(l->pool, rec->flow_id),
        dup_or_null(l->pool, rec->timerange_to_delete),
        dup_or_null(l->pool, rec->timerange_remaining),
        rec->delete_flow,
        dup_or_null(l->pool, rec->status),
        dup_or_null(l->pool, rec->created),
        dup_or_null(l->pool, rec->created_by),
        dup_or_null(l->pool, rec->updated),
        dup_or_null(l->pool, rec->expiry),
        dup_or_null(l->pool, rec->error),
    };
    return 0;
}

/* Ascending order: requests without the sort value first (by id), then by value and id.
 * Timestamps are fixed-width UTC RFC 3339, so text order is time order. 8.2's default is the
 * reverse (most recent first, unset last); reverse_order=true is this order. */
static int cmp_key(const char *va, const char *ida, const char *vb, const char *idb)
{
    int c;

    if (!va != !vb)
        return va ? 1 : -1;
    if (va && (c = strcmp(va, vb)) != 0)
        return c;
    return strcmp(ida, idb);
}

static const char *sort_value(const struct tams_delete_request *r, bool by_expiry)
{
    return by_expiry ? r->expiry : r->created;
}

static int cmp_created(const void *pa, const void *pb)
{
    const struct tams_delete_request *a = pa, *b = pb;
    return cmp_key(a->created, a->id, b->created, b->id);
}

static int cmp_expiry(const void *pa, const void *pb)
{
    const struct tams_delete_request *a = pa, *b = pb;
    return cmp_key(a->expiry, a->id, b->expiry, b->id);
}

/* The page key "<id>,<value>" ("<id>," when the value is unset) into id and value. */
static int parse_key(struct tams_req *req, const char *page, const char **id, const char **value)
{
    const char *comma = strchr(page, ',');

    if (!comma || !tams_uuid_valid(page, (size_t)(comma - page)) ||
        strlen(comma + 1) >= TAMS_RFC3339_MAX) {
        tams_send_error(req, TAMS_ERR_BADPAGE,
                        "query parameter 'page' is not a page key this listing gave");
        return -1;
    }
    *id = tams_pool_strndup(&req->pool, page, (size_t)(comma - page));
    *value = comma[1] ? comma + 1 : NULL;
    return 0;
}

static void delete_requests_list_82(struct tams_req *req)
{
    static const char *const known[] = {"limit", "page", "sort_by", "reverse_order", NULL};
    struct tams_store *st = app_of(req)->store;
    struct dr_list l = {.pool = &req->pool};
    const char *sort_by = NULL, *key_id = NULL, *key_value = NULL;
    char now[TAMS_RFC3339_MAX], count[24];
    struct tams_paging pg;
    struct tams_json *j;
    bool reverse = false;
    size_t shown = 0, i;
    int rc;

    if (tams_query_known_or_400(req, known, false) ||
        tams_req_query_str_or_400(req, "sort_by", &sort_by) ||
        tams_req_query_bool_or_400(req, "reverse_order", &reverse))
        return;
    if (sort_by && strcmp(sort_by, "created") != 0 && strcmp(sort_by, "expiry") != 0) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter 'sort_by' must be 'created' or 'expiry', not '%s'",
                        sort_by);
        return;
    }
    l.by_expiry = sort_by && strcmp(sort_by, "expiry") == 0;
    if (tams_paging_parse_or_400(req, &pg))
        return;
    if (pg.page && parse_key(req, pg.page, &key_id, &key_value)) {
        tams_paging_release(&pg);
        return;
    }
    tams_clock_now_rfc3339(now);
    if ((rc = tams_store_delete_requests_list(st, now, collect_row, &l))) {
        tams_send_error(req, rc, NULL);
        tams_paging_release(&pg);
        return;
    }
    if (l.n)
        qsort(l.items, l.n, sizeof(*l.items), l.by_expiry ? cmp_expiry : cmp_created);
    j = tams_res_json(req);
    tams_json_arr_open(j);
    for (i = 0; i < l.n; i++) {
        /* The output order: ascending when reverse, else descending. */
        const struct tams_delete_request *r = &l.items[reverse ? i : l.n - 1 - i];
        const char *v = sort_value(r, l.by_expiry);
        int c = key_id ? cmp_key(v, r->id, key_value, key_id) : 0;
        if (key_id && (reverse ? c <= 0 : c >= 0))
            continue; /* at or before the page key */
        if (shown == (size_t)pg.limit) {
            const struct tams_delete_request *last = &l.items[reverse ? i - 1 : l.n - i];
            const char *lv = sort_value(last, l.by_expiry);
            tams_buf_addf(&pg.next_key, "%s,%s", last->id, lv ? lv : "");
            break;
        }
        write_request(j, r);
        shown++;
    }
    tams_json_arr_close(j);
    snprintf(count, sizeof(count), "%zu", shown);
    tams_res_header(req, "X-Paging-Count", count);
    tams_res_header(req, "X-Paging-Reverse-Order", reverse ? "true" : "false");
    if (!tams_paging_headers(req, &pg))
        tams_send_json_body(req, 200);
    tams_paging_release(&pg);
}

/* 7.0: every readable request, oldest first, unpaged. */
void delete_requests_list(struct tams_req *req)
{
    struct tams_store *st = app_of(req)->store;
    char now[TAMS_RFC3339_MAX];
    struct tams_json *j;
    int rc;

    if (req->api == TAMS_API_82) {
        delete_requests_list_82(req);
        return;
    }
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
