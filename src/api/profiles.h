/* SPDX-License-Identifier: Apache-2.0 */
/* profiles.h - how a Flow follows a Profile (docs/tams-8.2-changes.md 4, 16), for flows.c. */
#ifndef TAMS_API_PROFILES_H
#define TAMS_API_PROFILES_H
#include "core/common.h"
#include "http/request.h"
#include "store/store.h"
#include <json-c/json.h>

/* An 8.2 Flow body naming profile_id takes the Profile's flow_metadata (the stored flow keeps
 * both); technical metadata beside it must equal the Profile's. profile_id "" is removed (the
 * link broken). 0, or -1 with the 400 sent (unknown Profile, differing metadata). */
int flow_profile_apply_or_400(struct tams_req *req, json_object *doc);

/* A 7.0 body made from `stored` keeps stored's profile_id while its technical metadata equals
 * the Profile's (entry 4); else the flow no longer follows it. */
int flow_profile_keep70(struct tams_store *st, json_object *doc, json_object *stored);

#endif
