/* SPDX-License-Identifier: Apache-2.0 */
/* flow_cache.h - rendered GET /flows/{id} bodies, valid while the store's generation stands.
 *
 * An entry is served only when it was made at the store's current generation, which moves on
 * every committed write; so a hit is always what a store read would return now. Direct-mapped
 * by id hash with a lock per slot: bounded memory (entries x TAMS_FLOW_CACHE_MAX_BODY), no
 * eviction bookkeeping. Thread-safe.
 */
#ifndef TAMS_API_FLOW_CACHE_H
#define TAMS_API_FLOW_CACHE_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_FLOW_CACHE_MAX_BODY (16u << 10) /* larger documents are not cached */

struct tams_flow_cache;

/* entries 0 = no cache (NULL; every function accepts NULL). */
struct tams_flow_cache *tams_flow_cache_new(size_t entries);
void tams_flow_cache_free(struct tams_flow_cache *c);
/* Append the body for id at generation gen to out; false on a miss. */
bool tams_flow_cache_get(struct tams_flow_cache *c, const char *id, uint64_t gen,
                         struct tams_buf *out);
void tams_flow_cache_put(struct tams_flow_cache *c, const char *id, uint64_t gen, const char *body,
                         size_t n);
/* Hits and misses so far, for /metrics. */
void tams_flow_cache_stats(const struct tams_flow_cache *c, uint64_t *hits, uint64_t *misses);

#endif
