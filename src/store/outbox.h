/* SPDX-License-Identifier: Apache-2.0 */
/* outbox.h - the event payloads the store writes into its outbox, shared by every back end.
 *
 * Each function appends JSON text to out (capped buffer: check tams_buf_ok). The texts are the
 * `event` member of the webhook message (notes §8.4), except segments, which are the stored
 * form described at struct tams_event_rec in store.h.
 */
#ifndef TAMS_STORE_OUTBOX_H
#define TAMS_STORE_OUTBOX_H

#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "store/store.h"

/* Event type names, as sent. */
#define TAMS_EV_FLOW_CREATED "flows/created"
#define TAMS_EV_FLOW_UPDATED "flows/updated"
#define TAMS_EV_FLOW_DELETED "flows/deleted"
#define TAMS_EV_SEGMENTS_ADDED "flows/segments_added"
#define TAMS_EV_SEGMENTS_DELETED "flows/segments_deleted"
#define TAMS_EV_SOURCE_CREATED "sources/created"
#define TAMS_EV_SOURCE_UPDATED "sources/updated"
#define TAMS_EV_SOURCE_DELETED "sources/deleted"

/* {"flow": <Flow as GET /flows/{id} returns it, without timerange>} */
void tams_outbox_flow(struct tams_buf *out, const struct tams_flow_rec *rec);
/* {"source": <Source as GET /sources/{id} returns it>} */
void tams_outbox_source(struct tams_buf *out, const struct tams_source_rec *rec);
/* {"<key>": "<id>"} (flows/deleted, sources/deleted) */
void tams_outbox_id(struct tams_buf *out, const char *key, const char *id);
/* {"flow_id": ..., "timerange": ...} (flows/segments_deleted) */
void tams_outbox_segments_deleted(struct tams_buf *out, const char *flow_id,
                                  const struct tams_timerange *tr);
/* flows/segments_added is built in three steps: begin, one segment at a time, end. */
void tams_outbox_segments_begin(struct tams_json *j, struct tams_buf *out, const char *flow_id);
/* Where an object's bytes are: controlled by a backend (its id, the object's key) or not. */
struct tams_outbox_where {
    bool controlled;
    const char *storage_id, *key;
};
/* seg with its object's whereabouts (as "_object") and, when seg names an init object (8.2),
 * the init object's (as "_init", with its id; init NULL: none known). */
void tams_outbox_segment(struct tams_json *j, const struct tams_segment *seg,
                         const struct tams_outbox_where *object,
                         const struct tams_outbox_where *init);
void tams_outbox_segments_end(struct tams_json *j);

/* Comma-joined ids (NULL when n == 0), allocated; free with tams_free. */
char *tams_outbox_join(const char *const *ids, size_t n);

#endif
