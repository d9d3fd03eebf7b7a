/* SPDX-License-Identifier: Apache-2.0 */
/* test_tag.c - tag values as strings or lists, their 7.0 view and 7.0 writes (tams/tag.h). */
#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "tams/tag.h"
#include "check.h"

static json_object *parse(const char *text)
{
    json_object *v = json_tokener_parse(text);
    CHECK(v != NULL);
    return v;
}

static void test_valid_and_parse(void)
{
    static const char *const bad[] = {"5", "1.5", "{}", "[1]", "[\"a\",[\"b\"]]", "true"};
    struct tams_buf why = TAMS_BUF_INIT(256);
    struct tams_tag t;
    json_object *v;

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++) {
        v = parse(bad[i]);
        CHECK(!tams_tag_json_valid(v, true));
        CHECK_INT_EQ(tams_tag_from_json(v, "x", &t, &why), TAMS_ERR_VALIDATION);
        json_object_put(v);
    }
    CHECK(strstr(why.data, "tag 'x' must be a string or an array of strings") != NULL);
    v = parse("[\"a\"]");
    CHECK(tams_tag_json_valid(v, true));
    CHECK(!tams_tag_json_valid(v, false));
    json_object_put(v);

    v = parse("\"s\"");
    CHECK_INT_EQ(tams_tag_from_json(v, "x", &t, NULL), 0);
    CHECK(!t.list && t.values == NULL);
    CHECK_STR_EQ(t.value, "s");
    tams_tag_release(&t);
    json_object_put(v);

    v = parse("[\"a\",\"b\"]");
    CHECK_INT_EQ(tams_tag_from_json(v, "x", &t, NULL), 0);
    CHECK(t.list);
    CHECK_INT_EQ(t.nvalues, 2);
    CHECK_STR_EQ(t.value, "a");
    CHECK_STR_EQ(t.values[1], "b");
    tams_tag_release(&t);
    json_object_put(v);

    v = parse("[]");
    CHECK_INT_EQ(tams_tag_from_json(v, "x", &t, NULL), 0);
    CHECK(t.list);
    CHECK_INT_EQ(t.nvalues, 0);
    CHECK_STR_EQ(t.value, "");
    tams_tag_release(&t);
    json_object_put(v);
    tams_buf_release(&why);
}

static void test_write(void)
{
    const char *vals[] = {"a", "b\""};
    struct tams_tag list = {"x", "a", vals, 2, true}, str = {"y", "s", NULL, 0, false};
    struct tams_buf b = TAMS_BUF_INIT(256);
    struct tams_json j;

    tams_json_init(&j, &b);
    tams_json_arr_open(&j);
    tams_tag_write(&j, &list, false);
    tams_tag_write(&j, &list, true);
    tams_tag_write(&j, &str, false);
    tams_tag_write(&j, &str, true);
    tams_json_arr_close(&j);
    CHECK_STR_EQ(b.data, "[[\"a\",\"b\\\"\"],\"a\",\"s\",\"s\"]");
    tams_buf_release(&b);
}

static void test_70_view(void)
{
    json_object *tags = parse("{\"a\":[\"x\",\"y\"],\"b\":[],\"c\":\"s\",\"d\":[\"z\"]}");

    CHECK(tams_tags_json_has_list(tags));
    tams_tags_json_to_70(tags);
    CHECK(!tams_tags_json_has_list(tags));
    CHECK_STR_EQ(json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN),
                 "{\"a\":\"x\",\"b\":\"\",\"c\":\"s\",\"d\":\"z\"}");
    json_object_put(tags);
}

static void test_70_writes(void)
{
    const char *two[] = {"a", "b"}, *one[] = {"a"};
    struct tams_tag several = {"x", "a", two, 2, true}, single = {"x", "a", one, 1, true},
                    empty = {"x", "", NULL, 0, true}, str = {"x", "a", NULL, 0, false};

    CHECK_INT_EQ(tams_tag_70_write(NULL, "v", true), TAMS_TAG70_STRING);
    CHECK_INT_EQ(tams_tag_70_write(&str, "v", true), TAMS_TAG70_STRING);
    CHECK_INT_EQ(tams_tag_70_write(&several, "a", true), TAMS_TAG70_CONFLICT);
    CHECK_INT_EQ(tams_tag_70_write(&several, "v", true), TAMS_TAG70_CONFLICT);
    CHECK_INT_EQ(tams_tag_70_write(&several, "a", false), TAMS_TAG70_KEEP);
    CHECK_INT_EQ(tams_tag_70_write(&several, "v", false), TAMS_TAG70_CONFLICT);
    CHECK_INT_EQ(tams_tag_70_write(&single, "v", true), TAMS_TAG70_LIST1);
    CHECK_INT_EQ(tams_tag_70_write(&single, "a", false), TAMS_TAG70_KEEP);
    CHECK_INT_EQ(tams_tag_70_write(&empty, "v", false), TAMS_TAG70_LIST1);
    CHECK_INT_EQ(tams_tag_70_write(&empty, "", false), TAMS_TAG70_KEEP);
}

