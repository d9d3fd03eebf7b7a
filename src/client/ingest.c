/* SPDX-License-Identifier: Apache-2.0 */
/* ingest.c - "tams ingest FILE": a source, one flow per stream and a multi-essence flow over
 * them; the media cut into segments (seg.h), each uploaded through storage allocation and
 * registered with its timerange. IDs are derived from the file, so a second run finds what
 * the first registered and goes on from there. */
#include "core/common.h"
#include "core/config_values.h"
#include "client/api.h"
#include "client/cmd.h"
#include "client/cuts.h"
#include "client/ids.h"
#include "client/probe.h"
#include "client/livequeue.h"
#include "client/progress.h"
#include "client/seg.h"
#include "core/hex.h"
#include "core/percent.h"
#include "tams/timerange.h"

#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_TRACKS 16
#define ALLOC_BATCH 16 /* put_urls last an hour or so: 16 segments are written long before */

struct span {
    int64_t lo, hi;
};

struct track {
    int stream;
    char flow_id[TAMS_UUID_STRLEN];
    char source_id[TAMS_UUID_STRLEN];
    json_object *doc;
    struct span *have; /* segments already registered */
    size_t nhave;
    int64_t bytes, lo, hi; /* all its segments: their size and span, for avg_bit_rate */
    json_object *pool;     /* media objects allocated and not used yet: [pool_next..] */
    size_t pool_next;
};

/* Set by SIGINT/SIGTERM during a live ingest: stop reading, finish and register. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int interrupt_cb(void *arg)
{
    (void)arg;
    return stop_requested != 0;
}

struct ingest {
    struct tams_ctx *c;
    bool live;
    struct track t[MAX_TRACKS];
    size_t n;
    AVFormatContext *ic;
    struct tams_progress progress;
    int64_t uploaded, bytes, skipped;
    struct tams_livequeue *lq; /* live: the segments waiting for their upload */
};

/* SHA-256 of the whole file, in hex: the name the IDs are derived from. */
static int file_digest(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char buf[1 << 16], h[32];
    unsigned int hl = 0;
    size_t n;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(md, buf, n);
    int rc = ferror(f) ? -1 : 0;
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    fclose(f);
    tams_hex_encode(h, 32, out);
    return rc;
}

static void flow_path(struct tams_buf *b, const char *id, const char *suffix)
{
    tams_buf_reset(b);
    (void)tams_buf_addstr(b, "/flows/");
    tams_percent_encode(b, id, strlen(id), NULL, 0);
    (void)tams_buf_addstr(b, suffix);
}

static int collect_span(json_object *seg, void *arg)
{
    struct track *t = arg;
    const char *tr = tams_api_str(seg, "timerange");
    struct tams_timerange r;
    if (!tr || tams_timerange_parse(tr, strlen(tr), &r) || !tams_timerange_is_bounded(&r))
        return TAMS_EXIT_SERVER;
    t->have = tams_realloc(t->have, tams_st_mult(t->nhave + 1, sizeof(*t->have)));
    /* The parsed form is the closed set [lo, hi] of nanoseconds: as [lo, hi + 1). */
    t->have[t->nhave++] = (struct span){r.lo, r.hi + 1};
    return TAMS_EXIT_OK;
}

static bool registered(const struct track *t, int64_t lo, int64_t hi)
{
    for (size_t i = 0; i < t->nhave; i++)
        if (t->have[i].lo == lo && t->have[i].hi == hi)
            return true;
    return false;
}

