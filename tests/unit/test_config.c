/* SPDX-License-Identifier: Apache-2.0 */
/* test_config.c - settings from defaults, file, environment and argv; docs/configuration.md. */
#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "check.h"

#include <unistd.h>

#define MAXV 32

/* Writable copies of string lists, since argv and envp are char **. */
struct strv {
    char *v[MAXV + 1];
    int n;
};

static void strv_fill(struct strv *sv, const char *const *list)
{
    sv->n = 0;
    for (; list && *list && sv->n < MAXV; list++)
        sv->v[sv->n++] = tams_strdup(*list);
    sv->v[sv->n] = NULL;
}

static void strv_release(struct strv *sv)
{
    for (int i = 0; i < sv->n; i++)
        tams_free(sv->v[i]);
    sv->n = 0;
}

/* Writes text to a new file under /tmp; returns its path (tams_free it after unlink). */
static char *temp_file(const char *text, size_t len)
{
    char path[] = "/tmp/tams_test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return tams_strdup("/nonexistent");
    CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
    return tams_strdup(path);
}

static void temp_remove(char *path)
{
    unlink(path);
    tams_free(path);
}

/* Loads with args (after argv[0]) and env; the message, if any, stays in err. */
static int load(struct tams_config *cfg, struct tams_buf *err, const char *const *args,
                const char *const *env, enum tams_config_action *action)
{
    struct strv av, ev;
    enum tams_config_action dummy;
    int rc;
    av.v[0] = tams_strdup("tamsd");
    av.n = 1;
    for (; args && *args && av.n < MAXV; args++)
        av.v[av.n++] = tams_strdup(*args);
    av.v[av.n] = NULL;
    strv_fill(&ev, env);
    tams_buf_reset(err);
    rc = tams_config_load(cfg, av.n, av.v, ev.v, action ? action : &dummy, err);
    strv_release(&av);
    strv_release(&ev);
    return rc;
}

/* Applies file text on fresh defaults. */
static int text(struct tams_config *cfg, struct tams_buf *err, const char *t)
{
    tams_config_release(cfg);
    tams_config_defaults(cfg);
    tams_buf_reset(err);
    return tams_config_apply_text(cfg, t, strlen(t), "test.conf", err);
}

static void test_defaults(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    enum tams_config_action action = TAMS_CONFIG_HELP;
    const char *const env[] = {"PATH=/usr/bin", "HOME=/root", NULL};

    CHECK_INT_EQ(load(&cfg, &err, NULL, env, &action), 0);
    CHECK_INT_EQ(action, TAMS_CONFIG_RUN);
    CHECK_STR_EQ(err.data, "");
    CHECK_STR_EQ(cfg.listen_host, "127.0.0.1");
    CHECK_INT_EQ(cfg.listen_port, 8080);
    CHECK_STR_EQ(cfg.data_dir, "./data");
    CHECK_STR_EQ(cfg.database, "");
    CHECK_STR_EQ(cfg.public_url, "");
    CHECK_INT_EQ(cfg.threads, 0);
    CHECK_INT_EQ(cfg.max_body_bytes, 8 * 1024 * 1024);
    CHECK_STR_EQ(cfg.cors_origins, "");
    CHECK_INT_EQ(cfg.log_level, TAMS_LOG_INFO);
    CHECK(cfg.access_log);
    CHECK_INT_EQ(cfg.page_limit_default, 100);
    CHECK_INT_EQ(cfg.page_limit_max, 1000);
    CHECK_STR_EQ(cfg.service_name, "tamsd");
    CHECK_STR_EQ(cfg.service_description, "Time-addressable Media Store");
    CHECK_INT_EQ(cfg.shutdown_timeout, 30);
    CHECK_STR_EQ(cfg.local_store_id, "");
    CHECK_STR_EQ(cfg.local_store_label, "local");
    CHECK(cfg.config_file == NULL);
    tams_config_release(&cfg);
    tams_config_release(&cfg); /* twice is fine */
    CHECK(cfg.listen_host == NULL);

    /* NULL envp and argc 0 are fine too. */
    CHECK_INT_EQ(tams_config_load(&cfg, 0, NULL, NULL, &action, &err), 0);
    tams_config_release(&cfg);
    tams_buf_release(&err);
}

