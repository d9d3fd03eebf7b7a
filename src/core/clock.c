/* SPDX-License-Identifier: Apache-2.0 */
/* clock.c - time sources. */
#include "core/common.h"
#include "core/clock.h"

#include <time.h>

int64_t tams_clock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t tams_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tams_clock_rfc3339(int64_t wall_us, char out[TAMS_RFC3339_MAX])
{
    time_t secs = (time_t)(wall_us / 1000000);
    long us = (long)(wall_us % 1000000);
    struct tm tm;
    if (us < 0) {
        us += 1000000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    /* Years past 9999 cannot come from a sane clock; clamp so the format stays fixed-width. */
    snprintf(out, TAMS_RFC3339_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)us % 1000000u);
}

void tams_clock_now_rfc3339(char out[TAMS_RFC3339_MAX])
{
    tams_clock_rfc3339(tams_clock_wall_us(), out);
}

static void deadline(clockid_t clock, struct timespec *out, int64_t ms)
{
    clock_gettime(clock, out);
    out->tv_sec += (time_t)(ms / 1000);
    out->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

void tams_clock_deadline(struct timespec *out, int ms)
{
    deadline(CLOCK_REALTIME, out, ms);
}

void tams_clock_mono_deadline(struct timespec *out, int64_t ms)
{
    deadline(CLOCK_MONOTONIC, out, ms);
}
