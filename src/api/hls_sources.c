/* SPDX-License-Identifier: Apache-2.0 */
/* hls_sources.c - GET /hls/sources/{sourceId}.m3u8: a multivariant playlist with one variant
 * per video flow of the source and its audio flows as renditions (docs/hls.md). A multi-essence
 * flow of the source leads to the flows of its flow_collection. */
#include "core/common.h"
#include "core/percent.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/hls.h"
#include "api/params.h"
#include "http/respond.h"
#include "tams/hls.h"

#define MAX_FLOWS 64
#define DEFAULT_VIDEO_BPS 5000000
#define DEFAULT_AUDIO_BPS 128000
#define FORMAT_VIDEO "urn:x-nmos:format:video"
#define FORMAT_AUDIO "urn:x-nmos:format:audio"
#define FORMAT_MULTI "urn:x-nmos:format:multi"

static struct tams_store *store_of(struct tams_req *req)
{
    return ((struct tams_app *)req->app)->store;
}

struct found {
    char *id;
    json_object *doc;
    bool video;
};

struct gather {
    struct tams_req *req;
    struct found flows[MAX_FLOWS];
    size_t n;
    char *multi[MAX_FLOWS]; /* multi-essence flows whose collections are still to follow */
    size_t nmulti;
};

static bool seen(const struct gather *g, const char *id)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->flows[i].id, id) == 0)
            return true;
    return false;
}

/* Keep a video or audio flow; remember a multi-essence one. */
static void consider(struct gather *g, const char *id, const char *text)
{
    json_object *doc, *fmt;
    const char *format;
    if (seen(g, id) || g->n == MAX_FLOWS)
        return;
    doc = json_tokener_parse(text);
    format =
        doc && json_object_object_get_ex(doc, "format", &fmt) ? json_object_get_string(fmt) : "";
    if (strcmp(format, FORMAT_VIDEO) == 0 || strcmp(format, FORMAT_AUDIO) == 0) {
        g->flows[g->n].id = tams_pool_strdup(&g->req->pool, id);
        g->flows[g->n].doc = doc;
        g->flows[g->n].video = strcmp(format, FORMAT_VIDEO) == 0;
        g->n++;
        return;
    }
    if (strcmp(format, FORMAT_MULTI) == 0 && g->nmulti < MAX_FLOWS) {
        json_object *coll;
        if (json_object_object_get_ex(doc, "flow_collection", &coll) &&
            json_object_is_type(coll, json_type_array))
            for (size_t i = 0; i < json_object_array_length(coll) && g->nmulti < MAX_FLOWS; i++) {
                json_object *member = json_object_array_get_idx(coll, i), *mid;
                if (json_object_object_get_ex(member, "id", &mid) &&
                    json_object_is_type(mid, json_type_string))
                    g->multi[g->nmulti++] =
                        tams_pool_strdup(&g->req->pool, json_object_get_string(mid));
            }
    }
    json_object_put(doc);
}

static int list_row(void *ctx, const struct tams_flow_rec *rec)
{
    consider(ctx, rec->id, rec->doc);
    return 0;
}

static int source_row(void *ctx, const struct tams_source_rec *rec)
{
    (void)ctx;
    (void)rec;
    return 0;
}

static int member_row(void *ctx, const struct tams_flow_rec *rec)
{
    consider(ctx, rec->id, rec->doc);
    return 0;
}

