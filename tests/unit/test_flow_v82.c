/* SPDX-License-Identifier: Apache-2.0 */
/* test_flow_v82.c - the 7.0/8.2 rules of flow validation, the 7.0 view and the 7.0 write. */
#include "core/common.h"
#include "core/buf.h"
#include "tams/flow.h"
#include "tams/flow_v82.h"
#include "check.h"

#define HEAD                                                                                       \
    "{\"id\":\"4f79cfd1-c057-47f4-8e4d-1b126ca7bf34\","                                            \
    "\"source_id\":\"2aa143ac-0ab7-4d75-bc32-5c00c13d186f\","
#define VIDEO(ep)                                                                                  \
    HEAD "\"format\":\"urn:x-nmos:format:video\",\"codec\":\"video/h264\","                        \
         "\"essence_parameters\":{\"frame_width\":1920,\"frame_height\":1080" ep "}}"
#define MULTI(rest) HEAD "\"format\":\"urn:x-nmos:format:multi\"" rest "}"

static int validate(const char *text, enum tams_flow_rules rules, const char *expect)
{
    struct tams_buf why = TAMS_BUF_INIT(256);
    json_object *doc = json_tokener_parse(text);
    int rc;

    CHECK(doc != NULL);
    rc = tams_flow_validate_rules(doc, rules, &why);
    if (expect && (!why.data || !strstr(why.data, expect)))
        fprintf(stderr, "%s: why '%s', expected '%s'\n", text, why.len ? why.data : "", expect);
    if (expect)
        CHECK(why.data && strstr(why.data, expect));
    json_object_put(doc);
    tams_buf_release(&why);
    return rc;
}

