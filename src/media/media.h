/* SPDX-License-Identifier: Apache-2.0 */
/* media.h - storage backends: where media bytes live and the URLs clients use for them.
 *
 * tamsd never moves media bytes through the TAMS API: it hands out a put_url when objects are
 * allocated and get_urls when segments are listed. A backend turns an object key (fixed at
 * allocation and stored) into those URLs. Backends are configured at start and immutable
 * afterwards, so every function here is thread-safe.
 */
#ifndef TAMS_MEDIA_MEDIA_H
#define TAMS_MEDIA_MEDIA_H

#include "core/common.h"
#include "core/buf.h"

struct tams_media_backend;
struct json_object;

#define TAMS_MEDIA_ETAG_MAX 256

/* What a backend says of an uploaded object. */
struct tams_media_stat {
    int64_t size;                       /* bytes; -1 when the backend does not say */
    char etag[TAMS_MEDIA_ETAG_MAX + 1]; /* the entity tag as sent, quotes included; "" if none */
};

struct tams_media_ops {
    /* URL to PUT the object's bytes to, valid until now + expiry. base_url is the API's own
     * absolute base (for backends served by tamsd itself). */
    int (*put_url)(const struct tams_media_backend *b, const char *base_url, const char *key,
                   int64_t now, struct tams_buf *out);
    /* The object's URL for a PUT that tamsd does not sign (TAMS 8.2's presigned: false): the
     * client brings its own authorisation. NULL when the backend cannot take such a PUT (the
     * built-in store accepts only the uploads it signed). */
    int (*put_url_unsigned)(const struct tams_media_backend *b, const char *key,
                            struct tams_buf *out);
    /* URL to GET the object's bytes from; *presigned tells whether it carries a signature. */
    int (*get_url)(const struct tams_media_backend *b, const char *base_url, const char *key,
                   int64_t now, struct tams_buf *out, bool *presigned);
    /* 0 when the object has been uploaded, TAMS_ERR_NOTFOUND when not, TAMS_ERR_IO when the
     * store could not tell (no answer, or one that is neither). */
    int (*exists)(const struct tams_media_backend *b, const char *key);
    /* exists for n keys at once: results[i] gets what exists would answer for keys[i] (0,
     * TAMS_ERR_NOTFOUND or TAMS_ERR_IO) and, when stats is not NULL and results[i] is 0,
     * stats[i] the object's size and entity tag. Every slot is filled whatever happens; returns
     * 0, or TAMS_ERR_IO when at least one slot is TAMS_ERR_IO. May block on the network (S3:
     * HEADs run concurrently, each bounded by its own timeout). */
    int (*exists_many)(const struct tams_media_backend *b, const char *const *keys, size_t n,
                       int *results, struct tams_media_stat *stats);
    /* Object copies (TAMS 8.2 object instances, media/copy.h); both may block on the network
     * and the disk: never on a path that must stay fast. fetch appends the object's bytes to
     * fd and its Content-Type to content_type: 0, TAMS_ERR_NOTFOUND, TAMS_ERR_IO. store makes
     * the object key from the size bytes of fd (read from offset 0): 0, TAMS_ERR_CONFLICT when
     * key holds bytes already, TAMS_ERR_NOSPACE, TAMS_ERR_IO. */
    int (*fetch)(const struct tams_media_backend *b, const char *key, int fd,
                 struct tams_buf *content_type);
    int (*store)(const struct tams_media_backend *b, const char *key, int fd, uint64_t size,
                 const char *content_type);
    void (*close)(struct tams_media_backend *b);
    /* Delete the object's bytes (garbage collection). 0 when the object is gone, also when it
     * was never uploaded; TAMS_ERR_IO when the store could not be reached or refused, so the
     * caller retries later. May block on the network: never call it on a request thread. */
    int (*remove)(const struct tams_media_backend *b, const char *key);
    /* For GET /ready: true when the backend can take uploads now, else false with the reason
     * appended to why. Never blocks on the network (S3 answers from its last probe). */
    bool (*ready)(const struct tams_media_backend *b, struct tams_buf *why);
    /* Appends " <origin>" (scheme://host[:port]) for every origin its get_urls may name, for
     * the web interface's Content-Security-Policy. NULL: its URLs are tamsd's own. */
    void (*origins)(const struct tams_media_backend *b, struct tams_buf *out);
};

struct tams_media_backend {
    char id[37];
    const char *label, *provider, *store_product, *region, *availability_zone; /* may be NULL */
    bool is_default;
    /* TAMS 8.2 tags (media/tags.h), NULL when none: a json-c reference set by whoever opens
     * the backend (api/app.c, from the storage config) and put by it after close. */
    struct json_object *tags;
    /* Headers a client must send with every put_url, as a NULL-terminated list of name, value,
     * name, value...; NULL when none. Listed in put_url.headers by POST /flows/{id}/storage. */
    const char *const *put_headers;
    const struct tams_media_ops *ops;
    void *impl;
};

/* A new random object key: "xx/yy/<uuid>" (fan-out directories; no client input in it). */
void tams_media_new_key(char out[48]);

/* The backend with this id among n backends, or NULL (also for a NULL id). */
const struct tams_media_backend *tams_media_find(struct tams_media_backend *const *backends,
                                                 size_t n, const char *id);

#endif
