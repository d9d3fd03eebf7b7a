/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/http.h"
#include "client/link.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <strings.h>

#define BODY_MAX (256u << 20)

int tams_http_exit_of(long status)
{
    if (status >= 200 && status < 300)
        return TAMS_EXIT_OK;
    if (status == 401 || status == 403)
        return TAMS_EXIT_AUTH;
    if (status == 404)
        return TAMS_EXIT_NOTFOUND;
    if (status >= 400 && status < 500)
        return TAMS_EXIT_REFUSED;
    return TAMS_EXIT_SERVER;
}

int tams_http_init(struct tams_http *h, const char *base, const char *token, const char *user,
                   const char *password)
{
    memset(h, 0, sizeof(*h));
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return TAMS_ERR_BADREQUEST;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    h->base = tams_strndup(base, n);
    if (token && *token) {
        struct tams_buf b = TAMS_BUF_INIT(4096);
        if (tams_buf_addf(&b, "Authorization: Bearer %s", token)) {
            tams_buf_release(&b);
            tams_free(h->base);
            h->base = NULL;
            return TAMS_ERR_BADREQUEST;
        }
        h->_auth_header = tams_buf_detach(&b, NULL);
    } else if (user && *user) {
        h->_user = tams_strdup(user);
        h->_password = tams_strdup(password ? password : "");
    }
    h->_curl = curl_easy_init();
    tams_assert(h->_curl);
    return 0;
}

int tams_http_init_like(struct tams_http *h, const struct tams_http *src, const char *base)
{
    int rc = tams_http_init(h, base, NULL, src->_user, src->_password);
    if (rc == 0 && src->_auth_header)
        h->_auth_header = tams_strdup(src->_auth_header);
    h->verbose = src->verbose;
    return rc;
}

void tams_http_release(struct tams_http *h)
{
    if (h->_curl)
        curl_easy_cleanup(h->_curl);
    tams_free(h->base);
    tams_free(h->_auth_header);
    tams_free(h->_user);
    if (h->_password)
        memset(h->_password, 0, strlen(h->_password));
    tams_free(h->_password);
    memset(h, 0, sizeof(*h));
}

void tams_http_resp_init(struct tams_http_resp *r)
{
    memset(r, 0, sizeof(*r));
    tams_buf_init(&r->body, BODY_MAX);
}

void tams_http_resp_release(struct tams_http_resp *r)
{
    tams_buf_release(&r->body);
    tams_free(r->next);
    tams_free(r->location);
    tams_free(r->content_type);
    r->next = r->location = r->content_type = NULL;
    r->status = 0;
    r->error[0] = '\0';
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct tams_http_resp *r = arg;
    return tams_buf_add(&r->body, p, size * nmemb) ? 0 : size * nmemb;
}

static char *header_value(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
        return NULL;
    p += k + 1;
    n -= k + 1;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    return tams_strndup(p, n);
}

struct hdr_ctx {
    struct tams_http_resp *r;
    char *link;
};

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct hdr_ctx *c = arg;
    size_t n = size * nmemb;
    char *v;
    if ((v = header_value(p, n, "link"))) {
        tams_free(c->link);
        c->link = v;
    } else if ((v = header_value(p, n, "location"))) {
        tams_free(c->r->location);
        c->r->location = v;
    } else if ((v = header_value(p, n, "content-type"))) {
        tams_free(c->r->content_type);
        c->r->content_type = v;
    }
    return n;
}

/* The next page's URL: as given when absolute, else resolved against the base's origin. */
static char *absolute(const struct tams_http *h, const char *uri, size_t n)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 16);
    if (n > 7 && (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0)) {
        (void)tams_buf_add(&b, uri, n);
    } else {
        const char *host = strstr(h->base, "://") + 3;
        const char *slash = strchr(host, '/');
        size_t origin = slash ? (size_t)(slash - h->base) : strlen(h->base);
        (void)tams_buf_add(&b, h->base, origin);
        if (n == 0 || uri[0] != '/')
            (void)tams_buf_addch(&b, '/');
        (void)tams_buf_add(&b, uri, n);
    }
    return tams_buf_detach(&b, NULL);
}

/* The error summary of a TAMS error body, else the start of whatever came. */
static void describe(struct tams_http_resp *r, const char *method, const char *target)
{
    const char *summary = NULL, *type = NULL;
    json_object *doc = r->body.len ? json_tokener_parse(r->body.data) : NULL, *v;
    if (doc && json_object_is_type(doc, json_type_object)) {
        if (json_object_object_get_ex(doc, "summary", &v) &&
            json_object_is_type(v, json_type_string))
            summary = json_object_get_string(v);
        if (json_object_object_get_ex(doc, "type", &v) && json_object_is_type(v, json_type_string))
            type = json_object_get_string(v);
    }
    if (summary)
        snprintf(r->error, sizeof(r->error), "%s %s: %ld %s: %s", method, target, r->status,
                 type ? type : "error", summary);
    else
        snprintf(r->error, sizeof(r->error), "%s %s: HTTP %ld%s%.200s", method, target, r->status,
                 r->body.len ? ": " : "", r->body.data);
    json_object_put(doc);
}

int tams_http_do(struct tams_http *h, const char *method, const char *target, const void *body,
                 size_t n, const char *ctype, struct tams_http_resp *r)
{
    CURL *c = h->_curl;
    struct curl_slist *hdrs = NULL;
    struct hdr_ctx hc = {.r = r};
    char *url = NULL;
    int rc;

    tams_http_resp_release(r);
    tams_buf_init(&r->body, BODY_MAX);
    if (target[0] == '/') {
        struct tams_buf b = TAMS_BUF_INIT(1 << 16);
        (void)tams_buf_addstr(&b, h->base);
        (void)tams_buf_addstr(&b, target);
        url = tams_buf_detach(&b, NULL);
    } else {
        url = tams_strdup(target);
    }
    /* Credentials only for our own server: a storage URL of another origin is presigned. */
    size_t blen = strlen(h->base);
    bool ours = strncmp(url, h->base, blen) == 0 &&
                (url[blen] == '/' || url[blen] == '\0' || url[blen] == '?');

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hc);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tams/" TAMS_VERSION);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (ours && h->_auth_header)
        hdrs = curl_slist_append(hdrs, h->_auth_header);
    if (ours && h->_user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->_password);
    }
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        struct tams_buf b = TAMS_BUF_INIT(512);
        (void)tams_buf_addf(&b, "Content-Type: %s", ctype ? ctype : "application/octet-stream");
        hdrs = curl_slist_append(hdrs, b.data);
        tams_buf_release(&b);
        hdrs = curl_slist_append(hdrs, "Expect:");
    }
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(r->error, sizeof(r->error), "%s %s: %s", method, url,
                 r->body.toobig ? "answer too large" : curl_easy_strerror(cc));
        rc = r->body.toobig ? TAMS_EXIT_SERVER : TAMS_EXIT_CONNECT;
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (h->verbose)
        fprintf(stderr, "tams: %s %s -> %ld\n", method, url, r->status);
    if (hc.link) {
        const char *u;
        size_t ulen;
        if (tams_link_next(hc.link, strlen(hc.link), &u, &ulen) == 1)
            r->next = absolute(h, u, ulen);
    }
    rc = tams_http_exit_of(r->status);
    if (rc != TAMS_EXIT_OK)
        describe(r, method, target);
out:
    curl_slist_free_all(hdrs);
    tams_free(hc.link);
    tams_free(url);
    return rc;
}
