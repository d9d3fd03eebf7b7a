/* SPDX-License-Identifier: Apache-2.0 */
/* doc_cache.h - rendered GET /flows/{id} and GET /sources/{id} bodies, valid while the store's
 * generation stands and for at most a TTL, kept within a memory budget.
 *
 * An entry is served only when it was made at the store's current generation for its id, which
 * moves on every committed write that may change that id's document (on PostgreSQL, every other
 * instance's too: store/pg_peers.h); so a hit is always what a store read would return now.
 * The TTL bounds how long an entry lives in any case. Eviction is SIEVE (a FIFO queue whose
 * hand skips, once, entries hit since it last passed): cheap on a hit (one bit), and it keeps
 * the hot set when one-off reads sweep through. The cache is split into shards by id hash,
 * each with its own lock and an equal part of the budget. The budget counts each entry's body,
 * id and bookkeeping. Thread-safe.
 */
#ifndef TAMS_API_DOC_CACHE_H
#define TAMS_API_DOC_CACHE_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_DOC_CACHE_MAX_BODY (16u << 10) /* larger documents are not cached */
/* Longer ids are not cached; enough for a UUID with a version suffix ("@8.2": api/app.h). */
#define TAMS_DOC_CACHE_ID_MAX 47

struct tams_doc_cache;

/* budget: bytes the entries may take; 0 = no cache (NULL; every function accepts NULL).
 * ttl_ms > 0. */
struct tams_doc_cache *tams_doc_cache_new(size_t budget, int64_t ttl_ms);
void tams_doc_cache_free(struct tams_doc_cache *c);
/* Append the body for id at generation gen to out; false on a miss. */
bool tams_doc_cache_get(struct tams_doc_cache *c, const char *id, uint64_t gen,
                        struct tams_buf *out);
/* Keep body for id at generation gen, replacing what id had, evicting as the budget needs. */
void tams_doc_cache_put(struct tams_doc_cache *c, const char *id, uint64_t gen, const char *body,
                        size_t n);

struct tams_doc_cache_stats {
    uint64_t hits, misses; /* since start */
    size_t entries, bytes; /* now */
};

void tams_doc_cache_stats(struct tams_doc_cache *c, struct tams_doc_cache_stats *out);

#endif
