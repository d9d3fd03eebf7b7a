/* SPDX-License-Identifier: Apache-2.0 */
/* log.h - one JSON object per line on stderr.
 *
 * tams_log_*() take a printf-style message (lowercase, problem first, no full stop).
 * tams_log_line() writes an already-built JSON object line atomically (one write(2)), which
 * is how the access log stays unbroken under many threads. Thread-safe.
 */
#ifndef TAMS_CORE_LOG_H
#define TAMS_CORE_LOG_H

#include "core/common.h"

enum tams_log_level { TAMS_LOG_DEBUG, TAMS_LOG_INFO, TAMS_LOG_WARN, TAMS_LOG_ERROR };

void tams_log_set_level(enum tams_log_level level);
void tams_log(enum tams_log_level level, const char *fmt, ...) TAMS_PRINTF(2, 3);
#define tams_log_info(...) tams_log(TAMS_LOG_INFO, __VA_ARGS__)
#define tams_log_warn(...) tams_log(TAMS_LOG_WARN, __VA_ARGS__)
#define tams_log_error(...) tams_log(TAMS_LOG_ERROR, __VA_ARGS__)
void tams_log_line(const char *json, size_t len);
/* Access-log lines: buffered per thread and written in batches (a write(2) per request halved
 * throughput), at the latest TAMS_LOG_FLUSH_MS after they were logged. tams_log_flush() writes
 * everything buffered now; call it before exiting. */
#define TAMS_LOG_FLUSH_MS 100
void tams_log_access(const char *json, size_t len);
void tams_log_flush(void);
/* Start / stop the background thread that flushes access lines. */
void tams_log_start_flusher(void);
void tams_log_stop_flusher(void);

#endif
