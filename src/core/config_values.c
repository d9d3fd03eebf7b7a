/* SPDX-License-Identifier: Apache-2.0 */
/* config_values.c - the parsers of setting values (config_values.h). */
#include "core/common.h"
#include "core/config_values.h"

#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"

#define VMAX TAMS_CONFIG_VALUE_MAX

/* 64 hex digits, either case. */
bool tams_cfg_hex_key_valid(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    return n == 64;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int parse_port(const char *s, size_t n, int *port)
{
    long v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

/* A DNS name: labels of letters, digits and '-' (not at either end), 1-63 bytes, 253 in all. */
static bool hostname_valid(const char *s, size_t n)
{
    size_t label = 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_alnum(s[i]) || s[i] == '-') {
            if (s[i] == '-' && label == 0)
                return false;
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* host:port, [v6]:port, or (need_port false) either without the port (*port = -1). On success
 * *host (if not NULL) gets a copy of the host without brackets. */
int tams_cfg_parse_hostport(const char *s, size_t n, bool need_port, char **host, int *port,
                            char *why, size_t whylen)
{
    const char *h, *colon = NULL;
    size_t hn;
    char tmp[64];
    bool v6 = false;

    *port = -1;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) {
            snprintf(why, whylen, "missing ']' after the IPv6 address");
            return -1;
        }
        h = s + 1;
        hn = (size_t)(close - h);
        if (close + 1 < s + n) {
            if (close[1] != ':') {
                snprintf(why, whylen, "expected ':' and a port after ']'");
                return -1;
            }
            colon = close + 1;
        }
        v6 = true;
    } else {
        const char *first = memchr(s, ':', n);
        h = s;
        if (first && memchr(first + 1, ':', n - (size_t)(first + 1 - s))) {
            snprintf(why, whylen, "an IPv6 address must be in brackets, as in [::1]:8080");
            return -1;
        }
        colon = first;
        hn = colon ? (size_t)(colon - s) : n;
    }
    if (colon) {
        if (parse_port(colon + 1, n - (size_t)(colon + 1 - s), port)) {
            snprintf(why, whylen, "the port must be a number from 0 to 65535");
            return -1;
        }
    } else if (need_port) {
        snprintf(why, whylen, "missing port, as in 127.0.0.1:8080");
        return -1;
    }
    if (hn == 0) {
        snprintf(why, whylen, "missing host");
        return -1;
    }
    if (v6) {
        unsigned char addr[16];
        if (hn >= sizeof(tmp)) {
            snprintf(why, whylen, "not an IPv6 address");
            return -1;
        }
        memcpy(tmp, h, hn);
        tmp[hn] = '\0';
        if (inet_pton(AF_INET6, tmp, addr) != 1) {
            snprintf(why, whylen, "not an IPv6 address");
            return -1;
        }
    } else {
        bool numeric = true;
        for (size_t i = 0; i < hn; i++)
            numeric = numeric && (is_digit(h[i]) || h[i] == '.');
        if (numeric) {
            struct in_addr addr;
            if (hn >= sizeof(tmp)) {
                snprintf(why, whylen, "not an IPv4 address");
                return -1;
            }
            memcpy(tmp, h, hn);
            tmp[hn] = '\0';
            if (inet_pton(AF_INET, tmp, &addr) != 1) {
                snprintf(why, whylen, "not an IPv4 address");
                return -1;
            }
        } else if (!hostname_valid(h, hn)) {
            snprintf(why, whylen, "not a valid host name");
            return -1;
        }
    }
    if (host)
        *host = tams_strndup(h, hn);
    return 0;
}

static bool prefix_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Length of "http://" or "https://" at the start of s, else 0. */
static size_t http_scheme_len(const char *s)
{
    if (prefix_nocase(s, "http://"))
        return 7;
    if (prefix_nocase(s, "https://"))
        return 8;
    return 0;
}

int tams_cfg_check_url(const char *v, size_t *keep, char *why, size_t whylen)
{
    size_t n = strlen(v), sl = http_scheme_len(v), alen;
    const char *auth, *path;
    int port;

    if (!sl) {
        snprintf(why, whylen, "expected an absolute http:// or https:// URL");
        return -1;
    }
    if (strpbrk(v, "?#")) {
        snprintf(why, whylen, "a base URL has no query or fragment");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
            snprintf(why, whylen, "spaces and non-ASCII bytes must be percent-encoded");
            return -1;
        }
    }
    auth = v + sl;
    path = strchr(auth, '/');
    alen = path ? (size_t)(path - auth) : strlen(auth);
    if (memchr(auth, '@', alen)) {
        snprintf(why, whylen, "a base URL has no user name or password");
        return -1;
    }
    if (tams_cfg_parse_hostport(auth, alen, false, NULL, &port, why, whylen))
        return -1;
    /* Strip trailing slashes, down to an empty path. */
    *keep = n;
    while (*keep > sl + alen && v[*keep - 1] == '/')
        (*keep)--;
    return 0;
}

