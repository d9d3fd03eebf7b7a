/* SPDX-License-Identifier: Apache-2.0 */
/* progress.h - one line of progress on a terminal: bytes, segments, rate, ETA.
 *
 * Drawn on stderr, at most ten times a second, only when enabled (stderr is a terminal and
 * not --quiet); tams_progress_end clears the line.
 */
#ifndef TAMS_CLIENT_PROGRESS_H
#define TAMS_CLIENT_PROGRESS_H

#include "core/common.h"

struct tams_progress {
    bool on;
    const char *what; /* "ingest", "export" */
    int64_t total;    /* bytes expected, or 0 when unknown */
    int64_t _start_ns, _drawn_ns;
};

void tams_progress_start(struct tams_progress *p, bool on, const char *what, int64_t total);
/* done: bytes so far; segments: segments so far. */
void tams_progress_update(struct tams_progress *p, int64_t done, int64_t segments);
void tams_progress_end(struct tams_progress *p);

/* Formats "12.3 MB"-style sizes into out (at least 16 bytes). Pure. */
void tams_progress_bytes(int64_t n, char *out, size_t outlen);

#endif
