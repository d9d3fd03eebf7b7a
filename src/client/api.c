/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/api.h"
#include "core/percent.h"

static int parse(struct tams_http_resp *r, const char *target, json_object **out)
{
    *out = NULL;
    if (r->body.len == 0)
        return TAMS_EXIT_OK;
    json_tokener *tok = json_tokener_new();
    json_object *doc = json_tokener_parse_ex(tok, r->body.data, (int)r->body.len);
    bool ok = doc && json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(doc);
        fprintf(stderr, "tams: %s: the answer is not JSON\n", target);
        return TAMS_EXIT_SERVER;
    }
    *out = doc;
    return TAMS_EXIT_OK;
}

int tams_api_call(struct tams_http *h, const char *method, const char *target, json_object *body,
                  json_object **out)
{
    struct tams_http_resp r;
    tams_http_resp_init(&r);
    const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
    int rc = tams_http_do(h, method, target, text, text ? strlen(text) : 0,
                          text ? "application/json" : NULL, &r);
    if (rc != TAMS_EXIT_OK)
        fprintf(stderr, "tams: %s\n", r.error);
    else if (out)
        rc = parse(&r, target, out);
    tams_http_resp_release(&r);
    return rc;
}

int tams_api_get(struct tams_http *h, const char *target, json_object **out)
{
    return tams_api_call(h, "GET", target, NULL, out);
}

int tams_api_list(struct tams_http *h, const char *target, tams_api_item_fn fn, void *arg,
                  int *pages)
{
    struct tams_http_resp r;
    char *url = tams_strdup(target);
    int rc = TAMS_EXIT_OK, n = 0;
    tams_http_resp_init(&r);
    while (url) {
        json_object *doc = NULL;
        if ((rc = tams_http_do(h, "GET", url, NULL, 0, NULL, &r)) != TAMS_EXIT_OK) {
            fprintf(stderr, "tams: %s\n", r.error);
            break;
        }
        if ((rc = parse(&r, url, &doc)) != TAMS_EXIT_OK)
            break;
        n++;
        if (!doc || !json_object_is_type(doc, json_type_array)) {
            fprintf(stderr, "tams: %s: the answer is not a list\n", url);
            json_object_put(doc);
            rc = TAMS_EXIT_SERVER;
            break;
        }
        for (size_t i = 0; i < json_object_array_length(doc) && rc == TAMS_EXIT_OK; i++)
            rc = fn(json_object_array_get_idx(doc, i), arg);
        json_object_put(doc);
        tams_free(url);
        url = NULL;
        if (rc != TAMS_EXIT_OK)
            break;
        url = r.next;
        r.next = NULL;
    }
    tams_free(url);
    tams_http_resp_release(&r);
    if (pages)
        *pages = n;
    return rc;
}

void tams_api_query(struct tams_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    (void)tams_buf_addch(b, strchr(b->data, '?') ? '&' : '?');
    (void)tams_buf_addstr(b, name);
    (void)tams_buf_addch(b, '=');
    tams_percent_encode(b, value, strlen(value), NULL, 0);
}

const char *tams_api_str(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

int tams_api_version(struct tams_http *h, int *version)
{
    if (!h->api_version) {
        json_object *svc = NULL;
        int rc = tams_api_get(h, "/service", &svc);
        if (rc)
            return rc;
        const char *v = tams_api_str(svc, "api_version");
        unsigned major = 7, minor = 0;
        if (v && (sscanf(v, "%u.%u", &major, &minor) != 2 || major > 99 || minor > 99)) {
            fprintf(stderr, "tams: /service: api_version '%s' is not a TAMS version\n", v);
            json_object_put(svc);
            return TAMS_EXIT_SERVER;
        }
        json_object_put(svc);
        h->api_version = (int)(major * 100 + minor);
    }
    *version = h->api_version;
    return TAMS_EXIT_OK;
}

int tams_api_fit_flow(struct tams_http *h, json_object *flow)
{
    int version = 0;
    int rc = tams_api_version(h, &version);
    json_object *ep;
    const char *format = tams_api_str(flow, "format");
    if (rc || !format || strcmp(format, "urn:x-nmos:format:video") != 0 ||
        !json_object_object_get_ex(flow, "essence_parameters", &ep) ||
        !json_object_is_type(ep, json_type_object))
        return rc;
    if (version < 800)
        json_object_object_del(ep, "vfr");
    else if (!json_object_object_get_ex(ep, "frame_rate", NULL) &&
             !json_object_object_get_ex(ep, "vfr", NULL))
        json_object_object_add(ep, "vfr", json_object_new_boolean(1));
    return TAMS_EXIT_OK;
}
