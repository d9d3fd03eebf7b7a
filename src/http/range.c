/* SPDX-License-Identifier: Apache-2.0 */
/* range.c - parse "bytes=a-b", "bytes=a-" and "bytes=-n". */
#include "core/common.h"
#include "http/range.h"

/* Digits only, no sign, no overflow. Advances *p. */
static bool parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

enum tams_range_result tams_range_parse(const char *header, uint64_t size, uint64_t *off,
                                        uint64_t *len)
{
    const char *p = header;
    uint64_t first = 0, last = 0;
    bool has_first, has_last;

    if (!p || strncmp(p, "bytes=", 6) != 0)
        return TAMS_RANGE_NONE;
    p += 6;
    while (*p == ' ')
        p++;
    has_first = parse_u64(&p, &first);
    if (*p++ != '-')
        return TAMS_RANGE_NONE;
    has_last = parse_u64(&p, &last);
    while (*p == ' ')
        p++;
    if (*p != '\0' || (!has_first && !has_last))
        return TAMS_RANGE_NONE;
    if (!has_first) { /* suffix: the last `last` bytes */
        if (last == 0 || size == 0)
            return TAMS_RANGE_UNSATISFIABLE;
        *len = last < size ? last : size;
        *off = size - *len;
        return TAMS_RANGE_OK;
    }
    if (has_last && last < first)
        return TAMS_RANGE_NONE;
    if (first >= size)
        return TAMS_RANGE_UNSATISFIABLE;
    if (!has_last || last >= size)
        last = size - 1;
    *off = first;
    *len = last - first + 1;
    return TAMS_RANGE_OK;
}
