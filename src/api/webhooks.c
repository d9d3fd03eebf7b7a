/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks.c - POST /service/webhooks in both versions (notes §1.1, §2.12, §8.1), and what
 * older releases left. */
#include "core/common.h"
#include "core/log.h"
#include "core/random.h"
#include "api/app.h"
#include "auth/auth.h"
#include "auth/scopes.h"
#include "api/handlers.h"
#include "events/secrets.h"
#include "events/ssrf.h"
#include "events/webhook.h"
#include "http/respond.h"

#include <json-c/json.h>
#include <openssl/crypto.h>

#define LEGACY "legacy:"
#define KEY_CHECK "webhook_key_check" /* a store setting */

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* A webhook belongs to the principal that registered it (namespaced by kind, so a JWT
 * subject "alice" is not the user alice): only it, or an admin, sees or changes it (notes
 * §8.1). Without authentication every request has every scope, admin included. */
bool tams_webhook_may_touch(const struct tams_req *req, const char *owner)
{
    if (req->scopes & TAMS_SCOPE_ADMIN)
        return true;
    return req->principal_id && owner && strcmp(req->principal_id, owner) == 0;
}

/* R2: a 7.0 registration of a webhook that exists keeps what 7.0 has no name for (its tags,
 * include_object_timerange), and one in `error` starts again (a 7.0 client that registers
 * wants deliveries; one `disabled` through 8.2 stays so). */
struct merge70 {
    const char *doc; /* the 7.0 body as stored */
};

