/* SPDX-License-Identifier: Apache-2.0 */
/* probe.h - what a TAMS flow says about a media stream, read from the media by libavformat:
 * format, codec as a MIME type, essence parameters. */
#ifndef TAMS_CLIENT_PROBE_H
#define TAMS_CLIENT_PROBE_H

#include "core/common.h"

#include <json-c/json.h>
#include <libavformat/avformat.h>

#define TAMS_FORMAT_VIDEO "urn:x-nmos:format:video"
#define TAMS_FORMAT_AUDIO "urn:x-nmos:format:audio"
#define TAMS_FORMAT_MULTI "urn:x-nmos:format:multi"

/* The MIME type TAMS uses for a codec ("video/h264", "audio/aac"), or NULL for one this client
 * does not know how to name. */
const char *tams_probe_codec_mime(enum AVCodecID id);

/* A new flow document (without id and source_id) for stream st: format, codec, container and
 * essence_parameters (video: frame_width, frame_height, frame_rate, interlace_mode, bit_depth,
 * component_type, chroma subsampling, colorspace, pixel_aspect_ratio when known; audio:
 * sample_rate, channels, bit_depth when the codec has one), avg_bit_rate when the media states
 * it. NULL when st is neither video nor audio or its codec has no MIME type here. */
json_object *tams_probe_flow(const AVStream *st, const char *container);

#endif
