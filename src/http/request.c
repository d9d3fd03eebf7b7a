/* SPDX-License-Identifier: Apache-2.0 */
/* request.c - query and header access for handlers, with parse-or-respond helpers. */
#include "core/common.h"
#include "http/request.h"
#include "http/respond.h"
#include "http/server_int.h"

#include <errno.h>
#include <strings.h>

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
    return tams__http_header(req, name);
}

static int single_or_400(struct tams_req *req, const char *name, const char **out)
{
    size_t n = tams_req_query_count(req, name);
    *out = NULL;
    if (n == 0)
        return 0;
    if (n > 1) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "query parameter '%s' is given more than once",
                        name);
        return -1;
    }
    *out = tams_req_query_get(req, name);
    return 0;
}

int tams_req_query_str_or_400(struct tams_req *req, const char *name, const char **out)
{
    const char *v;
    if (single_or_400(req, name, &v))
        return -1;
    if (v)
        *out = v;
    return 0;
}

int tams_req_query_bool_or_400(struct tams_req *req, const char *name, bool *out)
{
    const char *v;
    if (single_or_400(req, name, &v))
        return -1;
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0) {
        *out = false;
    } else {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter '%s' must be 'true' or 'false', not '%s'", name, v);
        return -1;
    }
    return 0;
}

int tams_req_query_int_or_400(struct tams_req *req, const char *name, int64_t min, int64_t max,
                              int64_t *out)
{
    const char *v;
    char *end;
    long long n;
    if (single_or_400(req, name, &v))
        return -1;
    if (!v)
        return 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno || v[0] == ' ' || v[0] == '+' || n < min || n > max) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter '%s' must be an integer from %" PRId64 " to %" PRId64
                        ", not '%s'",
                        name, min, max, v);
        return -1;
    }
    *out = n;
    return 0;
}

const char *tams_req_base_url(struct tams_req *req)
{
    return tams__http_base_url(req);
}
