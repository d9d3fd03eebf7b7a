/* SPDX-License-Identifier: Apache-2.0 */
/* s3.c - S3-compatible backends: presigned URLs, endpoint health probes, round-robin. */
#include "core/common.h"
#include "core/buf.h"
#include "core/log.h"
#include "media/s3.h"
#include "media/sigv4.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define EXISTS_TIMEOUT_MS 10000L
/* Life of the URLs tamsd signs for its own requests (HEAD, DELETE), sent at once: long enough
 * for a slow network and a clock a little behind the store's, whatever media_url_expiry. */
#define OWN_URL_EXPIRES 60
#define EXISTS_PARALLEL 16 /* HEADs in flight in one exists_many */
#define PROBE_TIMEOUT_MAX_MS 5000L

struct endpoint {
    char *url;      /* "http://host:port", for messages */
    char *scheme;   /* "http" or "https" */
    char *hostport; /* "host[:port]" */
    atomic_bool healthy;
};

struct s3 {
    struct endpoint eps[TAMS_S3_MAX_ENDPOINTS];
    size_t neps;
    char *region, *bucket, *prefix, *access_key, *secret_key, *session_token; /* token: NULL */
    bool virtual_hosted, conditional_put;
    int expiry, put_expiry, probe_interval;
    atomic_uint_fast64_t rr;     /* round-robin counter */
    atomic_uint_fast64_t rounds; /* completed probe rounds */
    const char *label;           /* the backend's, for messages */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock; /* guards stop */
    pthread_cond_t wake;  /* signalled when stop is set */
    bool stop;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static struct s3 *impl(const struct tams_media_backend *b)
{
    return b->impl;
}

/* Endpoints are spread round-robin over the healthy ones, over all when none is healthy. */
static const struct endpoint *pick(struct s3 *s)
{
    size_t idx[TAMS_S3_MAX_ENDPOINTS], n = 0;
    uint64_t r = atomic_fetch_add(&s->rr, 1);
    for (size_t i = 0; i < s->neps; i++)
        if (atomic_load(&s->eps[i].healthy))
            idx[n++] = i;
    if (!n)
        return &s->eps[r % s->neps];
    return &s->eps[idx[r % n]];
}

/* Presigns method on the object (prefix + key), or on the bucket itself when key is NULL; a
 * PUT lasts put_expiry, a GET expiry, anything else (tamsd's own requests) OWN_URL_EXPIRES. */
static int presign(const struct s3 *s, const struct endpoint *e, const char *method,
                   const char *key, int64_t now, struct tams_buf *out)
{
    static const char *const conditional[] = {"if-none-match:*", NULL};
    struct tams_buf host = TAMS_BUF_INIT(1024), path = TAMS_BUF_INIT(4 * TAMS_SIGV4_MAX_KEY);
    struct tams_buf full = TAMS_BUF_INIT(TAMS_SIGV4_MAX_KEY + 1);
    int rc = 0;

    if (key) {
        tams_buf_addstr(&full, s->prefix);
        tams_buf_addstr(&full, key);
        rc = tams_buf_ok(&full) ? tams_sigv4_s3_url_parts(e->hostport, s->bucket, full.data,
                                                          s->virtual_hosted, &host, &path)
                                : TAMS_ERR_TOOBIG;
    } else if (s->virtual_hosted) {
        tams_buf_addf(&host, "%s.%s", s->bucket, e->hostport);
        tams_buf_addstr(&path, "/");
    } else {
        tams_buf_addstr(&host, e->hostport);
        tams_buf_addf(&path, "/%s", s->bucket);
    }
    if (!rc && (!tams_buf_ok(&host) || !tams_buf_ok(&path)))
        rc = TAMS_ERR_TOOBIG;
    if (!rc) {
        struct tams_sigv4_params p = {
            .method = method,
            .scheme = e->scheme,
            .host = host.data,
            .path = path.data,
            .region = s->region,
            .service = "s3",
            .access_key = s->access_key,
            .secret_key = s->secret_key,
            .session_token = s->session_token,
            .now = now,
            .expires = strcmp(method, "PUT") == 0   ? s->put_expiry
                       : strcmp(method, "GET") == 0 ? s->expiry
                                                    : OWN_URL_EXPIRES,
            .extra_signed_headers =
                strcmp(method, "PUT") == 0 && s->conditional_put ? conditional : NULL,
        };
        rc = tams_sigv4_presign(&p, out);
    }
    tams_buf_release(&host);
    tams_buf_release(&path);
    tams_buf_release(&full);
    return rc;
}

static int s3_put_url(const struct tams_media_backend *b, const char *base_url, const char *key,
                      int64_t now, struct tams_buf *out)
{
    struct s3 *s = impl(b);
    (void)base_url;
    return presign(s, pick(s), "PUT", key, now, out);
}

/* The object's plain URL: the client authenticates its PUT itself (its own credentials, or a
 * bucket that takes anonymous writes); tamsd signs nothing. */
static int s3_put_url_unsigned(const struct tams_media_backend *b, const char *key,
                               struct tams_buf *out)
{
    struct s3 *s = impl(b);
    const struct endpoint *e = pick(s);
    struct tams_buf host = TAMS_BUF_INIT(1024), path = TAMS_BUF_INIT(4 * TAMS_SIGV4_MAX_KEY);
    struct tams_buf full = TAMS_BUF_INIT(TAMS_SIGV4_MAX_KEY + 1);
    int rc;

