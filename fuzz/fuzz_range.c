/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_range.c - libFuzzer target: the Range header parser (http/range.h) against a second,
 * independent reading of RFC 9110 §14.1.2, on the input's own object size and on fixed edge sizes.
 *
 * Input: 8 bytes of object size (little-endian; fewer bytes: zero-padded), then the header
 * text up to the first NUL. Every answer must describe bytes inside the object. */
#include "core/common.h"
#include "http/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_range: violated: %s (line %d)\n", #cond, __LINE__);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Digits as a number; false when there are none or the value passes 2^64 - 1. */
static bool number(const char **p, uint64_t *v)
{
    const char *s = *p;
    *v = 0;
    while (*s >= '0' && *s <= '9') {
        if (__builtin_mul_overflow(*v, 10, v) || __builtin_add_overflow(*v, *s - '0', v))
            return false;
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    return true;
}

/* The reference: "bytes=" SP* [first] "-" [last] SP*, one range, as tamsd documents it. */
static enum tams_range_result reference(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    uint64_t first = 0, last = 0;
    bool has_first, has_last;
    const char *p = h;

    if (strncmp(p, "bytes=", 6) != 0)
        return TAMS_RANGE_NONE;
    p += 6;
    p += strspn(p, " ");
    if (*p >= '0' && *p <= '9') {
        if (!number(&p, &first))
            return TAMS_RANGE_NONE; /* too large to be a position: ignored */
        has_first = true;
    } else {
        has_first = false;
    }
    if (*p != '-')
        return TAMS_RANGE_NONE;
    p++;
    if (*p >= '0' && *p <= '9') {
        if (!number(&p, &last))
            return TAMS_RANGE_NONE;
        has_last = true;
    } else {
        has_last = false;
    }
    p += strspn(p, " ");
    if (*p || (!has_first && !has_last))
        return TAMS_RANGE_NONE;
    if (!has_first) {
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

static void check(const char *h, uint64_t size)
{
    uint64_t off = 7, len = 7, roff = 7, rlen = 7;
    enum tams_range_result r = tams_range_parse(h, size, &off, &len);
    enum tams_range_result want = reference(h, size, &roff, &rlen);

    REQUIRE(r == TAMS_RANGE_NONE || r == TAMS_RANGE_OK || r == TAMS_RANGE_UNSATISFIABLE);
    REQUIRE(r == want);
    if (r != TAMS_RANGE_NONE)
        REQUIRE(strncmp(h, "bytes=", 6) == 0);
    if (r != TAMS_RANGE_OK)
        return;
    REQUIRE(off == roff && len == rlen);
    /* inside the object, never empty, without overflow */
    REQUIRE(len >= 1 && off < size && len <= size - off);
    /* the answer, written as a closed range, reads back as itself */
    char again[64];
    uint64_t off2, len2;
    snprintf(again, sizeof(again), "bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
    REQUIRE(tams_range_parse(again, size, &off2, &len2) == TAMS_RANGE_OK);
    REQUIRE(off2 == off && len2 == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t sizes[] = {0, 1, 2, 10, 1000, UINT64_MAX - 1, UINT64_MAX};
    uint8_t head[8] = {0};
    uint64_t objsize = 0;
    size_t n = size < 8 ? size : 8;
    char *h;

    memcpy(head, data, n);
    for (int i = 7; i >= 0; i--)
        objsize = objsize << 8 | head[i];
    h = tams_strndup((const char *)data + n, size - n);
    check(h, objsize);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(sizes); i++)
        check(h, sizes[i]);
    REQUIRE(tams_range_parse(NULL, objsize, &objsize, &objsize) == TAMS_RANGE_NONE);
    tams_free(h);
    return 0;
}
