/* SPDX-License-Identifier: Apache-2.0 */
/* webhook.c - validating webhook registrations and matching events against their filters. */
#include "core/common.h"
#include "core/random.h"
#include "core/json.h"
#include "core/utf8.h"
#include "events/webhook.h"

#include <ctype.h>
#include <strings.h>

#include <curl/curl.h>

#define URL_MAX 2048
#define KEY_NAME_MAX 256
#define KEY_VALUE_MAX 4096
#define LIST_MAX 10000
/* An unknown option is named in the message up to this many bytes: a body may hold a name of
 * megabytes, and a message that does not fit the caller's buffer would be lost. */
#define QUOTE_MAX 64

const char *const tams_webhook_events[TAMS_WEBHOOK_NEVENTS] = {
    "flows/created",          "flows/updated",   "flows/deleted",   "flows/segments_added",
    "flows/segments_deleted", "sources/created", "sources/updated", "sources/deleted",
};

int tams_webhook_event_index(const char *name)
{
    for (int i = 0; i < TAMS_WEBHOOK_NEVENTS; i++)
        if (strcmp(name, tams_webhook_events[i]) == 0)
            return i;
    return -1;
}

void tams_webhook_reg_release(struct tams_webhook_reg *r)
{
    tams_free(r->flow_ids.v);
    tams_free(r->source_ids.v);
    tams_free(r->flow_collected_by_ids.v);
    tams_free(r->source_collected_by_ids.v);
    tams_free(r->accept_get_urls.v);
    tams_free(r->accept_storage_ids.v);
    tams_free((char *)(uintptr_t)r->host);
    if (r->_doc)
        json_object_put(r->_doc);
    memset(r, 0, sizeof(*r));
    r->presigned = -1;
}

/* A JSON string without NUL bytes; NULL when not one. */
static const char *clean_string(json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string))
        return NULL;
    s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static int parse_list(json_object *v, const char *key, bool uuids, struct tams_webhook_list *out,
                      struct tams_buf *why)
{
    size_t n;

    if (!json_object_is_type(v, json_type_array)) {
        tams_buf_addf(why, "'%s' must be an array of %s", key, uuids ? "UUIDs" : "strings");
        return TAMS_ERR_VALIDATION;
    }
    n = json_object_array_length(v);
    if (n > LIST_MAX) {
        tams_buf_addf(why, "'%s' has more than %d items", key, LIST_MAX);
        return TAMS_ERR_VALIDATION;
    }
    out->set = true;
    out->v = n ? tams_calloc(n, sizeof(*out->v)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = clean_string(json_object_array_get_idx(v, i));
        if (!s || (uuids && !tams_uuid_valid(s, strlen(s)))) {
            tams_buf_addf(why, "'%s' item %zu must be %s", key, i,
                          uuids ? "a lowercase UUID" : "a string");
            return TAMS_ERR_VALIDATION;
        }
        out->v[out->n++] = s;
    }
    return 0;
}

