/* SPDX-License-Identifier: Apache-2.0 */
/* doc_cache.c - a direct-mapped cache of rendered flow and source documents. */
#include "core/common.h"
#include "api/doc_cache.h"

#include "core/clock.h"

#include <pthread.h>

struct slot {
    pthread_mutex_t mu;
    char id[37];
    uint64_t gen;
    int64_t made_us; /* monotonic */
    char *body;      /* NULL = empty slot */
    size_t len;
};

struct tams_doc_cache {
    size_t n;
    int64_t ttl_us;
    struct slot *slots;
    uint64_t hits, misses;
};

static size_t slot_of(const struct tams_doc_cache *c, const char *id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % c->n);
}

struct tams_doc_cache *tams_doc_cache_new(size_t entries, int64_t ttl_ms)
{
    struct tams_doc_cache *c;
    if (!entries)
        return NULL;
    c = tams_calloc(1, sizeof(*c));
    c->n = entries;
    c->ttl_us = ttl_ms * 1000;
    c->slots = tams_calloc(entries, sizeof(*c->slots));
    for (size_t i = 0; i < entries; i++)
        pthread_mutex_init(&c->slots[i].mu, NULL);
    return c;
}

void tams_doc_cache_free(struct tams_doc_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        pthread_mutex_destroy(&c->slots[i].mu);
        tams_free(c->slots[i].body);
    }
    tams_free(c->slots);
    tams_free(c);
}

bool tams_doc_cache_get(struct tams_doc_cache *c, const char *id, uint64_t gen,
                        struct tams_buf *out)
{
    struct slot *s;
    bool hit;
    if (!c)
        return false;
    s = &c->slots[slot_of(c, id)];
    pthread_mutex_lock(&s->mu);
    hit = s->body && s->gen == gen && strcmp(s->id, id) == 0 &&
          tams_clock_mono_us() - s->made_us < c->ttl_us;
    if (hit)
        tams_buf_add(out, s->body, s->len);
    pthread_mutex_unlock(&s->mu);
    __atomic_fetch_add(hit ? &c->hits : &c->misses, 1, __ATOMIC_RELAXED);
    return hit;
}

void tams_doc_cache_put(struct tams_doc_cache *c, const char *id, uint64_t gen, const char *body,
                        size_t n)
{
    struct slot *s;
    char *copy;
    if (!c || n > TAMS_DOC_CACHE_MAX_BODY || strlen(id) >= sizeof(s->id))
        return;
    copy = tams_malloc(n);
    memcpy(copy, body, n);
    s = &c->slots[slot_of(c, id)];
    pthread_mutex_lock(&s->mu);
    tams_free(s->body);
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->gen = gen;
    s->made_us = tams_clock_mono_us();
    s->body = copy;
    s->len = n;
    pthread_mutex_unlock(&s->mu);
}

void tams_doc_cache_stats(const struct tams_doc_cache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c ? __atomic_load_n(&c->hits, __ATOMIC_RELAXED) : 0;
    *misses = c ? __atomic_load_n(&c->misses, __ATOMIC_RELAXED) : 0;
}
