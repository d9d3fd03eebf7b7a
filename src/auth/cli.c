/* SPDX-License-Identifier: Apache-2.0 */
/* cli.c - the user and token subcommands: parse, lock, load, change, save. */
#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/fs.h"
#include "auth/cli.h"
#include "auth/creds.h"
#include "auth/scopes.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2

struct cli {
    const char *group;  /* "user" or "token" */
    const char *action; /* add, delete, create, revoke, list */
    const char *name;
    const char *scopes;
    bool help;
    char *token; /* made by token create, printed once saved */
    char **pass; /* argv for tams_config_load: "tamsd" + the settings options */
    int npass;
    FILE *in, *out, *err;
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: tamsd user add NAME --scopes LIST [OPTION]...   (password on stdin)\n"
               "       tamsd user delete NAME [OPTION]...\n"
               "       tamsd user list [OPTION]...\n"
               "       tamsd token create --name NAME --scopes LIST [OPTION]...\n"
               "       tamsd token revoke NAME [OPTION]...\n"
               "       tamsd token list [OPTION]...\n"
               "Manage the credentials in DATA_DIR/" TAMS_CREDS_FILE ".\n"
               "LIST is a comma-separated subset of read, write, delete, admin.\n"
               "OPTIONs are the server's (--data-dir DIR, --config FILE, ...; see tamsd --help),\n"
               "and TAMS_* variables apply as for the server. A running server picks up\n"
               "changes within a second.\n");
}

bool tams_auth_cli_wants(int argc, char **argv)
{
    return argc > 1 && (strcmp(argv[1], "user") == 0 || strcmp(argv[1], "token") == 0);
}

/* Value of --opt VALUE or --opt=VALUE at argv[*i]; NULL (and a message) when missing. */
static const char *opt_value(struct cli *c, int argc, char **argv, int *i, size_t optlen)
{
    const char *a = argv[*i];
    if (a[optlen] == '=')
        return a + optlen + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(c->err, "tamsd: %s: missing value\n", a);
    return NULL;
}

