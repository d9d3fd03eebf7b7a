/* SPDX-License-Identifier: Apache-2.0 */
/* storage_config.h - the storage backends file (setting storage_config): parse and validate.
 *
 * The file is one JSON object (docs/configuration.md, "Storage backends file"):
 *
 *   {"backends": [{"id": "<uuid>", "label": "s3-a", "type": "s3",
 *                  "provider": "...", "store_product": "...", "region": "eu-west-2",
 *                  "availability_zone": "...", "endpoints": ["http://127.0.0.1:9000"],
 *                  "bucket": "tams-media", "prefix": "tams/", "addressing": "path",
 *                  "access_key": "...", "secret_key": "..." | "secret_key_env": "VAR",
 *                  "session_token": "..." | "session_token_env": "VAR",
 *                  "probe_interval": 10, "default": true, "conditional_put": false,
 *                  "tags": {"tier": "archive", "site": ["london", "leeds"]}}],
 *    "local": {"default": false, "tags": {...}}}
 *
 * Required per backend: id, label, type ("s3"), endpoints (1..TAMS_S3_MAX_ENDPOINTS),
 * bucket, access_key (or access_key_env), secret_key (or secret_key_env). Optional: provider,
 * store_product, availability_zone, region (default "us-east-1", also what is listed), prefix
 * (default ""), addressing ("path", the default, or "virtual"), session_token[_env],
 * probe_interval (1..3600 s, default 10), default (false), conditional_put (false), tags (TAMS
 * 8.2's tags.json, media/tags.h). "local" holds only "default" and "tags"; the built-in store is
 * the default unless "local": {"default": false} or a backend says "default": true (then "local"
 * may not say true). Unknown keys, wrong types, bad UUIDs, duplicate ids or labels (also against
 * the built-in store's), two defaults, empty endpoint lists and bad URLs are errors.
 *
 * Pure apart from reading the file: *_env names are looked up in envp (a NULL-terminated
 * "K=V" list; NULL is empty), never in the process environment behind the caller's back.
 * Messages name the backend (its label, else its position) and the key, never a secret value.
 */
#ifndef TAMS_MEDIA_STORAGE_CONFIG_H
#define TAMS_MEDIA_STORAGE_CONFIG_H

#include "core/common.h"
#include "core/buf.h"
#include "media/s3.h"

#define TAMS_STORAGE_CONFIG_MAX_BYTES (1024 * 1024)
#define TAMS_STORAGE_CONFIG_MAX_BACKENDS 64

struct tams_storage_config {
    /* One entry per backend in file order. Every string is owned by the struct; expiry is 0
     * (the caller sets it before tams_s3_open). */
    struct tams_s3_settings *s3;
    size_t ns3;
    bool local_default; /* whether the built-in store is the default */
    /* The "tags" of each backend (ns3 entries) and of the built-in store, NULL when none:
     * references the config holds; take your own (json_object_get) to keep one. */
    struct json_object **tags, *local_tags;
    /* private */
    void **_owned;
    size_t _nowned, _capowned;
};

/* Parses len bytes of JSON. local_id / local_label are the built-in store's (checked for
 * clashes). On error returns TAMS_ERR_BADREQUEST (or TAMS_ERR_TOOBIG) with one line in why,
 * and cfg holds nothing; release it in every case. */
int tams_storage_config_parse(struct tams_storage_config *cfg, const char *text, size_t len,
                              const char *local_id, const char *local_label, char **envp,
                              struct tams_buf *why) TAMS_WUR;

/* Reads path (at most TAMS_STORAGE_CONFIG_MAX_BYTES) and parses it; TAMS_ERR_IO if unreadable.
 * Messages start with the path. */
int tams_storage_config_load(struct tams_storage_config *cfg, const char *path,
                             const char *local_id, const char *local_label, char **envp,
                             struct tams_buf *why) TAMS_WUR;

/* Frees everything (zeroing secrets); accepts a zeroed or released struct. */
void tams_storage_config_release(struct tams_storage_config *cfg);

/* Internal, for tests: normalises "http[s]://host[:port][/]" to "scheme://host[:port]"
 * (lowercase, default port dropped), appending to out; false for anything else. *ip_literal
 * (may be NULL) tells whether the host is an IP address. */
bool tams__storage_endpoint_normalise(const char *url, struct tams_buf *out, bool *ip_literal);

#endif