    tams_buf_addstr(&full, s->prefix);
    tams_buf_addstr(&full, key);
    rc = tams_buf_ok(&full) ? tams_sigv4_s3_url_parts(e->hostport, s->bucket, full.data,
                                                      s->virtual_hosted, &host, &path)
                            : TAMS_ERR_TOOBIG;
    if (!rc && (!tams_buf_ok(&host) || !tams_buf_ok(&path)))
        rc = TAMS_ERR_TOOBIG;
    if (!rc)
        tams_buf_addf(out, "%s://%s%s", e->scheme, host.data, path.data);
    tams_buf_release(&host);
    tams_buf_release(&path);
    tams_buf_release(&full);
    return rc;
}

static int s3_get_url(const struct tams_media_backend *b, const char *base_url, const char *key,
                      int64_t now, struct tams_buf *out, bool *presigned)
{
    struct s3 *s = impl(b);
    (void)base_url;
    *presigned = true;
    return presign(s, pick(s), "GET", key, now, out);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* A HEAD of url: its HTTP status in *status, or TAMS_ERR_IO when there is no answer. */
/* An easy handle for a bodiless HEAD of url that gives up after timeout_ms; NULL on failure. */
static CURL *head_easy(const char *url, long timeout_ms)
{
    CURL *c;
    if (curl_init_rc != CURLE_OK || !(c = curl_easy_init()))
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    return c;
}

/* One HEAD of s3_exists_many; its easy handle (and so its connection) serves key after key. */
struct head_slot {
    CURL *easy;
    size_t key; /* index of the key in flight */
    bool added; /* attached to the multi handle */
    struct tams_buf url;
    char etag[TAMS_MEDIA_ETAG_MAX + 2]; /* the answer's ETag; "\x01" when too long */
};

/* RFC 9110 entity-tag: [W/] DQUOTE *(%x21 / %x23-7E / obs-text) DQUOTE. */
static bool etag_ok(const char *t)
{
    size_t n;
    if (strncmp(t, "W/", 2) == 0)
        t += 2;
    n = strlen(t);
    if (n < 2 || t[0] != '"' || t[n - 1] != '"')
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '"' || c < 0x21 || c == 0x7f)
            return false;
    }
    return true;
}

