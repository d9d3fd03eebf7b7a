/* SPDX-License-Identifier: Apache-2.0 */
/* respond.c - filling the response of a request. */
#include "core/common.h"
#include "core/clock.h"
#include "core/diskfull.h"
#include "core/json.h"
#include "http/respond.h"

#include <errno.h>

void tams_res_header(struct tams_req *req, const char *name, const char *value)
{
    if (req->nheaders == req->_capheaders) {
        size_t cap = req->_capheaders ? req->_capheaders * 2 : 8;
        struct tams_header *h = tams_pool_alloc(&req->pool, cap * sizeof(*h));
        if (req->nheaders)
            memcpy(h, req->headers, req->nheaders * sizeof(*h));
        req->headers = h;
        req->_capheaders = cap;
    }
    req->headers[req->nheaders].name = tams_pool_strdup(&req->pool, name);
    req->headers[req->nheaders].value = tams_pool_strdup(&req->pool, value);
    req->nheaders++;
}

static struct tams_json writer_slot(struct tams_req *req)
{
    struct tams_json j;
    tams_json_init(&j, &req->out);
    return j;
}

struct tams_json *tams_res_json(struct tams_req *req)
{
    struct tams_json *j = tams_pool_alloc(&req->pool, sizeof(*j));
    *j = writer_slot(req);
    tams_buf_reset(&req->out);
    return j;
}

static void finish(struct tams_req *req, int status)
{
    tams_assert(!req->responded);
    req->status = status;
    req->responded = true;
}

void tams_send_json_body(struct tams_req *req, int status)
{
    if (!tams_buf_ok(&req->out)) {
        tams_buf_reset(&req->out);
        req->responded = false;
        tams_send_error(req, TAMS_ERR_INTERNAL, "the response is larger than the server allows");
        return;
    }
    tams_res_header(req, "Content-Type", "application/json");
    finish(req, status);
}

void tams_send_json_text(struct tams_req *req, int status, const char *text, size_t n)
{
    tams_buf_reset(&req->out);
    tams_buf_add(&req->out, text, n);
    tams_send_json_body(req, status);
}

void tams_send_empty(struct tams_req *req, int status)
{
    tams_buf_reset(&req->out);
    finish(req, status);
}

void tams_send_out(struct tams_req *req, int status, const char *content_type)
{
    if (!tams_buf_ok(&req->out)) {
        tams_buf_reset(&req->out);
        tams_send_error(req, TAMS_ERR_INTERNAL, "the response is larger than the server allows");
        return;
    }
    tams_res_header(req, "Content-Type", content_type);
    finish(req, status);
}

void tams_send_text(struct tams_req *req, int status, const char *content_type, const char *text,
                    size_t n)
{
    tams_buf_reset(&req->out);
    tams_buf_add(&req->out, text, n);
    tams_res_header(req, "Content-Type", content_type);
    finish(req, status);
}

void tams_send_error(struct tams_req *req, int err, const char *fmt, ...)
{
    struct tams_buf summary = TAMS_BUF_INIT(1024);
    struct tams_json j;
    char now[TAMS_RFC3339_MAX];

    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        tams_buf_vaddf(&summary, fmt, ap);
        va_end(ap);
    } else {
        tams_buf_addstr(&summary, tams_strerror(err));
    }
    tams_clock_now_rfc3339(now);
    tams_buf_reset(&req->out);
    tams_json_init(&j, &req->out);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "type", tams_err_type(err));
    tams_json_key(&j, "summary");
    tams_json_strn(&j, summary.data, summary.len);
    tams_json_kstr(&j, "time", now);
    tams_json_obj_close(&j);
    tams_buf_release(&summary);
    tams_res_header(req, "Content-Type", "application/json");
    if (tams_err_http_status(err) == 503)
        tams_res_header(req, "Retry-After", "1"); /* e.g. the database is away for now */
    if (err == TAMS_ERR_NOSPACE) {
        tams_res_header(req, "Retry-After", TAMS_DISKFULL_RETRY_AFTER);
        tams_diskfull_refused();
    }
    finish(req, tams_err_http_status(err));
}

void tams_send_file(struct tams_req *req, int status, const char *content_type, int fd,
                    uint64_t off, uint64_t len)
{
    tams_buf_reset(&req->out);
    req->_file_fd = fd;
    req->_file_off = off;
    req->_file_len = len;
    if (content_type)
        tams_res_header(req, "Content-Type", content_type);
    finish(req, status);
}

static int single_or_400(struct tams_req *req, const char *name, const char **out)
{
    size_t n = tams_req_query_count(req, name);
    *out = NULL;
    if (n == 0)
        return 0;
    if (n > 1) {
        tams_send_error(req, TAMS_ERR_BADQUERY, "query parameter '%s' is given more than once",
                        name);
        return -1;
    }
    *out = tams_req_query_get(req, name);
    return 0;
}

int tams_req_query_str_or_400(struct tams_req *req, const char *name, const char **out)
{
    const char *v;
    if (single_or_400(req, name, &v))
        return -1;
    if (v)
        *out = v;
    return 0;
}

int tams_req_query_bool_or_400(struct tams_req *req, const char *name, bool *out)
{
    const char *v;
    if (single_or_400(req, name, &v))
        return -1;
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0) {
        *out = false;
    } else {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter '%s' must be 'true' or 'false', not '%s'", name, v);
        return -1;
    }
    return 0;
}

int tams_req_query_int_or_400(struct tams_req *req, const char *name, int64_t min, int64_t max,
                              int64_t *out)
{
    const char *v;
    char *end;
    long long n;
    if (single_or_400(req, name, &v))
        return -1;
    if (!v)
        return 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno || v[0] == ' ' || v[0] == '+' || n < min || n > max) {
        tams_send_error(req, TAMS_ERR_BADQUERY,
                        "query parameter '%s' must be an integer from %" PRId64 " to %" PRId64
                        ", not '%s'",
                        name, min, max, v);
        return -1;
    }
    *out = n;
    return 0;
}
