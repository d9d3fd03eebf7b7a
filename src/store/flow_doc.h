/* SPDX-License-Identifier: Apache-2.0 */
/* flow_doc.h - stored flows and sources as the API's JSON (responses and event payloads). */
#ifndef TAMS_STORE_FLOW_DOC_H
#define TAMS_STORE_FLOW_DOC_H

#include "core/json.h"
#include "store/store.h"
#include "tams/timerange.h"

/* The stored document with the server-managed members spliced in; `timerange` only when
 * timerange is not NULL. */
void tams_flow_doc_write(struct tams_json *j, const struct tams_flow_rec *rec,
                         const struct tams_timerange *timerange);

/* A Source with its derived source_collection and collected_by (omitted when empty); v70:
 * its tags as TAMS 7.0 shows them (tams/tag.h), else as stored. */
void tams_source_doc_write(struct tams_json *j, const struct tams_source_rec *r, bool v70);

#endif
