/* SPDX-License-Identifier: Apache-2.0 */
/* test_hls.c - the pure playlist writer (tams/hls.h): exact text of media and multivariant
 * playlists, gaps, EXTINF precision, dates, sequence numbers and codec strings. */
#include "core/common.h"
#include "tams/hls.h"

#include "check.h"

#define S 1000000000LL

static void test_media_vod(void)
{
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);
    struct tams_hls_media m;
    /* 2023-11-14T22:13:20Z UTC is 1700000000 s; TAI is 37 s ahead. */
    int64_t t0 = (1700000000LL + 37) * S;

    tams_hls_media_init(&m, &out, 2 * S);
    tams_hls_media_segment(&m, t0, t0 + 2 * S, "a.ts");
    tams_hls_media_segment(&m, t0 + 2 * S, t0 + 4 * S - 1, "b.ts");
    /* a hole of 3 s - 1 ns: two gap segments, the second one short */
    tams_hls_media_segment(&m, t0 + 7 * S - 2, t0 + 9 * S + 500000000, "c.ts");
    CHECK_INT_EQ(tams_hls_media_count(&m), 5);
    CHECK_INT_EQ(tams_hls_media_first(&m), t0);
    CHECK_INT_EQ(tams_hls_media_finish(&m, tams_hls_media_sequence(t0, 2 * S), true), 0);
    CHECK_STR_EQ(out.data, "#EXTM3U\n"
                           "#EXT-X-VERSION:3\n"
                           "#EXT-X-TARGETDURATION:3\n"
                           "#EXT-X-MEDIA-SEQUENCE:850000018\n"
                           "#EXT-X-PLAYLIST-TYPE:VOD\n"
                           "#EXT-X-INDEPENDENT-SEGMENTS\n"
                           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
                           "#EXTINF:2.000,\n"
                           "a.ts\n"
                           "#EXTINF:1.999999999,\n"
                           "b.ts\n"
                           "#EXT-X-GAP\n"
                           "#EXTINF:2.000,\n"
                           "gap.ts\n"
                           "#EXT-X-GAP\n"
                           "#EXTINF:0.999999999,\n"
                           "gap.ts\n"
                           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:26.999Z\n"
                           "#EXTINF:2.500000002,\n"
                           "c.ts\n"
                           "#EXT-X-ENDLIST\n");
    tams_buf_release(&out);
}

static void test_media_live_and_empty(void)
{
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);
    struct tams_hls_media m;

    tams_hls_media_init(&m, &out, 0); /* no nominal duration: 2 s */
    CHECK_INT_EQ(tams_hls_media_first(&m), INT64_MIN);
    CHECK_INT_EQ(tams_hls_media_finish(&m, 0, false), 0);
    CHECK_STR_EQ(out.data, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"
                           "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    /* an overlap is clipped; a segment inside the previous one is dropped */
    tams_hls_media_init(&m, &out, 2 * S);
    tams_hls_media_segment(&m, 37 * S, 39 * S + 600000000, "x");
    tams_hls_media_segment(&m, 39 * S, 41 * S, "y");
    tams_hls_media_segment(&m, 40 * S, 41 * S, "z");
    CHECK_INT_EQ(tams_hls_media_finish(&m, 7, false), 0);
    CHECK_STR_EQ(out.data, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n"
                           "#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                           "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z\n"
                           "#EXTINF:2.600,\nx\n#EXTINF:1.400,\ny\n");
    tams_buf_release(&out);
    /* over the cap: an error, never a truncated playlist that looks whole */
    out = (struct tams_buf)TAMS_BUF_INIT(64);
    tams_hls_media_init(&m, &out, 2 * S);
    tams_hls_media_segment(&m, 0, 2 * S, "a-rather-long-uri-that-fills-the-small-buffer.ts");
    CHECK_INT_EQ(tams_hls_media_finish(&m, 0, true), TAMS_ERR_TOOBIG);
    tams_buf_release(&out);
}

