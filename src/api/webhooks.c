/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks.c - GET/HEAD/POST /service/webhooks (notes §1.1, §2.12, §8.1). */
#include "core/common.h"
#include "core/random.h"
#include "api/app.h"
#include "auth/scopes.h"
#include "api/handlers.h"
#include "events/ssrf.h"
#include "events/webhook.h"
#include "http/respond.h"

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* A webhook belongs to the principal that registered it: only it, or an admin, sees or
 * changes it (notes §8.1). Anonymous requests own anonymous registrations. */
static bool may_touch(const struct tams_req *req, const char *owner)
{
    if (req->scopes & TAMS_SCOPE_ADMIN)
        return true;
    if ((req->principal == NULL) != (owner == NULL))
        return false;
    return !req->principal || strcmp(req->principal, owner) == 0;
}

struct list_ctx {
    struct tams_json *j;
    const struct tams_req *req;
};

static int list_row(void *ctx, const struct tams_webhook_rec *rec)
{
    struct list_ctx *c = ctx;
    if (may_touch(c->req, rec->owner))
        tams_json_raw(c->j, rec->doc, strlen(rec->doc));
    return 0;
}

/* Is there a registration with this identity that the caller may not change? */
struct owner_ctx {
    const struct tams_req *req;
    const struct tams_webhook_rec *want;
    bool foreign;
};

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int owner_row(void *ctx, const struct tams_webhook_rec *rec)
{
    struct owner_ctx *c = ctx;
    if (strcmp(rec->url, c->want->url) == 0 && same(rec->api_key_name, c->want->api_key_name) &&
        same(rec->api_key_value, c->want->api_key_value) && !may_touch(c->req, rec->owner))
        c->foreign = true;
    return 0;
}

void webhooks_get(struct tams_req *req)
{
    struct tams_store *st = store_of(req);
    struct list_ctx ctx = {tams_res_json(req), req};
    int rc;

    tams_json_arr_open(ctx.j);
    rc = tams_store_webhook_list(st, list_row, &ctx);
    tams_json_arr_close(ctx.j);
    if (rc) {
        tams_send_error(req, rc, NULL);
        return;
    }
    tams_send_json_body(req, 200);
}

void webhooks_post(struct tams_req *req)
{
    struct tams_app *app = req->app;
    struct tams_store *st = store_of(req);
    struct tams_webhook_reg reg;
    struct tams_buf why = TAMS_BUF_INIT(1024), doc = TAMS_BUF_INIT(1 << 20);
    struct tams_webhook_rec rec = {0};
    enum tams_webhook_put_result result;
    char id[TAMS_UUID_STRLEN + 1], addr[TAMS_SSRF_ADDRMAX];
    int rc;

    if ((rc = tams_webhook_parse(req->json, &reg, &why))) {
        tams_send_error(req, rc, "%s", why.data);
        goto out0;
    }
    /* SSRF: every address of the host must be public (re-checked at each delivery). A removal
     * contacts nobody, so it is not checked. */
    if (reg.events &&
        (rc = tams_ssrf_resolve(reg.host, app->cfg->webhooks_allow_private, addr, &why))) {
        tams_send_error(req, rc, "%s", why.data);
        goto out;
    }
    tams_uuid_v4(id);
    rec.id = id;
    rec.url = reg.url;
    rec.api_key_name = reg.api_key_name;
    rec.api_key_value = reg.api_key_value;
    rec.owner = req->principal;
    if (reg.events) {
        tams_webhook_doc(&reg, &doc);
        if (!tams_buf_ok(&doc)) {
            tams_send_error(req, TAMS_ERR_TOOBIG, "the webhook registration is too large");
            goto out;
        }
        rec.doc = doc.data;
    }
    {
        /* NEEDSWORK: the owner check and the write are two store calls; make the owner part of
         * webhook_put's transaction when the store grows that parameter. */
        struct owner_ctx oc = {req, &rec, false};
        rc = tams_store_webhook_list(st, owner_row, &oc);
        if (!rc && oc.foreign) {
            tams_send_error(req, TAMS_ERR_FORBIDDEN,
                            "this webhook was registered by another principal");
            goto out;
        }
    }
    if (!rc)
        rc = tams_store_webhook_put(st, &rec, &result);
    if (rc)
        tams_send_error(req, rc, NULL);
    else
        tams_send_empty(req, result == TAMS_WEBHOOK_REMOVED ? 204 : 201);
out:
    tams_webhook_reg_release(&reg);
out0:
    tams_buf_release(&why);
    tams_buf_release(&doc);
}
