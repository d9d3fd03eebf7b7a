/* SPDX-License-Identifier: Apache-2.0 */
/* test_doc_cache.c - the rendered-document cache: generations, TTL, the byte budget, SIEVE
 * eviction, hit ratios under uniform and Zipf(1.0) popularity, and threads. */
#include "core/common.h"
#include "core/buf.h"
#include "api/doc_cache.h"
#include "check.h"

#include <pthread.h>
#include <time.h>

static void id_of(char out[37], unsigned n)
{
    snprintf(out, 37, "%08x-0000-4000-8000-000000000000", n);
}

static bool get(struct tams_doc_cache *c, unsigned n, uint64_t gen, struct tams_buf *out)
{
    char id[37];

    id_of(id, n);
    tams_buf_reset(out);
    return tams_doc_cache_get(c, id, gen, out);
}

static void put(struct tams_doc_cache *c, unsigned n, uint64_t gen, size_t len)
{
    static char body[TAMS_DOC_CACHE_MAX_BODY + 1];
    char id[37];

    id_of(id, n);
    memset(body, 'a' + (int)(n % 26), len);
    tams_doc_cache_put(c, id, gen, body, len);
}

static void test_basics(void)
{
    struct tams_doc_cache *c = tams_doc_cache_new(1 << 20, 60000);
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);
    struct tams_doc_cache_stats st;

    CHECK(!get(c, 1, 7, &out));
    tams_doc_cache_put(c, "00000001-0000-4000-8000-000000000000", 7, "{\"a\":1}", 7);
    CHECK(get(c, 1, 7, &out));
    CHECK_STR_EQ(out.data, "{\"a\":1}");
    /* A later write elsewhere moved the generation: never served again, and dropped. */
    CHECK(!get(c, 1, 8, &out));
    CHECK(!get(c, 1, 7, &out));
    tams_doc_cache_stats(c, &st);
    CHECK_INT_EQ(st.entries, 0);
    CHECK_INT_EQ(st.bytes, 0);
    CHECK_INT_EQ(st.hits, 1);
    CHECK_INT_EQ(st.misses, 3);
    /* Replacing keeps one entry, the newest body. */
    put(c, 2, 9, 100);
    put(c, 2, 9, 200);
    CHECK(get(c, 2, 9, &out));
    CHECK_INT_EQ(out.len, 200);
    tams_doc_cache_stats(c, &st);
    CHECK_INT_EQ(st.entries, 1);
    /* A UUID with a version suffix is kept apart from the bare UUID (8.2's view of a flow). */
    tams_doc_cache_put(c, "00000002-0000-4000-8000-000000000000@8.2", 9, "v82", 3);
    tams_buf_reset(&out);
    CHECK(tams_doc_cache_get(c, "00000002-0000-4000-8000-000000000000@8.2", 9, &out));
    CHECK(out.len == 3 && memcmp(out.data, "v82", 3) == 0);
    CHECK(get(c, 2, 9, &out));
    /* Too large, or an id longer than TAMS_DOC_CACHE_ID_MAX: not kept. */
    put(c, 3, 9, TAMS_DOC_CACHE_MAX_BODY + 1);
    CHECK(!get(c, 3, 9, &out));
    tams_doc_cache_put(c, "00000004-0000-4000-8000-000000000000@8.2-and-more", 9, "x", 1);
    CHECK(!tams_doc_cache_get(c, "00000004-0000-4000-8000-000000000000@8.2-and-more", 9, &out));
    tams_doc_cache_free(c);

    /* No cache: every call is safe and misses. */
    CHECK(tams_doc_cache_new(0, 1000) == NULL);
    tams_doc_cache_put(NULL, "x", 1, "y", 1);
    CHECK(!tams_doc_cache_get(NULL, "x", 1, &out));
    tams_doc_cache_stats(NULL, &st);
    CHECK_INT_EQ(st.hits + st.misses + st.entries, 0);
    tams_buf_release(&out);
}

static void test_ttl(void)
{
    struct tams_doc_cache *c = tams_doc_cache_new(1 << 20, 50);
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);

    put(c, 1, 1, 10);
    CHECK(get(c, 1, 1, &out));
    nanosleep(&(struct timespec){0, 80 * 1000000}, NULL);
    CHECK(!get(c, 1, 1, &out));
    tams_doc_cache_free(c);
    tams_buf_release(&out);
}

/* The budget holds whatever is put, and a hot set survives a sweep of one-off reads (FIFO or
 * LRU would lose it to the sweep; SIEVE keeps entries hit since the hand last passed). */
