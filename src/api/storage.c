/* SPDX-License-Identifier: Apache-2.0 */
/* storage.c - POST /flows/{flowId}/storage: allocate objects and hand out their put_urls. */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/random.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/params.h"
#include "http/respond.h"
#include "media/media.h"

#define OBJECT_ID_MAX 1024

/* The flow's container (the put_url content type), or an error sent. */
struct container_ctx {
    char container[256];
    bool found;
};

static int container_row(void *ctx, const struct tams_flow_rec *rec)
{
    struct container_ctx *c = ctx;
    json_object *doc = json_tokener_parse(rec->doc), *v = NULL;
    if (doc && json_object_object_get_ex(doc, "container", &v) &&
        json_object_is_type(v, json_type_string)) {
        snprintf(c->container, sizeof(c->container), "%s", json_object_get_string(v));
        c->found = true;
    }
    json_object_put(doc);
    return 0;
}

/* Parse the optional body. Sends the 400 and returns non-zero on a bad one. */
static int parse_body(struct tams_req *req, int64_t *limit, json_object **ids,
                      const char **storage_id, bool *presigned, const char **content_type)
{
    const struct tams_app *app = req->app;
    json_object *v;

    *limit = app->cfg->storage_limit_default;
    *ids = NULL;
    *storage_id = NULL;
    *presigned = true; /* tamsd's default, and all 7.0 knows */
    *content_type = NULL;
    if (!req->json && !req->body.len)
        return 0;                                            /* no body: the server default */
    if (!json_object_is_type(req->json, json_type_object)) { /* incl. a body of `null` */
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body must be a JSON object");
        return -1;
    }
    if (tams_body_sane_or_400(req, req->json, "storage request member"))
        return -1;
    if (json_object_object_get_ex(req->json, "limit", &v) &&
        json_object_object_get_ex(req->json, "object_ids", NULL)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "give either 'limit' or 'object_ids', not both");
        return -1;
    }
    if (json_object_object_get_ex(req->json, "limit", &v)) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1) {
            tams_send_error(req, TAMS_ERR_VALIDATION, "'limit' must be an integer >= 1");
            return -1;
        }
        *limit = json_object_get_int64(v);
        if (*limit > app->cfg->storage_limit_max)
            *limit = app->cfg->storage_limit_max;
    }
    if (json_object_object_get_ex(req->json, "object_ids", &v)) {
        size_t n;
        if (!json_object_is_type(v, json_type_array) || !(n = json_object_array_length(v))) {
            tams_send_error(req, TAMS_ERR_VALIDATION, "'object_ids' must be a non-empty array");
            return -1;
        }
        if (n > (size_t)app->cfg->storage_limit_max) {
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "'object_ids' may hold at most %d ids per request",
                            app->cfg->storage_limit_max);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            json_object *id = json_object_array_get_idx(v, i);
            const char *s = json_object_get_string(id);
            size_t len = (size_t)json_object_get_string_len(id);
            if (!json_object_is_type(id, json_type_string) || !len || len > OBJECT_ID_MAX ||
                strlen(s) != len) {
                tams_send_error(req, TAMS_ERR_VALIDATION,
                                "object_ids[%zu] must be a string of 1 to %d bytes without NUL", i,
                                OBJECT_ID_MAX);
                return -1;
            }
            for (size_t k = 0; k < i; k++) {
                if (strcmp(s, json_object_get_string(json_object_array_get_idx(v, k))) == 0) {
                    tams_send_error(req, TAMS_ERR_VALIDATION, "object id '%s' is given twice", s);
                    return -1;
                }
            }
        }
        *ids = v;
    }
    if (json_object_object_get_ex(req->json, "storage_id", &v)) {
        const char *s = json_object_get_string(v);
        if (!json_object_is_type(v, json_type_string) || !tams_uuid_valid(s, strlen(s))) {
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "'storage_id' must be a storage backend UUID");
            return -1;
        }
        *storage_id = s;
    }
    /* 8.2 (ADR0054); 7.0 has no such member and ignores it as any other it does not know. */
    if (req->api == TAMS_API_82 && json_object_object_get_ex(req->json, "presigned", &v)) {
        if (!json_object_is_type(v, json_type_boolean)) {
            tams_send_error(req, TAMS_ERR_VALIDATION, "'presigned' must be true or false");
            return -1;
        }
        *presigned = json_object_get_boolean(v);
    }
    /* 8.2: the put_urls' content type when it is not the flow's container (an init object's,
     * app note 24); 7.0 ignores it as any member it does not know. */
    if (req->api == TAMS_API_82 && json_object_object_get_ex(req->json, "content_type", &v)) {
        if (!json_object_is_type(v, json_type_string) ||
            !tams_mime_valid(json_object_get_string(v))) {
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "'content_type' must be a MIME type without parameters, such as "
                            "video/mp4");
            return -1;
        }
        *content_type = json_object_get_string(v);
    }
    return 0;
}