static void test_file(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    const char *conf = "# a comment\n"
                       "\n"
                       "   # indented comment\n"
                       "listen = [::1]:9000\n"
                       "data_dir=/var/lib/tams\n"
                       "\tthreads\t=\t4\t\n"
                       "database = sqlite:/tmp/x.db\n"
                       "max_body_bytes = 16k\r\n"
                       "log_level = debug\n"
                       "access_log = off\n"
                       "service_description = \"  spaced  out  \"\n"
                       "service_name = name # with hash\n"
                       "local_store_id = 2b4d5c0e-8a8f-4d4c-9a11-3c1e2f6a7b8c\n"
                       "cors_origins = *\n"
                       "shutdown_timeout = 0";
    char *path = temp_file(conf, strlen(conf));
    char *flag = tams_malloc(strlen(path) + 16);
    char *envc = tams_malloc(strlen(path) + 16);
    snprintf(flag, strlen(path) + 16, "--config=%s", path);
    snprintf(envc, strlen(path) + 16, "TAMS_CONFIG=%s", path);

    {
        const char *const args[] = {flag, NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), 0);
        CHECK_STR_EQ(err.data, "");
        CHECK_STR_EQ(cfg.config_file, path);
        CHECK_STR_EQ(cfg.listen_host, "::1");
        CHECK_INT_EQ(cfg.listen_port, 9000);
        CHECK_STR_EQ(cfg.data_dir, "/var/lib/tams");
        CHECK_INT_EQ(cfg.threads, 4);
        CHECK_STR_EQ(cfg.database, "sqlite:/tmp/x.db");
        CHECK_INT_EQ(cfg.max_body_bytes, 16384);
        CHECK_INT_EQ(cfg.log_level, TAMS_LOG_DEBUG);
        CHECK(!cfg.access_log);
        CHECK_STR_EQ(cfg.service_description, "  spaced  out  ");
        CHECK_STR_EQ(cfg.service_name, "name # with hash");
        CHECK_STR_EQ(cfg.local_store_id, "2b4d5c0e-8a8f-4d4c-9a11-3c1e2f6a7b8c");
        CHECK_STR_EQ(cfg.cors_origins, "*");
        CHECK_INT_EQ(cfg.shutdown_timeout, 0);
        tams_config_release(&cfg);
    }
    {
        /* The file from TAMS_CONFIG; TAMS_CONFIG itself is not an unknown variable. */
        const char *const env[] = {envc, NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), 0);
        CHECK_STR_EQ(cfg.config_file, path);
        CHECK_INT_EQ(cfg.threads, 4);
        tams_config_release(&cfg);
    }
    {
        /* --config wins over TAMS_CONFIG. */
        const char *const args[] = {"--config", path, NULL};
        const char *const env[] = {"TAMS_CONFIG=/nonexistent/tams.conf", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, env, NULL), 0);
        CHECK_INT_EQ(cfg.threads, 4);
        tams_config_release(&cfg);
    }
    {
        /* An empty TAMS_CONFIG reads no file; an empty --config is an error. */
        const char *const env[] = {"TAMS_CONFIG=", NULL};
        const char *const args[] = {"--config=", NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), 0);
        CHECK(cfg.config_file == NULL);
        tams_config_release(&cfg);
        CHECK(load(&cfg, &err, args, NULL, NULL) < 0);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"--config", "/nonexistent/tams.conf", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_IO);
        CHECK(strstr(err.data, "cannot open config file '/nonexistent/tams.conf'") != NULL);
        tams_config_release(&cfg);
    }
    temp_remove(path);
    tams_free(flag);
    tams_free(envc);
    tams_buf_release(&err);
}

static void test_env_and_args(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    {
        const char *const env[] = {"TAMS_LISTEN=0.0.0.0:0",
                                   "TAMS_PUBLIC_URL=https://tams.example.com/api/",
                                   "TAMS_ACCESS_LOG=No",
                                   "TAMS_CORS_ORIGINS= http://a.example , https://b.example:8443 ",
                                   "TAMS_MAX_BODY_BYTES=1G",
                                   "NOT_TAMS=whatever",
                                   "tams_lowercase=ignored",
                                   NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), 0);
        CHECK_STR_EQ(err.data, "");
        CHECK_STR_EQ(cfg.listen_host, "0.0.0.0");
        CHECK_INT_EQ(cfg.listen_port, 0);
        CHECK_STR_EQ(cfg.public_url, "https://tams.example.com/api");
        CHECK(!cfg.access_log);
        CHECK_STR_EQ(cfg.cors_origins, "http://a.example,https://b.example:8443");
        CHECK_INT_EQ(cfg.max_body_bytes, 1073741824);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"--listen=localhost:9001",
                                    "--threads",
                                    "8",
                                    "--service-name=a=b",
                                    "--service-description",
                                    "two words",
                                    "--public-url",
                                    "http://h:8080/",
                                    "--log-level=ERROR",
                                    "--database",
                                    "postgresql://u@db/tams",
                                    "--page-limit-default=5",
                                    "--page-limit-max=5",
                                    NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), 0);
        CHECK_STR_EQ(err.data, "");
        CHECK_STR_EQ(cfg.listen_host, "localhost");
        CHECK_INT_EQ(cfg.listen_port, 9001);
        CHECK_INT_EQ(cfg.threads, 8);
        CHECK_STR_EQ(cfg.service_name, "a=b");
        CHECK_STR_EQ(cfg.service_description, "two words");
        CHECK_STR_EQ(cfg.public_url, "http://h:8080");
        CHECK_INT_EQ(cfg.log_level, TAMS_LOG_ERROR);
        CHECK_STR_EQ(cfg.database, "postgresql://u@db/tams");
        CHECK_INT_EQ(cfg.page_limit_default, 5);
        CHECK_INT_EQ(cfg.page_limit_max, 5);
        tams_config_release(&cfg);
    }
    tams_buf_release(&err);
}