static void test_budget_and_sieve(void)
{
    const size_t budget = 1 << 20, len = 1000;
    struct tams_doc_cache *c = tams_doc_cache_new(budget, 60000);
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);
    struct tams_doc_cache_stats st;
    unsigned hot = 300, kept = 0;

    for (unsigned i = 0; i < hot; i++)
        put(c, i, 1, len);
    for (unsigned i = 0; i < hot; i++)
        CHECK(get(c, i, 1, &out));
    for (unsigned i = 0; i < 20000; i++) {
        put(c, 100000 + i, 1, len);
        if (i % 1000 == 0) {
            tams_doc_cache_stats(c, &st);
            CHECK(st.bytes <= budget);
        }
        /* The hot set keeps being read now and then, as hot documents are. */
        if (i % 10 == 0)
            (void)get(c, (i / 10) % hot, 1, &out);
    }
    for (unsigned i = 0; i < hot; i++)
        kept += get(c, i, 1, &out);
    tams_doc_cache_stats(c, &st);
    CHECK(st.bytes <= budget);
    CHECK(st.entries > 700); /* ~1,100 bytes an entry: the budget is used, not wasted */
    CHECK(kept >= hot * 9 / 10);
    tams_doc_cache_free(c);
    tams_buf_release(&out);
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Hit ratio of `reads` reads after a warm-up of as many, ids drawn by pick. */
static double ratio(struct tams_doc_cache *c, unsigned (*pick)(uint64_t *, void *), void *arg,
                    unsigned reads)
{
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);
    uint64_t s = 88172645463325252ull;
    unsigned hits = 0;

    for (unsigned round = 0; round < 2; round++) {
        hits = 0;
        for (unsigned i = 0; i < reads; i++) {
            unsigned n = pick(&s, arg);
            if (get(c, n, 1, &out))
                hits++;
            else
                put(c, n, 1, 1000); /* a miss renders and keeps the document, as flows.c does */
        }
    }
    tams_buf_release(&out);
    return (double)hits / reads;
}

static unsigned pick_uniform(uint64_t *s, void *arg)
{
    return (unsigned)(rnd(s) % *(unsigned *)arg);
}

struct zipf {
    unsigned n;
    double *cdf;
};

static unsigned pick_zipf(uint64_t *s, void *arg)
{
    const struct zipf *z = arg;
    double u = (double)(rnd(s) >> 11) / 9007199254740992.0;
    unsigned lo = 0, hi = z->n - 1;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The targets of the cache, as a property of the algorithm (bench/cache.sh measures them on
 * the real server): >= 90% hits for uniform reads whenever the set fits the budget, and >= 90%
 * at Zipf(1.0) over 100,000 documents of 1,000 bytes with the default flow budget (64 MiB). */
static void test_hit_ratios(void)
{
    struct tams_doc_cache *c = tams_doc_cache_new(8u << 20, 600000);
    struct zipf z = {100000, NULL};
    unsigned set = 6000; /* 6,000 x ~1,100 bytes in 8 MiB */
    double r, sum = 0;

    r = ratio(c, pick_uniform, &set, 200000);
    printf("uniform over %u in 8 MiB: %.3f\n", set, r);
    CHECK(r >= 0.9);
    tams_doc_cache_free(c);

    z.cdf = tams_calloc(z.n, sizeof(*z.cdf));
    for (unsigned i = 0; i < z.n; i++)
        z.cdf[i] = (sum += 1.0 / (i + 1));
    for (unsigned i = 0; i < z.n; i++)
        z.cdf[i] /= sum;
    c = tams_doc_cache_new(64u << 20, 600000);
    r = ratio(c, pick_zipf, &z, 1000000);
    printf("zipf(1.0) over %u in 64 MiB: %.3f\n", z.n, r);
    CHECK(r >= 0.9);
    tams_doc_cache_free(c);
    tams_free(z.cdf);
}

struct worker {
    struct tams_doc_cache *c;
    unsigned seed;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct tams_buf out = TAMS_BUF_INIT(1 << 20);
    uint64_t s = 0x9e3779b97f4a7c15ull * (w->seed + 1);

    for (int i = 0; i < 50000; i++) {
        unsigned n = (unsigned)(rnd(&s) % 5000);
        if (!get(w->c, n, rnd(&s) % 3, &out))
            put(w->c, n, rnd(&s) % 3, 200 + (size_t)(rnd(&s) % 2000));
    }
    tams_buf_release(&out);
    return NULL;
}

static void test_threads(void)
{
    struct tams_doc_cache *c = tams_doc_cache_new(1 << 20, 60000);
    struct worker w[4];
    pthread_t t[4];
    struct tams_doc_cache_stats st;

    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    for (unsigned i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    tams_doc_cache_stats(c, &st);
    CHECK_INT_EQ(st.hits + st.misses, 200000);
    CHECK(st.bytes <= (1u << 20));
    tams_doc_cache_free(c);
}

int main(void)
{
    RUN(test_basics);
    RUN(test_ttl);
    RUN(test_budget_and_sieve);
    RUN(test_hit_ratios);
    RUN(test_threads);
    return check_report();
}
