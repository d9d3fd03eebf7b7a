/* SPDX-License-Identifier: Apache-2.0 */
/* test_flow.c - Flow validation (spec examples, mutations), index building and stripping. */
#include "core/common.h"
#include "core/buf.h"
#include "tams/flow.h"
#include "check.h"

#include <dirent.h>
#include <json-c/json_pointer.h>

/* ---- spec location ------------------------------------------------------------------------ */

/* The spec folder (TimeAddressableMediaStore.yaml, schemas/, examples/) that CMake found and
 * passes in; cmake/TamsSpec.cmake says where it looks. */
#ifndef TAMS_SPEC_DIR
#error "TAMS_SPEC_DIR must name the TAMS 7.0 spec folder (the build defines it)"
#endif

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (!o)
        fprintf(stderr, "test bug: cannot parse %s\n", text);
    return o;
}

static bool why_has(const struct tams_buf *why, const char *needle)
{
    return strstr(why->data, needle) != NULL;
}

/* ---- the spec's examples ------------------------------------------------------------------ */

/* Examples that are themselves wrong. Both multi-essence examples list the Flow's own id
 * (e85efab4-...-d38860) as their third flow_collection member, role "subtitles": a Flow that
 * collects itself is a cycle (notes Appendix A item 6; section 2.5 decides to reject it with 400),
 * and the subtitles Flow the authors meant is the data Flow of flow-get-200-data-ttml.json,
 * which reuses the same id. flow-get-200-data-ttml.json's own collected_by lists itself too, but
 * collected_by is server-managed and not checked for cycles, so that example stays valid. */
static const char *const buggy_examples[] = {"flow-get-200-multi.json", "flow-put-multi.json"};

static bool is_flow_example(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || strcmp(name + n - 5, ".json") != 0)
        return false;
    return strncmp(name, "flow-get-200-", 13) == 0 || strcmp(name, "flow-put.json") == 0 ||
           strcmp(name, "flow-put-multi.json") == 0 || strcmp(name, "flow-put-201.json") == 0;
}

static void test_examples(void)
{
    char dir[4200];
    DIR *d;
    struct dirent *e;
    int nvalid = 0, nbuggy = 0;

    snprintf(dir, sizeof(dir), "%s/examples", TAMS_SPEC_DIR);
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open '%s' (configure with TAMS_SPEC_DIR)\n", dir);
        CHECK(d != NULL);
        return;
    }
    while ((e = readdir(d))) {
        char path[4600];
        struct tams_buf why = TAMS_BUF_INIT(4096);
        struct tams_flow_index idx;
        json_object *doc;
        bool buggy = false;
        int rc;

        if (!is_flow_example(e->d_name))
            continue;
        for (size_t i = 0; i < TAMS_ARRAY_SIZE(buggy_examples); i++)
            buggy |= strcmp(e->d_name, buggy_examples[i]) == 0;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        doc = json_object_from_file(path);
        CHECK(doc != NULL);
        if (!doc)
            continue;
        rc = tams_flow_validate(doc, &why);
        if (buggy) {
            nbuggy++;
            CHECK_INT_EQ(rc, TAMS_ERR_VALIDATION);
            CHECK_STR_EQ(why.data, "flow_collection[2].id must not be the flow's own id");
        } else {
            nvalid++;
            if (rc)
                fprintf(stderr, "%s: %s\n", e->d_name, why.data);
            CHECK_INT_EQ(rc, 0);
            CHECK_INT_EQ(why.len, 0);
            /* Still valid once the server members are gone, and indexable. */
            tams_flow_strip_server_members(doc);
            CHECK_INT_EQ(tams_flow_validate(doc, &why), 0);
            CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
            CHECK(idx.id && idx.source_id && idx.format);
            tams_flow_index_release(&idx);
        }
        json_object_put(doc);
        tams_buf_release(&why);
    }
    closedir(d);
    CHECK_INT_EQ(nbuggy, 2);
    CHECK(nvalid >= 9); /* 6 valid flow-get-200-*, flow-put.json, flow-put-201.json, ... */
}

/* ---- mutations ---------------------------------------------------------------------------- */

#define VIDEO_ID "4f79cfd1-c057-47f4-8e4d-1b126ca7bf34"