static void test_precedence(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    const char *conf = "threads = 1\nshutdown_timeout = 11\nservice_name = file\n";
    char *path = temp_file(conf, strlen(conf));
    char *envc = tams_malloc(strlen(path) + 16);
    snprintf(envc, strlen(path) + 16, "TAMS_CONFIG=%s", path);
    {
        const char *const env[] = {envc, "TAMS_THREADS=2", "TAMS_SERVICE_NAME=env", NULL};
        const char *const args[] = {"--threads", "3", "--threads=4", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, env, NULL), 0);
        CHECK_INT_EQ(cfg.threads, 4);           /* command line, last one wins */
        CHECK_STR_EQ(cfg.service_name, "env");  /* environment over file */
        CHECK_INT_EQ(cfg.shutdown_timeout, 11); /* file over default */
        CHECK_INT_EQ(cfg.page_limit_max, 1000); /* default */
        tams_config_release(&cfg);
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), 0);
        CHECK_INT_EQ(cfg.threads, 2);
        tams_config_release(&cfg);
    }
    {
        const char *const env[] = {envc, NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), 0);
        CHECK_INT_EQ(cfg.threads, 1);
        tams_config_release(&cfg);
    }
    /* Within a file the last line wins. */
    CHECK_INT_EQ(text(&cfg, &err, "threads = 1\nthreads = 7\n"), 0);
    CHECK_INT_EQ(cfg.threads, 7);
    tams_config_release(&cfg);
    temp_remove(path);
    tams_free(envc);
    tams_buf_release(&err);
}

/* The value `v` for `key` in a file is rejected with a message naming both. */
static void bad(const char *key, const char *v)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    struct tams_buf line = TAMS_BUF_INIT(4096);
    tams_buf_addf(&line, "# x\n%s = \"%s\"\n", key, v);
    tams_config_defaults(&cfg);
    if (tams_config_apply_text(&cfg, line.data, line.len, "t.conf", &err) == 0) {
        fprintf(stderr, "accepted %s = '%s'\n", key, v);
        CHECK(false);
    } else {
        CHECK(strstr(err.data, "t.conf:2: ") == err.data);
        if (!strstr(err.data, key) ||
            (strlen(v) < 60 && !strpbrk(v, "\\\t") && !strstr(err.data, v)))
            fprintf(stderr, "message lacks key or value: %s\n", err.data);
        CHECK(strstr(err.data, key) != NULL);
        CHECK(strchr(err.data, '\n') == NULL);
    }
    tams_config_release(&cfg);
    tams_buf_release(&err);
    tams_buf_release(&line);
}

static void good(const char *key, const char *v)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    struct tams_buf line = TAMS_BUF_INIT(4096);
    tams_buf_addf(&line, "%s = \"%s\"\n", key, v);
    tams_config_defaults(&cfg);
    if (tams_config_apply_text(&cfg, line.data, line.len, "t.conf", &err)) {
        fprintf(stderr, "rejected %s = '%s': %s\n", key, v, err.data);
        CHECK(false);
    } else {
        CHECK(true);
    }
    tams_config_release(&cfg);
    tams_buf_release(&err);
    tams_buf_release(&line);
}

