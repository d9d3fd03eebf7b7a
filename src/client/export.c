/* SPDX-License-Identifier: Apache-2.0 */
/* export.c - "tams export ID --timerange TR -o OUT": a flow's (or a source's) segments in the
 * window, fetched through get_urls and remuxed into one file with timestamps from zero. */
#include "core/common.h"
#include "client/api.h"
#include "client/cmd.h"
#include "client/cuts.h"
#include "client/edge.h"
#include "client/flowset.h"
#include "client/probe.h"
#include "client/progress.h"
#include "core/percent.h"
#include "tams/timerange.h"
#include "tams/timestamp.h"

#include <libavformat/avio.h>

#define MAX_FLOWS TAMS_FLOWSET_MAX
#define IO_BUF 65536

struct segment {
    json_object *doc; /* from the server: timerange, ts_offset, get_urls */
    int64_t lo, hi;   /* [lo, hi) ns */
    int64_t offset;   /* ts_offset in ns */
};

struct memin {
    const uint8_t *data;
    size_t size, pos;
};

struct reader {
    char flow_id[64];
    const char *container;
    struct segment *segs;
    size_t nsegs, next;         /* segments, and the one to open next */
    struct tams_http_resp body; /* the open segment's bytes */
    struct memin mem;
    AVFormatContext *ic;
    AVIOContext *io;
    AVPacket *pkt;  /* the next packet, timestamps already on the output's timeline */
    int64_t pkt_ns; /* its decode time in ns, for interleaving */
    bool done;
    bool video;
    AVStream *os;
    AVRational tb;   /* of r->pkt as read_raw left it */
    AVPacket **outq; /* --exact, lead: packets ready, [next_out, nout) */
    size_t nout, next_out;
    AVRational out_tb; /* their time base */
    AVPacket *look;    /* the keyframe that starts the next GOP, read ahead */
    AVRational look_tb;
    AVRational frame_rate; /* the flow's, for re-encoded packets' durations */
};

struct export
{
    struct tams_ctx *c;
    struct reader r[MAX_FLOWS];
    size_t n;
    int64_t t0, end; /* ns: the export's span, the lead flow's segments' */
    size_t lead;     /* the first video flow, else the first: its segments set the span */
    bool exact;      /* --exact: the span is the timerange asked for, edge GOPs re-encoded */
    AVFormatContext *oc;
    struct tams_progress progress;
    int64_t bytes, nsegs;
};

static int mem_read(void *opaque, uint8_t *buf, int n)
{
    struct memin *m = opaque;
    size_t left = m->size - m->pos;
    if (left == 0)
        return AVERROR_EOF;
    size_t k = left < (size_t)n ? left : (size_t)n;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (int)k;
}

static int collect_seg(json_object *item, void *arg)
{
    struct reader *r = arg;
    const char *tr = tams_api_str(item, "timerange"), *off = tams_api_str(item, "ts_offset");
    struct tams_timerange t;
    int64_t o = 0;
    if (!tr || tams_timerange_parse(tr, strlen(tr), &t) || !tams_timerange_is_bounded(&t) ||
        (off && tams_ts_parse(off, strlen(off), &o))) {
        fprintf(stderr, "tams: flow %s: a segment without a valid timerange\n", r->flow_id);
        return TAMS_EXIT_SERVER;
    }
    r->segs = tams_realloc(r->segs, tams_st_mult(r->nsegs + 1, sizeof(*r->segs)));
    r->segs[r->nsegs++] =
        (struct segment){.doc = json_object_get(item), .lo = t.lo, .hi = t.hi + 1, .offset = o};
    return TAMS_EXIT_OK;
}

/* Downloads a segment through one of its get_urls, the next one when one fails. */
static int fetch(struct export *ex, struct reader *r, const struct segment *s)
{
    json_object *urls;
    int rc = TAMS_EXIT_SERVER;
    if (!json_object_object_get_ex(s->doc, "get_urls", &urls) ||
        json_object_array_length(urls) == 0) {
        fprintf(stderr, "tams: flow %s: segment %s has no get_urls\n", r->flow_id,
                tams_api_str(s->doc, "timerange"));
        return TAMS_EXIT_SERVER;
    }
    for (size_t i = 0; i < json_object_array_length(urls); i++) {
        const char *url = tams_api_str(json_object_array_get_idx(urls, i), "url");
        if (!url)
            continue;
        if ((rc = tams_http_do(&ex->c->http, "GET", url, NULL, 0, NULL, &r->body)) == TAMS_EXIT_OK)
            return TAMS_EXIT_OK;
        if (ex->c->verbose || i + 1 == json_object_array_length(urls))
            fprintf(stderr, "tams: %s\n", r->body.error);
    }
    return rc;
}

