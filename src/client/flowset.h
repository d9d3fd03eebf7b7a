/* SPDX-License-Identifier: Apache-2.0 */
/* flowset.h - what an ID names for export and copy: the elementary flows behind a flow, a
 * multi-essence flow or a source. */
#ifndef TAMS_CLIENT_FLOWSET_H
#define TAMS_CLIENT_FLOWSET_H

#include "core/common.h"
#include "client/http.h"

#define TAMS_FLOWSET_MAX 16

struct tams_flowset {
    char id[TAMS_FLOWSET_MAX][64]; /* the elementary flows */
    size_t n;
    char multi[64]; /* the multi-essence flow that collects them, or "" */
};

/* Fills *out for id: a flow with a flow_collection gives its collection (and itself as
 * multi); another flow, itself; a source (not a flow), its multi-essence flow's collection when
 * it has one, else all its flows. Returns an exit status, having told the user on failure
 * (TAMS_EXIT_NOTFOUND when id is neither). */
int tams_flowset_resolve(struct tams_http *h, const char *id, struct tams_flowset *out);

#endif
