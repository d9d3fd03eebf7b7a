/* SPDX-License-Identifier: Apache-2.0 */
/* test_diskfull.c - the per-area state of storage writes: episodes, metrics, the error. */
#include "core/common.h"
#include "core/buf.h"
#include "core/diskfull.h"

#include "check.h"

static bool has(const struct tams_buf *b, const char *s)
{
    return strstr(b->data, s) != NULL;
}

static void test_episodes(void)
{
    struct tams_buf out = TAMS_BUF_INIT(4096);

    tams_diskfull_reset();
    CHECK(!tams_diskfull_failing(TAMS_DISKFULL_OBJECTS));
    CHECK_INT_EQ(tams_diskfull_hit(TAMS_DISKFULL_OBJECTS, "no space left on device"),
                 TAMS_ERR_NOSPACE);
    CHECK_INT_EQ(tams_diskfull_hit(TAMS_DISKFULL_OBJECTS, NULL), TAMS_ERR_NOSPACE);
    tams_diskfull_refused();
    CHECK(tams_diskfull_failing(TAMS_DISKFULL_OBJECTS));
    CHECK(!tams_diskfull_failing(TAMS_DISKFULL_METADATA));
    tams_diskfull_render(NULL, &out);
    CHECK(has(&out, "# TYPE tams_storage_write_failing gauge\n"));
    CHECK(has(&out, "\ntams_storage_write_failing{area=\"objects\"} 1\n"));
    CHECK(has(&out, "\ntams_storage_write_failing{area=\"metadata\"} 0\n"));
    CHECK(has(&out, "\ntams_storage_write_failures_total{area=\"objects\"} 2\n"));
    CHECK(has(&out, "\ntams_storage_writes_refused_total 1\n"));
    /* The next write that works ends the episode; the failures stay counted. */
    tams_diskfull_clear(TAMS_DISKFULL_OBJECTS);
    tams_diskfull_clear(TAMS_DISKFULL_METADATA); /* not failing: nothing */
    CHECK(!tams_diskfull_failing(TAMS_DISKFULL_OBJECTS));
    tams_buf_reset(&out);
    tams_diskfull_render(NULL, &out);
    CHECK(has(&out, "\ntams_storage_write_failing{area=\"objects\"} 0\n"));
    CHECK(has(&out, "\ntams_storage_write_failures_total{area=\"objects\"} 2\n"));
    tams_buf_release(&out);
}

static void test_error_row(void)
{
    CHECK_INT_EQ(tams_err_http_status(TAMS_ERR_NOSPACE), 507);
    CHECK_STR_EQ(tams_err_type(TAMS_ERR_NOSPACE), "InsufficientStorage");
}

int main(void)
{
    RUN(test_episodes);
    RUN(test_error_row);
    return check_report();
}
