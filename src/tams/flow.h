/* SPDX-License-Identifier: Apache-2.0 */
/* flow.h - Flow documents: validation against the 7.0 schemas and the indexed fields.
 *
 * A Flow is kept as the client's JSON document (server-managed members removed) plus the
 * members that filters and rules need (struct tams_flow_index). Both the API layer (PUT) and the
 * store (property updates, which rebuild the index from the changed document) use this module.
 * Pure: json-c in, no HTTP, no SQL.
 */
#ifndef TAMS_TAMS_FLOW_H
#define TAMS_TAMS_FLOW_H

#include "core/common.h"
#include "core/buf.h"
#include "tams/tag.h"

#include <json-c/json.h>

/* Server-managed members: ignored on input, removed before storing, added on output.
 * NULL-terminated. */
extern const char *const tams_flow_server_members[];

struct tams_collection_item {
    const char *id;   /* member flow id (validated UUID) */
    const char *role; /* free text; "" when the item has none (8.2) */
};

/* Borrowed view into a json-c document: every pointer is owned by the document it was built
 * from, except the two arrays and each tag's values, which tams_flow_index_release() frees. */
struct tams_flow_index {
    const char *id, *source_id, *format;
    const char *codec, *container, *label; /* NULL when absent */
    int64_t frame_width, frame_height;     /* -1 when absent */
    bool read_only;
    struct tams_tag *tags;
    size_t ntags;
    struct tams_collection_item *collection;
    size_t ncollection;
};

/* Validate a Flow body (parsed JSON) against flow.json and its variants: required members,
 * types, enums, patterns (UUID, MIME), essence_parameters (no unknown keys), rationals, tags
 * (strings or, as 8.2 allows, arrays of strings: a 7.0 caller checks strings alone with
 * tams_tags_json_has_list), flow_collection items, container_mapping, bit rates, generation. Also
 * rejects a flow_collection that lists the flow itself. On failure returns TAMS_ERR_VALIDATION
 * and appends a summary naming the offending member (e.g. "essence_parameters.frame_width must
 * be an integer > 0") to why. Does not modify doc. */
int tams_flow_validate(json_object *doc, struct tams_buf *why);

/* Which schema a document is checked against. 7.0: a 7.0 request body (8.2-only members are
 * unknown: refused inside essence_parameters, left to the caller at the open top level; a
 * collection item needs its role). 8.2: an 8.2 request body (status, profile_id, vfr and
 * init_segments known, the vfr/frame_rate rule of ADR0040, multi essence_parameters typed).
 * STORED: the store's shape: 8.2's members, but neither the vfr rule (which the writers keep:
 * a 7.0 write sets vfr) nor typed multi essence_parameters (7.0 writes them free).
 * tams_flow_validate() is STORED. */
enum tams_flow_rules { TAMS_FLOW_RULES_STORED, TAMS_FLOW_RULES_70, TAMS_FLOW_RULES_82 };
int tams_flow_validate_rules(json_object *doc, enum tams_flow_rules rules, struct tams_buf *why);

/* The values of a Flow's status (8.2, flow-status.json). NULL-terminated. */
extern const char *const tams_flow_statuses[];

/* Remove server-managed members (created, metadata_updated, segments_updated, created_by,
 * updated_by, collected_by, timerange) from doc in place. */
void tams_flow_strip_server_members(json_object *doc);

/* Build the index of a validated document. Returns 0, or TAMS_ERR_VALIDATION (with why) if doc
 * was not valid. */
int tams_flow_index_build(json_object *doc, struct tams_flow_index *idx, struct tams_buf *why);
void tams_flow_index_release(struct tams_flow_index *idx);

/* Content formats of 7.0. */
bool tams_format_valid(const char *s);
/* MIME pattern of codec/container in documents: ^[^\s/]+/[^\s/]+$ */
bool tams_mime_valid(const char *s);

#endif
