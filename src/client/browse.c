/* SPDX-License-Identifier: Apache-2.0 */
/* browse.c - the commands that read and remove: sources, flows, segments, delete, webhooks. */
#include "core/common.h"
#include "client/api.h"
#include "client/cmd.h"
#include "client/table.h"
#include "core/percent.h"

#define URL_MAX (64u << 10)

struct listing {
    struct tams_ctx *c;
    struct tams_table table;
    void (*row)(struct listing *l, json_object *item);
    size_t count;
};

static int on_item(json_object *item, void *arg)
{
    struct listing *l = arg;
    l->count++;
    if (l->c->json)
        printf("%s\n", json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN));
    else
        l->row(l, item);
    return TAMS_EXIT_OK;
}

/* GETs target page by page; prints each element as JSON, or the table at the end. */
static int list(struct tams_ctx *c, const char *target, size_t ncols, const char *const *header,
                void (*row)(struct listing *, json_object *))
{
    struct listing l = {.c = c, .row = row};
    tams_table_init(&l.table, ncols, header);
    int rc = tams_api_list(&c->http, target, on_item, &l, NULL);
    if (rc == TAMS_EXIT_OK && !c->json)
        tams_table_print(&l.table, stdout);
    tams_table_release(&l.table);
    return rc;
}

