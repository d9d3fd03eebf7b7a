/* SPDX-License-Identifier: Apache-2.0 */
/* test_storage_config.c - the storage backends file: parsing, validation, messages; the S3
 * backend's URLs and endpoint choice without a network. */
#include "core/common.h"
#include "core/buf.h"
#include "media/s3.h"
#include "media/storage_config.h"
#include "media/tags.h"
#include "check.h"

#include <unistd.h>

#define LOCAL_ID "11111111-2222-4333-8444-555555555555"
#define ID_A "5b0d2f7e-3c2a-4f61-9d1e-7a4b8c9d0e11"
#define ID_B "6c1e3a8f-4d3b-4a72-8e2f-8b5c9d0e1f22"

#define BACKEND(id, label, extra)                                                                  \
    "{\"id\":\"" id "\",\"label\":\"" label "\",\"type\":\"s3\",\"endpoints\":[\"http://"          \
    "127.0.0.1:9000\"],\"bucket\":\"tams-media\",\"access_key\":\"AK\",\"secret_key\":"            \
    "\"SECRETVALUE\"" extra "}"

static char env_secret[] = "S3_SECRET=from-env", env_empty[] = "EMPTY=";
static char *envp_default[] = {env_secret, env_empty, NULL};

/* Parses text; returns rc and leaves the message in why (reset first). */
static int parse(struct tams_storage_config *cfg, const char *text, struct tams_buf *why)
{
    tams_buf_reset(why);
    return tams_storage_config_parse(cfg, text, strlen(text), LOCAL_ID, "local", envp_default, why);
}

static void test_full(void)
{
    struct tams_storage_config cfg;
    struct tams_buf why = TAMS_BUF_INIT(4096);
    const char *text =
        "{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"provider\":\"p\","
        "\"store_product\":\"sp\",\"region\":\"eu-west-2\",\"availability_zone\":\"az\","
        "\"endpoints\":[\"HTTP://Example.COM:80/\",\"https://s3.example.com:9443\","
        "\"https://[::1]:443\"],\"bucket\":\"tams-media\",\"prefix\":\"x/\","
        "\"addressing\":\"path\",\"access_key\":\"AKIA\",\"secret_key_env\":\"S3_SECRET\","
        "\"session_token\":\"tok\",\"probe_interval\":3,\"default\":true,"
        "\"conditional_put\":true}],"
        "\"local\":{}}\n";
    CHECK_INT_EQ(parse(&cfg, text, &why), 0);
    CHECK_INT_EQ(why.len, 0);
    CHECK_INT_EQ(cfg.ns3, 1);
    CHECK(!cfg.local_default);
    if (cfg.ns3 == 1) {
        const struct tams_s3_settings *s = &cfg.s3[0];
        CHECK_STR_EQ(s->id, ID_A);
        CHECK_STR_EQ(s->label, "a");
        CHECK_STR_EQ(s->provider, "p");
        CHECK_STR_EQ(s->store_product, "sp");
        CHECK_STR_EQ(s->region, "eu-west-2");
        CHECK_STR_EQ(s->availability_zone, "az");
        CHECK_INT_EQ(s->nendpoints, 3);
        CHECK_STR_EQ(s->endpoints[0], "http://example.com");
        CHECK_STR_EQ(s->endpoints[1], "https://s3.example.com:9443");
        CHECK_STR_EQ(s->endpoints[2], "https://[::1]");
        CHECK_STR_EQ(s->bucket, "tams-media");
        CHECK_STR_EQ(s->prefix, "x/");
        CHECK(!s->virtual_hosted);
        CHECK_STR_EQ(s->access_key, "AKIA");
        CHECK_STR_EQ(s->secret_key, "from-env");
        CHECK_STR_EQ(s->session_token, "tok");
        CHECK_INT_EQ(s->probe_interval, 3);
        CHECK(s->is_default);
        CHECK(s->conditional_put);
    }
    tams_storage_config_release(&cfg);
    CHECK_INT_EQ(cfg.ns3, 0);
    tams_storage_config_release(&cfg); /* twice is fine */
    tams_buf_release(&why);
}