/* One origin as a browser sends it: scheme://host[:port], nothing else. */
static int check_origin(const char *s, size_t n, char *why, size_t whylen)
{
    char tmp[VMAX + 1];
    size_t sl;
    int port;

    memcpy(tmp, s, n);
    tmp[n] = '\0';
    sl = http_scheme_len(tmp);
    if (!sl) {
        snprintf(why, whylen, "each origin must start with http:// or https://");
        return -1;
    }
    if (memchr(tmp + sl, '/', n - sl)) {
        snprintf(why, whylen, "an origin has no path, not even a trailing '/'");
        return -1;
    }
    return tams_cfg_parse_hostport(tmp + sl, n - sl, false, NULL, &port, why, whylen);
}

int tams_cfg_parse_origins(const char *v, char **out, char *why, size_t whylen)
{
    struct tams_buf b = TAMS_BUF_INIT(VMAX);
    const char *p = v;
    size_t items = 0;
    bool star = false;

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == p) {
            if (!comma && items == 0)
                break; /* the whole value is blank: CORS off */
            snprintf(why, whylen, "empty origin in the list");
            goto fail;
        }
        if ((size_t)(e - p) == 1 && *p == '*') {
            star = true;
        } else if (check_origin(p, (size_t)(e - p), why, whylen)) {
            goto fail;
        }
        if (items++)
            tams_buf_addch(&b, ',');
        tams_buf_add(&b, p, (size_t)(e - p));
        if (!comma)
            break;
        p = comma + 1;
    }
    if (star && items > 1) {
        snprintf(why, whylen, "'*' cannot be combined with other origins");
        goto fail;
    }
    tams_free(*out);
    *out = tams_buf_detach(&b, NULL);
    return 0;
fail:
    tams_buf_release(&b);
    return -1;
}

int tams_cfg_parse_int(const char *v, long long min, long long max, long long *out, char *why,
                       size_t whylen)
{
    char *end;
    long long n;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (end == v || *end || errno || !(is_digit(v[0]) || v[0] == '-') || n < min || n > max) {
        snprintf(why, whylen, "expected an integer from %lld to %lld", min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int tams_cfg_parse_size(const char *v, long long min, long long max, size_t *out, char *why,
                        size_t whylen)
{
    unsigned long long n = 0, mult = 1;
    size_t i = 0;

    for (; is_digit(v[i]); i++) {
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, v[i] - '0', &n))
            goto bad;
    }
    if (i == 0)
        goto bad;
    switch (v[i]) {
    case '\0':
        break;
    case 'k':
    case 'K':
        mult = 1024;
        break;
    case 'm':
    case 'M':
        mult = 1024 * 1024;
        break;
    case 'g':
    case 'G':
        mult = 1024 * 1024 * 1024;
        break;
    default:
        goto bad;
    }
    if (v[i] && v[i + 1])
        goto bad;
    if (__builtin_mul_overflow(n, mult, &n) || n < (unsigned long long)min ||
        n > (unsigned long long)max)
        goto bad;
    *out = (size_t)n;
    return 0;
bad:
    snprintf(why, whylen, "expected a size from %lld to %lld bytes, with an optional k, M or G",
             min, max);
    return -1;
}

int tams_cfg_parse_bool(const char *v, bool *out, char *why, size_t whylen)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    snprintf(why, whylen, "expected true, false, yes, no, on, off, 1 or 0");
    return -1;
}

int tams_cfg_parse_database(const char *v, char *why, size_t whylen)
{
    if (!*v)
        return 0;
    if (prefix_nocase(v, "sqlite:")) {
        if (v[7])
            return 0;
        snprintf(why, whylen, "sqlite: needs a path, as in sqlite:/var/lib/tams/tams.db");
        return -1;
    }
    if ((prefix_nocase(v, "postgresql://") && v[13]) || (prefix_nocase(v, "postgres://") && v[11]))
        return 0;
    snprintf(why, whylen, "expected empty, sqlite:PATH, postgresql://... or postgres://...");
    return -1;
}
