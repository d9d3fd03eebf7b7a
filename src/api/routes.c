/* SPDX-License-Identifier: Apache-2.0 */
/* routes.c - the declarative route table: path, methods, handler, gate flags.
 * GET routes answer HEAD too; a path's other methods get 405 with Allow. */
#include "core/common.h"
#include "core/buf.h"
#include "api/app.h"
#include "api/handlers.h"

#define JSON_BODY (TAMS_ROUTE_JSON_BODY | TAMS_ROUTE_BODY_REQUIRED)
#define ROOT_ONLY TAMS_ROUTE_ROOT_ONLY
#define ONLY_70 TAMS_ROUTE_ONLY_70
#define ONLY_82 TAMS_ROUTE_ONLY_82

#define R(m, path, fn, fl)                                                                         \
    {                                                                                              \
        .methods = (m), .pattern = (path), .handler = (fn), .flags = (fl)                          \
    }
#define PROP(path, name)                                                                           \
    R(TAMS_GET, path, name##_get, 0), R(TAMS_PUT, path, name##_put, JSON_BODY),                    \
        R(TAMS_DELETE, path, name##_delete, 0)

static const struct tams_route routes[] = {
    R(TAMS_GET, "/", root_get, 0),
    R(TAMS_GET, "/service", service_get, 0),
    R(TAMS_POST, "/service", service_post, JSON_BODY),
    R(TAMS_GET, "/service/storage-backends", storage_backends_get, 0),
    /* TAMS 8.2 Profiles (docs/tams-8.2-changes.md 4): immutable, so no PUT or DELETE. */
    R(TAMS_GET, "/service/profiles", profiles_list, ONLY_82),
    R(TAMS_GET, "/service/profiles/{profileId}", profile_get, ONLY_82),
    R(TAMS_POST, "/service/profiles/{profileId}", profile_post, JSON_BODY | ONLY_82),
    R(TAMS_GET, "/service/webhooks", webhooks_get, 0),
    R(TAMS_POST, "/service/webhooks", webhooks_post, JSON_BODY),
    R(TAMS_GET, "/service/webhooks/{webhookId}", webhook_get, ONLY_82),
    R(TAMS_PUT, "/service/webhooks/{webhookId}", webhook_put, JSON_BODY | ONLY_82),
    R(TAMS_DELETE, "/service/webhooks/{webhookId}", webhook_delete, ONLY_82),
    /* Extensions (ROOT_ONLY) are served at the root only, never under /tams/vX.Y. */
    R(TAMS_GET, "/health", health_get, TAMS_ROUTE_NO_LOG | TAMS_ROUTE_OPEN | ROOT_ONLY),
    R(TAMS_GET, "/ready", ready_get, TAMS_ROUTE_NO_LOG | TAMS_ROUTE_OPEN | ROOT_ONLY),
    R(TAMS_GET, "/metrics", metrics_get, TAMS_ROUTE_NO_LOG | TAMS_ROUTE_METRICS | ROOT_ONLY),
    /* The built-in object store authorises by URL signature, not by credential. Its URLs are
     * made from the base URL of the request that handed them out, prefix included, so it is
     * served under every prefix. */
    R(TAMS_GET, "/_objects/{key*}", local_object_get, TAMS_ROUTE_OPEN),
    {.methods = TAMS_PUT,
     .pattern = "/_objects/{key*}",
     .handler = local_object_put,
     .flags = TAMS_ROUTE_RAW_BODY | TAMS_ROUTE_OPEN,
     .sink = &tams_local_put_sink},

    R(TAMS_GET, "/sources", sources_list, 0),
    R(TAMS_GET, "/sources/{sourceId}", source_get, 0),
    R(TAMS_GET, "/sources/{sourceId}/tags", source_tags_get, 0),
    PROP("/sources/{sourceId}/tags/{name}", source_tag),
    PROP("/sources/{sourceId}/label", source_label),
    PROP("/sources/{sourceId}/description", source_description),

    R(TAMS_GET, "/flows", flows_list, 0),
    R(TAMS_GET, "/flows/{flowId}", flow_get, 0),
    R(TAMS_PUT, "/flows/{flowId}", flow_put, JSON_BODY),
    R(TAMS_DELETE, "/flows/{flowId}", flow_delete, 0),
    R(TAMS_GET, "/flows/{flowId}/tags", flow_tags_get, 0),
    PROP("/flows/{flowId}/tags/{name}", flow_tag),
    PROP("/flows/{flowId}/label", flow_label),
    PROP("/flows/{flowId}/description", flow_description),
    R(TAMS_GET, "/flows/{flowId}/read_only", flow_read_only_get, 0),
    R(TAMS_PUT, "/flows/{flowId}/read_only", flow_read_only_put, JSON_BODY),
    PROP("/flows/{flowId}/flow_collection", flow_flow_collection),
    PROP("/flows/{flowId}/max_bit_rate", flow_max_bit_rate),
    PROP("/flows/{flowId}/avg_bit_rate", flow_avg_bit_rate),
    R(TAMS_GET, "/flows/{flowId}/segments", segments_list, 0),
    R(TAMS_POST, "/flows/{flowId}/segments", segments_post, JSON_BODY),
    R(TAMS_DELETE, "/flows/{flowId}/segments", segments_delete, 0),
    R(TAMS_POST, "/flows/{flowId}/storage", flow_storage_post, TAMS_ROUTE_JSON_BODY),
    R(TAMS_GET, "/objects/{objectId*}", object_get, 0),
    /* An object id with a '/' comes percent-encoded here (the GET above takes it raw). */
    R(TAMS_POST, "/objects/{objectId}/instances", object_instances_post, JSON_BODY | ONLY_82),
    R(TAMS_DELETE, "/objects/{objectId}/instances", object_instances_delete, ONLY_82),
    R(TAMS_GET, "/flow-delete-requests", delete_requests_list, 0),
    R(TAMS_GET, "/flow-delete-requests/{requestId}", delete_request_get, 0),

    /* An extension outside the TAMS paths (docs/analytics.md); read scope like other GETs. */
    R(TAMS_GET, "/analytics", analytics_get, ROOT_ONLY),
    R(TAMS_GET, "/analytics/flows/{flowId}", analytics_flow_get, ROOT_ONLY),
    R(TAMS_GET, "/analytics/flows/{flowId}/gaps", analytics_flow_gaps_get, ROOT_ONLY),
    R(TAMS_GET, "/analytics/sources/{sourceId}", analytics_source_get, ROOT_ONLY),
    R(TAMS_GET, "/analytics/storage", analytics_storage_get, ROOT_ONLY),
    R(TAMS_GET, "/analytics/ingest", analytics_ingest_get, ROOT_ONLY),

    /* HLS playlists (docs/hls.md): "{id}.m3u8", the suffix checked by the handler. */
    {.methods = TAMS_GET,
     .pattern = "/hls/flows/{flowId}",
     .handler = hls_flow_get,
     .flags = ROOT_ONLY,
     .name = "/hls/flows/{flowId}.m3u8"},
    {.methods = TAMS_GET,
     .pattern = "/hls/sources/{sourceId}",
     .handler = hls_source_get,
     .flags = ROOT_ONLY,
     .name = "/hls/sources/{sourceId}.m3u8"},

    /* An extension outside the TAMS paths (docs/soft-delete.md); admin scope, checked by the
     * handlers whatever the method. */
    R(TAMS_GET, "/trash", trash_list, ROOT_ONLY),
    R(TAMS_GET, "/trash/{trashId}", trash_get, ROOT_ONLY),
    R(TAMS_DELETE, "/trash/{trashId}", trash_delete, ROOT_ONLY),
    R(TAMS_POST, "/trash/{trashId}/restore", trash_restore, ROOT_ONLY),

    /* The web interface (docs/ui.md): public files; the pages send credentials to the API. */
    R(TAMS_GET, "/ui", ui_redirect, TAMS_ROUTE_OPEN | ROOT_ONLY),
    R(TAMS_GET, "/ui/", ui_get, TAMS_ROUTE_OPEN | ROOT_ONLY),
    R(TAMS_GET, "/ui/{path*}", ui_get, TAMS_ROUTE_OPEN | ROOT_ONLY),
};

/* Each version is a view of the one array (the metrics are named from it): a route marked
 * ONLY_82 is new in 8.x, one marked ONLY_70 left with 7.0. Routes in both run the same handler,
 * which branches on req->api where the versions differ. */
const struct tams_route_table tams_api_routes_70 = {routes, TAMS_ARRAY_SIZE(routes),
                                                    TAMS_ROUTE_ONLY_82};
const struct tams_route_table tams_api_routes_82 = {routes, TAMS_ARRAY_SIZE(routes),
                                                    TAMS_ROUTE_ONLY_70};

const struct tams_api_version tams_api_versions[] = {
    {"7.0", &tams_api_routes_70, TAMS_API_70},
    {"8.2", &tams_api_routes_82, TAMS_API_82},
};
const size_t tams_api_nversions = TAMS_ARRAY_SIZE(tams_api_versions);

int tams_api_root_routes(const char *version, const struct tams_route_table **out,
                         struct tams_buf *why)
{
    for (size_t i = 0; i < tams_api_nversions; i++) {
        if (strcmp(tams_api_versions[i].version, version) != 0)
            continue;
        *out = tams_api_versions[i].routes;
        return 0;
    }
    tams_buf_addf(why, "root_api_version = %s: unknown TAMS version (known: 7.0, 8.2)", version);
    return TAMS_ERR_BADREQUEST;
}