static const char video_doc[] =
    "{\"id\":\"" VIDEO_ID "\",\"source_id\":\"2aa143ac-0ab7-4d75-bc32-5c00c13d186f\","
    "\"format\":\"urn:x-nmos:format:video\",\"label\":\"bbb\",\"description\":\"Big Buck Bunny\","
    "\"created_by\":\"alice\",\"updated_by\":\"bob\","
    "\"tags\":{\"input_quality\":\"contribution\",\"_tams_segmentation_rate\":\"10\"},"
    "\"metadata_version\":\"v1\",\"generation\":0,\"created\":\"2008-05-27T18:51:00Z\","
    "\"metadata_updated\":\"2023-09-14T09:45:26Z\",\"segments_updated\":\"2023-09-14T09:45:26Z\","
    "\"read_only\":true,\"codec\":\"video/h264\",\"container\":\"video/mp2t\","
    "\"avg_bit_rate\":2479,\"max_bit_rate\":5000,"
    "\"segment_duration\":{\"numerator\":2,\"denominator\":1},\"timerange\":\"[0:0_10:0)\","
    "\"flow_collection\":[{\"id\":\"6101df05-06bb-41b8-8af4-cf7cd33df209\",\"role\":\"audio\","
    "\"container_mapping\":{\"track_index\":1}}],"
    "\"collected_by\":[\"e85efab4-993b-4ad6-9af3-4cd8d0d38860\"],"
    "\"container_mapping\":{\"track_index\":0,\"format_track_index\":0,"
    "\"audio_track\":{\"channel_numbers\":[0,1],\"channel_range\":\"0_1\"},"
    "\"mp2ts_container\":{\"pid\":256},"
    "\"mxf_container\":{\"package_uid\":\"urn:uuid:4f79cfd1-c057-47f4-8e4d-1b126ca7bf34\","
    "\"track_id\":1},\"isobmff_container\":{\"track_id\":1}},"
    "\"essence_parameters\":{\"frame_rate\":{\"numerator\":24,\"denominator\":1},"
    "\"frame_width\":1280,\"frame_height\":720,\"bit_depth\":8,"
    "\"interlace_mode\":\"progressive\",\"colorspace\":\"BT709\","
    "\"transfer_characteristic\":\"SDR\",\"aspect_ratio\":{\"numerator\":16,\"denominator\":9},"
    "\"pixel_aspect_ratio\":{\"numerator\":1,\"denominator\":1},\"component_type\":\"YCbCr\","
    "\"horiz_chroma_subs\":2,\"vert_chroma_subs\":2,\"unc_parameters\":{\"unc_type\":\"UYVY\"},"
    "\"avc_parameters\":{\"profile\":100,\"level\":31,\"flags\":0}}}";

static const char audio_doc[] =
    "{\"id\":\"6101df05-06bb-41b8-8af4-cf7cd33df209\","
    "\"source_id\":\"41d7f7eb-c48d-4513-9b37-17b418d26d7f\",\"format\":\"urn:x-nmos:format:audio\","
    "\"codec\":\"audio/aac\",\"essence_parameters\":{\"sample_rate\":48000,\"channels\":2,"
    "\"bit_depth\":24,\"codec_parameters\":{\"coded_frame_size\":1024,\"mp4_oti\":2},"
    "\"unc_parameters\":{\"unc_type\":\"interleaved\"}}}";

static const char image_doc[] =
    "{\"id\":\"4f79cfd1-c057-47f4-8e4d-1b126ca7bf33\","
    "\"source_id\":\"2aa143ac-0ab7-4d75-bc32-5c00c13d186e\",\"format\":\"urn:x-tam:format:image\","
    "\"codec\":\"image/jpeg\",\"container\":\"image/jpeg\",\"essence_parameters\":{"
    "\"frame_width\":640,\"frame_height\":480,\"aspect_ratio\":{\"numerator\":4,\"denominator\":3}}}";

static const char data_doc[] =
    "{\"id\":\"e85efab4-993b-4ad6-9af3-4cd8d0d38861\","
    "\"source_id\":\"a77d0061-0878-4e8a-a114-772d03f952c1\",\"format\":\"urn:x-nmos:format:data\","
    "\"codec\":\"application/ttml+xml\","
    "\"essence_parameters\":{\"data_type\":\"urn:x-tams:data:subtitle\"}}";

#define MULTI_ID "8159b781-6033-42e8-b3a1-8a879af5e1aa"

static const char multi_doc[] =
    "{\"id\":\"" MULTI_ID "\",\"source_id\":\"3a24e39d-c6cf-4632-8c9e-36a8d305f007\","
    "\"format\":\"urn:x-nmos:format:multi\",\"container\":\"video/mp2t\","
    "\"flow_collection\":[{\"id\":\"32b75860-83e5-48c9-8d6b-de46bdbc7f80\",\"role\":\"video\"},"
    "{\"id\":\"94996f2e-0cb5-43d3-ab6c-db5a9cf667aa\",\"role\":\"L\",\"container_mapping\":{"
    "\"track_index\":1,\"format_track_index\":0,\"mp2ts_container\":{\"pid\":257},"
    "\"audio_track\":{\"channel_numbers\":[0]},"
    "\"mxf_container\":{\"package_uid\":\"urn:smpte:umid:060a2b34.01010105.01010d20.13000000."
    "d2c9036c.8f195343.ab7014b2.ffa4b3a1\",\"track_id\":2}}}]}";

struct mutation {
    const char *base;
    const char *pointer; /* JSON pointer, no escapes */
    const char *value;   /* JSON text, or NULL to remove the member */
    const char *expect;  /* substring of why; NULL: the result must be valid */
};

/* Remove the member or array element at pointer. */
static int remove_at(json_object *doc, const char *pointer)
{
    char parent_ptr[256];
    const char *last = strrchr(pointer, '/');
    json_object *parent;
    snprintf(parent_ptr, sizeof(parent_ptr), "%.*s", (int)(last - pointer), pointer);
    if (json_pointer_get(doc, parent_ptr, &parent))
        return -1;
    if (json_object_is_type(parent, json_type_array))
        return json_object_array_del_idx(parent, strtoull(last + 1, NULL, 10), 1);
    if (!json_object_object_get_ex(parent, last + 1, NULL))
        return -1;
    json_object_object_del(parent, last + 1);
    return 0;
}