static void test_70_merge(void)
{
    struct tams_buf why = TAMS_BUF_INIT(256);
    json_object *stored = parse("{\"a\":[\"x\",\"y\"],\"b\":[\"z\"],\"c\":[],\"d\":\"s\"}");
    json_object *next = parse("{\"a\":\"x\",\"b\":\"w\",\"c\":\"\",\"d\":\"t\",\"e\":\"n\"}");
    json_object *bad = parse("{\"a\":\"q\",\"b\":\"w\"}");

    CHECK_INT_EQ(tams_tags_json_merge_70(stored, next, &why), 0);
    CHECK_STR_EQ(json_object_to_json_string_ext(next, JSON_C_TO_STRING_PLAIN),
                 "{\"a\":[\"x\",\"y\"],\"b\":[\"w\"],\"c\":[],\"d\":\"t\",\"e\":\"n\"}");
    /* a changed list of several values: refused, next untouched (b not made a list) */
    CHECK_INT_EQ(tams_tags_json_merge_70(stored, bad, &why), TAMS_ERR_CONFLICT);
    CHECK_STR_EQ(json_object_to_json_string_ext(bad, JSON_C_TO_STRING_PLAIN),
                 "{\"a\":\"q\",\"b\":\"w\"}");
    CHECK(strstr(why.data, "tag 'a' holds several values") != NULL);
    json_object_put(stored);
    json_object_put(next);
    json_object_put(bad);
    tams_buf_release(&why);
}

/* tag.{name}=a,b: whole values of a string or of a list; a prefix or a part never matches. */
static void test_holds_any(void)
{
    json_object *str = parse("\"news\""), *list = parse("[\"a\",\"news\"]"), *empty = parse("[]"),
                *blank = parse("\"\"");

    CHECK(tams_tag_json_holds_any(str, "news"));
    CHECK(tams_tag_json_holds_any(str, "sport,news"));
    CHECK(!tams_tag_json_holds_any(str, "new"));
    CHECK(!tams_tag_json_holds_any(str, "newsy,ne"));
    CHECK(!tams_tag_json_holds_any(str, ""));
    CHECK(tams_tag_json_holds_any(list, "news"));
    CHECK(tams_tag_json_holds_any(list, "x,a"));
    CHECK(!tams_tag_json_holds_any(list, "b,c"));
    CHECK(!tams_tag_json_holds_any(empty, "a"));
    CHECK(tams_tag_json_holds_any(blank, ""));
    json_object_put(blank);
    json_object_put(str);
    json_object_put(list);
    json_object_put(empty);
}

/* The text question answers as the parsed one would, whatever the strings hold. */
static void test_text_has_list(void)
{
    static const struct {
        const char *doc;
        bool list;
    } cases[] = {
        {"{\"id\":\"x\",\"tags\":{\"a\":\"b\"}}", false},
        {"{\"tags\":{\"a\":[\"b\",\"c\"]}}", true},
        {"{\"tags\":{\"a\":\"x\",\"b\":[]},\"label\":\"y\"}", true},
        /* a value, a name or another member holding brackets, quotes, braces */
        {"{\"tags\":{\"a\":\"[x] {y}\",\"[b]\":\"\\\"[\\\"\"},\"label\":\"[z]\"}", false},
        {"{\"label\":\"\\\"tags\\\":{\\\"a\\\":[\",\"tags\":{}}", false},
        /* a "tags" that is not the document's own */
        {"{\"essence_parameters\":{\"tags\":{\"a\":[\"b\"]}},\"n\":-1.5e3,\"ok\":true,"
         "\"tags\":{\"c\":\"d\"}}",
         false},
        {"{\"essence_parameters\":{\"x\":[1,{\"y\":[]}]}}", false},
        {" { \"tags\" : { \"a\" : [ ] } } ", true},
        {"{}", false},
        {"{\"tags\":null}", false},
        /* what it cannot follow: true, so the caller parses */
        {"{\"t\\u0061gs\":{\"a\":[\"b\"]}}", true},
        {"{\"tags\":{\"a\":\"b", true},
        {"[1]", true},
        {"", true},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *doc = json_tokener_parse(cases[i].doc), *tags;
        /* the false answers: valid documents whose tags hold no list */
        if (!cases[i].list) {
            CHECK(doc != NULL);
            CHECK(!(doc && json_object_object_get_ex(doc, "tags", &tags) &&
                    tams_tags_json_has_list(tags)));
        }
        CHECK(tams_tags_text_has_list(cases[i].doc) == cases[i].list);
        json_object_put(doc);
    }
}

int main(void)
{
    RUN(test_text_has_list);
    RUN(test_holds_any);
    RUN(test_valid_and_parse);
    RUN(test_write);
    RUN(test_70_view);
    RUN(test_70_writes);
    RUN(test_70_merge);
    return check_report();
}