static void test_defaults(void)
{
    struct tams_storage_config cfg;
    struct tams_buf why = TAMS_BUF_INIT(4096);
    CHECK_INT_EQ(parse(&cfg, "{}", &why), 0);
    CHECK(cfg.local_default);
    CHECK_INT_EQ(cfg.ns3, 0);
    tams_storage_config_release(&cfg);
    CHECK_INT_EQ(parse(&cfg, "{\"backends\":[" BACKEND(ID_A, "a", "") "]}", &why), 0);
    CHECK(cfg.local_default);
    CHECK_STR_EQ(cfg.s3[0].region, "us-east-1");
    CHECK_STR_EQ(cfg.s3[0].prefix, "");
    CHECK_INT_EQ(cfg.s3[0].probe_interval, 10);
    CHECK(cfg.s3[0].session_token == NULL);
    CHECK(cfg.s3[0].provider == NULL);
    CHECK(!cfg.s3[0].is_default);
    CHECK(!cfg.s3[0].conditional_put);
    tams_storage_config_release(&cfg);
    CHECK_INT_EQ(parse(&cfg, "{\"local\":{\"default\":false}}", &why), 0);
    CHECK(!cfg.local_default);
    tams_storage_config_release(&cfg);
    tams_buf_release(&why);
}

struct bad {
    const char *text;
    const char *message; /* must appear in why */
};

static const struct bad bads[] = {
    {"", "not valid JSON"},
    {"[]", "one JSON object"},
    {"{} x", "not valid JSON"},
    {"{\"backend\":[]}", "'backend' is not a known key"},
    {"{\"local\":{\"default\":1}}", "'local.default' must be true or false"},
    {"{\"local\":{\"x\":true}}", "unknown key 'x'"},
    {"{\"backends\":{}}", "'backends' must be an array"},
    {"{\"backends\":[1]}", "backends[0]: must be a JSON object"},
    {"{\"backends\":[{}]}", "backends[0]: 'label' is required"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"colour\":1") "]}",
     "storage backend 'a' (backends[0]): 'colour' is not a known key"},
    {"{\"backends\":[" BACKEND("5B0D2F7E-3C2A-4F61-9D1E-7A4B8C9D0E11", "a", "") "]}",
     "'id' must be a lowercase UUID"},
    {"{\"backends\":[" BACKEND(LOCAL_ID, "a", "") "]}", "built-in store's id"},
    {"{\"backends\":[" BACKEND(ID_A, "local", "") "]}", "built-in store's label"},
    {"{\"backends\":[" BACKEND(ID_A, "a", "") "," BACKEND(ID_A, "b", "") "]}",
     "'b' (backends[1]): 'id' is also the id of backend 'a'"},
    {"{\"backends\":[" BACKEND(ID_A, "a", "") "," BACKEND(ID_B, "a", "") "]}",
     "'label' is also the label of backends[0]"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"default\":true") "," BACKEND(
         ID_B, "b", ",\"default\":true") "]}",
     "'default' is true for 2 backends"},
    {"{\"local\":{\"default\":true},\"backends\":[" BACKEND(ID_A, "a", ",\"default\":true") "]}",
     "'local.default' is true but a backend"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"type\":\"gcs\"") "]}", "'type' must be \"s3\""},
    {"{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"endpoints\":[],"
     "\"bucket\":\"tams-media\",\"access_key\":\"AK\",\"secret_key\":\"S\"}]}",
     "'endpoints' must list 1 to 16"},
    {"{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"endpoints\":["
     "\"http://h/path\"],\"bucket\":\"tams-media\",\"access_key\":\"AK\",\"secret_key\":\"S\"}]}",
     "'endpoints' item 0 must be http(s)://host[:port]"},
    {"{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"endpoints\":["
     "\"http://h\",\"HTTP://H:80\"],\"bucket\":\"tams-media\",\"access_key\":\"AK\","
     "\"secret_key\":\"S\"}]}",
     "lists http://h twice"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"addressing\":\"virtual\"") "]}",
     "\"virtual\" needs endpoints with a host name"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"addressing\":\"vhost\"") "]}",
     "'addressing' must be"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"region\":\"eu west\"") "]}", "'region' must be"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"prefix\":\"/x\"") "]}", "must not start with '/'"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"probe_interval\":0") "]}", "'probe_interval'"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"probe_interval\":\"5\"") "]}", "'probe_interval'"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"default\":\"yes\"") "]}", "'default' must be"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"conditional_put\":1") "]}",
     "'conditional_put' must be"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"secret_key_env\":\"S3_SECRET\"") "]}",
     "'secret_key' and 'secret_key_env' are both given"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"session_token_env\":\"EMPTY\"") "]}",
     "names environment variable EMPTY, which is not set or empty"},
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"session_token_env\":\"1X\"") "]}",
     "must be an environment variable name"},
    {"{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"endpoints\":["
     "\"http://h\"],\"bucket\":\"Tams\",\"access_key\":\"AK\",\"secret_key\":\"S\"}]}",
     "'bucket' must be 3 to 63"},
    {"{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"endpoints\":["
     "\"http://h\"],\"bucket\":\"tams\",\"access_key\":\"A/K\",\"secret_key\":\"S\"}]}",
     "'access_key' must be printable"},
    {"{\"backends\":[{\"id\":\"" ID_A "\",\"label\":\"a\",\"type\":\"s3\",\"endpoints\":["
     "\"http://h\"],\"bucket\":\"tams\",\"access_key\":\"AK\"}]}",
     "'secret_key' (or 'secret_key_env') is required"},
    {"{\"backends\":[" BACKEND(ID_A, "a\\u0001", "") "]}", "control characters"},
    /* json-c takes a raw line end in a name: the one-line message shows it as '?' */
    {"{\"backends\":[" BACKEND(ID_A, "a", ",\"col\nour\":1") "]}",
     "(backends[0]): 'col?our' is not a known key"},
};

