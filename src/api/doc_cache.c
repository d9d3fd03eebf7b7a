/* SPDX-License-Identifier: Apache-2.0 */
/* doc_cache.c - rendered flow and source documents in memory: sharded, SIEVE eviction within a
 * byte budget (doc_cache.h). */
#include "core/common.h"
#include "api/doc_cache.h"

#include "core/clock.h"

#include <pthread.h>

#define SHARDS 16 /* a power of two */
#define ID_MAX (TAMS_DOC_CACHE_ID_MAX + 1)

struct entry {
    struct entry *newer, *older; /* the queue: new entries go in at the newest end */
    struct entry *chain;         /* next in the hash bucket */
    uint64_t hash, gen;
    int64_t made_us; /* monotonic */
    size_t len;
    bool visited; /* hit since the hand last passed */
    char id[ID_MAX];
    char body[]; /* len bytes */
};

struct shard {
    pthread_mutex_t mu;
    struct entry **buckets; /* nbuckets, a power of two */
    size_t nbuckets, count, bytes;
    struct entry *newest, *oldest;
    struct entry *hand; /* SIEVE's hand: the next to look at, moving from oldest to newest */
};

struct tams_doc_cache {
    int64_t ttl_us;
    size_t shard_budget;
    uint64_t hits, misses; /* atomic */
    struct shard shards[SHARDS];
};

static uint64_t hash_of(const char *id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h ^ (h >> 29);
}

static size_t cost(size_t len)
{
    return sizeof(struct entry) + len + sizeof(struct entry *);
}

struct tams_doc_cache *tams_doc_cache_new(size_t budget, int64_t ttl_ms)
{
    struct tams_doc_cache *c;

    if (!budget)
        return NULL;
    c = tams_calloc(1, sizeof(*c));
    c->ttl_us = ttl_ms * 1000;
    c->shard_budget = budget / SHARDS;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shards[i].mu, NULL);
        c->shards[i].nbuckets = 64;
        c->shards[i].buckets = tams_calloc(64, sizeof(*c->shards[i].buckets));
    }
    return c;
}

void tams_doc_cache_free(struct tams_doc_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];

        for (struct entry *e = s->newest, *next; e; e = next) {
            next = e->older;
            tams_free(e);
        }
        tams_free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    tams_free(c);
}

static struct shard *shard_of(struct tams_doc_cache *c, uint64_t hash)
{
    return &c->shards[hash >> 60 & (SHARDS - 1)];
}

/* The bucket slot that holds (or would hold) id: a pointer to the link to change. */
static struct entry **find(struct shard *s, uint64_t hash, const char *id)
{
    struct entry **p = &s->buckets[hash & (s->nbuckets - 1)];

    while (*p && !((*p)->hash == hash && strcmp((*p)->id, id) == 0))
        p = &(*p)->chain;
    return p;
}

/* Takes e out of its bucket and the queue; the caller frees it. */
static void unlink_entry(struct shard *s, struct entry *e)
{
    struct entry **p = find(s, e->hash, e->id);

    *p = e->chain;
    if (s->hand == e)
        s->hand = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    s->count--;
    s->bytes -= cost(e->len);
}

/* SIEVE: from the hand towards the newest (wrapping to the oldest), clear each visited mark
 * and take the first entry without one. */
static struct entry *evict_one(struct shard *s)
{
    struct entry *e = s->hand ? s->hand : s->oldest;

    while (e->visited) {
        e->visited = false;
        e = e->newer ? e->newer : s->oldest;
    }
    s->hand = e->newer;
    unlink_entry(s, e);
    return e;
}

/* Twice the buckets once there are more entries than buckets: chains stay short. */
static void grow(struct shard *s)
{
    size_t n = s->nbuckets * 2;
    struct entry **b = tams_calloc(n, sizeof(*b));

    for (size_t i = 0; i < s->nbuckets; i++) {
        for (struct entry *e = s->buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    tams_free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
}

bool tams_doc_cache_get(struct tams_doc_cache *c, const char *id, uint64_t gen,
                        struct tams_buf *out)
{
    struct entry *e, *stale = NULL;
    struct shard *s;
    uint64_t hash;
    bool hit = false;

    if (!c)
        return false;
    hash = hash_of(id);
    s = shard_of(c, hash);
    pthread_mutex_lock(&s->mu);
    e = *find(s, hash, id);
    if (e && e->gen == gen && tams_clock_mono_us() - e->made_us < c->ttl_us) {
        e->visited = true;
        hit = tams_buf_add(out, e->body, e->len) == 0;
    } else if (e) {
        unlink_entry(s, e); /* never served again: make room at once */
        stale = e;
    }
    pthread_mutex_unlock(&s->mu);
    tams_free(stale);
    __atomic_fetch_add(hit ? &c->hits : &c->misses, 1, __ATOMIC_RELAXED);
    return hit;
}

void tams_doc_cache_put(struct tams_doc_cache *c, const char *id, uint64_t gen, const char *body,
                        size_t n)
{
    struct entry *e, *old, *evicted = NULL;
    struct shard *s;
    size_t idlen;

    if (!c || n > TAMS_DOC_CACHE_MAX_BODY || (idlen = strlen(id)) >= ID_MAX ||
        cost(n) > c->shard_budget)
        return;
    /* Made outside the lock: the lock covers only the links. */
    e = tams_malloc(sizeof(*e) + n);
    memset(e, 0, sizeof(*e));
    memcpy(e->id, id, idlen + 1);
    memcpy(e->body, body, n);
    e->len = n;
    e->gen = gen;
    e->hash = hash_of(id);
    e->made_us = tams_clock_mono_us();
    s = shard_of(c, e->hash);
    pthread_mutex_lock(&s->mu);
    if ((old = *find(s, e->hash, id))) {
        unlink_entry(s, old);
        old->older = evicted;
        evicted = old;
    }
    while (s->count && s->bytes + cost(n) > c->shard_budget) {
        struct entry *x = evict_one(s);
        x->older = evicted;
        evicted = x;
    }
    if (s->count >= s->nbuckets)
        grow(s);
    e->chain = s->buckets[e->hash & (s->nbuckets - 1)];
    s->buckets[e->hash & (s->nbuckets - 1)] = e;
    e->older = s->newest;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
    s->count++;
    s->bytes += cost(n);
    pthread_mutex_unlock(&s->mu);
    while (evicted) {
        struct entry *next = evicted->older;
        tams_free(evicted);
        evicted = next;
    }
}

void tams_doc_cache_stats(struct tams_doc_cache *c, struct tams_doc_cache_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    out->hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
    out->misses = __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];

        pthread_mutex_lock(&s->mu);
        out->entries += s->count;
        out->bytes += s->bytes;
        pthread_mutex_unlock(&s->mu);
    }
}