static bool is_opt(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

static int parse(struct cli *c, int argc, char **argv)
{
    c->group = argv[1];
    c->pass = tams_calloc((size_t)argc + 1, sizeof(char *));
    c->pass[c->npass++] = argv[0];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            c->help = true;
        } else if (is_opt(a, "--scopes")) {
            if (!(c->scopes = opt_value(c, argc, argv, &i, 8)))
                return EXIT_USAGE;
        } else if (is_opt(a, "--name")) {
            if (!(c->name = opt_value(c, argc, argv, &i, 6)))
                return EXIT_USAGE;
        } else if (strncmp(a, "--", 2) == 0) {
            /* A server setting: every one takes a value. */
            c->pass[c->npass++] = argv[i];
            if (!strchr(a, '=') && i + 1 < argc)
                c->pass[c->npass++] = argv[++i];
        } else if (!c->action) {
            c->action = a;
        } else if (!c->name) {
            c->name = a;
        } else {
            fprintf(c->err, "tamsd: unexpected argument '%s'\n", a);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* One line from in, without its line end; NULL on EOF or a line that is too long. */
static char *read_password(struct cli *c, size_t *len)
{
    char *line = tams_malloc(TAMS_CREDS_PASSWORD_MAX + 3);
    size_t n;
    if (isatty(fileno(c->in)))
        fprintf(c->err, "Password for '%s': ", c->name);
    if (!fgets(line, TAMS_CREDS_PASSWORD_MAX + 3, c->in)) {
        tams_free(line);
        return NULL;
    }
    n = strlen(line);
    if (n && line[n - 1] == '\n')
        line[--n] = '\0';
    else if (n > TAMS_CREDS_PASSWORD_MAX)
        n = TAMS_CREDS_PASSWORD_MAX + 1; /* reported as too long */
    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    *len = n;
    return line;
}

static void list(struct cli *c, const struct tams_creds *cr)
{
    struct tams_buf sc = TAMS_BUF_INIT(64);
    if (strcmp(c->group, "user") == 0) {
        for (size_t i = 0; i < cr->nusers; i++) {
            tams_buf_reset(&sc);
            tams_scopes_format(cr->users[i].scopes, &sc);
            fprintf(c->out, "%s\t%s\t%s\n", cr->users[i].name, sc.data, cr->users[i].created);
        }
    } else {
        for (size_t i = 0; i < cr->ntokens; i++) {
            tams_buf_reset(&sc);
            tams_scopes_format(cr->tokens[i].scopes, &sc);
            fprintf(c->out, "%s\t" TAMS_CREDS_TOKEN_PREFIX "%s_...\t%s\t%s\n", cr->tokens[i].name,
                    cr->tokens[i].id, sc.data, cr->tokens[i].created);
        }
    }
    tams_buf_release(&sc);
}

/* The change itself, on loaded credentials; *dirty when they must be saved. */
static int apply(struct cli *c, struct tams_creds *cr, unsigned scopes, bool *dirty)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);
    bool user = strcmp(c->group, "user") == 0;
    int rc = 0;

    if (strcmp(c->action, "list") == 0) {
        list(c, cr);
    } else if (user && strcmp(c->action, "add") == 0) {
        size_t plen = 0;
        char *pw = read_password(c, &plen);
        if (!pw) {
            fprintf(c->err, "tamsd: no password on standard input\n");
            rc = EXIT_FAILED;
        } else if (tams_creds_add_user(cr, c->name, scopes, pw, plen, &why)) {
            fprintf(c->err, "tamsd: %s\n", why.data);
            rc = EXIT_FAILED;
        } else {
            *dirty = true;
        }
        if (pw) {
            OPENSSL_cleanse(pw, TAMS_CREDS_PASSWORD_MAX + 3);
            tams_free(pw);
        }
    } else if (!user && strcmp(c->action, "create") == 0) {
        char *token = NULL;
        if (tams_creds_add_token(cr, c->name, scopes, &token, &why)) {
            fprintf(c->err, "tamsd: %s\n", why.data);
            rc = EXIT_FAILED;
        } else {
            *dirty = true;
            c->token = token;
        }
    } else if ((user ? tams_creds_remove_user(cr, c->name)
                     : tams_creds_remove_token(cr, c->name))) {
        fprintf(c->err, "tamsd: no %s named '%s'\n", c->group, c->name);
        rc = EXIT_FAILED;
    } else {
        *dirty = true;
    }
    tams_buf_release(&why);
    return rc;
}

static int run(struct cli *c, const struct tams_config *cfg, unsigned scopes)
{
    struct tams_buf path = TAMS_BUF_INIT(TAMS_CONFIG_VALUE_MAX + 64);
    struct tams_buf lock = TAMS_BUF_INIT(TAMS_CONFIG_VALUE_MAX + 64);
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_creds cr = {0};
    bool listing = strcmp(c->action, "list") == 0, dirty = false;
    int lfd = -1, rc = 0;

    tams_buf_addf(&path, "%s/%s", cfg->data_dir, TAMS_CREDS_FILE);
    tams_buf_addf(&lock, "%s.lock", path.data);
    if (!listing && tams_mkdir_p(cfg->data_dir, 0750)) {
        fprintf(c->err, "tamsd: cannot create data directory '%s': %s\n", cfg->data_dir,
                strerror(errno));
        rc = EXIT_FAILED;
        goto out;
    }
    if (!listing) {
        lfd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
            fprintf(c->err, "tamsd: cannot lock '%s': %s\n", lock.data, strerror(errno));
            rc = EXIT_FAILED;
            goto out;
        }
    }
    if (tams_creds_load(&cr, path.data, &why)) {
        fprintf(c->err, "tamsd: %s\n", why.data);
        rc = EXIT_FAILED;
        goto out;
    }
    rc = apply(c, &cr, scopes, &dirty);
    if (!rc && dirty && tams_creds_save(&cr, path.data, &why)) {
        fprintf(c->err, "tamsd: %s\n", why.data);
        rc = EXIT_FAILED;
    }
    if (!rc && dirty && strcmp(c->action, "create") == 0) {
        fprintf(c->out, "%s\n", c->token);
        fprintf(c->err, "tamsd: token '%s' created; it is shown only this once\n", c->name);
    } else if (!rc && dirty) {
        fprintf(c->err, "tamsd: %s '%s' %s\n", c->group, c->name,
                strcmp(c->action, "add") == 0 ? "added" : "removed");
    }
    if (c->token) {
        OPENSSL_cleanse(c->token, strlen(c->token));
        tams_free(c->token);
        c->token = NULL;
    }
