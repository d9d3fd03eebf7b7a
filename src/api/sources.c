/* SPDX-License-Identifier: Apache-2.0 */
/* sources.c - /sources, /sources/{sourceId} and its label, description and tags. */
#include "core/common.h"
#include "core/json.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/respond.h"
#include "store/flow_doc.h"
#include "tams/tag.h"

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

static void send_store_error(struct tams_req *req, int rc, const char *id)
{
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "source '%s' does not exist", id);
    else
        tams_send_error(req, rc, NULL);
}

static bool is_70(const struct tams_req *req)
{
    return req->api == TAMS_API_70;
}

struct list_ctx {
    struct tams_json *j;
    bool v70;
};

static int list_row(void *ctx, const struct tams_source_rec *rec)
{
    struct list_ctx *c = ctx;
    tams_source_doc_write(c->j, rec, c->v70);
    return 0;
}

void sources_list(struct tams_req *req)
{
    static const char *const known[] = {"label", "format", "page", "limit", NULL};
    static const char *const known_82[] = {
        "label", "format", "page", "limit", "sort_by", "reverse_order", "collected_by_ids", NULL};
    static const char *const sorts[] = {"created", "updated", "label", NULL};
    static const enum tams_sort_by sort_values[] = {TAMS_SORT_CREATED, TAMS_SORT_UPDATED,
                                                    TAMS_SORT_LABEL};
    struct tams_store *st = store_of(req);
    struct tams_source_filter f = {0};
    struct tams_paging pg;
    struct tams_tag_filter *tags = NULL;
    struct tams_page page;
    struct list_ctx ctx = {NULL, is_70(req)};
    int rc;

    if (tams_query_known_or_400(req, is_70(req) ? known : known_82, true) ||
        tams_query_format_or_400(req, "format", &f.format) ||
        tams_req_query_str_or_400(req, "label", &f.label) ||
        tams_tag_filters_or_400(req, &tags, &f.ntags))
        return;
    /* 8.2 lists newest first unless sort_by says otherwise (docs/tams-8.2-changes.md, 12) */
    if (!is_70(req) &&
        (tams_query_sort_or_400(req, sorts, sort_values, TAMS_SORT_CREATED, &f.sort, &f.reverse) ||
         tams_query_collected_or_400(req, "collected_by_ids", &f.collected_by)))
        return;
    if (tams_paging_parse_or_400(req, &pg))
        return;
    f.tags = tags;
    page = (struct tams_page){.after = pg.page, .limit = pg.limit, .next_key = &pg.next_key};
    ctx.j = tams_res_json(req);
    tams_json_arr_open(ctx.j);
    rc = tams_store_source_list(st, &f, &page, list_row, &ctx);
    if (rc) {
        tams_paging_send_error(req, rc);
        tams_paging_release(&pg);
        return;
    }
    tams_json_arr_close(ctx.j);
    rc = tams_paging_headers(req, &pg);
    tams_paging_release(&pg);
    if (!rc)
        tams_send_json_body(req, 200);
}

/* What a GET on a source (or one of its properties) answers. */
enum source_view { VIEW_SOURCE, VIEW_TAGS, VIEW_TAG, VIEW_LABEL, VIEW_DESCRIPTION };

struct get_ctx {
    struct tams_req *req;
    enum source_view view;
    const char *tag;
};

static int get_row(void *ctx, const struct tams_source_rec *r)
{
    struct get_ctx *c = ctx;
    struct tams_req *req = c->req;
    struct tams_json *j = tams_res_json(req);

    switch (c->view) {
    case VIEW_SOURCE:
        tams_source_doc_write(j, r, is_70(req));
        break;
    case VIEW_TAGS:
        tams_json_obj_open(j);
        for (size_t i = 0; i < r->ntags; i++) {
            tams_json_key(j, r->tags[i].name);
            tams_tag_write(j, &r->tags[i], is_70(req));
        }
        tams_json_obj_close(j);
        break;
    case VIEW_TAG:
        for (size_t i = 0; i < r->ntags; i++) {
            if (strcmp(r->tags[i].name, c->tag) == 0) {
                tams_tag_write(j, &r->tags[i], is_70(req));
                tams_send_json_body(req, 200);
                return 0;
            }
        }
        tams_send_error(req, TAMS_ERR_NOTFOUND, "source '%s' has no tag '%s'", r->id, c->tag);
        return 0;
    case VIEW_LABEL:
    case VIEW_DESCRIPTION: {
        const char *v = c->view == VIEW_LABEL ? r->label : r->description;
        if (!v) {
            tams_send_error(req, TAMS_ERR_NOTFOUND, "source '%s' has no %s", r->id,
                            c->view == VIEW_LABEL ? "label" : "description");
            return 0;
        }
        tams_json_str(j, v);
        break;
    }
    }
    tams_send_json_body(req, 200);
    return 0;
}