static json_object *mutate(const struct mutation *m)
{
    json_object *doc = parse(m->base);
    int rc;
    if (!doc)
        return NULL;
    if (m->value) {
        json_object *v = json_tokener_parse(m->value); /* NULL for "null" */
        rc = json_pointer_set(&doc, m->pointer, v);
        if (rc)
            json_object_put(v);
    } else {
        rc = remove_at(doc, m->pointer);
    }
    if (rc) {
        fprintf(stderr, "test bug: cannot apply %s\n", m->pointer);
        json_object_put(doc);
        return NULL;
    }
    return doc;
}

static const struct mutation invalid[] = {
    /* required members */
    {video_doc, "/id", NULL, "id is required"},
    {video_doc, "/source_id", NULL, "source_id is required"},
    {video_doc, "/format", NULL, "format is required"},
    {video_doc, "/codec", NULL, "codec is required"},
    {video_doc, "/essence_parameters", NULL, "essence_parameters is required"},
    {video_doc, "/essence_parameters/frame_width", NULL, "essence_parameters.frame_width"},
    {video_doc, "/essence_parameters/frame_height", NULL, "essence_parameters.frame_height"},
    /* UUIDs */
    {video_doc, "/id", "5", "id must be a UUID"},
    {video_doc, "/id", "\"4F79CFD1-C057-47F4-8E4D-1B126CA7BF34\"", "id must be a UUID"},
    {video_doc, "/id", "\"4f79cfd1-c057-67f4-8e4d-1b126ca7bf34\"", "id must be a UUID"},
    {video_doc, "/id", "\"4f79cfd1-c057-07f4-8e4d-1b126ca7bf34\"", "id must be a UUID"},
    {video_doc, "/id", "\"4f79cfd1-c057-47f4-ce4d-1b126ca7bf34\"", "id must be a UUID"},
    {video_doc, "/id", "\"{4f79cfd1-c057-47f4-8e4d-1b126ca7bf34}\"", "id must be a UUID"},
    {video_doc, "/source_id", "\"not-a-uuid\"", "source_id must be a UUID"},
    {video_doc, "/source_id", "null", "source_id must be a UUID"},
    /* format */
    {video_doc, "/format", "\"urn:x-nmos:format:image\"",
     "format must be one of urn:x-nmos:format:video, urn:x-tam:format:image"},
    {video_doc, "/format", "1", "format must be one of"},
    {multi_doc, "/format", "\"urn:x-nmos:format:Multi\"", "format must be one of"},
    /* plain strings and booleans */
    {video_doc, "/label", "5", "label must be a string"},
    {video_doc, "/description", "true", "description must be a string"},
    {video_doc, "/created_by", "1", "created_by must be a string"},
    {video_doc, "/updated_by", "[]", "updated_by must be a string"},
    {video_doc, "/metadata_version", "1", "metadata_version must be a string"},
    {video_doc, "/created", "5", "created must be a string"},
    {video_doc, "/metadata_updated", "false", "metadata_updated must be a string"},
    {video_doc, "/segments_updated", "0", "segments_updated must be a string"},
    {video_doc, "/timerange", "5", "timerange must be a string"},
    {video_doc, "/read_only", "\"true\"", "read_only must be a boolean"},
    {video_doc, "/read_only", "1", "read_only must be a boolean"},
    /* tags */
    {video_doc, "/tags", "[]", "tags must be an object"},
    {video_doc, "/tags/x", "5", "tags.x must be a string"},
    {video_doc, "/tags/x", "null", "tags.x must be a string"},
    {video_doc, "/tags/x", "{\"a\":\"b\"}", "tags.x must be a string"},
    {video_doc, "/tags/x", "[\"a\", 5]", "tags.x must be a string or an array of strings"},
    /* integers and minimums */
    {video_doc, "/generation", "-1", "generation must be an integer >= 0"},
    {video_doc, "/generation", "\"0\"", "generation must be an integer >= 0"},
    {video_doc, "/generation", "1.0", "generation must be an integer >= 0"},
    {video_doc, "/generation", "-99999999999999999999", "generation"},
    {video_doc, "/avg_bit_rate", "-1", "avg_bit_rate must be an integer >= 0"},
    {video_doc, "/avg_bit_rate", "\"128\"", "avg_bit_rate"},
    {video_doc, "/max_bit_rate", "-5", "max_bit_rate must be an integer >= 0"},
    {video_doc, "/max_bit_rate", "1.5", "max_bit_rate"},
    /* MIME */
    {video_doc, "/codec", "\"video h264\"", "codec must be a MIME type"},
    {video_doc, "/codec", "\"a/b/c\"", "codec must be a MIME type"},
    {video_doc, "/codec", "\"videoh264\"", "codec"},
    {video_doc, "/codec", "\"/h264\"", "codec"},
    {video_doc, "/codec", "\"video/\"", "codec"},
    {video_doc, "/codec", "\"\"", "codec"},
    {video_doc, "/codec", "5", "codec"},
    {video_doc, "/codec", "\"video/h264\\n\"", "codec"},
    {video_doc, "/codec", "\"video/h\\u00a0264\"", "codec"},
    {video_doc, "/codec", "\"video/h\\u2028264\"", "codec"},
    {video_doc, "/codec", "\"video/h264\\t\"", "codec"},
    {video_doc, "/container", "\"video mp2t\"", "container must be a MIME type"},
    {multi_doc, "/codec", "\"video h264\"", "codec must be a MIME type"},
    /* segment_duration */
    {video_doc, "/segment_duration", "1", "segment_duration must be an object"},
    {video_doc, "/segment_duration/numerator", "0", "segment_duration.numerator must be"},
    {video_doc, "/segment_duration/denominator", "0", "segment_duration.denominator must be"},
    {video_doc, "/segment_duration/numerator", NULL, "segment_duration.numerator is required"},
    /* flow_collection */
    {video_doc, "/flow_collection", "{}", "flow_collection must be an array"},
    {video_doc, "/flow_collection/0", "\"x\"", "flow_collection[0] must be an object"},
    {video_doc, "/flow_collection/0/id", NULL, "flow_collection[0].id is required"},
    {video_doc, "/flow_collection/0/id", "\"ABC\"", "flow_collection[0].id must be a UUID"},
    {video_doc, "/flow_collection/0/role", "3", "flow_collection[0].role must be a string"},
    {video_doc, "/flow_collection/0/id", "\"" VIDEO_ID "\"",
     "flow_collection[0].id must not be the flow's own id"},
    {multi_doc, "/flow_collection/1/id", "\"" MULTI_ID "\"",
     "flow_collection[1].id must not be the flow's own id"},
    {multi_doc, "/flow_collection/1/id", "\"94996F2E-0cb5-43d3-ab6c-db5a9cf667aa\"",
     "flow_collection[1].id must be a UUID"},
    {video_doc, "/flow_collection/0/container_mapping/track_index", "-1",
     "flow_collection[0].container_mapping.track_index must be an integer >= 0"},
    {multi_doc, "/flow_collection/1/container_mapping/track_index", "\"1\"",
     "flow_collection[1].container_mapping.track_index"},
    {multi_doc, "/flow_collection/1/container_mapping/mxf_container/package_uid",
     "\"urn:smpte:umid:0102\"", "flow_collection[1].container_mapping.mxf_container.package_uid"},
    {multi_doc, "/flow_collection/1/container_mapping", "[]",
     "flow_collection[1].container_mapping must be an object"},
    /* collected_by */
    {video_doc, "/collected_by", "\"x\"", "collected_by must be an array"},
    {video_doc, "/collected_by/0", "\"nope\"", "collected_by[0] must be a UUID"},
    /* container_mapping */
    {video_doc, "/container_mapping", "[]", "container_mapping must be an object"},
    {video_doc, "/container_mapping/track_index", "-1", "container_mapping.track_index"},
    {video_doc, "/container_mapping/format_track_index", "-1",
     "container_mapping.format_track_index"},
    {video_doc, "/container_mapping/audio_track", "5",
     "container_mapping.audio_track must be an object"},
    {video_doc, "/container_mapping/audio_track/channel_numbers", "[]",
     "container_mapping.audio_track.channel_numbers must not be empty"},
    {video_doc, "/container_mapping/audio_track/channel_numbers/1", "-1",
     "container_mapping.audio_track.channel_numbers[1] must be an integer >= 0"},
    {video_doc, "/container_mapping/audio_track/channel_numbers/0", "\"0\"",
     "container_mapping.audio_track.channel_numbers[0]"},
    {video_doc, "/container_mapping/audio_track/channel_range", "\"0-1\"",
     "container_mapping.audio_track.channel_range"},
    {video_doc, "/container_mapping/audio_track/channel_range", "\"0_1 \"", "channel_range"},
    {video_doc, "/container_mapping/audio_track/channel_range", "\"_1\"", "channel_range"},
    {video_doc, "/container_mapping/mp2ts_container/pid", "\"256\"",
     "container_mapping.mp2ts_container.pid must be an integer"},
    {video_doc, "/container_mapping/mxf_container/package_uid",
     "\"uuid:4f79cfd1-c057-47f4-8e4d-1b126ca7bf34\"",
     "container_mapping.mxf_container.package_uid"},
    {video_doc, "/container_mapping/mxf_container/package_uid",
     "\"urn:smpte:umid:060a2b34.01010105.01010d20.13000000.d2c9036c.8f195343.ab7014b2\"",
     "package_uid"},
    {video_doc, "/container_mapping/mxf_container/package_uid",
     "\"urn:smpte:umid:060a2b34\\n01010105.01010d20.13000000.d2c9036c.8f195343.ab7014b2."
     "ffa4b3a1\"",
     "package_uid"},
    {video_doc, "/container_mapping/mxf_container/track_id", "1.5",
     "container_mapping.mxf_container.track_id"},
    {video_doc, "/container_mapping/isobmff_container/track_id", "\"1\"",
     "container_mapping.isobmff_container.track_id"},
    /* video essence_parameters */
    {video_doc, "/essence_parameters", "[]", "essence_parameters must be an object"},
    {video_doc, "/essence_parameters/frame_width", "0",
     "essence_parameters.frame_width must be an integer > 0"},
    {video_doc, "/essence_parameters/frame_height", "-1080", "essence_parameters.frame_height"},
    {video_doc, "/essence_parameters/frame_width", "\"1920\"", "essence_parameters.frame_width"},
    {video_doc, "/essence_parameters/frame_width", "1920.0", "essence_parameters.frame_width"},
    {video_doc, "/essence_parameters/frame_width", "true", "essence_parameters.frame_width"},
    {video_doc, "/essence_parameters/bogus", "1", "essence_parameters.bogus is not allowed"},
    {video_doc, "/essence_parameters/sample_rate", "48000", "essence_parameters.sample_rate"},
    {video_doc, "/essence_parameters/frame_rate", "\"25\"",
     "essence_parameters.frame_rate must be an object"},
    {video_doc, "/essence_parameters/frame_rate/numerator", "0",
     "essence_parameters.frame_rate.numerator must be an integer > 0"},
    {video_doc, "/essence_parameters/frame_rate/denominator", "0",
     "essence_parameters.frame_rate.denominator must be an integer > 0"},
    {video_doc, "/essence_parameters/frame_rate/numerator", NULL,
     "essence_parameters.frame_rate.numerator is required"},
    {video_doc, "/essence_parameters/aspect_ratio/denominator", NULL,
     "essence_parameters.aspect_ratio.denominator is required"},
    {video_doc, "/essence_parameters/pixel_aspect_ratio/numerator", NULL,
     "essence_parameters.pixel_aspect_ratio.numerator is required"},
    {video_doc, "/essence_parameters/aspect_ratio/numerator", "-16",
     "essence_parameters.aspect_ratio.numerator"},
    {video_doc, "/essence_parameters/bit_depth", "0", "essence_parameters.bit_depth"},
    {video_doc, "/essence_parameters/interlace_mode", "\"Progressive\"",
     "essence_parameters.interlace_mode must be one of progressive"},
    {video_doc, "/essence_parameters/colorspace", "\"BT.709\"", "essence_parameters.colorspace"},
    {video_doc, "/essence_parameters/transfer_characteristic", "\"sdr\"",
     "essence_parameters.transfer_characteristic"},
    {video_doc, "/essence_parameters/component_type", "\"YUV\"",
     "essence_parameters.component_type"},
    {video_doc, "/essence_parameters/horiz_chroma_subs", "0",
     "essence_parameters.horiz_chroma_subs"},
    {video_doc, "/essence_parameters/vert_chroma_subs", "-2",
     "essence_parameters.vert_chroma_subs"},
    {video_doc, "/essence_parameters/unc_parameters/unc_type", "\"interleaved\"",
     "essence_parameters.unc_parameters.unc_type must be one of"},
    {video_doc, "/essence_parameters/unc_parameters/unc_type", NULL,
     "essence_parameters.unc_parameters.unc_type is required"},
    {video_doc, "/essence_parameters/avc_parameters/flags", NULL,
     "essence_parameters.avc_parameters.flags is required"},
    {video_doc, "/essence_parameters/avc_parameters/profile", "\"high\"",
     "essence_parameters.avc_parameters.profile must be an integer"},
    /* audio */
    {audio_doc, "/essence_parameters/sample_rate", NULL, "essence_parameters.sample_rate"},
    {audio_doc, "/essence_parameters/channels", NULL, "essence_parameters.channels is required"},
    {audio_doc, "/essence_parameters/channels", "0", "essence_parameters.channels"},
    {audio_doc, "/essence_parameters/sample_rate", "48000.5", "essence_parameters.sample_rate"},
    {audio_doc, "/essence_parameters/bit_depth", "-24", "essence_parameters.bit_depth"},
    {audio_doc, "/essence_parameters/frame_width", "1920", "essence_parameters.frame_width"},
    {audio_doc, "/essence_parameters/unc_parameters/unc_type", "\"UYVY\"",
     "essence_parameters.unc_parameters.unc_type must be one of interleaved, planar, pairs"},
    {audio_doc, "/essence_parameters/codec_parameters", "1",
     "essence_parameters.codec_parameters must be an object"},
    {audio_doc, "/essence_parameters/codec_parameters/mp4_oti", "\"2\"",
     "essence_parameters.codec_parameters.mp4_oti"},
    {audio_doc, "/essence_parameters/codec_parameters/coded_frame_size", "1024.0",
     "essence_parameters.codec_parameters.coded_frame_size"},
    {audio_doc, "/codec", NULL, "codec is required"},
    {audio_doc, "/essence_parameters", NULL, "essence_parameters is required"},
    /* image */
    {image_doc, "/essence_parameters/frame_width", NULL, "essence_parameters.frame_width"},
    {image_doc, "/essence_parameters/frame_rate", "{\"numerator\":1}",
     "essence_parameters.frame_rate is not allowed"},
    {image_doc, "/essence_parameters/aspect_ratio/numerator", NULL,
     "essence_parameters.aspect_ratio.numerator"},
    {image_doc, "/codec", NULL, "codec is required"},
    /* data */
    {data_doc, "/essence_parameters", NULL, "essence_parameters is required"},
    {data_doc, "/essence_parameters/data_type", "5", "essence_parameters.data_type"},
    {data_doc, "/essence_parameters/extra", "\"x\"", "essence_parameters.extra is not allowed"},
    {data_doc, "/codec", NULL, "codec is required"},
};

