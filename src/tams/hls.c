/* SPDX-License-Identifier: Apache-2.0 */
/* hls.c - media and multivariant playlists as text; see hls.h. */
#include "core/common.h"
#include "tams/hls.h"

#include <time.h>

#define NS 1000000000LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

void tams_hls_pdt(int64_t tai_ns, char out[TAMS_HLS_PDT_MAX])
{
    int64_t utc = tai_ns - TAMS_HLS_TAI_UTC_NS;
    int64_t secs = floor_div(utc, NS);
    int64_t ms = (utc - secs * NS) / 1000000;
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, TAMS_HLS_PDT_MAX, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, TAMS_HLS_PDT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
}

/* An exact decimal of ns as seconds, at least three decimals: "2.000", "1.999999999". */
static void add_seconds(struct tams_buf *b, int64_t ns)
{
    char frac[16];
    int n;
    snprintf(frac, sizeof(frac), "%09lld", (long long)(ns % NS));
    n = 9;
    while (n > 3 && frac[n - 1] == '0')
        n--;
    tams_buf_addf(b, "%lld.%.*s", (long long)(ns / NS), n, frac);
}

void tams_hls_media_init(struct tams_hls_media *m, struct tams_buf *out, int64_t nominal_ns)
{
    tams_buf_reset(out);
    *m = (struct tams_hls_media){._out = out,
                                 ._nominal = nominal_ns > 0 ? nominal_ns : 2 * NS,
                                 ._next = INT64_MIN,
                                 ._longest = 0,
                                 ._first = INT64_MIN,
                                 ._nseg = 0};
}

static void add_extinf(struct tams_hls_media *m, int64_t ns)
{
    tams_buf_addstr(m->_out, "#EXTINF:");
    add_seconds(m->_out, ns);
    tams_buf_addstr(m->_out, ",\n");
    if (ns > m->_longest)
        m->_longest = ns;
    m->_nseg++;
}

void tams_hls_media_segment(struct tams_hls_media *m, int64_t start_ns, int64_t end_ns,
                            const char *uri)
{
    char pdt[TAMS_HLS_PDT_MAX];
    bool hole = false;

    if (m->_next != INT64_MIN && start_ns < m->_next)
        start_ns = m->_next; /* overlaps are refused at registration; stay monotonic anyway */
    if (end_ns <= start_ns)
        return;
    /* A hole: gap segments of at most the nominal duration, so the timeline stays continuous. */
    while (m->_next != INT64_MIN && m->_next < start_ns) {
        int64_t len = start_ns - m->_next;
        if (len > m->_nominal)
            len = m->_nominal;
        tams_buf_addstr(m->_out, "#EXT-X-GAP\n");
        add_extinf(m, len);
        tams_buf_addstr(m->_out, TAMS_HLS_GAP_URI "\n");
        m->_next += len;
        hole = true;
    }
    if (m->_next == INT64_MIN) {
        m->_first = start_ns;
        hole = true;
    }
    if (hole) {
        tams_hls_pdt(start_ns, pdt);
        tams_buf_addf(m->_out, "#EXT-X-PROGRAM-DATE-TIME:%s\n", pdt);
    }
    add_extinf(m, end_ns - start_ns);
    tams_buf_addstr(m->_out, uri);
    tams_buf_addch(m->_out, '\n');
    m->_next = end_ns;
}

size_t tams_hls_media_count(const struct tams_hls_media *m)
{
    return m->_nseg;
}

int64_t tams_hls_media_first(const struct tams_hls_media *m)
{
    return m->_first;
}

int64_t tams_hls_media_sequence(int64_t start_ns, int64_t nominal_ns)
{
    int64_t q;
    if (nominal_ns <= 0)
        return 0;
    q = floor_div(start_ns, nominal_ns);
    return q < 0 ? 0 : q; /* the sequence number is a decimal-integer: never negative */
}

int tams_hls_media_finish(struct tams_hls_media *m, int64_t media_sequence, bool vod)
{
    struct tams_buf head = TAMS_BUF_INIT(512);
    struct tams_buf *out = m->_out;
    int64_t target = (m->_longest + NS / 2) / NS; /* EXTINF rounded may not exceed it */
    char *room;
    int rc = 0;

    if (target < 1)
        target = 1;
    tams_buf_addf(&head, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%lld\n",
                  (long long)target);
    tams_buf_addf(&head, "#EXT-X-MEDIA-SEQUENCE:%lld\n", (long long)media_sequence);
    if (vod)
        tams_buf_addstr(&head, "#EXT-X-PLAYLIST-TYPE:VOD\n");
    tams_buf_addstr(&head, "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (vod)
        tams_buf_addstr(out, "#EXT-X-ENDLIST\n");
    /* The header goes in front with one move of what is written: linear, one buffer. */
    room = tams_buf_reserve(out, head.len);
    if (!room || !tams_buf_ok(&head)) {
        rc = TAMS_ERR_TOOBIG;
        goto out;
    }
    memmove(out->data + head.len, out->data, out->len);
    memcpy(out->data, head.data, head.len);
    tams_buf_commit(out, head.len);
out:
    tams_buf_release(&head);
    if (!tams_buf_ok(out))
        rc = TAMS_ERR_TOOBIG;
    return rc;
}

/* ---- codec strings ------------------------------------------------------------------------- */

static bool get_int(json_object *o, const char *key, int64_t *out)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_int64(v);
    return true;
}

