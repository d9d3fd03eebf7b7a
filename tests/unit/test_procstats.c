/* SPDX-License-Identifier: Apache-2.0 */
/* test_procstats.c - the process metrics: each value against what the kernel says. */
#include "core/common.h"
#include "core/buf.h"
#include "core/procstats.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* The value of the unlabelled sample `name`, or -1 when absent. */
static double sample(const char *text, const char *name)
{
    char key[128];
    const char *p;

    snprintf(key, sizeof(key), "\n%s ", name);
    p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static void render(struct tams_procstats *p, struct tams_buf *out)
{
    tams_buf_reset(out);
    tams_procstats_render(p, out);
}

static void test_values(void)
{
    struct tams_procstats p;
    struct tams_buf out = TAMS_BUF_INIT(4096);
    struct rlimit rl;
    struct statvfs vfs;
    int fds[10];
    double before, after, rss;
    char *big;

    tams_procstats_init(&p, ".");
    render(&p, &out);
    /* open fds: ten more descriptors, ten more counted */
    before = sample(out.data, "process_open_fds");
    CHECK(before >= 3);
    for (int i = 0; i < 10; i++)
        fds[i] = open("/dev/null", O_RDONLY);
    render(&p, &out);
    after = sample(out.data, "process_open_fds");
    CHECK_INT_EQ((int64_t)(after - before), 10);
    for (int i = 0; i < 10; i++)
        close(fds[i]);
    /* max fds is the soft limit */
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK_INT_EQ((int64_t)sample(out.data, "process_max_fds"), (int64_t)rl.rlim_cur);
    /* resident memory grows by what is touched */
    rss = sample(out.data, "process_resident_memory_bytes");
    CHECK(rss > 1 << 20);
    big = tams_malloc(64 << 20);
    memset(big, 1, 64 << 20);
    render(&p, &out);
    CHECK(sample(out.data, "process_resident_memory_bytes") >= rss + (60 << 20));
    tams_free(big);
    /* started within the last minute, not in the future */
    CHECK(p.start_time <= (double)time(NULL) + 1 && p.start_time > (double)time(NULL) - 60);
    before = sample(out.data, "process_start_time_seconds") - p.start_time;
    CHECK(before < 0.01 && before > -0.01);
    /* the data directory's filesystem, as statvfs sees it */
    CHECK(statvfs(".", &vfs) == 0);
    CHECK(sample(out.data, "tams_data_dir_size_bytes") ==
          (double)vfs.f_blocks * (double)vfs.f_frsize);
    CHECK(sample(out.data, "tams_data_dir_free_bytes") > 0);
    CHECK(sample(out.data, "tams_data_dir_free_bytes") <=
          sample(out.data, "tams_data_dir_size_bytes"));
    CHECK(strstr(out.data, "tams_build_info{version=\"" TAMS_VERSION "\",commit=\"") != NULL);
    CHECK(strstr(out.data, "# TYPE process_open_fds gauge\n") != NULL);
    /* a data directory that does not exist: its samples left out, not written as 0 */
    p.data_dir = "/nonexistent/tams";
    render(&p, &out);
    CHECK(sample(out.data, "tams_data_dir_free_bytes") < 0);
    CHECK(strstr(out.data, "# TYPE tams_data_dir_free_bytes gauge\n") != NULL);
    tams_buf_release(&out);
}

static void test_start_time(void)
{
    /* a command name with spaces and a ')' must not shift the fields */
    const char *stat = "42 (tam sd) x) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 "
                       "12345 1000 10 0";
    CHECK(tams_procstats_start_time(stat, 1000, 100) == 1000 + 123.45);
    CHECK(tams_procstats_start_time("42 (x) S 1", 1000, 100) == -1);
    CHECK(tams_procstats_start_time("no parenthesis", 1000, 100) == -1);
}

int main(void)
{
    RUN(test_values);
    RUN(test_start_time);
    return check_report();
}
