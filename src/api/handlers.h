/* SPDX-License-Identifier: Apache-2.0 */
/* handlers.h - every handler of the route table, grouped by resource file. */
#ifndef TAMS_API_HANDLERS_H
#define TAMS_API_HANDLERS_H

#include "http/request.h"

/* service.c */
void root_get(struct tams_req *req);
void service_get(struct tams_req *req);
void service_post(struct tams_req *req);
void storage_backends_get(struct tams_req *req);
void health_get(struct tams_req *req);
void metrics_get(struct tams_req *req);

#endif
