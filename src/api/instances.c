/* SPDX-License-Identifier: Apache-2.0 */
/* instances.c - TAMS 8.2 object instances (ADR0038): POST and DELETE
 * /objects/{objectId}/instances. A copy into a backend is made within the request (the bytes
 * pass through the data directory, media/copy.h) and listed once it is complete. */
#include "core/common.h"
#include "core/log.h"
#include "core/random.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/params.h"
#include "http/respond.h"
#include "media/copy.h"

#define URL_MAX 8192
#define LABEL_MAX 256

/* Where a copy can come from: the object's own controlled instance, else a copy tamsd made.
 * Never a client's URL: tamsd does not fetch addresses clients give it. */
struct source {
    const struct tams_app *app;
    const char *want; /* the backend the copy is for */
    const struct tams_media_backend *b;
    char key[64];
    bool has_want;
};

static void take_source(struct source *s, const char *storage_id, const char *key)
{
    const struct tams_media_backend *b = tams_app_backend(s->app, storage_id);

    if (strcmp(storage_id, s->want) == 0)
        s->has_want = true;
    if (!s->b && b && key && strlen(key) < sizeof(s->key)) {
        s->b = b;
        snprintf(s->key, sizeof(s->key), "%s", key);
    }
}

static int source_row(void *ctx, const struct tams_object_inst *o)
{
    struct source *s = ctx;
    json_object *list = o->instances ? json_tokener_parse(o->instances) : NULL;
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

    if (o->controlled && o->storage_id)
        take_source(s, o->storage_id, o->key);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(list, i), *sid, *key;
        if (json_object_object_get_ex(it, "storage_id", &sid) &&
            json_object_object_get_ex(it, "key", &key))
            take_source(s, json_object_get_string(sid), json_object_get_string(key));
    }
    json_object_put(list);
    return 0;
}

static void send_store_error(struct tams_req *req, int rc, const struct tams_buf *why,
                             const char *id)
{
    if (rc == TAMS_ERR_NOTFOUND && !why->len)
        tams_send_error(req, rc, "object '%s' does not exist or no segment uses it yet", id);
    else if (rc == TAMS_ERR_CONFLICT) /* 8.2 names no 409 here: the request is what is wrong */
        tams_send_error(req, TAMS_ERR_VALIDATION, "%s", why->data);
    else if (why->len)
        tams_send_error(req, rc, "%s", why->data);
    else
        tams_send_error(req, rc, NULL);
}

static void add_copy(struct tams_req *req, const char *id, const char *storage_id)
{
    struct tams_app *app = req->app;
    struct source s = {.app = app, .want = storage_id};
    struct tams_buf why = TAMS_BUF_INIT(2048);
    const struct tams_media_backend *dst = tams_app_backend(app, storage_id);
    char key[48];
    int rc;

    if (!dst) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "storage backend '%s' does not exist; see /service/storage-backends",
                        storage_id);
        goto out;
    }
    if ((rc = tams_store_object_instances_get(app->store, id, source_row, &s))) {
        send_store_error(req, rc, &why, id);
        goto out;
    }
    if (s.has_want) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "object '%s' already has an instance in storage backend '%s'", id,
                        storage_id);
        goto out;
    }
    if (!s.b) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "object '%s' has no instance in a storage backend of this service to "
                        "copy from (tamsd does not fetch uncontrolled URLs)",
                        id);
        goto out;
    }
    tams_media_new_key(key);
    if ((rc = tams_media_copy(s.b, s.key, dst, key, app->cfg->data_dir, &why))) {
        tams_log_warn("object '%s': copy to storage backend '%s' failed: %s", id, storage_id,
                      why.data);
        tams_send_error(req, rc, "%s", why.data);
        goto out;
    }
    rc = tams_store_object_instance_add(app->store, id, storage_id, key, NULL, NULL, &why);
    if (rc) {
        /* The object went, or another copy won: these bytes are nobody's. */
        if (tams_store_media_trash(app->store, id, storage_id, key))
            tams_log_warn("object '%s': an unused copy '%s' is left in storage backend '%s'", id,
                          key, storage_id);
        send_store_error(req, rc, &why, id);
        goto out;
    }
    tams_send_empty(req, 201);
