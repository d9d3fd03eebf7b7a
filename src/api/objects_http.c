/* SPDX-License-Identifier: Apache-2.0 */
/* objects_http.c - the built-in object store's own endpoints, outside the TAMS API:
 * GET/HEAD/PUT /_objects/{key}, authorised by the signature in the URL. */
#include "core/common.h"
#include "core/clock.h"
#include "api/app.h"
#include "api/handlers.h"
#include "http/range.h"
#include "core/log.h"
#include "core/registry.h"
#include "http/respond.h"
#include "media/local.h"
#include "store/analytics.h"

#include <unistd.h>

static struct tams_app *app_of(struct tams_req *req)
{
    return req->app;
}

/* Every answer of the store: media bytes are the client's, not the API's, so a browser must not
 * sniff them into something else or run them as a page of the API's origin. */
static void safety_headers(struct tams_req *req)
{
    tams_res_header(req, "X-Content-Type-Options", "nosniff");
    tams_res_header(req, "Content-Security-Policy", "sandbox");
}

/* Sends the 403/404 itself when the URL is not authorised. */
static int authorize_or_4xx(struct tams_req *req, const char *method)
{
    struct tams_app *app = app_of(req);
    int rc =
        tams_local_authorize(app->local, method, req->params[0], tams_req_query_get(req, "expires"),
                             tams_req_query_get(req, "sig"), tams_clock_wall_us() / 1000000);
    if (rc == TAMS_ERR_NOTFOUND)
        tams_send_error(req, rc, "no object at this URL");
    else if (rc)
        tams_send_error(req, rc,
                        "the URL's signature is wrong or has expired; ask the TAMS API "
                        "for a new one");
    return rc;
}

void local_object_get(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    struct tams_buf ct = TAMS_BUF_INIT(256);
    uint64_t size, off = 0, len;
    int fd, rc;

    safety_headers(req);
    if (authorize_or_4xx(req, "GET"))
        return;
    rc = tams_local_open_object(app->local, req->params[0], &fd, &size, &ct);
    if (rc) {
        tams_send_error(req, rc, "the object has not been uploaded");
        goto out;
    }
    len = size;
    tams_res_header(req, "Accept-Ranges", "bytes");
    /* Media plays inline; a type a browser would render as a document is downloaded. */
    if (!tams_local_type_inline(ct.data))
        tams_res_header(req, "Content-Disposition", "attachment");
    switch (tams_range_parse(tams_req_header(req, "Range"), size, &off, &len)) {
    case TAMS_RANGE_NONE:
        tams_send_file(req, 200, ct.data, fd, 0, size);
        break;
    case TAMS_RANGE_OK: {
        char cr[80];
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1,
                 size);
        tams_res_header(req, "Content-Range", cr);
        tams_send_file(req, 206, ct.data, fd, off, len);
        break;
    }
    case TAMS_RANGE_UNSATISFIABLE: {
        char cr[40];
        close(fd);
        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
        tams_res_header(req, "Content-Range", cr);
        tams_send_error(req, TAMS_ERR_RANGE, "the range is outside the object's %" PRIu64 " bytes",
                        size);
        break;
    }
    }
out:
    tams_buf_release(&ct);
}

/* ---- PUT: streamed to a temporary file, committed when complete ---------------------------- */

/* Why an upload was not stored: already uploaded (409), storage full or failing (507). */
static void send_store_error(struct tams_req *req, int rc)
{
    if (rc == TAMS_ERR_CONFLICT)
        tams_send_error(req, rc,
                        "this object has already been uploaded and its bytes cannot change: an "
                        "upload URL is good for one upload; allocate a new object with POST "
                        "/flows/{id}/storage for other bytes");
    else if (rc == TAMS_ERR_NOSPACE)
        tams_send_error(req, rc,
                        "the object store cannot take the upload now (storage full or failing); "
                        "nothing was stored: try again later");
    else
        tams_send_error(req, rc, "cannot store the object");
}

struct upload_state {
    struct tams_local_upload *u;
    uint64_t seen;
};

static int put_open(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    struct upload_state *st;
    const char *cl = tams_req_header(req, "Content-Length");
    int rc;

    safety_headers(req);
    if (authorize_or_4xx(req, "PUT"))
        return -1;
    if (cl && strtoull(cl, NULL, 10) > app->cfg->max_object_bytes) {
        tams_send_error(req, TAMS_ERR_TOOBIG, "the object is larger than %zu bytes",
                        app->cfg->max_object_bytes);
        return -1;
    }
    st = tams_calloc(1, sizeof(*st));
    rc = tams_local_upload_begin(app->local, req->params[0], &st->u);
    if (rc) {
        tams_free(st);
        send_store_error(req, rc);
        return -1;
    }
    req->sink_state = st;
    return 0;
}

static int put_write(struct tams_req *req, const char *data, size_t n)
{
    struct tams_app *app = app_of(req);
    struct upload_state *st = req->sink_state;
    int rc;

    st->seen += n;
    if (st->seen > app->cfg->max_object_bytes) {
        tams_send_error(req, TAMS_ERR_TOOBIG, "the object is larger than %zu bytes",
                        app->cfg->max_object_bytes);
        return -1;
    }
    if ((rc = tams_local_upload_write(st->u, data, n))) {
        send_store_error(req, rc);
        return -1;
    }
    return 0;
}

static void put_abort(struct tams_req *req)
{
    struct upload_state *st = req->sink_state;
    if (!st)
        return;
    tams_local_upload_abort(st->u);
    tams_free(st);
    req->sink_state = NULL;
}

const struct tams_body_sink tams_local_put_sink = {put_open, put_write, put_abort};

void local_object_put(struct tams_req *req)
{
    struct tams_app *app = app_of(req);
    struct upload_state *st = req->sink_state;
    const char *ct = tams_req_header(req, "Content-Type");
    uint64_t size;
    int rc;

    if (!st) { /* open() refused and already answered; never reached */
        tams_send_error(req, TAMS_ERR_INTERNAL, NULL);
        return;
    }
    size = st->seen;
    rc = tams_local_upload_commit(st->u, ct);
    tams_free(st);
    req->sink_state = NULL;
    if (rc) {
        send_store_error(req, rc);
        return;
    }
    /* The object's size, for the analytics' stored bytes; the upload stands without it. */
    /* With verify_uploads, registration records the size of an object uploaded before it
     * (segments.c, check_uploads): only an object registered already is written here. */
    if (size <= INT64_MAX &&
        (rc = tams_store_object_set_size(app->store, app->local_store_id, req->params[0],
                                         (int64_t)size, app->cfg->verify_uploads)))
        tams_log_warn("object store: size of '%s' not recorded: %s", req->params[0],
                      tams_strerror(rc));
    tams_counter_add(app->uploaded_bytes, size);
    tams_send_empty(req, 200);
}
