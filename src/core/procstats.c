/* SPDX-License-Identifier: Apache-2.0 */
/* procstats.c - resident memory, file descriptors, start time, data directory space, build. */
#include "core/common.h"
#include "core/procstats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#ifndef TAMS_GIT_COMMIT
#define TAMS_GIT_COMMIT ""
#endif

/* Reads a small /proc file whole; false when it cannot. */
static bool read_small(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

double tams_procstats_start_time(const char *stat, int64_t btime, long ticks)
{
    /* The command name (field 2) may hold spaces and parentheses: fields resume after the
     * last ')'. starttime is field 22, i.e. the 20th after it. */
    const char *p = strrchr(stat, ')');
    unsigned long long start;

    if (!p || ticks <= 0)
        return -1;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return -1;
    }
    if (sscanf(p, " %llu", &start) != 1)
        return -1;
    return (double)btime + (double)start / (double)ticks;
}

static int64_t boot_time(void)
{
    char buf[16384];
    const char *p;
    long long v;

    if (!read_small("/proc/stat", buf, sizeof(buf)) || !(p = strstr(buf, "\nbtime ")) ||
        sscanf(p, "\nbtime %lld", &v) != 1)
        return -1;
    return v;
}

void tams_procstats_init(struct tams_procstats *p, const char *data_dir)
{
    char stat[4096];
    int64_t btime = boot_time();
    double t = -1;

    p->data_dir = data_dir;
    if (btime > 0 && read_small("/proc/self/stat", stat, sizeof(stat)))
        t = tams_procstats_start_time(stat, btime, sysconf(_SC_CLK_TCK));
    if (t < 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    p->start_time = t;
}

static int64_t resident_bytes(void)
{
    char buf[256];
    long long size, resident;

    if (!read_small("/proc/self/statm", buf, sizeof(buf)) ||
        sscanf(buf, "%lld %lld", &size, &resident) != 2)
        return -1;
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static int64_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int64_t n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* not the descriptor of the listing itself */
}

static void family(struct tams_buf *out, const char *name, const char *type, const char *help)
{
    tams_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void tams_procstats_render(void *ctx, struct tams_buf *out)
{
    const struct tams_procstats *p = ctx;
    struct rlimit rl;
    struct statvfs vfs;
    int64_t v;
    bool have_vfs = p->data_dir && statvfs(p->data_dir, &vfs) == 0;

    family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    if ((v = resident_bytes()) >= 0)
        tams_buf_addf(out, "process_resident_memory_bytes %" PRId64 "\n", v);
    family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    if ((v = open_fds()) >= 0)
        tams_buf_addf(out, "process_open_fds %" PRId64 "\n", v);
    family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        tams_buf_addf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    family(out, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
    tams_buf_addf(out, "process_start_time_seconds %.2f\n", p->start_time);
    family(out, "tams_data_dir_free_bytes", "gauge",
           "Bytes the server may still write on the data directory's filesystem.");
    if (have_vfs)
        tams_buf_addf(out, "tams_data_dir_free_bytes %llu\n",
                      (unsigned long long)vfs.f_bavail * vfs.f_frsize);
    family(out, "tams_data_dir_size_bytes", "gauge", "Size of the data directory's filesystem.");
    if (have_vfs)
        tams_buf_addf(out, "tams_data_dir_size_bytes %llu\n",
                      (unsigned long long)vfs.f_blocks * vfs.f_frsize);
    family(out, "tams_build_info", "gauge", "Always 1; the labels say which build is running.");
    tams_buf_addf(out, "tams_build_info{version=\"%s\",commit=\"%s\"} 1\n", TAMS_VERSION,
                  TAMS_GIT_COMMIT);
}