static void close_segment(struct reader *r)
{
    avformat_close_input(&r->ic);
    if (r->io) {
        av_freep(&r->io->buffer);
        avio_context_free(&r->io);
    }
}

/* Opens the reader's next segment; r->done when there is none. */
static int open_next(struct export *ex, struct reader *r)
{
    close_segment(r);
    if (r->next == r->nsegs) {
        r->done = true;
        return TAMS_EXIT_OK;
    }
    const struct segment *s = &r->segs[r->next++];
    int rc = fetch(ex, r, s), e;
    if (rc)
        return rc;
    ex->bytes += (int64_t)r->body.body.len;
    ex->nsegs++;
    tams_progress_update(&ex->progress, ex->bytes, ex->nsegs);
    r->mem = (struct memin){.data = (const uint8_t *)r->body.body.data, .size = r->body.body.len};
    uint8_t *buf = av_malloc(IO_BUF);
    r->io = buf ? avio_alloc_context(buf, IO_BUF, 0, &r->mem, mem_read, NULL, NULL) : NULL;
    if (!r->io) {
        av_free(buf);
        return TAMS_EXIT_FAIL;
    }
    r->ic = avformat_alloc_context();
    r->ic->pb = r->io;
    const AVInputFormat *fmt =
        av_find_input_format(strcmp(r->container, "video/mp4") == 0 ? "mp4" : "mpegts");
    char err[128];
    if ((e = avformat_open_input(&r->ic, NULL, fmt, NULL)) < 0 ||
        (e = avformat_find_stream_info(r->ic, NULL)) < 0 || r->ic->nb_streams < 1) {
        av_strerror(e, err, sizeof(err));
        fprintf(stderr, "tams: flow %s: segment %s is not readable media: %s\n", r->flow_id,
                tams_api_str(s->doc, "timerange"), err);
        return TAMS_EXIT_FAIL;
    }
    return TAMS_EXIT_OK;
}

/* Reads the reader's next packet, across segments, onto the output timeline (in its
 * segment's time base, r->tb); r->done when there is none. Other flows than the lead are
 * trimmed to the span here, sample by sample. */
static int read_raw(struct export *ex, struct reader *r)
{
    int rc;
    av_packet_unref(r->pkt);
    for (;;) {
        if (!r->ic && (rc = open_next(ex, r)))
            return rc;
        if (r->done)
            return TAMS_EXIT_OK;
        int e = av_read_frame(r->ic, r->pkt);
        if (e == AVERROR_EOF) {
            close_segment(r);
            continue;
        }
        if (e < 0) {
            fprintf(stderr, "tams: flow %s: a segment cannot be read\n", r->flow_id);
            return TAMS_EXIT_FAIL;
        }
        if (r->pkt->stream_index != 0) {
            av_packet_unref(r->pkt);
            continue;
        }
        const struct segment *s = &r->segs[r->next - 1];
        AVRational tb = r->ic->streams[0]->time_base;
        if (r != &ex->r[ex->lead] && r->pkt->pts != AV_NOPTS_VALUE) {
            int64_t at = tams_cuts_ns(r->pkt->pts, tb.num, tb.den) + s->offset;
            if (at < ex->t0 || at >= ex->end) {
                av_packet_unref(r->pkt);
                continue;
            }
        }
        /* Flow time = media time + ts_offset; the output's zero is the export's start. */
        int64_t shift = tams_cuts_ts_ceil(s->offset - ex->t0, tb.num, tb.den);
        if (s->offset - ex->t0 < 0)
            shift = -tams_cuts_ts_ceil(ex->t0 - s->offset, tb.num, tb.den);
        if (r->pkt->pts != AV_NOPTS_VALUE)
            r->pkt->pts += shift;
        if (r->pkt->dts != AV_NOPTS_VALUE)
            r->pkt->dts += shift;
        r->tb = tb;
        return TAMS_EXIT_OK;
    }
}

