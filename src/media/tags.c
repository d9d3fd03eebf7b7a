/* SPDX-License-Identifier: Apache-2.0 */
/* tags.c - storage backend tags: checking and filter matching. */
#include "core/common.h"
#include "media/tags.h"
#include "tams/tag.h"

static bool text_ok(const char *s, size_t n)
{
    if (n > TAMS_MEDIA_TAG_TEXT_MAX || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int tams_media_tags_check(json_object *v, struct tams_buf *why)
{
    size_t count = 0;

    if (!json_object_is_type(v, json_type_object)) {
        tams_buf_addstr(why, "must be an object of tag names to a string or a list of strings");
        return TAMS_ERR_BADREQUEST;
    }
    json_object_object_foreach(v, name, val)
    {
        size_t n;
        if (++count > TAMS_MEDIA_TAGS_MAX) {
            tams_buf_addf(why, "holds more than %d tags", TAMS_MEDIA_TAGS_MAX);
            return TAMS_ERR_BADREQUEST;
        }
        if (!name[0] || !text_ok(name, strlen(name))) {
            tams_buf_addf(why,
                          "has a tag name that is empty, over %d bytes or holds a control "
                          "character",
                          TAMS_MEDIA_TAG_TEXT_MAX);
            return TAMS_ERR_BADREQUEST;
        }
        if (json_object_is_type(val, json_type_string)) {
            if (text_ok(json_object_get_string(val), (size_t)json_object_get_string_len(val)))
                continue;
        } else if (json_object_is_type(val, json_type_array) &&
                   (n = json_object_array_length(val)) <= TAMS_MEDIA_TAG_VALUES_MAX) {
            size_t i;
            for (i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(val, i);
                if (!json_object_is_type(e, json_type_string) ||
                    !text_ok(json_object_get_string(e), (size_t)json_object_get_string_len(e)))
                    break;
            }
            if (i == n)
                continue;
        }
        tams_buf_addf(why,
                      "tag '%s' must be a string or a list of at most %d strings, each at most "
                      "%d bytes without control characters",
                      name, TAMS_MEDIA_TAG_VALUES_MAX, TAMS_MEDIA_TAG_TEXT_MAX);
        return TAMS_ERR_BADREQUEST;
    }
    return 0;
}

bool tams_media_tags_match(const json_object *tags, const struct tams_media_tag_filter *f, size_t n)
{
    /* json-c's getters take non-const objects but do not change them. */
    json_object *t = (json_object *)(uintptr_t)tags;

    for (size_t i = 0; i < n; i++) {
        json_object *val = NULL;
        bool has = t && json_object_object_get_ex(t, f[i].name, &val);
        if (f[i].values ? !(has && tams_tag_json_holds_any(val, f[i].values)) : has != f[i].exists)
            return false;
    }
    return true;
}

void tams_media_tags_write(struct tams_json *j, const json_object *tags)
{
    json_object *t = (json_object *)(uintptr_t)tags;

    tams_json_obj_open(j);
    json_object_object_foreach(t, name, val)
    {
        tams_json_key(j, name);
        if (json_object_is_type(val, json_type_string)) {
            tams_json_strn(j, json_object_get_string(val), (size_t)json_object_get_string_len(val));
            continue;
        }
        tams_json_arr_open(j);
        for (size_t i = 0, n = json_object_array_length(val); i < n; i++) {
            json_object *e = json_object_array_get_idx(val, i);
            tams_json_strn(j, json_object_get_string(e), (size_t)json_object_get_string_len(e));
        }
        tams_json_arr_close(j);
    }
    tams_json_obj_close(j);
}