static void test_rules(void)
{
    const enum tams_flow_rules R70 = TAMS_FLOW_RULES_70, R82 = TAMS_FLOW_RULES_82,
                               RS = TAMS_FLOW_RULES_STORED;

    /* ADR0040: fixed rate needs frame_rate, variable forbids it; 7.0 has neither rule. */
    CHECK_INT_EQ(validate(VIDEO(""), R82, "frame_rate is required unless vfr is true"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(VIDEO(",\"vfr\":false"), R82, "is required unless vfr"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(VIDEO(""), RS, NULL), 0);
    CHECK_INT_EQ(validate(VIDEO(",\"vfr\":true"), R82, NULL), 0);
    CHECK_INT_EQ(validate(VIDEO(",\"vfr\":true,\"frame_rate\":{\"numerator\":25}"), R82,
                          "must not be set when vfr is true"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(VIDEO(",\"frame_rate\":{\"numerator\":25}"), R82, NULL), 0);
    CHECK_INT_EQ(validate(VIDEO(""), R70, NULL), 0);
    CHECK_INT_EQ(validate(VIDEO(",\"vfr\":true"), R70, "essence_parameters.vfr is not allowed"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(VIDEO(",\"vfr\":1"), R82, "vfr must be a boolean"), TAMS_ERR_VALIDATION);
    /* init_segments: 8.2 only. */
    CHECK_INT_EQ(
        validate(VIDEO(",\"frame_rate\":{\"numerator\":25},\"init_segments\":true"), R82, NULL), 0);
    CHECK_INT_EQ(validate(VIDEO(",\"frame_rate\":{\"numerator\":25},\"init_segments\":true"), R70,
                          "init_segments is not allowed"),
                 TAMS_ERR_VALIDATION);
    /* status: an enum under 8.2, an unknown (open) member for 7.0. */
    CHECK_INT_EQ(validate(MULTI(",\"status\":\"ingesting\""), R82, NULL), 0);
    CHECK_INT_EQ(validate(MULTI(",\"status\":\"done\""), R82, "status must be one of"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(MULTI(",\"status\":\"done\""), R70, NULL), 0);
    /* Multi essence_parameters: typed in 8.2, free in 7.0 and in the store. */
    CHECK_INT_EQ(validate(MULTI(",\"essence_parameters\":{\"init_segments\":true}"), R82, NULL), 0);
    CHECK_INT_EQ(validate(MULTI(",\"essence_parameters\":{\"x\":1}"), R82,
                          "essence_parameters.x is not allowed"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(MULTI(",\"essence_parameters\":{\"x\":1}"), RS, NULL), 0);
    CHECK_INT_EQ(validate(MULTI(",\"essence_parameters\":{\"x\":1}"), R70, NULL), 0);
    /* Collection item role: required by 7.0 only (ADR0056). */
    CHECK_INT_EQ(validate(MULTI(",\"flow_collection\":[{\"id\":"
                                "\"6101df05-06bb-41b8-8af4-cf7cd33df209\"}]"),
                          R70, "flow_collection[0].role is required"),
                 TAMS_ERR_VALIDATION);
    CHECK_INT_EQ(validate(MULTI(",\"flow_collection\":[{\"id\":"
                                "\"6101df05-06bb-41b8-8af4-cf7cd33df209\"}]"),
                          R82, NULL),
                 0);
    CHECK_INT_EQ(validate(MULTI(",\"flow_collection\":[{\"id\":"
                                "\"6101df05-06bb-41b8-8af4-cf7cd33df209\",\"role\":3}]"),
                          R82, "role must be a string"),
                 TAMS_ERR_VALIDATION);
}

static char *text_of(json_object *o)
{
    return tams_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static void check_view70(const char *stored, const char *want)
{
    json_object *doc = json_tokener_parse(stored), *w = json_tokener_parse(want);
    char *got;

    tams_flow_view70(doc);
    got = text_of(doc);
    if (!json_object_equal(doc, w))
        fprintf(stderr, "view70: got %s, want %s\n", got, want);
    CHECK(json_object_equal(doc, w));
    tams_free(got);
    json_object_put(doc);
    json_object_put(w);
}

static void check_from70(const char *body, const char *stored, const char *want)
{
    json_object *doc = json_tokener_parse(body), *st = stored ? json_tokener_parse(stored) : NULL;
    json_object *w = json_tokener_parse(want);
    char *got;

    tams_flow_from70(doc, st);
    got = text_of(doc);
    if (!json_object_equal(doc, w))
        fprintf(stderr, "from70: got %s, want %s\n", got, want);
    CHECK(json_object_equal(doc, w));
    tams_free(got);
    json_object_put(doc);
    json_object_put(st);
    json_object_put(w);
}

#define ID "\"id\":\"6101df05-06bb-41b8-8af4-cf7cd33df209\""
#define V "\"format\":\"urn:x-nmos:format:video\","

static void test_view70(void)
{
    CHECK(!tams_flow_view70_may_differ("{\"label\":\"vfr 1\",\"tags\":{\"a\":\"statuses\"}}"));
    CHECK(tams_flow_view70_may_differ("{\"status\":\"ingesting\"}"));
    check_view70("{" V "\"essence_parameters\":{\"vfr\":true,\"init_segments\":true,"
                 "\"frame_width\":1},\"status\":\"ingesting\",\"profile_id\":\"x\"}",
                 "{" V "\"essence_parameters\":{\"frame_width\":1},"
                 "\"tags\":{\"flow_status\":\"ingesting\"}}");
    /* A real tag of that name wins. */
    check_view70("{\"status\":\"ingesting\",\"tags\":{\"flow_status\":\"mine\"}}",
                 "{\"tags\":{\"flow_status\":\"mine\"}}");
    /* Roleless items get role "", order kept. */
    check_view70("{\"flow_collection\":[{" ID "},{" ID ",\"role\":\"b\"}]}",
                 "{\"flow_collection\":[{" ID ",\"role\":\"\"},{" ID ",\"role\":\"b\"}]}");
}

static void test_from70(void)
{
    /* No frame_rate: vfr true; with it: no vfr, whatever was stored. */
    check_from70("{" V "\"essence_parameters\":{\"frame_width\":1}}", NULL,
                 "{" V "\"essence_parameters\":{\"frame_width\":1,\"vfr\":true}}");
    check_from70("{" V "\"essence_parameters\":{\"frame_rate\":{\"numerator\":25}}}",
                 "{" V "\"essence_parameters\":{\"vfr\":true}}",
                 "{" V "\"essence_parameters\":{\"frame_rate\":{\"numerator\":25}}}");
    /* The status tag sets status; absent, the stored status stays; other values stay tags. */
    check_from70("{\"tags\":{\"flow_status\":\"closed_complete\",\"a\":\"b\"}}",
                 "{\"status\":\"ingesting\"}",
                 "{\"tags\":{\"a\":\"b\"},\"status\":\"closed_complete\"}");
    check_from70("{\"status\":\"ingesting\",\"profile_id\":\"x\"}",
                 "{\"status\":\"awaiting_content\"}", "{\"status\":\"awaiting_content\"}");
    check_from70("{\"tags\":{\"flow_status\":\"other\"}}", NULL,
                 "{\"tags\":{\"flow_status\":\"other\"}}");
    /* init_segments kept while the format is the same. */
    check_from70("{" V "\"essence_parameters\":{\"frame_rate\":{\"numerator\":25}}}",
                 "{" V "\"essence_parameters\":{\"init_segments\":true}}",
                 "{" V "\"essence_parameters\":{\"frame_rate\":{\"numerator\":25},"
                 "\"init_segments\":true}}");
    check_from70("{\"format\":\"urn:x-nmos:format:multi\"}",
                 "{\"format\":\"urn:x-nmos:format:multi\",\"essence_parameters\":"
                 "{\"init_segments\":true}}",
                 "{\"format\":\"urn:x-nmos:format:multi\",\"essence_parameters\":"
                 "{\"init_segments\":true}}");
    check_from70("{\"format\":\"urn:x-nmos:format:data\"}",
                 "{\"format\":\"urn:x-nmos:format:multi\",\"essence_parameters\":"
                 "{\"init_segments\":true}}",
                 "{\"format\":\"urn:x-nmos:format:data\"}");
    /* Role "" is no role. */
    check_from70("{\"flow_collection\":[{" ID ",\"role\":\"\"},{" ID ",\"role\":\"b\"}]}", NULL,
                 "{\"flow_collection\":[{" ID "},{" ID ",\"role\":\"b\"}]}");
}

int main(void)
{
    RUN(test_rules);
    RUN(test_view70);
    RUN(test_from70);
    return check_report();
}