/* r->pkt (time base tb) made ready to write: decode time noted for interleaving, rescaled. */
static void finish(struct reader *r, AVRational tb)
{
    int64_t d = r->pkt->dts != AV_NOPTS_VALUE ? r->pkt->dts : r->pkt->pts;
    r->pkt_ns = tams_cuts_ns(d, tb.num, tb.den);
    av_packet_rescale_ts(r->pkt, tb, r->os->time_base);
    r->pkt->stream_index = r->os->index;
    r->pkt->pos = -1;
}

static int queue_packet(AVPacket *p, void *arg)
{
    struct reader *r = arg;
    r->outq = tams_realloc(r->outq, tams_st_mult(r->nout + 1, sizeof(*r->outq)));
    r->outq[r->nout++] = p;
    return 0;
}

static void free_packets(AVPacket **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        av_packet_free(&v[i]);
}

/* --exact, the lead flow: the next GOP that has frames in the window goes to r->outq: as it is
 * when all its frames are inside, re-encoded to the frames inside when it crosses an edge. */
static int fill_gop(struct export *ex, struct reader *r)
{
    int rc = TAMS_EXIT_OK;
    while (r->nout == 0) {
        AVPacket **gop = NULL;
        size_t n = 0;
        AVRational tb = r->tb;
        if (r->look) {
            gop = tams_malloc(sizeof(*gop));
            gop[n++] = r->look;
            tb = r->look_tb;
            r->look = NULL;
        }
        for (;;) {
            if ((rc = read_raw(ex, r)) || r->done)
                break;
            AVPacket *p = av_packet_clone(r->pkt);
            if (n > 0 && (p->flags & AV_PKT_FLAG_KEY)) {
                r->look = p;
                r->look_tb = r->tb;
                break;
            }
            if (n == 0)
                tb = r->tb;
            gop = tams_realloc(gop, tams_st_mult(n + 1, sizeof(*gop)));
            gop[n++] = p;
        }
        if (rc || n == 0) {
            free_packets(gop, n);
            tams_free(gop);
            return rc;
        }
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t i = 0; i < n; i++) {
            if (gop[i]->pts < lo)
                lo = gop[i]->pts;
            if (gop[i]->pts + gop[i]->duration > hi)
                hi = gop[i]->pts + gop[i]->duration;
        }
        int64_t win = tams_cuts_ts_ceil(ex->end - ex->t0, tb.num, tb.den);
        if (hi <= 0 || lo >= win) {
            free_packets(gop, n); /* wholly outside */
        } else if (lo >= 0 && hi <= win) {
            for (size_t i = 0; i < n; i++)
                queue_packet(gop[i], r);
            n = 0;
        } else {
            char err[128];
            int e =
                tams_edge_reencode(r->os->codecpar, tb, r->frame_rate, gop, n, 0, win,
                                   gop[0]->pts - gop[0]->dts, queue_packet, r, err, sizeof(err));
            free_packets(gop, n);
            if (e) {
                tams_free(gop);
                fprintf(stderr, "tams: flow %s: %s\n", r->flow_id, err);
                return TAMS_EXIT_FAIL;
            }
        }
        tams_free(gop);
        r->out_tb = tb;
        if (r->done && !r->look && r->nout == 0)
            return TAMS_EXIT_OK;
    }
    return rc;
}

static int advance(struct export *ex, struct reader *r)
{
    int rc;
    if (!ex->exact || r != &ex->r[ex->lead]) {
        if ((rc = read_raw(ex, r)) == TAMS_EXIT_OK && !r->done)
            finish(r, r->tb);
        return rc;
    }
    if (r->nout == 0) {
        r->done = false;
        if ((rc = fill_gop(ex, r)))
            return rc;
    }
    if (r->nout == 0) {
        r->done = true;
        return TAMS_EXIT_OK;
    }
    r->done = false;
    av_packet_unref(r->pkt);
    av_packet_move_ref(r->pkt, r->outq[r->next_out]);
    av_packet_free(&r->outq[r->next_out]);
    if (++r->next_out == r->nout)
        r->nout = r->next_out = 0;
    finish(r, r->out_tb);
    return TAMS_EXIT_OK;
}

/* The elementary flows to export (flowset.h). */
static int resolve(struct export *ex, const char *id)
{
    struct tams_flowset set;
    int rc = tams_flowset_resolve(&ex->c->http, id, &set);
    for (size_t i = 0; rc == TAMS_EXIT_OK && i < set.n && ex->n < MAX_FLOWS; i++)
        snprintf(ex->r[ex->n++].flow_id, sizeof(ex->r[0].flow_id), "%s", set.id[i]);
    return rc;
}