static int show(struct tams_ctx *c, const char *target)
{
    json_object *doc = NULL;
    int rc = tams_api_get(&c->http, target, &doc);
    if (rc == TAMS_EXIT_OK)
        printf("%s\n", json_object_to_json_string_ext(
                           doc, c->json ? JSON_C_TO_STRING_PLAIN
                                        : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
    return rc;
}

/* "<prefix>/<id>" with id percent-encoded, so no ID can reach another path. */
static void path_id(struct tams_buf *b, const char *prefix, const char *id, const char *suffix)
{
    (void)tams_buf_addstr(b, prefix);
    tams_percent_encode(b, id, strlen(id), NULL, 0);
    if (suffix)
        (void)tams_buf_addstr(b, suffix);
}

/* --tag NAME=VALUE (repeatable) as the API's tag.NAME=VALUE; --tag NAME alone as
 * tag_exists.NAME=true. */
static int add_tags(struct tams_ctx *c, struct tams_buf *q)
{
    size_t it = 0;
    const char *t;
    while ((t = tams_cli_next(c->cli, "tag", &it))) {
        const char *eq = strchr(t, '=');
        struct tams_buf name = TAMS_BUF_INIT(1024);
        if (eq == t || *t == '\0') {
            tams_buf_release(&name);
            return tams_cmd_usage("--tag wants NAME=VALUE or NAME");
        }
        (void)tams_buf_addstr(&name, eq ? "tag." : "tag_exists.");
        tams_percent_encode(&name, t, eq ? (size_t)(eq - t) : strlen(t), NULL, 0);
        tams_api_query(q, name.data, eq ? eq + 1 : "true");
        tams_buf_release(&name);
    }
    return TAMS_EXIT_OK;
}

static void source_row(struct listing *l, json_object *s)
{
    const char *cells[] = {tams_api_str(s, "id"), tams_api_str(s, "format"),
                           tams_api_str(s, "label")};
    tams_table_add(&l->table, cells);
}

static void flow_row(struct listing *l, json_object *f)
{
    const char *cells[] = {tams_api_str(f, "id"), tams_api_str(f, "source_id"),
                           tams_api_str(f, "format"), tams_api_str(f, "codec"),
                           tams_api_str(f, "label")};
    tams_table_add(&l->table, cells);
}

static void segment_row(struct listing *l, json_object *s)
{
    const char *cells[] = {tams_api_str(s, "timerange"), tams_api_str(s, "object_id"),
                           tams_api_str(s, "ts_offset")};
    tams_table_add(&l->table, cells);
}

/* "list" or "show ID" of a resource collection at /<what>. */
static int list_or_show(struct tams_ctx *c, const char *what, bool flows)
{
    const char *verb = tams_cli_pos(c->cli, 1);
    struct tams_buf q = TAMS_BUF_INIT(URL_MAX);
    int rc = TAMS_EXIT_OK;
    if (verb && strcmp(verb, "show") == 0) {
        const char *id = tams_cli_pos(c->cli, 2);
        if (!id || c->cli->npos > 3) {
            rc = tams_cmd_usage("usage: tams %s show ID", what);
            goto out;
        }
        path_id(&q, flows ? "/flows/" : "/sources/", id, NULL);
        rc = show(c, q.data);
    } else if (verb && strcmp(verb, "list") == 0 && c->cli->npos == 2) {
        (void)tams_buf_addstr(&q, flows ? "/flows" : "/sources");
        tams_api_query(&q, "label", tams_cli_get(c->cli, "label"));
        tams_api_query(&q, "format", tams_cli_get(c->cli, "format"));
        tams_api_query(&q, "limit", tams_cli_get(c->cli, "limit"));
        if (flows) {
            tams_api_query(&q, "codec", tams_cli_get(c->cli, "codec"));
            tams_api_query(&q, "source_id", tams_cli_get(c->cli, "source"));
        }
        if ((rc = add_tags(c, &q)))
            goto out;
        static const char *const sh[] = {"ID", "FORMAT", "LABEL"};
        static const char *const fh[] = {"ID", "SOURCE", "FORMAT", "CODEC", "LABEL"};
        rc = flows ? list(c, q.data, 5, fh, flow_row) : list(c, q.data, 3, sh, source_row);
    } else {
        rc = tams_cmd_usage("usage: tams %s list [filters] | tams %s show ID", what, what);
    }
out:
    tams_buf_release(&q);
    return rc;
}

int tams_cmd_sources(struct tams_ctx *c)
{
    return list_or_show(c, "sources", false);
}

int tams_cmd_flows(struct tams_ctx *c)
{
    return list_or_show(c, "flows", true);
}

int tams_cmd_segments(struct tams_ctx *c)
{
    const char *verb = tams_cli_pos(c->cli, 1), *flow = tams_cli_pos(c->cli, 2);
    if (!verb || strcmp(verb, "list") != 0 || !flow || c->cli->npos != 3)
        return tams_cmd_usage("usage: tams segments list FLOW [--timerange TR]");
    struct tams_buf q = TAMS_BUF_INIT(URL_MAX);
    path_id(&q, "/flows/", flow, "/segments");
    tams_api_query(&q, "timerange", tams_cli_get(c->cli, "timerange"));
    tams_api_query(&q, "limit", tams_cli_get(c->cli, "limit"));
    static const char *const h[] = {"TIMERANGE", "OBJECT", "TS_OFFSET"};
    int rc = list(c, q.data, 3, h, segment_row);
    tams_buf_release(&q);
    return rc;
}

static int delete_flow(struct tams_ctx *c, const char *id)
{
    struct tams_buf q = TAMS_BUF_INIT(URL_MAX);
    json_object *doc = NULL;
    path_id(&q, "/flows/", id, NULL);
    int rc = tams_api_call(&c->http, "DELETE", q.data, NULL, &doc);
    if (rc == TAMS_EXIT_OK && c->json)
        printf("%s\n", doc ? json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN)
                           : "{\"deleted\":true}");
    else if (rc == TAMS_EXIT_OK && !c->quiet)
        fprintf(stderr, "tams: flow %s %s\n", id,
                doc ? "is being deleted (deletion request accepted)" : "deleted");
    json_object_put(doc);
    tams_buf_release(&q);
    return rc;
}

struct ids {
    char **v;
    size_t n;
};

static int collect_id(json_object *item, void *arg)
{
    struct ids *ids = arg;
    const char *id = tams_api_str(item, "id");
    if (!id)
        return TAMS_EXIT_SERVER;
    ids->v = tams_realloc(ids->v, tams_st_mult(ids->n + 1, sizeof(char *)));
    ids->v[ids->n++] = tams_strdup(id);
    return TAMS_EXIT_OK;
}

/* TAMS 7.0 has no DELETE on sources: a source exists while flows name it, so deleting a
 * source deletes its flows. */
static int delete_source(struct tams_ctx *c, const char *id)
{
    struct tams_buf q = TAMS_BUF_INIT(URL_MAX);
    struct ids ids = {0};
    (void)tams_buf_addstr(&q, "/flows");
    tams_api_query(&q, "source_id", id);
    int rc = tams_api_list(&c->http, q.data, collect_id, &ids, NULL);
    if (rc == TAMS_EXIT_OK && ids.n == 0) {
        fprintf(stderr, "tams: source %s has no flows\n", id);
        rc = TAMS_EXIT_NOTFOUND;
    }
    for (size_t i = 0; i < ids.n; i++) {
        if (rc == TAMS_EXIT_OK)
            rc = delete_flow(c, ids.v[i]);
        tams_free(ids.v[i]);
    }
    tams_free(ids.v);
    tams_buf_release(&q);
    return rc;
}

int tams_cmd_delete(struct tams_ctx *c)
{
    const char *what = tams_cli_pos(c->cli, 1), *id = tams_cli_pos(c->cli, 2);
    if (!what || !id || c->cli->npos != 3)
        return tams_cmd_usage("usage: tams delete flow|source ID");
    if (strcmp(what, "flow") == 0)
        return delete_flow(c, id);
    if (strcmp(what, "source") == 0)
        return delete_source(c, id);
    return tams_cmd_usage("usage: tams delete flow|source ID");
}

/* The events of webhook w, comma-separated, in b. */
static void webhook_events(json_object *w, struct tams_buf *b)
{
    json_object *ev = NULL;
    if (json_object_object_get_ex(w, "events", &ev) && json_object_is_type(ev, json_type_array))
        for (size_t i = 0; i < json_object_array_length(ev); i++) {
            if (i)
                (void)tams_buf_addch(b, ',');
            (void)tams_buf_addstr(b, json_object_get_string(json_object_array_get_idx(ev, i)));
        }
}

static void webhook_row(struct listing *l, json_object *w)
{
    struct tams_buf events = TAMS_BUF_INIT(1 << 16);
    webhook_events(w, &events);
    const char *cells[] = {tams_api_str(w, "url"), events.data};
    tams_table_add(&l->table, cells);
    tams_buf_release(&events);
}

/* TAMS 8.x: webhooks have ids (an 8.2 server that does not give them yet shows "-"). */
static void webhook_row_id(struct listing *l, json_object *w)
{
    struct tams_buf events = TAMS_BUF_INIT(1 << 16);
    webhook_events(w, &events);
    const char *id = tams_api_str(w, "id");
    const char *cells[] = {id ? id : "-", tams_api_str(w, "url"), events.data};
    tams_table_add(&l->table, cells);
    tams_buf_release(&events);
}

#define HOOK_NO_ID (-1) /* webhook_remove_82: the server gave no id; remove it as 7.0 does */

struct hook_find {
    const char *url;
    char *id; /* the id of the webhook of url, when it has one */
    bool found;
};

static int on_hook(json_object *w, void *arg)
{
    struct hook_find *f = arg;
    const char *url = tams_api_str(w, "url"), *id = tams_api_str(w, "id");
    if (url && strcmp(url, f->url) == 0 && !f->found) {
        f->found = true;
        f->id = id ? tams_strdup(id) : NULL;
    }
    return TAMS_EXIT_OK;
}

/* TAMS 8.x: "remove ID" deletes that webhook; "remove URL" deletes the webhook of that URL by
 * its id, or, from an 8.2 server that lists no ids yet, as 7.0 does. */
static int webhook_remove_82(struct tams_ctx *c, const char *arg)
{
    struct hook_find f = {.url = arg};
    int rc = TAMS_EXIT_OK;
    if (strstr(arg, "://")) {
        if ((rc = tams_api_list(&c->http, "/service/webhooks", on_hook, &f, NULL)))
            return rc;
        if (!f.found) {
            fprintf(stderr, "tams: no webhook has the URL %s\n", arg);
            return TAMS_EXIT_NOTFOUND;
        }
        if (!f.id)
            return HOOK_NO_ID;
    }
    struct tams_buf path = TAMS_BUF_INIT(4096);
    path_id(&path, "/service/webhooks/", f.id ? f.id : arg, NULL);
    rc = tams_api_call(&c->http, "DELETE", path.data, NULL, NULL);
    tams_buf_release(&path);
    tams_free(f.id);
    return rc;
}

/* Registration and removal are both a POST (TAMS 7.0): the same url and api key with an empty
 * event list removes it. */
static int webhook_post(struct tams_ctx *c, const char *url, const char *events)
{
    json_object *body = json_object_new_object(), *ev = json_object_new_array(), *out = NULL;
    json_object_object_add(body, "url", json_object_new_string(url));
    const char *kn = tams_cli_get(c->cli, "api-key-name");
    const char *kv = tams_cli_get(c->cli, "api-key-value");
    if (kn)
        json_object_object_add(body, "api_key_name", json_object_new_string(kn));
    if (kv)
        json_object_object_add(body, "api_key_value", json_object_new_string(kv));
    for (const char *p = events; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n)
            json_object_array_add(ev, json_object_new_string_len(p, (int)n));
        p += n + (comma ? 1 : 0);
    }
    json_object_object_add(body, "events", ev);
    size_t it = 0;
    const char *fid;
    json_object *fids = NULL;
    while ((fid = tams_cli_next(c->cli, "flow-id", &it))) {
        if (!fids)
            fids = json_object_new_array();
        json_object_array_add(fids, json_object_new_string(fid));
    }
    if (fids)
        json_object_object_add(body, "flow_ids", fids);
    int rc = tams_api_call(&c->http, "POST", "/service/webhooks", body, &out);
    if (rc == TAMS_EXIT_OK && c->json && out)
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    json_object_put(body);
    return rc;
}

