/* SPDX-License-Identifier: Apache-2.0 */
/* copy.c - "tams copy ID --from URL --to URL": flows, their sources' labels and their
 * segments with the media objects, from one TAMS server to another over the public API. A
 * segment the destination has (same timerange) is not copied again, so a rerun resumes. */
#include "core/common.h"
#include "client/api.h"
#include "client/cmd.h"
#include "client/flowset.h"
#include "client/progress.h"
#include "core/percent.h"
#include "tams/timerange.h"

struct copy {
    struct tams_ctx *c;
    struct tams_http *src, dst;
    struct tams_progress progress;
    int64_t copied, found, bytes;
    bool first_value; /* --first-value: a list tag reaches a 7.0 server as its first value */
};

/* Fields a server keeps itself: never sent in a PUT. */
static const char *const SERVER_FIELDS[] = {"created",          "created_by",       "updated_by",
                                            "metadata_updated", "segments_updated", "collected_by",
                                            "timerange",        "metadata_version"};

static void path_of(struct tams_buf *b, const char *prefix, const char *id, const char *suffix)
{
    tams_buf_reset(b);
    (void)tams_buf_addstr(b, prefix);
    tams_percent_encode(b, id, strlen(id), NULL, 0);
    (void)tams_buf_addstr(b, suffix);
}

/* The flow document as the source server has it, less what servers keep, fitted to the
 * destination's version. */
static int fetch_flow(struct copy *cp, const char *id, json_object **flow)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    int rc;

    path_of(&path, "/flows/", id, "");
    if ((rc = tams_api_get(cp->src, path.data, flow)) == TAMS_EXIT_OK) {
        for (size_t i = 0; i < TAMS_ARRAY_SIZE(SERVER_FIELDS); i++)
            json_object_object_del(*flow, SERVER_FIELDS[i]);
        /* A 7.0 video flow may lack frame_rate; an 8.2 destination needs vfr said instead. */
        rc = tams_api_fit_flow(&cp->dst, *flow);
    }
    tams_buf_release(&path);
    return rc;
}

/* For a 7.0 destination, which has one string per tag: a list tag (8.2) of at most one value
 * becomes that value ("" for none), as 7.0 views show it; one of several values is refused,
 * naming flow and tag, unless first_value says to keep the first. Nothing is written before
 * every flow passed, so a refusal leaves the destination as it was. */
static int fit_tags_70(struct copy *cp, const char *id, json_object *flow)
{
    json_object *tags;
    int version = 0, rc = tams_api_version(&cp->dst, &version);

    if (rc || version >= 800 || !json_object_object_get_ex(flow, "tags", &tags) ||
        !json_object_is_type(tags, json_type_object))
        return rc;
    json_object_object_foreach(tags, name, v)
    {
        size_t n;
        json_object *first;

        if (!json_object_is_type(v, json_type_array))
            continue;
        n = json_object_array_length(v);
        first = n ? json_object_array_get_idx(v, 0) : NULL;
        if (n > 1 && !cp->first_value) {
            fprintf(stderr,
                    "tams: flow %s: tag '%s' holds %zu values, and the server at --to speaks TAMS"
                    " 7.0, which keeps one per tag: nothing copied (copy to an 8.2 server, or"
                    " give --first-value to keep only '%s')\n",
                    id, name, n, json_object_get_string(first));
            return TAMS_EXIT_FAIL;
        }
        /* Replacing a key's value keeps the iteration valid (json-c reuses the entry). */
        json_object_object_add(tags, name,
                               json_object_new_string(first ? json_object_get_string(first) : ""));
    }
    return TAMS_EXIT_OK;
}

/* The flow at the destination; and its source's label and description. */
static int put_flow(struct copy *cp, const char *id, json_object *flow)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    json_object *src = NULL, *v;
    int rc;
    path_of(&path, "/flows/", id, "");
    if ((rc = tams_api_call(&cp->dst, "PUT", path.data, flow, NULL)))
        goto out;
    const char *sid = tams_api_str(flow, "source_id");
    if (!sid)
        goto out;
    path_of(&path, "/sources/", sid, "");
    if ((rc = tams_api_get(cp->src, path.data, &src)))
        goto out;
    static const char *const texts[] = {"label", "description"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(texts) && rc == TAMS_EXIT_OK; i++) {
        if (!json_object_object_get_ex(src, texts[i], &v))
            continue;
        char suffix[32];
        snprintf(suffix, sizeof(suffix), "/%s", texts[i]);
        path_of(&path, "/sources/", sid, suffix);
        rc = tams_api_call(&cp->dst, "PUT", path.data, v, NULL);
    }