static void source_view(struct tams_req *req, enum source_view view)
{
    struct tams_store *st = store_of(req);
    struct get_ctx ctx = {req, view, view == VIEW_TAG ? req->params[1] : NULL};
    struct tams_doc_cache *cache = ((struct tams_app *)req->app)->source_cache;
    uint64_t gen = 0;
    const char *id;
    char key[TAMS_API_CACHE_KEY_MAX];
    int rc;

    if (tams_path_uuid_or_404(req, 0, "source", &id))
        return;
    /* The whole document is cached (see flow_get for why the generation is read first), once
     * per API version where they differ. */
    tams_api_cache_key(req, id, key);
    if (view == VIEW_SOURCE) {
        gen = tams_store_generation(st, id);
        tams_buf_reset(&req->out);
        if (tams_doc_cache_get(cache, key, gen, &req->out)) {
            tams_send_json_body(req, 200);
            return;
        }
    }
    rc = tams_store_source_get(st, id, get_row, &ctx);
    if (rc)
        send_store_error(req, rc, id);
    else if (view == VIEW_SOURCE && req->status == 200)
        tams_doc_cache_put(cache, key, gen, req->out.data, req->out.len);
}

void source_get(struct tams_req *req)
{
    source_view(req, VIEW_SOURCE);
}

void source_tags_get(struct tams_req *req)
{
    source_view(req, VIEW_TAGS);
}

void source_tag_get(struct tams_req *req)
{
    source_view(req, VIEW_TAG);
}

void source_label_get(struct tams_req *req)
{
    source_view(req, VIEW_LABEL);
}

void source_description_get(struct tams_req *req)
{
    source_view(req, VIEW_DESCRIPTION);
}

/* The body of a property PUT must be a JSON string. */
static const char *string_body_or_400(struct tams_req *req, const char *what)
{
    if (!json_object_is_type(req->json, json_type_string)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "%s must be a JSON string (with quotes)", what);
        return NULL;
    }
    if (tams_body_sane_or_400(req, req->json, what))
        return NULL;
    return json_object_get_string(req->json);
}

static void prop_write(struct tams_req *req, enum tams_source_prop prop, bool remove)
{
    struct tams_store *st = store_of(req);
    const char *id, *value = NULL;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "source", &id))
        return;
    if (!remove &&
        !(value = string_body_or_400(req, prop == TAMS_SOURCE_LABEL ? "label" : "description")))
        return;
    rc = tams_store_source_set_prop(st, id, prop, value, req->principal);
    if (rc)
        send_store_error(req, rc, id);
    else
        tams_send_empty(req, 204);
}

void source_label_put(struct tams_req *req)
{
    prop_write(req, TAMS_SOURCE_LABEL, false);
}

void source_label_delete(struct tams_req *req)
{
    prop_write(req, TAMS_SOURCE_LABEL, true);
}

void source_description_put(struct tams_req *req)
{
    prop_write(req, TAMS_SOURCE_DESCRIPTION, false);
}

void source_description_delete(struct tams_req *req)
{
    prop_write(req, TAMS_SOURCE_DESCRIPTION, true);
}

static void tag_write(struct tams_req *req, bool remove)
{
    struct tams_store *st = store_of(req);
    struct tams_tag tag = {.name = req->params[1]};
    const char *id;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "source", &id))
        return;
    if (!remove) {
        /* 8.2 takes a string or a list of strings, 7.0 a string. */
        if (!tams_tag_json_valid(req->json, !is_70(req))) {
            tams_send_error(req, TAMS_ERR_VALIDATION, "a tag value must be %s",
                            is_70(req) ? "a JSON string (with quotes)"
                                       : "a JSON string or an array of strings");
            return;
        }
        if (tams_body_sane_or_400(req, req->json, "a tag value"))
            return;
        tams_tag_from_json(req->json, tag.name, &tag, NULL);
    }
    rc = tams_store_source_set_tag(st, id, &tag, is_70(req), req->principal);
    tams_tag_release(&tag);
    if (rc == TAMS_ERR_NOTFOUND && remove)
        tams_send_error(req, rc, "source '%s' or its tag '%s' does not exist", id, tag.name);
    else if (rc == TAMS_ERR_CONFLICT)
        tams_send_error(req, rc, "tag '%s' holds several values; edit it through /tams/v8.2",
                        tag.name);
    else if (rc)
        send_store_error(req, rc, id);
    else
        tams_send_empty(req, 204);
}

void source_tag_put(struct tams_req *req)
{
    tag_write(req, false);
}

void source_tag_delete(struct tams_req *req)
{
    tag_write(req, true);
}
