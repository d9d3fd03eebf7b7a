/* SPDX-License-Identifier: Apache-2.0 */
/* diskfull.h - whether the server's storage takes writes: a full disk, a quota or an I/O error.
 *
 * The modules that write (the built-in object store, the SQLite and PostgreSQL drivers) report
 * each failed write with tams_diskfull_hit(), which returns TAMS_ERR_NOSPACE for them to pass
 * up (the client gets 507 with Retry-After, docs/decisions.md), and each write that worked with
 * tams_diskfull_clear(). An area goes from working to failing at its first failure and back at
 * its first success, so the server recovers by itself once space is freed; nothing is retried
 * here.
 *
 * Logging is per episode, not per failure: one warning when an area starts failing (with the
 * first cause) and one line when it works again (with how long it lasted and how many writes
 * failed meanwhile). An area that keeps flapping (a nearly full disk where some writes fit)
 * logs its next warning only TAMS_DISKFULL_LOG_GAP_S seconds after the previous one.
 *
 * Metrics (tams_diskfull_render, for the metrics registry): the gauge
 * tams_storage_write_failing{area} (1 while the area fails), the counter
 * tams_storage_write_failures_total{area} (every failed write, background work included) and
 * the counter tams_storage_writes_refused_total (requests answered 507).
 *
 * The state is process-wide; every function is thread-safe and lock-free but the logging,
 * which takes a mutex only on a change of state.
 */
#ifndef TAMS_CORE_DISKFULL_H
#define TAMS_CORE_DISKFULL_H

#include "core/common.h"
#include "core/buf.h"

enum tams_diskfull_area {
    TAMS_DISKFULL_OBJECTS,  /* the built-in object store's files */
    TAMS_DISKFULL_METADATA, /* the metadata store (SQLite file or PostgreSQL) */
    TAMS_DISKFULL_NAREAS
};

#define TAMS_DISKFULL_LOG_GAP_S 60
/* Retry-After of a 507: long enough for an operator or the garbage collector to free space. */
#define TAMS_DISKFULL_RETRY_AFTER "10"

/* A write to area failed; cause says why in a few words ("no space left on device", an SQLite
 * or PostgreSQL message). Returns TAMS_ERR_NOSPACE. */
int tams_diskfull_hit(enum tams_diskfull_area area, const char *cause);
/* A write to area worked. Cheap (one atomic load) while the area is not failing. */
void tams_diskfull_clear(enum tams_diskfull_area area);
/* Whether area is failing now. */
bool tams_diskfull_failing(enum tams_diskfull_area area);
/* A request was answered 507 (called by tams_send_error). */
void tams_diskfull_refused(void);

/* Registry source (core/registry.h): appends the three families above. ctx is unused. */
void tams_diskfull_render(void *ctx, struct tams_buf *out);

/* For tests: back to "every area works", counters at 0, nothing logged. */
void tams_diskfull_reset(void);

#endif
