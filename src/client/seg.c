/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/seg.h"
#include "client/cuts.h"

#include <libavcodec/bsf.h>
#include <time.h>

#define PREFETCH_MAX 500 /* packets read before the common offset is fixed */

struct track {
    AVStream *ist;
    int64_t off;         /* added to timestamps, in the stream's units */
    AVFormatContext *oc; /* the segment being written, or NULL */
    size_t number;
    int64_t lo, end; /* ns: its start, and the end of its latest sample */
    int key_frames, frames;
    int64_t mp4_shift; /* subtracted in fragmented MP4, whose muxer adds it back (see below) */
    AVBSFContext *bsf; /* ADTS to raw AAC for MP4, which wants the AAC config up front */
    AVPacket *filtered;
    uint8_t asc[2]; /* that config (AudioSpecificConfig), from the stream's parameters */
};

struct queue {
    AVPacket **v;
    size_t head, len, cap;
};

struct run {
    AVFormatContext *ic;
    const struct tams_seg_opts *o;
    struct track *t;
    size_t n;
    size_t lead;   /* the track whose keyframes cut */
    int64_t *cuts; /* ns, ascending */
    size_t ncuts, capcuts;
    int64_t lead_dts; /* ns: the lead's latest decode time seen; INT64_MIN before any */
    struct queue q;   /* packets read but not yet placed */
    tams_seg_fn fn;
    void *arg;
    int64_t wall0, media0; /* realtime: the clock and the media time of the first packet */
    char *err;
    size_t errlen;
};

static int fail(struct run *r, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE] = "";
    if (averr)
        av_strerror(averr, msg, sizeof(msg));
    snprintf(r->err, r->errlen, "%s%s%s", what, averr ? ": " : "", msg);
    return -1;
}

static void push(struct queue *q, AVPacket *p)
{
    if (q->head + q->len == q->cap) {
        if (q->head > 0) {
            memmove(q->v, q->v + q->head, q->len * sizeof(*q->v));
            q->head = 0;
        } else {
            q->cap = q->cap ? q->cap * 2 : 64;
            q->v = tams_realloc(q->v, tams_st_mult(q->cap, sizeof(*q->v)));
        }
    }
    q->v[q->head + q->len++] = p;
}

static AVPacket *peek(struct queue *q)
{
    return q->len ? q->v[q->head] : NULL;
}

static void pop(struct queue *q)
{
    q->head++;
    q->len--;
}

static int track_of(const struct run *r, int stream_index)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->t[i].ist->index == stream_index)
            return (int)i;
    return -1;
}

static int64_t ns_of(const struct track *t, int64_t ts)
{
    return tams_cuts_ns(ts + t->off, t->ist->time_base.num, t->ist->time_base.den);
}

static int64_t pts_of(const AVPacket *p)
{
    return p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
}

static int64_t dts_of(const AVPacket *p)
{
    return p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
}

static int open_segment(struct run *r, struct track *t, size_t number, int64_t lo)
{
    AVFormatContext *oc = NULL;
    AVDictionary *opts = NULL;
    int e = avformat_alloc_output_context2(&oc, NULL, r->o->fmp4 ? "mp4" : "mpegts", NULL);
    if (e < 0)
        return fail(r, "cannot make a segment muxer", e);
    AVStream *os = avformat_new_stream(oc, NULL);
    if (!os || (e = avcodec_parameters_copy(os->codecpar, t->ist->codecpar)) < 0) {
        avformat_free_context(oc);
        return fail(r, "cannot add a stream to a segment", e);
    }
    if (t->bsf) {
        os->codecpar->extradata = av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!os->codecpar->extradata) {
            avformat_free_context(oc);
            return fail(r, "out of memory", AVERROR(ENOMEM));
        }
        memcpy(os->codecpar->extradata, t->asc, 2);
        os->codecpar->extradata_size = 2;
    }
    os->codecpar->codec_tag = 0;
    os->time_base = t->ist->time_base;
    if ((e = avio_open_dyn_buf(&oc->pb)) < 0) {
        avformat_free_context(oc);
        return fail(r, "out of memory", e);
    }
    /* Timestamps as they are: no muxing delay added (MPEG-TS), each fragment's decode time
     * written as it is (MP4), so segments line up on one timeline. */
    if (r->o->fmp4)
        av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof+frag_discont",
                    0);
    else
        av_dict_set(&opts, "mpegts_copyts", "1", 0);
    oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    e = avformat_write_header(oc, &opts);
    av_dict_free(&opts);
    if (e < 0) {
        uint8_t *junk;
        avio_close_dyn_buf(oc->pb, &junk);
        av_free(junk);
        avformat_free_context(oc);
        return fail(r, "cannot start a segment", e);
    }
    t->oc = oc;
    t->number = number;
    t->lo = lo;
    t->end = lo;
    t->key_frames = t->frames = 0;
    return 0;
}

