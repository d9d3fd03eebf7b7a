/* SPDX-License-Identifier: Apache-2.0 */
/* params.c - path and query parameter checks shared by the resource handlers. */
#include "core/common.h"
#include "core/random.h"
#include "api/params.h"
#include "http/respond.h"
#include "tams/flow.h"

#include <math.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Is name `<prefix>tag.{x}` or `<prefix>tag_exists.{x}`? Sets *tag_name to x. */
static bool tag_param(const char *name, const char *prefix, bool *exists, const char **tag_name)
{
    size_t n = strlen(prefix);

    if (strncmp(name, prefix, n) != 0)
        return false;
    name += n;
    *exists = has_prefix(name, "tag_exists.");
    if (!*exists && !has_prefix(name, "tag."))
        return false;
    *tag_name = name + (*exists ? 11 : 4);
    return **tag_name != '\0';
}

int tams_query_known_tags_or_400(struct tams_req *req, const char *const *allowed,
                                 const char *tag_prefix)
{
    for (size_t i = 0; i < req->nquery; i++) {
        const char *name = req->query[i].name, *tag;
        bool ok = strcmp(name, "access_token") == 0, exists;
        for (const char *const *a = allowed; !ok && *a; a++) {
            size_t n = strlen(*a);
            /* "prefix.*": any name with that prefix and something after it */
            if (n > 2 && strcmp(*a + n - 2, ".*") == 0)
                ok = strncmp(name, *a, n - 1) == 0 && name[n - 1];
            else
                ok = strcmp(name, *a) == 0;
        }
        if (!ok && tag_prefix)
            ok = tag_param(name, tag_prefix, &exists, &tag);
        if (!ok) {
            tams_send_error(req, TAMS_ERR_BADQUERY, "unknown query parameter '%s'", name);
            return -1;
        }
    }
    return 0;
}

int tams_query_known_or_400(struct tams_req *req, const char *const *allowed, bool tag_filters)
{
    return tams_query_known_tags_or_400(req, allowed, tag_filters ? "" : NULL);
}

/* The values of an 8.2 tag.{name}=a,b (in the request pool); at most 64 in one query. */
static int tag_values(struct tams_req *req, const char *value, struct tams_tag_filter *tf,
                      size_t *total)
{
    const char *whole = value;
    size_t n = 1;
    const char **v;

    for (const char *c = value; *c; c++)
        n += *c == ',';
    if ((*total += n) > 64) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "too many tag values in one query (at most 64)");
        return -1;
    }
    v = tams_pool_alloc(&req->pool, n * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(value, ',');
        size_t len = end ? (size_t)(end - value) : strlen(value);

        v[i] = tams_pool_strndup(&req->pool, value, len);
        value += len + (end ? 1 : 0);
    }
    tf->values = v;
    tf->nvalues = n;
    tf->value = whole; /* as given: the in-memory filters (webhooks, backends) split it alike */
    return 0;
}

int tams_prefixed_tag_filters_or_400(struct tams_req *req, const char *prefix,
                                     struct tams_tag_filter **out, size_t *n)
{
    struct tams_tag_filter *f = NULL;
    size_t count = 0, nvalues = 0;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < req->nquery; i++) {
        const char *name = req->query[i].name, *value = req->query[i].value;
        struct tams_tag_filter tf = {0};
        bool exists;

        if (!tag_param(name, prefix, &exists, &tf.name))
            continue;
        if (!exists) {
            tf.value = value;
            /* 8.2: a comma-separated list of values, any of which matches */
            if (req->api != TAMS_API_70 && strchr(value, ',') &&
                tag_values(req, value, &tf, &nvalues))
                return -1;
        } else if (strcmp(value, "true") == 0) {
            tf.exists = true;
        } else if (strcmp(value, "false") == 0) {
            tf.exists = false;
        } else {
            tams_send_error(req, TAMS_ERR_BADQUERY,
                            "query parameter '%s' must be 'true' or 'false', not '%s'", name,
                            value);
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(req->query[k].name, name) == 0) {
                tams_send_error(req, TAMS_ERR_BADQUERY,
                                "query parameter '%s' is given more than once", name);
                return -1;
            }
        }
        if (!f)
            f = tams_pool_alloc(&req->pool, req->nquery * sizeof(*f));
        f[count++] = tf;
    }
    *out = f;
    *n = count;
    return 0;
}

