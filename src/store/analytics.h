/* SPDX-License-Identifier: Apache-2.0 */
/* analytics.h - what the store holds, summed: per flow, per source, per storage backend, for
 * the service, and ingest per minute (docs/analytics.md).
 *
 * Every answer is read from aggregates kept in the transaction of each write (registration
 * once per batch, seg_stats.c and PostgreSQL's tams_stats_batch_add; triggers on the other
 * paths; schema_sqlite.c's entry 5, schema_pg.c's 9), never from the segments: a flow's summary
 * and a page of its gaps cost a few index seeks whatever its length. The sums over several flows (a
 * source, a backend, the service, overall ingest) read one aggregate row per flow (or per flow and
 * minute), so they grow with flows, never with segments.
 *
 * The contract of store.h holds: thread-safe, 0 or a negative tams_err, callbacks after the
 * read has ended. Times are closed nanosecond intervals as in tams/timerange.h.
 */
#ifndef TAMS_STORE_ANALYTICS_H
#define TAMS_STORE_ANALYTICS_H

#include "core/common.h"
#include "store/store.h"

/* Totals over a set of segments. Bytes count each object once per flow that references it,
 * with its size where the store knows it (tams_store_object_set_size); objects whose size is
 * not known are counted in unsized_objects and add nothing to bytes. */
struct tams_stats {
    int64_t flows;      /* flows summed (1 for a flow) */
    int64_t segments;   /* segments stored */
    int64_t covered_ns; /* time the segments cover, in nanoseconds */
    bool any;           /* first_lo and last_hi are set: there is at least one segment */
    int64_t first_lo;   /* the first segment's start */
    int64_t last_hi;    /* the last segment's end (inclusive, in ns) */
    int64_t objects;    /* (object, flow) references */
    int64_t unsized_objects;
    int64_t bytes;
};

/* A flow's totals; NOTFOUND when the flow does not exist or is being deleted. */
int tams_store_stats_flow(struct tams_store *st, const char *flow_id, struct tams_stats *out);
/* Totals of the source's flows (not being deleted); NOTFOUND when the source does not exist.
 * first_lo / last_hi span all its flows. Cost: one aggregate row per flow of the source. */
int tams_store_stats_source(struct tams_store *st, const char *source_id, struct tams_stats *out);
/* Totals of every flow. Cost: one aggregate row per flow. */
int tams_store_stats_service(struct tams_store *st, struct tams_stats *out);

/* Totals per storage backend: storage_id NULL for objects outside every backend (registered
 * with get_urls). Only segments, objects (unused), bytes are set. */
typedef int (*tams_stats_storage_cb)(void *ctx, const char *storage_id, const struct tams_stats *s);
/* Every backend that holds or held a segment, ordered by id (uncontrolled first). Cost: one
 * aggregate row per (flow, backend). */
int tams_store_stats_storage(struct tams_store *st, tams_stats_storage_cb cb, void *ctx);

/* The gaps of a flow, [lo, hi] closed, between its first and its last segment, in time order,
 * keyset-paged on lo; NOTFOUND when the flow does not exist or is being deleted. Cost:
 * O(log n + page). */
typedef int (*tams_stats_gap_cb)(void *ctx, int64_t lo, int64_t hi);
int tams_store_stats_gaps(struct tams_store *st, const char *flow_id, const struct tams_page *page,
                          tams_stats_gap_cb cb, void *ctx);

/* Ingest per minute (minute = Unix seconds / 60) from since_minute on, oldest first, minutes
 * without ingest left out: of one flow (NOTFOUND when it does not exist or is being deleted)
 * or, with flow_id NULL, summed over every flow (deleted flows included). Cost: one row per
 * (flow, minute) read. */
typedef int (*tams_stats_ingest_cb)(void *ctx, int64_t minute, int64_t segments, int64_t bytes);
int tams_store_stats_ingest(struct tams_store *st, const char *flow_id, int64_t since_minute,
                            tams_stats_ingest_cb cb, void *ctx);
/* Drops ingest buckets older than before_minute (the garbage collector's round); writes
 * nothing when there are none. *dropped (may be NULL) gets how many went. */
int tams_store_stats_ingest_prune(struct tams_store *st, int64_t before_minute, int64_t *dropped);

/* The size in bytes of the object stored under key in backend storage_id, now known (the
 * built-in store after an upload): every flow referencing it counts it from now on. An
 * unknown key changes nothing (0). With if_registered, only an object some segment registered
 * already is written (the caller gives the others' sizes to their registration: object_size
 * of struct tams_segment); the check is a read, so the usual upload writes nothing. */
int tams_store_object_set_size(struct tams_store *st, const char *storage_id, const char *key,
                               int64_t size, bool if_registered);

#endif
