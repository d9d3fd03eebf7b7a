/* SPDX-License-Identifier: Apache-2.0 */
/* profiles.h - TAMS 8.2 Profiles (docs/tams-8.2-changes.md 4): reusable, immutable templates of
 * a Flow's technical metadata. Kept as the client's document (created and created_by removed)
 * with the columns the list filters use.
 */
#ifndef TAMS_STORE_PROFILES_H
#define TAMS_STORE_PROFILES_H
#include "core/common.h"
#include "store/store.h"

struct tams_profile_rec {
    const char *id;
    const char *doc; /* JSON object text: id, label, description, tags, flow_metadata */
    const char *created, *created_by; /* created_by NULL when unknown */
};

/* Filters of GET /service/profiles: NULL = not given. */
struct tams_profile_filter {
    const char *label, *format, *codec;
};

typedef int (*tams_profile_cb)(void *ctx, const struct tams_profile_rec *rec);

/* Create; label/format/codec are the indexed copies of the document's. TAMS_ERR_CONFLICT when
 * the id exists (profiles are immutable). */
int tams_store_profile_create(struct tams_store *st, const char *id, const char *label,
                              const char *format, const char *codec, const char *doc,
                              const char *principal);
/* TAMS_ERR_NOTFOUND when absent. */
int tams_store_profile_get(struct tams_store *st, const char *id, tams_profile_cb cb, void *ctx);
/* In id order, a page at a time (cursor kind "profiles"). */
int tams_store_profile_list(struct tams_store *st, const struct tams_profile_filter *f,
                            const struct tams_page *page, tams_profile_cb cb, void *ctx);

#endif
