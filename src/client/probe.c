/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/probe.h"

#include <libavutil/pixdesc.h>

static const struct {
    enum AVCodecID id;
    const char *mime;
} CODECS[] = {
    {AV_CODEC_ID_H264, "video/h264"},       {AV_CODEC_ID_HEVC, "video/h265"},
    {AV_CODEC_ID_MPEG2VIDEO, "video/mp2v"}, {AV_CODEC_ID_MPEG1VIDEO, "video/mp1v"},
    {AV_CODEC_ID_VP8, "video/vp8"},         {AV_CODEC_ID_VP9, "video/vp9"},
    {AV_CODEC_ID_AV1, "video/av1"},         {AV_CODEC_ID_PRORES, "video/prores"},
    {AV_CODEC_ID_MJPEG, "video/jpeg"},      {AV_CODEC_ID_AAC, "audio/aac"},
    {AV_CODEC_ID_MP3, "audio/mpeg"},        {AV_CODEC_ID_MP2, "audio/mpeg"},
    {AV_CODEC_ID_AC3, "audio/ac3"},         {AV_CODEC_ID_EAC3, "audio/eac3"},
    {AV_CODEC_ID_OPUS, "audio/opus"},       {AV_CODEC_ID_FLAC, "audio/flac"},
    {AV_CODEC_ID_PCM_S16BE, "audio/L16"},   {AV_CODEC_ID_PCM_S24BE, "audio/L24"},
};

const char *tams_probe_codec_mime(enum AVCodecID id)
{
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(CODECS); i++)
        if (CODECS[i].id == id)
            return CODECS[i].mime;
    return NULL;
}

static json_object *rational(int num, int den)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "numerator", json_object_new_int(num));
    json_object_object_add(r, "denominator", json_object_new_int(den));
    return r;
}

static void video_params(const AVStream *st, json_object *ep)
{
    const AVCodecParameters *p = st->codecpar;
    json_object_object_add(ep, "frame_width", json_object_new_int(p->width));
    json_object_object_add(ep, "frame_height", json_object_new_int(p->height));
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fr.num > 0 && fr.den > 0) {
        av_reduce(&fr.num, &fr.den, fr.num, fr.den, INT32_MAX);
        json_object_object_add(ep, "frame_rate", rational(fr.num, fr.den));
    }
    const char *il = NULL;
    switch (p->field_order) {
    case AV_FIELD_PROGRESSIVE:
        il = "progressive";
        break;
    case AV_FIELD_TT:
    case AV_FIELD_TB:
        il = "interlaced_tff";
        break;
    case AV_FIELD_BB:
    case AV_FIELD_BT:
        il = "interlaced_bff";
        break;
    default:
        break;
    }
    if (il)
        json_object_object_add(ep, "interlace_mode", json_object_new_string(il));
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)p->format);
    int depth = p->bits_per_raw_sample > 0 ? p->bits_per_raw_sample : d ? d->comp[0].depth : 0;
    if (depth > 0)
        json_object_object_add(ep, "bit_depth", json_object_new_int(depth));
    if (d && !(d->flags & AV_PIX_FMT_FLAG_PAL) && d->nb_components >= 3) {
        bool rgb = d->flags & AV_PIX_FMT_FLAG_RGB;
        json_object_object_add(ep, "component_type", json_object_new_string(rgb ? "RGB" : "YCbCr"));
        if (!rgb) {
            json_object_object_add(ep, "horiz_chroma_subs",
                                   json_object_new_int(1 << d->log2_chroma_w));
            json_object_object_add(ep, "vert_chroma_subs",
                                   json_object_new_int(1 << d->log2_chroma_h));
        }
    }
    const char *cs = NULL;
    switch (p->color_primaries) {
    case AVCOL_PRI_BT709:
        cs = "BT709";
        break;
    case AVCOL_PRI_BT470BG:
    case AVCOL_PRI_SMPTE170M:
        cs = "BT601";
        break;
    case AVCOL_PRI_BT2020:
        cs = "BT2020";
        break;
    default:
        break;
    }
    if (cs)
        json_object_object_add(ep, "colorspace", json_object_new_string(cs));
    if (p->sample_aspect_ratio.num > 0 && p->sample_aspect_ratio.den > 0)
        json_object_object_add(ep, "pixel_aspect_ratio",
                               rational(p->sample_aspect_ratio.num, p->sample_aspect_ratio.den));
}

static void audio_params(const AVStream *st, json_object *ep)
{
    const AVCodecParameters *p = st->codecpar;
    json_object_object_add(ep, "sample_rate", json_object_new_int(p->sample_rate));
    json_object_object_add(ep, "channels", json_object_new_int(p->ch_layout.nb_channels));
    /* Only codecs that have a sample depth say so (PCM, FLAC); AAC and the like do not. */
    if (p->bits_per_raw_sample > 0)
        json_object_object_add(ep, "bit_depth", json_object_new_int(p->bits_per_raw_sample));
}

json_object *tams_probe_flow(const AVStream *st, const char *container)
{
    const AVCodecParameters *p = st->codecpar;
    const char *mime = tams_probe_codec_mime(p->codec_id);
    bool video = p->codec_type == AVMEDIA_TYPE_VIDEO, audio = p->codec_type == AVMEDIA_TYPE_AUDIO;
    if (!mime || !(video || audio) || (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return NULL;
    json_object *f = json_object_new_object(), *ep = json_object_new_object();
    json_object_object_add(f, "format",
                           json_object_new_string(video ? TAMS_FORMAT_VIDEO : TAMS_FORMAT_AUDIO));
    json_object_object_add(f, "codec", json_object_new_string(mime));
    json_object_object_add(f, "container", json_object_new_string(container));
    if (video)
        video_params(st, ep);
    else
        audio_params(st, ep);
    json_object_object_add(f, "essence_parameters", ep);
    if (p->bit_rate > 0)
        json_object_object_add(f, "avg_bit_rate",
                               json_object_new_int64((p->bit_rate + 500) / 1000));
    return f;
}