out:
    if (lfd >= 0)
        close(lfd); /* releases the lock */
    tams_creds_release(&cr);
    tams_buf_release(&path);
    tams_buf_release(&lock);
    tams_buf_release(&why);
    return rc;
}

static bool action_known(const struct cli *c, bool *needs_name, bool *needs_scopes)
{
    static const struct {
        const char *group, *action;
        bool name, scopes;
    } table[] = {
        {"user", "add", true, true},      {"user", "delete", true, false},
        {"user", "list", false, false},   {"token", "create", true, true},
        {"token", "revoke", true, false}, {"token", "list", false, false},
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(table); i++) {
        if (strcmp(table[i].group, c->group) == 0 && strcmp(table[i].action, c->action) == 0) {
            *needs_name = table[i].name;
            *needs_scopes = table[i].scopes;
            return true;
        }
    }
    return false;
}

int tams_auth_cli(int argc, char **argv, char **envp, FILE *in, FILE *out, FILE *err)
{
    struct cli c = {.in = in, .out = out, .err = err};
    struct tams_config cfg;
    struct tams_buf msg = TAMS_BUF_INIT(4096);
    enum tams_config_action action = TAMS_CONFIG_RUN;
    bool needs_name = false, needs_scopes = false;
    unsigned scopes = 0;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    rc = parse(&c, argc, argv);
    if (rc)
        goto out;
    if (c.help) {
        usage(out);
        goto out;
    }
    if (!c.action || !action_known(&c, &needs_name, &needs_scopes)) {
        fprintf(err, "tamsd: unknown %s command '%s'\n", c.group, c.action ? c.action : "");
        usage(err);
        rc = EXIT_USAGE;
        goto out;
    }
    if (needs_name != (c.name != NULL)) {
        fprintf(err, needs_name ? "tamsd: %s %s needs a NAME\n" : "tamsd: %s %s takes no NAME\n",
                c.group, c.action);
        rc = EXIT_USAGE;
        goto out;
    }
    if (c.name && !tams_creds_name_valid(c.name)) {
        fprintf(err,
                "tamsd: invalid name '%s': 1 to %d of A-Z a-z 0-9 . _ @ -, not starting "
                "with . or -\n",
                c.name, TAMS_CREDS_NAME_MAX);
        rc = EXIT_USAGE;
        goto out;
    }
    if (needs_scopes != (c.scopes != NULL) ||
        (c.scopes && tams_scopes_parse(c.scopes, strlen(c.scopes), false, &scopes))) {
        fprintf(err,
                needs_scopes ? "tamsd: %s %s needs --scopes, a comma-separated list of "
                               "read, write, delete, admin\n"
                             : "tamsd: %s %s takes no --scopes\n",
                c.group, c.action);
        rc = EXIT_USAGE;
        goto out;
    }
    rc = tams_config_load(&cfg, c.npass, c.pass, envp, &action, &msg);
    if (rc) {
        fprintf(err, "tamsd: %s\n", msg.data);
        rc = EXIT_USAGE;
        goto out;
    }
    rc = run(&c, &cfg, scopes);
out:
    tams_config_release(&cfg);
    tams_buf_release(&msg);
    tams_free(c.pass);
    return rc;
}