/* Uploads one segment and registers it, unless the flow has it already. */
static int upload_piece(const struct tams_seg_piece *p, void *arg)
{
    struct ingest *in = arg;
    struct track *t = &in->t[p->track];
    struct tams_http *h = &in->c->http;
    struct tams_buf path = TAMS_BUF_INIT(4096);
    json_object *req = NULL, *alloc = NULL, *objs, *seg = NULL;
    struct tams_http_resp r;
    int rc = TAMS_EXIT_OK;
    tams_http_resp_init(&r);

    if (t->bytes == 0)
        t->lo = p->lo;
    t->bytes += (int64_t)p->size;
    t->hi = p->hi;
    if (registered(t, p->lo, p->hi)) {
        in->skipped++;
        goto out;
    }
    /* Objects are allocated ALLOC_BATCH at a time: one request serves that many segments. */
    if (!t->pool || t->pool_next >= json_object_array_length(t->pool)) {
        json_object_put(t->pool);
        t->pool = NULL;
        flow_path(&path, t->flow_id, "/storage");
        req = json_object_new_object();
        json_object_object_add(req, "limit", json_object_new_int(ALLOC_BATCH));
        if ((rc = tams_api_call(h, "POST", path.data, req, &alloc)))
            goto out;
        if (!json_object_object_get_ex(alloc, "media_objects", &objs) ||
            !json_object_is_type(objs, json_type_array) || json_object_array_length(objs) == 0) {
            fprintf(stderr, "tams: POST %s: no media objects in the answer\n", path.data);
            rc = TAMS_EXIT_SERVER;
            goto out;
        }
        t->pool = json_object_get(objs);
        t->pool_next = 0;
    }
    json_object *o = json_object_array_get_idx(t->pool, t->pool_next++), *put = NULL;
    if (!json_object_object_get_ex(o, "put_url", &put) || !tams_api_str(put, "url") ||
        !tams_api_str(o, "object_id")) {
        fprintf(stderr, "tams: a media object without a put_url from the server\n");
        rc = TAMS_EXIT_SERVER;
        goto out;
    }
    const char *ctype = tams_api_str(put, "content-type");
    if ((rc = tams_http_do(h, "PUT", tams_api_str(put, "url"), p->data, p->size,
                           ctype ? ctype : "application/octet-stream", &r))) {
        fprintf(stderr, "tams: upload: %s\n", r.error);
        goto out;
    }
    /* [lo, hi) is the closed set [lo, hi - 1], printed back as "[lo_hi)". */
    struct tams_timerange tr = {.lo = p->lo, .hi = p->hi - 1, .lo_incl = true, .hi_incl = false};
    char trs[TAMS_TIMERANGE_STRMAX];
    tams_timerange_format(&tr, trs);
    seg = json_object_new_object();
    json_object_object_add(seg, "object_id", json_object_new_string(tams_api_str(o, "object_id")));
    json_object_object_add(seg, "timerange", json_object_new_string(trs));
    if (p->key_frames > 0 && json_object_object_get_ex(t->doc, "format", &put) &&
        strcmp(json_object_get_string(put), TAMS_FORMAT_VIDEO) == 0)
        json_object_object_add(seg, "key_frame_count", json_object_new_int(p->key_frames));
    flow_path(&path, t->flow_id, "/segments");
    if ((rc = tams_api_call(h, "POST", path.data, seg, NULL)))
        goto out;
    in->uploaded++;
out:
    tams_progress_update(&in->progress, in->bytes, in->uploaded + in->skipped);
    json_object_put(req);
    json_object_put(alloc);
    json_object_put(seg);
    tams_http_resp_release(&r);
    tams_buf_release(&path);
    return rc;
}

/* Live: a server that is away or failing is waited for, with backoff (0.5 s doubling to 10 s),
 * for up to RETRY_FOR seconds per segment, on the queue's thread (livequeue.h): the input goes
 * on being read and cut meanwhile, up to --live-buffer bytes of segments. A refusal (4xx) is
 * not retried. tag: how far the input had been read when the segment was cut. */
#define RETRY_FOR 300
#define LIVE_BUFFER_DEFAULT (256u << 20)

static int upload_live(const struct tams_seg_piece *p, int64_t tag, void *arg)
{
    struct ingest *in = arg;
    int64_t waited_ms = 0, backoff_ms = 500;

    in->bytes = tag;
    for (;;) {
        int rc = upload_piece(p, arg);
        if ((rc != TAMS_EXIT_CONNECT && rc != TAMS_EXIT_SERVER) ||
            waited_ms >= (int64_t)RETRY_FOR * 1000)
            return rc;
        if (!in->c->quiet)
            fprintf(stderr, "tams: retrying in %.1f s\n", (double)backoff_ms / 1000);
        struct timespec nap = {.tv_sec = backoff_ms / 1000,
                               .tv_nsec = (backoff_ms % 1000) * 1000000};
        nanosleep(&nap, NULL);
        waited_ms += backoff_ms;
        backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
    }
}

