/* SPDX-License-Identifier: Apache-2.0 */
/* objects.c - GET /objects/{objectId}: which flows reference a media object; under 8.2 also the
 * object's own members (docs/tams-8.2-changes.md, 28). */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/respond.h"
#include "media/get_urls.h"

struct object_ctx {
    struct tams_req *req;
    bool v82;
    const struct tams_get_urls_filter *urls;
};

/* 8.2's members of the object: its timerange, get_urls as a segment's, key_frame_count. */
static void object_82(struct tams_json *j, struct object_ctx *c, const struct tams_object_rec *rec)
{
    struct tams_get_urls_src src = {
        .backend = rec->controlled ? tams_app_backend(c->req->app, rec->storage_id) : NULL,
        .key = rec->key,
        .uncontrolled = rec->get_urls,
        .instances = rec->instances,
        .backends = ((struct tams_app *)c->req->app)->backends,
        .nbackends = ((struct tams_app *)c->req->app)->nbackends,
    };

    if (rec->timerange)
        tams_json_kstr(j, "timerange", rec->timerange);
    if (rec->key_frame_count >= 0)
        tams_json_kint(j, "key_frame_count", rec->key_frame_count);
    tams_get_urls_write(j, &src, c->urls->none ? NULL : tams_req_base_url(c->req), c->urls,
                        tams_clock_wall_us() / 1000000);
    if (rec->init_object_id) {
        struct tams_get_urls_src init = {
            .backend =
                rec->init_controlled ? tams_app_backend(c->req->app, rec->init_storage_id) : NULL,
            .key = rec->init_key,
        };
        tams_json_key(j, "init_object");
        tams_json_obj_open(j);
        tams_json_kstr(j, "id", rec->init_object_id);
        tams_get_urls_write(j, &init, c->urls->none ? NULL : tams_req_base_url(c->req), c->urls,
                            tams_clock_wall_us() / 1000000);
        tams_json_obj_close(j);
    }
}

static int object_row(void *ctx, const struct tams_object_rec *rec)
{
    struct object_ctx *c = ctx;
    struct tams_json *j = tams_res_json(c->req);
    tams_json_obj_open(j);
    tams_json_kstr(j, "id", rec->id);
    tams_json_key(j, "referenced_by_flows");
    tams_json_arr_open(j);
    for (size_t i = 0; i < rec->nreferenced_by_flows; i++)
        tams_json_str(j, rec->referenced_by_flows[i]);
    tams_json_arr_close(j);
    if (rec->first_referenced_by_flow)
        tams_json_kstr(j, "first_referenced_by_flow", rec->first_referenced_by_flow);
    if (c->v82)
        object_82(j, c, rec);
    tams_json_obj_close(j);
    return 0;
}

void object_get(struct tams_req *req)
{
    static const char *const known[] = {"page", "limit", NULL};
    static const char *const known_82[] = {"page", "limit", TAMS_GET_URLS_QUERY_NAMES, NULL};
    struct tams_store *st = ((struct tams_app *)req->app)->store;
    const char *id = req->params[0];
    struct tams_get_urls_filter urls = {.presigned = -1};
    struct object_ctx ctx = {req, req->api == TAMS_API_82, &urls};
    struct tams_tag_filter *tags = NULL;
    size_t ntags = 0;
    struct tams_paging pg;
    struct tams_page page;
    int rc;

    if (ctx.v82 ? tams_query_known_tags_or_400(req, known_82, "flow_") ||
                      tams_prefixed_tag_filters_or_400(req, "flow_", &tags, &ntags) ||
                      tams_get_urls_filter_or_400(req, &urls)
                : tams_query_known_or_400(req, known, false))
        return;
    if (tams_paging_parse_or_400(req, &pg))
        return;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    rc = tams_store_object_get_tagged(st, id, tags, ntags, &page, object_row, &ctx);
    if (rc) {
        tams_buf_reset(&req->out);
        if (rc == TAMS_ERR_NOTFOUND)
            tams_send_error(req, rc, "no segment references object '%s'", id);
        else if (rc == TAMS_ERR_BADPAGE)
            tams_send_error(req, rc, "query parameter 'page' is not a page key of this object");
        else
            tams_send_error(req, rc, NULL);
    } else {
        tams_paging_headers(req, &pg);
        tams_send_json_body(req, 200);
    }
    tams_paging_release(&pg);
}
