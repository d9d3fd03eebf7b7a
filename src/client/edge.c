/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/edge.h"

#include <libavcodec/avcodec.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/opt.h>

struct enc {
    AVCodecContext *ctx;
    AVPacket *pkt;
    bool length_prefixed; /* the copied stream is H.264/HEVC in MP4 form (avcC/hvcC) */
    int64_t delay, duration;
    tams_edge_emit_fn emit;
    void *arg;
};

/* The start of the next Annex B start code (00 00 01, or 00 00 00 01) at or after p, or end;
 * *len gets its length. */
static const uint8_t *next_start(const uint8_t *p, const uint8_t *end, size_t *len)
{
    for (; end - p >= 3; p++) {
        if (p[0] == 0 && p[1] == 0 && p[2] == 1) {
            *len = 3;
            return p;
        }
        if (end - p >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1) {
            *len = 4;
            return p;
        }
    }
    *len = 0;
    return end;
}

/* The encoder writes Annex B (start codes); a stream copied from MP4 carries NAL units
 * prefixed with their 4-byte length instead, and the two must not be mixed in one stream. */
static int to_length_prefixed(AVPacket *p)
{
    const uint8_t *end = p->data + p->size, *nal;
    size_t sc, out = 0;
    AVBufferRef *buf = av_buffer_alloc(p->size + 4 * 64 + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!buf)
        return -1;
    const uint8_t *q = next_start(p->data, end, &sc);
    while (q < end) {
        nal = q + sc;
        q = next_start(nal, end, &sc);
        size_t n = (size_t)(q - nal);
        while (n > 0 && nal[n - 1] == 0 && q < end) /* trailing zeros of a 4-byte code */
            n--;
        if (out + 4 + n > (size_t)buf->size - AV_INPUT_BUFFER_PADDING_SIZE) {
            av_buffer_unref(&buf);
            return -1;
        }
        AV_WB32(buf->data + out, (uint32_t)n);
        memcpy(buf->data + out + 4, nal, n);
        out += 4 + n;
    }
    memset(buf->data + out, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    av_buffer_unref(&p->buf);
    p->buf = buf;
    p->data = buf->data;
    p->size = (int)out;
    return 0;
}

static int drain_encoder(struct enc *e)
{
    int rc;
    while ((rc = avcodec_receive_packet(e->ctx, e->pkt)) == 0) {
        AVPacket *out = av_packet_clone(e->pkt);
        av_packet_unref(e->pkt);
        if (!out)
            return -1;
        if (e->length_prefixed && to_length_prefixed(out)) {
            av_packet_free(&out);
            return -1;
        }
        out->dts = out->pts - e->delay;
        out->duration = e->duration;
        if ((rc = e->emit(out, e->arg)))
            return rc;
    }
    return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : -1;
}

static int open_encoder(struct enc *e, const AVCodecParameters *par, AVRational tb,
                        const AVFrame *f)
{
    const AVCodec *codec = avcodec_find_encoder(par->codec_id);
    AVDictionary *opts = NULL;
    if (!codec || !(e->ctx = avcodec_alloc_context3(codec)))
        return -1;
    e->ctx->width = f->width;
    e->ctx->height = f->height;
    e->ctx->pix_fmt = (enum AVPixelFormat)f->format;
    e->ctx->sample_aspect_ratio = f->sample_aspect_ratio;
    e->ctx->time_base = tb;
    e->ctx->gop_size = 1 << 20; /* one keyframe, the first */
    e->ctx->max_b_frames = 0;
    e->ctx->color_primaries = par->color_primaries;
    e->ctx->color_trc = par->color_trc;
    e->ctx->colorspace = par->color_space;
    e->ctx->color_range = par->color_range;
    /* Headers in band (no global header): the copied stream's own stay valid around them. */
    av_dict_set(&opts, "preset", "veryfast", 0);
    av_dict_set(&opts, "crf", "16", 0);
    int rc = avcodec_open2(e->ctx, codec, &opts);
    av_dict_free(&opts);
    return rc < 0 ? -1 : 0;
}

int tams_edge_reencode(const AVCodecParameters *par, AVRational tb, AVRational frame_rate,
                       AVPacket *const *gop, size_t n, int64_t lo, int64_t hi, int64_t delay,
                       tams_edge_emit_fn emit, void *arg, char *err, size_t errlen)
{
    const AVCodec *dcodec = avcodec_find_decoder(par->codec_id);
    AVCodecContext *dec = NULL;
    AVFrame *f = av_frame_alloc();
    struct enc e = {.pkt = av_packet_alloc(), .delay = delay, .emit = emit, .arg = arg};
    int rc = -1, r;
    bool first = true;
    e.length_prefixed = (par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_HEVC) &&
                        par->extradata_size > 0 && par->extradata[0] == 1;
    e.duration = frame_rate.num > 0 ? av_rescale_q(1, av_inv_q(frame_rate), tb) : 0;
    if (!dcodec || !(dec = avcodec_alloc_context3(dcodec)) ||
        avcodec_parameters_to_context(dec, par) < 0) {
        snprintf(err, errlen, "no decoder for this codec");
        goto out;
    }
    dec->pkt_timebase = tb;
    if (avcodec_open2(dec, dcodec, NULL) < 0) {
        snprintf(err, errlen, "cannot open the decoder");
        goto out;
    }
    for (size_t i = 0; i <= n; i++) {
        if (avcodec_send_packet(dec, i < n ? gop[i] : NULL) < 0) {
            snprintf(err, errlen, "cannot decode an edge GOP");
            goto out;
        }
        while ((r = avcodec_receive_frame(dec, f)) == 0) {
            int64_t pts = f->best_effort_timestamp;
            if (pts >= lo && pts < hi) {
                if (!e.ctx && open_encoder(&e, par, tb, f)) {
                    snprintf(err, errlen, "no encoder for this codec");
                    goto out;
                }
                f->pts = pts;
                f->pict_type = first ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
                first = false;
                if (avcodec_send_frame(e.ctx, f) < 0 || (r = drain_encoder(&e))) {
                    if (r > 0)
                        rc = r;
                    else
                        snprintf(err, errlen, "cannot encode an edge GOP");
                    goto out;
                }
            }
            av_frame_unref(f);
        }
        if (r != AVERROR(EAGAIN) && r != AVERROR_EOF) {
            snprintf(err, errlen, "cannot decode an edge GOP");
            goto out;
        }
    }
    if (e.ctx && (avcodec_send_frame(e.ctx, NULL) < 0 || (r = drain_encoder(&e)))) {
        if (r > 0)
            rc = r;
        else
            snprintf(err, errlen, "cannot finish an edge GOP");
        goto out;
    }
    rc = 0;
out:
    avcodec_free_context(&dec);
    avcodec_free_context(&e.ctx);
    av_packet_free(&e.pkt);
    av_frame_free(&f);
    return rc;
}
