/* SPDX-License-Identifier: Apache-2.0 */
/* test_client_api.c - client/api's fitting of a flow document to the server's TAMS version:
 * 8.x wants frame_rate or vfr on a video flow, 7.0 has no vfr. The version is set as learnt,
 * so no server is asked. */
#include "core/common.h"
#include "client/api.h"

#include "check.h"

static json_object *flow(const char *format, const char *essence)
{
    char doc[512];
    snprintf(doc, sizeof(doc), "{\"format\":\"%s\",\"essence_parameters\":%s}", format, essence);
    return json_tokener_parse(doc);
}

/* The essence parameters of a flow after fitting it for a server of version. */
static const char *fitted(int version, const char *format, const char *essence, char *out, size_t n)
{
    struct tams_http h = {.api_version = version};
    json_object *f = flow(format, essence), *ep = NULL;
    CHECK_INT_EQ(tams_api_fit_flow(&h, f), TAMS_EXIT_OK);
    CHECK(json_object_object_get_ex(f, "essence_parameters", &ep));
    snprintf(out, n, "%s", json_object_to_json_string_ext(ep, JSON_C_TO_STRING_PLAIN));
    json_object_put(f);
    return out;
}

static void test_fit_flow(void)
{
    const char *video = "urn:x-nmos:format:video", *audio = "urn:x-nmos:format:audio";
    char b[512];
    /* 8.2: a video flow without a rate says vfr; one with a rate or vfr stays as it is. */
    CHECK_STR_EQ(fitted(802, video, "{\"frame_width\":64}", b, sizeof(b)),
                 "{\"frame_width\":64,\"vfr\":true}");
    CHECK_STR_EQ(fitted(802, video, "{\"frame_rate\":{\"numerator\":25}}", b, sizeof(b)),
                 "{\"frame_rate\":{\"numerator\":25}}");
    CHECK_STR_EQ(
        fitted(802, video, "{\"vfr\":false,\"frame_rate\":{\"numerator\":25}}", b, sizeof(b)),
        "{\"vfr\":false,\"frame_rate\":{\"numerator\":25}}");
    CHECK_STR_EQ(fitted(802, audio, "{\"sample_rate\":48000}", b, sizeof(b)),
                 "{\"sample_rate\":48000}");
    /* 7.0: vfr is removed, nothing is added. */
    CHECK_STR_EQ(fitted(700, video, "{\"frame_width\":64}", b, sizeof(b)), "{\"frame_width\":64}");
    CHECK_STR_EQ(fitted(700, video, "{\"frame_width\":64,\"vfr\":true}", b, sizeof(b)),
                 "{\"frame_width\":64}");
    /* A flow without essence parameters (multi) is left alone. */
    struct tams_http h = {.api_version = 802};
    json_object *multi = json_tokener_parse("{\"format\":\"urn:x-nmos:format:multi\"}");
    CHECK_INT_EQ(tams_api_fit_flow(&h, multi), TAMS_EXIT_OK);
    CHECK_STR_EQ(json_object_to_json_string_ext(multi, JSON_C_TO_STRING_PLAIN),
                 "{\"format\":\"urn:x-nmos:format:multi\"}");
    json_object_put(multi);
}

int main(void)
{
    RUN(test_fit_flow);
    return check_report();
}
