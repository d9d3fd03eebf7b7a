/* SPDX-License-Identifier: Apache-2.0 */
/* handlers.h - every handler of the route table, grouped by resource file. */
#ifndef TAMS_API_HANDLERS_H
#define TAMS_API_HANDLERS_H

#include "http/request.h"
#include "http/route.h"

/* service.c */
void root_get(struct tams_req *req);
void service_get(struct tams_req *req);
void service_post(struct tams_req *req);
void storage_backends_get(struct tams_req *req);
void health_get(struct tams_req *req);
void ready_get(struct tams_req *req);
void metrics_get(struct tams_req *req);

/* webhooks.c */
void webhooks_post(struct tams_req *req);
/* May the caller see and change a webhook of this owner? */
bool tams_webhook_may_touch(const struct tams_req *req, const char *owner);
/* Answers with the webhook `id` as 8.2 shows it (webhook-get.json), with this status. */
void tams_webhook_answer(struct tams_req *req, const char *id, int status);
/* webhooks_id.c: the listing in both versions, and 8.2's /service/webhooks/{webhookId} */
void webhooks_get(struct tams_req *req);
void webhook_get(struct tams_req *req);
void webhook_put(struct tams_req *req);
void webhook_delete(struct tams_req *req);

/* objects_http.c: the built-in object store's endpoints */
void local_object_get(struct tams_req *req);
void local_object_put(struct tams_req *req);
extern const struct tams_body_sink tams_local_put_sink;

/* segments.c, storage.c, objects.c */
void segments_list(struct tams_req *req);
void segments_post(struct tams_req *req);
void flow_storage_post(struct tams_req *req);
void object_get(struct tams_req *req);
void object_instances_post(struct tams_req *req);
void object_instances_delete(struct tams_req *req);

/* analytics.c: extension routes outside the TAMS paths (docs/analytics.md) */
void analytics_get(struct tams_req *req);
void analytics_flow_get(struct tams_req *req);
void analytics_flow_gaps_get(struct tams_req *req);
void analytics_source_get(struct tams_req *req);
void analytics_storage_get(struct tams_req *req);
void analytics_ingest_get(struct tams_req *req);

/* ui.c: the web interface's files (docs/ui.md) */
void ui_get(struct tams_req *req);
void ui_redirect(struct tams_req *req);

/* hls.c, hls_sources.c: HLS playlists outside the TAMS paths (docs/hls.md) */
void hls_flow_get(struct tams_req *req);
void hls_source_get(struct tams_req *req);

/* deletion.c */
void flow_delete(struct tams_req *req);
void segments_delete(struct tams_req *req);
void delete_requests_list(struct tams_req *req);
void delete_request_get(struct tams_req *req);
/* trash.c: the soft-delete bin (docs/soft-delete.md), admin only */
void trash_list(struct tams_req *req);
void trash_get(struct tams_req *req);
void trash_restore(struct tams_req *req);
void trash_delete(struct tams_req *req);

/* sources.c */
void sources_list(struct tams_req *req);
void source_get(struct tams_req *req);
void source_tags_get(struct tams_req *req);
void source_tag_get(struct tams_req *req);
void source_tag_put(struct tams_req *req);
void source_tag_delete(struct tams_req *req);
void source_label_get(struct tams_req *req);
void source_label_put(struct tams_req *req);
void source_label_delete(struct tams_req *req);
void source_description_get(struct tams_req *req);
void source_description_put(struct tams_req *req);
void source_description_delete(struct tams_req *req);

/* flows.c */
void flows_list(struct tams_req *req);
void profiles_list(struct tams_req *req);
void profile_get(struct tams_req *req);
void profile_post(struct tams_req *req);
void flow_get(struct tams_req *req);
void flow_put(struct tams_req *req);
void flow_tags_get(struct tams_req *req);
void flow_tag_get(struct tams_req *req);
void flow_tag_put(struct tams_req *req);
void flow_tag_delete(struct tams_req *req);
#define TAMS__FLOW_PROP(name)                                                                      \
    void flow_##name##_get(struct tams_req *req);                                                  \
    void flow_##name##_put(struct tams_req *req);                                                  \
    void flow_##name##_delete(struct tams_req *req);
TAMS__FLOW_PROP(label)
TAMS__FLOW_PROP(description)
TAMS__FLOW_PROP(flow_collection)
TAMS__FLOW_PROP(max_bit_rate)
TAMS__FLOW_PROP(avg_bit_rate)
#undef TAMS__FLOW_PROP
void flow_read_only_get(struct tams_req *req);
void flow_read_only_put(struct tams_req *req);

#endif