static void test_bad(void)
{
    struct tams_buf why = TAMS_BUF_INIT(4096);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bads); i++) {
        struct tams_storage_config cfg;
        int rc = parse(&cfg, bads[i].text, &why);
        CHECK_INT_EQ(rc, TAMS_ERR_BADREQUEST);
        CHECK(cfg.ns3 == 0 && cfg.s3 == NULL);
        if (!strstr(why.data, bads[i].message)) {
            check_failed++;
            fprintf(stderr, "bad[%zu]: message '%s' lacks '%s'\n", i, why.data, bads[i].message);
        }
        CHECK(!strstr(why.data, "SECRETVALUE"));
        CHECK(!strchr(why.data, '\n'));
        tams_storage_config_release(&cfg);
    }
    tams_buf_release(&why);
}

static void test_normalise(void)
{
    static const char *const good[][2] = {
        {"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
        {"http://127.0.0.1:80", "http://127.0.0.1"},
        {"https://S3.Example.com:443/", "https://s3.example.com"},
        {"http://[::1]:9000", "http://[::1]:9000"},
        {"https://minio", "https://minio"},
    };
    static const char *const bad[] = {
        "",
        "http://",
        "ftp://h",
        "http://h/x",
        "http://h?x",
        "http://u@h",
        "http://h:0",
        "http://h:65536",
        "http://h:",
        "http://.h",
        "http://h..x",
        "http://[zz]:1",
        "http://h:12a",
        "http://h//",
        "http:/h",
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(good); i++) {
        struct tams_buf out = TAMS_BUF_INIT(512);
        CHECK(tams__storage_endpoint_normalise(good[i][0], &out, NULL));
        CHECK_STR_EQ(out.data, good[i][1]);
        tams_buf_release(&out);
    }
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++) {
        struct tams_buf out = TAMS_BUF_INIT(512);
        if (tams__storage_endpoint_normalise(bad[i], &out, NULL)) {
            check_failed++;
            fprintf(stderr, "endpoint '%s' accepted as '%s'\n", bad[i], out.data);
        } else {
            check_passed++;
        }
        tams_buf_release(&out);
    }
}

static void test_load(void)
{
    struct tams_storage_config cfg;
    struct tams_buf why = TAMS_BUF_INIT(4096);
    char path[] = "/tmp/tams-storage-config-XXXXXX";
    int fd = mkstemp(path);
    static const char text[] = "{\"backends\":[" BACKEND(ID_A, "a", "") "]}";
    CHECK(fd >= 0);
    CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
    close(fd);
    CHECK_INT_EQ(tams_storage_config_load(&cfg, path, LOCAL_ID, "local", NULL, &why), 0);
    CHECK_INT_EQ(cfg.ns3, 1);
    CHECK_INT_EQ(why.len, 0);
    tams_storage_config_release(&cfg);
    unlink(path);
    CHECK_INT_EQ(tams_storage_config_load(&cfg, path, LOCAL_ID, "local", NULL, &why), TAMS_ERR_IO);
    CHECK(strstr(why.data, path) && strstr(why.data, "cannot open"));
    tams_storage_config_release(&cfg);
    tams_buf_release(&why);
}