static int on_piece(const struct tams_seg_piece *p, void *arg)
{
    struct ingest *in = arg;
    int64_t pos = in->ic->pb ? avio_tell(in->ic->pb) : 0;

    if (in->lq)
        return tams_livequeue_push(in->lq, p, pos);
    in->bytes = pos;
    return upload_piece(p, arg);
}

static int put_json(struct tams_ctx *c, const char *path, json_object *doc)
{
    return tams_api_call(&c->http, "PUT", path, doc, NULL);
}

/* avg_bit_rate as TAMS defines it: of the flow's segments (container included), in kbit/s. */
static int put_bit_rates(struct ingest *in)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    int rc = TAMS_EXIT_OK;
    for (size_t i = 0; i < in->n && rc == TAMS_EXIT_OK; i++) {
        struct track *t = &in->t[i];
        if (t->hi <= t->lo)
            continue;
        int64_t kbps = (int64_t)((double)t->bytes * 8 * 1e6 / (double)(t->hi - t->lo) + 0.5);
        json_object *v = json_object_new_int64(kbps > 0 ? kbps : 1);
        flow_path(&path, t->flow_id, "/avg_bit_rate");
        rc = put_json(in->c, path.data, v);
        json_object_put(v);
    }
    tams_buf_release(&path);
    return rc;
}

static const char *role_of(const struct track *t, size_t i, char *buf, size_t n)
{
    json_object *f;
    bool video = json_object_object_get_ex(t->doc, "format", &f) &&
                 strcmp(json_object_get_string(f), TAMS_FORMAT_VIDEO) == 0;
    snprintf(buf, n, "%s%zu", video ? "video" : "audio", i);
    return buf;
}

/* The flows and their sources: one source and flow per stream, the multi-essence flow on the
 * main source. PUT is idempotent, so a rerun makes them again harmlessly. */
static int make_flows(struct ingest *in, const char *source_id, const char *multi_id,
                      const char *label, const char *container)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    json_object *coll = json_object_new_array(), *multi = NULL, *lab = NULL;
    int rc = TAMS_EXIT_OK;
    for (size_t i = 0; i < in->n; i++) {
        struct track *t = &in->t[i];
        char role[32];
        json_object_object_add(t->doc, "id", json_object_new_string(t->flow_id));
        json_object_object_add(t->doc, "source_id", json_object_new_string(t->source_id));
        json_object_object_add(t->doc, "label", json_object_new_string(label));
        flow_path(&path, t->flow_id, "");
        if ((rc = tams_api_fit_flow(&in->c->http, t->doc)) ||
            (rc = put_json(in->c, path.data, t->doc)))
            goto out;
        json_object *item = json_object_new_object();
        json_object_object_add(item, "id", json_object_new_string(t->flow_id));
        json_object_object_add(item, "role",
                               json_object_new_string(role_of(t, i, role, sizeof(role))));
        json_object_array_add(coll, item);
    }
    multi = json_object_new_object();
    json_object_object_add(multi, "id", json_object_new_string(multi_id));
    json_object_object_add(multi, "source_id", json_object_new_string(source_id));
    json_object_object_add(multi, "format", json_object_new_string(TAMS_FORMAT_MULTI));
    json_object_object_add(multi, "container", json_object_new_string(container));
    json_object_object_add(multi, "label", json_object_new_string(label));
    json_object_object_add(multi, "flow_collection", json_object_get(coll));
    flow_path(&path, multi_id, "");
    if ((rc = put_json(in->c, path.data, multi)))
        goto out;
    /* Sources take their labels separately: they have no PUT of their own. */
    lab = json_object_new_string(label);
    for (size_t i = 0; i <= in->n && rc == TAMS_EXIT_OK; i++) {
        const char *sid = i < in->n ? in->t[i].source_id : source_id;
        tams_buf_reset(&path);
        (void)tams_buf_addstr(&path, "/sources/");
        tams_percent_encode(&path, sid, strlen(sid), NULL, 0);
        (void)tams_buf_addstr(&path, "/label");
        rc = put_json(in->c, path.data, lab);
    }