/* An RFC 9110 token. */
static bool header_name(const char *s)
{
    if (!*s || strlen(s) > KEY_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

static bool header_value(const char *s)
{
    if (strlen(s) > KEY_VALUE_MAX)
        return false;
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return false;
    return true;
}

/* Absolute http(s) URL with a host; the host is returned allocated. */
static int parse_url(const char *url, char **host, struct tams_buf *why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL;
    int rc = TAMS_ERR_VALIDATION;

    *host = NULL;
    if (!u)
        return TAMS_ERR_INTERNAL;
    if (strlen(url) > URL_MAX || strspn(url, "\t\r\n ") || strpbrk(url, " \t\r\n")) {
        tams_buf_addf(why, "'url' must be an absolute http or https URL of at most %d bytes",
                      URL_MAX);
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !h || !h[0] ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
        strncasecmp(url, scheme, strlen(scheme)) != 0 ||
        strncmp(url + strlen(scheme), "://", 3) != 0 || !url[strlen(scheme) + 3] ||
        strchr("/?#@", url[strlen(scheme) + 3])) {
        tams_buf_addf(why, "'url' must be an absolute http or https URL with a host");
        goto out;
    }
    *host = tams_strdup(h);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_url_cleanup(u);
    return rc;
}

static const char *const members_82[] = {"tags", "include_object_timerange"};

bool tams_webhook_member_82(const char *key)
{
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(members_82); i++)
        if (strcmp(key, members_82[i]) == 0)
            return true;
    return false;
}

/* tags.json: an object whose values are strings or arrays of strings. */
static int parse_tags(json_object *v, struct tams_buf *why)
{
    if (!json_object_is_type(v, json_type_object))
        goto bad;
    json_object_object_foreach(v, name, val)
    {
        (void)name;
        if (json_object_is_type(val, json_type_string))
            continue;
        if (!json_object_is_type(val, json_type_array))
            goto bad;
        for (size_t i = 0; i < json_object_array_length(val); i++)
            if (!json_object_is_type(json_object_array_get_idx(val, i), json_type_string))
                goto bad;
    }
    return 0;
bad:
    tams_buf_addstr(why, "'tags' must be an object of strings or arrays of strings");
    return TAMS_ERR_VALIDATION;
}

/* An 8.2 member; 1 when key is none of them (or not allowed by flags). */
static int parse_82(json_object *val, const char *key, unsigned flags, struct tams_webhook_reg *out,
                    struct tams_buf *why)
{
    if (!(flags & (TAMS_WEBHOOK_V82 | TAMS_WEBHOOK_STORED)))
        return 1;
    if (strcmp(key, "tags") == 0)
        return parse_tags(val, why);
    if (strcmp(key, "include_object_timerange") == 0) {
        if (!json_object_is_type(val, json_type_boolean)) {
            tams_buf_addstr(why, "'include_object_timerange' must be a boolean");
            return TAMS_ERR_VALIDATION;
        }
        out->include_object_timerange = json_object_get_boolean(val);
        return 0;
    }
    if (strcmp(key, "status") == 0 && !(flags & TAMS_WEBHOOK_STORED)) {
        out->status = clean_string(val);
        if (!out->status ||
            (strcmp(out->status, "created") != 0 && strcmp(out->status, "disabled") != 0)) {
            tams_buf_addstr(why, "'status' may be set to 'created' or 'disabled' only");
            return TAMS_ERR_VALIDATION;
        }
        return 0;
    }
    if (strcmp(key, "id") == 0 && (flags & TAMS_WEBHOOK_PUT)) {
        out->id = clean_string(val);
        if (!out->id || !tams_uuid_valid(out->id, strlen(out->id))) {
            tams_buf_addstr(why, "'id' must be a lowercase UUID");
            return TAMS_ERR_VALIDATION;
        }
        return 0;
    }
    return 1;
}

int tams_webhook_parse(json_object *body, struct tams_webhook_reg *out, struct tams_buf *why)
{
    return tams_webhook_parse_as(body, 0, out, why);
}

int tams_webhook_parse_as(json_object *body, unsigned flags, struct tams_webhook_reg *out,
                          struct tams_buf *why)
{
    json_object *events = NULL;
    char *host = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->presigned = -1;
    if (!json_object_is_type(body, json_type_object)) {
        tams_buf_addstr(why, "the body must be a JSON object");
        return TAMS_ERR_VALIDATION;
    }
    out->_doc = json_object_get(body);
    out->v82 = (flags & TAMS_WEBHOOK_V82) != 0;
    json_object_object_foreach(body, key, val)
    {
        if (strcmp(key, "url") == 0) {
            if (!(out->url = clean_string(val))) {
                tams_buf_addstr(why, "'url' must be a string");
                rc = TAMS_ERR_VALIDATION;
            }
        } else if (strcmp(key, "api_key_name") == 0) {
            out->api_key_name = clean_string(val);
            if (!out->api_key_name || !header_name(out->api_key_name)) {
                tams_buf_addstr(why, "'api_key_name' must be an HTTP header name");
                rc = TAMS_ERR_VALIDATION;
            }
        } else if (strcmp(key, "api_key_value") == 0) {
            out->api_key_value = clean_string(val);
            if (!out->api_key_value || !header_value(out->api_key_value)) {
                tams_buf_addf(why,
                              "'api_key_value' must be a string of at most %d bytes without "
                              "control characters",
                              KEY_VALUE_MAX);
                rc = TAMS_ERR_VALIDATION;
            }
        } else if (strcmp(key, "events") == 0) {
            events = val;
        } else if (strcmp(key, "flow_ids") == 0) {
            rc = parse_list(val, key, true, &out->flow_ids, why);
        } else if (strcmp(key, "source_ids") == 0) {
            rc = parse_list(val, key, true, &out->source_ids, why);
        } else if (strcmp(key, "flow_collected_by_ids") == 0) {
            rc = parse_list(val, key, true, &out->flow_collected_by_ids, why);
        } else if (strcmp(key, "source_collected_by_ids") == 0) {
            rc = parse_list(val, key, true, &out->source_collected_by_ids, why);
        } else if (strcmp(key, "accept_get_urls") == 0) {
            rc = parse_list(val, key, false, &out->accept_get_urls, why);
        } else if (strcmp(key, "accept_storage_ids") == 0) {
            rc = parse_list(val, key, true, &out->accept_storage_ids, why);
        } else if (strcmp(key, "presigned") == 0 || strcmp(key, "verbose_storage") == 0) {
            if (!json_object_is_type(val, json_type_boolean)) {
                tams_buf_addf(why, "'%s' must be a boolean", key);
                rc = TAMS_ERR_VALIDATION;
            } else if (key[0] == 'p') {
                out->presigned = json_object_get_boolean(val);
            } else {
                out->verbose_storage = json_object_get_boolean(val);
            }
        } else if ((rc = parse_82(val, key, flags, out, why)) != 1) {
            ;
        } else {
            size_t n = strlen(key), k = tams_utf8_clip(key, n, QUOTE_MAX);
            tams_buf_addf(why, "'%.*s%s' is not a webhook option this server supports", (int)k, key,
                          k < n ? "..." : "");
            rc = TAMS_ERR_VALIDATION;
        }
        if (rc)
            goto fail;
    }
    if (!out->url || !events) {
        tams_buf_addstr(why, "a webhook needs 'url' and 'events'");
        rc = TAMS_ERR_VALIDATION;
        goto fail;
    }
    if ((rc = parse_url(out->url, &host, why)))
        goto fail;
    out->host = host;
    if ((flags & TAMS_WEBHOOK_PUT) && (!out->id || !out->status)) {
        tams_buf_addstr(why, "a webhook PUT needs 'id' and 'status'");
        rc = TAMS_ERR_VALIDATION;
        goto fail;
    }
    if (!out->api_key_name != !out->api_key_value &&
        !((flags & TAMS_WEBHOOK_PUT) && out->api_key_name)) {
        tams_buf_addstr(why, "'api_key_name' and 'api_key_value' go together");
        rc = TAMS_ERR_VALIDATION;
        goto fail;
    }
    if (!json_object_is_type(events, json_type_array)) {
        tams_buf_addstr(why, "'events' must be an array of event types");
        rc = TAMS_ERR_VALIDATION;
        goto fail;
    }
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        const char *s = clean_string(json_object_array_get_idx(events, i));
        int k = s ? tams_webhook_event_index(s) : -1;
        if (k < 0) {
            tams_buf_addf(why, "'events' item %zu is not one of the event types (%s, %s, ...)", i,
                          tams_webhook_events[0], tams_webhook_events[1]);
            rc = TAMS_ERR_VALIDATION;
            goto fail;
        }
        out->events |= 1u << k;
    }
    return 0;
fail:
    tams_webhook_reg_release(out);
    return rc;
}