static int merge_70(void *ctx, const struct tams_webhook_rec *old, struct tams_webhook_merged *out)
{
    struct merge70 *m = ctx;
    json_object *was, *now;
    bool any = false;

    if (!old)
        return 0;
    if (strcmp(old->status, "error") == 0)
        out->status = "created";
    was = json_tokener_parse(old->doc);
    now = json_tokener_parse(m->doc);
    if (json_object_is_type(was, json_type_object) && json_object_is_type(now, json_type_object)) {
        json_object_object_foreach(was, key, val)
        {
            if (!tams_webhook_member_82(key))
                continue;
            json_object_object_add(now, key, json_object_get(val));
            any = true;
        }
    }
    if (any)
        out->doc = tams_strdup(json_object_to_json_string_ext(
            now, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(was);
    json_object_put(now);
    return 0;
}

/* The answer to an 8.2 POST or PUT: the webhook as stored now. */
static int answer_row(void *ctx, const struct tams_webhook_rec *rec)
{
    struct tams_req *req = ctx;
    struct tams_buf *b = &req->out;

    tams_buf_reset(b);
    tams_webhook_view(b, rec->doc, true, rec->id, rec->status, rec->error);
    return 0;
}

void tams_webhook_answer(struct tams_req *req, const char *id, int status)
{
    int rc = tams_store_webhook_get(store_of(req), id, answer_row, req);

    if (rc)
        tams_send_error(req, rc, NULL);
    else
        tams_send_out(req, status, "application/json");
}

void webhooks_post(struct tams_req *req)
{
    struct tams_app *app = req->app;
    struct tams_store *st = store_of(req);
    struct tams_webhook_reg reg;
    struct tams_buf why = TAMS_BUF_INIT(1024), doc = TAMS_BUF_INIT(1 << 20),
                    sealed = TAMS_BUF_INIT(64 * 1024), legacy = TAMS_BUF_INIT(1024);
    struct tams_webhook_rec rec = {0};
    struct tams_webhook_caller caller = {
        .admin = (req->scopes & TAMS_SCOPE_ADMIN) != 0,
        .max_per_owner = app->cfg->webhooks_per_owner_max,
    };
    enum tams_webhook_put_result result;
    bool v82 = req->api == TAMS_API_82, removal;
    struct merge70 m = {0};
    char id[TAMS_UUID_STRLEN + 1], addr[TAMS_SSRF_ADDRMAX];
    char key_id[TAMS_WEBHOOK_SECRET_ID_HEX + 1];
    int rc;

    if ((rc = tams_webhook_parse_as(req->json, v82 ? TAMS_WEBHOOK_V82 : 0, &reg, &why))) {
        tams_send_error(req, rc, "%s", why.data);
        goto out0;
    }
    /* 7.0's rule: empty events remove the registration. 8.2 has DELETE for that, and a
     * webhook without events is a webhook. */
    removal = !v82 && !reg.events;
    /* A webhook is a read channel: its events carry what GET returns. A removal reads
     * nothing. */
    if (!removal && !(req->scopes & (TAMS_SCOPE_READ | TAMS_SCOPE_ADMIN))) {
        tams_send_error(req, TAMS_ERR_FORBIDDEN,
                        "registering a webhook needs the 'read' scope as well as 'write' (its "
                        "events carry what GET returns), which '%s' lacks",
                        req->principal ? req->principal : "this credential");
        goto out;
    }
    /* SSRF: every address of the host must be public (re-checked at each delivery). A removal
     * contacts nobody, so it is not checked. */
    if (!removal &&
        (rc = tams_ssrf_resolve(reg.host, app->cfg->webhooks_allow_private, addr, &why))) {
        tams_send_error(req, rc, "%s", why.data);
        goto out;
    }
    tams_uuid_v4(id);
    rec.id = id;
    rec.url = reg.url;
    rec.api_key_name = reg.api_key_name;
    if (reg.api_key_value) {
        tams_webhook_secret_id(app->webhook_secrets, reg.api_key_value, key_id);
        rec.api_key_id = key_id;
        if (!removal) {
            tams_webhook_secret_seal(app->webhook_secrets, reg.url, reg.api_key_name,
                                     reg.api_key_value, &sealed);
            rec.api_key_sealed = sealed.data;
        }
    }
    rec.owner = req->principal_id;
    rec.owner_scopes = req->scopes;
    /* 8.2 names the status ("created" when not given); a 7.0 update keeps it. */
    rec.status = v82 ? (reg.status ? reg.status : "created") : NULL;
    rec.api = v82 ? "8.2" : "7.0";
    rec.prefix = req->version_prefix ? req->version_prefix : "";
    if (req->principal) {
        tams_buf_addf(&legacy, LEGACY "%s", req->principal);
        caller.legacy = legacy.data;
    }
    if (!removal) {
        tams_webhook_doc(&reg, &doc);
        if (!tams_buf_ok(&doc)) {
            tams_send_error(req, TAMS_ERR_TOOBIG, "the webhook registration is too large");
            goto out;
        }
        rec.doc = doc.data;
        m.doc = doc.data;
    }
    rc = tams_store_webhook_register(st, &rec, &caller, v82 ? NULL : merge_70, &m, &result, id);
    if (rc == TAMS_ERR_FORBIDDEN)
        tams_send_error(req, rc, "this webhook was registered by another principal");
    else if (rc == TAMS_ERR_BADREQUEST)
        tams_send_error(req, rc,
                        "'%s' has %d webhooks already, the most one principal may register "
                        "(webhooks_per_owner_max); remove one first",
                        req->principal ? req->principal : "anonymous",
                        app->cfg->webhooks_per_owner_max);
    else if (rc)
        tams_send_error(req, rc, NULL);
    else if (v82)
        tams_webhook_answer(req, id, 201);
    else
        tams_send_empty(req, result == TAMS_WEBHOOK_REMOVED ? 204 : 201);
out:
    tams_webhook_reg_release(&reg);
out0:
    tams_buf_release(&why);
    tams_buf_release(&doc);
    tams_buf_release(&sealed);
    tams_buf_release(&legacy);
}

/* ---- what older releases left ---------------------------------------------------------- */

struct old_row {
    char *id, *url, *name, *clear, *owner;
};

struct old_rows {
    struct old_row *v;
    size_t n;
    size_t nsealed; /* rows with a sealed key */
};

static int collect_old(void *ctx, const struct tams_webhook_rec *rec)
{
    struct old_rows *r = ctx;
    bool legacy = rec->owner && strncmp(rec->owner, LEGACY, strlen(LEGACY)) == 0;

    r->nsealed += rec->api_key_sealed != NULL;
    if (!legacy && !rec->api_key_value)
        return 0;
    r->v = tams_realloc(r->v, tams_st_mult(r->n + 1, sizeof(*r->v)));
    r->v[r->n++] = (struct old_row){
        tams_strdup(rec->id),
        tams_strdup(rec->url),
        rec->api_key_name ? tams_strdup(rec->api_key_name) : NULL,
        rec->api_key_value ? tams_strdup(rec->api_key_value) : NULL,
        legacy ? tams_strdup(rec->owner) : NULL,
    };
    return 0;
}

/* "legacy:NAME" becomes the user or token NAME where one exists; the rest stay. */
static int map_owners(struct tams_store *st, struct tams_auth *auth, struct old_rows *r,
                      size_t *left)
{
    char to[TAMS_AUTH_PRINCIPAL_MAX];
    int rc = 0;

    for (size_t i = 0; i < r->n && !rc; i++) {
        const char *from = r->v[i].owner;
        int64_t n = 0;
        bool seen = false;

        for (size_t k = 0; k < i && !seen; k++)
            seen = r->v[k].owner && from && strcmp(r->v[k].owner, from) == 0;
        if (!from || seen)
            continue;
        if (tams_auth_legacy_owner(auth, from + strlen(LEGACY), to, sizeof(to)) == 0) {
            rc = tams_store_webhook_set_owner(st, from, to, &n);
            if (!rc)
                tams_log_info("webhooks of '%s' (an older release's owner) now belong to '%s'",
                              from + strlen(LEGACY), to);
        } else {
            for (size_t k = i; k < r->n; k++)
                *left += r->v[k].owner && strcmp(r->v[k].owner, from) == 0;
        }
    }
    return rc;
}

static int seal_clear(struct tams_store *st, const struct tams_webhook_secrets *sec,
                      struct old_rows *r, size_t *sealed_n)
{
    char key_id[TAMS_WEBHOOK_SECRET_ID_HEX + 1];
    int rc = 0;

    for (size_t i = 0; i < r->n && !rc; i++) {
        struct tams_buf sealed = TAMS_BUF_INIT(64 * 1024);
        if (!r->v[i].clear)
            continue;
        tams_webhook_secret_id(sec, r->v[i].clear, key_id);
        tams_webhook_secret_seal(sec, r->v[i].url, r->v[i].name, r->v[i].clear, &sealed);
        rc = tams_store_webhook_seal(st, r->v[i].id, r->v[i].clear, key_id, sealed.data);
        if (rc == TAMS_ERR_NOTFOUND) /* removed or sealed by another instance meanwhile */
            rc = 0;
        else if (!rc)
            ++*sealed_n;
        tams_buf_release(&sealed);
    }
    return rc;
}

/* The store remembers a keyed hash of a fixed text: a key that does not make it cannot open
 * what is sealed there (another instance's key, a lost key file), and the log says so at
 * once rather than at each delivery. */
static int check_key(struct tams_store *st, const struct tams_webhook_secrets *sec, size_t nsealed)
{
    struct tams_buf v = TAMS_BUF_INIT(256);
    char mine[TAMS_WEBHOOK_SECRET_ID_HEX + 1];
    int rc = tams_store_setting_get(st, KEY_CHECK, &v);

    tams_webhook_secret_id(sec, KEY_CHECK, mine);
    if (rc == 0 && strcmp(v.data, mine) != 0 && nsealed) {
        tams_log_error("the webhook key (webhook_secret_key, else DATA_DIR/" TAMS_WEBHOOK_KEY_FILE
                       ") is not the one this store's %zu sealed webhook api key(s) were sealed "
                       "with: those webhooks cannot be delivered until it is restored",
                       nsealed);
    } else if ((rc == 0 && strcmp(v.data, mine) != 0) || rc == TAMS_ERR_NOTFOUND) {
        rc = tams_store_setting_set(st, KEY_CHECK, mine);
    }
    tams_buf_release(&v);
    return rc;
}

int tams_webhooks_upgrade(struct tams_store *st, struct tams_auth *auth,
                          const struct tams_webhook_secrets *sec, struct tams_buf *why)
{
    struct old_rows r = {0};
    size_t left = 0, sealed_n = 0;
    int rc = tams_store_webhook_list(st, collect_old, &r);

    if (!rc)
        rc = check_key(st, sec, r.nsealed);
    if (!rc)
        rc = map_owners(st, auth, &r, &left);
    if (!rc)
        rc = seal_clear(st, sec, &r, &sealed_n);
    if (rc)
        tams_buf_addf(why, "cannot upgrade the webhooks of an older release: %s",
                      tams_strerror(rc));
    if (sealed_n)
        tams_log_info("sealed the api keys of %zu webhook(s) an older release kept in clear",
                      sealed_n);
    if (left)
        tams_log_warn("%zu webhook(s) of an older release belong to a name no user or token "
                      "has: only admins see them and they are not delivered until their owner "
                      "registers them again (docs/authentication.md)",
                      left);
    for (size_t i = 0; i < r.n; i++) {
        tams_free(r.v[i].id);
        tams_free(r.v[i].url);
        tams_free(r.v[i].name);
        if (r.v[i].clear)
            OPENSSL_cleanse(r.v[i].clear, strlen(r.v[i].clear));
        tams_free(r.v[i].clear);
        tams_free(r.v[i].owner);
    }
    tams_free(r.v);
    return rc;
}
