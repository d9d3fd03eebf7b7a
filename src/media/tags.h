/* SPDX-License-Identifier: Apache-2.0 */
/* tags.h - the tags of a storage backend (TAMS 8.2, tags.json): checked when the storage
 * config is read, matched by the tag.{name} / tag_exists.{name} filters of
 * GET /service/storage-backends and storage_backend_tag.{name} /
 * storage_backend_tag_exists.{name} of get_urls.
 *
 * Tags are a json-c object whose values are strings or arrays of strings; read-only once a
 * backend is open, so matching is thread-safe (it takes no references).
 */
#ifndef TAMS_MEDIA_TAGS_H
#define TAMS_MEDIA_TAGS_H

#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"

#include <json-c/json.h>

#define TAMS_MEDIA_TAGS_MAX 64       /* tags per backend */
#define TAMS_MEDIA_TAG_VALUES_MAX 64 /* values in a list */
#define TAMS_MEDIA_TAG_TEXT_MAX 256  /* bytes of a name or a value */

struct tams_media_tag_filter {
    const char *name;
    const char *values; /* tag.{name}: comma-separated values, one must match; NULL: exists */
    bool exists;        /* tag_exists.{name}: true asks for the tag, false for its absence */
};

/* 0 when v is a tags object within the limits above (names and values without control
 * characters, no empty name); otherwise TAMS_ERR_BADREQUEST with one line in why naming the
 * tag. */
int tams_media_tags_check(json_object *v, struct tams_buf *why) TAMS_WUR;

/* Whether tags (NULL: none) pass every one of n filters. tag.{name}=a,b matches a string
 * value equal to a or b, or a list holding a or b; partial matches never count. */
bool tams_media_tags_match(const json_object *tags, const struct tams_media_tag_filter *f,
                           size_t n);

/* Writes tags as a JSON object value. Not json-c's serialiser, which caches its text inside
 * the object and so is not safe on an object shared between threads. */
void tams_media_tags_write(struct tams_json *j, const json_object *tags);

#endif