out:
    json_object_put(lab);
    json_object_put(coll);
    json_object_put(multi);
    tams_buf_release(&path);
    return rc;
}

static void print_result(struct ingest *in, const char *source_id, const char *multi_id,
                         const char *file)
{
    struct tams_ctx *c = in->c;
    if (c->json) {
        json_object *o = json_object_new_object(), *ids = json_object_new_array();
        json_object_object_add(o, "source_id", json_object_new_string(source_id));
        json_object_array_add(ids, json_object_new_string(multi_id));
        for (size_t i = 0; i < in->n; i++)
            json_object_array_add(ids, json_object_new_string(in->t[i].flow_id));
        json_object_object_add(o, "flow_ids", ids);
        json_object_object_add(o, "segments_registered", json_object_new_int64(in->uploaded));
        json_object_object_add(o, "segments_found", json_object_new_int64(in->skipped));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return;
    }
    printf("source %s\n", source_id);
    printf("flow   %s  multi\n", multi_id);
    for (size_t i = 0; i < in->n; i++)
        printf("flow   %s  %s\n", in->t[i].flow_id, tams_api_str(in->t[i].doc, "codec"));
    if (!c->quiet)
        fprintf(stderr,
                "tams: %s: %" PRId64 " segments registered, %" PRId64 " found registered already\n",
                file, in->uploaded, in->skipped);
}

