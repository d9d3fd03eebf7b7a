/* SPDX-License-Identifier: Apache-2.0 */
/* params.h - parse-or-respond helpers for path and query parameters of the TAMS API.
 *
 * Each returns 0 when the input is good (or absent), and otherwise sends the 4xx with the
 * error body and returns non-zero, so handlers stay flat: `if (helper(req, ...)) return;`.
 */
#ifndef TAMS_API_PARAMS_H
#define TAMS_API_PARAMS_H

#include "core/common.h"
#include "http/request.h"
#include "media/get_urls.h"
#include "store/store.h"
#include "tams/timerange.h"

/* Every query parameter must be listed in `allowed` (NULL-terminated; an entry "prefix.*"
 * allows every name "prefix.<something>"), be `access_token`, or
 * (when tag_filters) be `tag.{name}` / `tag_exists.{name}`. A filter is never ignored: anything
 * else is a 400 naming it. */
int tams_query_known_or_400(struct tams_req *req, const char *const *allowed, bool tag_filters);
/* tag.{name}=value and tag_exists.{name}=true|false, names split at the first dot. Under 8.2
 * the value of tag.{name} is a comma-separated list, any of which matches (7.0: one value). */
int tams_tag_filters_or_400(struct tams_req *req, struct tams_tag_filter **out, size_t *n);
/* The same with a prefix on both names (8.2's `flow_tag.{name}` on GET /objects/{id}). */
int tams_query_known_tags_or_400(struct tams_req *req, const char *const *allowed,
                                 const char *tag_prefix);
int tams_prefixed_tag_filters_or_400(struct tams_req *req, const char *prefix,
                                     struct tams_tag_filter **out, size_t *n);
/* Path parameter idx must be a UUID; otherwise 404 naming `what` ("flow", "source"). */
int tams_path_uuid_or_404(struct tams_req *req, size_t idx, const char *what, const char **out);
/* Optional single-valued query parameters with a type. */
int tams_query_timerange_or_400(struct tams_req *req, const char *name, struct tams_timerange *out,
                                bool *given);
int tams_query_uuid_or_400(struct tams_req *req, const char *name, const char **out);
int tams_query_format_or_400(struct tams_req *req, const char *name, const char **out);
/* TAMS 8.2 collected_by_ids: a comma-separated list of UUIDs (in the request pool), or empty
 * for "collected by none" (store.h, struct tams_collected_filter). */
int tams_query_collected_or_400(struct tams_req *req, const char *name,
                                struct tams_collected_filter *out);
/* TAMS 8.2 sort_by (one of names, NULL-terminated, given as values[i]; absent: dflt) and
 * reverse_order. */
int tams_query_sort_or_400(struct tams_req *req, const char *const *names,
                           const enum tams_sort_by *values, enum tams_sort_by dflt,
                           enum tams_sort_by *by, bool *reverse);
/* accept_get_urls, accept_storage_ids, presigned, verbose_storage and, under 8.2,
 * storage_backend_tag.{name} / storage_backend_tag_exists.{name} into *f (lists in the request
 * pool; under 7.0 the tag filters are unknown parameters, 400). Callers list
 * TAMS_GET_URLS_QUERY_NAMES among their known parameters. */
#define TAMS_GET_URLS_QUERY_NAMES                                                                  \
    "accept_get_urls", "accept_storage_ids", "presigned", "verbose_storage",                       \
        "storage_backend_tag.*", "storage_backend_tag_exists.*"
int tams_get_urls_filter_or_400(struct tams_req *req, struct tams_get_urls_filter *f);
/* A request body must be kept exactly as sent: no string anywhere in v may hold U+0000 (the
 * store and the filters work on C strings), no number may be NaN/Infinity, and no integer may
 * lie outside (-2^63, 2^63) (json-c saturates those). Otherwise sends the 400 naming `what`
 * and the member path, and returns non-zero. */
int tams_body_sane_or_400(struct tams_req *req, json_object *v, const char *what);

#endif
