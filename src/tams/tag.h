/* SPDX-License-Identifier: Apache-2.0 */
/* tag.h - tag values: a string (TAMS 7.0 and 8.2) or a list of strings (8.2, ADR0041), and
 * the 7.0 view of them.
 *
 * Reusable by every resource that has tags (sources, flows, webhooks, storage backends,
 * profiles). The rules (docs/tams-8.2-changes.md, entry 10):
 * - 8.2 shows a tag as stored: a string, or an array of strings (possibly empty).
 * - 7.0 sees one string: a string as is, a list's first value, "" for an empty list
 *   (tams_tag.value always holds it).
 * - A 7.0 write must not lose values it cannot see (tams_tag_70_write, tams_tags_json_merge_70):
 *   a list of several values is only kept (its shown value unchanged) or refused, never
 *   overwritten; a list of at most one value stays a list of the new value.
 * Pure: json-c in, no HTTP, no SQL.
 */
#ifndef TAMS_TAMS_TAG_H
#define TAMS_TAMS_TAG_H

#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"

#include <json-c/json.h>

/* One tag. Strings are borrowed from whatever the tag was built from; `values` is owned by
 * whoever built it (tams_tag_from_json: release with tams_tag_release). */
struct tams_tag {
    const char *name;
    const char *value;         /* the string; for a list its first value, "" when empty */
    const char *const *values; /* a list's values (nvalues of them); NULL for a string */
    size_t nvalues;
    bool list; /* an array of strings (8.2 only) */
};

/* Is v a valid tag value: a JSON string, or (allow_list) an array of strings? */
bool tams_tag_json_valid(json_object *v, bool allow_list);

/* Build *t (named name) from a valid JSON value (tams_tag_json_valid(v, true)). Strings are
 * borrowed from v. Returns 0, or TAMS_ERR_VALIDATION with a summary appended to why (may be
 * NULL) naming the tag. */
int tams_tag_from_json(json_object *v, const char *name, struct tams_tag *t, struct tams_buf *why);
void tams_tag_release(struct tams_tag *t);

/* The value as JSON: as stored (8.2), or the 7.0 string (v70). */
void tams_tag_write(struct tams_json *j, const struct tams_tag *t, bool v70);

/* A new json-c value for the tag as 7.0 shows a JSON value (a string, as is; an array: its
 * first string, or ""). */
json_object *tams_tag_json_70(json_object *v);

/* Does the tag value v (a string, or an array of strings) hold one of the comma-separated
 * values of list (8.2's tag.{name}=a,b)? Whole values only; a value holding a comma cannot be
 * asked for. */
bool tams_tag_json_holds_any(json_object *v, const char *list);

/* Does this tags object hold a list anywhere (so that 7.0 needs a converted copy)? */
bool tams_tags_json_has_list(json_object *tags);
/* The same question of a JSON document's text (an object, as the store keeps a flow): does
 * its top-level "tags" object hold an array value? Exact for a document json-c wrote; true
 * for text it cannot answer for (malformed, an escaped member name), so a caller that then
 * parses the document loses nothing. No allocation: spares the parse of every listed flow. */
bool tams_tags_text_has_list(const char *doc);
/* Convert every list of a tags object to its 7.0 string, in place. */
void tams_tags_json_to_70(json_object *tags);

/* What a 7.0 write of the string v over a stored tag does (stored NULL: there is none). */
enum tams_tag_70 {
    TAMS_TAG70_STRING,   /* store v as a string */
    TAMS_TAG70_LIST1,    /* store [v]: the stored list had at most one value */
    TAMS_TAG70_KEEP,     /* keep the stored list: v is what 7.0 was shown */
    TAMS_TAG70_CONFLICT, /* refuse (409): the list holds several values */
};
/* single: a PUT of this one tag (a list of several values is refused whatever v is, entry 10);
 * else the tag inside a whole tag map (kept when v is the value shown). */
enum tams_tag_70 tams_tag_70_write(const struct tams_tag *stored, const char *v, bool single);

/* A 7.0 write of a whole tags object `next` (strings only) over `stored` (NULL: none): lists
 * 7.0 was shown unchanged are put back into next; a changed one-value list becomes [v]. A
 * changed list of several values is TAMS_ERR_CONFLICT with why naming the tag; next is then
 * unchanged. Returns 0 or the error. */
int tams_tags_json_merge_70(json_object *stored, json_object *next, struct tams_buf *why);

/* The 409 summary of a refused 7.0 write of tag name. */
void tams_tag_conflict_why(struct tams_buf *why, const char *name);

#endif
