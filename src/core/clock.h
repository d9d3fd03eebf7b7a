/* SPDX-License-Identifier: Apache-2.0 */
/* clock.h - wall-clock stamps for documents and logs, monotonic time for durations. */
#ifndef TAMS_CORE_CLOCK_H
#define TAMS_CORE_CLOCK_H

#include "core/common.h"

#include <time.h>

#define TAMS_RFC3339_MAX 32

/* Microseconds since the Unix epoch (wall clock). */
int64_t tams_clock_wall_us(void);
/* Microseconds from an arbitrary fixed point (monotonic). */
int64_t tams_clock_mono_us(void);
/* UTC RFC 3339 with microseconds and 'Z', e.g. "2026-11-26T15:04:05.123456Z". */
void tams_clock_rfc3339(int64_t wall_us, char out[TAMS_RFC3339_MAX]);
void tams_clock_now_rfc3339(char out[TAMS_RFC3339_MAX]);
/* The CLOCK_REALTIME instant ms milliseconds from now, as pthread_cond_timedwait and
 * pthread_mutex_timedlock take it. */
void tams_clock_deadline(struct timespec *out, int ms);
/* The CLOCK_MONOTONIC instant ms (>= 0) milliseconds from now, for a condition variable whose
 * attributes chose that clock (pthread_condattr_setclock): wall-clock steps do not move it. */
void tams_clock_mono_deadline(struct timespec *out, int64_t ms);

#endif
