/* SPDX-License-Identifier: Apache-2.0 */
/* respond.h - how handlers answer. Exactly one of the send functions per request. */
#ifndef TAMS_HTTP_RESPOND_H
#define TAMS_HTTP_RESPOND_H

#include "core/common.h"
#include "core/json.h"
#include "http/request.h"

/* Add a response header (copied into the request pool). */
void tams_res_header(struct tams_req *req, const char *name, const char *value);

/* Start a JSON body: returns a writer on req->out. Finish with tams_send_json_body(). */
struct tams_json *tams_res_json(struct tams_req *req);
void tams_send_json_body(struct tams_req *req, int status);
/* A body that is already JSON text. */
void tams_send_json_text(struct tams_req *req, int status, const char *text, size_t n);
/* No body (201/204 without content, etc.). */
void tams_send_empty(struct tams_req *req, int status);
/* An error: status and `type` from the error table, summary from fmt (or the table's
 * default summary when fmt is NULL). Body is {"type","summary","time"}. */
void tams_send_error(struct tams_req *req, int err, const char *fmt, ...) TAMS_PRINTF(3, 4);
/* len bytes of an open file from off; the request takes ownership of fd (closed when sent). */
void tams_send_file(struct tams_req *req, int status, const char *content_type, int fd,
                    uint64_t off, uint64_t len);
/* Plain text (metrics). */
void tams_send_text(struct tams_req *req, int status, const char *content_type, const char *text,
                    size_t n);

#endif