/* Finishes t's segment as [t->lo, hi) and hands it to the callback. */
static int close_segment(struct run *r, struct track *t, int64_t hi)
{
    AVFormatContext *oc = t->oc;
    uint8_t *buf = NULL;
    int e = av_write_trailer(oc);
    int size = avio_close_dyn_buf(oc->pb, &buf);
    oc->pb = NULL;
    avformat_free_context(oc);
    t->oc = NULL;
    if (e < 0) {
        av_free(buf);
        return fail(r, "cannot finish a segment", e);
    }
    struct tams_seg_piece p = {.track = (size_t)(t - r->t),
                               .number = t->number,
                               .data = buf,
                               .size = (size_t)size,
                               .lo = t->lo,
                               .hi = hi,
                               .key_frames = t->key_frames,
                               .frames = t->frames};
    int rc = r->fn(&p, r->arg);
    av_free(buf);
    return rc;
}

static int write_filtered(struct run *r, struct track *t, const AVPacket *p);

static int write_packet(struct run *r, struct track *t, const AVPacket *p)
{
    if (t->bsf)
        return write_filtered(r, t, p);
    AVPacket *q = av_packet_clone(p);
    if (!q)
        return fail(r, "out of memory", AVERROR(ENOMEM));
    /* The MP4 muxer, told each segment is a discontinuity (frag_discont), starts the
     * fragment's decode time at the first sample's presentation time, which puts every sample
     * later by the first one's reordering delay (pts - dts): take it off here so that the
     * segment presents its samples at their own times. */
    if (r->o->fmp4 && t->frames == 0)
        t->mp4_shift = pts_of(p) - dts_of(p);
    int64_t shift = t->off - (r->o->fmp4 ? t->mp4_shift : 0);
    if (q->pts != AV_NOPTS_VALUE)
        q->pts += shift;
    if (q->dts != AV_NOPTS_VALUE)
        q->dts += shift;
    q->stream_index = 0;
    q->pos = -1;
    av_packet_rescale_ts(q, t->ist->time_base, t->oc->streams[0]->time_base);
    int e = av_write_frame(t->oc, q);
    av_packet_free(&q);
    if (e < 0)
        return fail(r, "cannot write to a segment", e);
    t->frames++;
    if (p->flags & AV_PKT_FLAG_KEY)
        t->key_frames++;
    int64_t end = ns_of(t, pts_of(p) + (p->duration > 0 ? p->duration : 0));
    if (end > t->end)
        t->end = end;
    return 0;
}

/* AAC in ADTS (MPEG-TS input) going to MP4: through aac_adtstoasc, which takes the headers
 * off and makes the AudioSpecificConfig the MP4 header needs. One packet in, one out. */
static int write_filtered(struct run *r, struct track *t, const AVPacket *p)
{
    AVBSFContext *bsf = t->bsf;
    AVPacket *in = av_packet_clone(p);
    int e = in ? av_bsf_send_packet(bsf, in) : AVERROR(ENOMEM);
    av_packet_free(&in);
    if (e < 0 || (e = av_bsf_receive_packet(bsf, t->filtered)) < 0)
        return fail(r, "cannot convert AAC for MP4", e);
    t->bsf = NULL; /* write this one as it is */
    e = write_packet(r, t, t->filtered);
    t->bsf = bsf;
    av_packet_unref(t->filtered);
    return e;
}

static int setup_bsf(struct run *r, struct track *t)
{
    static const int rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                22050, 16000, 12000, 11025, 8000,  7350};
    const AVCodecParameters *par = t->ist->codecpar;
    const AVBitStreamFilter *f = av_bsf_get_by_name("aac_adtstoasc");
    int e, rate = -1;
    for (int i = 0; i < (int)TAMS_ARRAY_SIZE(rates); i++)
        if (rates[i] == par->sample_rate)
            rate = i;
    int channels = par->ch_layout.nb_channels;
    if (rate < 0 || channels < 1 || channels > 7 || par->profile < 0 || par->profile > 30)
        return fail(r, "AAC of this rate or layout cannot go into MP4 here", 0);
    /* ISO 14496-3 1.6.2.1: 5 bits object type (profile + 1), 4 bits rate index, 4 bits
     * channel configuration, 3 bits zero. */
    unsigned asc =
        (unsigned)(par->profile + 1) << 11 | (unsigned)rate << 7 | (unsigned)channels << 3;
    t->asc[0] = (uint8_t)(asc >> 8);
    t->asc[1] = (uint8_t)asc;
    if (!f || (e = av_bsf_alloc(f, &t->bsf)) < 0)
        return fail(r, "no aac_adtstoasc filter in this FFmpeg", 0);
    if ((e = avcodec_parameters_copy(t->bsf->par_in, t->ist->codecpar)) < 0 ||
        (e = av_bsf_init(t->bsf)) < 0)
        return fail(r, "cannot set up aac_adtstoasc", e);
    t->bsf->time_base_in = t->ist->time_base;
    t->filtered = av_packet_alloc();
    return 0;
}

