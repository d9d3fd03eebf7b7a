/* SPDX-License-Identifier: Apache-2.0 */
/* unregistered_seen.h - what a store's objects_unregistered reported, for the SQLite and the
 * PostgreSQL store tests alike: unreg_cb collects the ids (the first 8) and the other fields of
 * the last report; cmp_id sorts the ids for comparison.
 */
#ifndef TAMS_TESTS_UNREGISTERED_SEEN_H
#define TAMS_TESTS_UNREGISTERED_SEEN_H

#include "core/common.h"
#include "store/store.h"

struct unreg_seen {
    char ids[8][64], storage[64], key[64], flow[37];
    size_t n;
};

static int unreg_cb(void *ctx, const struct tams_unregistered_object *o)
{
    struct unreg_seen *u = ctx;

    if (u->n < 8)
        snprintf(u->ids[u->n++], sizeof(u->ids[0]), "%s", o->id);
    snprintf(u->storage, sizeof(u->storage), "%s", o->storage_id);
    snprintf(u->key, sizeof(u->key), "%s", o->key);
    snprintf(u->flow, sizeof(u->flow), "%s", o->allocated_for_flow);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

#endif