static void test_bad_values(void)
{
    static const char *const ints[] = {"threads", "page_limit_default", "page_limit_max",
                                       "shutdown_timeout"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(ints); i++) {
        bad(ints[i], "");
        bad(ints[i], "abc");
        bad(ints[i], "1x");
        bad(ints[i], " 1");
        bad(ints[i], "+1");
        bad(ints[i], "0x10");
        bad(ints[i], "99999999999999999999999");
        bad(ints[i], "-1");
        bad(ints[i], "1000000");
    }
    bad("threads", "257");
    good("threads", "256");
    bad("page_limit_default", "0");
    bad("shutdown_timeout", "3601");
    good("shutdown_timeout", "3600");

    bad("max_body_bytes", "");
    bad("max_body_bytes", "k");
    bad("max_body_bytes", "1023");
    bad("max_body_bytes", "1073741825");
    bad("max_body_bytes", "2G");
    bad("max_body_bytes", "8MB");
    bad("max_body_bytes", "8 M");
    bad("max_body_bytes", "1T");
    bad("max_body_bytes", "-1k");
    bad("max_body_bytes", "18446744073709551616");
    bad("max_body_bytes", "18014398509481984k");

    bad("log_level", "verbose");
    bad("log_level", "");
    bad("log_level", "warning");
    bad("access_log", "maybe");
    bad("access_log", "");
    bad("access_log", "2");

    bad("database", "mysql://x");
    bad("database", "sqlite:");
    bad("database", "postgresql://");
    bad("database", "/var/lib/tams.db");

    bad("public_url", "ftp://x");
    bad("public_url", "tams.example.com");
    bad("public_url", "http://");
    bad("public_url", "http:///path");
    bad("public_url", "http://x/?a=b");
    bad("public_url", "http://x/#frag");
    bad("public_url", "http://user:pw@x/");
    bad("public_url", "http://x y/");
    bad("public_url", "http://x:99999/");
    bad("public_url", "http://[::1/");

    bad("cors_origins", "*,http://a.example");
    bad("cors_origins", "http://a.example/");
    bad("cors_origins", "http://a.example,,http://b.example");
    bad("cors_origins", "http://a.example,");
    bad("cors_origins", "a.example");
    bad("cors_origins", "http://a.example/path");

    bad("local_store_id", "2B4D5C0E-8A8F-4D4C-9A11-3C1E2F6A7B8C");
    bad("local_store_id", "2b4d5c0e-8a8f-6d4c-9a11-3c1e2f6a7b8c");
    bad("local_store_id", "not-a-uuid");
    bad("data_dir", "");
    bad("service_name", "tab\there");

    /* The message names the setting and the value. */
    {
        struct tams_config cfg = {0};
        struct tams_buf err = TAMS_BUF_INIT(4096);
        const char *const args[] = {"--threads", "many", NULL};
        const char *const env[] = {"TAMS_LOG_LEVEL=loud", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK_STR_EQ(
            err.data,
            "--threads: invalid value 'many' for threads: expected an integer from 0 to 256");
        tams_config_release(&cfg);
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), TAMS_ERR_BADREQUEST);
        CHECK_STR_EQ(err.data, "TAMS_LOG_LEVEL: invalid value 'loud' for log_level: expected "
                               "debug, info, warn or error");
        tams_config_release(&cfg);
        tams_buf_release(&err);
    }
}

static void test_unknown(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);

    CHECK_INT_EQ(text(&cfg, &err, "threads = 1\n\nbogus = 2\n"), TAMS_ERR_BADREQUEST);
    CHECK_STR_EQ(err.data, "test.conf:3: unknown setting 'bogus'");
    CHECK_INT_EQ(text(&cfg, &err, "max-body-bytes = 2M\n"), TAMS_ERR_BADREQUEST);
    CHECK_STR_EQ(err.data,
                 "test.conf:1: unknown setting 'max-body-bytes', did you mean 'max_body_bytes'?");
    CHECK_INT_EQ(text(&cfg, &err, "Threads = 2\n"), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(text(&cfg, &err, "config = /etc/tams.conf\n"), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(text(&cfg, &err, "threads 2\n"), TAMS_ERR_BADREQUEST);
    CHECK_STR_EQ(err.data, "test.conf:1: expected 'key = value'");
    CHECK_INT_EQ(text(&cfg, &err, "= 2\n"), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(text(&cfg, &err, "threads\n"), TAMS_ERR_BADREQUEST);
    tams_config_release(&cfg);
    {
        const char *const args[] = {"--bogus=1", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK_STR_EQ(err.data, "command line: unknown option '--bogus'");
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"--max_body_bytes", "2M", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK(strstr(err.data, "did you mean '--max-body-bytes'?") != NULL);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"positional", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK(strstr(err.data, "unexpected argument 'positional'") != NULL);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"-t", "4", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"--threads", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK_STR_EQ(err.data, "--threads: missing value");
        tams_config_release(&cfg);
    }
    {
        const char *const env[] = {"TAMS_BOGUS=1", NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), TAMS_ERR_BADREQUEST);
        CHECK_STR_EQ(err.data, "environment: unknown variable 'TAMS_BOGUS'");
        tams_config_release(&cfg);
    }
    {
        const char *const env[] = {"TAMS_DATADIR=/x", NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), TAMS_ERR_BADREQUEST);
        tams_config_release(&cfg);
    }
    {
        const char *const env[] = {"TAMS_THREAD=1", NULL};
        const char *const env2[] = {"TAMS_page_limit_max=1", NULL};
        CHECK_INT_EQ(load(&cfg, &err, NULL, env, NULL), TAMS_ERR_BADREQUEST);
        tams_config_release(&cfg);
        CHECK_INT_EQ(load(&cfg, &err, NULL, env2, NULL), TAMS_ERR_BADREQUEST);
        CHECK(strstr(err.data, "did you mean 'TAMS_PAGE_LIMIT_MAX'?") != NULL);
        tams_config_release(&cfg);
    }
    tams_buf_release(&err);
}

static void test_help_version(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    enum tams_config_action action;
    {
        const char *const args[] = {"--threads", "2", "--help", "--bogus", NULL};
        const char *const env[] = {"TAMS_BOGUS=1", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, env, &action), 0);
        CHECK_INT_EQ(action, TAMS_CONFIG_HELP);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"-h", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, &action), 0);
        CHECK_INT_EQ(action, TAMS_CONFIG_HELP);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"--version", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, &action), 0);
        CHECK_INT_EQ(action, TAMS_CONFIG_VERSION);
        tams_config_release(&cfg);
    }
    {
        const char *const args[] = {"--help=yes", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, &action), TAMS_ERR_BADREQUEST);
        tams_config_release(&cfg);
    }
    tams_buf_release(&err);
}

