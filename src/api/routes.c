/* SPDX-License-Identifier: Apache-2.0 */
/* routes.c - the declarative route table: path, methods, handler, gate flags. */
#include "core/common.h"
#include "api/app.h"
#include "api/handlers.h"

#define JSON_BODY (TAMS_ROUTE_JSON_BODY | TAMS_ROUTE_BODY_REQUIRED)

static const struct tams_route routes[] = {
    {TAMS_GET, "/", root_get, 0, NULL},
    {TAMS_GET, "/service", service_get, 0, NULL},
    {TAMS_POST, "/service", service_post, JSON_BODY, NULL},
    {TAMS_GET, "/service/storage-backends", storage_backends_get, 0, NULL},
    {TAMS_GET, "/health", health_get, TAMS_ROUTE_NO_LOG, NULL},
    {TAMS_GET, "/metrics", metrics_get, TAMS_ROUTE_NO_LOG, NULL},
};

const struct tams_route_table tams_api_routes = {routes, TAMS_ARRAY_SIZE(routes)};