/* libcurl's header callback: keeps the ETag of the last response. */
static size_t head_header(char *p, size_t size, size_t n, void *arg)
{
    struct head_slot *h = arg;
    size_t len = size * n, v;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        h->etag[0] = '\0'; /* a new response (100 Continue and the like come first) */
    } else if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
        for (v = 5; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
            ;
        while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' ' ||
                           p[len - 1] == '\t'))
            len--;
        if (len - v > TAMS_MEDIA_ETAG_MAX)
            snprintf(h->etag, sizeof(h->etag), "\x01");
        else
            snprintf(h->etag, sizeof(h->etag), "%.*s", (int)(len - v), p + v);
    }
    return size * n;
}

/* What a HEAD of an object says: 2xx it is there, 404 it is not, anything else (403, 5xx, no
 * answer) cannot tell. A 2xx must give the size (Content-Length) and, if it gives an ETag, a
 * well-formed one: else it is not an S3 answer about an uploaded object, and cannot tell
 * either. */
static int head_result(const struct s3 *s, const char *key, CURLcode cc, long status,
                       struct head_slot *h, struct tams_media_stat *stat)
{
    curl_off_t size = -1;

    if (cc != CURLE_OK)
        return TAMS_ERR_IO;
    if (status == 404)
        return TAMS_ERR_NOTFOUND;
    if (status < 200 || status >= 300)
        return TAMS_ERR_IO;
    if (curl_easy_getinfo(h->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &size) != CURLE_OK ||
        size < 0) {
        tams_log_warn("storage backend '%s': HEAD of object '%s' gave no Content-Length", s->label,
                      key);
        return TAMS_ERR_IO;
    }
    if (h->etag[0] && !etag_ok(h->etag)) {
        tams_log_warn("storage backend '%s': HEAD of object '%s' gave a malformed ETag", s->label,
                      key);
        return TAMS_ERR_IO;
    }
    if (stat) {
        size_t n = strnlen(h->etag, TAMS_MEDIA_ETAG_MAX); /* head_header kept it short */
        memcpy(stat->etag, h->etag, n);
        stat->etag[n] = '\0';
        stat->size = (int64_t)size;
    }
    return 0;
}

/* Start the HEAD of keys[k] on h: true when it runs, else results[k] is final. */
static bool head_start(struct s3 *s, CURLM *m, struct head_slot *h, const char *key, size_t k,
                       int64_t now, int *result)
{
    int rc;

    tams_buf_reset(&h->url);
    h->etag[0] = '\0';
    rc = presign(s, pick(s), "HEAD", key, now, &h->url);
    if (rc) {
        /* A key S3 could never hold was never uploaded. */
        *result = rc == TAMS_ERR_BADREQUEST ? TAMS_ERR_NOTFOUND : TAMS_ERR_IO;
        return false;
    }
    curl_easy_setopt(h->easy, CURLOPT_URL, h->url.data);
    if (curl_multi_add_handle(m, h->easy) != CURLM_OK) {
        *result = TAMS_ERR_IO;
        return false;
    }
    h->key = k;
    h->added = true;
    return true;
}

/* Presigned HEADs through one multi handle, EXISTS_PARALLEL at most in flight; the multi
 * handle's connection cache lets later HEADs reuse the connections of earlier ones. The first
 * key that cannot be told ends the call: the caller cannot use a partial answer, and a store
 * that does not answer would otherwise cost one timeout per EXISTS_PARALLEL keys. */