static void test_quoting(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);

    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"say \\\"hi\\\" \\\\ there\"\n"), 0);
    CHECK_STR_EQ(cfg.service_name, "say \"hi\" \\ there");
    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"# not a comment\"   # a comment\n"), 0);
    CHECK_STR_EQ(cfg.service_name, "# not a comment");
    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"\"\n"), 0);
    CHECK_STR_EQ(cfg.service_name, "");
    CHECK_INT_EQ(text(&cfg, &err, "service_name =\n"), 0);
    CHECK_STR_EQ(cfg.service_name, "");
    CHECK_INT_EQ(text(&cfg, &err, "service_name = a \"b\" c\n"), 0);
    CHECK_STR_EQ(cfg.service_name, "a \"b\" c");
    CHECK_INT_EQ(text(&cfg, &err, "threads = \"12\"\n"), 0);
    CHECK_INT_EQ(cfg.threads, 12);

    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"open\n"), TAMS_ERR_BADREQUEST);
    CHECK_STR_EQ(err.data, "test.conf:1: missing closing quote for service_name");
    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"a\\nb\"\n"), TAMS_ERR_BADREQUEST);
    CHECK(strstr(err.data, "unknown escape") != NULL);
    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"a\" b\n"), TAMS_ERR_BADREQUEST);
    CHECK(strstr(err.data, "after the closing quote") != NULL);
    CHECK_INT_EQ(text(&cfg, &err, "service_name = \"a\\\"\n"), TAMS_ERR_BADREQUEST);

    /* Byte order mark, CRLF, a last line without newline, NUL bytes. */
    CHECK_INT_EQ(text(&cfg, &err, "\xef\xbb\xbfthreads = 3\r\nlog_level = warn"), 0);
    CHECK_INT_EQ(cfg.threads, 3);
    CHECK_INT_EQ(cfg.log_level, TAMS_LOG_WARN);
    tams_buf_reset(&err);
    CHECK_INT_EQ(tams_config_apply_text(&cfg, "threads = 1\0\n", 13, NULL, &err),
                 TAMS_ERR_BADREQUEST);
    CHECK_STR_EQ(err.data, "config:1: NUL byte in the line");
    tams_config_release(&cfg);
    tams_buf_release(&err);
}

static void test_listen(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    static const struct {
        const char *v, *host;
        int port;
    } ok[] = {
        {"[::1]:8080", "::1", 8080},
        {"[::]:0", "::", 0},
        {"[fe80::1:2]:65535", "fe80::1:2", 65535},
        {"0.0.0.0:80", "0.0.0.0", 80},
        {"localhost:1", "localhost", 1},
        {"tams-1.example.com:443", "tams-1.example.com", 443},
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(ok); i++) {
        const char *const args[] = {"--listen", ok[i].v, NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), 0);
        CHECK_STR_EQ(cfg.listen_host, ok[i].host);
        CHECK_INT_EQ(cfg.listen_port, ok[i].port);
        tams_config_release(&cfg);
    }
    bad("listen", "127.0.0.1");
    bad("listen", "localhost");
    bad("listen", "[::1]");
    bad("listen", "[::1]8080");
    bad("listen", "[::1:8080");
    bad("listen", "::1:8080");
    bad("listen", ":8080");
    bad("listen", "[]:8080");
    bad("listen", "localhost:");
    bad("listen", "localhost:65536");
    bad("listen", "localhost:-1");
    bad("listen", "localhost:80x");
    bad("listen", "999.1.1.1:80");
    bad("listen", "1.2.3:80");
    bad("listen", "-bad-:80");
    bad("listen", "bad_name:80");
    bad("listen", "[1.2.3.4]:80");
    bad("listen", "[fe80::1%eth0]:80");
    bad("listen", "");
    {
        const char *const args[] = {"--listen=127.0.0.1", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK(strstr(err.data, "missing port") != NULL);
        tams_config_release(&cfg);
    }
    tams_buf_release(&err);
}

