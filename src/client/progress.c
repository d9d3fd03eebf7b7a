/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/progress.h"

#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tams_progress_bytes(int64_t n, char *out, size_t outlen)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000 && u + 1 < TAMS_ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(out, outlen, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void tams_progress_start(struct tams_progress *p, bool on, const char *what, int64_t total)
{
    *p = (struct tams_progress){.on = on, .what = what, .total = total, ._start_ns = now_ns()};
}

void tams_progress_update(struct tams_progress *p, int64_t done, int64_t segments)
{
    if (!p->on)
        return;
    int64_t now = now_ns();
    if (now - p->_drawn_ns < 100000000)
        return;
    p->_drawn_ns = now;
    double secs = (double)(now - p->_start_ns) / 1e9;
    double rate = secs > 0 ? (double)done / secs : 0;
    char d[16], r[16], eta[32] = "";
    tams_progress_bytes(done, d, sizeof(d));
    tams_progress_bytes((int64_t)rate, r, sizeof(r));
    int pct = p->total > 0 ? (int)(done * 100 / p->total) : -1;
    if (pct >= 0 && rate > 0 && done < p->total)
        snprintf(eta, sizeof(eta), "  ETA %.0fs", (double)(p->total - done) / rate);
    char bar[21];
    int filled = pct >= 0 ? (pct > 100 ? 20 : pct / 5) : 0;
    for (int i = 0; i < 20; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    if (pct >= 0)
        fprintf(stderr, "\r%s [%s] %3d%%  %s  %" PRId64 " segments  %s/s%s\033[K", p->what, bar,
                pct > 100 ? 100 : pct, d, segments, r, eta);
    else
        fprintf(stderr, "\r%s  %s  %" PRId64 " segments  %s/s\033[K", p->what, d, segments, r);
}

void tams_progress_end(struct tams_progress *p)
{
    if (p->on && p->_drawn_ns)
        fputs("\r\033[K", stderr);
    p->on = false;
}
