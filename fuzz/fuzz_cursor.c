/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_cursor.c - libFuzzer target: page tokens (store/cursor.h) and the store's readers of
 * their keys (tams__page_lo, tams__page_after).
 *
 * Input: the first byte picks a listing kind, the rest (up to a NUL) is first decoded as a
 * client's page token, then encoded as a key. A token is accepted only in its one canonical
 * spelling, for its own kind, and a refused token leaves the caller's buffer as it was. */
#include "core/common.h"
#include "core/buf.h"
#include "core/random.h"
#include "store/cursor.h"
#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_cursor: violated: %s (line %d)\n", #cond, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The kinds the store uses (flows.c, sources.c, segments.c in src/store). */
static const char *const kinds[] = {"flows", "sources", "segments", "segments-rev", "objflows"};

static bool key_ok(const char *k, size_t n)
{
    if (n == 0 || n > TAMS_CURSOR_KEYMAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] >= 0x7f)
            return false;
    return true;
}

static void check_decode(const char *text, size_t kind)
{
    static const char pre[] = "kept|";
    struct tams_buf key = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX + sizeof(pre));
    struct tams_buf again = TAMS_BUF_INIT(4 * TAMS_CURSOR_TEXTMAX);
    int rc;

    tams_buf_addstr(&key, pre);
    rc = tams_cursor_decode(text, kinds[kind], &key);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADPAGE);
    REQUIRE(strncmp(key.data, pre, sizeof(pre) - 1) == 0);
    if (rc) {
        REQUIRE(key.len == sizeof(pre) - 1);
        goto out;
    }
    /* one spelling: the key encodes to exactly the token */
    const char *k = key.data + sizeof(pre) - 1;
    size_t klen = key.len - (sizeof(pre) - 1);
    REQUIRE(key_ok(k, klen) && strlen(k) == klen);
    REQUIRE(strlen(text) <= TAMS_CURSOR_TEXTMAX);
    REQUIRE(tams_cursor_encode(&again, kinds[kind], k) == 0);
    REQUIRE(strcmp(again.data, text) == 0);
    /* and it belongs to its kind only */
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(kinds); i++) {
        struct tams_buf other = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
        if (i != kind)
            REQUIRE(tams_cursor_decode(text, kinds[i], &other) == TAMS_ERR_BADPAGE);
        tams_buf_release(&other);
    }
out:
    tams_buf_release(&key);
    tams_buf_release(&again);
}

/* What the listings make of the token: a segment position or a UUID, else BADPAGE. */
static void check_page(const char *text, size_t kind)
{
    struct tams_page page = {.after = text, .limit = 1, .next_key = NULL};
    struct tams_buf key = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    bool have = true;
    int64_t lo = 12345;
    int rc;

    rc = tams__page_lo(&page, kinds[kind], &have, &lo);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADPAGE);
    REQUIRE(have == (rc == 0));
    if (rc == 0) {
        struct tams_buf t = TAMS_BUF_INIT(TAMS_CURSOR_TEXTMAX);
        char canon[32];
        snprintf(canon, sizeof(canon), "%" PRId64, lo);
        REQUIRE(tams_cursor_encode(&t, kinds[kind], canon) == 0);
        REQUIRE(strcmp(t.data, text) == 0);
        tams_buf_release(&t);
    }
    rc = tams__page_after(&page, kinds[kind], &key);
    REQUIRE(rc == 0 || rc == TAMS_ERR_BADPAGE);
    if (rc == 0)
        REQUIRE(key.len == 36 && tams_uuid_valid(key.data, key.len));
    tams_buf_release(&key);
    /* no token: nothing to read, not an error */
    page.after = NULL;
    REQUIRE(tams__page_lo(&page, kinds[kind], &have, &lo) == 0 && !have);
}

static void check_encode(const char *k, size_t kind)
{
    struct tams_buf t = TAMS_BUF_INIT(TAMS_CURSOR_TEXTMAX + 1);
    struct tams_buf back = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    int rc = tams_cursor_encode(&t, kinds[kind], k);

    if (!key_ok(k, strlen(k))) {
        REQUIRE(rc == TAMS_ERR_INTERNAL);
    } else {
        REQUIRE(rc == 0);
        REQUIRE(t.len <= TAMS_CURSOR_TEXTMAX);
        REQUIRE(tams_cursor_decode(t.data, kinds[kind], &back) == 0);
        REQUIRE(strcmp(back.data, k) == 0);
    }
    tams_buf_release(&t);
    tams_buf_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t kind;
    char *text;

    if (size == 0)
        return 0;
    kind = data[0] % TAMS_ARRAY_SIZE(kinds);
    text = tams_strndup((const char *)data + 1, size - 1);
    check_decode(text, kind);
    check_page(text, kind);
    check_encode(text, kind);
    tams_free(text);
    return 0;
}
