/* SPDX-License-Identifier: Apache-2.0 */
/* trash.c - the soft-delete bin as extension routes outside the TAMS paths, admin only
 * (docs/soft-delete.md): GET /trash (paged as the TAMS lists), GET /trash/{id}, POST
 * /trash/{id}/restore, DELETE /trash/{id}. */
#include "core/common.h"
#include "core/json.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "auth/scopes.h"
#include "http/respond.h"

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* Every route here needs the admin scope, whatever its method. */
static bool admin_or_403(struct tams_req *req)
{
    if (req->scopes & TAMS_SCOPE_ADMIN)
        return true;
    tams_send_error(req, TAMS_ERR_FORBIDDEN, "the trash needs the 'admin' scope");
    return false;
}

static int write_entry(void *ctx, const struct tams_bin_rec *r)
{
    struct tams_json *j = ctx;

    tams_json_obj_open(j);
    tams_json_kstr(j, "id", r->id);
    tams_json_kstr(j, "kind", r->kind);
    tams_json_kstr(j, "flow_id", r->flow_id);
    if (r->source_id)
        tams_json_kstr(j, "source_id", r->source_id);
    tams_json_kstr(j, "timerange", r->timerange);
    if (r->object_id)
        tams_json_kstr(j, "object_id", r->object_id);
    tams_json_kint(j, "segments", r->segments);
    tams_json_kstr(j, "deleted", r->deleted);
    if (r->deleted_by)
        tams_json_kstr(j, "deleted_by", r->deleted_by);
    tams_json_kstr(j, "expires", r->expires);
    tams_json_kstr(j, "status", r->pending ? "deleting" : "kept");
    tams_json_obj_close(j);
    return 0;
}

static void send_rc(struct tams_req *req, int rc, const char *id, const char *why)
{
    tams_buf_reset(&req->out);
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "trash entry '%s' does not exist (restored, purged or expired)",
                        id);
    else if (why && why[0])
        tams_send_error(req, rc, "%s", why);
    else
        tams_send_error(req, rc, NULL);
}

void trash_list(struct tams_req *req)
{
    static const char *const known[] = {"page", "limit", NULL};
    struct tams_paging pg;
    struct tams_page page;
    struct tams_json *j;
    int rc;

    if (!admin_or_403(req) || tams_query_known_or_400(req, known, false) ||
        tams_paging_parse_or_400(req, &pg))
        return;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    j = tams_res_json(req);
    tams_json_arr_open(j);
    if ((rc = tams_store_bin_list(store_of(req), &page, write_entry, j))) {
        tams_paging_send_error(req, rc);
    } else {
        tams_json_arr_close(j);
        if (tams_paging_headers(req, &pg) == 0)
            tams_send_json_body(req, 200);
    }
    tams_paging_release(&pg);
}

void trash_get(struct tams_req *req)
{
    const char *id = req->params[0];
    int rc;

    if (!admin_or_403(req) || tams_query_known_or_400(req, (const char *const[]){NULL}, false))
        return;
    if ((rc = tams_store_bin_get(store_of(req), id, write_entry, tams_res_json(req)))) {
        send_rc(req, rc, id, NULL);
        return;
    }
    tams_send_json_body(req, 200);
}

void trash_restore(struct tams_req *req)
{
    const char *id = req->params[0];
    struct tams_buf why = TAMS_BUF_INIT(4096);
    int rc;

    if (!admin_or_403(req) || tams_query_known_or_400(req, (const char *const[]){NULL}, false))
        return;
    rc = tams_store_bin_restore(store_of(req), id, &why);
    if (rc)
        send_rc(req, rc, id, why.data);
    else
        tams_send_empty(req, 204);
    tams_buf_release(&why);
}

void trash_delete(struct tams_req *req)
{
    const char *id = req->params[0];
    int rc;

    if (!admin_or_403(req) || tams_query_known_or_400(req, (const char *const[]){NULL}, false))
        return;
    rc = tams_store_bin_purge(store_of(req), id);
    if (rc)
        send_rc(req, rc, id, NULL);
    else
        tams_send_empty(req, 204);
}
