/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - the tams program: parse the command line, connect, run one command. */
#include "core/common.h"
#include "client/cli.h"
#include "client/cmd.h"
#include "client/conf.h"
#include "client/help.h"
#include "core/buf.h"
#include "core/fs.h"

#include <curl/curl.h>
#include <libavutil/log.h>
#include <termios.h>
#include <unistd.h>

int tams_cmd_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tams: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    return TAMS_EXIT_USAGE;
}

static const struct {
    const char *name;
    int (*run)(struct tams_ctx *c);
} COMMANDS[] = {{"sources", tams_cmd_sources},   {"flows", tams_cmd_flows},
                {"segments", tams_cmd_segments}, {"delete", tams_cmd_delete},
                {"webhooks", tams_cmd_webhooks}, {"ingest", tams_cmd_ingest},
                {"export", tams_cmd_export},     {"copy", tams_cmd_copy}};

/* The config file: --config, else $TAMS_CONFIG, else $XDG_CONFIG_HOME/tams/config or
 * ~/.config/tams/config when it exists. Only a file named explicitly must exist. */
static int load_conf(struct tams_cli *cli, struct tams_conf *conf)
{
    const char *named = tams_cli_get(cli, "config");
    if (!named)
        named = getenv("TAMS_CONFIG");
    struct tams_buf path = TAMS_BUF_INIT(4096);
    if (named) {
        (void)tams_buf_addstr(&path, named);
    } else if (getenv("XDG_CONFIG_HOME") && *getenv("XDG_CONFIG_HOME")) {
        (void)tams_buf_addf(&path, "%s/tams/config", getenv("XDG_CONFIG_HOME"));
    } else if (getenv("HOME")) {
        (void)tams_buf_addf(&path, "%s/.config/tams/config", getenv("HOME"));
    }
    memset(conf, 0, sizeof(*conf));
    int rc = TAMS_EXIT_OK;
    FILE *f = path.len ? fopen(path.data, "rb") : NULL;
    if (!f) {
        if (named) {
            fprintf(stderr, "tams: cannot open config file '%s'\n", path.data);
            rc = TAMS_EXIT_USAGE;
        }
        goto out;
    }
    struct tams_buf text = TAMS_BUF_INIT(1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        (void)tams_buf_add(&text, chunk, n);
    fclose(f);
    int bad = 0;
    if (!tams_buf_ok(&text) || tams_conf_parse(text.data, text.len, conf, &bad)) {
        fprintf(stderr,
                "tams: config file '%s': line %d is not 'url|token|user|password = value'\n",
                path.data, bad);
        rc = TAMS_EXIT_USAGE;
    }
    tams_buf_release(&text);
out:
    tams_buf_release(&path);
    return rc;
}

/* Reads a password from the terminal without echo. */
static char *prompt_password(const char *user)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return NULL;
    struct termios old, quiet;
    bool echo_off = tcgetattr(fileno(tty), &old) == 0;
    fprintf(tty, "password for %s: ", user);
    fflush(tty);
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    char line[1024];
    char *got = fgets(line, sizeof(line), tty);
    if (echo_off)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    if (!got)
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    char *pw = tams_strdup(line);
    memset(line, 0, sizeof(line));
    return pw;
}

static const char *pick(const char *option, const char *env, const char *file)
{
    if (option)
        return option;
    if (env && *env)
        return env;
    return file;
}

static int connect_ctx(struct tams_ctx *c, struct tams_conf *conf)
{
    /* copy reads from --from: the connection every command has is the one it reads. */
    const char *from = tams_cli_get(c->cli, "from");
    const char *url =
        pick(from ? from : tams_cli_get(c->cli, "url"), getenv("TAMS_URL"), conf->url);
    const char *token = pick(tams_cli_get(c->cli, "token"), getenv("TAMS_TOKEN"), conf->token);
    const char *user = pick(tams_cli_get(c->cli, "user"), getenv("TAMS_USER"), conf->user);
    char *prompted = NULL;
    if (!url)
        return tams_cmd_usage("no server: give --url URL, or set TAMS_URL");
    const char *password = NULL;
    if (user && !token) {
        password = pick(NULL, getenv("TAMS_PASSWORD"), conf->password);
        if (!password && !(password = prompted = prompt_password(user)))
            return tams_cmd_usage("no password for user '%s': set TAMS_PASSWORD", user);
    }
    int rc = tams_http_init(&c->http, url, token, user, password);
    tams_free(prompted);
    if (rc)
        return tams_cmd_usage("--url '%s' is not an http:// or https:// URL", url);
    c->http.verbose = c->verbose;
    return TAMS_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct tams_cli cli;
    struct tams_conf conf = {0};
    struct tams_ctx c = {.cli = &cli};
    char err[256];
    int rc;

    if (tams_cli_parse(argc, argv, &cli, err, sizeof(err)))
        return tams_cmd_usage("%s (see 'tams help')", err);
    const char *cmd = tams_cli_pos(&cli, 0);
    if (!cmd || strcmp(cmd, "help") == 0)
        return tams_help(stdout, cmd ? tams_cli_pos(&cli, 1) : NULL);
    if (tams_cli_has(&cli, "help"))
        return tams_help(stdout, cmd);
    if (strcmp(cmd, "version") == 0) {
        printf("tams %s\n", TAMS_VERSION);
        return TAMS_EXIT_OK;
    }
    int (*run)(struct tams_ctx *) = NULL;
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(COMMANDS); i++)
        if (strcmp(COMMANDS[i].name, cmd) == 0)
            run = COMMANDS[i].run;
    if (!run)
        return tams_cmd_usage("unknown command '%s' (see 'tams help')", cmd);

    /* Refused before anything is sent: an option the command does not know is a typo. */
    for (size_t i = 0; i < cli.nopt; i++)
        if (!tams_help_allows(cmd, cli.opt[i].name))
            return tams_cmd_usage("option '--%s' means nothing to 'tams %s' (see 'tams help %s')",
                                  cli.opt[i].name, cmd, cmd);
    c.json = tams_cli_has(&cli, "json");
    c.quiet = tams_cli_has(&cli, "quiet");
    c.verbose = tams_cli_has(&cli, "verbose");
    c.tty = isatty(STDERR_FILENO) && !c.quiet;
    if ((rc = load_conf(&cli, &conf)))
        return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* FFmpeg's own chatter only with --verbose; its errors reach the user as ours. */
    av_log_set_level(c.verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
    if ((rc = connect_ctx(&c, &conf)) == TAMS_EXIT_OK) {
        rc = run(&c);
    }
    tams_http_release(&c.http);
    tams_conf_release(&conf);
    curl_global_cleanup();
    return rc;
}
