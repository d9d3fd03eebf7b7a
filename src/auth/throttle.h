/* SPDX-License-Identifier: Apache-2.0 */
/* throttle.h - failed credential checks counted per (client, principal) in token buckets, so
 * one principal's failures (or someone else's) never lock another out.
 *
 * A known principal (a user name or an API token id that exists) has a bucket of fail_limit
 * attempts per minute per client; every attempt naming no known principal shares one bucket of
 * unknown_limit per minute per client (TAMS_THROTTLE_UNKNOWN). Buckets refill continuously.
 * The table has a fixed size (4096 pairs, least recently used replaced within an 8-way set
 * chosen by a keyed hash), so a flood of names costs no memory. A limit <= 0 turns its buckets
 * off, fail_limit <= 0 all of them; a client of unknown address is never throttled.
 *
 * Thread-safe. */
#ifndef TAMS_AUTH_THROTTLE_H
#define TAMS_AUTH_THROTTLE_H

#include "core/common.h"
#include "auth/client.h"

#define TAMS_THROTTLE_UNKNOWN 0 /* the principal of attempts that name no known one */

struct tams_throttle;

struct tams_throttle *tams_throttle_new(int fail_limit, int unknown_limit);
void tams_throttle_free(struct tams_throttle *t);

/* The bucket key of a known principal: kind ('u' user, 't' token id) and name; never
 * TAMS_THROTTLE_UNKNOWN. */
uint64_t tams_throttle_who(const struct tams_throttle *t, char kind, const char *name);

/* Takes one attempt from the bucket of (c, who): 0 when there was one, else the whole seconds
 * (>= 1) until there is. */
int tams_throttle_take(struct tams_throttle *t, const struct tams_client *c, uint64_t who);
/* Gives back an attempt tams_throttle_take took, for a credential that turned out right or was
 * never checked. */
void tams_throttle_give_back(struct tams_throttle *t, const struct tams_client *c, uint64_t who);

#endif
