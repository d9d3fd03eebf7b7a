/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_sigv4.c - libFuzzer target: SigV4 presigning over arbitrary parameters; a success is one
 * well-formed URL with exactly one 64-hex-digit signature, a failure appends nothing.
 *
 * Input: fields separated by '\n':
 *   method, scheme, host, path, region, service, access key, secret key, session token
 *   (empty = none), now, expires, header, header, query name, query value
 * A path not starting with '/' is taken as an object key and built with
 * tams_sigv4_s3_url_parts() (bucket = the region field, virtual-hosted when now is odd). */
#include "core/common.h"
#include "core/buf.h"
#include "media/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_sigv4: violated: %s (line %d)\n", #cond, __LINE__);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NFIELDS 15

static bool is_lowerhex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void check_url(const struct tams_sigv4_params *p, const struct tams_buf *url)
{
    const char *sig = strstr(url->data, "&X-Amz-Signature=");
    REQUIRE(count(url->data, "X-Amz-Signature=") == 1);
    REQUIRE(sig != NULL);
    sig += strlen("&X-Amz-Signature=");
    for (int i = 0; i < 64; i++)
        REQUIRE(is_lowerhex(sig[i]));
    REQUIRE(sig[64] == '\0');
    REQUIRE(strncmp(url->data, p->scheme, strlen(p->scheme)) == 0);
    REQUIRE(strncmp(url->data + strlen(p->scheme), "://", 3) == 0);
    REQUIRE(strchr(url->data, '?') != NULL);
    REQUIRE(strlen(url->data) == url->len);
    for (size_t i = 0; i < url->len; i++)
        REQUIRE(url->data[i] > ' ' && url->data[i] < 0x7f && url->data[i] != '#');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[NFIELDS] = {NULL};
    const char *headers[3] = {NULL}, *query[3] = {NULL};
    struct tams_buf host = TAMS_BUF_INIT(1024), path = TAMS_BUF_INIT(8192);
    struct tams_buf url = TAMS_BUF_INIT(1 << 20), again = TAMS_BUF_INIT(1 << 20);
    struct tams_buf cr = TAMS_BUF_INIT(1 << 20), sts = TAMS_BUF_INIT(1 << 20);
    size_t start = 0, n = 0;
    int rc;

    for (size_t i = 0; i <= size && n < NFIELDS; i++) {
        if (i == size || data[i] == '\n') {
            f[n++] = tams_strndup((const char *)data + start, i - start);
            start = i + 1;
        }
    }
    for (; n < NFIELDS; n++)
        f[n] = tams_strdup("");

    struct tams_sigv4_params p = {
        .method = f[0],
        .scheme = f[1],
        .host = f[2],
        .path = f[3],
        .region = f[4],
        .service = f[5],
        .access_key = f[6],
        .secret_key = f[7],
        .session_token = f[8][0] ? f[8] : NULL,
        .now = strtoll(f[9], NULL, 10),
        .expires = (int)strtol(f[10], NULL, 10),
        .extra_signed_headers = headers,
        .extra_query = query,
    };
    if (f[11][0])
        headers[0] = f[11];
    if (f[11][0] && f[12][0])
        headers[1] = f[12];
    if (f[13][0]) {
        query[0] = f[13];
        query[1] = f[14];
    }
    if (f[3][0] != '/') {
        rc = tams_sigv4_s3_url_parts(f[2], f[4], f[3], p.now & 1, &host, &path);
        REQUIRE(rc == 0 || rc == TAMS_ERR_BADREQUEST || rc == TAMS_ERR_TOOBIG);
        if (rc == 0) {
            p.host = host.data;
            p.path = path.data;
        }
    }

    tams_buf_addstr(&url, "=");
    rc = tams_sigv4_presign(&p, &url);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADREQUEST || rc == TAMS_ERR_TOOBIG);
    if (rc) {
        REQUIRE(url.len == 1);
        REQUIRE(tams_sigv4_canonical_request(&p, &cr) != 0);
    } else {
        struct tams_buf u = TAMS_BUF_INIT(1 << 20);
        tams_buf_add(&u, url.data + 1, url.len - 1);
        check_url(&p, &u);
        /* deterministic, and the steps agree with the whole */
        REQUIRE(tams_sigv4_presign(&p, &again) == 0);
        REQUIRE(strcmp(again.data, u.data) == 0);
        REQUIRE(tams_sigv4_canonical_request(&p, &cr) == 0);
        REQUIRE(tams_sigv4_string_to_sign(&p, cr.data, cr.len, &sts) == 0);
        char sig[65];
        REQUIRE(tams_sigv4_signature(&p, sts.data, sts.len, sig) == 0);
        REQUIRE(strcmp(strstr(u.data, "X-Amz-Signature=") + 16, sig) == 0);
        tams_buf_release(&u);
    }

    tams_buf_release(&host);
    tams_buf_release(&path);
    tams_buf_release(&url);
    tams_buf_release(&again);
    tams_buf_release(&cr);
    tams_buf_release(&sts);
    for (size_t i = 0; i < NFIELDS; i++)
        tams_free(f[i]);
    return 0;
}
