/* SPDX-License-Identifier: Apache-2.0 */
/* objects.c - GET /objects/{objectId}: which flows reference a media object. */
#include "core/common.h"
#include "core/json.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/respond.h"

static int object_row(void *ctx, const struct tams_object_rec *rec)
{
    struct tams_json *j = ctx;
    tams_json_obj_open(j);
    tams_json_kstr(j, "id", rec->id);
    tams_json_key(j, "referenced_by_flows");
    tams_json_arr_open(j);
    for (size_t i = 0; i < rec->nreferenced_by_flows; i++)
        tams_json_str(j, rec->referenced_by_flows[i]);
    tams_json_arr_close(j);
    if (rec->first_referenced_by_flow)
        tams_json_kstr(j, "first_referenced_by_flow", rec->first_referenced_by_flow);
    tams_json_obj_close(j);
    return 0;
}

void object_get(struct tams_req *req)
{
    static const char *const known[] = {"page", "limit", NULL};
    struct tams_store *st = ((struct tams_app *)req->app)->store;
    const char *id = req->params[0];
    struct tams_paging pg;
    struct tams_page page;
    int rc;

    if (tams_query_known_or_400(req, known, false) || tams_paging_parse_or_400(req, &pg))
        return;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    rc = tams_store_object_get(st, id, &page, object_row, tams_res_json(req));
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
