/* SPDX-License-Identifier: Apache-2.0 */
/* procstats.h - the process's own metrics, for the metrics registry (core/registry.h).
 *
 * tams_procstats_render appends, read at render time (Linux /proc and statvfs):
 *   process_resident_memory_bytes   resident set size
 *   process_open_fds                file descriptors open now
 *   process_max_fds                 the soft RLIMIT_NOFILE
 *   process_start_time_seconds      when the process started, Unix time
 *   tams_data_dir_free_bytes        bytes of the data directory's filesystem an unprivileged
 *   tams_data_dir_size_bytes        user may still write, and its size
 *   tams_build_info{version,commit} always 1; commit is "" when the build did not know it
 * The process_* names are the ones every Prometheus client library uses, so dashboards and
 * rules written for them work unchanged. A value that cannot be read is left out (its family
 * header stays), never written as 0.
 */
#ifndef TAMS_CORE_PROCSTATS_H
#define TAMS_CORE_PROCSTATS_H

#include "core/common.h"
#include "core/buf.h"

/* The renderer's context; the caller keeps it (and data_dir) alive while it is registered. */
struct tams_procstats {
    const char *data_dir;
    double start_time; /* Unix time in seconds; set by tams_procstats_init */
};

/* Records the start time (from /proc/self/stat, or now when that cannot be read). */
void tams_procstats_init(struct tams_procstats *p, const char *data_dir);
/* Registry source: ctx is a struct tams_procstats. */
void tams_procstats_render(void *ctx, struct tams_buf *out);

/* For tests: the start time in Unix seconds from the text of /proc/self/stat and the boot
 * time (btime of /proc/stat) with ticks clock ticks per second; -1 when stat is malformed. */
double tams_procstats_start_time(const char *stat, int64_t btime, long ticks);

#endif
