/* SPDX-License-Identifier: Apache-2.0 */
/* sigv4.h - AWS Signature Version 4 query-string presigning (S3 presigned URLs).
 *
 * Pure: no server types, no I/O, no clock. The caller passes the time, so every output is a
 * function of the parameters and tests are deterministic. Reference:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 *
 * What gets signed (S3 flavour, the only one implemented):
 *   - the canonical URI is p->path exactly as given (S3 does not normalise paths); it must
 *     already be encoded: unreserved characters, '/', and "%XX" with uppercase hex only
 *     (build it with tams_sigv4_encode_key() or tams_sigv4_s3_url_parts());
 *   - the query is X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
 *     -Security-Token (when a session token is given) plus any extra_query pairs, each name and
 *     value encoded with RFC 3986 unreserved characters only ('/' becomes %2F), sorted by name
 *     then value;
 *   - the headers are host (always) plus extra_signed_headers, names lowercased, values
 *     trimmed with inner runs of whitespace collapsed to one space;
 *   - the payload hash is the literal UNSIGNED-PAYLOAD.
 * The host is lowercased in both the signature and the URL. Give it without a default port
 * (":80" for http, ":443" for https): clients and servers disagree on whether to keep one.
 *
 * Errors: every function returns 0, TAMS_ERR_BADREQUEST when a parameter breaks the rules
 * listed here (nothing is appended then), TAMS_ERR_TOOBIG when an output buffer reaches its
 * cap, or TAMS_ERR_INTERNAL if libcrypto fails. On error the output buffers may hold a
 * partial result only for the builders; tams_sigv4_presign() appends all or nothing.
 */
#ifndef TAMS_MEDIA_SIGV4_H
#define TAMS_MEDIA_SIGV4_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_SIGV4_MAX_EXPIRES 604800 /* seven days, the SigV4 limit */
#define TAMS_SIGV4_DATE_LEN 16        /* "20130524T000000Z" */
#define TAMS_SIGV4_MAX_EXTRA 16       /* extra headers, and extra query pairs, each */
#define TAMS_SIGV4_MAX_KEY 1024       /* S3 object key bytes */

struct tams_sigv4_params {
    const char *method;        /* "GET", "PUT", "HEAD", "DELETE": 1..16 uppercase letters */
    const char *scheme;        /* "http" or "https" */
    const char *host;          /* host[:port] as the client will send it in Host */
    const char *path;          /* encoded canonical URI, e.g. "/bucket/key%20x" (see above) */
    const char *region;        /* "us-east-1": [A-Za-z0-9_-], 1..64 */
    const char *service;       /* "s3": same rule */
    const char *access_key;    /* printable ASCII without '/' or space, 1..128 */
    const char *secret_key;    /* 1..256 bytes */
    const char *session_token; /* NULL, or 1..8192 bytes; sent as X-Amz-Security-Token */
    int64_t now;               /* Unix seconds, 0 .. 9999-12-31T23:59:59Z */
    int expires;               /* seconds, 1..TAMS_SIGV4_MAX_EXPIRES */
    /* Optional, NULL-terminated "name:value" strings, e.g. "content-type:video/mp2t"; the
     * client must then send exactly these headers. Names are HTTP tokens, not "host", no
     * duplicates; values hold no control characters other than tab. */
    const char *const *extra_signed_headers;
    /* Optional, NULL-terminated list of name, value, name, value... raw (unencoded) query
     * parameters signed and put in the URL, e.g. "response-content-type", "video/mp2t".
     * Names are non-empty and must not start with "X-Amz-" (any case). */
    const char *const *extra_query;
};

/* Appends "scheme://host/path?<canonical query>&X-Amz-Signature=<64 hex>" to out. */
int tams_sigv4_presign(const struct tams_sigv4_params *p, struct tams_buf *out) TAMS_WUR;

/* Appends the S3 encoding of an object key (1..TAMS_SIGV4_MAX_KEY bytes, any bytes but NUL):
 * every byte other than A-Z a-z 0-9 - . _ ~ and '/' becomes %XX (uppercase hex). */
int tams_sigv4_encode_key(struct tams_buf *out, const char *key) TAMS_WUR;

/* Appends the RFC 3986 encoding of n bytes: unreserved characters stay, '/' stays only when
 * keep_slash, everything else becomes %XX. Never fails except with TAMS_ERR_TOOBIG. */
int tams_sigv4_uri_encode(struct tams_buf *out, const char *s, size_t n, bool keep_slash) TAMS_WUR;

/* Splits an S3 object address into the Host and canonical path for p->host and p->path.
 * endpoint is host[:port] of the S3 service ("s3.eu-west-1.amazonaws.com", "127.0.0.1:9000");
 * bucket is an S3 bucket name (3..63 of [a-z0-9.-], starting and ending alphanumeric).
 *   path-style:      host = endpoint,          path = "/" bucket "/" encoded key
 *   virtual-hosted:  host = bucket "." endpoint, path = "/" encoded key
 * Appends to host and path. */
int tams_sigv4_s3_url_parts(const char *endpoint, const char *bucket, const char *key,
                            bool virtual_hosted, struct tams_buf *host,
                            struct tams_buf *path) TAMS_WUR;

/* The builders below are the steps of tams_sigv4_presign(), exposed for tests and fuzzing. */

/* Writes the ISO 8601 basic timestamp of now, e.g. "20130524T000000Z", NUL-terminated. */
int tams_sigv4_amz_date(int64_t now, char out[TAMS_SIGV4_DATE_LEN + 1]) TAMS_WUR;

/* Derives the signing key: HMAC chain over "AWS4" secret, date (YYYYMMDD), region, service,
 * "aws4_request". */
int tams_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, uint8_t out[32]) TAMS_WUR;

/* Appends the canonical query string (without X-Amz-Signature): also the URL's query. */
int tams_sigv4_canonical_query(const struct tams_sigv4_params *p, struct tams_buf *out) TAMS_WUR;

/* Appends the canonical request: method, path, query, headers, signed headers, payload. */
int tams_sigv4_canonical_request(const struct tams_sigv4_params *p, struct tams_buf *out) TAMS_WUR;

/* Appends the string to sign for a canonical request of len bytes. */
int tams_sigv4_string_to_sign(const struct tams_sigv4_params *p, const char *canonical_request,
                              size_t len, struct tams_buf *out) TAMS_WUR;

/* Writes the 64 lowercase hex digits of the signature of a string to sign, plus NUL. */
int tams_sigv4_signature(const struct tams_sigv4_params *p, const char *string_to_sign, size_t len,
                         char out[65]) TAMS_WUR;

#endif
