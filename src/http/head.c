/* SPDX-License-Identifier: Apache-2.0 */
/* head.c - Host, Content-Length and Transfer-Encoding checks libmicrohttpd leaves to us. */
#include "core/common.h"
#include "http/head.h"

#include <strings.h>

/* The value without the optional whitespace around it. */
static void trimmed(const char *v, const char **start, size_t *len)
{
    size_t n;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *start = v;
    *len = n;
}

/* uri-host [ ":" port ] (RFC 3986 §3.2.2): a registered name, an IPv4 address or a bracketed IP
 * literal; no user information, no path. Empty is allowed (RFC 9112 §3.2). */
static bool host_ok(const char *v)
{
    static const char allowed[] = "-._~%!$&'()*+,;=:[]";
    const char *p;
    size_t n;
    trimmed(v, &p, &n);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c && strchr(allowed, c))))
            return false;
    }
    return true;
}

/* A decimal Content-Length that fits 64 bits. */
static bool decimal(const char *v, uint64_t *out)
{
    const char *p;
    size_t n;
    uint64_t x = 0;
    trimmed(v, &p, &n);
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || __builtin_mul_overflow(x, 10, &x) ||
            __builtin_add_overflow(x, (uint64_t)(p[i] - '0'), &x))
            return false;
    }
    *out = x;
    return true;
}

static bool is_chunked(const char *v)
{
    const char *p;
    size_t n;
    trimmed(v, &p, &n);
    return n == 7 && strncasecmp(p, "chunked", 7) == 0;
}

int tams_head_check(const char *version, const struct tams_head_field *fields, size_t n,
                    struct tams_buf *why)
{
    bool http10 = version && strcmp(version, "HTTP/1.0") == 0;
    size_t nhost = 0, nlength = 0, nencoding = 0;
    const char *host = NULL, *encoding = NULL;
    uint64_t length = 0;

    for (size_t i = 0; i < n; i++) {
        const char *name = fields[i].name, *value = fields[i].value ? fields[i].value : "";
        if (strpbrk(name, " \t")) {
            tams_buf_addstr(why, "a header field name has whitespace before its colon");
            return TAMS_ERR_BADREQUEST;
        }
        if (strcasecmp(name, "Host") == 0) {
            if (nhost++ == 0)
                host = value;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            uint64_t v;
            if (!decimal(value, &v)) {
                tams_buf_addstr(why, "Content-Length must be a decimal number of bytes");
                return TAMS_ERR_BADREQUEST;
            }
            if (nlength++ == 0) {
                length = v;
            } else if (v != length) {
                tams_buf_addf(why,
                              "the request has two different Content-Length headers (%" PRIu64
                              " and %" PRIu64 ")",
                              length, v);
                return TAMS_ERR_BADREQUEST;
            }
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (nencoding++ == 0)
                encoding = value;
        }
    }
    if (nhost == 0 && !http10) {
        tams_buf_addstr(why, "an HTTP/1.1 request must have a Host header");
        return TAMS_ERR_BADREQUEST;
    }
    if (nhost > 1) {
        tams_buf_addstr(why, "the request has more than one Host header");
        return TAMS_ERR_BADREQUEST;
    }
    if (host && !host_ok(host)) {
        tams_buf_addstr(why, "the Host header is not a host name or address with an optional port");
        return TAMS_ERR_BADREQUEST;
    }
    if (nencoding == 0)
        return 0;
    if (http10) {
        tams_buf_addstr(why, "an HTTP/1.0 request must not have a Transfer-Encoding header");
        return TAMS_ERR_BADREQUEST;
    }
    if (nlength) {
        tams_buf_addstr(why, "the request has both Transfer-Encoding and Content-Length: its body "
                             "length is ambiguous");
        return TAMS_ERR_BADREQUEST;
    }
    if (nencoding > 1 || !is_chunked(encoding)) {
        tams_buf_addstr(why, "the only Transfer-Encoding accepted is a single 'chunked'");
        return TAMS_ERR_BADREQUEST;
    }
    return 0;
}
