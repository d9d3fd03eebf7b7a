/* SPDX-License-Identifier: Apache-2.0 */
/* test_registry.c - the metrics registry: text format, order, counters under threads. */
#include "core/common.h"
#include "core/buf.h"
#include "core/registry.h"

#include <pthread.h>

#include "check.h"

static int64_t gauge_value(void *ctx)
{
    return *(int64_t *)ctx;
}

static char src_name[] = "t_src_total";

static void render_source(void *ctx, struct tams_buf *out)
{
    tams_buf_addf(out, "# TYPE %s counter\n%s{x=\"y\"} 1\n", (const char *)ctx, (const char *)ctx);
}

static void test_render(void)
{
    struct tams_registry *r = tams_registry_new();
    struct tams_buf out = TAMS_BUF_INIT(4096);
    struct tams_counter *a, *b;
    int64_t depth = -1;

    tams_registry_render(r, &out);
    CHECK_STR_EQ(out.data, ""); /* nothing registered, nothing written */
    a = tams_registry_counter(r, "t_a_total", "Things (a).");
    tams_registry_source(r, render_source, src_name);
    tams_registry_gauge(r, "t_depth", "Waiting; -1: unknown.", gauge_value, &depth);
    b = tams_registry_counter(r, "t_b_total", "Things (b).");
    tams_counter_add(a, 3);
    tams_counter_add(a, 4);
    CHECK_INT_EQ(tams_counter_get(a), 7);
    CHECK_INT_EQ(tams_counter_get(b), 0);
    tams_registry_render(r, &out);
    /* registration order; each family HELP, TYPE, sample */
    CHECK_STR_EQ(out.data, "# HELP t_a_total Things (a).\n"
                           "# TYPE t_a_total counter\n"
                           "t_a_total 7\n"
                           "# TYPE t_src_total counter\n"
                           "t_src_total{x=\"y\"} 1\n"
                           "# HELP t_depth Waiting; -1: unknown.\n"
                           "# TYPE t_depth gauge\n"
                           "t_depth -1\n"
                           "# HELP t_b_total Things (b).\n"
                           "# TYPE t_b_total counter\n"
                           "t_b_total 0\n");
    /* gauges are read at render time */
    depth = 42;
    tams_buf_reset(&out);
    tams_registry_render(r, &out);
    CHECK(strstr(out.data, "\nt_depth 42\n") != NULL);
    tams_buf_release(&out);
    tams_registry_free(r);
    tams_registry_free(NULL);
}

#define NTHREADS 4
#define NADDS 100000

static void *adder(void *arg)
{
    for (int i = 0; i < NADDS; i++)
        tams_counter_add(arg, 1);
    return NULL;
}

struct render_arg {
    struct tams_registry *r;
    bool ok;
};

static void *renderer(void *arg)
{
    struct render_arg *ra = arg;
    struct tams_buf out = TAMS_BUF_INIT(1 << 16);

    for (int i = 0; i < 200; i++) {
        tams_buf_reset(&out);
        tams_registry_render(ra->r, &out);
        if (!strstr(out.data, "# TYPE t_n_total counter\nt_n_total "))
            ra->ok = false;
    }
    tams_buf_release(&out);
    return NULL;
}

/* Counting from several threads loses nothing, rendering meanwhile is safe, and entries may
 * be registered while others render. */
static void test_threads(void)
{
    struct tams_registry *r = tams_registry_new();
    struct tams_counter *c = tams_registry_counter(r, "t_n_total", "Counted.");
    struct render_arg ra = {r, true};
    pthread_t t[NTHREADS], rt;

    pthread_create(&rt, NULL, renderer, &ra);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, adder, c);
    for (int i = 0; i < 20; i++)
        tams_registry_counter(r, "t_more_total", "Registered while rendering.");
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    pthread_join(rt, NULL);
    CHECK_INT_EQ(tams_counter_get(c), (int64_t)NTHREADS * NADDS);
    CHECK(ra.ok);
    tams_registry_free(r);
}

int main(void)
{
    RUN(test_render);
    RUN(test_threads);
    return check_report();
}