out:
    json_object_put(src);
    tams_buf_release(&path);
    return rc;
}

struct have {
    struct tams_timerange *v;
    size_t n;
};

static int collect_tr(json_object *seg, void *arg)
{
    struct have *h = arg;
    const char *tr = tams_api_str(seg, "timerange");
    struct tams_timerange r;
    if (!tr || tams_timerange_parse(tr, strlen(tr), &r))
        return TAMS_EXIT_SERVER;
    h->v = tams_realloc(h->v, tams_st_mult(h->n + 1, sizeof(*h->v)));
    h->v[h->n++] = r;
    return TAMS_EXIT_OK;
}

struct segs_ctx {
    struct copy *cp;
    const char *flow_id;
    struct have have;
};

/* One segment: its object's bytes through get_urls, a new object at the destination, and the
 * segment registered there with every field but object_id and get_urls as it was. */
static int copy_segment(json_object *seg, void *arg)
{
    struct segs_ctx *sc = arg;
    struct copy *cp = sc->cp;
    struct tams_buf path = TAMS_BUF_INIT(4096);
    struct tams_http_resp body, put;
    json_object *req = NULL, *alloc = NULL, *objs, *o, *pu = NULL, *urls, *doc = NULL;
    struct tams_timerange tr;
    const char *trs = tams_api_str(seg, "timerange");
    int rc = TAMS_EXIT_SERVER;
    tams_http_resp_init(&body);
    tams_http_resp_init(&put);
    if (!trs || tams_timerange_parse(trs, strlen(trs), &tr))
        goto out;
    for (size_t i = 0; i < sc->have.n; i++)
        if (sc->have.v[i].lo == tr.lo && sc->have.v[i].hi == tr.hi) {
            cp->found++;
            rc = TAMS_EXIT_OK;
            goto out;
        }
    if (!json_object_object_get_ex(seg, "get_urls", &urls) || json_object_array_length(urls) == 0) {
        fprintf(stderr, "tams: flow %s: segment %s has no get_urls\n", sc->flow_id, trs);
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(urls); i++) {
        const char *url = tams_api_str(json_object_array_get_idx(urls, i), "url");
        if (url && (rc = tams_http_do(cp->src, "GET", url, NULL, 0, NULL, &body)) == TAMS_EXIT_OK)
            break;
    }
    if (rc) {
        fprintf(stderr, "tams: %s\n", body.error);
        goto out;
    }
    path_of(&path, "/flows/", sc->flow_id, "/storage");
    req = json_object_new_object();
    json_object_object_add(req, "limit", json_object_new_int(1));
    if ((rc = tams_api_call(&cp->dst, "POST", path.data, req, &alloc)))
        goto out;
    rc = TAMS_EXIT_SERVER;
    if (!json_object_object_get_ex(alloc, "media_objects", &objs) ||
        !(o = json_object_array_get_idx(objs, 0)) ||
        !json_object_object_get_ex(o, "put_url", &pu) || !tams_api_str(pu, "url") ||
        !tams_api_str(o, "object_id"))
        goto out;
    const char *ctype = tams_api_str(pu, "content-type");
    if ((rc = tams_http_do(&cp->dst, "PUT", tams_api_str(pu, "url"), body.body.data, body.body.len,
                           ctype ? ctype : "application/octet-stream", &put))) {
        fprintf(stderr, "tams: upload: %s\n", put.error);
        goto out;
    }
    doc = json_object_new_object();
    json_object_object_foreach(seg, key, val)
    {
        if (strcmp(key, "get_urls") != 0 && strcmp(key, "object_id") != 0)
            json_object_object_add(doc, key, json_object_get(val));
    }
    json_object_object_add(doc, "object_id", json_object_new_string(tams_api_str(o, "object_id")));
    path_of(&path, "/flows/", sc->flow_id, "/segments");
    if ((rc = tams_api_call(&cp->dst, "POST", path.data, doc, NULL)))
        goto out;
    cp->copied++;
    cp->bytes += (int64_t)body.body.len;
    tams_progress_update(&cp->progress, cp->bytes, cp->copied + cp->found);
out:
    json_object_put(req);
    json_object_put(alloc);
    json_object_put(doc);
    tams_http_resp_release(&body);
    tams_http_resp_release(&put);
    tams_buf_release(&path);
    return rc;
}

