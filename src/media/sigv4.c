/* SPDX-License-Identifier: Apache-2.0 */
/* sigv4.c - AWS Signature Version 4 query-string presigning (S3 presigned URLs). */
#include "core/common.h"
#include "core/buf.h"
#include "core/hex.h"
#include "core/percent.h"
#include "media/sigv4.h"

#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_SCRATCH (64 * 1024) /* each intermediate string; parameters are capped below */
#define MAX_TOKEN 8192

/* One query parameter or header, already in canonical form. */
struct pair {
    struct tams_buf name, value;
};

static bool is_hexupper(unsigned char c)
{
    return c && strchr(tams_hex_upper, c);
}

/* RFC 7230 tchar */
static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool len_between(const char *s, size_t lo, size_t hi)
{
    return s && strnlen(s, hi + 1) >= lo && strnlen(s, hi + 1) <= hi;
}

static bool scope_part_ok(const char *s)
{
    if (!len_between(s, 1, 64))
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return false;
    return true;
}

static bool host_ok(const char *s)
{
    if (!len_between(s, 1, 255))
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (!(tams_percent_unreserved(*c) || *c == ':' || *c == '[' || *c == ']'))
            return false;
    return true;
}

static bool path_ok(const char *s)
{
    if (!s || s[0] != '/')
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (tams_percent_unreserved(*c) || *c == '/')
            continue;
        if (*c != '%' || !is_hexupper(c[1]) || !is_hexupper(c[2]))
            return false;
        c += 2;
    }
    return true;
}

static bool access_key_ok(const char *s)
{
    if (!len_between(s, 1, 128))
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c <= ' ' || *c >= 0x7f || *c == '/')
            return false;
    return true;
}

static bool method_ok(const char *s)
{
    if (!len_between(s, 1, 16))
        return false;
    for (const char *c = s; *c; c++)
        if (*c < 'A' || *c > 'Z')
            return false;
    return true;
}

static size_t list_len(const char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

/* The checks that do not need the headers or query parsed (those are checked as they are). */
static int validate(const struct tams_sigv4_params *p)
{
    if (!p || !method_ok(p->method) || !p->scheme ||
        (strcmp(p->scheme, "http") != 0 && strcmp(p->scheme, "https") != 0) || !host_ok(p->host) ||
        !path_ok(p->path) || !scope_part_ok(p->region) || !scope_part_ok(p->service) ||
        !access_key_ok(p->access_key) || !len_between(p->secret_key, 1, 256) ||
        (p->session_token && !len_between(p->session_token, 1, MAX_TOKEN)) || p->now < 0 ||
        p->now > INT64_C(253402300799) || p->expires < 1 || p->expires > TAMS_SIGV4_MAX_EXPIRES)
        return TAMS_ERR_BADREQUEST;
    if (list_len(p->extra_signed_headers) > TAMS_SIGV4_MAX_EXTRA)
        return TAMS_ERR_BADREQUEST;
    size_t nq = list_len(p->extra_query);
    if (nq % 2 || nq / 2 > TAMS_SIGV4_MAX_EXTRA)
        return TAMS_ERR_BADREQUEST;
    return 0;
}

/* Errors stick in the buffer (toobig); callers check once. */
static void encode(struct tams_buf *out, const char *s, size_t n, bool keep_slash)
{
    tams_percent_encode(out, s, n, keep_slash ? "/" : NULL, 0);
}

int tams_sigv4_uri_encode(struct tams_buf *out, const char *s, size_t n, bool keep_slash)
{
    encode(out, s, n, keep_slash);
    return tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
}

int tams_sigv4_encode_key(struct tams_buf *out, const char *key)
{
    if (!len_between(key, 1, TAMS_SIGV4_MAX_KEY))
        return TAMS_ERR_BADREQUEST;
    return tams_sigv4_uri_encode(out, key, strlen(key), true);
}

static bool bucket_ok(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63 || b[0] == '-' || b[0] == '.' || b[n - 1] == '-' || b[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
              b[i] == '.') ||
            (b[i] == '.' && b[i + 1] == '.'))
            return false;
    return true;
}

