/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks_id.c - GET /service/webhooks in both versions (8.2: paged, sorted by url, tag
 * filters) and 8.2's GET/HEAD/PUT/DELETE /service/webhooks/{webhookId}
 * (docs/tams-8.2-changes.md 6-8, docs/webhooks.md). */
#include "core/common.h"
#include "core/hex.h"
#include "core/random.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "auth/scopes.h"
#include "events/secrets.h"
#include "events/ssrf.h"
#include "events/webhook.h"
#include "http/respond.h"
#include "tams/tag.h"

#include <json-c/json.h>
#include <openssl/crypto.h>

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* ---- the listing ---------------------------------------------------------------------- */

struct row {
    char *id, *url, *doc, *status, *error;
};

struct rows {
    const struct tams_req *req;
    struct row *v;
    size_t n;
};

static int collect(void *ctx, const struct tams_webhook_rec *rec)
{
    struct rows *r = ctx;

    if (!tams_webhook_may_touch(r->req, rec->owner))
        return 0;
    r->v = tams_realloc(r->v, tams_st_mult(r->n + 1, sizeof(*r->v)));
    r->v[r->n++] =
        (struct row){tams_strdup(rec->id), tams_strdup(rec->url), tams_strdup(rec->doc),
                     tams_strdup(rec->status), rec->error ? tams_strdup(rec->error) : NULL};
    return 0;
}

static void rows_release(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        tams_free(r->v[i].id);
        tams_free(r->v[i].url);
        tams_free(r->v[i].doc);
        tams_free(r->v[i].status);
        tams_free(r->v[i].error);
    }
    tams_free(r->v);
}

/* By url, then id (the spec sorts by url; the id makes the order total for page keys). */
static int cmp_key(const char *url_a, const char *id_a, const char *url_b, const char *id_b)
{
    int c = strcmp(url_a, url_b);
    return c ? c : strcmp(id_a, id_b);
}

static int cmp_rows(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return cmp_key(x->url, x->id, y->url, y->id);
}

static bool tags_pass(const char *doc, const struct tams_tag_filter *f, size_t nf)
{
    json_object *d, *tags = NULL;
    bool pass = true;

    if (!nf)
        return true;
    d = json_tokener_parse(doc);
    if (d)
        json_object_object_get_ex(d, "tags", &tags);
    for (size_t i = 0; i < nf && pass; i++) {
        json_object *v = NULL;
        bool has = json_object_is_type(tags, json_type_object) &&
                   json_object_object_get_ex(tags, f[i].name, &v);

        pass = f[i].value ? has && tams_tag_json_holds_any(v, f[i].value) : has == f[i].exists;
    }
    json_object_put(d);
    return pass;
}

/* A page key: the last row's id, ':', its url in hex. */
static void page_key(struct tams_buf *out, const struct row *r)
{
    size_t n = strlen(r->url);
    char *hex = tams_malloc(2 * n + 1);

    tams_hex_encode((const unsigned char *)r->url, n, hex);
    tams_buf_addf(out, "%s:%s", r->id, hex);
    tams_free(hex);
}

/* The row index after the key, or -1 when the key is not one of ours. */
static ssize_t after_key(const struct rows *r, const char *key, bool reverse)
{
    const char *colon = strchr(key, ':');
    size_t hexlen, i;
    char id[TAMS_UUID_STRLEN + 1], *url;
    ssize_t at;

    if (!colon || colon - key != TAMS_UUID_STRLEN || ((hexlen = strlen(colon + 1)) % 2) ||
        !tams_uuid_valid(key, TAMS_UUID_STRLEN))
        return -1;
    memcpy(id, key, TAMS_UUID_STRLEN);
    id[TAMS_UUID_STRLEN] = 0;
    url = tams_malloc(hexlen / 2 + 1);
    if (tams_hex_decode(colon + 1, hexlen, (unsigned char *)url, hexlen / 2) != 0 ||
        memchr(url, 0, hexlen / 2)) {
        tams_free(url);
        return -1;
    }
    url[hexlen / 2] = 0;
    /* Ascending, the next rows are those after the key: from the first one past it. In
     * reverse, those before it: i of them, the last i of the reversed walk. */
    for (i = 0; i < r->n && cmp_key(r->v[i].url, r->v[i].id, url, id) < (reverse ? 0 : 1); i++)
        ;
    at = reverse ? (ssize_t)(r->n - i) : (ssize_t)i;
    tams_free(url);
    return at;
}

