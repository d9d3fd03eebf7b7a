/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/cli.h"

/* One table for all commands: a name means the same thing everywhere, so "tams help" can list
 * them once and a misspelt option is refused before any request is made. */
static const struct {
    const char *name;
    char short_name;
    bool takes_value;
} OPTIONS[] = {
    {"url", 0, true},          {"token", 0, true},
    {"user", 0, true},         {"config", 0, true},
    {"json", 0, false},        {"quiet", 'q', false},
    {"verbose", 'v', false},   {"help", 'h', false},
    {"label", 0, true},        {"tag", 0, true},
    {"format", 0, true},       {"codec", 0, true},
    {"source", 0, true},       {"source-id", 0, true},
    {"timerange", 0, true},    {"segment-duration", 0, true},
    {"container", 0, true},    {"output", 'o', true},
    {"exact", 0, false},       {"allow-gaps", 0, false},
    {"first-value", 0, false}, {"limit", 0, true},
    {"events", 0, true},       {"flow-id", 0, true},
    {"api-key-name", 0, true}, {"api-key-value", 0, true},
    {"live", 0, false},        {"live-buffer", 0, true},
    {"from", 0, true},         {"to", 0, true},
};

static int lookup(const char *name, size_t n, char short_name)
{
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(OPTIONS); i++) {
        if (short_name ? OPTIONS[i].short_name == short_name
                       : strlen(OPTIONS[i].name) == n && memcmp(OPTIONS[i].name, name, n) == 0)
            return (int)i;
    }
    return -1;
}

int tams_cli_parse(int argc, char *const *argv, struct tams_cli *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_end || a[0] != '-' || a[1] == '\0') {
            if (out->npos == TAMS_CLI_MAXPOS) {
                snprintf(err, errlen, "too many arguments");
                return -1;
            }
            out->pos[out->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_end = true;
            continue;
        }
        int k;
        const char *value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            k = lookup(name, n, 0);
            if (k < 0) {
                snprintf(err, errlen, "unknown option '--%.*s'", (int)n, name);
                return -1;
            }
            if (eq && !OPTIONS[k].takes_value) {
                snprintf(err, errlen, "option '--%s' takes no value", OPTIONS[k].name);
                return -1;
            }
            value = eq ? eq + 1 : NULL;
        } else {
            k = a[2] == '\0' ? lookup(NULL, 0, a[1]) : -1;
            if (k < 0) {
                snprintf(err, errlen, "unknown option '%s'", a);
                return -1;
            }
        }
        if (OPTIONS[k].takes_value && !value) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option '--%s' needs a value", OPTIONS[k].name);
                return -1;
            }
            value = argv[++i];
        }
        if (out->nopt == TAMS_CLI_MAXOPT) {
            snprintf(err, errlen, "too many options");
            return -1;
        }
        out->opt[out->nopt++] = (struct tams_cli_opt){.name = OPTIONS[k].name, .value = value};
    }
    return 0;
}

const char *tams_cli_get(struct tams_cli *c, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < c->nopt; i++) {
        if (strcmp(c->opt[i].name, name) == 0) {
            c->opt[i].used = true;
            v = c->opt[i].value;
        }
    }
    return v;
}

bool tams_cli_has(struct tams_cli *c, const char *name)
{
    bool found = false;
    for (size_t i = 0; i < c->nopt; i++) {
        if (strcmp(c->opt[i].name, name) == 0) {
            c->opt[i].used = true;
            found = true;
        }
    }
    return found;
}

const char *tams_cli_next(struct tams_cli *c, const char *name, size_t *it)
{
    for (size_t i = *it; i < c->nopt; i++) {
        if (strcmp(c->opt[i].name, name) == 0) {
            c->opt[i].used = true;
            *it = i + 1;
            return c->opt[i].value;
        }
    }
    *it = c->nopt;
    return NULL;
}

const char *tams_cli_unused(const struct tams_cli *c)
{
    for (size_t i = 0; i < c->nopt; i++)
        if (!c->opt[i].used)
            return c->opt[i].name;
    return NULL;
}