static void test_sizes(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    static const struct {
        const char *v;
        size_t n;
    } ok[] = {
        {"1024", 1024},     {"1k", 1024},       {"1K", 1024},          {"1025", 1025},
        {"64k", 65536},     {"8M", 8388608},    {"8m", 8388608},       {"1G", 1073741824},
        {"1g", 1073741824}, {"1023k", 1047552}, {"1024M", 1073741824}, {"1073741824", 1073741824},
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(ok); i++) {
        const char *const args[] = {"--max-body-bytes", ok[i].v, NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), 0);
        CHECK_INT_EQ(cfg.max_body_bytes, ok[i].n);
        tams_config_release(&cfg);
    }
    tams_buf_release(&err);
}

static void test_page_limits(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    {
        const char *const args[] = {"--page-limit-default=2000", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_BADREQUEST);
        CHECK_STR_EQ(err.data, "page_limit_default 2000 is greater than page_limit_max 1000");
        tams_config_release(&cfg);
    }
    {
        /* Checked after all sources merge: env raises default, argv raises max. */
        const char *const env[] = {"TAMS_PAGE_LIMIT_DEFAULT=2000", NULL};
        const char *const args[] = {"--page-limit-max", "2000", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, env, NULL), 0);
        CHECK_INT_EQ(cfg.page_limit_default, 2000);
        tams_config_release(&cfg);
        const char *const args2[] = {"--page-limit-max", "50", NULL};
        const char *const env2[] = {"TAMS_PAGE_LIMIT_DEFAULT=10", NULL};
        CHECK_INT_EQ(load(&cfg, &err, args2, env2, NULL), 0);
        tams_config_release(&cfg);
    }
    tams_buf_release(&err);
}

static void test_limits(void)
{
    struct tams_config cfg = {0};
    struct tams_buf err = TAMS_BUF_INIT(4096);
    size_t big = TAMS_CONFIG_FILE_MAX + 1;
    char *data = tams_malloc(big);
    char *path;

    memset(data, '\n', big);
    tams_config_defaults(&cfg);
    CHECK_INT_EQ(tams_config_apply_text(&cfg, data, big, "big", &err), TAMS_ERR_TOOBIG);
    tams_config_release(&cfg);
    path = temp_file(data, big);
    {
        const char *const args[] = {"--config", path, NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_TOOBIG);
        CHECK(strstr(err.data, "larger than") != NULL);
        tams_config_release(&cfg);
    }
    temp_remove(path);
    /* Exactly 1 MiB of blank lines is fine. */
    tams_config_defaults(&cfg);
    CHECK_INT_EQ(tams_config_apply_text(&cfg, data, big - 1, "big", &err), 0);
    tams_config_release(&cfg);

    /* A line of 8 KiB is fine, one byte more is not. */
    memcpy(data, "service_name = ", 15);
    memset(data + 15, 'x', TAMS_CONFIG_LINE_MAX - 15);
    tams_config_defaults(&cfg);
    CHECK_INT_EQ(tams_config_apply_text(&cfg, data, TAMS_CONFIG_LINE_MAX, "l", &err), 0);
    CHECK_INT_EQ(strlen(cfg.service_name), TAMS_CONFIG_LINE_MAX - 15);
    data[TAMS_CONFIG_LINE_MAX] = 'x';
    CHECK_INT_EQ(tams_config_apply_text(&cfg, data, TAMS_CONFIG_LINE_MAX + 1, "l", &err),
                 TAMS_ERR_TOOBIG);
    tams_config_release(&cfg);

    /* Values from argv are capped the same way. */
    data[TAMS_CONFIG_VALUE_MAX + 20] = '\0';
    {
        const char *const args[] = {"--service-name", data + 15, NULL};
        CHECK_INT_EQ(load(&cfg, &err, args, NULL, NULL), TAMS_ERR_TOOBIG);
        tams_config_release(&cfg);
    }
    tams_free(data);
    tams_buf_release(&err);
}