void webhooks_get(struct tams_req *req)
{
    static const char *const known[] = {"reverse_order", "page", "limit", NULL};
    struct rows r = {.req = req};
    struct tams_tag_filter *tags = NULL;
    struct tams_paging pg;
    struct tams_buf *out = &req->out;
    size_t ntags = 0, emitted = 0;
    ssize_t start = 0;
    bool reverse = false, first = true;
    int rc;

    if (req->api != TAMS_API_82) {
        /* 7.0: every webhook of the caller, unpaged, in the order registered. */
        if ((rc = tams_store_webhook_list(store_of(req), collect, &r))) {
            tams_send_error(req, rc, NULL);
            goto out0;
        }
        tams_buf_reset(out);
        tams_buf_addch(out, '[');
        for (size_t i = 0; i < r.n; i++) {
            if (i)
                tams_buf_addch(out, ',');
            tams_webhook_view(out, r.v[i].doc, false, NULL, NULL, NULL);
        }
        tams_buf_addch(out, ']');
        tams_send_out(req, 200, "application/json");
        goto out0;
    }
    if (tams_query_known_or_400(req, known, true) ||
        tams_req_query_bool_or_400(req, "reverse_order", &reverse) ||
        tams_tag_filters_or_400(req, &tags, &ntags) || tams_paging_parse_or_400(req, &pg))
        goto out0;
    if ((rc = tams_store_webhook_list(store_of(req), collect, &r))) {
        tams_paging_send_error(req, rc);
        goto out;
    }
    if (r.n)
        qsort(r.v, r.n, sizeof(*r.v), cmp_rows);
    if (pg.page && (start = after_key(&r, pg.page, reverse)) < 0) {
        tams_paging_send_error(req, TAMS_ERR_BADPAGE);
        goto out;
    }
    tams_buf_reset(out);
    tams_buf_addch(out, '[');
    for (size_t k = (size_t)start; k < r.n; k++) {
        const struct row *row = &r.v[reverse ? r.n - 1 - k : k];

        if (!tags_pass(row->doc, tags, ntags))
            continue;
        if (emitted == (size_t)pg.limit) {
            page_key(&pg.next_key, &r.v[reverse ? r.n - k : k - 1]);
            break;
        }
        if (!first)
            tams_buf_addch(out, ',');
        first = false;
        tams_webhook_view(out, row->doc, true, row->id, row->status, row->error);
        emitted++;
    }
    tams_buf_addch(out, ']');
    {
        char count[24];
        snprintf(count, sizeof(count), "%zu", emitted);
        tams_res_header(req, "X-Paging-Count", count);
        tams_res_header(req, "X-Paging-Reverse-Order", reverse ? "true" : "false");
    }
    if (tams_paging_headers(req, &pg) == 0)
        tams_send_out(req, 200, "application/json");
out:
    tams_paging_release(&pg);
out0:
    rows_release(&r);
}

/* ---- /service/webhooks/{webhookId} (8.2) ------------------------------------------------ */

/* What is stored of one webhook, as the per-id handlers need it. */
struct one {
    bool found;
    char *url, *owner, *status, *api_key_name, *api_key_id, *api_key_sealed;
};

