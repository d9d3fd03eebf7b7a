/* SPDX-License-Identifier: Apache-2.0 */
/* throttle.c - token buckets of failed attempts per (client, principal), in fixed memory. */
#include "core/common.h"
#include "core/clock.h"
#include "core/random.h"
#include "auth/throttle.h"

#include <pthread.h>

#define TH_SLOTS 4096 /* (address, principal) pairs remembered (fixed memory) */
#define TH_WAYS 8
#define TH_WINDOW_S 60.0

struct th_slot {
    unsigned char addr[16];
    uint64_t who;
    bool used;
    double tokens;
    int64_t last_us;
};

struct tams_throttle {
    int fail_limit, unknown_limit;
    uint64_t seed; /* keys the hashes: a client cannot aim its names at another's set */
    pthread_mutex_t lock;
    struct th_slot slots[TH_SLOTS];
};

struct tams_throttle *tams_throttle_new(int fail_limit, int unknown_limit)
{
    struct tams_throttle *t = tams_calloc(1, sizeof(*t));
    t->fail_limit = fail_limit;
    t->unknown_limit = unknown_limit;
    tams_random_bytes(&t->seed, sizeof(t->seed));
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void tams_throttle_free(struct tams_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    tams_free(t);
}

uint64_t tams_throttle_who(const struct tams_throttle *t, char kind, const char *s)
{
    uint64_t h = t->seed ^ 0x9e3779b97f4a7c15ULL ^ (unsigned char)kind;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
        h ^= h >> 31;
    }
    return h | 1;
}

static int limit_of(const struct tams_throttle *t, uint64_t who)
{
    return who == TAMS_THROTTLE_UNKNOWN ? t->unknown_limit : t->fail_limit;
}

static size_t set_of(const struct tams_throttle *t, const unsigned char addr[16], uint64_t who)
{
    uint64_t h = t->seed ^ 0xcbf29ce484222325ULL ^ who;
    for (int i = 0; i < 16; i++) {
        h ^= addr[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return (size_t)(h % (TH_SLOTS / TH_WAYS)) * TH_WAYS;
}

static void refill(const struct tams_throttle *t, struct th_slot *s, int64_t now)
{
    double cap = (double)limit_of(t, s->who);
    s->tokens += (double)(now - s->last_us) / 1e6 * cap / TH_WINDOW_S;
    if (s->tokens > cap)
        s->tokens = cap;
    s->last_us = now;
}

/* The slot of (addr, who): found, or a free or the least recently used one taken. */
static struct th_slot *slot_of(struct tams_throttle *t, const unsigned char addr[16], uint64_t who)
{
    struct th_slot *g = &t->slots[set_of(t, addr, who)], *victim = NULL;
    for (int i = 0; i < TH_WAYS; i++)
        if (g[i].used && g[i].who == who && memcmp(g[i].addr, addr, 16) == 0)
            return &g[i];
    for (int i = 0; i < TH_WAYS; i++) {
        if (!g[i].used) {
            victim = &g[i];
            break;
        }
        if (!victim || g[i].last_us < victim->last_us)
            victim = &g[i];
    }
    memcpy(victim->addr, addr, 16);
    victim->who = who;
    victim->used = true;
    victim->tokens = (double)limit_of(t, who);
    victim->last_us = tams_clock_mono_us();
    return victim;
}

static bool off(const struct tams_throttle *t, const struct tams_client *c, uint64_t who)
{
    return t->fail_limit <= 0 || limit_of(t, who) <= 0 || !c->known;
}

int tams_throttle_take(struct tams_throttle *t, const struct tams_client *c, uint64_t who)
{
    struct th_slot *s;
    int wait = 0;
    if (off(t, c, who))
        return 0;
    pthread_mutex_lock(&t->lock);
    s = slot_of(t, c->addr, who);
    refill(t, s, tams_clock_mono_us());
    if (s->tokens >= 1.0)
        s->tokens -= 1.0;
    else
        wait = 1 + (int)((1.0 - s->tokens) * TH_WINDOW_S / limit_of(t, who));
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void tams_throttle_give_back(struct tams_throttle *t, const struct tams_client *c, uint64_t who)
{
    struct th_slot *s;
    if (off(t, c, who))
        return;
    pthread_mutex_lock(&t->lock);
    s = slot_of(t, c->addr, who);
    refill(t, s, tams_clock_mono_us());
    s->tokens += 1.0;
    if (s->tokens > (double)limit_of(t, who))
        s->tokens = (double)limit_of(t, who);
    pthread_mutex_unlock(&t->lock);
}