int tams_sigv4_s3_url_parts(const char *endpoint, const char *bucket, const char *key,
                            bool virtual_hosted, struct tams_buf *host, struct tams_buf *path)
{
    if (!host_ok(endpoint) || !bucket_ok(bucket) || !len_between(key, 1, TAMS_SIGV4_MAX_KEY))
        return TAMS_ERR_BADREQUEST;
    if (virtual_hosted) {
        tams_buf_addf(host, "%s.%s", bucket, endpoint);
        tams_buf_addch(path, '/');
    } else {
        tams_buf_addstr(host, endpoint);
        tams_buf_addf(path, "/%s/", bucket);
    }
    int rc = tams_sigv4_encode_key(path, key);
    if (rc)
        return rc;
    return tams_buf_ok(host) ? 0 : TAMS_ERR_TOOBIG;
}

int tams_sigv4_amz_date(int64_t now, char out[TAMS_SIGV4_DATE_LEN + 1])
{
    struct tm tm;
    time_t t = (time_t)now;
    if (now < 0 || now > INT64_C(253402300799) || !gmtime_r(&t, &tm) ||
        strftime(out, TAMS_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != TAMS_SIGV4_DATE_LEN)
        return TAMS_ERR_BADREQUEST;
    return 0;
}

static void pairs_release(struct pair *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tams_buf_release(&v[i].name);
        tams_buf_release(&v[i].value);
    }
}

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name.data, y->name.data);
    return c ? c : strcmp(x->value.data, y->value.data);
}

static struct pair *pair_new(struct pair *v, size_t *n)
{
    struct pair *e = &v[(*n)++];
    tams_buf_init(&e->name, MAX_SCRATCH);
    tams_buf_init(&e->value, MAX_SCRATCH);
    return e;
}

static void query_add(struct pair *v, size_t *n, const char *name, const char *value)
{
    struct pair *e = pair_new(v, n);
    encode(&e->name, name, strlen(name), false);
    encode(&e->value, value, strlen(value), false);
}

static bool x_amz_prefixed(const char *name)
{
    return strncasecmp(name, "X-Amz-", 6) == 0;
}

/* Appends the joined, sorted list: "n=v&n=v" (query) or "n:v\n" lines (headers). */
static int pairs_join(struct pair *v, size_t n, bool headers, struct tams_buf *out)
{
    for (size_t i = 0; i < n; i++)
        if (!tams_buf_ok(&v[i].name) || !tams_buf_ok(&v[i].value))
            return TAMS_ERR_TOOBIG;
    qsort(v, n, sizeof(*v), pair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (headers) {
            tams_buf_addf(out, "%s:%s\n", v[i].name.data, v[i].value.data);
        } else {
            tams_buf_addf(out, "%s%s=%s", i ? "&" : "", v[i].name.data, v[i].value.data);
        }
    }
    return tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
}

/* Canonical headers: host plus the extra ones, sorted. Also the signed-header list. */
static int build_headers(const struct tams_sigv4_params *p, struct tams_buf *lines,
                         struct tams_buf *names)
{
    struct pair v[TAMS_SIGV4_MAX_EXTRA + 1];
    size_t n = 0;
    int rc = 0;
    struct pair *e = pair_new(v, &n);

