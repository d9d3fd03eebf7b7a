/* SPDX-License-Identifier: Apache-2.0 */
/* hls.h - what the two playlist handlers (hls.c, hls_sources.c) share: the "{id}.m3u8" path
 * parameter, a flow document read once, and the flow's nominal segment duration. Request
 * threads only; everything lives for one request. */
#ifndef TAMS_API_HLS_H
#define TAMS_API_HLS_H

#include "core/common.h"
#include "http/request.h"
#include "store/store.h"

#include <json-c/json.h>

#define TAMS_HLS_CONTENT_TYPE "application/vnd.apple.mpegurl"

/* Path parameter 0 must be "<uuid>.m3u8": *id gets the UUID (pool string); otherwise sends the
 * 404 naming `what` and returns non-zero. */
int tams_hls_path_id_or_404(struct tams_req *req, const char *what, const char **id);
/* A store error as a response: NOTFOUND names the resource. */
void tams_hls_send_store_error(struct tams_req *req, int rc, const char *what, const char *id);

/* A flow as the playlists need it. Release with tams_hls_flow_release (also after a failed
 * load). */
struct tams_hls_flow {
    json_object *doc; /* the stored document */
    bool read_only;
    int64_t segments_updated_us; /* Unix microseconds; -1 when never */
};
/* 0, or the store's error (NOTFOUND for an unknown flow). */
int tams_hls_flow_load(struct tams_store *st, const char *id, struct tams_hls_flow *f);
void tams_hls_flow_release(struct tams_hls_flow *f);
/* A string member of the document, or NULL. */
const char *tams_hls_flow_str(const struct tams_hls_flow *f, const char *key);
/* The flow's segment_duration, else its first segment's duration, else 2 s; in ns, > 0. */
int64_t tams_hls_nominal_ns(struct tams_store *st, const char *id, const struct tams_hls_flow *f);

#endif