static int s3_exists_many(const struct tams_media_backend *b, const char *const *keys, size_t n,
                          int *results, struct tams_media_stat *stats)
{
    struct s3 *s = impl(b);
    struct head_slot slots[EXISTS_PARALLEL], *idle[EXISTS_PARALLEL];
    size_t nslots = n < EXISTS_PARALLEL ? n : EXISTS_PARALLEL, nidle = 0, next = 0, running = 0;
    int64_t now = (int64_t)time(NULL);
    bool failed = false;
    CURLM *m = NULL;

    memset(slots, 0, sizeof(slots));
    for (size_t i = 0; i < n; i++) {
        results[i] = TAMS_ERR_IO; /* until answered */
        if (stats)
            stats[i] = (struct tams_media_stat){.size = -1};
    }
    if (!n)
        return 0;
    if (curl_init_rc != CURLE_OK || !(m = curl_multi_init()))
        goto out;
    for (size_t i = 0; i < nslots; i++) {
        struct head_slot *h = &slots[i];
        tams_buf_init(&h->url, 16384);
        if (!(h->easy = curl_easy_init()))
            goto out;
        curl_easy_setopt(h->easy, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, EXISTS_TIMEOUT_MS);
        curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS, EXISTS_TIMEOUT_MS);
        curl_easy_setopt(h->easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h->easy, CURLOPT_PRIVATE, (void *)h);
        curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION, head_header);
        curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, (void *)h);
        idle[nidle++] = h;
    }
    while (!failed) {
        CURLMsg *msg;
        int still, left;

        while (nidle && next < n && !failed) {
            size_t k = next++;
            if (head_start(s, m, idle[nidle - 1], keys[k], k, now, &results[k])) {
                nidle--;
                running++;
            } else {
                failed = results[k] == TAMS_ERR_IO;
            }
        }
        if (!running || failed)
            break;
        if (curl_multi_perform(m, &still) != CURLM_OK)
            break;
        while ((msg = curl_multi_info_read(m, &left))) {
            struct head_slot *h;
            CURLcode cc = msg->data.result;
            char *priv = NULL;
            long status = 0;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            h = (struct head_slot *)(void *)priv;
            if (cc == CURLE_OK)
                curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
            results[h->key] =
                head_result(s, keys[h->key], cc, status, h, stats ? &stats[h->key] : NULL);
            failed |= results[h->key] == TAMS_ERR_IO;
            curl_multi_remove_handle(m, h->easy); /* msg is gone from here on */
            h->added = false;
            idle[nidle++] = h;
            running--;
        }
        if (failed || (nidle && next < n))
            continue; /* end, or start the next HEADs before waiting */
        if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
out:
    for (size_t i = 0; i < nslots; i++) {
        if (slots[i].added)
            curl_multi_remove_handle(m, slots[i].easy);
        if (slots[i].easy)
            curl_easy_cleanup(slots[i].easy);
        tams_buf_release(&slots[i].url);
    }
    if (m)
        curl_multi_cleanup(m);
    for (size_t i = 0; i < n; i++)
        if (results[i] == TAMS_ERR_IO)
            return TAMS_ERR_IO;
    return 0;
}

static int s3_exists(const struct tams_media_backend *b, const char *key)
{
    int result;
    (void)s3_exists_many(b, &key, 1, &result, NULL);
    return result;
}

/* A presigned DELETE of the object. S3 answers 204 whether or not the key existed; 404 is
 * taken as gone too. */
static int s3_remove(const struct tams_media_backend *b, const char *key)
{
    struct s3 *s = impl(b);
    struct tams_buf url = TAMS_BUF_INIT(16384);
    long status = 0;
    CURL *c = NULL;
    CURLcode cc = CURLE_FAILED_INIT;
    int rc = presign(s, pick(s), "DELETE", key, (int64_t)time(NULL), &url);

    if (rc == TAMS_ERR_BADREQUEST) {
        rc = 0; /* a key S3 could never hold: nothing there */
        goto out;
    }
    if (rc)
        goto out;
    if (curl_init_rc != CURLE_OK || !(c = curl_easy_init())) {
        rc = TAMS_ERR_INTERNAL;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url.data);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, EXISTS_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, EXISTS_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || !((status >= 200 && status < 300) || status == 404)) {
        tams_log_warn("storage backend '%s': cannot delete object '%s' (%s, HTTP %ld)", s->label,
                      key, cc == CURLE_OK ? "refused" : curl_easy_strerror(cc), status);
        rc = TAMS_ERR_IO;
    }
out:
    if (c)
        curl_easy_cleanup(c);
    tams_buf_release(&url);
    return rc;
}