static void add_cut(struct run *r, int64_t at)
{
    if (r->ncuts == r->capcuts) {
        r->capcuts = r->capcuts ? r->capcuts * 2 : 64;
        r->cuts = tams_realloc(r->cuts, tams_st_mult(r->capcuts, sizeof(*r->cuts)));
    }
    r->cuts[r->ncuts++] = at;
}

/* A lead packet: a keyframe due for a cut starts the next segment, at its own time. */
static int place_lead(struct run *r, const AVPacket *p)
{
    struct track *t = &r->t[r->lead];
    int64_t at = ns_of(t, pts_of(p)), rc;
    bool key = (p->flags & AV_PKT_FLAG_KEY) || t->ist->codecpar->codec_type != AVMEDIA_TYPE_VIDEO;
    if (r->ncuts == 0 || (key && tams_cuts_due(r->cuts[r->ncuts - 1], at, r->o->duration))) {
        if (t->oc && (rc = close_segment(r, t, at)))
            return (int)rc;
        add_cut(r, at);
        if ((rc = open_segment(r, t, r->ncuts - 1, at)))
            return (int)rc;
    }
    int64_t dts = ns_of(t, dts_of(p));
    if (dts > r->lead_dts)
        r->lead_dts = dts;
    return write_packet(r, t, p);
}

/* Any other packet: it belongs to the segment whose span holds its time; a change of segment
 * closes the track's segment at this packet's time, so the track's segments are contiguous. */
static int place_other(struct run *r, struct track *t, const AVPacket *p)
{
    int64_t at = ns_of(t, pts_of(p));
    int rc;
    if (r->ncuts == 0)
        add_cut(r, at); /* no lead packet at all: the media has none of the lead's samples */
    size_t k = tams_cuts_find(r->cuts, r->ncuts, at);
    if (t->oc && k > t->number && (rc = close_segment(r, t, at)))
        return rc;
    if (!t->oc && (rc = open_segment(r, t, k, at)))
        return rc;
    return write_packet(r, t, p);
}

/* Places queued packets while it is known where they go: a packet of another stream at time
 * x waits until the lead has gone past x (a later cut can only be later than the lead's
 * decode time) or a known cut lies after x, or the input has ended. Lead packets never wait
 * (they decide the cuts), nor do other streams' behind a waiting one; a stream's own packets
 * keep their order. The packets left are few: as many as the input interleaves ahead. */
static int drain(struct run *r, bool eof)
{
    bool blocked[TAMS_SEG_MAX_STREAMS] = {false};
    size_t keep = 0;
    int rc = 0;
    for (size_t i = 0; i < r->q.len; i++) {
        AVPacket *p = r->q.v[r->q.head + i];
        int k = track_of(r, p->stream_index);
        struct track *t = &r->t[k];
        bool place;
        if (rc) {
            place = false;
        } else if ((size_t)k == r->lead) {
            place = true;
        } else {
            int64_t at = ns_of(t, pts_of(p));
            bool known = eof || (r->ncuts > 0 && (r->lead_dts > at || r->cuts[r->ncuts - 1] > at));
            place = known && !blocked[k];
            if (!place)
                blocked[k] = true;
        }
        if (!place) {
            r->q.v[r->q.head + keep++] = p;
            continue;
        }
        rc = (size_t)k == r->lead ? place_lead(r, p) : place_other(r, t, p);
        av_packet_free(&p);
    }
    r->q.len = keep;
    return rc;
}

/* Realtime helpers, then reading. */
static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Realtime: waits until the wall clock has run as far as the media has since the first packet,
 * in short naps so that a stop request is seen promptly. */
static void pace(struct run *r, const struct track *t, const AVPacket *p)
{
    int64_t at = ns_of(t, dts_of(p));
    if (r->wall0 == 0) {
        r->wall0 = wall_ns();
        r->media0 = at;
        return;
    }
    for (;;) {
        int64_t ahead = (at - r->media0) - (wall_ns() - r->wall0);
        if (ahead <= 0 || (r->o->stop && *r->o->stop))
            return;
        struct timespec nap = {.tv_nsec = ahead < 50000000 ? ahead : 50000000};
        nanosleep(&nap, NULL);
    }
}

