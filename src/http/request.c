/* SPDX-License-Identifier: Apache-2.0 */
/* request.c - query, header and base URL access for handlers. */
#include "core/common.h"
#include "http/request.h"

#include <microhttpd.h>

const char *tams_req_query_get(const struct tams_req *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

size_t tams_req_query_count(const struct tams_req *req, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            n++;
    return n;
}

const char *tams_req_header(const struct tams_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->_conn, MHD_HEADER_KIND, name);
}

/* Host header characters we are willing to echo into URLs. */
static bool host_ok(const char *h)
{
    if (!*h || strlen(h) > 255)
        return false;
    for (const char *p = h; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return false;
    }
    return true;
}

const char *tams_req_base_url(struct tams_req *req)
{
    const struct tams_url_base *b = req->_url_base;
    const char *host;
    const char *vp = req->version_prefix ? req->version_prefix : "";

    if (b->public_url[0])
        return vp[0] ? tams_pool_printf(&req->pool, "%s%s", b->public_url, vp) : b->public_url;
    host = tams_req_header(req, "Host");
    if (!host || !host_ok(host))
        host = b->authority;
    return tams_pool_printf(&req->pool, "http://%s%s%s", host, b->mount_prefix, vp);
}
