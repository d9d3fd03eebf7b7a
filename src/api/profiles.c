/* SPDX-License-Identifier: Apache-2.0 */
/* profiles.c - /service/profiles and /service/profiles/{profileId} (TAMS 8.2 only), and the
 * Profile a Flow is made from. */
#include "core/common.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "api/profiles.h"
#include "core/random.h"
#include "http/respond.h"
#include "store/profiles.h"
#include "tams/flow.h"

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

/* The members of flow-technical.json and the variants: what a Profile fixes. */
static const char *const technical[] = {
    "format",
    "codec",
    "container",
    "avg_bit_rate",
    "segment_duration",
    "container_mapping",
    "essence_parameters",
    NULL,
};

static const char *const profile_formats[] = {"urn:x-nmos:format:video", "urn:x-tam:format:image",
                                              "urn:x-nmos:format:audio", "urn:x-nmos:format:data",
                                              NULL};

static json_object *member(json_object *o, const char *name)
{
    json_object *v = NULL;

    return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, name, &v)
               ? v
               : NULL;
}

static bool same(json_object *a, json_object *b)
{
    return (!a && !b) || (a && b && json_object_equal(a, b));
}

/* Does doc carry exactly the Profile's technical metadata (or none of it, when bare)? */
static bool matches(json_object *doc, json_object *fm, bool allow_bare)
{
    bool bare = true, equal = true;
    struct json_object_iterator it, end;

    for (size_t i = 0; technical[i]; i++) {
        bare = bare && !member(doc, technical[i]);
        equal = equal && same(member(doc, technical[i]), member(fm, technical[i]));
    }
    it = json_object_iter_begin(fm);
    end = json_object_iter_end(fm);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        bare = bare && !member(doc, k);
        equal = equal && same(member(doc, k), json_object_iter_peek_value(&it));
    }
    return equal || (allow_bare && bare);
}

static int profile_row(void *ctx, const struct tams_profile_rec *rec)
{
    *(json_object **)ctx = json_tokener_parse(rec->doc);
    return 0;
}

/* The stored Profile's flow_metadata, NULL when there is no such Profile. The caller puts the
 * returned document (*owner). */
static json_object *flow_metadata_of(struct tams_store *st, const char *id, json_object **owner,
                                     int *rc)
{
    *owner = NULL;
    *rc = tams_store_profile_get(st, id, profile_row, owner);
    if (*rc == TAMS_ERR_NOTFOUND)
        *rc = 0;
    return member(*owner, "flow_metadata");
}

int flow_profile_apply_or_400(struct tams_req *req, json_object *doc)
{
    json_object *pid = member(doc, "profile_id"), *owner, *fm;
    struct json_object_iterator it, end;
    const char *id;
    int rc;

    if (!pid)
        return 0;
    if (json_object_is_type(pid, json_type_string) && json_object_get_string_len(pid) == 0) {
        json_object_object_del(doc, "profile_id");
        return 0;
    }
    id = json_object_get_string(pid);
    if (!json_object_is_type(pid, json_type_string) ||
        !tams_uuid_valid(id, (size_t)json_object_get_string_len(pid))) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "profile_id must be a UUID, or \"\"");
        return -1;
    }
    fm = flow_metadata_of(store_of(req), id, &owner, &rc);
    if (rc) {
        tams_send_error(req, rc, NULL);
    } else if (!fm) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "profile '%s' does not exist", id);
        rc = -1;
    } else if (!matches(doc, fm, true)) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "a flow made from profile '%s' takes its technical metadata from it: give"
                        " none, or set profile_id to \"\" to change it",
                        id);
        rc = -1;
    } else {
        it = json_object_iter_begin(fm);
        end = json_object_iter_end(fm);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
            json_object_object_add(doc, json_object_iter_peek_name(&it),
                                   json_object_get(json_object_iter_peek_value(&it)));
    }
    json_object_put(owner);
    return rc ? -1 : 0;
}

int flow_profile_keep70(struct tams_store *st, json_object *doc, json_object *stored)
{
    json_object *pid = member(stored, "profile_id"), *owner, *fm;
    int rc;

    if (!pid || !json_object_is_type(pid, json_type_string))
        return 0;
    fm = flow_metadata_of(st, json_object_get_string(pid), &owner, &rc);
    if (!rc && fm && matches(doc, fm, false))
        json_object_object_add(doc, "profile_id", json_object_get(pid));
    json_object_put(owner);
    return rc;
}

/* ---- rendering ----------------------------------------------------------------------------- */

static json_object *render(const struct tams_profile_rec *rec)
{
    json_object *doc = json_tokener_parse(rec->doc);

    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        return NULL;
    }
    json_object_object_add(doc, "created", json_object_new_string(rec->created));
    if (rec->created_by)
        json_object_object_add(doc, "created_by", json_object_new_string(rec->created_by));
    return doc;
}

static void send_doc(struct tams_req *req, int status, json_object *doc)
{
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);

    tams_send_json_text(req, status, text, strlen(text));
}

static int list_row(void *ctx, const struct tams_profile_rec *rec)
{
    json_object *doc = render(rec);

    if (!doc)
        return TAMS_ERR_STORE;
    json_object_array_add(ctx, doc);
    return 0;
}