void tams_webhook_doc(const struct tams_webhook_reg *r, struct tams_buf *out)
{
    bool first = true;

    tams_buf_addch(out, '{');
    json_object_object_foreach(r->_doc, key, val)
    {
        if (strcmp(key, "api_key_value") == 0 || strcmp(key, "status") == 0 ||
            strcmp(key, "id") == 0)
            continue;
        if (!first)
            tams_buf_addch(out, ',');
        first = false;
        tams_json_escape(out, key, strlen(key));
        tams_buf_addch(out, ':');
        tams_buf_addstr(out, json_object_to_json_string_ext(
                                 val, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    tams_buf_addch(out, '}');
}

static void add_member(struct tams_buf *out, bool *first, const char *key, const char *raw)
{
    if (!*first)
        tams_buf_addch(out, ',');
    *first = false;
    tams_json_escape(out, key, strlen(key));
    tams_buf_addch(out, ':');
    tams_buf_addstr(out, raw);
}

void tams_webhook_view(struct tams_buf *out, const char *doc, bool v82, const char *id,
                       const char *status, const char *error)
{
    json_object *d = json_tokener_parse(doc);
    bool first = true;

    tams_buf_addch(out, '{');
    if (v82 && id) {
        tams_buf_addstr(out, "\"id\":");
        tams_json_escape(out, id, strlen(id));
        first = false;
    }
    if (json_object_is_type(d, json_type_object)) {
        json_object_object_foreach(d, key, val)
        {
            if (!v82 && tams_webhook_member_82(key))
                continue;
            add_member(out, &first, key,
                       json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        }
    }
    if (v82 && status) {
        add_member(out, &first, "status", "");
        tams_json_escape(out, status, strlen(status));
    }
    if (v82 && error)
        add_member(out, &first, "error", error);
    tams_buf_addch(out, '}');
    json_object_put(d);
}

static bool in_list(const struct tams_webhook_list *l, const char *id)
{
    for (size_t i = 0; id && i < l->n; i++)
        if (strcmp(l->v[i], id) == 0)
            return true;
    return false;
}

/* Some id of the comma-separated list is in l. */
static bool any_in_list(const struct tams_webhook_list *l, const char *csv)
{
    while (csv && *csv) {
        const char *comma = strchr(csv, ',');
        size_t len = comma ? (size_t)(comma - csv) : strlen(csv);

        for (size_t i = 0; i < l->n; i++)
            if (strlen(l->v[i]) == len && memcmp(l->v[i], csv, len) == 0)
                return true;
        csv = comma ? comma + 1 : NULL;
    }
    return false;
}

/* A collected_by filter: 8.2 says an empty list keeps the items nothing collects; in 7.0 an
 * empty list keeps nothing (as before). */
static bool collected_in(const struct tams_webhook_reg *r, const struct tams_webhook_list *l,
                         const char *csv)
{
    if (r->v82 && l->n == 0)
        return !csv || !*csv;
    return any_in_list(l, csv);
}

bool tams_webhook_wants(const struct tams_webhook_reg *r, const char *type, const char *flow_id,
                        const char *source_id, const char *flow_collected_by,
                        const char *source_collected_by)
{
    int k = tams_webhook_event_index(type);
    bool source_event = strncmp(type, "sources/", 8) == 0;

    if (k < 0 || !(r->events & (1u << k)))
        return false;
    if (!source_event && (r->flow_ids.set || r->flow_collected_by_ids.set) &&
        !in_list(&r->flow_ids, flow_id) &&
        !(r->flow_collected_by_ids.set &&
          collected_in(r, &r->flow_collected_by_ids, flow_collected_by)))
        return false;
    if ((r->source_ids.set || r->source_collected_by_ids.set) &&
        !in_list(&r->source_ids, source_id) &&
        !(r->source_collected_by_ids.set &&
          collected_in(r, &r->source_collected_by_ids, source_collected_by)))
        return false;
    return true;
}