/* Variations the 7.0 schemas accept; each would be easy to reject by mistake. */
static const struct mutation valid[] = {
    {video_doc, "/x_vendor_extension", "{\"any\":[1,2]}", NULL},        /* top level is open */
    {video_doc, "/essence_parameters/avc_parameters/extra", "1", NULL}, /* nested: open */
    {video_doc, "/essence_parameters/unc_parameters/extra", "1", NULL},
    {video_doc, "/essence_parameters/frame_rate/extra", "1", NULL},
    {audio_doc, "/essence_parameters/codec_parameters/extra", "\"x\"", NULL},
    {video_doc, "/essence_parameters/frame_rate/denominator", NULL, NULL}, /* default 1 */
    {video_doc, "/segment_duration/denominator", NULL, NULL},
    {video_doc, "/avg_bit_rate", "9223372036854775807", NULL},
    {video_doc, "/avg_bit_rate", "18446744073709551615", NULL},
    {video_doc, "/max_bit_rate", "0", NULL},
    {video_doc, "/essence_parameters/frame_width", "99999999999999999999", NULL},
    {video_doc, "/essence_parameters/avc_parameters/profile", "-1", NULL},
    {video_doc, "/container_mapping/mp2ts_container/pid", "-1", NULL},
    {video_doc, "/timerange", "\"not checked: server-managed\"", NULL},
    {video_doc, "/created", "\"2023-12-14T16:34:58.131620\"", NULL},
    {video_doc, "/tags", "{}", NULL},
    {video_doc, "/tags/empty", "\"\"", NULL},
    {video_doc, "/flow_collection", "[]", NULL},
    {video_doc, "/collected_by/0", "\"" VIDEO_ID "\"", NULL},
    {video_doc, "/codec", "\"vid\\u00e9o/h264+x\"", NULL},
    {video_doc, "/codec", "\"video/h264;profile=high\"", NULL},
    {video_doc, "/container_mapping/mxf_container/package_uid",
     "\"urn:uuid:4F79CFD1-C057-47F4-8E4D-1B126CA7BF34\"", NULL},
    {video_doc, "/container_mapping/mxf_container/package_uid",
     "\"urn:smpte:umid:060a2b34_01010105\\u00e901010d20-13000000.d2c9036c.8f195343.ab7014b2."
     "ffa4b3a1\"",
     NULL},
    {video_doc, "/container_mapping/audio_track/channel_range", "\"10_2\"", NULL},
    {video_doc, "/read_only", "false", NULL},
    {data_doc, "/essence_parameters", "{}", NULL},
    {multi_doc, "/essence_parameters", "{\"frame_width\":\"anything\"}", NULL},
    {multi_doc, "/flow_collection", NULL, NULL},
    {multi_doc, "/codec", "\"video/h264\"", NULL},
    {audio_doc, "/essence_parameters/unc_parameters", NULL, NULL},
};

