/* SPDX-License-Identifier: Apache-2.0 */
/* seg_timing.h - which samples of its object a segment uses, as each TAMS version says it
 * (docs/tams-8.2-changes.md, 23): 8.2's object_timerange, 7.0's sample_offset/sample_count,
 * translated through the flow's rate where that is exact.
 *
 * The store keeps what the registration gave (the deprecated pair too: 8.2 asks that it be
 * returned) and the object_timerange, given or derived from the pair; each view fills in the
 * other form on read. Not thread-safe: one per request. */
#ifndef TAMS_API_SEG_TIMING_H
#define TAMS_API_SEG_TIMING_H

#include "core/common.h"
#include "core/json.h"
#include "core/pool.h"
#include "store/store.h"

/* The flow's sample rate (video frame_rate, audio sample_rate), read from its stored document
 * on first need. */
struct tams_seg_rate {
    struct tams_store *st;
    const char *flow_id;
    int state; /* 0 not read yet, 1 known, -1 the flow has none (or is unknown) */
    int64_t num, den;
};

/* For a registration: a segment with sample_offset or sample_count and no object_timerange
 * gets the object_timerange they say, when the flow has a rate and it is exact (text from
 * pool). */
void tams_seg_timing_derive(struct tams_seg_rate *rate, struct tams_pool *pool,
                            struct tams_segment *seg);

/* Writes the timing members of a listed segment: sample_offset and sample_count as stored, or
 * in the 7.0 view computed from the object_timerange where exact; in the 8.2 view with
 * include_object_timerange, object_timerange (the segment's, else its object's, else its
 * timerange less ts_offset). */
void tams_seg_timing_write(struct tams_json *j, struct tams_seg_rate *rate,
                           const struct tams_segment_rec *rec, bool v82, bool include_otr);

#endif