int tams_hls_codec_string(const char *codec, json_object *essence, char out[TAMS_HLS_CODECS_MAX])
{
    json_object *p = NULL;
    int64_t a, b, c;

    out[0] = '\0';
    if (!codec)
        return TAMS_ERR_NOTFOUND;
    if (strcmp(codec, "video/h264") == 0) {
        if (essence && json_object_object_get_ex(essence, "avc_parameters", &p) &&
            get_int(p, "profile", &a) && get_int(p, "flags", &b) && get_int(p, "level", &c) &&
            a >= 0 && a <= 255 && b >= 0 && b <= 255 && c >= 0 && c <= 255)
            snprintf(out, TAMS_HLS_CODECS_MAX, "avc1.%02X%02X%02X", (unsigned)a, (unsigned)b,
                     (unsigned)c);
        else
            snprintf(out, TAMS_HLS_CODECS_MAX, "avc1.640028");
        return 0;
    }
    if (strcmp(codec, "video/h265") == 0 || strcmp(codec, "video/hevc") == 0) {
        snprintf(out, TAMS_HLS_CODECS_MAX, "hvc1.1.6.L120.90");
        return 0;
    }
    if (strcmp(codec, "audio/aac") == 0 || strcmp(codec, "audio/mp4a-latm") == 0) {
        if (!(essence && json_object_object_get_ex(essence, "codec_parameters", &p) &&
              get_int(p, "mp4_oti", &a) && a > 0 && a < 256))
            a = 2;
        snprintf(out, TAMS_HLS_CODECS_MAX, "mp4a.40.%d", (int)a);
        return 0;
    }
    if (strcmp(codec, "audio/mpeg") == 0 || strcmp(codec, "audio/mp3") == 0) {
        snprintf(out, TAMS_HLS_CODECS_MAX, "mp4a.40.34");
        return 0;
    }
    if (strcmp(codec, "audio/ac3") == 0) {
        snprintf(out, TAMS_HLS_CODECS_MAX, "ac-3");
        return 0;
    }
    if (strcmp(codec, "audio/eac3") == 0) {
        snprintf(out, TAMS_HLS_CODECS_MAX, "ec-3");
        return 0;
    }
    return TAMS_ERR_NOTFOUND;
}

/* ---- multivariant -------------------------------------------------------------------------- */

/* A quoted-string may hold no '"', CR or LF (RFC 8216 §4.2): those are dropped. */
static void add_quoted(struct tams_buf *b, const char *s)
{
    tams_buf_addch(b, '"');
    for (; *s; s++)
        if (*s != '"' && *s != '\r' && *s != '\n')
            tams_buf_addch(b, *s);
    tams_buf_addch(b, '"');
}

int tams_hls_multivariant(struct tams_buf *out, const struct tams_hls_rendition *r, size_t nr,
                          const struct tams_hls_variant *v, size_t nv)
{
    tams_buf_reset(out);
    tams_buf_addstr(out, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (size_t i = 0; i < nr; i++) {
        tams_buf_addstr(out, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=");
        add_quoted(out, r[i].group);
        tams_buf_addstr(out, ",NAME=");
        add_quoted(out, r[i].name);
        if (r[i].language) {
            tams_buf_addstr(out, ",LANGUAGE=");
            add_quoted(out, r[i].language);
        }
        tams_buf_addf(out, ",DEFAULT=%s,AUTOSELECT=YES,URI=", r[i].is_default ? "YES" : "NO");
        add_quoted(out, r[i].uri);
        tams_buf_addch(out, '\n');
    }
    for (size_t i = 0; i < nv; i++) {
        tams_buf_addf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%lld", (long long)v[i].bandwidth);
        if (v[i].avg_bandwidth > 0)
            tams_buf_addf(out, ",AVERAGE-BANDWIDTH=%lld", (long long)v[i].avg_bandwidth);
        if (v[i].codecs && *v[i].codecs) {
            tams_buf_addstr(out, ",CODECS=");
            add_quoted(out, v[i].codecs);
        }
        if (v[i].width > 0 && v[i].height > 0)
            tams_buf_addf(out, ",RESOLUTION=%lldx%lld", (long long)v[i].width,
                          (long long)v[i].height);
        if (v[i].fr_num > 0 && v[i].fr_den > 0)
            tams_buf_addf(out, ",FRAME-RATE=%.3f", (double)v[i].fr_num / (double)v[i].fr_den);
        if (v[i].audio_group) {
            tams_buf_addstr(out, ",AUDIO=");
            add_quoted(out, v[i].audio_group);
        }
        tams_buf_addch(out, '\n');
        tams_buf_addstr(out, v[i].uri);
        tams_buf_addch(out, '\n');
    }
    return tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
}