/* The backend with endpoints nothing answers on: URLs, round-robin, the probe marking. */
/* A name of any length is quoted cut to 64 bytes, so the message always fits (a message that
 * did not fit the caller's buffer was lost whole: an error without a message). */
static void test_long_key(void)
{
    struct tams_buf why = TAMS_BUF_INIT(4096), text = TAMS_BUF_INIT(1 << 20);
    struct tams_storage_config cfg;
    tams_buf_addstr(&text, "{\"");
    for (int i = 0; i < 10000; i++)
        tams_buf_addch(&text, 'k');
    tams_buf_addstr(&text, "\":1}");
    CHECK_INT_EQ(parse(&cfg, text.data, &why), TAMS_ERR_BADREQUEST);
    CHECK(strstr(why.data, "kkk...' is not a known key") != NULL);
    CHECK(why.len < 200);
    tams_storage_config_release(&cfg);
    tams_buf_release(&text);
    tams_buf_release(&why);
}

static void test_backend(void)
{
    const char *eps[] = {"http://127.0.0.1:1", "http://127.0.0.1:2"};
    struct tams_s3_settings s = {
        .id = ID_A,
        .label = "s3",
        .region = "eu-west-2",
        .endpoints = eps,
        .nendpoints = 2,
        .bucket = "tams-media",
        .prefix = "p/",
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        .expiry = 60,
        .put_expiry = 30,
        .probe_interval = 1,
    };
    struct tams_media_backend *b = NULL;
    struct tams_buf why = TAMS_BUF_INIT(4096), u1 = TAMS_BUF_INIT(8192), u2 = TAMS_BUF_INIT(8192);
    bool presigned = false;
    const char *key = "ab/cd/5b0d2f7e-3c2a-4f61-9d1e-7a4b8c9d0e11";

    CHECK_INT_EQ(tams_s3_open(&b, &s, &why), 0);
    if (!b)
        return;
    CHECK_STR_EQ(b->label, "s3");
    CHECK_STR_EQ(b->region, "eu-west-2");
    CHECK(b->provider == NULL);
    /* Wait for the first probe round: nothing answers there, so every endpoint is unhealthy,
     * and then all of them take turns (before it ends, the round may be half done). */
    for (int i = 0; i < 100 && tams_s3_probe_rounds(b) < 1; i++)
        usleep(20000);
    CHECK(tams_s3_probe_rounds(b) >= 1);
    CHECK(!tams_s3_endpoint_healthy(b, 0));
    CHECK(!tams_s3_endpoint_healthy(b, 1));
    CHECK(!tams_s3_endpoint_healthy(b, 2));
    CHECK_INT_EQ(b->ops->put_url(b, "http://api", key, 1700000000, &u1), 0);
    CHECK_INT_EQ(b->ops->get_url(b, "http://api", key, 1700000000, &u2, &presigned), 0);
    CHECK(presigned);
    CHECK(strncmp(u1.data, "http://127.0.0.1:", 17) == 0);
    CHECK(strstr(u1.data, "/tams-media/p/ab/cd/") != NULL);
    CHECK(strstr(u1.data, "X-Amz-Expires=30&") != NULL); /* put_expiry */
    CHECK(strstr(u2.data, "X-Amz-Expires=60&") != NULL);
    CHECK(strstr(u1.data, "X-Amz-SignedHeaders=host&") != NULL);
    CHECK(b->put_headers == NULL);
    CHECK(strstr(u1.data, "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20231114%2Feu-west-2%2Fs3") !=
          NULL);
    CHECK(strncmp(u1.data, u2.data, 19) != 0); /* two calls, two endpoints */
    CHECK(!strstr(u1.data, "wJalr"));
    CHECK_INT_EQ(b->ops->exists(b, key), TAMS_ERR_IO);
    b->ops->close(b);
    /* conditional_put: the PUT signs If-None-Match, which the client is told to send. */
    s.conditional_put = true;
    CHECK_INT_EQ(tams_s3_open(&b, &s, &why), 0);
    if (b) {
        tams_buf_reset(&u1);
        CHECK_INT_EQ(b->ops->put_url(b, "http://api", key, 1700000000, &u1), 0);
        CHECK(strstr(u1.data, "X-Amz-SignedHeaders=host%3Bif-none-match&") != NULL);
        CHECK(b->put_headers && strcmp(b->put_headers[0], "If-None-Match") == 0 &&
              strcmp(b->put_headers[1], "*") == 0 && !b->put_headers[2]);
        b->ops->close(b);
    }
    s.conditional_put = false;
    tams_buf_release(&u1);
    tams_buf_release(&u2);

    /* Settings the signer refuses stop the open with a message naming the backend. */
    s.access_key = "bad key";
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_s3_open(&b, &s, &why), TAMS_ERR_BADREQUEST);
    CHECK(b == NULL);
    CHECK(strstr(why.data, "storage backend 's3'") != NULL);
    CHECK(!strstr(why.data, "wJalr"));
    s.access_key = "AK";
    s.nendpoints = 0;
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_s3_open(&b, &s, &why), TAMS_ERR_BADREQUEST);
    tams_buf_release(&why);
}