static void test_mutations(void)
{
    CHECK(TAMS_ARRAY_SIZE(invalid) >= 60);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(invalid); i++) {
        const struct mutation *m = &invalid[i];
        struct tams_buf why = TAMS_BUF_INIT(4096);
        json_object *doc = mutate(m);
        int rc;
        CHECK(doc != NULL);
        if (!doc)
            continue;
        rc = tams_flow_validate(doc, &why);
        if (rc != TAMS_ERR_VALIDATION || !why_has(&why, m->expect))
            fprintf(stderr, "invalid[%zu] %s: rc %d, why '%s', expected '%s'\n", i, m->pointer, rc,
                    why.data, m->expect);
        CHECK_INT_EQ(rc, TAMS_ERR_VALIDATION);
        CHECK(why_has(&why, m->expect));
        json_object_put(doc);
        tams_buf_release(&why);
    }
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(valid); i++) {
        struct tams_buf why = TAMS_BUF_INIT(4096);
        json_object *doc = mutate(&valid[i]);
        int rc;
        CHECK(doc != NULL);
        if (!doc)
            continue;
        rc = tams_flow_validate(doc, &why);
        if (rc)
            fprintf(stderr, "valid[%zu] %s: %s\n", i, valid[i].pointer, why.data);
        CHECK_INT_EQ(rc, 0);
        json_object_put(doc);
        tams_buf_release(&why);
    }
}