static int keep_one(void *ctx, const struct tams_webhook_rec *rec)
{
    struct one *o = ctx;

    o->found = true;
    o->url = tams_strdup(rec->url);
    o->owner = rec->owner ? tams_strdup(rec->owner) : NULL;
    o->status = tams_strdup(rec->status);
    o->api_key_name = rec->api_key_name ? tams_strdup(rec->api_key_name) : NULL;
    o->api_key_id = rec->api_key_id ? tams_strdup(rec->api_key_id) : NULL;
    o->api_key_sealed = rec->api_key_sealed ? tams_strdup(rec->api_key_sealed) : NULL;
    return 0;
}

static void one_release(struct one *o)
{
    tams_free(o->url);
    tams_free(o->owner);
    tams_free(o->status);
    tams_free(o->api_key_name);
    tams_free(o->api_key_id);
    tams_free(o->api_key_sealed);
}

/* The webhook of the path, which the caller may see; else sends the 404 (another's webhook
 * is not shown, as in the listing) and returns non-zero. With `forbid`, another's webhook is
 * a 403 instead (a change). */
static int find_or_4xx(struct tams_req *req, struct one *o, const char **id, bool forbid)
{
    int rc;

    if (tams_path_uuid_or_404(req, 0, "webhook", id))
        return -1;
    rc = tams_store_webhook_get(store_of(req), *id, keep_one, o);
    if (rc == 0 && !tams_webhook_may_touch(req, o->owner)) {
        if (forbid) {
            tams_send_error(req, TAMS_ERR_FORBIDDEN,
                            "webhook '%s' was registered by another principal", *id);
            return -1;
        }
        rc = TAMS_ERR_NOTFOUND;
    }
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "webhook '%s' does not exist", *id);
    else if (rc)
        tams_send_error(req, rc, NULL);
    return rc;
}

void webhook_get(struct tams_req *req)
{
    struct one o = {0};
    const char *id;

    if (find_or_4xx(req, &o, &id, false) == 0)
        tams_webhook_answer(req, id, 200);
    one_release(&o);
}

void webhook_delete(struct tams_req *req)
{
    struct one o = {0};
    const char *id;
    int rc;

    if (find_or_4xx(req, &o, &id, true) == 0) {
        rc = tams_store_webhook_delete(store_of(req), id);
        if (rc == TAMS_ERR_NOTFOUND)
            tams_send_error(req, rc, "webhook '%s' does not exist", id);
        else if (rc)
            tams_send_error(req, rc, NULL);
        else
            tams_send_empty(req, 204);
    }
    one_release(&o);
}

/* The api key of a PUT: a new one (name and value), the stored one (its name alone: GET never
 * shows the value, so a client that edits what GET gave keeps its key), or none. */
static int put_key(struct tams_req *req, const struct tams_webhook_reg *reg, const struct one *o,
                   struct tams_webhook_rec *rec, char *key_id, struct tams_buf *sealed)
{
    struct tams_app *app = req->app;

    rec->api_key_name = reg->api_key_name;
    if (reg->api_key_value) {
        tams_webhook_secret_id(app->webhook_secrets, reg->api_key_value, key_id);
        rec->api_key_id = key_id;
        tams_webhook_secret_seal(app->webhook_secrets, reg->url, reg->api_key_name,
                                 reg->api_key_value, sealed);
        rec->api_key_sealed = sealed->data;
        return 0;
    }
    if (!reg->api_key_name)
        return 0;
    if (!o->api_key_name || strcmp(o->api_key_name, reg->api_key_name) != 0 || !o->api_key_sealed) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "'api_key_name' without 'api_key_value' keeps the stored key, so it must "
                        "be the stored name");
        return -1;
    }
    rec->api_key_id = o->api_key_id;
    rec->api_key_sealed = o->api_key_sealed;
    if (strcmp(o->url, reg->url) != 0) {
        /* A sealed value opens only for the url it was sealed with (events/secrets.h). */
        struct tams_buf clear = TAMS_BUF_INIT(64 * 1024);
        int rc = tams_webhook_secret_open(app->webhook_secrets, o->url, o->api_key_name,
                                          o->api_key_sealed, &clear);

        if (rc == 0)
            tams_webhook_secret_seal(app->webhook_secrets, reg->url, reg->api_key_name, clear.data,
                                     sealed);
        OPENSSL_cleanse(clear.data, clear.len);
        tams_buf_release(&clear);
        if (rc) {
            tams_send_error(req, TAMS_ERR_CONFLICT,
                            "the stored api key does not open with this server's key: give "
                            "'api_key_value' to change the url");
            return -1;
        }
        rec->api_key_sealed = sealed->data;
    }
    return 0;
}