int tams_tag_filters_or_400(struct tams_req *req, struct tams_tag_filter **out, size_t *n)
{
    return tams_prefixed_tag_filters_or_400(req, "", out, n);
}

int tams_path_uuid_or_404(struct tams_req *req, size_t idx, const char *what, const char **out)
{
    const char *v = req->params[idx];
    if (!v || !tams_uuid_valid(v, strlen(v))) {
        tams_send_error(req, TAMS_ERR_NOTFOUND,
                        "%s id '%s' in the path is not a valid UUID (lowercase, version 1-5)", what,
                        v ? v : "");
        return -1;
    }
    *out = v;
    return 0;
}

int tams_query_timerange_or_400(struct tams_req *req, const char *name, struct tams_timerange *out,
                                bool *given)
{
    const char *v = NULL;
    int rc;
    *given = false;
    if (tams_req_query_str_or_400(req, name, &v))
        return -1;
    if (!v)
        return 0;
    rc = tams_timerange_parse(v, strlen(v), out);
    if (rc) {
        tams_send_error(req, rc == TAMS_ERR_OVERFLOW ? TAMS_ERR_OVERFLOW : TAMS_ERR_BADTIMERANGE,
                        "query parameter '%s' is not a valid timerange: '%s'%s", name, v,
                        rc == TAMS_ERR_OVERFLOW ? " (a timestamp is out of range)" : "");
        return -1;
    }
    *given = true;
    return 0;
}

int tams_query_uuid_or_400(struct tams_req *req, const char *name, const char **out)
{
    const char *v = NULL;
    if (tams_req_query_str_or_400(req, name, &v))
        return -1;
    if (v && !tams_uuid_valid(v, strlen(v))) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter '%s' must be a UUID (lowercase, version 1-5), not '%s'",
                        name, v);
        return -1;
    }
    if (v)
        *out = v;
    return 0;
}

int tams_query_collected_or_400(struct tams_req *req, const char *name,
                                struct tams_collected_filter *out)
{
    const char *v = NULL, *at;
    const char **ids;
    size_t n = 1;

    *out = (struct tams_collected_filter){0};
    if (tams_req_query_str_or_400(req, name, &v) || !v)
        return v ? -1 : 0;
    out->given = true;
    if (!*v)
        return 0;
    for (at = v; *at; at++)
        n += *at == ',';
    if (n > 64) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "query parameter '%s' lists more than 64 ids",
                        name);
        return -1;
    }
    ids = tams_pool_alloc(&req->pool, n * sizeof(*ids));
    for (at = v, out->n = 0; out->n < n; out->n++) {
        const char *end = strchr(at, ',');
        size_t len = end ? (size_t)(end - at) : strlen(at);

        if (!tams_uuid_valid(at, len)) {
            tams_send_error(
                req, TAMS_ERR_BADQUERY,
                "query parameter '%s' must be a comma-separated list of UUIDs, not '%s'", name, v);
            return -1;
        }
        ids[out->n] = tams_pool_strndup(&req->pool, at, len);
        at = end ? end + 1 : at + len;
    }
    out->ids = ids;
    return 0;
}

int tams_query_sort_or_400(struct tams_req *req, const char *const *names,
                           const enum tams_sort_by *values, enum tams_sort_by dflt,
                           enum tams_sort_by *by, bool *reverse)
{
    const char *v = NULL;

    *by = dflt;
    *reverse = false;
    if (tams_req_query_str_or_400(req, "sort_by", &v) ||
        tams_req_query_bool_or_400(req, "reverse_order", reverse))
        return -1;
    if (!v)
        return 0;
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(names[i], v) == 0) {
            *by = values[i];
            return 0;
        }
    }
    tams_send_error(req, TAMS_ERR_BADQUERY, "query parameter 'sort_by' cannot be '%s'", v);
    return -1;
}

int tams_query_format_or_400(struct tams_req *req, const char *name, const char **out)
{
    const char *v = NULL;
    if (tams_req_query_str_or_400(req, name, &v))
        return -1;
    if (v && !tams_format_valid(v)) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter '%s' must be a content format URN such as "
                        "urn:x-nmos:format:video, not '%s'",
                        name, v);
        return -1;
    }
    if (v)
        *out = v;
    return 0;
}

