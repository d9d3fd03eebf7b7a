/* SPDX-License-Identifier: Apache-2.0 */
/* respond.h - how handlers answer: exactly one of the send functions per request, or a
 * parse-or-respond helper that sends the 400 itself. */
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
/* The body the handler wrote into req->out itself (one buffer, no copy), with its type; a body
 * past the response cap becomes a 500 error. */
void tams_send_out(struct tams_req *req, int status, const char *content_type);
/* Plain text (metrics). */
void tams_send_text(struct tams_req *req, int status, const char *content_type, const char *text,
                    size_t n);

/* Parse-or-respond helpers for query parameters: on bad input they send the 400 themselves
 * and return non-zero. A parameter given twice is a 400 for these single-valued parameters.
 * When absent, *out is left as the caller initialised it and 0 is returned. */
int tams_req_query_bool_or_400(struct tams_req *req, const char *name, bool *out);
int tams_req_query_int_or_400(struct tams_req *req, const char *name, int64_t min, int64_t max,
                              int64_t *out);
int tams_req_query_str_or_400(struct tams_req *req, const char *name, const char **out);

#endif