void webhook_put(struct tams_req *req)
{
    struct tams_app *app = req->app;
    struct tams_webhook_reg reg;
    struct tams_webhook_rec rec = {0};
    struct tams_buf why = TAMS_BUF_INIT(1024), doc = TAMS_BUF_INIT(1 << 20),
                    sealed = TAMS_BUF_INIT(64 * 1024);
    struct one o = {0};
    char key_id[TAMS_WEBHOOK_SECRET_ID_HEX + 1], addr[TAMS_SSRF_ADDRMAX];
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "webhook", &id))
        goto out0;
    if ((rc = tams_webhook_parse_as(req->json, TAMS_WEBHOOK_V82 | TAMS_WEBHOOK_PUT, &reg, &why))) {
        tams_send_error(req, rc, "%s", why.data);
        goto out0;
    }
    if (strcmp(reg.id, id) != 0) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body's 'id' is not the path's webhook id");
        goto out;
    }
    if (find_or_4xx(req, &o, &id, true))
        goto out;
    if (!(req->scopes & (TAMS_SCOPE_READ | TAMS_SCOPE_ADMIN))) {
        tams_send_error(req, TAMS_ERR_FORBIDDEN,
                        "a webhook needs the 'read' scope as well as 'write' (its events carry "
                        "what GET returns), which '%s' lacks",
                        req->principal ? req->principal : "this credential");
        goto out;
    }
    /* 8.2: an error SHOULD NOT become disabled; `created` starts it again. */
    if (strcmp(o.status, "error") == 0 && strcmp(reg.status, "disabled") == 0) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "webhook '%s' is in 'error': set 'created' to start it again", id);
        goto out;
    }
    if ((rc = tams_ssrf_resolve(reg.host, app->cfg->webhooks_allow_private, addr, &why))) {
        tams_send_error(req, rc, "%s", why.data);
        goto out;
    }
    rec.id = id;
    rec.url = reg.url;
    if (put_key(req, &reg, &o, &rec, key_id, &sealed))
        goto out;
    tams_webhook_doc(&reg, &doc);
    if (!tams_buf_ok(&doc)) {
        tams_send_error(req, TAMS_ERR_TOOBIG, "the webhook registration is too large");
        goto out;
    }
    rec.doc = doc.data;
    rec.status = reg.status;
    rec.owner = req->principal_id;
    rec.owner_scopes = req->scopes;
    rec.api = "8.2";
    rec.prefix = req->version_prefix ? req->version_prefix : "";
    /* The owner's change renews its scopes; an admin's leaves the owner as it is. */
    rc = tams_store_webhook_replace(
        app->store, &rec,
        !(req->principal_id && o.owner && strcmp(req->principal_id, o.owner) == 0) &&
            (o.owner || req->principal_id));
    if (rc == TAMS_ERR_CONFLICT)
        tams_send_error(req, rc, "another webhook has this url and api key");
    else if (rc)
        tams_send_error(req, rc, NULL);
    else
        tams_webhook_answer(req, id, 201);
out:
    tams_webhook_reg_release(&reg);
out0:
    tams_buf_release(&why);
    tams_buf_release(&doc);
    tams_buf_release(&sealed);
    one_release(&o);
}