static void test_validate_misc(void)
{
    static const char *const bases[] = {video_doc, audio_doc, image_doc, data_doc, multi_doc};
    struct tams_buf why = TAMS_BUF_INIT(4096);
    json_object *doc;

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bases); i++) {
        char before[8192];
        doc = parse(bases[i]);
        snprintf(before, sizeof(before), "%s", json_object_to_json_string(doc));
        CHECK_INT_EQ(tams_flow_validate(doc, &why), 0);
        CHECK_INT_EQ(why.len, 0);
        CHECK_STR_EQ(json_object_to_json_string(doc), before); /* doc not modified */
        CHECK_INT_EQ(tams_flow_validate(doc, NULL), 0);
        json_object_put(doc);
    }

    /* Not an object at all. */
    CHECK_INT_EQ(tams_flow_validate(NULL, &why), TAMS_ERR_VALIDATION);
    CHECK(why.len > 0);
    tams_buf_reset(&why);
    doc = parse("[1]");
    CHECK_INT_EQ(tams_flow_validate(doc, &why), TAMS_ERR_VALIDATION);
    CHECK(why_has(&why, "object"));
    json_object_put(doc);

    /* why is appended to, and NULL is allowed. */
    tams_buf_reset(&why);
    tams_buf_addstr(&why, "bad flow: ");
    doc = parse("{\"id\":\"" VIDEO_ID "\"}");
    CHECK_INT_EQ(tams_flow_validate(doc, &why), TAMS_ERR_VALIDATION);
    CHECK_STR_EQ(why.data, "bad flow: source_id is required");
    CHECK_INT_EQ(tams_flow_validate(doc, NULL), TAMS_ERR_VALIDATION);
    json_object_put(doc);

    /* A hostile key does not produce a hostile message. */
    tams_buf_reset(&why);
    {
        char text[1200];
        char key[1001];
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        snprintf(text, sizeof(text), "{\"%s\":1}", key);
        doc = mutate(&(struct mutation){data_doc, "/essence_parameters", text, NULL});
        CHECK_INT_EQ(tams_flow_validate(doc, &why), TAMS_ERR_VALIDATION);
        CHECK(why.len < 200);
        CHECK(why_has(&why, "essence_parameters.kkkk"));
        json_object_put(doc);
    }

    /* Each format's enum text is complete. */
    tams_buf_reset(&why);
    doc = mutate(&(struct mutation){video_doc, "/format", "\"video\"", NULL});
    CHECK_INT_EQ(tams_flow_validate(doc, &why), TAMS_ERR_VALIDATION);
    CHECK_STR_EQ(why.data, "format must be one of urn:x-nmos:format:video, urn:x-tam:format:image, "
                           "urn:x-nmos:format:audio, urn:x-nmos:format:data, "
                           "urn:x-nmos:format:multi");
    json_object_put(doc);
    tams_buf_release(&why);
}

