/* SPDX-License-Identifier: Apache-2.0 */
/* ui.c - the web interface's files at /ui/ (docs/ui.md), from the table built into the binary.
 *
 * The files are public (the interface asks for credentials itself and sends them to the API in
 * the Authorization header), so the routes are open. Every answer carries a strict
 * Content-Security-Policy (made at start, ui.h): scripts, styles and API calls from this origin
 * only, segments from this origin, the S3 backends' or the player's blob: URLs, nothing
 * inline, no framing. */
#include "core/common.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/ui.h"
#include "api/ui_assets.h"
#include "http/respond.h"

/* An app made without main.c's wiring has no policy built: allow nothing rather than keep a
 * second copy of the policy's text. */
static const char default_csp[] = "default-src 'none'";

char *tams_ui_csp_new(struct tams_media_backend *const *backends, size_t n)
{
    struct tams_buf origins = TAMS_BUF_INIT(8192), csp = TAMS_BUF_INIT(16384);
    char *out;

    for (size_t i = 0; i < n; i++)
        if (backends[i]->ops->origins)
            backends[i]->ops->origins(backends[i], &origins);
    /* connect-src and media-src: the built-in object store serves segments from this origin,
     * S3 backends from theirs; blob: is what Media Source Extensions (hls.js) play from. */
    tams_buf_addf(&csp,
                  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "connect-src 'self'%s; media-src 'self' blob:%s; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'none'",
                  origins.len ? origins.data : "", origins.len ? origins.data : "");
    out = tams_strdup(csp.data);
    tams_buf_release(&origins);
    tams_buf_release(&csp);
    return out;
}

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < TAMS_ARRAY_SIZE(types); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static const struct tams_ui_asset *find(const char *path)
{
    for (size_t i = 0; i < tams_ui_nassets; i++)
        if (strcmp(tams_ui_assets[i].path, path) == 0)
            return &tams_ui_assets[i];
    return NULL;
}

/* Does an If-None-Match list name etag (or "*")? Weak validators compare equal too. */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = inm; p && *p;) {
        p += strspn(p, " ,\t");
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p == '*' || (strncmp(p, etag, n) == 0 && (p[n] == '\0' || strchr(" ,\t", p[n]))))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

void ui_get(struct tams_req *req)
{
    const char *path = req->params[0] ? req->params[0] : "index.html";
    const struct tams_ui_asset *a = find(path);
    const char *inm = tams_req_header(req, "If-None-Match");
    const char *csp = ((struct tams_app *)req->app)->ui_csp;

    tams_res_header(req, "X-Content-Type-Options", "nosniff");
    tams_res_header(req, "Content-Security-Policy", csp ? csp : default_csp);
    tams_res_header(req, "Referrer-Policy", "no-referrer");
    if (!a) {
        tams_send_error(req, TAMS_ERR_NOTFOUND, "no file %s in the web interface", path);
        return;
    }
    /* The names carry no hash, so every use revalidates; the ETag makes that a 304. */
    tams_res_header(req, "Cache-Control", "no-cache");
    tams_res_header(req, "ETag", a->etag);
    if (inm && etag_matches(inm, a->etag)) {
        tams_send_empty(req, 304);
        return;
    }
    tams_send_text(req, 200, type_of(path), (const char *)a->data, a->len);
}

void ui_redirect(struct tams_req *req)
{
    tams_res_header(req, "Location", "/ui/");
    tams_send_empty(req, 301);
}
