/* SPDX-License-Identifier: Apache-2.0 */
/* get_urls.c - controlled and uncontrolled URLs of a segment, filtered. */
#include "core/common.h"
#include "core/random.h"
#include "api/get_urls.h"
#include "http/respond.h"

/* Split a comma list into pool strings; empty items are an error. */
static int split_list(struct tams_req *req, const char *v, const char ***out, size_t *n)
{
    size_t count = 1, i = 0;
    const char **items;
    for (const char *p = v; *p; p++)
        count += *p == ',';
    items = tams_pool_alloc(&req->pool, count * sizeof(*items));
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!len)
            return -1;
        items[i++] = tams_pool_strndup(&req->pool, p, len);
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = items;
    *n = i;
    return 0;
}

int tams_get_urls_filter_or_400(struct tams_req *req, struct tams_get_urls_filter *f)
{
    const char *labels = NULL, *ids = NULL;
    bool presigned = false, has_presigned;
    const char **list;
    size_t n;

    *f = (struct tams_get_urls_filter){.presigned = -1};
    if (tams_req_query_str_or_400(req, "accept_get_urls", &labels) ||
        tams_req_query_str_or_400(req, "accept_storage_ids", &ids) ||
        tams_req_query_bool_or_400(req, "verbose_storage", &f->verbose))
        return -1;
    has_presigned = tams_req_query_get(req, "presigned") != NULL;
    if (tams_req_query_bool_or_400(req, "presigned", &presigned))
        return -1;
    if (has_presigned)
        f->presigned = presigned;
    if (labels && !*labels) {
        f->none = true;
    } else if (labels) {
        if (split_list(req, labels, &list, &n)) {
            tams_send_error(req, TAMS_ERR_BADQUERY,
                            "query parameter 'accept_get_urls' must be a comma-separated list "
                            "of labels without empty items, not '%s'",
                            labels);
            return -1;
        }
        f->labels = list;
        f->nlabels = n;
    }
    /* Empty accept_storage_ids means no filtering (the 7.0 prose; its regex disagrees). */
    if (ids && *ids) {
        if (split_list(req, ids, &list, &n))
            goto bad_ids;
        for (size_t i = 0; i < n; i++)
            if (!tams_uuid_valid(list[i], strlen(list[i])))
                goto bad_ids;
        f->storage_ids = list;
        f->nstorage_ids = n;
    }
    return 0;
bad_ids:
    tams_send_error(req, TAMS_ERR_BADQUERY,
                    "query parameter 'accept_storage_ids' must be a comma-separated list of "
                    "storage backend UUIDs, not '%s'",
                    ids);
    return -1;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Does a URL with these attributes pass the filters? label/storage_id may be NULL. */
static bool keep(const struct tams_get_urls_filter *f, const char *label, const char *storage_id,
                 bool presigned)
{
    if (f->none)
        return false;
    if (f->labels && !(label && in_list(f->labels, f->nlabels, label)))
        return false;
    if (f->storage_ids && !(storage_id && in_list(f->storage_ids, f->nstorage_ids, storage_id)))
        return false;
    return f->presigned < 0 || f->presigned == (int)presigned;
}

static void open_list(struct tams_json *j, bool *opened)
{
    if (*opened)
        return;
    tams_json_key(j, "get_urls");
    tams_json_arr_open(j);
    *opened = true;
}

static void write_controlled(struct tams_json *j, const struct tams_app *app, const char *base_url,
                             const struct tams_segment_rec *rec,
                             const struct tams_get_urls_filter *f, int64_t now, bool *opened)
{
    const struct tams_media_backend *b = tams_app_backend(app, rec->storage_id);
    struct tams_buf url = TAMS_BUF_INIT(4096);
    bool presigned = true; /* every backend hands out signed URLs */

    if (!b)
        return; /* a backend no longer configured: nothing to offer */
    if (!keep(f, b->label, b->id, presigned))
        return;
    if (b->ops->get_url(b, base_url, rec->key, now, &url, &presigned) || !tams_buf_ok(&url))
        goto out;
    open_list(j, opened);
    tams_json_obj_open(j);
    tams_json_kstr(j, "url", url.data);
    tams_json_kstr(j, "label", b->label);
    tams_json_kbool(j, "presigned", presigned);
    if (f->verbose) {
        tams_json_kstr(j, "storage_id", b->id);
        tams_json_kbool(j, "controlled", true);
        tams_json_kstr(j, "store_type", "http_object_store");
        if (b->provider)
            tams_json_kstr(j, "provider", b->provider);
        if (b->region)
            tams_json_kstr(j, "region", b->region);
        if (b->availability_zone)
            tams_json_kstr(j, "availability_zone", b->availability_zone);
        if (b->store_product)
            tams_json_kstr(j, "store_product", b->store_product);
    }
    tams_json_obj_close(j);
out:
    tams_buf_release(&url);
}

static void write_uncontrolled(struct tams_json *j, const char *text,
                               const struct tams_get_urls_filter *f, bool *opened)
{
    json_object *arr = json_tokener_parse(text);
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i), *url = NULL, *label = NULL;
        const char *ls;
        json_object_object_get_ex(item, "url", &url);
        json_object_object_get_ex(item, "label", &label);
        ls = label ? json_object_get_string(label) : NULL;
        if (!url || !keep(f, ls, NULL, false))
            continue;
        open_list(j, opened);
        tams_json_obj_open(j);
        tams_json_kstr(j, "url", json_object_get_string(url));
        if (ls)
            tams_json_kstr(j, "label", ls);
        if (f->verbose)
            tams_json_kbool(j, "controlled", false);
        tams_json_obj_close(j);
    }
    json_object_put(arr);
}

void tams_get_urls_write(struct tams_json *j, const struct tams_app *app, const char *base_url,
                         const struct tams_segment_rec *rec, const struct tams_get_urls_filter *f,
                         int64_t now)
{
    bool opened = false;
    if (f->none)
        return;
    if (rec->controlled)
        write_controlled(j, app, base_url, rec, f, now, &opened);
    if (rec->seg.get_urls)
        write_uncontrolled(j, rec->seg.get_urls, f, &opened);
    if (opened)
        tams_json_arr_close(j);
}
