/* SPDX-License-Identifier: Apache-2.0 */
/* diskfull.c - the failing-or-working state of each storage area, logged once per episode. */
#include "core/common.h"
#include "core/clock.h"
#include "core/diskfull.h"
#include "core/log.h"

#include <pthread.h>

struct area {
    const char *name, *label; /* for messages, for the metric's label */
    int failing;              /* atomic: 0 or 1 */
    uint64_t failures;        /* atomic: every failed write */
    /* Under lock: */
    int64_t since_us;       /* monotonic start of the current episode */
    int64_t warned_us;      /* monotonic time of the last warning; 0: never */
    bool warned;            /* the current episode was logged */
    uint64_t failures_then; /* failures at the start of the current episode */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct area areas[TAMS_DISKFULL_NAREAS] = {
    [TAMS_DISKFULL_OBJECTS] = {.name = "built-in object store", .label = "objects"},
    [TAMS_DISKFULL_METADATA] = {.name = "metadata store", .label = "metadata"},
};
static uint64_t refused; /* atomic */

int tams_diskfull_hit(enum tams_diskfull_area which, const char *cause)
{
    struct area *a = &areas[which];

    __atomic_fetch_add(&a->failures, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&a->failing, __ATOMIC_ACQUIRE))
        return TAMS_ERR_NOSPACE;
    pthread_mutex_lock(&lock);
    if (!a->failing) {
        int64_t now = tams_clock_mono_us();

        a->since_us = now;
        a->failures_then = __atomic_load_n(&a->failures, __ATOMIC_RELAXED) - 1;
        /* A flapping area (some writes still fit) warns again only after a gap. */
        a->warned = !a->warned_us || now - a->warned_us >= TAMS_DISKFULL_LOG_GAP_S * 1000000LL;
        if (a->warned) {
            a->warned_us = now;
            tams_log_warn("%s: writes fail: %s; requests that write are answered 507 until a "
                          "write works again (free space, or repair the storage)",
                          a->name, cause && *cause ? cause : "unknown cause");
        }
        __atomic_store_n(&a->failing, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&lock);
    return TAMS_ERR_NOSPACE;
}

void tams_diskfull_clear(enum tams_diskfull_area which)
{
    struct area *a = &areas[which];

    if (!__atomic_load_n(&a->failing, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&lock);
    if (a->failing) {
        __atomic_store_n(&a->failing, 0, __ATOMIC_RELEASE);
        if (a->warned)
            tams_log_info("%s: writes work again after %.1f s (%" PRIu64 " failed meanwhile)",
                          a->name, (double)(tams_clock_mono_us() - a->since_us) / 1e6,
                          __atomic_load_n(&a->failures, __ATOMIC_RELAXED) - a->failures_then);
    }
    pthread_mutex_unlock(&lock);
}

bool tams_diskfull_failing(enum tams_diskfull_area which)
{
    return __atomic_load_n(&areas[which].failing, __ATOMIC_ACQUIRE) != 0;
}

void tams_diskfull_refused(void)
{
    __atomic_fetch_add(&refused, 1, __ATOMIC_RELAXED);
}

void tams_diskfull_render(void *ctx, struct tams_buf *out)
{
    (void)ctx;
    tams_buf_addstr(out, "# HELP tams_storage_write_failing 1 while writes to the area fail (disk "
                         "full, quota, I/O error): from a failed write until a write works\n"
                         "# TYPE tams_storage_write_failing gauge\n");
    for (int i = 0; i < TAMS_DISKFULL_NAREAS; i++)
        tams_buf_addf(out, "tams_storage_write_failing{area=\"%s\"} %d\n", areas[i].label,
                      __atomic_load_n(&areas[i].failing, __ATOMIC_ACQUIRE));
    tams_buf_addstr(out, "# HELP tams_storage_write_failures_total Failed writes by area, "
                         "background work included\n"
                         "# TYPE tams_storage_write_failures_total counter\n");
    for (int i = 0; i < TAMS_DISKFULL_NAREAS; i++)
        tams_buf_addf(out, "tams_storage_write_failures_total{area=\"%s\"} %" PRIu64 "\n",
                      areas[i].label, __atomic_load_n(&areas[i].failures, __ATOMIC_RELAXED));
    tams_buf_addf(out,
                  "# HELP tams_storage_writes_refused_total Requests answered 507 because storage "
                  "could not take a write\n"
                  "# TYPE tams_storage_writes_refused_total counter\n"
                  "tams_storage_writes_refused_total %" PRIu64 "\n",
                  __atomic_load_n(&refused, __ATOMIC_RELAXED));
}

void tams_diskfull_reset(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < TAMS_DISKFULL_NAREAS; i++) {
        struct area *a = &areas[i];
        __atomic_store_n(&a->failing, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&a->failures, 0, __ATOMIC_RELAXED);
        a->since_us = a->warned_us = 0;
        a->warned = false;
        a->failures_then = 0;
    }
    __atomic_store_n(&refused, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lock);
}
