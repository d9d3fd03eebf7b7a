/* SPDX-License-Identifier: Apache-2.0 */
/* tag.c - tag values as strings or lists, and their 7.0 view (tag.h). */
#include "core/common.h"
#include "tams/tag.h"

bool tams_tag_json_valid(json_object *v, bool allow_list)
{
    if (json_object_is_type(v, json_type_string))
        return true;
    if (!allow_list || !json_object_is_type(v, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
            return false;
    }
    return true;
}

int tams_tag_from_json(json_object *v, const char *name, struct tams_tag *t, struct tams_buf *why)
{
    const char **vals;
    size_t n;

    *t = (struct tams_tag){.name = name};
    if (!tams_tag_json_valid(v, true)) {
        if (why)
            tams_buf_addf(why, "tag '%s' must be a string or an array of strings", name);
        return TAMS_ERR_VALIDATION;
    }
    if (json_object_is_type(v, json_type_string)) {
        t->value = json_object_get_string(v);
        return 0;
    }
    n = json_object_array_length(v);
    vals = tams_calloc(n ? n : 1, sizeof(*vals));
    for (size_t i = 0; i < n; i++)
        vals[i] = json_object_get_string(json_object_array_get_idx(v, i));
    t->list = true;
    t->values = vals;
    t->nvalues = n;
    t->value = n ? vals[0] : "";
    return 0;
}

void tams_tag_release(struct tams_tag *t)
{
    if (!t)
        return;
    tams_free((void *)(uintptr_t)t->values); /* built by tams_tag_from_json */
    t->values = NULL;
    t->nvalues = 0;
}

void tams_tag_write(struct tams_json *j, const struct tams_tag *t, bool v70)
{
    if (!t->list || v70) {
        tams_json_str(j, t->value ? t->value : "");
        return;
    }
    tams_json_arr_open(j);
    for (size_t i = 0; i < t->nvalues; i++)
        tams_json_str(j, t->values[i]);
    tams_json_arr_close(j);
}

json_object *tams_tag_json_70(json_object *v)
{
    if (json_object_is_type(v, json_type_array)) {
        json_object *first = json_object_array_get_idx(v, 0);
        return json_object_new_string(first && json_object_is_type(first, json_type_string)
                                          ? json_object_get_string(first)
                                          : "");
    }
    return json_object_get(v);
}

/* Is s (n bytes) one of the comma-separated values of list? */
static bool in_list(const char *list, const char *s, size_t n)
{
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, s, n) == 0)
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

bool tams_tag_json_holds_any(json_object *v, const char *list)
{
    bool arr = json_object_is_type(v, json_type_array);
    size_t n = arr ? json_object_array_length(v) : 1;

    for (size_t i = 0; i < n; i++) {
        json_object *s = arr ? json_object_array_get_idx(v, i) : v;
        if (json_object_is_type(s, json_type_string) &&
            in_list(list, json_object_get_string(s), (size_t)json_object_get_string_len(s)))
            return true;
    }
    return false;
}

bool tams_tags_json_has_list(json_object *tags)
{
    if (!json_object_is_type(tags, json_type_object))
        return false;
    json_object_object_foreach(tags, name, v)
    {
        (void)name;
        if (json_object_is_type(v, json_type_array))
            return true;
    }
    return false;
}

/* ---- the question asked of a document's text ------------------------------------------------
 * Each step returns the character after what it skipped, or NULL for text it cannot follow. */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* s at the opening quote. */
static const char *skip_string(const char *s)
{
    for (s++; *s; s++) {
        if (*s == '\\') {
            if (!*++s)
                return NULL;
        } else if (*s == '"') {
            return s + 1;
        }
    }
    return NULL;
}

/* One value: a string, a scalar, or an object or array with all it holds. */
static const char *skip_value(const char *s)
{
    int depth = 0;

    if (*s != '"' && *s != '[' && *s != '{') {
        while (*s && !strchr(",:}] \t\r\n", *s))
            s++;
        return s;
    }
    do {
        if (*s == '"') {
            if (!(s = skip_string(s)))
                return NULL;
            continue;
        }
        if (*s == '[' || *s == '{')
            depth++;
        else if (*s == ']' || *s == '}')
            depth--;
        else if (!*s)
            return NULL;
        s++;
    } while (depth > 0);
    return s;
}

