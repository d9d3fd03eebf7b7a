/* SPDX-License-Identifier: Apache-2.0 */
/* scopes.c - scope names, lists and the method-to-scope rule. */
#include "core/common.h"
#include "auth/scopes.h"

static const struct {
    const char *name;
    unsigned bit;
} names[] = {
    {"read", TAMS_SCOPE_READ},
    {"write", TAMS_SCOPE_WRITE},
    {"delete", TAMS_SCOPE_DELETE},
    {"admin", TAMS_SCOPE_ADMIN},
};

unsigned tams_scope_bit(const char *s, size_t n)
{
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(names); i++)
        if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0)
            return names[i].bit;
    return 0;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

int tams_scopes_parse(const char *s, size_t n, bool lenient, unsigned *out)
{
    size_t i = 0;
    unsigned set = 0;
    while (i < n) {
        size_t start;
        unsigned bit;
        while (i < n && is_sep(s[i]))
            i++;
        start = i;
        while (i < n && !is_sep(s[i]))
            i++;
        if (i == start)
            break;
        bit = tams_scope_bit(s + start, i - start);
        if (!bit && !lenient)
            return TAMS_ERR_BADREQUEST;
        set |= bit;
    }
    if (!set && !lenient)
        return TAMS_ERR_BADREQUEST;
    *out = set;
    return 0;
}

void tams_scopes_format(unsigned scopes, struct tams_buf *b)
{
    bool first = true;
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(names); i++) {
        if (!(scopes & names[i].bit))
            continue;
        if (!first)
            tams_buf_addch(b, ',');
        tams_buf_addstr(b, names[i].name);
        first = false;
    }
}

bool tams_scopes_allow(unsigned scopes, const char *method, unsigned *needed)
{
    unsigned need;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        need = TAMS_SCOPE_READ;
    else if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)
        need = TAMS_SCOPE_WRITE;
    else if (strcmp(method, "DELETE") == 0)
        need = TAMS_SCOPE_DELETE;
    else
        need = TAMS_SCOPE_ADMIN;
    if (needed)
        *needed = need;
    return (scopes & TAMS_SCOPE_ADMIN) || (scopes & need);
}
