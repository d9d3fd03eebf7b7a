/* SPDX-License-Identifier: Apache-2.0 */
/* server_int.h - internals shared between server.c and request.c; not for handlers. */
#ifndef TAMS_HTTP_SERVER_INT_H
#define TAMS_HTTP_SERVER_INT_H

#include "http/request.h"

const char *tams__http_header(const struct tams_req *req, const char *name);
const char *tams__http_base_url(struct tams_req *req);

#endif
