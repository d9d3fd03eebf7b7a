/* SPDX-License-Identifier: Apache-2.0 */
/* flow_v82.h - the 7.0 view of a stored (8.2-shaped) Flow and the translation of a 7.0 write.
 *
 * The store keeps a Flow in the 8.2 shape (docs/tams-8.2-changes.md, R1): `status`, and
 * `vfr`/`init_segments` in essence_parameters, collection items without a role. A 7.0 client
 * sees the closest 7.0 form (R3, R4) and a 7.0 write keeps what 7.0 cannot say (R2). Pure:
 * json-c in, no HTTP, no SQL.
 */
#ifndef TAMS_TAMS_FLOW_V82_H
#define TAMS_TAMS_FLOW_V82_H
#include "core/common.h"
#include <json-c/json.h>

/* The tag by which 7.0 clients knew the status (app note 3, before 8.2 made it a field). */
#define TAMS_FLOW_STATUS_TAG "flow_status"

/* Could the 7.0 view of this stored text differ from it? A cheap check on the text, so that
 * documents without 8.2 members are spliced unparsed; false positives only cost a parse. */
bool tams_flow_view70_may_differ(const char *doc);

/* The 7.0 view, in place: vfr and init_segments leave essence_parameters, status becomes the
 * tag flow_status unless a tag of that name exists, profile_id goes, and a collection item
 * without a role gets role "". */
void tams_flow_view70(json_object *doc);

/* The 8.2 view: a multi Flow's essence_parameters as 7.0 let it be written (free) is shown
 * with the members 8.2 types only (init_segments). may_differ: the cheap check on the text. */
bool tams_flow_view82_may_differ(const char *doc);
void tams_flow_view82(json_object *doc);

/* Is s one of the statuses of 8.2? */
bool tams_flow_status_valid(const char *s);

/* A validated 7.0 body made into the stored shape, in place. `stored` is the document it
 * replaces (NULL when new), from which what 7.0 cannot express is kept: status (unless the body
 * sets it through the tag flow_status), init_segments when the format is unchanged. A video
 * Flow without frame_rate gets vfr true (ADR0040; 7.0 allowed it), one with it loses vfr. Items
 * with role "" lose their role again. Top-level status and profile_id, which 7.0 does not
 * name, are dropped from the body. */
void tams_flow_from70(json_object *doc, json_object *stored);

/* The collection part of that: items of a 7.0 flow_collection with role "" lose their role. */
void tams_flow_from70_collection(json_object *coll);

#endif
