/* SPDX-License-Identifier: Apache-2.0 */
/* webhook.h - a webhook registration (webhook-post.json): validation, the form GET lists, and
 * which events it wants (notes §2.12, §8.1, §8.3).
 *
 * Pure: no store, no HTTP server. tams_webhook_parse is the fuzz target's entry point.
 */
#ifndef TAMS_EVENTS_WEBHOOK_H
#define TAMS_EVENTS_WEBHOOK_H

#include "core/common.h"
#include "core/buf.h"

#include <json-c/json.h>

#define TAMS_WEBHOOK_NEVENTS 8
/* The eight 7.0 event types; bit i of tams_webhook_reg.events is tams_webhook_events[i]. */
extern const char *const tams_webhook_events[TAMS_WEBHOOK_NEVENTS];
/* Index of an event type name, or -1. */
int tams_webhook_event_index(const char *name);

/* A list member of the registration; set is false when the member is absent. */
struct tams_webhook_list {
    const char **v; /* strings owned by the registration's document */
    size_t n;
    bool set;
};

/* All fields read-only; strings live as long as the registration. */
struct tams_webhook_reg {
    json_object *_doc;      /* the body, referenced */
    const char *url, *host; /* host as in the URL ([v6] keeps its brackets); host allocated */
    const char *api_key_name, *api_key_value; /* NULL when absent */
    unsigned events;                          /* 0: remove the registration */
    struct tams_webhook_list flow_ids, source_ids, flow_collected_by_ids, source_collected_by_ids;
    struct tams_webhook_list accept_get_urls, accept_storage_ids;
    int presigned; /* -1 absent, else 0/1 */
    bool verbose_storage;
    /* 8.2 (TAMS_WEBHOOK_V82): */
    bool include_object_timerange;
    const char *status; /* "created" or "disabled" as given, else NULL */
    const char *id;     /* PUT's id, else NULL */
    bool v82;           /* parsed as 8.2's (TAMS_WEBHOOK_V82) */
};

/* What a body may hold (tams_webhook_parse_as). */
#define TAMS_WEBHOOK_V82 1u    /* 8.2's members too: tags, include_object_timerange, status */
#define TAMS_WEBHOOK_PUT 2u    /* 8.2 PUT: id and status required, api_key_name may be alone */
#define TAMS_WEBHOOK_STORED 4u /* a stored doc: 8.2 members, status and id not expected */

/* Validate a POST /service/webhooks body. Every member of webhook-post.json is supported; any
 * other member is VALIDATION (an unsupported filter must be a 400, notes §8.1), as are: a url
 * that is not an absolute http(s) URL with a host (at most 2048 bytes), an unknown event
 * type, a malformed UUID in an id list, an api_key_name that is not an HTTP header name or an
 * api_key_value with control characters, and one of the two without the other.
 * On 0, *out holds a reference to body; release it with tams_webhook_reg_release. On error
 * *out is released and why gets a summary. */
int tams_webhook_parse(json_object *body, struct tams_webhook_reg *out, struct tams_buf *why);
/* The same, with the members flags allow (TAMS_WEBHOOK_*): under TAMS_WEBHOOK_V82, tags (an
 * object of strings or arrays of strings), include_object_timerange (boolean), status
 * ("created" or "disabled"); with TAMS_WEBHOOK_PUT also id (a UUID), and both id and status
 * required. tams_webhook_parse is flags 0 (7.0). */
int tams_webhook_parse_as(json_object *body, unsigned flags, struct tams_webhook_reg *out,
                          struct tams_buf *why);
void tams_webhook_reg_release(struct tams_webhook_reg *r);

/* The registration as stored: the body without api_key_value, id and status. */
void tams_webhook_doc(const struct tams_webhook_reg *r, struct tams_buf *out);
/* A stored doc (JSON object text) as GET lists it to `version` 7.0 (v82 false: without 8.2's
 * members) or 8.2 (with "id", "status" and "error" when not NULL, error being JSON text).
 * Appends an object to out; a doc that does not parse is written as {}. */
void tams_webhook_view(struct tams_buf *out, const char *doc, bool v82, const char *id,
                       const char *status, const char *error);
/* Is this member of a stored doc one 7.0 has no name for? */
bool tams_webhook_member_82(const char *key);

/* Does the registration want this event? type is an event type name; the other values are
 * the event's filter values (NULL when none; the collected_by lists comma-separated). Source
 * events ignore the flow filters. (notes §8.3: events AND (flow group) AND (source group),
 * each group the OR of its id and collected_by filters.) */
bool tams_webhook_wants(const struct tams_webhook_reg *r, const char *type, const char *flow_id,
                        const char *source_id, const char *flow_collected_by,
                        const char *source_collected_by);

#endif
