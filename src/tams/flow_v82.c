/* SPDX-License-Identifier: Apache-2.0 */
/* flow_v82.c - the 7.0 view of a stored Flow and the translation of a 7.0 write into it. */
#include "core/common.h"
#include "tams/flow.h"
#include "tams/flow_v82.h"

static const char *const view70_markers[] = {
    "\"status\"", "\"vfr\"", "\"init_segments\"", "\"profile_id\"", "\"flow_collection\"", NULL,
};

bool tams_flow_view70_may_differ(const char *doc)
{
    for (size_t i = 0; view70_markers[i]; i++)
        if (strstr(doc, view70_markers[i]))
            return true;
    return false;
}

bool tams_flow_status_valid(const char *s)
{
    for (size_t i = 0; s && tams_flow_statuses[i]; i++)
        if (strcmp(s, tams_flow_statuses[i]) == 0)
            return true;
    return false;
}

static json_object *member(json_object *obj, const char *name, json_type type)
{
    json_object *v;

    if (json_object_is_type(obj, json_type_object) && json_object_object_get_ex(obj, name, &v) &&
        json_object_is_type(v, type))
        return v;
    return NULL;
}

static bool is_format(json_object *doc, const char *format)
{
    json_object *f = member(doc, "format", json_type_string);

    return f && strcmp(json_object_get_string(f), format) == 0;
}

void tams_flow_view70(json_object *doc)
{
    json_object *ep = member(doc, "essence_parameters", json_type_object);
    json_object *status = member(doc, "status", json_type_string);
    json_object *coll = member(doc, "flow_collection", json_type_array);

    if (ep) {
        json_object_object_del(ep, "vfr");
        json_object_object_del(ep, "init_segments");
    }
    if (status) {
        json_object *tags = member(doc, "tags", json_type_object);

        if (!tags) {
            tags = json_object_new_object();
            json_object_object_add(doc, "tags", tags);
        }
        if (!json_object_object_get_ex(tags, TAMS_FLOW_STATUS_TAG, NULL))
            json_object_object_add(tags, TAMS_FLOW_STATUS_TAG, json_object_get(status));
    }
    json_object_object_del(doc, "status");
    json_object_object_del(doc, "profile_id");
    for (size_t i = 0; coll && i < json_object_array_length(coll); i++) {
        json_object *item = json_object_array_get_idx(coll, i);

        if (json_object_is_type(item, json_type_object) &&
            !json_object_object_get_ex(item, "role", NULL))
            json_object_object_add(item, "role", json_object_new_string(""));
    }
}

void tams_flow_from70(json_object *doc, json_object *stored)
{
    json_object *tags = member(doc, "tags", json_type_object);
    json_object *tag = member(tags, TAMS_FLOW_STATUS_TAG, json_type_string);
    json_object *ep = member(doc, "essence_parameters", json_type_object);
    json_object *coll = member(doc, "flow_collection", json_type_array);
    json_object *kept;

    json_object_object_del(doc, "status");
    json_object_object_del(doc, "profile_id");
    if (tag && tams_flow_status_valid(json_object_get_string(tag))) {
        json_object_object_add(doc, "status", json_object_get(tag));
        json_object_object_del(tags, TAMS_FLOW_STATUS_TAG);
    } else if ((kept = member(stored, "status", json_type_string))) {
        json_object_object_add(doc, "status", json_object_get(kept));
    }
    if (ep && is_format(doc, "urn:x-nmos:format:video")) {
        if (json_object_object_get_ex(ep, "frame_rate", NULL))
            json_object_object_del(ep, "vfr");
        else
            json_object_object_add(ep, "vfr", json_object_new_boolean(true));
    }
    kept = member(member(stored, "essence_parameters", json_type_object), "init_segments",
                  json_type_boolean);
    if (kept && !is_format(doc, "urn:x-tam:format:image")) {
        json_object *f = member(stored, "format", json_type_string);

        if (f && is_format(doc, json_object_get_string(f))) {
            if (!ep) {
                ep = json_object_new_object();
                json_object_object_add(doc, "essence_parameters", ep);
            }
            json_object_object_add(ep, "init_segments", json_object_get(kept));
        }
    }
    if (coll)
        tams_flow_from70_collection(coll);
}

void tams_flow_from70_collection(json_object *coll)
{
    for (size_t i = 0; i < json_object_array_length(coll); i++) {
        json_object *role = member(json_object_array_get_idx(coll, i), "role", json_type_string);

        if (role && json_object_get_string_len(role) == 0)
            json_object_object_del(json_object_array_get_idx(coll, i), "role");
    }
}

bool tams_flow_view82_may_differ(const char *doc)
{
    return strstr(doc, "urn:x-nmos:format:multi") && strstr(doc, "\"essence_parameters\"");
}

void tams_flow_view82(json_object *doc)
{
    json_object *ep = member(doc, "essence_parameters", json_type_object);
    struct json_object_iterator it, end;
    bool again = true;

    if (!ep || !is_format(doc, "urn:x-nmos:format:multi"))
        return;
    /* Deleting invalidates the iterator: start over after each. */
    while (again) {
        again = false;
        it = json_object_iter_begin(ep);
        end = json_object_iter_end(ep);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *k = json_object_iter_peek_name(&it);
            if (strcmp(k, "init_segments") != 0) {
                json_object_object_del(ep, k);
                again = true;
                break;
            }
        }
    }
}