/* ---- object copies (media/copy.h) ---------------------------------------------------------
 * Copies carry whole objects: no overall timeout, but a transfer slower than COPY_MIN_SPEED
 * bytes/s for COPY_SLOW_S seconds, or a connection that takes EXISTS_TIMEOUT_MS, gives up. */
#define COPY_MIN_SPEED 1024L
#define COPY_SLOW_S 30L

struct sink {
    int fd;
    bool failed;
};

static size_t to_fd(char *p, size_t size, size_t n, void *arg)
{
    struct sink *k = arg;
    size_t left = size * n;

    while (left) {
        ssize_t w = write(k->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            k->failed = true;
            return 0; /* curl stops the transfer */
        }
        p += w;
        left -= (size_t)w;
    }
    return size * n;
}

struct source {
    int fd;
    uint64_t at, size;
};

static size_t from_fd(char *p, size_t size, size_t n, void *arg)
{
    struct source *src = arg;
    size_t want = size * n;
    ssize_t r;

    if (src->size - src->at < want)
        want = (size_t)(src->size - src->at);
    if (!want)
        return 0;
    do
        r = pread(src->fd, p, want, (off_t)src->at);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return CURL_READFUNC_ABORT;
    src->at += (uint64_t)r;
    return (size_t)r;
}

static CURL *copy_easy(const char *url)
{
    CURL *c;
    if (curl_init_rc != CURLE_OK || !(c = curl_easy_init()))
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, EXISTS_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, COPY_MIN_SPEED);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, COPY_SLOW_S);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    return c;
}

static int s3_fetch(const struct tams_media_backend *b, const char *key, int fd,
                    struct tams_buf *content_type)
{
    struct s3 *s = impl(b);
    struct tams_buf url = TAMS_BUF_INIT(16384);
    struct sink k = {fd, false};
    const char *ct = NULL;
    long status = 0;
    CURLcode cc;
    CURL *c = NULL;
    int rc = presign(s, pick(s), "GET", key, (int64_t)time(NULL), &url);

    if (rc)
        goto out;
    if (!(c = copy_easy(url.data))) {
        rc = TAMS_ERR_INTERNAL;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_fd);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK && status == 200 && !k.failed) {
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        tams_buf_addstr(content_type, ct ? ct : "application/octet-stream");
    } else {
        rc = status == 404 ? TAMS_ERR_NOTFOUND : TAMS_ERR_IO;
        tams_log_warn("storage backend '%s': cannot read object '%s' (%s, HTTP %ld)", s->label, key,
                      cc == CURLE_OK ? "refused" : curl_easy_strerror(cc), status);
    }
out:
    if (c)
        curl_easy_cleanup(c);
    tams_buf_release(&url);
    return rc;
}

static int s3_store(const struct tams_media_backend *b, const char *key, int fd, uint64_t size,
                    const char *content_type)
{
    struct s3 *s = impl(b);
    struct tams_buf url = TAMS_BUF_INIT(16384), type = TAMS_BUF_INIT(1024);
    struct source src = {fd, 0, size};
    struct curl_slist *hdrs = NULL;
    long status = 0;
    CURLcode cc;
    CURL *c = NULL;
    int rc = presign(s, pick(s), "PUT", key, (int64_t)time(NULL), &url);

    if (rc)
        goto out;
    if (!(c = copy_easy(url.data))) {
        rc = TAMS_ERR_INTERNAL;
        goto out;
    }
    tams_buf_addf(&type, "Content-Type: %s", content_type);
    hdrs = curl_slist_append(hdrs, type.data);
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (s->conditional_put)
        hdrs = curl_slist_append(hdrs, "If-None-Match: *");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, from_fd);
    curl_easy_setopt(c, CURLOPT_READDATA, &src);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status < 200 || status >= 300) {
        rc = status == 412 ? TAMS_ERR_CONFLICT : TAMS_ERR_IO;
        tams_log_warn("storage backend '%s': cannot write object '%s' (%s, HTTP %ld)", s->label,
                      key, cc == CURLE_OK ? "refused" : curl_easy_strerror(cc), status);
    }
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    tams_buf_release(&url);
    tams_buf_release(&type);
    return rc;
}

