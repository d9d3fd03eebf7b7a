/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/flowset.h"
#include "client/api.h"
#include "client/probe.h"
#include "core/percent.h"

static void add(struct tams_flowset *out, const char *id)
{
    if (id && out->n < TAMS_FLOWSET_MAX)
        snprintf(out->id[out->n++], sizeof(out->id[0]), "%s", id);
}

static int of_source(struct tams_http *h, const char *id, struct tams_flowset *out)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    json_object *list = NULL;
    int rc;
    (void)tams_buf_addstr(&path, "/flows");
    tams_api_query(&path, "source_id", id);
    if ((rc = tams_api_get(h, path.data, &list)))
        goto out;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *f = json_object_array_get_idx(list, i);
        const char *fmt = tams_api_str(f, "format");
        if (fmt && strcmp(fmt, TAMS_FORMAT_MULTI) == 0 && tams_api_str(f, "id")) {
            rc = tams_flowset_resolve(h, tams_api_str(f, "id"), out);
            goto out;
        }
    }
    for (size_t i = 0; i < json_object_array_length(list); i++)
        add(out, tams_api_str(json_object_array_get_idx(list, i), "id"));
    if (out->n == 0) {
        fprintf(stderr, "tams: '%s' is neither a flow nor a source with flows\n", id);
        rc = TAMS_EXIT_NOTFOUND;
    }
out:
    json_object_put(list);
    tams_buf_release(&path);
    return rc;
}

int tams_flowset_resolve(struct tams_http *h, const char *id, struct tams_flowset *out)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    struct tams_http_resp r;
    json_object *flow = NULL, *coll;
    int rc;
    memset(out, 0, sizeof(*out));
    (void)tams_buf_addstr(&path, "/flows/");
    tams_percent_encode(&path, id, strlen(id), NULL, 0);
    tams_http_resp_init(&r);
    /* Asked quietly: a 404 here only means that the ID may be a source's. */
    rc = tams_http_do(h, "GET", path.data, NULL, 0, NULL, &r);
    tams_http_resp_release(&r);
    if (rc == TAMS_EXIT_NOTFOUND) {
        rc = of_source(h, id, out);
        goto out;
    }
    if ((rc = tams_api_get(h, path.data, &flow)))
        goto out;
    if (json_object_object_get_ex(flow, "flow_collection", &coll) &&
        json_object_array_length(coll) > 0) {
        snprintf(out->multi, sizeof(out->multi), "%s", id);
        for (size_t i = 0; i < json_object_array_length(coll); i++)
            add(out, tams_api_str(json_object_array_get_idx(coll, i), "id"));
    } else {
        add(out, id);
    }
out:
    json_object_put(flow);
    tams_buf_release(&path);
    return rc;
}
