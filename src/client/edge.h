/* SPDX-License-Identifier: Apache-2.0 */
/* edge.h - an exact export's edges: the frames of one GOP that fall inside a window, decoded
 * and encoded again (the only re-encoding an export does; whole GOPs inside are copied). */
#ifndef TAMS_CLIENT_EDGE_H
#define TAMS_CLIENT_EDGE_H

#include "core/common.h"

#include <libavformat/avformat.h>

/* Called with each packet made, which the callee takes (av_packet_free is its job). Non-zero
 * stops and is returned. */
typedef int (*tams_edge_emit_fn)(AVPacket *p, void *arg);

/* Decodes the n packets of one GOP (decode order, time base tb, codec par) and encodes the
 * frames whose presentation time is in [lo, hi) with the same codec, the first as a keyframe,
 * without B-frames; each packet's decode time is its presentation time less delay (the copied
 * stream's reordering delay, so decode times stay in order where copied packets follow).
 * frame_rate sets the packets' durations. Returns 0, emit's non-zero result, or -1 with a
 * message in err. */
int tams_edge_reencode(const AVCodecParameters *par, AVRational tb, AVRational frame_rate,
                       AVPacket *const *gop, size_t n, int64_t lo, int64_t hi, int64_t delay,
                       tams_edge_emit_fn emit, void *arg, char *err, size_t errlen);

#endif
