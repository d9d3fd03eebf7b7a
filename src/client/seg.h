/* SPDX-License-Identifier: Apache-2.0 */
/* seg.h - cut media into segments at keyframes without re-encoding, one stream per segment.
 *
 * The first video stream given leads (the first stream when there is no video): a segment
 * ends at its first keyframe at least the segment duration after the segment's start. Every
 * other stream is cut at the same points, each sample going to the segment whose span holds
 * its presentation time. Each segment is a self-contained MPEG-TS or fragmented MP4 file in
 * memory. Timestamps are the media's own, shifted only when the media has negative ones
 * (as MP4 files with B-frames do), by the same amount for every stream; the timerange of a
 * segment runs from its first sample's time to the next segment's, the last to the end of its
 * last sample, so one stream's segments are exactly contiguous. A segment is handed over as
 * soon as it is complete (for the lead stream, when the keyframe after it arrives), so a live
 * input is registered as it goes.
 */
#ifndef TAMS_CLIENT_SEG_H
#define TAMS_CLIENT_SEG_H

#include "core/common.h"

#include <libavformat/avformat.h>
#include <signal.h>

#define TAMS_SEG_MAX_STREAMS 64

struct tams_seg_piece {
    size_t track;        /* index into the streams given to tams_seg_run */
    size_t number;       /* the segment's number: the same for every track cut at one point */
    const uint8_t *data; /* the segment file; valid during the callback only */
    size_t size;
    int64_t lo, hi; /* its timerange [lo, hi) in nanoseconds */
    int key_frames; /* keyframes in it */
    int frames;     /* packets (video frames, audio frames) in it */
};

/* Called once per finished segment, in the order they finish; non-zero stops the run and is
 * returned by tams_seg_run. */
typedef int (*tams_seg_fn)(const struct tams_seg_piece *p, void *arg);

struct tams_seg_opts {
    int64_t duration; /* ns, > 0: the shortest segment (but the last) */
    bool fmp4;        /* fragmented MP4 instead of MPEG-TS */
    bool realtime;    /* read no faster than the media's own clock (a file played as live) */
    /* When it becomes non-zero (a signal handler sets it), reading stops as at the end of the
     * input and every segment begun is finished and handed over. May be NULL. */
    const volatile sig_atomic_t *stop;
};

/* Reads ic from its current position to the end and cuts streams[0..n-1] (input stream
 * indices, 1 <= n <= TAMS_SEG_MAX_STREAMS; others are skipped). Returns 0 when every segment went
 * to fn, fn's non-zero result, or -1 with a message in err (the media could not be read or
 * remuxed). */
int tams_seg_run(AVFormatContext *ic, const int *streams, size_t n, const struct tams_seg_opts *o,
                 tams_seg_fn fn, void *arg, char *err, size_t errlen);

#endif