static void test_usage(void)
{
    struct tams_config_setting_info info;
    char path[] = "/tmp/tams_test_usage_XXXXXX";
    char buf[16384];
    size_t len;
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;

    CHECK(f != NULL);
    if (!f)
        return;
    tams_config_usage(f);
    rewind(f);
    len = fread(buf, 1, sizeof(buf) - 1, f);
    buf[len] = '\0';
    fclose(f);
    unlink(path);
    CHECK(len < sizeof(buf) - 1);
    CHECK(strstr(buf, "--config FILE") != NULL);
    /* The credential commands of src/auth/cli.c, with what each takes. */
    CHECK(strstr(buf, "tamsd user add NAME --scopes LIST") != NULL);
    CHECK(strstr(buf, "tamsd user delete NAME") != NULL);
    CHECK(strstr(buf, "tamsd user list") != NULL);
    CHECK(strstr(buf, "tamsd token create --name NAME --scopes LIST") != NULL);
    CHECK(strstr(buf, "tamsd token revoke NAME") != NULL);
    CHECK(strstr(buf, "tamsd token list") != NULL);
    for (size_t i = 0; tams_config_setting_info(i, &info); i++) {
        CHECK(strstr(buf, info.flag) != NULL);
        CHECK(strstr(buf, info.env) != NULL);
        CHECK(strstr(buf, info.name) != NULL);
    }
    CHECK(!tams_config_setting_info(1000, &info));
}

/* ---- docs/configuration.md must describe exactly the table --------------------------------- */

/* A file of the source tree (path relative to its top), whole; NULL when it cannot be read. */
static char *read_source_file(const char *rel)
{
#ifdef TAMS_SOURCE_DIR
    const char *dir = TAMS_SOURCE_DIR;
#else
    const char *dir = getenv("TAMS_SOURCE_DIR");
#endif
    struct tams_buf path = TAMS_BUF_INIT(4096), out = TAMS_BUF_INIT(1 << 20);
    char chunk[4096];
    size_t got;
    FILE *f;

    if (!dir) {
        fprintf(stderr, "TAMS_SOURCE_DIR is neither defined at compile time nor set\n");
        CHECK(dir != NULL);
        return NULL;
    }
    tams_buf_addf(&path, "%s/%s", dir, rel);
    f = fopen(path.data, "rb");
    CHECK(f != NULL);
    tams_buf_release(&path);
    if (!f)
        return NULL;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        tams_buf_add(&out, chunk, got);
    fclose(f);
    return tams_buf_detach(&out, NULL);
}

static bool is_digit_c(char c)
{
    return c >= '0' && c <= '9';
}

static bool known_env(const char *s, size_t n)
{
    struct tams_config_setting_info info;
    if (n == 11 && memcmp(s, "TAMS_CONFIG", 11) == 0)
        return true;
    for (size_t i = 0; tams_config_setting_info(i, &info); i++)
        if (strlen(info.env) == n && memcmp(info.env, s, n) == 0)
            return true;
    return false;
}

static bool known_flag(const char *s, size_t n)
{
    static const char *const extra[] = {"--config", "--help", "--version"};
    struct tams_config_setting_info info;
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(extra); i++)
        if (strlen(extra[i]) == n && memcmp(extra[i], s, n) == 0)
            return true;
    for (size_t i = 0; tams_config_setting_info(i, &info); i++)
        if (strlen(info.flag) == n && memcmp(info.flag, s, n) == 0)
            return true;
    return false;
}

static void test_docs(void)
{
    struct tams_config_setting_info info;
    struct tams_buf needle = TAMS_BUF_INIT(256), err = TAMS_BUF_INIT(4096);
    struct tams_config cfg = {0};
    char *doc = read_source_file("docs/configuration.md");
    const char *p, *start, *end;

    if (!doc)
        return;
    /* Every setting has a table row "| `name` | `TAMS_X` | `--x` | type | default | ...". */
    for (size_t i = 0; tams_config_setting_info(i, &info); i++) {
        const char *row, *eol;
        tams_buf_reset(&needle);
        tams_buf_addf(&needle, "\n| `%s` |", info.name);
        row = strstr(doc, needle.data);
        if (!row)
            fprintf(stderr, "docs/configuration.md has no table row for %s\n", info.name);
        CHECK(row != NULL);
        if (!row)
            continue;
        row++;
        eol = strchr(row, '\n');
        eol = eol ? eol : row + strlen(row);
        tams_buf_reset(&needle);
        tams_buf_addf(&needle, "`%s`", info.env);
        CHECK(memmem(row, (size_t)(eol - row), needle.data, needle.len) != NULL);
        tams_buf_reset(&needle);
        tams_buf_addf(&needle, "`%s`", info.flag);
        CHECK(memmem(row, (size_t)(eol - row), needle.data, needle.len) != NULL);
        tams_buf_reset(&needle);
        tams_buf_addf(&needle, "`\"%s\"`", info.default_value);
        if (!memmem(row, (size_t)(eol - row), needle.data, needle.len)) {
            tams_buf_reset(&needle);
            tams_buf_addf(&needle, "`%s`", info.default_value);
        }
        if (!memmem(row, (size_t)(eol - row), needle.data, needle.len))
            fprintf(stderr, "row for %s lacks default %s\n", info.name, info.default_value);
        CHECK(memmem(row, (size_t)(eol - row), needle.data, needle.len) != NULL);
    }
    /* And the docs name no variable or flag that the table lacks. */
    for (p = doc; (p = strstr(p, "TAMS_")) != NULL; p = end) {
        for (end = p + 5; (*end >= 'A' && *end <= 'Z') || *end == '_' || is_digit_c(*end); end++)
            ;
        if (end == p + 5)
            continue; /* "TAMS_*", the prefix itself */
        if (!known_env(p, (size_t)(end - p)))
            fprintf(stderr, "docs name unknown variable %.*s\n", (int)(end - p), p);
        CHECK(known_env(p, (size_t)(end - p)));
    }
    for (p = doc; (p = strstr(p, "--")) != NULL; p = end) {
        for (end = p + 2; (*end >= 'a' && *end <= 'z') || *end == '-'; end++)
            ;
        if (end == p + 2 || p[2] == '-') {
            end = p + 2;
            continue; /* "---" table rules, "--" alone */
        }
        if (!known_flag(p, (size_t)(end - p)))
            fprintf(stderr, "docs name unknown option %.*s\n", (int)(end - p), p);
        CHECK(known_flag(p, (size_t)(end - p)));
    }
    /* The example file in the docs (the first ```ini block) is valid. */
    start = strstr(doc, "```ini\n");
    CHECK(start != NULL);
    if (start) {
        start += 7;
        end = strstr(start, "```");
        CHECK(end != NULL);
        tams_config_defaults(&cfg);
        if (end)
            CHECK_INT_EQ(tams_config_apply_text(&cfg, start, (size_t)(end - start), "docs", &err),
                         0);
        if (err.len)
            fprintf(stderr, "%s\n", err.data);
        CHECK(cfg.page_limit_default <= cfg.page_limit_max);
        tams_config_release(&cfg);
    }
    tams_free(doc);
    tams_buf_release(&needle);
    tams_buf_release(&err);
}

