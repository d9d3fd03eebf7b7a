/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/link.h"

#include <strings.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Whether the relation list v (space-separated, RFC 8288 3.3) holds "next". */
static bool has_next(const char *v, size_t n)
{
    const char *p = v, *end = v + n;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        if (p - w == 4 && strncasecmp(w, "next", 4) == 0)
            return true;
    }
    return false;
}

int tams_link_next(const char *h, size_t n, const char **uri, size_t *urilen)
{
    const char *p = h, *end = h + n;
    for (;;) {
        p = skip_ws(p, end);
        if (p == end)
            return 0;
        if (*p != '<')
            return -1;
        const char *u = ++p;
        while (p < end && *p != '>')
            p++;
        if (p == end)
            return -1;
        size_t ulen = (size_t)(p - u);
        p++;
        bool next = false;
        /* Parameters: ; name[=value], value a token or a quoted string (a comma inside quotes
         * does not end the link). */
        for (;;) {
            p = skip_ws(p, end);
            if (p == end || *p == ',')
                break;
            if (*p != ';')
                return -1;
            p = skip_ws(p + 1, end);
            const char *name = p;
            while (p < end && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
                p++;
            size_t nlen = (size_t)(p - name);
            if (nlen == 0)
                return -1;
            p = skip_ws(p, end);
            const char *v = p;
            size_t vlen = 0;
            if (p < end && *p == '=') {
                p = skip_ws(p + 1, end);
                if (p < end && *p == '"') {
                    v = ++p;
                    while (p < end && *p != '"')
                        p += (*p == '\\' && p + 1 < end) ? 2 : 1;
                    if (p >= end)
                        return -1;
                    vlen = (size_t)(p - v);
                    p++;
                } else {
                    v = p;
                    while (p < end && *p != ';' && *p != ',' && *p != ' ')
                        p++;
                    vlen = (size_t)(p - v);
                }
            }
            if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && has_next(v, vlen))
                next = true;
        }
        if (next) {
            *uri = u;
            *urilen = ulen;
            return 1;
        }
        if (p == end)
            return 0;
        p++; /* the comma */
    }
}