/* Why v (or a value inside it) cannot be kept as sent, or NULL; *key gets the name of the
 * innermost object member holding the bad value. json-c accepts NaN and Infinity (which it
 * would write back verbatim: invalid JSON) and saturates integers beyond 64 bits; the store and
 * the filters work on C strings, which U+0000 would cut short. */
static const char *json_unsafe(json_object *v, const char **key)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        if (memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v)))
            return "must not contain the character U+0000";
        return NULL;
    case json_type_double:
        return isfinite(json_object_get_double(v)) ? NULL : "must be a finite number";
    case json_type_int:
        if (json_object_get_int64(v) == INT64_MIN ||
            (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) > INT64_MAX))
            return "is out of the range of 64-bit integers";
        return NULL;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            const char *why = json_unsafe(json_object_array_get_idx(v, i), key);
            if (why)
                return why;
        }
        return NULL;
    case json_type_object: {
        json_object_object_foreach(v, name, member)
        {
            const char *why = json_unsafe(member, key);
            if (why) {
                if (!*key)
                    *key = name;
                return why;
            }
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

/* Does the (valid) JSON text hold the escape \u0000? json-c cuts object member names at it,
 * so a name cannot be checked after parsing. Outside strings a backslash cannot occur. */
static bool raw_has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
            return true;
        i++; /* skip the escaped character: an escaped backslash before "u0000" is no NUL */
    }
    return false;
}

int tams_body_sane_or_400(struct tams_req *req, json_object *v, const char *what)
{
    const char *key = NULL, *why = json_unsafe(v, &key);

    if (!why && raw_has_nul_escape(req->body.data, req->body.len))
        why = "must not contain the character U+0000";
    if (!why)
        return 0;
    if (key)
        tams_send_error(req, TAMS_ERR_VALIDATION, "%s '%s' %s", what, key, why);
    else
        tams_send_error(req, TAMS_ERR_VALIDATION, "%s %s", what, why);
    return -1;
}

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

/* storage_backend_tag.{name} and storage_backend_tag_exists.{name} (8.2), in the pool. */
static int backend_tag_filters_or_400(struct tams_req *req, struct tams_get_urls_filter *f)
{
    static const char tag[] = "storage_backend_tag.", exists[] = "storage_backend_tag_exists.";
    struct tams_media_tag_filter *out = NULL;
    size_t n = 0;

    for (size_t i = 0; i < req->nquery; i++) {
        const char *name = req->query[i].name, *value = req->query[i].value;
        struct tams_media_tag_filter tf = {0};
        if (has_prefix(name, tag) && name[sizeof(tag) - 1]) {
            tf.name = name + sizeof(tag) - 1;
            tf.values = value;
        } else if (has_prefix(name, exists) && name[sizeof(exists) - 1]) {
            tf.name = name + sizeof(exists) - 1;
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
                tams_send_error(req, TAMS_ERR_BADQUERY,
                                "query parameter '%s' must be 'true' or 'false', not '%s'", name,
                                value);
                return -1;
            }
            tf.exists = strcmp(value, "true") == 0;
        } else {
            continue;
        }
        if (req->api != TAMS_API_82) {
            tams_send_error(req, TAMS_ERR_BADQUERY, "unknown query parameter '%s'", name);
            return -1;
        }
        if (tams_req_query_count(req, name) > 1) {
            tams_send_error(req, TAMS_ERR_BADQUERY, "query parameter '%s' is given more than once",
                            name);
            return -1;
        }
        if (!out)
            out = tams_pool_alloc(&req->pool, req->nquery * sizeof(*out));
        out[n++] = tf;
    }
    f->backend_tags = out;
    f->nbackend_tags = n;
    return 0;
}

int tams_get_urls_filter_or_400(struct tams_req *req, struct tams_get_urls_filter *f)
{
    const char *labels = NULL, *ids = NULL;
    bool presigned = false, has_presigned;
    const char **list;
    size_t n;

    *f = (struct tams_get_urls_filter){.presigned = -1, .name_unlabelled = req->api == TAMS_API_82};
    if (backend_tag_filters_or_400(req, f) ||
        tams_req_query_str_or_400(req, "accept_get_urls", &labels) ||
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