/* Record a probe's answer: rc 0 and status the HTTP status, or rc non-zero for no answer. */
static void note_health(struct s3 *s, struct endpoint *e, int rc, long status)
{
    bool ok = rc == 0 && status > 0 && status < 500;
    bool was = atomic_exchange(&e->healthy, ok);

    if (was == ok)
        return;
    if (ok)
        tams_log_info("storage backend '%s': endpoint %s is healthy again", s->label, e->url);
    else if (rc)
        tams_log_warn("storage backend '%s': endpoint %s is unhealthy: no answer", s->label,
                      e->url);
    else
        tams_log_warn("storage backend '%s': endpoint %s is unhealthy: HTTP %ld", s->label, e->url,
                      status);
}

/* One presigned HEAD of the bucket at every endpoint, all at once, each waiting at most
 * timeout_ms: a hung endpoint delays no other's verdict. */
static void probe_round(struct s3 *s, long timeout_ms)
{
    struct tams_buf url[TAMS_S3_MAX_ENDPOINTS];
    CURL *easy[TAMS_S3_MAX_ENDPOINTS] = {0};
    int rc[TAMS_S3_MAX_ENDPOINTS];
    long status[TAMS_S3_MAX_ENDPOINTS] = {0};
    CURLM *m = curl_init_rc == CURLE_OK ? curl_multi_init() : NULL;
    int running = 0, left;
    CURLMsg *msg;

    for (size_t i = 0; i < s->neps; i++) {
        tams_buf_init(&url[i], 16384);
        rc[i] = TAMS_ERR_IO;
        if (!m || presign(s, &s->eps[i], "HEAD", NULL, (int64_t)time(NULL), &url[i]) ||
            !(easy[i] = head_easy(url[i].data, timeout_ms)))
            continue;
        curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (void *)(uintptr_t)i);
        if (curl_multi_add_handle(m, easy[i]) != CURLM_OK) {
            curl_easy_cleanup(easy[i]);
            easy[i] = NULL;
        }
    }
    do {
        if (!m || curl_multi_perform(m, &running) != CURLM_OK)
            break;
        while ((msg = curl_multi_info_read(m, &left))) {
            char *priv = NULL;
            size_t i;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            i = (size_t)(uintptr_t)priv;
            if (msg->data.result == CURLE_OK) {
                rc[i] = 0;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status[i]);
            }
        }
    } while (running && curl_multi_poll(m, NULL, 0, 1000, NULL) == CURLM_OK);
    for (size_t i = 0; i < s->neps; i++) {
        if (easy[i]) {
            curl_multi_remove_handle(m, easy[i]);
            curl_easy_cleanup(easy[i]);
        }
        tams_buf_release(&url[i]);
        note_health(s, &s->eps[i], rc[i], status[i]);
    }
    if (m)
        curl_multi_cleanup(m);
}

/* Rounds start every half probe_interval and wait at most that long (PROBE_TIMEOUT_MAX_MS at
 * most) for an answer, so an endpoint that stops answering, even one that hangs, is out of the
 * rotation within one probe_interval. */