    tams_buf_addstr(&e->name, "host");
    for (const char *c = p->host; *c; c++)
        tams_buf_addch(&e->value, (char)lower((unsigned char)*c));
    for (size_t i = 0; p->extra_signed_headers && p->extra_signed_headers[i]; i++) {
        const char *h = p->extra_signed_headers[i], *colon = strchr(h, ':');
        if (!colon || colon == h || colon - h > 64) {
            rc = TAMS_ERR_BADREQUEST;
            goto out;
        }
        e = pair_new(v, &n);
        for (const char *c = h; c < colon; c++) {
            if (!is_tchar((unsigned char)*c)) {
                rc = TAMS_ERR_BADREQUEST;
                goto out;
            }
            tams_buf_addch(&e->name, (char)lower((unsigned char)*c));
        }
        /* Trimall: drop leading and trailing whitespace, collapse inner runs to one space. */
        bool space = false;
        for (const unsigned char *c = (const unsigned char *)colon + 1; *c; c++) {
            if (*c == ' ' || *c == '\t') {
                space = e->value.len > 0;
                continue;
            }
            if (*c < 0x20 || *c == 0x7f) {
                rc = TAMS_ERR_BADREQUEST;
                goto out;
            }
            if (space)
                tams_buf_addch(&e->value, ' ');
            space = false;
            tams_buf_addch(&e->value, (char)*c);
        }
        for (size_t j = 0; j + 1 < n; j++)
            if (strcmp(v[j].name.data, e->name.data) == 0) {
                rc = TAMS_ERR_BADREQUEST; /* also rejects a second "host" */
                goto out;
            }
    }
    rc = pairs_join(v, n, true, lines);
    for (size_t i = 0; i < n && !rc; i++)
        tams_buf_addf(names, "%s%s", i ? ";" : "", v[i].name.data);
    if (!rc && !tams_buf_ok(names))
        rc = TAMS_ERR_TOOBIG;
out:
    pairs_release(v, n);
    return rc;
}

int tams_sigv4_canonical_query(const struct tams_sigv4_params *p, struct tams_buf *out)
{
    struct pair v[6 + TAMS_SIGV4_MAX_EXTRA];
    size_t n = 0;
    char date[TAMS_SIGV4_DATE_LEN + 1], expires[16];
    struct tams_buf lines = TAMS_BUF_INIT(MAX_SCRATCH), names = TAMS_BUF_INIT(MAX_SCRATCH);
    struct tams_buf cred = TAMS_BUF_INIT(MAX_SCRATCH);
    int rc = validate(p);

    if (rc || (rc = tams_sigv4_amz_date(p->now, date)))
        goto out;
    if ((rc = build_headers(p, &lines, &names)))
        goto out;
    for (size_t i = 0; p->extra_query && p->extra_query[i]; i += 2) {
        if (!p->extra_query[i][0] || x_amz_prefixed(p->extra_query[i]) ||
            strnlen(p->extra_query[i + 1], MAX_SCRATCH / 3) >= MAX_SCRATCH / 3) {
            rc = TAMS_ERR_BADREQUEST;
            goto out;
        }
        query_add(v, &n, p->extra_query[i], p->extra_query[i + 1]);
    }
    tams_buf_addf(&cred, "%s/%.8s/%s/%s/aws4_request", p->access_key, date, p->region, p->service);
    snprintf(expires, sizeof(expires), "%d", p->expires);
    query_add(v, &n, "X-Amz-Algorithm", ALGORITHM);
    query_add(v, &n, "X-Amz-Credential", cred.data);
    query_add(v, &n, "X-Amz-Date", date);
    query_add(v, &n, "X-Amz-Expires", expires);
    query_add(v, &n, "X-Amz-SignedHeaders", names.data);
    if (p->session_token)
        query_add(v, &n, "X-Amz-Security-Token", p->session_token);
    rc = pairs_join(v, n, false, out);
out:
    pairs_release(v, n);
    tams_buf_release(&lines);
    tams_buf_release(&names);
    tams_buf_release(&cred);
    return rc;
}

int tams_sigv4_canonical_request(const struct tams_sigv4_params *p, struct tams_buf *out)
{
    struct tams_buf lines = TAMS_BUF_INIT(MAX_SCRATCH), names = TAMS_BUF_INIT(MAX_SCRATCH);
    struct tams_buf query = TAMS_BUF_INIT(MAX_SCRATCH);
    int rc = tams_sigv4_canonical_query(p, &query);

    if (rc || (rc = build_headers(p, &lines, &names)))
        goto out;
    tams_buf_addf(out, "%s\n%s\n%s\n%s\n%s\nUNSIGNED-PAYLOAD", p->method, p->path, query.data,
                  lines.data, names.data);
    rc = tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
out:
    tams_buf_release(&lines);
    tams_buf_release(&names);
    tams_buf_release(&query);
    return rc;
}