void flow_storage_post(struct tams_req *req)
{
    struct tams_app *app = req->app;
    struct tams_store *st = app->store;
    const struct tams_media_backend *b;
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct container_ctx cc = {.found = false};
    struct tams_object_alloc *objs = NULL;
    const char *flow_id, *storage_id;
    const char *base;
    json_object *ids;
    int64_t limit, now;
    size_t n;
    struct tams_json *j;
    bool presigned;
    const char *content_type;
    int rc;

    if (tams_path_uuid_or_404(req, 0, "flow", &flow_id) ||
        parse_body(req, &limit, &ids, &storage_id, &presigned, &content_type))
        return;
    b = storage_id ? tams_app_backend(app, storage_id) : tams_app_default_backend(app);
    if (!b) {
        if (storage_id)
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "storage backend '%s' does not exist; see /service/storage-backends",
                            storage_id);
        else
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "no storage backend is the default: give storage_id");
        return;
    }
    if (!presigned && !b->ops->put_url_unsigned) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "storage backend '%s' takes only the uploads tamsd signs: ask "
                        "'presigned': true, or choose another storage_id",
                        b->label ? b->label : b->id);
        return;
    }
    rc = tams_store_flow_get(st, flow_id, container_row, &cc);
    if (rc == TAMS_ERR_NOTFOUND) {
        tams_send_error(req, rc, "flow '%s' does not exist", flow_id);
        return;
    }
    if (rc) {
        tams_send_error(req, rc, NULL);
        return;
    }
    n = ids ? json_object_array_length(ids) : (size_t)limit;
    objs = tams_pool_alloc(&req->pool, n * sizeof(*objs));
    for (size_t i = 0; i < n; i++) {
        char *key = tams_pool_alloc(&req->pool, 48);
        tams_media_new_key(key);
        objs[i].key = key;
        if (ids) {
            objs[i].id = json_object_get_string(json_object_array_get_idx(ids, i));
        } else {
            char *id = tams_pool_alloc(&req->pool, TAMS_UUID_STRLEN + 1);
            tams_uuid_v4_ordered(id);
            objs[i].id = id;
        }
    }
    /* The store checks read-only, the container and duplicate ids in its transaction. */
    rc = tams_store_objects_allocate(st, flow_id, b->id, objs, n, &why);
    if (rc) {
        if (why.len)
            tams_send_error(req, rc, "%s", why.data);
        else
            tams_send_error(req, rc, NULL);
        tams_buf_release(&why);
        return;
    }
    tams_buf_release(&why);
    base = tams_req_base_url(req);
    now = tams_clock_wall_us() / 1000000;
    j = tams_res_json(req);
    tams_json_obj_open(j);
    tams_json_key(j, "media_objects");
    tams_json_arr_open(j);
    for (size_t i = 0; i < n; i++) {
        struct tams_buf url = TAMS_BUF_INIT(4096);
        if (presigned)
            b->ops->put_url(b, base, objs[i].key, now, &url);
        else
            b->ops->put_url_unsigned(b, objs[i].key, &url);
        tams_json_obj_open(j);
        tams_json_kstr(j, "object_id", objs[i].id);
        if (req->api == TAMS_API_82)
            tams_json_kbool(j, "presigned", presigned);
        tams_json_key(j, "put_url");
        tams_json_obj_open(j);
        tams_json_kstr(j, "url", url.data);
        tams_json_kstr(j, "content-type",
                       content_type ? content_type
                       : cc.found   ? cc.container
                                    : "application/octet-stream");
        if (b->put_headers) {
            tams_json_key(j, "headers");
            tams_json_obj_open(j);
            for (const char *const *h = b->put_headers; h[0]; h += 2)
                tams_json_kstr(j, h[0], h[1]);
            tams_json_obj_close(j);
        }
        tams_json_obj_close(j);
        tams_json_obj_close(j);
        tams_buf_release(&url);
    }
    tams_json_arr_close(j);
    tams_json_obj_close(j);
    tams_send_json_body(req, 201);
}
