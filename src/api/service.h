/* SPDX-License-Identifier: Apache-2.0 */
/* service.h - the service document and its cache. */
#ifndef TAMS_API_SERVICE_H
#define TAMS_API_SERVICE_H

#include "api/app.h"

/* Re-read name and description from the store (defaults from the configuration) and render
 * the GET /service body into app->service_json. */
int tams_service_refresh(struct tams_app *app, struct tams_buf *why);

#endif
