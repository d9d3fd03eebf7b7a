/* SPDX-License-Identifier: Apache-2.0 */
/* message.c - webhook message bodies, with get_urls shaped per registration. */
#include "core/common.h"
#include "core/clock.h"
#include "core/json.h"
#include "events/message.h"
#include "media/get_urls.h"
#include "store/outbox.h"
#include "tams/flow_v82.h"
#include "tams/tag.h"

#include <json-c/json.h>

/* Where the stored "_object" or "_init" obj says the bytes are. */
static void where(const struct tams_message_urls *urls, json_object *obj,
                  struct tams_get_urls_src *src)
{
    json_object *v;
    bool controlled = false;
    const char *storage_id = NULL;

    if (json_object_object_get_ex(obj, "controlled", &v))
        controlled = json_object_get_boolean(v);
    if (json_object_object_get_ex(obj, "storage_id", &v))
        storage_id = json_object_get_string(v);
    if (json_object_object_get_ex(obj, "key", &v))
        src->key = json_object_get_string(v);
    if (controlled)
        src->backend = tams_media_find(urls->backends, urls->nbackends, storage_id);
}

/* One member of a stored segment written as is; "_" members are the store's, not the API's. */
static void write_segment(struct tams_json *j, const struct tams_message_urls *urls,
                          json_object *seg, const struct tams_webhook_reg *reg,
                          const struct tams_get_urls_filter *f, int64_t now)
{
    struct tams_get_urls_src src = {0};
    json_object *obj = NULL, *v;

    tams_json_obj_open(j);
    json_object_object_foreach(seg, key, val)
    {
        const char *text;

        if (key[0] == '_')
            continue;
        /* 8.2's, and only when the webhook asks for it (as GET .../segments does) */
        if (strcmp(key, "object_timerange") == 0 && !(reg->v82 && reg->include_object_timerange))
            continue;
        text = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
        tams_json_key(j, key);
        tams_json_raw(j, text, strlen(text));
    }
    if (json_object_object_get_ex(seg, "_get_urls", &v))
        src.uncontrolled = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (json_object_object_get_ex(seg, "_object", &obj))
        where(urls, obj, &src);
    if (urls->base_url)
        tams_get_urls_write(j, &src, urls->base_url, f, now);
    /* 8.2's init object (ADR0045), as GET .../segments shows it; 7.0 has no name for it. */
    if (reg->v82 && json_object_object_get_ex(seg, "_init", &obj) &&
        json_object_object_get_ex(obj, "object_id", &v)) {
        struct tams_get_urls_src init = {0};

        where(urls, obj, &init);
        tams_json_key(j, "init_object");
        tams_json_obj_open(j);
        tams_json_kstr(j, "object_id", json_object_get_string(v));
        if (urls->base_url)
            tams_get_urls_write(j, &init, urls->base_url, f, now);
        tams_json_obj_close(j);
    }
    tams_json_obj_close(j);
}

/* flows/segments_added with get_urls shaped by this webhook's transforms (notes §8.3). */
static int write_segments_added(struct tams_json *j, const char *payload,
                                const struct tams_webhook_reg *reg,
                                const struct tams_message_urls *urls)
{
    struct tams_get_urls_filter f = {.presigned = reg->presigned, .verbose = reg->verbose_storage};
    json_object *doc = json_tokener_parse(payload), *flow_id, *segs;
    int64_t now = tams_clock_wall_us() / 1000000;

    if (!doc || !json_object_object_get_ex(doc, "flow_id", &flow_id) ||
        !json_object_object_get_ex(doc, "segments", &segs) ||
        !json_object_is_type(segs, json_type_array)) {
        json_object_put(doc);
        return TAMS_ERR_INTERNAL;
    }
    if (reg->accept_get_urls.set && reg->accept_get_urls.n == 0)
        f.none = true;
    else if (reg->accept_get_urls.set)
        f.labels = reg->accept_get_urls.v, f.nlabels = reg->accept_get_urls.n;
    if (reg->accept_storage_ids.n)
        f.storage_ids = reg->accept_storage_ids.v, f.nstorage_ids = reg->accept_storage_ids.n;
    tams_json_obj_open(j);
    tams_json_kstr(j, "flow_id", json_object_get_string(flow_id));
    tams_json_key(j, "segments");
    tams_json_arr_open(j);
    for (size_t i = 0; i < json_object_array_length(segs); i++)
        write_segment(j, urls, json_object_array_get_idx(segs, i), reg, &f, now);
    tams_json_arr_close(j);
    tams_json_obj_close(j);
    json_object_put(doc);
    return 0;
}

/* flows/created, flows/updated, sources/created, sources/updated as the webhook's version shows
 * the document: the store (and so the event) holds 8.2's shape, a 7.0 webhook gets the 7.0 view
 * the API gives (docs/tams-8.2-changes.md R1; tams/flow_v82.h, tams/tag.h). */
static void write_document(struct tams_json *j, const char *payload, bool v82)
{
    json_object *doc = json_tokener_parse(payload), *flow, *source, *tags;
    const char *text;

    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        tams_json_raw(j, payload, strlen(payload));
        return;
    }
    if (json_object_object_get_ex(doc, "flow", &flow) &&
        json_object_is_type(flow, json_type_object)) {
        if (v82) {
            tams_flow_view82(flow);
        } else {
            tams_flow_view70(flow);
            if (json_object_object_get_ex(flow, "tags", &tags) && tams_tags_json_has_list(tags))
                tams_tags_json_to_70(tags);
        }
    }
    if (!v82 && json_object_object_get_ex(doc, "source", &source) &&
        json_object_object_get_ex(source, "tags", &tags) && tams_tags_json_has_list(tags))
        tams_tags_json_to_70(tags);
    text = json_object_to_json_string_ext(doc,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    tams_json_raw(j, text, strlen(text));
    json_object_put(doc);
}

int tams_message_render(struct tams_buf *out, const struct tams_event_rec *ev,
                        const struct tams_webhook_reg *reg, const struct tams_message_urls *urls)
{
    struct tams_json j;
    int rc = 0;

    tams_json_init(&j, out);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "event_timestamp", ev->timestamp);
    tams_json_kstr(&j, "event_type", ev->type);
    tams_json_key(&j, "event");
    if (strcmp(ev->type, TAMS_EV_SEGMENTS_ADDED) == 0)
        rc = write_segments_added(&j, ev->payload, reg, urls);
    else if (strcmp(ev->type, TAMS_EV_FLOW_CREATED) == 0 ||
             strcmp(ev->type, TAMS_EV_FLOW_UPDATED) == 0 ||
             strcmp(ev->type, TAMS_EV_SOURCE_CREATED) == 0 ||
             strcmp(ev->type, TAMS_EV_SOURCE_UPDATED) == 0)
        write_document(&j, ev->payload, reg->v82);
    else
        tams_json_raw(&j, ev->payload, strlen(ev->payload));
    tams_json_obj_close(&j);
    if (!rc && !tams_buf_ok(out))
        rc = TAMS_ERR_TOOBIG;
    return rc;
}