static int copy_segments(struct copy *cp, const char *id, const char *tr)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    struct segs_ctx sc = {.cp = cp, .flow_id = id};
    path_of(&path, "/flows/", id, "/segments");
    tams_api_query(&path, "timerange", tr);
    int rc = tams_api_list(&cp->dst, path.data, collect_tr, &sc.have, NULL);
    if (rc == TAMS_EXIT_OK)
        rc = tams_api_list(cp->src, path.data, copy_segment, &sc, NULL);
    tams_free(sc.have.v);
    tams_buf_release(&path);
    return rc;
}

int tams_cmd_copy(struct tams_ctx *c)
{
    const char *id = tams_cli_pos(c->cli, 1), *to = tams_cli_get(c->cli, "to");
    const char *tr = tams_cli_get(c->cli, "timerange");
    struct copy cp = {.c = c, .src = &c->http, .first_value = tams_cli_has(c->cli, "first-value")};
    struct tams_flowset set;
    struct tams_timerange check;
    /* The flows in the order they are written: the elementary ones, then the multi flow. */
    json_object *docs[TAMS_FLOWSET_MAX + 1] = {0};
    const char *order[TAMS_FLOWSET_MAX + 1];
    size_t nflows = 0;
    int rc;
    (void)tams_cli_get(c->cli, "from"); /* main.c connected to it */
    if (!id || !to || c->cli->npos != 2)
        return tams_cmd_usage(
            "usage: tams copy ID --from URL --to URL [--timerange TR] [--first-value]");
    if (tr && tams_timerange_parse(tr, strlen(tr), &check))
        return tams_cmd_usage("--timerange '%s' is not a TAMS timerange", tr);
    if (tams_http_init_like(&cp.dst, cp.src, to))
        return tams_cmd_usage("--to '%s' is not an http:// or https:// URL", to);
    if ((rc = tams_flowset_resolve(cp.src, id, &set)))
        goto out;
    for (size_t i = 0; i < set.n; i++)
        order[nflows++] = set.id[i];
    if (set.multi[0])
        order[nflows++] = set.multi;
    /* Every flow read and fitted before the first write. */
    for (size_t i = 0; i < nflows && rc == TAMS_EXIT_OK; i++)
        if ((rc = fetch_flow(&cp, order[i], &docs[i])) == TAMS_EXIT_OK)
            rc = fit_tags_70(&cp, order[i], docs[i]);
    if (rc)
        goto out;
    tams_progress_start(&cp.progress, c->tty, "copy", 0);
    for (size_t i = 0; i < nflows && rc == TAMS_EXIT_OK; i++)
        rc = put_flow(&cp, order[i], docs[i]);
    for (size_t i = 0; i < set.n && rc == TAMS_EXIT_OK; i++)
        rc = copy_segments(&cp, set.id[i], tr);
    tams_progress_end(&cp.progress);
    if (rc)
        goto out;
    if (c->json) {
        json_object *o = json_object_new_object(), *ids = json_object_new_array();
        if (set.multi[0])
            json_object_array_add(ids, json_object_new_string(set.multi));
        for (size_t i = 0; i < set.n; i++)
            json_object_array_add(ids, json_object_new_string(set.id[i]));
        json_object_object_add(o, "flow_ids", ids);
        json_object_object_add(o, "segments_copied", json_object_new_int64(cp.copied));
        json_object_object_add(o, "segments_found", json_object_new_int64(cp.found));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    } else if (!c->quiet) {
        fprintf(stderr, "tams: %" PRId64 " segments copied, %" PRId64 " there already\n", cp.copied,
                cp.found);
    }
out:
    for (size_t i = 0; i < nflows; i++)
        json_object_put(docs[i]);
    tams_http_release(&cp.dst);
    return rc;
}