static void *probe_main(void *arg)
{
    struct s3 *s = arg;
    long period_ms = (long)s->probe_interval * 500;
    long timeout_ms = period_ms < PROBE_TIMEOUT_MAX_MS ? period_ms : PROBE_TIMEOUT_MAX_MS;

    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += period_ms / 1000;
        until.tv_nsec += (period_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_unlock(&s->lock);
        probe_round(s, timeout_ms);
        atomic_fetch_add(&s->rounds, 1);
        pthread_mutex_lock(&s->lock);
        while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void s3_free(struct tams_media_backend *b)
{
    struct s3 *s;
    if (!b)
        return;
    s = b->impl;
    if (s) {
        if (s->thread_started) {
            pthread_mutex_lock(&s->lock);
            s->stop = true;
            pthread_cond_signal(&s->wake);
            pthread_mutex_unlock(&s->lock);
            pthread_join(s->thread, NULL);
        }
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        for (size_t i = 0; i < s->neps; i++) {
            tams_free(s->eps[i].url);
            tams_free(s->eps[i].scheme);
            tams_free(s->eps[i].hostport);
        }
        if (s->secret_key)
            explicit_bzero(s->secret_key, strlen(s->secret_key));
        if (s->session_token)
            explicit_bzero(s->session_token, strlen(s->session_token));
        tams_free(s->region);
        tams_free(s->bucket);
        tams_free(s->prefix);
        tams_free(s->access_key);
        tams_free(s->secret_key);
        tams_free(s->session_token);
        tams_free(s);
    }
    tams_free((char *)(uintptr_t)b->label);
    tams_free((char *)(uintptr_t)b->provider);
    tams_free((char *)(uintptr_t)b->store_product);
    tams_free((char *)(uintptr_t)b->region);
    tams_free((char *)(uintptr_t)b->availability_zone);
    tams_free(b);
}

/* What the client sends for the signed "if-none-match:*" of a conditional put_url. */
static const char *const conditional_put_headers[] = {"If-None-Match", "*", NULL};

/* Ready when at least one endpoint answered the last probe (all count as healthy before it). */
static bool s3_ready(const struct tams_media_backend *b, struct tams_buf *why)
{
    const struct s3 *s = impl(b);

    for (size_t i = 0; i < s->neps; i++)
        if (atomic_load(&s->eps[i].healthy))
            return true;
    tams_buf_addf(why, "none of its %zu S3 endpoints answered the last probe", s->neps);
    return false;
}

static void s3_origins(const struct tams_media_backend *b, struct tams_buf *out)
{
    const struct s3 *s = impl(b);

    for (size_t i = 0; i < s->neps; i++) {
        if (s->virtual_hosted)
            tams_buf_addf(out, " %s://%s.%s", s->eps[i].scheme, s->bucket, s->eps[i].hostport);
        else
            tams_buf_addf(out, " %s://%s", s->eps[i].scheme, s->eps[i].hostport);
    }
}

static const struct tams_media_ops s3_ops = {
    .put_url = s3_put_url,
    .put_url_unsigned = s3_put_url_unsigned,
    .get_url = s3_get_url,
    .exists = s3_exists,
    .exists_many = s3_exists_many,
    .remove = s3_remove,
    .fetch = s3_fetch,
    .store = s3_store,
    .close = s3_free,
    .ready = s3_ready,
    .origins = s3_origins,
};

static char *dup_or_null(const char *s)
{
    return s && *s ? tams_strdup(s) : NULL;
}

/* "scheme://hostport" with nothing after the authority. */
static int split_endpoint(const char *url, struct endpoint *e)
{
    const char *sep = strstr(url, "://");
    if (!sep || !sep[3] || strchr(sep + 3, '/') || strchr(sep + 3, '?') || strchr(sep + 3, '#'))
        return TAMS_ERR_BADREQUEST;
    e->scheme = tams_strndup(url, (size_t)(sep - url));
    if (strcmp(e->scheme, "http") != 0 && strcmp(e->scheme, "https") != 0)
        return TAMS_ERR_BADREQUEST;
    e->hostport = tams_strdup(sep + 3);
    e->url = tams_strdup(url);
    atomic_init(&e->healthy, true);
    return 0;
}

int tams_s3_open(struct tams_media_backend **out, const struct tams_s3_settings *st,
                 struct tams_buf *why)
{
    struct tams_media_backend *b = tams_calloc(1, sizeof(*b));
    struct s3 *s = tams_calloc(1, sizeof(*s));
    pthread_condattr_t ca;
    const char *label = st->label ? st->label : st->id;
    int rc = 0;

    *out = NULL;
    pthread_once(&curl_once, curl_init);
    b->impl = s;
    b->ops = &s3_ops;
    snprintf(b->id, sizeof(b->id), "%s", st->id);
    b->label = tams_strdup(label);
    b->provider = dup_or_null(st->provider);
    b->store_product = dup_or_null(st->store_product);
    b->region = dup_or_null(st->region);
    b->availability_zone = dup_or_null(st->availability_zone);
    b->is_default = st->is_default;
    s->label = b->label;
    s->region = tams_strdup(st->region && *st->region ? st->region : "us-east-1");
    s->bucket = tams_strdup(st->bucket ? st->bucket : "");
    s->prefix = tams_strdup(st->prefix ? st->prefix : "");
    s->access_key = tams_strdup(st->access_key ? st->access_key : "");
    s->secret_key = tams_strdup(st->secret_key ? st->secret_key : "");
    s->session_token = dup_or_null(st->session_token);
    s->virtual_hosted = st->virtual_hosted;
    s->conditional_put = st->conditional_put;
    b->put_headers = st->conditional_put ? conditional_put_headers : NULL;
    s->expiry = st->expiry;
    s->put_expiry = st->put_expiry > 0 ? st->put_expiry : st->expiry;
    s->probe_interval = st->probe_interval > 0 ? st->probe_interval : 10;
    atomic_init(&s->rr, 0);
    atomic_init(&s->rounds, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);

    if (st->nendpoints < 1 || st->nendpoints > TAMS_S3_MAX_ENDPOINTS) {
        tams_buf_addf(why, "storage backend '%s': 1 to %d endpoints are needed", label,
                      TAMS_S3_MAX_ENDPOINTS);
        rc = TAMS_ERR_BADREQUEST;
    }
    for (size_t i = 0; !rc && i < st->nendpoints; i++) {
        s->neps++;
        if (split_endpoint(st->endpoints[i], &s->eps[i])) {
            tams_buf_addf(why, "storage backend '%s': endpoint '%s' is not http(s)://host[:port]",
                          label, st->endpoints[i]);
            rc = TAMS_ERR_BADREQUEST;
        }
    }
    /* Sign once per endpoint now, so a setting the signer refuses stops the start rather than
     * every later request; the message cannot say which value without risking a secret. */
    for (size_t i = 0; !rc && i < s->neps; i++) {
        struct tams_buf url = TAMS_BUF_INIT(16384);
        rc = presign(s, &s->eps[i], "GET", "00/00/00000000-0000-4000-8000-000000000000", 0, &url);
        if (!rc)
            rc = presign(s, &s->eps[i], "PUT", "00/00/00000000-0000-4000-8000-000000000000", 0,
                         &url);
        if (!rc)
            rc = presign(s, &s->eps[i], "HEAD", NULL, 0, &url);
        tams_buf_release(&url);
        if (rc) {
            tams_buf_addf(why,
                          "storage backend '%s': cannot sign URLs for endpoint %s: check "
                          "bucket, region, access key, secret key, session token, prefix and "
                          "expiry",
                          label, s->eps[i].url);
            rc = TAMS_ERR_BADREQUEST;
        }
    }
    if (!rc && curl_init_rc != CURLE_OK) {
        tams_buf_addf(why, "storage backend '%s': libcurl failed to initialise", label);
        rc = TAMS_ERR_INTERNAL;
    }
    if (!rc) {
        /* The probe thread takes no signals: main() waits for them synchronously. */
        sigset_t all, old;
        int prc;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        prc = pthread_create(&s->thread, NULL, probe_main, s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (prc != 0) {
            tams_buf_addf(why, "storage backend '%s': cannot start the probe thread", label);
            rc = TAMS_ERR_INTERNAL;
        } else {
            s->thread_started = true;
        }
    }
    if (rc) {
        s3_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

bool tams_s3_endpoint_healthy(const struct tams_media_backend *b, size_t i)
{
    struct s3 *s = impl(b);
    return i < s->neps && atomic_load(&s->eps[i].healthy);
}

uint64_t tams_s3_probe_rounds(const struct tams_media_backend *b)
{
    return atomic_load(&impl(b)->rounds);
}
