/* SPDX-License-Identifier: Apache-2.0 */
/* api.h - JSON requests to a TAMS server: one document, a paged list followed to its end.
 *
 * Every function returns an exit status (enum tams_exit) and, on failure, has already told the
 * user on stderr ("tams: ..." with the server's error summary).
 */
#ifndef TAMS_CLIENT_API_H
#define TAMS_CLIENT_API_H

#include "core/common.h"
#include "core/buf.h"
#include "client/http.h"

#include <json-c/json.h>

/* Sends method to target with body (serialised as JSON; may be NULL) and, when out is not NULL,
 * parses the answer into *out (the caller puts it; NULL for an empty answer). */
int tams_api_call(struct tams_http *h, const char *method, const char *target, json_object *body,
                  json_object **out);

/* GET target and parse the answer: tams_api_call without a body. */
int tams_api_get(struct tams_http *h, const char *target, json_object **out);

/* Called once per element of a list; non-zero stops the walk and is returned. The element
 * belongs to the walk (json_object_get to keep it). */
typedef int (*tams_api_item_fn)(json_object *item, void *arg);

/* GETs target, calls fn for each element of the answer's array, and follows Link rel="next"
 * until there is none. *pages, when not NULL, gets the number of pages read. */
int tams_api_list(struct tams_http *h, const char *target, tams_api_item_fn fn, void *arg,
                  int *pages);

/* Appends "name=value" to a query string in b, with '?' or '&' before it and value
 * percent-encoded; a NULL value appends nothing. */
void tams_api_query(struct tams_buf *b, const char *name, const char *value);

/* The TAMS version the server at h's base speaks, as major * 100 + minor (700, 802), read once
 * from GET /service's api_version and kept in h. A server whose /service gives none is taken
 * for 7.0. Returns an exit status; *version is set only on success. */
int tams_api_version(struct tams_http *h, int *version);

/* Makes flow (a flow document about to be PUT to h's server) what that server's version
 * requires: for 8.x, a video flow without essence_parameters.frame_rate says "vfr": true (8.2
 * requires the one or the other); for 7.0, "vfr" is removed (7.0 has no such field). Returns
 * an exit status (the version may have to be asked). */
int tams_api_fit_flow(struct tams_http *h, json_object *flow);

/* The string member key of o, or NULL. */
const char *tams_api_str(json_object *o, const char *key);

#endif