/* Each member of the object at *s in turn: *name, *len its name (as written, quotes off),
 * *s then at its value; false after the last (or on text it cannot follow: *bad). The caller
 * skips the value before the next call. */
static bool next_member(const char **s, bool first, const char **name, size_t *len, bool *bad)
{
    const char *p = skip_ws(*s), *end;

    if (first) {
        if (*p != '{')
            return !(*bad = true);
        p = skip_ws(p + 1);
        if (*p == '}')
            return false;
    } else if (*p == ',') {
        p = skip_ws(p + 1);
    } else {
        *bad = *p != '}';
        return false;
    }
    if (*p != '"' || !(end = skip_string(p)))
        return !(*bad = true);
    *name = p + 1;
    *len = (size_t)(end - 1 - *name);
    if (memchr(*name, '\\', *len)) /* an escaped name may spell anything */
        return !(*bad = true);
    p = skip_ws(end);
    if (*p != ':')
        return !(*bad = true);
    *s = skip_ws(p + 1);
    return true;
}

bool tams_tags_text_has_list(const char *doc)
{
    const char *s = doc, *name;
    size_t len;
    bool bad = false, first = true;

    while (next_member(&s, first, &name, &len, &bad)) {
        first = false;
        if (len == 4 && memcmp(name, "tags", 4) == 0) {
            if (*s != '{')
                return false; /* tags that are not an object hold no list tag */
            for (bool f = true; next_member(&s, f, &name, &len, &bad); f = false) {
                if (*s == '[')
                    return true;
                if (!(s = skip_value(s)))
                    return true;
            }
            return bad;
        }
        if (!(s = skip_value(s)))
            return true;
    }
    return bad;
}

void tams_tags_json_to_70(json_object *tags)
{
    if (!json_object_is_type(tags, json_type_object))
        return;
    json_object_object_foreach(tags, name, v)
    {
        /* Replacing a key's value keeps the iteration valid (json-c reuses the entry). */
        if (json_object_is_type(v, json_type_array))
            json_object_object_add(tags, name, tams_tag_json_70(v));
    }
}

enum tams_tag_70 tams_tag_70_write(const struct tams_tag *stored, const char *v, bool single)
{
    if (!stored || !stored->list)
        return TAMS_TAG70_STRING;
    if (stored->nvalues > 1)
        return !single && strcmp(stored->value, v) == 0 ? TAMS_TAG70_KEEP : TAMS_TAG70_CONFLICT;
    return strcmp(stored->value, v) == 0 ? TAMS_TAG70_KEEP : TAMS_TAG70_LIST1;
}

void tams_tag_conflict_why(struct tams_buf *why, const char *name)
{
    if (why)
        tams_buf_addf(why, "tag '%s' holds several values; edit it through /tams/v8.2", name);
}

int tams_tags_json_merge_70(json_object *stored, json_object *next, struct tams_buf *why)
{
    if (!json_object_is_type(stored, json_type_object) ||
        !json_object_is_type(next, json_type_object))
        return 0;
    /* Check every tag first, so that a refusal leaves next as it was. */
    for (int pass = 0; pass < 2; pass++) {
        json_object_object_foreach(next, name, v)
        {
            json_object *old = NULL;
            struct tams_tag t;
            enum tams_tag_70 what;

            if (!json_object_object_get_ex(stored, name, &old) ||
                !json_object_is_type(old, json_type_array) ||
                !json_object_is_type(v, json_type_string) ||
                tams_tag_from_json(old, name, &t, NULL))
                continue;
            what = tams_tag_70_write(&t, json_object_get_string(v), false);
            tams_tag_release(&t);
            if (pass == 0 && what == TAMS_TAG70_CONFLICT) {
                tams_tag_conflict_why(why, name);
                return TAMS_ERR_CONFLICT;
            }
            if (pass == 1 && what == TAMS_TAG70_KEEP) {
                json_object_object_add(next, name, json_object_get(old));
            } else if (pass == 1 && what == TAMS_TAG70_LIST1) {
                json_object *arr = json_object_new_array();
                json_object_array_add(arr, json_object_get(v));
                json_object_object_add(next, name, arr);
            }
        }
    }
    return 0;
}
