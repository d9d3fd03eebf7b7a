/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c - a list of metrics, written out in the order they were registered. */
#include "core/common.h"
#include "core/registry.h"

#include <pthread.h>

enum kind { COUNTER, GAUGE, SOURCE };

/* A counter is its entry: tams_registry_counter hands out &entry->counter. */
struct tams_counter {
    uint64_t value;
};

struct entry {
    struct entry *next;
    enum kind kind;
    char *name, *help; /* NULL for a source */
    struct tams_counter counter;
    tams_gauge_fn read;
    tams_render_fn render;
    void *ctx;
};

struct tams_registry {
    pthread_mutex_t lock;
    struct entry *head, **tail;
};

struct tams_registry *tams_registry_new(void)
{
    struct tams_registry *r = tams_calloc(1, sizeof(*r));

    pthread_mutex_init(&r->lock, NULL);
    r->tail = &r->head;
    return r;
}

void tams_registry_free(struct tams_registry *r)
{
    struct entry *e, *next;

    if (!r)
        return;
    for (e = r->head; e; e = next) {
        next = e->next;
        tams_free(e->name);
        tams_free(e->help);
        tams_free(e);
    }
    pthread_mutex_destroy(&r->lock);
    tams_free(r);
}

static struct entry *entry_new(enum kind kind, const char *name, const char *help)
{
    struct entry *e = tams_calloc(1, sizeof(*e));

    e->kind = kind;
    e->name = name ? tams_strdup(name) : NULL;
    e->help = help ? tams_strdup(help) : NULL;
    return e;
}

/* Entries are filled before they are linked in, so a concurrent render never sees half one. */
static void link_in(struct tams_registry *r, struct entry *e)
{
    pthread_mutex_lock(&r->lock);
    *r->tail = e;
    r->tail = &e->next;
    pthread_mutex_unlock(&r->lock);
}

struct tams_counter *tams_registry_counter(struct tams_registry *r, const char *name,
                                           const char *help)
{
    struct entry *e = entry_new(COUNTER, name, help);

    link_in(r, e);
    return &e->counter;
}

void tams_registry_gauge(struct tams_registry *r, const char *name, const char *help,
                         tams_gauge_fn read, void *ctx)
{
    struct entry *e = entry_new(GAUGE, name, help);

    e->read = read;
    e->ctx = ctx;
    link_in(r, e);
}

void tams_registry_source(struct tams_registry *r, tams_render_fn render, void *ctx)
{
    struct entry *e = entry_new(SOURCE, NULL, NULL);

    e->render = render;
    e->ctx = ctx;
    link_in(r, e);
}

static void family(struct tams_buf *out, const struct entry *e, const char *type)
{
    tams_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", e->name, e->help, e->name, type);
}

void tams_registry_render(struct tams_registry *r, struct tams_buf *out)
{
    pthread_mutex_lock(&r->lock);
    for (const struct entry *e = r->head; e; e = e->next) {
        switch (e->kind) {
        case COUNTER:
            family(out, e, "counter");
            tams_buf_addf(out, "%s %" PRIu64 "\n", e->name, tams_counter_get(&e->counter));
            break;
        case GAUGE:
            family(out, e, "gauge");
            tams_buf_addf(out, "%s %" PRId64 "\n", e->name, e->read(e->ctx));
            break;
        case SOURCE:
            e->render(e->ctx, out);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

void tams_counter_add(struct tams_counter *c, uint64_t n)
{
    __atomic_fetch_add(&c->value, n, __ATOMIC_RELAXED);
}

uint64_t tams_counter_get(const struct tams_counter *c)
{
    return __atomic_load_n(&c->value, __ATOMIC_RELAXED);
}