out:
    tams_buf_release(&why);
}

static bool text_ok(json_object *v, size_t max)
{
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    return json_object_is_type(v, json_type_string) && n && n <= max && strlen(s) == n;
}

static void add_url(struct tams_req *req, const char *id, json_object *url, json_object *label)
{
    struct tams_app *app = req->app;
    struct tams_buf why = TAMS_BUF_INIT(2048);
    const char *l;
    int rc;

    if (!url || !label || !text_ok(url, URL_MAX) || !text_ok(label, LABEL_MAX)) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "give 'storage_id', or 'url' (at most %d bytes) and 'label' (at most %d "
                        "bytes), as non-empty strings",
                        URL_MAX, LABEL_MAX);
        goto out;
    }
    l = json_object_get_string(label);
    for (size_t i = 0; i < app->nbackends; i++) {
        if (app->backends[i]->label && strcmp(app->backends[i]->label, l) == 0) {
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "label '%s' is a storage backend's: give the uncontrolled instance "
                            "another",
                            l);
            goto out;
        }
    }
    rc = tams_store_object_instance_add(app->store, id, NULL, NULL, json_object_get_string(url), l,
                                        &why);
    if (rc)
        send_store_error(req, rc, &why, id);
    else
        tams_send_empty(req, 201);
out:
    tams_buf_release(&why);
}

void object_instances_post(struct tams_req *req)
{
    const char *id = req->params[0];
    json_object *sid = NULL, *url = NULL, *label = NULL;

    if (!json_object_is_type(req->json, json_type_object)) {
        tams_send_error(req, TAMS_ERR_VALIDATION, "the body must be a JSON object");
        return;
    }
    if (tams_body_sane_or_400(req, req->json, "instance member"))
        return;
    json_object_object_get_ex(req->json, "storage_id", &sid);
    json_object_object_get_ex(req->json, "url", &url);
    json_object_object_get_ex(req->json, "label", &label);
    if (sid && (url || label)) {
        tams_send_error(req, TAMS_ERR_VALIDATION,
                        "give either 'storage_id' (a copy) or 'url' and 'label', not both");
        return;
    }
    if (sid) {
        const char *s = json_object_get_string(sid);
        if (!json_object_is_type(sid, json_type_string) || !tams_uuid_valid(s, strlen(s))) {
            tams_send_error(req, TAMS_ERR_VALIDATION,
                            "'storage_id' must be a storage backend UUID");
            return;
        }
        add_copy(req, id, s);
        return;
    }
    add_url(req, id, url, label);
}

void object_instances_delete(struct tams_req *req)
{
    static const char *const known[] = {"storage_id", "label", NULL};
    struct tams_app *app = req->app;
    struct tams_buf why = TAMS_BUF_INIT(2048);
    const char *id = req->params[0], *storage_id = NULL, *label = NULL;
    int rc;

    if (tams_query_known_or_400(req, known, false) ||
        tams_req_query_str_or_400(req, "storage_id", &storage_id) ||
        tams_req_query_str_or_400(req, "label", &label))
        goto out;
    if (!storage_id == !label) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "give one of 'storage_id' and 'label'");
        goto out;
    }
    if (storage_id && !tams_uuid_valid(storage_id, strlen(storage_id))) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "'storage_id' must be a storage backend UUID");
        goto out;
    }
    /* A backend's label names its instance (uncontrolled labels never are a backend's). */
    for (size_t i = 0; label && i < app->nbackends; i++) {
        if (app->backends[i]->label && strcmp(app->backends[i]->label, label) == 0) {
            storage_id = app->backends[i]->id;
            label = NULL;
        }
    }
    rc = tams_store_object_instance_remove(app->store, id, storage_id, label, &why);
    if (rc)
        send_store_error(req, rc, &why, id);
    else
        tams_send_empty(req, 204);
out:
    tams_buf_release(&why);
}