/* ---- etc/tamsd.conf, the installed default config: every setting, commented out ------------ */

/* "key =..." with key a setting's name (lower case, digits, '_'). */
static bool is_setting_line(const char *p, size_t n)
{
    size_t k = 0;
    while (k < n && ((p[k] >= 'a' && p[k] <= 'z') || is_digit_c(p[k]) || p[k] == '_'))
        k++;
    return k > 0 && n - k >= 2 && p[k] == ' ' && p[k + 1] == '=';
}

static void test_default_conf(void)
{
    struct tams_config_setting_info info;
    struct tams_buf needle = TAMS_BUF_INIT(1024), active = TAMS_BUF_INIT(1 << 20),
                    err = TAMS_BUF_INIT(4096);
    struct tams_config cfg = {0};
    char *conf = read_source_file("etc/tamsd.conf");
    const char *p;
    size_t nsettings = 0, nlines = 0;

    if (!conf)
        return;
    /* Each setting has its line "# name = default", or "# name =" when the default is empty. */
    for (size_t i = 0; tams_config_setting_info(i, &info); i++, nsettings++) {
        tams_buf_reset(&needle);
        tams_buf_addf(&needle, "\n# %s =%s%s\n", info.name, *info.default_value ? " " : "",
                      info.default_value);
        if (!strstr(conf, needle.data))
            fprintf(stderr, "etc/tamsd.conf lacks the line '# %s = %s'\n", info.name,
                    info.default_value);
        CHECK(strstr(conf, needle.data) != NULL);
    }
    /* Uncommented, those lines are a valid config file (an unknown key fails it) with each
     * setting once. */
    for (p = conf; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n > 2 && p[0] == '#' && p[1] == ' ' && is_setting_line(p + 2, n - 2)) {
            tams_buf_add(&active, p + 2, n - 2);
            tams_buf_addch(&active, '\n');
            nlines++;
        }
        p += n + (eol != NULL);
    }
    CHECK(tams_buf_ok(&active));
    CHECK_INT_EQ(nlines, nsettings);
    tams_config_defaults(&cfg);
    CHECK_INT_EQ(
        tams_config_apply_text(&cfg, active.data, active.len, "etc/tamsd.conf uncommented", &err),
        0);
    if (err.len)
        fprintf(stderr, "%s\n", err.data);
    tams_config_release(&cfg);
    tams_free(conf);
    tams_buf_release(&needle);
    tams_buf_release(&active);
    tams_buf_release(&err);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_file);
    RUN(test_env_and_args);
    RUN(test_precedence);
    RUN(test_bad_values);
    RUN(test_unknown);
    RUN(test_help_version);
    RUN(test_quoting);
    RUN(test_listen);
    RUN(test_sizes);
    RUN(test_page_limits);
    RUN(test_limits);
    RUN(test_usage);
    RUN(test_docs);
    RUN(test_default_conf);
    return check_report();
}