static void test_predicates(void)
{
    CHECK(tams_format_valid("urn:x-nmos:format:video"));
    CHECK(tams_format_valid("urn:x-tam:format:image"));
    CHECK(tams_format_valid("urn:x-nmos:format:audio"));
    CHECK(tams_format_valid("urn:x-nmos:format:data"));
    CHECK(tams_format_valid("urn:x-nmos:format:multi"));
    CHECK(!tams_format_valid("urn:x-nmos:format:image"));
    CHECK(!tams_format_valid("urn:x-nmos:format:video "));
    CHECK(!tams_format_valid(""));
    CHECK(!tams_format_valid(NULL));

    CHECK(tams_mime_valid("video/h264"));
    CHECK(tams_mime_valid("application/ttml+xml"));
    CHECK(tams_mime_valid("a/b"));
    CHECK(!tams_mime_valid("video h264"));
    CHECK(!tams_mime_valid("video/h264 "));
    CHECK(!tams_mime_valid("a/b/c"));
    CHECK(!tams_mime_valid("/b"));
    CHECK(!tams_mime_valid("a/"));
    CHECK(!tams_mime_valid("ab"));
    CHECK(!tams_mime_valid(""));
    CHECK(!tams_mime_valid("a/\xe3\x80\x80"
                           "b")); /* U+3000 */
    CHECK(!tams_mime_valid("a/\xef\xbb\xbf"
                           "b")); /* U+FEFF */
    CHECK(tams_mime_valid("a/\xc2\x85"
                          "b")); /* U+0085 is not ECMAScript \s */
    CHECK(tams_mime_valid("a/\xff"));
    CHECK(!tams_mime_valid(NULL));
}

/* ---- index and stripping ------------------------------------------------------------------ */