/* Lists each flow's segments in the window and checks them for gaps. */
static int list_segments(struct export *ex, const char *tr, bool allow_gaps)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    int rc = TAMS_EXIT_OK;
    ex->t0 = INT64_MAX;
    for (size_t i = 0; i < ex->n && rc == TAMS_EXIT_OK; i++) {
        struct reader *r = &ex->r[i];
        json_object *flow = NULL;
        tams_buf_reset(&path);
        (void)tams_buf_addstr(&path, "/flows/");
        tams_percent_encode(&path, r->flow_id, strlen(r->flow_id), NULL, 0);
        if ((rc = tams_api_get(&ex->c->http, path.data, &flow)))
            break;
        const char *cont = tams_api_str(flow, "container"), *fmt = tams_api_str(flow, "format");
        r->video = fmt && strcmp(fmt, TAMS_FORMAT_VIDEO) == 0;
        r->container = cont && strcmp(cont, "video/mp4") == 0 ? "video/mp4" : "video/mp2t";
        json_object_put(flow);
        (void)tams_buf_addstr(&path, "/segments");
        tams_api_query(&path, "timerange", tr);
        if ((rc = tams_api_list(&ex->c->http, path.data, collect_seg, r, NULL)))
            break;
        for (size_t k = 1; k < r->nsegs; k++) {
            if (r->segs[k].lo == r->segs[k - 1].hi)
                continue;
            char a[TAMS_TS_STRMAX], b[TAMS_TS_STRMAX];
            tams_ts_format(r->segs[k - 1].hi, a);
            tams_ts_format(r->segs[k].lo, b);
            fprintf(stderr, "tams: flow %s has %s between %s and %s%s\n", r->flow_id,
                    r->segs[k].lo > r->segs[k - 1].hi ? "a gap" : "overlapping segments", a, b,
                    allow_gaps ? "" : " (--allow-gaps exports it anyway)");
            if (!allow_gaps)
                rc = TAMS_EXIT_FAIL;
        }
    }
    tams_buf_release(&path);
    return rc;
}

/* The span of the export: the lead flow's segments, which the other flows are trimmed to (to
 * the sample, by presentation time: their segments are cut at other points). */
static void choose_span(struct export *ex, const struct tams_timerange *want)
{
    ex->lead = 0;
    for (size_t i = ex->n; i-- > 0;)
        if (ex->r[i].video)
            ex->lead = i;
    const struct reader *l = &ex->r[ex->lead];
    ex->t0 = l->segs[0].lo;
    ex->end = l->segs[l->nsegs - 1].hi;
    if (want && ex->exact) {
        if (want->lo != TAMS_TS_NEG_INF && want->lo > ex->t0)
            ex->t0 = want->lo;
        if (want->hi != TAMS_TS_POS_INF && want->hi + 1 < ex->end)
            ex->end = want->hi + 1;
    }
}

static int open_output(struct export *ex, const char *out)
{
    int e = avformat_alloc_output_context2(&ex->oc, NULL, NULL, out);
    char err[128];
    if (e < 0) {
        fprintf(stderr, "tams: '%s': name a .ts, .mp4 or .mkv file\n", out);
        return TAMS_EXIT_USAGE;
    }
    for (size_t i = 0; i < ex->n; i++) {
        struct reader *r = &ex->r[i];
        AVStream *os = avformat_new_stream(ex->oc, NULL);
        if (!os || avcodec_parameters_copy(os->codecpar, r->ic->streams[0]->codecpar) < 0)
            return TAMS_EXIT_FAIL;
        os->codecpar->codec_tag = 0;
        os->time_base = r->ic->streams[0]->time_base;
        r->os = os;
        r->frame_rate = r->ic->streams[0]->avg_frame_rate;
    }
    if ((e = avio_open(&ex->oc->pb, out, AVIO_FLAG_WRITE)) < 0) {
        av_strerror(e, err, sizeof(err));
        fprintf(stderr, "tams: cannot write '%s': %s\n", out, err);
        return TAMS_EXIT_FAIL;
    }
    if ((e = avformat_write_header(ex->oc, NULL)) < 0) {
        av_strerror(e, err, sizeof(err));
        fprintf(stderr, "tams: '%s': cannot start the file: %s\n", out, err);
        return TAMS_EXIT_FAIL;
    }
    return TAMS_EXIT_OK;
}