static int64_t member_int(json_object *doc, const char *key)
{
    json_object *v;
    if (doc && json_object_object_get_ex(doc, key, &v) && json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return 0;
}

static const char *member_str(json_object *doc, const char *key)
{
    json_object *v;
    if (doc && json_object_object_get_ex(doc, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* max_bit_rate, else avg_bit_rate (both in 1000 bit/s), else the default. */
static int64_t bandwidth(json_object *doc, int64_t dflt)
{
    int64_t k = member_int(doc, "max_bit_rate");
    if (k <= 0)
        k = member_int(doc, "avg_bit_rate");
    return k > 0 && k < INT64_MAX / 1000 ? k * 1000 : dflt;
}

static void codecs_of(json_object *doc, char out[TAMS_HLS_CODECS_MAX])
{
    json_object *ess = NULL;
    if (doc)
        json_object_object_get_ex(doc, "essence_parameters", &ess);
    tams_hls_codec_string(member_str(doc, "codec"), ess, out);
}

/* "../flows/<id>.m3u8" with the request's timerange and access_token carried along, so a
 * player that was given the multivariant URL needs nothing else. */
static char *flow_uri(struct tams_req *req, const char *id)
{
    struct tams_buf b = TAMS_BUF_INIT(4096);
    const char *tr = tams_req_query_get(req, "timerange");
    const char *tok = tams_req_query_get(req, "access_token");
    char sep = '?';
    char *s;
    tams_buf_addf(&b, "../flows/%s.m3u8", id);
    if (tr) {
        tams_buf_addf(&b, "%ctimerange=", sep);
        tams_percent_encode(&b, tr, strlen(tr), NULL, 0);
        sep = '&';
    }
    if (tok) {
        tams_buf_addf(&b, "%caccess_token=", sep);
        tams_percent_encode(&b, tok, strlen(tok), NULL, 0);
    }
    s = tams_pool_strdup(&req->pool, b.data);
    tams_buf_release(&b);
    return s;
}

void hls_source_get(struct tams_req *req)
{
    static const char *const known[] = {"timerange", NULL};
    struct tams_store *st = store_of(req);
    struct gather g = {.req = req};
    struct tams_hls_variant v[MAX_FLOWS];
    struct tams_hls_rendition r[MAX_FLOWS];
    struct tams_timerange tr;
    struct tams_buf next = TAMS_BUF_INIT(1024), after = TAMS_BUF_INIT(1024);
    char audio_codecs[TAMS_HLS_CODECS_MAX] = "";
    int64_t audio_bps = 0;
    size_t nv = 0, nr = 0;
    bool has_tr = false;
    const char *id;
    int rc;

    if (tams_hls_path_id_or_404(req, "source", &id) || tams_query_known_or_400(req, known, false) ||
        tams_query_timerange_or_400(req, "timerange", &tr, &has_tr))
        goto out;
    if ((rc = tams_store_source_get(st, id, source_row, NULL))) {
        tams_hls_send_store_error(req, rc, "source", id);
        goto out;
    }
    for (;;) {
        struct tams_flow_filter f = {.source_id = id, .frame_width = -1, .frame_height = -1};
        struct tams_page page = {
            .after = after.len ? after.data : NULL, .limit = MAX_FLOWS, .next_key = &next};
        tams_buf_reset(&next);
        if ((rc = tams_store_flow_list(st, &f, &page, list_row, &g))) {
            tams_hls_send_store_error(req, rc, "source", id);
            goto out;
        }
        if (!next.len || g.n == MAX_FLOWS)
            break;
        tams_buf_reset(&after);
        tams_buf_add(&after, next.data, next.len);
    }
    /* One level of collections: a multi flow's video and audio members (unknown ones skipped). */
    for (size_t i = 0, nm = g.nmulti; i < nm; i++) {
        rc = tams_store_flow_get(st, g.multi[i], member_row, &g);
        if (rc && rc != TAMS_ERR_NOTFOUND) {
            tams_hls_send_store_error(req, rc, "flow", g.multi[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < g.n; i++) {
        json_object *doc = g.flows[i].doc;
        const char *label = member_str(doc, "label");
        if (g.flows[i].video)
            continue;
        r[nr] = (struct tams_hls_rendition){.uri = flow_uri(req, g.flows[i].id),
                                            .group = "audio",
                                            .name = label ? label : g.flows[i].id,
                                            .is_default = nr == 0};
        if (!nr)
            codecs_of(doc, audio_codecs);
        if (bandwidth(doc, DEFAULT_AUDIO_BPS) > audio_bps)
            audio_bps = bandwidth(doc, DEFAULT_AUDIO_BPS);
        nr++;
    }
    for (size_t i = 0; i < g.n; i++) {
        json_object *doc = g.flows[i].doc, *ess = NULL, *fr;
        char vc[TAMS_HLS_CODECS_MAX];
        int64_t avg = member_int(doc, "avg_bit_rate");
        if (!g.flows[i].video)
            continue;
        json_object_object_get_ex(doc, "essence_parameters", &ess);
        codecs_of(doc, vc);
        v[nv] = (struct tams_hls_variant){
            .uri = flow_uri(req, g.flows[i].id),
            .bandwidth = bandwidth(doc, DEFAULT_VIDEO_BPS) + audio_bps,
            .avg_bandwidth = avg > 0 ? avg * 1000 + audio_bps : 0,
            .width = member_int(ess, "frame_width"),
            .height = member_int(ess, "frame_height"),
            .audio_group = nr ? "audio" : NULL,
        };
        if (ess && json_object_object_get_ex(ess, "frame_rate", &fr)) {
            v[nv].fr_num = member_int(fr, "numerator");
            v[nv].fr_den = json_object_object_get_ex(fr, "denominator", NULL)
                               ? member_int(fr, "denominator")
                               : 1;
        }
        if (*vc && *audio_codecs)
            v[nv].codecs = tams_pool_printf(&req->pool, "%s,%s", vc, audio_codecs);
        else
            v[nv].codecs = tams_pool_strdup(&req->pool, *vc ? vc : audio_codecs);
        nv++;
    }
    if (!nv && nr) {
        /* Audio only: each audio flow is a variant of its own. */
        for (size_t i = 0; i < nr; i++)
            v[nv++] = (struct tams_hls_variant){
                .uri = r[i].uri, .bandwidth = audio_bps, .codecs = audio_codecs};
        nr = 0;
    }
    if (!nv) {
        tams_send_error(req, TAMS_ERR_NOTFOUND,
                        "source '%s' has no video or audio flow to play (nor a multi-essence flow "
                        "collecting one)",
                        id);
        goto out;
    }
    if (tams_hls_multivariant(&req->out, r, nr, v, nv)) {
        tams_buf_reset(&req->out);
        tams_send_error(req, TAMS_ERR_INTERNAL, "the playlist is larger than the server allows");
        goto out;
    }
    tams_res_header(req, "Cache-Control", "no-cache");
    tams_send_out(req, 200, TAMS_HLS_CONTENT_TYPE);
out:
    for (size_t i = 0; i < g.n; i++)
        json_object_put(g.flows[i].doc);
    tams_buf_release(&next);
    tams_buf_release(&after);
}