/* Reads the next packet of one of our streams into the queue; 1 at the end, -1 on error. */
static int read_one(struct run *r)
{
    for (;;) {
        if (r->o->stop && *r->o->stop)
            return 1;
        AVPacket *p = av_packet_alloc();
        int e = av_read_frame(r->ic, p);
        if (e == AVERROR_EOF || e == AVERROR_EXIT) {
            av_packet_free(&p);
            return 1;
        }
        if (e < 0) {
            av_packet_free(&p);
            return fail(r, "cannot read the media", e);
        }
        if (track_of(r, p->stream_index) < 0 || pts_of(p) == AV_NOPTS_VALUE) {
            av_packet_free(&p);
            continue;
        }
        if (r->o->realtime)
            pace(r, &r->t[track_of(r, p->stream_index)], p);
        push(&r->q, p);
        return 0;
    }
}

/* The offset that makes every timestamp non-negative: from the earliest decode time among
 * the first packets (negative times only ever come first). */
static int prefetch(struct run *r, bool *eof)
{
    int rc = 0;
    while (r->q.len < PREFETCH_MAX && (rc = read_one(r)) == 0) {
        bool all = true;
        for (size_t i = 0; i < r->n && all; i++) {
            bool seen = false;
            for (size_t j = 0; j < r->q.len && !seen; j++)
                seen = r->q.v[r->q.head + j]->stream_index == r->t[i].ist->index;
            all = seen;
        }
        if (all && r->q.len >= 16)
            break;
    }
    if (rc < 0)
        return rc;
    *eof = rc == 1;
    int64_t min = 0;
    for (size_t j = 0; j < r->q.len; j++) {
        AVPacket *p = r->q.v[r->q.head + j];
        const struct track *t = &r->t[track_of(r, p->stream_index)];
        int64_t d = ns_of(t, dts_of(p) < pts_of(p) ? dts_of(p) : pts_of(p));
        if (d < min)
            min = d;
    }
    for (size_t i = 0; i < r->n && min < 0; i++)
        r->t[i].off =
            tams_cuts_ts_ceil(-min, r->t[i].ist->time_base.num, r->t[i].ist->time_base.den);
    return 0;
}

int tams_seg_run(AVFormatContext *ic, const int *streams, size_t n, const struct tams_seg_opts *o,
                 tams_seg_fn fn, void *arg, char *err, size_t errlen)
{
    struct run r = {.ic = ic,
                    .o = o,
                    .n = n,
                    .lead_dts = INT64_MIN,
                    .fn = fn,
                    .arg = arg,
                    .err = err,
                    .errlen = errlen};
    int rc = 0;
    bool eof = false, lead_set = false;
    tams_assert(n > 0 && n <= TAMS_SEG_MAX_STREAMS && o->duration > 0);
    r.t = tams_calloc(n, sizeof(*r.t));
    for (size_t i = 0; i < n; i++) {
        r.t[i].ist = ic->streams[streams[i]];
        if (!lead_set && r.t[i].ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
            r.lead = i;
            lead_set = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        AVCodecParameters *par = r.t[i].ist->codecpar;
        if (o->fmp4 && par->codec_id == AV_CODEC_ID_AAC && par->extradata_size == 0 &&
            (rc = setup_bsf(&r, &r.t[i])))
            goto out;
    }
    if ((rc = prefetch(&r, &eof)))
        goto out;
    while (!eof) {
        if ((rc = drain(&r, false)))
            goto out;
        int got = read_one(&r);
        if (got < 0) {
            rc = got;
            goto out;
        }
        eof = got == 1;
    }
    if ((rc = drain(&r, true)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct track *t = &r.t[i];
        /* A last sample without a duration still needs a non-empty timerange. */
        if (t->oc && (rc = close_segment(&r, t, t->end > t->lo ? t->end : t->lo + 1)))
            goto out;
    }
out:
    for (size_t i = 0; i < n; i++) {
        if (r.t[i].oc) {
            uint8_t *junk;
            avio_close_dyn_buf(r.t[i].oc->pb, &junk);
            av_free(junk);
            avformat_free_context(r.t[i].oc);
        }
    }
    AVPacket *p;
    while ((p = peek(&r.q))) {
        pop(&r.q);
        av_packet_free(&p);
    }
    for (size_t i = 0; i < n; i++) {
        av_bsf_free(&r.t[i].bsf);
        av_packet_free(&r.t[i].filtered);
    }
    tams_free(r.q.v);
    tams_free(r.cuts);
    tams_free(r.t);
    return rc;
}
