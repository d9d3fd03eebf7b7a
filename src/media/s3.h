/* SPDX-License-Identifier: Apache-2.0 */
/* s3.h - S3-compatible storage backends (AWS S3, MinIO, Ceph RGW, VAST S3).
 *
 * tamsd hands out SigV4 query-string presigned URLs (src/media/sigv4.h) and never moves media
 * bytes itself. The object's S3 key is prefix + the key fixed at allocation, so changing the
 * prefix in the configuration orphans objects written before.
 *
 *   put_url   presigned PUT lasting put_expiry; only "host" is signed, and with conditional_put
 *             "if-none-match: *" too (the backend's put_headers, which the client must send).
 *             The allocation response tells the client the Content-Type to send (the flow's
 *             container), but the media.h op does not receive it, so it is not part of the
 *             signature: S3 stores whatever Content-Type the client sends, and a mismatch is not
 *             refused. (Signing it would make a mismatch a 403, as S3 does for a signed header;
 *             it needs the content type in the put_url op.)
 *   get_url   presigned GET lasting expiry, *presigned = true.
 *   tamsd's own HEADs and DELETEs (below) are signed for 60 s, whatever expiry: a URL that
 *             lives 1 s could expire between signing and arriving.
 *   exists    presigned HEAD of the object through libcurl: 0 (2xx with a Content-Length and no
 *             ETag or a well-formed one), TAMS_ERR_NOTFOUND (404) or TAMS_ERR_IO (anything else,
 *             including no answer). Blocks up to 10 s.
 *   exists_many  the same HEADs (size and ETag into stats) for many keys through one curl
 *             multi handle: at most 16 in
 *             flight, connections reused from one HEAD to the next; the first key that cannot be
 *             told (TAMS_ERR_IO) ends the call, every key not answered by then is TAMS_ERR_IO
 *             too. So it blocks up to about 10 s however many keys fail.
 *
 * Endpoints and health. A backend has 1..TAMS_S3_MAX_ENDPOINTS base URLs. One thread per
 * backend probes each endpoint at start and then every probe_interval seconds with a presigned
 * HEAD of the bucket: any HTTP answer below 500 marks it healthy, a 5xx, a connection failure or
 * a timeout (min(probe_interval, 5) s) unhealthy. Until the first probe every endpoint counts
 * as healthy. URLs are handed out round-robin over the healthy endpoints, over all of them
 * when none is. All of this is lock-free for callers (atomics); close stops the thread.
 *
 * Every function of the backend is thread-safe. Secrets are kept in memory only and never
 * appear in messages.
 */
#ifndef TAMS_MEDIA_S3_H
#define TAMS_MEDIA_S3_H

#include "media/media.h"

#define TAMS_S3_MAX_ENDPOINTS 16
#define TAMS_S3_MAX_PREFIX 512 /* bytes; the allocated key adds 42 */

struct tams_s3_settings {
    const char *id;                                                            /* lowercase UUID */
    const char *label, *provider, *store_product, *region, *availability_zone; /* may be NULL
                                                                                  but label */
    /* Base URLs "http[s]://host[:port]" without path, query or default port (storage_config.c
     * normalises them); host is a name, an IPv4 literal or a bracketed IPv6 literal. */
    const char *const *endpoints;
    size_t nendpoints;
    const char *bucket;        /* S3 bucket name, 3..63 of [a-z0-9.-] */
    const char *prefix;        /* "" or prepended verbatim to every allocated key */
    bool virtual_hosted;       /* Host = bucket.endpoint-host; else path-style /bucket/key */
    const char *access_key;    /* see struct tams_sigv4_params for the rules */
    const char *secret_key;    /* never logged */
    const char *session_token; /* NULL or "" when none */
    int expiry;                /* seconds a URL stays valid, 1..TAMS_SIGV4_MAX_EXPIRES */
    int put_expiry;            /* the same for put_urls; 0: expiry */
    int probe_interval;        /* seconds between health probes, >= 1 */
    bool is_default;
    /* put_urls are signed with "If-None-Match: *", which the client must send (put_headers):
     * a store with conditional writes then refuses to replace an object (412). */
    bool conditional_put;
};

/* Opens a backend (copying every setting) and starts its probe thread. Settings that the
 * signer would refuse are reported here, in why (naming the setting, never a secret's value),
 * with TAMS_ERR_BADREQUEST; TAMS_ERR_INTERNAL if the thread cannot start. */
int tams_s3_open(struct tams_media_backend **out, const struct tams_s3_settings *s,
                 struct tams_buf *why) TAMS_WUR;

/* For tests and diagnostics: whether endpoint i was healthy at the last probe, and how many
 * probe rounds have completed. */
bool tams_s3_endpoint_healthy(const struct tams_media_backend *b, size_t i);
uint64_t tams_s3_probe_rounds(const struct tams_media_backend *b);

#endif