int tams_cmd_export(struct tams_ctx *c)
{
    const char *id = tams_cli_pos(c->cli, 1), *out = tams_cli_get(c->cli, "output");
    const char *tr = tams_cli_get(c->cli, "timerange");
    bool allow_gaps = tams_cli_has(c->cli, "allow-gaps");
    struct export ex = {.c = c};
    int rc = TAMS_EXIT_OK, e;
    bool header = false;

    if (!id || c->cli->npos != 2 || !out)
        return tams_cmd_usage("usage: tams export ID [--timerange TR] -o OUT.ts|.mp4|.mkv");
    ex.exact = tams_cli_has(c->cli, "exact");
    struct tams_timerange want;
    if (tr && tams_timerange_parse(tr, strlen(tr), &want))
        return tams_cmd_usage("--timerange '%s' is not a TAMS timerange", tr);
    for (size_t i = 0; i < MAX_FLOWS; i++)
        tams_http_resp_init(&ex.r[i].body);
    if ((rc = resolve(&ex, id)) || (rc = list_segments(&ex, tr, allow_gaps)))
        goto out;
    /* Flows without segments in the window take no part. */
    size_t k = 0;
    for (size_t i = 0; i < ex.n; i++) {
        if (ex.r[i].nsegs == 0) {
            tams_free(ex.r[i].segs);
            tams_http_resp_release(&ex.r[i].body);
            continue;
        }
        if (k != i) {
            ex.r[k] = ex.r[i];
            memset(&ex.r[i], 0, sizeof(ex.r[i]));
            tams_http_resp_init(&ex.r[i].body);
        }
        k++;
    }
    ex.n = k;
    if (ex.n == 0) {
        fprintf(stderr, "tams: no segments of '%s'%s%s\n", id, tr ? " in " : "", tr ? tr : "");
        rc = TAMS_EXIT_NOTFOUND;
        goto out;
    }
    choose_span(&ex, tr ? &want : NULL);
    tams_progress_start(&ex.progress, c->tty, "export", 0);
    for (size_t i = 0; i < ex.n; i++) {
        ex.r[i].pkt = av_packet_alloc();
        if ((rc = open_next(&ex, &ex.r[i])))
            goto out;
    }
    if ((rc = open_output(&ex, out)))
        goto out;
    header = true;
    for (size_t i = 0; i < ex.n; i++)
        if ((rc = advance(&ex, &ex.r[i])))
            goto out;
    /* Interleave by decode time: always write the earliest pending packet. */
    for (;;) {
        struct reader *next = NULL;
        for (size_t i = 0; i < ex.n; i++)
            if (!ex.r[i].done && (!next || ex.r[i].pkt_ns < next->pkt_ns))
                next = &ex.r[i];
        if (!next)
            break;
        if ((e = av_interleaved_write_frame(ex.oc, next->pkt)) < 0) {
            char err[128];
            av_strerror(e, err, sizeof(err));
            fprintf(stderr, "tams: '%s': cannot write: %s\n", out, err);
            rc = TAMS_EXIT_FAIL;
            goto out;
        }
        if ((rc = advance(&ex, next)))
            goto out;
    }
    if ((e = av_write_trailer(ex.oc)) < 0) {
        fprintf(stderr, "tams: '%s': cannot finish the file\n", out);
        rc = TAMS_EXIT_FAIL;
    }
    header = false;
    if (rc == TAMS_EXIT_OK && c->json)
        printf("{\"output\":\"%s\",\"segments\":%" PRId64 ",\"bytes\":%" PRId64 "}\n", out,
               ex.nsegs, ex.bytes);
out:
    tams_progress_end(&ex.progress);
    if (header)
        av_write_trailer(ex.oc);
    if (ex.oc) {
        avio_closep(&ex.oc->pb);
        avformat_free_context(ex.oc);
    }
    for (size_t i = 0; i < MAX_FLOWS; i++) {
        struct reader *r = &ex.r[i];
        close_segment(r);
        av_packet_free(&r->pkt);
        av_packet_free(&r->look);
        free_packets(r->outq + r->next_out, r->nout - r->next_out);
        tams_free(r->outq);
        for (size_t j = 0; j < r->nsegs; j++)
            json_object_put(r->segs[j].doc);
        tams_free(r->segs);
        tams_http_resp_release(&r->body);
    }
    return rc;
}
