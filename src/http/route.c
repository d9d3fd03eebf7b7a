/* SPDX-License-Identifier: Apache-2.0 */
/* route.c - route matching, percent-decoding and query parsing. Pure: no sockets. */
#include "core/common.h"
#include "core/buf.h"
#include "core/percent.h"
#include "core/utf8.h"
#include "http/limits.h"
#include "http/route.h"

char *tams_url_decode(struct tams_pool *pool, const char *s, size_t n, bool plus_is_space)
{
    char *out = tams_pool_alloc(pool, n + 1);
    size_t len;

    if (tams_percent_decode(s, n, plus_is_space ? TAMS_PERCENT_PLUS : 0, out, &len))
        return NULL;
    /* Decoded text is compared with, and stored beside, JSON strings: the same strict UTF-8. */
    if (!tams_utf8_valid(out, len))
        return NULL;
    return out;
}

int tams_query_parse(struct tams_pool *pool, const char *raw, struct tams_kv **out, size_t *n)
{
    size_t count = 0, cap = 0;
    struct tams_kv *kv = NULL;
    const char *p = raw;

    *out = NULL;
    *n = 0;
    if (!raw)
        return 0;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char *name, *value;

        if (len > 0) {
            if (count == TAMS_LIMIT_QUERY_PARAMS)
                return TAMS_ERR_TOOBIG;
            name = tams_url_decode(pool, p, klen, true);
            value = eq ? tams_url_decode(pool, eq + 1, len - klen - 1, true)
                       : tams_pool_strdup(pool, "");
            if (!name || !value)
                return TAMS_ERR_BADQUERY;
            if (count == cap) {
                struct tams_kv *nkv;
                cap = cap ? cap * 2 : 8;
                nkv = tams_pool_alloc(pool, cap * sizeof(*nkv));
                if (count)
                    memcpy(nkv, kv, count * sizeof(*nkv));
                kv = nkv;
            }
            kv[count].name = name;
            kv[count].value = value;
            count++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    *out = kv;
    *n = count;
    return 0;
}

/* Next raw segment of a path: [*s, end) after skipping one '/'. Returns false at the end. */
static bool next_segment(const char **p, const char **seg, size_t *len)
{
    const char *s = *p;
    const char *e;
    if (*s != '/')
        return false;
    s++;
    e = strchr(s, '/');
    if (!e)
        e = s + strlen(s);
    *seg = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

/* Does raw_path match pattern? Stores raw parameter slices when it does. */
static bool match_pattern(const char *pattern, const char *raw_path, const char **pstart,
                          size_t *plen, size_t *nparams)
{
    const char *pp = pattern, *rp = raw_path;
    const char *pseg, *rseg;
    size_t pl, rl;

    *nparams = 0;
    if (strcmp(pattern, "/") == 0)
        return strcmp(raw_path, "/") == 0 || raw_path[0] == '\0';
    while (next_segment(&pp, &pseg, &pl)) {
        if (!next_segment(&rp, &rseg, &rl))
            return false;
        if (pl >= 2 && pseg[0] == '{' && pseg[pl - 1] == '}') {
            if (*nparams == TAMS_LIMIT_PATH_PARAMS)
                return false;
            if (pl >= 3 && pseg[pl - 2] == '*') {
                /* rest of the path, however many segments */
                size_t rest = strlen(rseg);
                /* every segment non-empty, as for single placeholders */
                if (rl == 0 || rseg[rest - 1] == '/' || strstr(rseg, "//"))
                    return false;
                pstart[*nparams] = rseg;
                plen[(*nparams)++] = rest;
                return true;
            }
            if (rl == 0)
                return false;
            pstart[*nparams] = rseg;
            plen[(*nparams)++] = rl;
        } else if (pl != rl || memcmp(pseg, rseg, pl) != 0) {
            return false;
        }
    }
    return *rp == '\0';
}

enum tams_route_match tams_route_match(const struct tams_route_table *t, const char *raw_path,
                                       enum tams_method method, struct tams_pool *pool,
                                       const struct tams_route **route, const char **params,
                                       unsigned *allowed)
{
    const char *pstart[TAMS_LIMIT_PATH_PARAMS];
    size_t plen[TAMS_LIMIT_PATH_PARAMS], np;
    const struct tams_route *found = NULL;
    size_t found_np = 0;
    const char *found_start[TAMS_LIMIT_PATH_PARAMS];
    size_t found_len[TAMS_LIMIT_PATH_PARAMS];
    bool path_known = false;
    enum tams_method want = method == TAMS_HEAD ? TAMS_GET : method;

    *allowed = 0;
    for (size_t i = 0; i < t->nroutes; i++) {
        const struct tams_route *r = &t->routes[i];
        if ((r->flags & t->skip) || !match_pattern(r->pattern, raw_path, pstart, plen, &np))
            continue;
        path_known = true;
        *allowed |= r->methods;
        if (!found && (r->methods & want)) {
            found = r;
            found_np = np;
            memcpy(found_start, pstart, sizeof(pstart));
            memcpy(found_len, plen, sizeof(plen));
        }
    }
    if (*allowed & TAMS_GET)
        *allowed |= TAMS_HEAD;
    if (!path_known)
        return TAMS_ROUTE_NO_PATH;
    if (!found)
        return TAMS_ROUTE_NO_METHOD;
    for (size_t i = 0; i < found_np; i++) {
        params[i] = tams_url_decode(pool, found_start[i], found_len[i], false);
        if (!params[i])
            return TAMS_ROUTE_BAD_ENCODING;
    }
    *route = found;
    return TAMS_ROUTE_FOUND;
}

int tams_route_version(const struct tams_api_version *v, size_t n, const char *raw_path,
                       const char **rest)
{
    size_t pl = strlen(TAMS_VERSION_PREFIX);
    const char *ver = raw_path + pl;
    size_t vl;

    if (strncmp(raw_path, TAMS_VERSION_PREFIX, pl) != 0)
        return -1;
    vl = strcspn(ver, "/");
    for (size_t i = 0; i < n; i++) {
        if (strlen(v[i].version) != vl || memcmp(v[i].version, ver, vl) != 0)
            continue;
        *rest = ver[vl] ? ver + vl : "/";
        return (int)i;
    }
    return -1;
}

const char *tams_method_name(enum tams_method m)
{
    switch (m) {
    case TAMS_GET:
        return "GET";
    case TAMS_HEAD:
        return "HEAD";
    case TAMS_PUT:
        return "PUT";
    case TAMS_POST:
        return "POST";
    case TAMS_DELETE:
        return "DELETE";
    case TAMS_OPTIONS:
        return "OPTIONS";
    }
    return "?";
}

void tams_methods_format(unsigned methods, struct tams_buf *b)
{
    static const enum tams_method order[] = {TAMS_GET,  TAMS_HEAD,   TAMS_PUT,
                                             TAMS_POST, TAMS_DELETE, TAMS_OPTIONS};
    bool first = true;
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(order); i++) {
        if (!(methods & order[i]))
            continue;
        if (!first)
            tams_buf_addstr(b, ", ");
        tams_buf_addstr(b, tams_method_name(order[i]));
        first = false;
    }
}