/* Tags: kept per backend and for the built-in store, checked, matched by the filters. */
static void test_tags(void)
{
    struct tams_storage_config cfg;
    struct tams_buf why = TAMS_BUF_INIT(4096);
    const char *text = "{\"backends\":[" BACKEND(
        ID_A, "a",
        ",\"tags\":{\"tier\":\"hot\","
        "\"site\":[\"x\",\"y,z\"]}") "," BACKEND(ID_B, "b",
                                                 "") "],\"local\":{\"tags\":{\"tier\":\"cold\"}}}";
    struct tams_media_tag_filter hot = {"tier", "warm,hot", false}, site_y = {"site", "y", false},
                                 site_part = {"site", "x,", false}, has_site = {"site", NULL, true},
                                 no_site = {"site", NULL, false};

    CHECK_INT_EQ(parse(&cfg, text, &why), 0);
    CHECK_INT_EQ(cfg.ns3, 2);
    if (cfg.ns3 == 2) {
        CHECK(cfg.tags[0] != NULL);
        CHECK(cfg.tags[1] == NULL);
        CHECK(cfg.local_tags != NULL);
        CHECK(tams_media_tags_match(cfg.tags[0], &hot, 1));
        CHECK(!tams_media_tags_match(cfg.local_tags, &hot, 1));
        CHECK(tams_media_tags_match(cfg.tags[0], &site_part, 1)); /* "x" is in "x," */
        CHECK(!tams_media_tags_match(cfg.tags[0], &site_y, 1));   /* "y" is not "y,z" */
        CHECK(tams_media_tags_match(cfg.tags[0], &has_site, 1));
        CHECK(!tams_media_tags_match(cfg.tags[1], &has_site, 1));
        CHECK(tams_media_tags_match(cfg.tags[1], &no_site, 1));
        CHECK(tams_media_tags_match(NULL, NULL, 0));
        CHECK(
            !tams_media_tags_match(cfg.tags[0], (struct tams_media_tag_filter[]){hot, no_site}, 2));
    }
    tams_storage_config_release(&cfg);
    CHECK_INT_EQ(
        parse(&cfg, "{\"backends\":[" BACKEND(ID_A, "a", ",\"tags\":{\"t\":[1]}") "]}", &why),
        TAMS_ERR_BADREQUEST);
    CHECK(strstr(why.data, "'tags'") && strstr(why.data, "tag 't'"));
    tams_storage_config_release(&cfg);
    CHECK_INT_EQ(parse(&cfg, "{\"local\":{\"tags\":[]}}", &why), TAMS_ERR_BADREQUEST);
    CHECK(strstr(why.data, "'local.tags'") != NULL);
    tams_storage_config_release(&cfg);
    tams_buf_release(&why);
}

int main(void)
{
    RUN(test_tags);
    RUN(test_full);
    RUN(test_defaults);
    RUN(test_bad);
    RUN(test_long_key);
    RUN(test_normalise);
    RUN(test_load);
    RUN(test_backend);
    return check_report();
}