void profiles_list(struct tams_req *req)
{
    static const char *const known[] = {"label", "format", "codec", "page", "limit", NULL};
    struct tams_profile_filter f = {0};
    struct tams_paging pg;
    struct tams_page page;
    json_object *arr;
    int rc;

    if (tams_query_known_or_400(req, known, false) ||
        tams_req_query_str_or_400(req, "label", &f.label) ||
        tams_query_format_or_400(req, "format", &f.format) ||
        tams_req_query_str_or_400(req, "codec", &f.codec))
        return;
    if (f.codec && !tams_mime_valid(f.codec)) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter 'codec' must be a MIME type such as video/h264, not '%s'",
                        f.codec);
        return;
    }
    if (tams_paging_parse_or_400(req, &pg))
        return;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    arr = json_object_new_array();
    rc = tams_store_profile_list(store_of(req), &f, &page, list_row, arr);
    if (rc)
        tams_paging_send_error(req, rc);
    else if (!tams_paging_headers(req, &pg))
        send_doc(req, 200, arr);
    json_object_put(arr);
    tams_paging_release(&pg);
}

struct get_ctx {
    struct tams_req *req;
    int status;
};

static int get_row(void *ctx, const struct tams_profile_rec *rec)
{
    struct get_ctx *c = ctx;
    json_object *doc = render(rec);

    if (!doc)
        return TAMS_ERR_STORE;
    send_doc(c->req, c->status, doc);
    json_object_put(doc);
    return 0;
}

void profile_get(struct tams_req *req)
{
    struct get_ctx ctx = {req, 200};
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "profile", &id))
        return;
    rc = tams_store_profile_get(store_of(req), id, get_row, &ctx);
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "profile '%s' does not exist", id);
    else if (rc)
        tams_send_error(req, rc, NULL);
}

/* ---- POST /service/profiles/{profileId} ------------------------------------------------------ */

static bool tags_valid(json_object *tags)
{
    struct json_object_iterator it, end;

    if (!json_object_is_type(tags, json_type_object))
        return false;
    it = json_object_iter_begin(tags);
    end = json_object_iter_end(tags);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        json_object *v = json_object_iter_peek_value(&it);
        if (json_object_is_type(v, json_type_string))
            continue;
        if (!json_object_is_type(v, json_type_array))
            return false;
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                return false;
    }
    return true;
}

static bool is_profile_format(json_object *f)
{
    for (size_t i = 0; f && profile_formats[i]; i++)
        if (json_object_is_type(f, json_type_string) &&
            strcmp(json_object_get_string(f), profile_formats[i]) == 0)
            return true;
    return false;
}

/* profile.json: 0, or -1 with the 400 sent. flow_metadata is checked as the technical part of
 * an 8.2 Flow of the same id. */
static int profile_valid_or_400(struct tams_req *req, json_object *doc, const char *id)
{
    struct tams_buf why = TAMS_BUF_INIT(512);
    json_object *fm = member(doc, "flow_metadata"), *v, *flow;
    struct json_object_iterator it, end;
    int rc;

    if ((v = member(doc, "id")) &&
        (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), id) != 0)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body's id differs from the path's '%s'", id);
        return -1;
    }
    for (size_t i = 0; i < 2; i++) {
        const char *name = i ? "description" : "label";
        if ((v = member(doc, name)) && !json_object_is_type(v, json_type_string)) {
            tams_send_error(req, TAMS_ERR_VALIDATION, "%s must be a string", name);
            return -1;
        }
    }
    if ((v = member(doc, "tags")) && !tags_valid(v)) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "tags must be an object of strings or arrays of strings");
        return -1;
    }
    if (!json_object_is_type(fm, json_type_object)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "flow_metadata is required (an object)");
        return -1;
    }
    if (!is_profile_format(member(fm, "format"))) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "flow_metadata.format must be one of urn:x-nmos:format:video,"
                        " urn:x-tam:format:image, urn:x-nmos:format:audio, urn:x-nmos:format:data");
        return -1;
    }
    flow = json_object_new_object();
    json_object_object_add(flow, "id", json_object_new_string(id));
    json_object_object_add(flow, "source_id", json_object_new_string(id));
    it = json_object_iter_begin(fm);
    end = json_object_iter_end(fm);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        json_object_object_add(flow, json_object_iter_peek_name(&it),
                               json_object_get(json_object_iter_peek_value(&it)));
    rc = tams_flow_validate_rules(flow, TAMS_FLOW_RULES_82, &why);
    if (rc)
        tams_send_error(req, rc, "flow_metadata: %s", why.len ? why.data : "invalid");
    json_object_put(flow);
    tams_buf_release(&why);
    return rc ? -1 : 0;
}

void profile_post(struct tams_req *req)
{
    json_object *doc = req->json, *fm;
    const char *id, *text;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "profile", &id))
        return;
    if (!json_object_is_type(doc, json_type_object)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body must be a Profile JSON object");
        return;
    }
    json_object_object_del(doc, "created");
    json_object_object_del(doc, "created_by");
    if (tams_body_sane_or_400(req, doc, "Profile member") || profile_valid_or_400(req, doc, id))
        return;
    json_object_object_add(doc, "id", json_object_new_string(id));
    fm = member(doc, "flow_metadata");
    text = json_object_to_json_string_ext(doc,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = tams_store_profile_create(
        store_of(req), id,
        member(doc, "label") ? json_object_get_string(member(doc, "label")) : NULL,
        json_object_get_string(member(fm, "format")),
        member(fm, "codec") ? json_object_get_string(member(fm, "codec")) : NULL, text,
        req->principal);
    if (rc == TAMS_ERR_CONFLICT) {
        /* The spec's answer for an existing Profile: they are immutable. */
        tams_send_error(req, TAMS_ERR_VALIDATION, "profile '%s' already exists", id);
        return;
    }
    if (rc) {
        tams_send_error(req, rc, NULL);
        return;
    }
    rc = tams_store_profile_get(store_of(req), id, get_row, &(struct get_ctx){req, 201});
    if (rc)
        tams_send_error(req, rc, NULL);
}