static void test_index(void)
{
    struct tams_buf why = TAMS_BUF_INIT(4096);
    struct tams_flow_index idx;
    json_object *doc;

    doc = parse(video_doc);
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
    CHECK_STR_EQ(idx.id, VIDEO_ID);
    CHECK_STR_EQ(idx.source_id, "2aa143ac-0ab7-4d75-bc32-5c00c13d186f");
    CHECK_STR_EQ(idx.format, "urn:x-nmos:format:video");
    CHECK_STR_EQ(idx.codec, "video/h264");
    CHECK_STR_EQ(idx.container, "video/mp2t");
    CHECK_STR_EQ(idx.label, "bbb");
    CHECK_INT_EQ(idx.frame_width, 1280);
    CHECK_INT_EQ(idx.frame_height, 720);
    CHECK(idx.read_only);
    CHECK_INT_EQ(idx.ntags, 2);
    if (idx.ntags == 2) {
        CHECK_STR_EQ(idx.tags[0].name, "input_quality");
        CHECK_STR_EQ(idx.tags[0].value, "contribution");
        CHECK_STR_EQ(idx.tags[1].name, "_tams_segmentation_rate");
        CHECK_STR_EQ(idx.tags[1].value, "10");
    }
    CHECK_INT_EQ(idx.ncollection, 1);
    if (idx.ncollection == 1) {
        CHECK_STR_EQ(idx.collection[0].id, "6101df05-06bb-41b8-8af4-cf7cd33df209");
        CHECK_STR_EQ(idx.collection[0].role, "audio");
    }
    tams_flow_index_release(&idx);
    CHECK(idx.tags == NULL && idx.collection == NULL && idx.ntags == 0);
    tams_flow_index_release(&idx); /* twice is fine */
    json_object_put(doc);

    doc = parse(audio_doc);
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
    CHECK_STR_EQ(idx.format, "urn:x-nmos:format:audio");
    CHECK_STR_EQ(idx.codec, "audio/aac");
    CHECK(idx.container == NULL);
    CHECK(idx.label == NULL);
    CHECK_INT_EQ(idx.frame_width, -1);
    CHECK_INT_EQ(idx.frame_height, -1);
    CHECK(!idx.read_only);
    CHECK_INT_EQ(idx.ntags, 0);
    CHECK(idx.tags == NULL);
    CHECK_INT_EQ(idx.ncollection, 0);
    CHECK(idx.collection == NULL);
    tams_flow_index_release(&idx);
    json_object_put(doc);

    doc = parse(image_doc);
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
    CHECK_STR_EQ(idx.format, "urn:x-tam:format:image");
    CHECK_STR_EQ(idx.container, "image/jpeg");
    CHECK_INT_EQ(idx.frame_width, 640);
    CHECK_INT_EQ(idx.frame_height, 480);
    tams_flow_index_release(&idx);
    json_object_put(doc);

    doc = parse(data_doc);
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
    CHECK_STR_EQ(idx.codec, "application/ttml+xml");
    CHECK_INT_EQ(idx.frame_width, -1);
    tams_flow_index_release(&idx);
    json_object_put(doc);

    /* Multi: no codec, collection of two, and an (unconstrained) essence_parameters that must
     * not leak frame sizes into the index. */
    doc = mutate(&(struct mutation){multi_doc, "/essence_parameters",
                                    "{\"frame_width\":10,\"frame_height\":20}", NULL});
    json_object_object_add(doc, "read_only", json_object_new_boolean(false));
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
    CHECK_STR_EQ(idx.id, MULTI_ID);
    CHECK_STR_EQ(idx.format, "urn:x-nmos:format:multi");
    CHECK(idx.codec == NULL);
    CHECK_STR_EQ(idx.container, "video/mp2t");
    CHECK_INT_EQ(idx.frame_width, -1);
    CHECK_INT_EQ(idx.frame_height, -1);
    CHECK(!idx.read_only);
    CHECK_INT_EQ(idx.ncollection, 2);
    if (idx.ncollection == 2) {
        CHECK_STR_EQ(idx.collection[0].id, "32b75860-83e5-48c9-8d6b-de46bdbc7f80");
        CHECK_STR_EQ(idx.collection[0].role, "video");
        CHECK_STR_EQ(idx.collection[1].id, "94996f2e-0cb5-43d3-ab6c-db5a9cf667aa");
        CHECK_STR_EQ(idx.collection[1].role, "L");
    }
    tams_flow_index_release(&idx);
    json_object_put(doc);

    /* Huge integers clamp to INT64_MAX in the index. */
    doc = mutate(&(struct mutation){video_doc, "/essence_parameters/frame_width",
                                    "18446744073709551615", NULL});
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), 0);
    CHECK(idx.frame_width == INT64_MAX);
    tams_flow_index_release(&idx);
    json_object_put(doc);

    /* Invalid documents give VALIDATION and an empty, releasable index. */
    tams_buf_reset(&why);
    doc = mutate(&(struct mutation){video_doc, "/tags/x", "5", NULL});
    CHECK_INT_EQ(tams_flow_index_build(doc, &idx, &why), TAMS_ERR_VALIDATION);
    CHECK(why_has(&why, "tags.x"));
    CHECK(idx.tags == NULL && idx.ntags == 0 && idx.id == NULL);
    CHECK_INT_EQ(idx.frame_width, -1);
    tams_flow_index_release(&idx);
    json_object_put(doc);
    tams_buf_release(&why);
}

static void test_strip(void)
{
    static const char *const expected[] = {"created",    "metadata_updated", "segments_updated",
                                           "created_by", "updated_by",       "collected_by",
                                           "timerange"};
    json_object *doc = parse(video_doc);
    size_t n = 0;

    while (tams_flow_server_members[n])
        n++;
    CHECK_INT_EQ(n, TAMS_ARRAY_SIZE(expected));
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(expected); i++) {
        bool listed = false;
        for (size_t k = 0; k < n; k++)
            listed |= strcmp(tams_flow_server_members[k], expected[i]) == 0;
        CHECK(listed);
        CHECK(json_object_object_get_ex(doc, expected[i], NULL)); /* the base has them all */
    }
    tams_flow_strip_server_members(doc);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(expected); i++)
        CHECK(!json_object_object_get_ex(doc, expected[i], NULL));
    /* Client members stay. */
    CHECK(json_object_object_get_ex(doc, "label", NULL));
    CHECK(json_object_object_get_ex(doc, "tags", NULL));
    CHECK(json_object_object_get_ex(doc, "flow_collection", NULL));
    CHECK(json_object_object_get_ex(doc, "read_only", NULL));
    CHECK(json_object_object_get_ex(doc, "metadata_version", NULL));
    CHECK_INT_EQ(tams_flow_validate(doc, NULL), 0);
    tams_flow_strip_server_members(doc); /* idempotent */
    CHECK_INT_EQ(json_object_object_length(doc), 24 - 7);
    json_object_put(doc);

    /* Server members with wrong types are invalid before stripping and gone after. */
    doc = mutate(&(struct mutation){video_doc, "/timerange", "5", NULL});
    CHECK_INT_EQ(tams_flow_validate(doc, NULL), TAMS_ERR_VALIDATION);
    tams_flow_strip_server_members(doc);
    CHECK_INT_EQ(tams_flow_validate(doc, NULL), 0);
    json_object_put(doc);

    tams_flow_strip_server_members(NULL); /* harmless */
}

int main(void)
{
    RUN(test_examples);
    RUN(test_mutations);
    RUN(test_validate_misc);
    RUN(test_predicates);
    RUN(test_index);
    RUN(test_strip);
    return check_report();
}