static void test_sequence_and_pdt(void)
{
    char pdt[TAMS_HLS_PDT_MAX];
    CHECK_INT_EQ(tams_hls_media_sequence(10 * S, 2 * S), 5);
    CHECK_INT_EQ(tams_hls_media_sequence(11 * S, 2 * S), 5);
    CHECK_INT_EQ(tams_hls_media_sequence(-3 * S, 2 * S), 0);
    CHECK_INT_EQ(tams_hls_media_sequence(5 * S, 0), 0);
    tams_hls_pdt(0, pdt);
    CHECK_STR_EQ(pdt, "1969-12-31T23:59:23.000Z");
    tams_hls_pdt(37 * S + 1500000, pdt);
    CHECK_STR_EQ(pdt, "1970-01-01T00:00:00.001Z");
    tams_hls_pdt(36 * S + 999999999, pdt);
    CHECK_STR_EQ(pdt, "1969-12-31T23:59:59.999Z");
}

static void test_codecs(void)
{
    char c[TAMS_HLS_CODECS_MAX];
    json_object *ess =
        json_tokener_parse("{\"avc_parameters\":{\"profile\":100,\"level\":31,\"flags\":0},"
                           "\"codec_parameters\":{\"mp4_oti\":5}}");
    json_object *bad = json_tokener_parse("{\"avc_parameters\":{\"profile\":300,\"level\":31,"
                                          "\"flags\":0}}");
    CHECK_INT_EQ(tams_hls_codec_string("video/h264", ess, c), 0);
    CHECK_STR_EQ(c, "avc1.64001F");
    CHECK_INT_EQ(tams_hls_codec_string("video/h264", NULL, c), 0);
    CHECK_STR_EQ(c, "avc1.640028");
    CHECK_INT_EQ(tams_hls_codec_string("video/h264", bad, c), 0);
    CHECK_STR_EQ(c, "avc1.640028");
    CHECK_INT_EQ(tams_hls_codec_string("audio/aac", ess, c), 0);
    CHECK_STR_EQ(c, "mp4a.40.5");
    CHECK_INT_EQ(tams_hls_codec_string("audio/aac", NULL, c), 0);
    CHECK_STR_EQ(c, "mp4a.40.2");
    CHECK_INT_EQ(tams_hls_codec_string("video/raw", NULL, c), TAMS_ERR_NOTFOUND);
    CHECK_STR_EQ(c, "");
    CHECK_INT_EQ(tams_hls_codec_string(NULL, NULL, c), TAMS_ERR_NOTFOUND);
    json_object_put(ess);
    json_object_put(bad);
}

static void test_multivariant(void)
{
    struct tams_buf out = TAMS_BUF_INIT(1 << 16);
    struct tams_hls_rendition r[] = {
        {.uri = "a.m3u8", .group = "audio", .name = "main \"mix\"", .is_default = true},
        {.uri = "b.m3u8", .group = "audio", .name = "alt", .language = "en"},
    };
    struct tams_hls_variant v[] = {
        {.uri = "v.m3u8",
         .bandwidth = 528000,
         .avg_bandwidth = 428000,
         .width = 320,
         .height = 240,
         .fr_num = 30000,
         .fr_den = 1001,
         .codecs = "avc1.64001E,mp4a.40.2",
         .audio_group = "audio"},
        {.uri = "w.m3u8", .bandwidth = 1000},
    };
    CHECK_INT_EQ(tams_hls_multivariant(&out, r, 2, v, 2), 0);
    CHECK_STR_EQ(out.data,
                 "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                 "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"main mix\",DEFAULT=YES,"
                 "AUTOSELECT=YES,URI=\"a.m3u8\"\n"
                 "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"alt\",LANGUAGE=\"en\","
                 "DEFAULT=NO,AUTOSELECT=YES,URI=\"b.m3u8\"\n"
                 "#EXT-X-STREAM-INF:BANDWIDTH=528000,AVERAGE-BANDWIDTH=428000,"
                 "CODECS=\"avc1.64001E,mp4a.40.2\",RESOLUTION=320x240,FRAME-RATE=29.970,"
                 "AUDIO=\"audio\"\nv.m3u8\n"
                 "#EXT-X-STREAM-INF:BANDWIDTH=1000\nw.m3u8\n");
    tams_buf_release(&out);
}

int main(void)
{
    RUN(test_media_vod);
    RUN(test_media_live_and_empty);
    RUN(test_sequence_and_pdt);
    RUN(test_codecs);
    RUN(test_multivariant);
    return check_report();
}
