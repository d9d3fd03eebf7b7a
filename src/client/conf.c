/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/conf.h"

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int tams_conf_parse(const char *text, size_t n, struct tams_conf *out, int *bad_line)
{
    memset(out, 0, sizeof(*out));
    const char *p = text, *end = text + n;
    int line = 0;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *a = p, *b = eol;
        p = eol < end ? eol + 1 : end;
        while (a < b && blank(*a))
            a++;
        while (b > a && blank(b[-1]))
            b--;
        if (a == b || *a == '#')
            continue;
        const char *eq = memchr(a, '=', (size_t)(b - a));
        if (!eq)
            goto bad;
        const char *ke = eq, *v = eq + 1;
        while (ke > a && blank(ke[-1]))
            ke--;
        while (v < b && blank(*v))
            v++;
        size_t klen = (size_t)(ke - a);
        char **slot = NULL;
        if (klen == 3 && memcmp(a, "url", 3) == 0)
            slot = &out->url;
        else if (klen == 5 && memcmp(a, "token", 5) == 0)
            slot = &out->token;
        else if (klen == 4 && memcmp(a, "user", 4) == 0)
            slot = &out->user;
        else if (klen == 8 && memcmp(a, "password", 8) == 0)
            slot = &out->password;
        if (!slot)
            goto bad;
        tams_free(*slot);
        *slot = tams_strndup(v, (size_t)(b - v));
    }
    return 0;
bad:
    *bad_line = line;
    tams_conf_release(out);
    return -1;
}

void tams_conf_release(struct tams_conf *c)
{
    tams_free(c->url);
    tams_free(c->token);
    tams_free(c->user);
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    tams_free(c->password);
    memset(c, 0, sizeof(*c));
}