int tams_cmd_ingest(struct tams_ctx *c)
{
    const char *file = tams_cli_pos(c->cli, 1);
    const char *dur_s = tams_cli_get(c->cli, "segment-duration");
    const char *cont = tams_cli_get(c->cli, "container");
    const char *label = tams_cli_get(c->cli, "label");
    const char *given_source = tams_cli_get(c->cli, "source");
    const char *buffer_s = tams_cli_get(c->cli, "live-buffer");
    size_t live_buffer = LIVE_BUFFER_DEFAULT;
    struct ingest in = {.c = c, .live = tams_cli_has(c->cli, "live")};
    struct tams_buf path = TAMS_BUF_INIT(4096);
    struct tams_seg_opts so = {.duration = 2000000000};
    char digest[65], source_id[TAMS_UUID_STRLEN], multi_id[TAMS_UUID_STRLEN], err[256];
    int rc = TAMS_EXIT_OK, e;

    if (!file || c->cli->npos != 2)
        return tams_cmd_usage("usage: tams ingest FILE [options] (see 'tams help ingest')");
    if (dur_s && tams_cuts_parse_seconds(dur_s, &so.duration))
        return tams_cmd_usage("--segment-duration wants seconds, like 2 or 0.5");
    if (cont && strcmp(cont, "ts") != 0 && strcmp(cont, "mp4") != 0)
        return tams_cmd_usage("--container is ts (MPEG-TS) or mp4 (fragmented MP4)");
    if (buffer_s && (!in.live || tams_cfg_parse_size(buffer_s, 1 << 20, INT64_C(1) << 40,
                                                     &live_buffer, err, sizeof(err))))
        return tams_cmd_usage("--live-buffer goes with --live and wants a size from 1M to 1T, "
                              "like 512M or 2G");
    so.fmp4 = cont && strcmp(cont, "mp4") == 0;
    const char *container = so.fmp4 ? "video/mp4" : "video/mp2t";
    if (!label) {
        const char *slash = strrchr(file, '/');
        label = slash ? slash + 1 : file;
    }
    if (in.live) {
        /* A live input is not a file to hash: a run is named by the input and its start. */
        char name[TAMS_UUID_STRLEN], when[64];
        snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
        tams_ids_uuid2(file, when, name);
        snprintf(digest, sizeof(digest), "live-%s", name);
        /* A file is played as live at its own rate; a network input arrives at its rate anyway,
         * and pacing its reads would only hold back what the input is sending. */
        struct stat in_st;
        so.realtime = stat(file, &in_st) == 0 && S_ISREG(in_st.st_mode);
        so.stop = &stop_requested;
        struct sigaction sa = {.sa_handler = on_stop_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    } else if (file_digest(file, digest)) {
        fprintf(stderr, "tams: cannot read '%s'\n", file);
        return TAMS_EXIT_FAIL;
    }
    in.ic = avformat_alloc_context();
    in.ic->interrupt_callback = (AVIOInterruptCB){.callback = interrupt_cb};
    if ((e = avformat_open_input(&in.ic, file, NULL, NULL)) < 0 ||
        (e = avformat_find_stream_info(in.ic, NULL)) < 0) {
        av_strerror(e, err, sizeof(err));
        fprintf(stderr, "tams: '%s' is not media FFmpeg can read: %s\n", file, err);
        rc = TAMS_EXIT_FAIL;
        goto out;
    }

    /* IDs: the source from --source or the file's content; the flows from the source, the
     * stream and the cutting options, so other options make other flows, never a mix. */
    if (given_source)
        snprintf(source_id, sizeof(source_id), "%s", given_source);
    else
        tams_ids_uuid2("tams-ingest/source", digest, source_id);
    char variant[128];
    snprintf(variant, sizeof(variant), "%s/%" PRId64 "/%s", digest, so.duration, container);
    for (unsigned i = 0; i < in.ic->nb_streams && in.n < MAX_TRACKS; i++) {
        json_object *doc = tams_probe_flow(in.ic->streams[i], container);
        if (!doc) {
            if (c->verbose)
                fprintf(stderr, "tams: stream %u skipped: not audio or video of a known codec\n",
                        i);
            continue;
        }
        struct track *t = &in.t[in.n++];
        char name[256];
        t->stream = (int)i;
        t->doc = doc;
        snprintf(name, sizeof(name), "stream/%u", i);
        tams_ids_uuid2(source_id, name, t->source_id);
        snprintf(name, sizeof(name), "flow/%u/%s", i, variant);
        tams_ids_uuid2(source_id, name, t->flow_id);
    }
    tams_ids_uuid2(source_id, variant, multi_id);
    if (in.n == 0) {
        fprintf(stderr, "tams: '%s' has no audio or video stream this client can ingest\n", file);
        rc = TAMS_EXIT_FAIL;
        goto out;
    }
    if ((rc = make_flows(&in, source_id, multi_id, label, container)))
        goto out;
    for (size_t i = 0; i < in.n; i++) {
        flow_path(&path, in.t[i].flow_id, "/segments");
        if ((rc = tams_api_list(&c->http, path.data, collect_span, &in.t[i], NULL)))
            goto out;
    }

    int streams[MAX_TRACKS];
    for (size_t i = 0; i < in.n; i++)
        streams[i] = in.t[i].stream;
    struct stat st;
    tams_progress_start(&in.progress, c->tty, "ingest",
                        !in.live && stat(file, &st) == 0 ? st.st_size : 0);
    if (in.live && !(in.lq = tams_livequeue_start(live_buffer, upload_live, &in))) {
        fprintf(stderr, "tams: cannot start the upload thread\n");
        rc = TAMS_EXIT_FAIL;
        goto out;
    }
    e = tams_seg_run(in.ic, streams, in.n, &so, on_piece, &in, err, sizeof(err));
    if (in.lq) {
        /* Every segment cut is uploaded before the end, also after a read error. */
        size_t peak = tams_livequeue_peak(in.lq);
        int q = tams_livequeue_finish(in.lq);

        in.lq = NULL;
        if (c->verbose)
            fprintf(stderr, "tams: at most %zu bytes of segments waited for upload\n", peak);
        if (e == 0)
            e = q;
    }
    tams_progress_end(&in.progress);
    if (e < 0) {
        fprintf(stderr, "tams: '%s': %s\n", file, err);
        rc = TAMS_EXIT_FAIL;
        goto out;
    }
    if ((rc = e) || (rc = put_bit_rates(&in)))
        goto out;
    print_result(&in, source_id, multi_id, file);
out:
    for (size_t i = 0; i < in.n; i++) {
        json_object_put(in.t[i].doc);
        json_object_put(in.t[i].pool);
        tams_free(in.t[i].have);
    }
    avformat_close_input(&in.ic);
    tams_buf_release(&path);
    return rc;
}
