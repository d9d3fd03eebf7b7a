/* SPDX-License-Identifier: Apache-2.0 */
/* get_urls.c - controlled and uncontrolled URLs of a segment, filtered. */
#include "core/common.h"
#include "media/get_urls.h"

#include <json-c/json.h>

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Does a URL with these attributes pass the filters? label/storage_id/tags may be NULL. */
static bool keep(const struct tams_get_urls_filter *f, const char *label, const char *storage_id,
                 const json_object *tags, bool presigned)
{
    if (f->none)
        return false;
    if (f->nbackend_tags && !tams_media_tags_match(tags, f->backend_tags, f->nbackend_tags))
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

static void write_controlled(struct tams_json *j, const struct tams_media_backend *b,
                             const char *key, const char *base_url,
                             const struct tams_get_urls_filter *f, int64_t now, bool *opened)
{
    struct tams_buf url = TAMS_BUF_INIT(4096);
    bool presigned = true; /* every backend hands out signed URLs */

    if (!keep(f, b->label, b->id, b->tags, presigned))
        return;
    if (b->ops->get_url(b, base_url, key, now, &url, &presigned) || !tams_buf_ok(&url))
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

/* Is name the label of an item of arr, or the controlled URL's (taken may be NULL)? */
static bool label_taken(json_object *arr, size_t n, const char *taken, const char *name)
{
    if (taken && strcmp(taken, name) == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        json_object *label;
        if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "label", &label) &&
            strcmp(json_object_get_string(label), name) == 0)
            return true;
    }
    return false;
}

/* The label an unlabelled item gets in the 8.2 view: "client", then "client-2"... the first
 * free one after those earlier unlabelled items took, so a list reads the same every time. */
static const char *made_label(json_object *arr, size_t n, const char *taken, unsigned *next,
                              char *buf, size_t size)
{
    for (;; (*next)++) {
        if (*next <= 1)
            snprintf(buf, size, "client");
        else
            snprintf(buf, size, "client-%u", *next);
        if (!label_taken(arr, n, taken, buf)) {
            (*next)++;
            return buf;
        }
    }
}

/* One {url, label} item; made is the label it is shown with when it has none (NULL: none). */
static void write_uncontrolled_item(struct tams_json *j, json_object *item, const char *made,
                                    const struct tams_get_urls_filter *f, bool *opened)
{
    json_object *url = NULL, *label = NULL;
    const char *ls;

    json_object_object_get_ex(item, "url", &url);
    json_object_object_get_ex(item, "label", &label);
    ls = label ? json_object_get_string(label) : made;
    if (!url || !keep(f, ls, NULL, NULL, false))
        return;
    open_list(j, opened);
    tams_json_obj_open(j);
    tams_json_kstr(j, "url", json_object_get_string(url));
    if (ls)
        tams_json_kstr(j, "label", ls);
    if (f->verbose)
        tams_json_kbool(j, "controlled", false);
    tams_json_obj_close(j);
}

static void write_uncontrolled(struct tams_json *j, const char *text, const char *taken,
                               const struct tams_get_urls_filter *f, bool *opened)
{
    json_object *arr = json_tokener_parse(text);
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    unsigned next = 1;
    char made[32];

    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        const char *m = NULL;
        if (f->name_unlabelled && !json_object_object_get_ex(item, "label", NULL))
            m = made_label(arr, n, taken, &next, made, sizeof(made));
        write_uncontrolled_item(j, item, m, f, opened);
    }
    json_object_put(arr);
}

static void write_instances(struct tams_json *j, const struct tams_get_urls_src *src,
                            const char *base_url, const struct tams_get_urls_filter *f, int64_t now,
                            bool *opened)
{
    json_object *arr = json_tokener_parse(src->instances);
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i), *sid = NULL, *key = NULL;
        const struct tams_media_backend *b;
        if (!json_object_object_get_ex(item, "storage_id", &sid)) {
            write_uncontrolled_item(j, item, NULL, f, opened); /* instances carry labels */
            continue;
        }
        json_object_object_get_ex(item, "key", &key);
        b = tams_media_find(src->backends, src->nbackends, json_object_get_string(sid));
        if (b && key) /* a copy in a backend no longer configured is not served */
            write_controlled(j, b, json_object_get_string(key), base_url, f, now, opened);
    }
    json_object_put(arr);
}

void tams_get_urls_write(struct tams_json *j, const struct tams_get_urls_src *src,
                         const char *base_url, const struct tams_get_urls_filter *f, int64_t now)
{
    bool opened = false;
    if (f->none)
        return;
    if (src->backend)
        write_controlled(j, src->backend, src->key, base_url, f, now, &opened);
    if (src->instances)
        write_instances(j, src, base_url, f, now, &opened);
    if (src->uncontrolled)
        write_uncontrolled(j, src->uncontrolled, src->backend ? src->backend->label : NULL, f,
                           &opened);
    if (opened)
        tams_json_arr_close(j);
}
