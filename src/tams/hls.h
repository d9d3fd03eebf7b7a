/* SPDX-License-Identifier: Apache-2.0 */
/* hls.h - HLS playlists (RFC 8216) from a flow's timeline; pure: plain values in, text out.
 *
 * Times are TAI nanoseconds on the TAMS timeline. A media playlist is written in one pass over
 * the segments, in timeline order, into one buffer: the segments first, then the header (whose
 * EXT-X-TARGETDURATION depends on every segment) is put in front with one move, so the cost is
 * linear in the segments listed. A hole between two segments becomes EXT-X-GAP segments of at
 * most the nominal duration each, so the EXTINF values always add up to the span from the first
 * segment's start to the last one's end; EXT-X-PROGRAM-DATE-TIME is written at the first segment
 * and again after every hole. EXTINF values are exact decimals of the nanosecond durations.
 */
#ifndef TAMS_TAMS_HLS_H
#define TAMS_TAMS_HLS_H

#include "core/common.h"
#include "core/buf.h"

#include <json-c/json.h>

/* TAI - UTC since 2017-01-01 (the last leap second); the TAMS timeline is TAI. */
#define TAMS_HLS_TAI_UTC_NS (37LL * 1000000000LL)
#define TAMS_HLS_CODECS_MAX 64
#define TAMS_HLS_PDT_MAX 64
/* The URI of a gap segment: relative, never fetched by a client that knows EXT-X-GAP. */
#define TAMS_HLS_GAP_URI "gap.ts"

struct tams_hls_media {
    struct tams_buf *_out;
    int64_t _nominal, _next, _longest, _first;
    size_t _nseg;
};

/* Start a media playlist in out (emptied). nominal_ns > 0: the flow's nominal segment duration,
 * the longest a gap segment may be. */
void tams_hls_media_init(struct tams_hls_media *m, struct tams_buf *out, int64_t nominal_ns);
/* Append the segment [start_ns, end_ns) (end > start), after the previous one (start >= the
 * previous end; an overlap is clipped from the front). uri is written as given. */
void tams_hls_media_segment(struct tams_hls_media *m, int64_t start_ns, int64_t end_ns,
                            const char *uri);
/* Put the header in front (EXT-X-MEDIA-SEQUENCE media_sequence; with vod, EXT-X-PLAYLIST-TYPE
 * VOD and a final EXT-X-ENDLIST). Returns 0, or TAMS_ERR_TOOBIG when out's cap was reached. */
int tams_hls_media_finish(struct tams_hls_media *m, int64_t media_sequence, bool vod);
/* Segments written so far, gap segments included. */
size_t tams_hls_media_count(const struct tams_hls_media *m);
/* Start of the first segment written; INT64_MIN when none was. */
int64_t tams_hls_media_first(const struct tams_hls_media *m);

/* The media sequence number of a window starting at start_ns: floor(start / nominal), so that
 * every instance of tamsd, on every reload, numbers a segment alike (exact for segments of the
 * nominal duration). */
int64_t tams_hls_media_sequence(int64_t start_ns, int64_t nominal_ns);

/* "2026-12-05T21:27:02.123Z": the UTC time of a TAI timestamp (37 s of leap seconds). */
void tams_hls_pdt(int64_t tai_ns, char out[TAMS_HLS_PDT_MAX]);

/* RFC 6381 codec string of a flow's codec (a MIME type such as "video/h264") from its
 * essence_parameters (may be NULL): H.264 "avc1.PPCCLL" from avc_parameters, else
 * "avc1.640028" (High, level 4.0); H.265 "hvc1.1.6.L120.90"; AAC "mp4a.40.<mp4_oti>" from
 * codec_parameters, else "mp4a.40.2" (AAC-LC); MP3 "mp4a.40.34"; AC-3 "ac-3"; E-AC-3 "ec-3".
 * Returns 0, or TAMS_ERR_NOTFOUND for a codec with no known string (out is then ""). */
int tams_hls_codec_string(const char *codec, json_object *essence, char out[TAMS_HLS_CODECS_MAX]);

/* One variant of a multivariant playlist; width/height/frame rate 0 when unknown. */
struct tams_hls_variant {
    const char *uri;
    int64_t bandwidth;     /* bits per second, > 0 */
    int64_t avg_bandwidth; /* 0: not written */
    int64_t width, height;
    int64_t fr_num, fr_den;
    const char *codecs;      /* NULL or "": not written */
    const char *audio_group; /* NULL: no AUDIO attribute */
};

/* An audio rendition (EXT-X-MEDIA TYPE=AUDIO). */
struct tams_hls_rendition {
    const char *uri, *group, *name; /* name is quoted with '"' removed */
    const char *language;           /* NULL: not written */
    bool is_default;
};

/* Write a multivariant playlist into out (emptied). Returns 0 or TAMS_ERR_TOOBIG. */
int tams_hls_multivariant(struct tams_buf *out, const struct tams_hls_rendition *r, size_t nr,
                          const struct tams_hls_variant *v, size_t nv);

#endif