int tams_cmd_webhooks(struct tams_ctx *c)
{
    const char *verb = tams_cli_pos(c->cli, 1), *url = tams_cli_pos(c->cli, 2);
    int version = 0, rc;
    if (verb &&
        ((strcmp(verb, "list") == 0 && c->cli->npos == 2) ||
         (strcmp(verb, "remove") == 0 && url && c->cli->npos == 3)) &&
        (rc = tams_api_version(&c->http, &version)))
        return rc;
    if (verb && strcmp(verb, "list") == 0 && c->cli->npos == 2) {
        static const char *const h[] = {"URL", "EVENTS"};
        static const char *const h82[] = {"ID", "URL", "EVENTS"};
        return version >= 800 ? list(c, "/service/webhooks", 3, h82, webhook_row_id)
                              : list(c, "/service/webhooks", 2, h, webhook_row);
    }
    if (verb && strcmp(verb, "add") == 0 && url && c->cli->npos == 3) {
        const char *events = tams_cli_get(c->cli, "events");
        if (!events || !*events)
            return tams_cmd_usage("tams webhooks add URL needs --events E1,E2,...");
        return webhook_post(c, url, events);
    }
    if (verb && strcmp(verb, "remove") == 0 && url && c->cli->npos == 3) {
        if (version >= 800 && (rc = webhook_remove_82(c, url)) != HOOK_NO_ID)
            return rc;
        if (!strstr(url, "://"))
            return tams_cmd_usage("TAMS %d.%d removes a webhook by its URL", version / 100,
                                  version % 100);
        return webhook_post(c, url, "");
    }
    return tams_cmd_usage("usage: tams webhooks list | add URL --events E,... | remove URL|ID");
}