int tams_sigv4_string_to_sign(const struct tams_sigv4_params *p, const char *canonical_request,
                              size_t len, struct tams_buf *out)
{
    char date[TAMS_SIGV4_DATE_LEN + 1], hex[2 * EVP_MAX_MD_SIZE + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = validate(p);

    if (rc || (rc = tams_sigv4_amz_date(p->now, date)))
        return rc;
    if (!EVP_Digest(canonical_request, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return TAMS_ERR_INTERNAL;
    tams_hex_encode(md, mdlen, hex);
    tams_buf_addf(out, ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", date, date, p->region,
                  p->service, hex);
    return tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
}

static int hmac256(const void *key, size_t keylen, const char *msg, size_t len, uint8_t out[32])
{
    unsigned int outlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, len, out, &outlen) ||
        outlen != 32)
        return TAMS_ERR_INTERNAL;
    return 0;
}

int tams_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, uint8_t out[32])
{
    struct tams_buf k = TAMS_BUF_INIT(512);
    uint8_t a[32], b[32];
    int rc = TAMS_ERR_BADREQUEST;

    if (!len_between(secret, 1, 256) || !len_between(date8, 8, 8) || !scope_part_ok(region) ||
        !scope_part_ok(service))
        goto out;
    tams_buf_addf(&k, "AWS4%s", secret);
    if ((rc = hmac256(k.data, k.len, date8, 8, a)) ||
        (rc = hmac256(a, 32, region, strlen(region), b)) ||
        (rc = hmac256(b, 32, service, strlen(service), a)) ||
        (rc = hmac256(a, 32, "aws4_request", 12, out)))
        goto out;
out:
    OPENSSL_cleanse(k.data, k.len);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    tams_buf_release(&k);
    return rc;
}

int tams_sigv4_signature(const struct tams_sigv4_params *p, const char *string_to_sign, size_t len,
                         char out[65])
{
    char date[TAMS_SIGV4_DATE_LEN + 1];
    uint8_t key[32], sig[32];
    int rc = validate(p);

    if (rc || (rc = tams_sigv4_amz_date(p->now, date)))
        return rc;
    date[8] = '\0';
    if ((rc = tams_sigv4_signing_key(p->secret_key, date, p->region, p->service, key)) ||
        (rc = hmac256(key, sizeof(key), string_to_sign, len, sig)))
        goto out;
    tams_hex_encode(sig, 32, out);
out:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int tams_sigv4_presign(const struct tams_sigv4_params *p, struct tams_buf *out)
{
    struct tams_buf query = TAMS_BUF_INIT(MAX_SCRATCH), creq = TAMS_BUF_INIT(MAX_SCRATCH);
    struct tams_buf sts = TAMS_BUF_INIT(MAX_SCRATCH), url = TAMS_BUF_INIT(3 * MAX_SCRATCH);
    char sig[65];
    int rc;

    if ((rc = tams_sigv4_canonical_query(p, &query)) ||
        (rc = tams_sigv4_canonical_request(p, &creq)) ||
        (rc = tams_sigv4_string_to_sign(p, creq.data, creq.len, &sts)) ||
        (rc = tams_sigv4_signature(p, sts.data, sts.len, sig)))
        goto out;
    tams_buf_addf(&url, "%s://", p->scheme);
    for (const char *c = p->host; *c; c++)
        tams_buf_addch(&url, (char)lower((unsigned char)*c));
    tams_buf_addf(&url, "%s?%s&X-Amz-Signature=%s", p->path, query.data, sig);
    if (!tams_buf_ok(&url)) {
        rc = TAMS_ERR_TOOBIG;
        goto out;
    }
    rc = tams_buf_add(out, url.data, url.len);
out:
    tams_buf_release(&query);
    tams_buf_release(&creq);
    tams_buf_release(&sts);
    tams_buf_release(&url);
    return rc;
}
