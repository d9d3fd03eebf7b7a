/* SPDX-License-Identifier: Apache-2.0 */
/* paging.c - keyset paging parameters and headers. */
#include "core/common.h"
#include "core/percent.h"
#include "api/app.h"
#include "api/paging.h"
#include "http/limits.h"
#include "http/respond.h"
#include "http/route.h"

int tams_paging_parse_or_400(struct tams_req *req, struct tams_paging *pg)
{
    const struct tams_app *app = req->app;
    int64_t limit = app->cfg->page_limit_default;

    tams_buf_init(&pg->next_key, 1024);
    pg->page = NULL;
    if (tams_req_query_int_or_400(req, "limit", 1, INT64_MAX, &limit))
        return -1;
    if (tams_req_query_str_or_400(req, "page", &pg->page))
        return -1;
    if (pg->page && !*pg->page) {
        tams_send_error(req, TAMS_ERR_BADPAGE, "query parameter 'page' must not be empty");
        return -1;
    }
    pg->limit = limit > app->cfg->page_limit_max ? app->cfg->page_limit_max : (int)limit;
    return 0;
}

/* Query-component encoding for Link URLs: a space becomes '+' (form encoding, as requests are
 * decoded) and the sub-delimiters that carry no meaning inside a query value stay as they are,
 * so a Link is rarely longer than the request target it repeats. */
static void query_encode(struct tams_buf *b, const char *s)
{
    tams_percent_encode(b, s, strlen(s), "!$'()*,;:@/?", TAMS_PERCENT_PLUS);
}

/* The request and the response headers share one connection memory of
 * TAMS_LIMIT_CONN_MEMORY bytes; a Link that does not fit beside the request target makes the
 * server drop the connection. Keep this much of it for every other header. */
#define HEADER_HEADROOM 4096

int tams_paging_headers(struct tams_req *req, const struct tams_paging *pg)
{
    char limit[24];
    const char *base = tams_req_base_url(req);
    size_t target = strlen(req->raw_target);
    size_t budget = TAMS_LIMIT_CONN_MEMORY - HEADER_HEADROOM;
    struct tams_buf link;

    if (pg->next_key.len) {
        tams_buf_init(&link, budget > target ? budget - target : 1);
        tams_buf_addch(&link, '<');
        tams_buf_addstr(&link, base);
        tams_buf_addstr(&link, req->raw_path);
        tams_buf_addch(&link, '?');
        for (size_t i = 0; i < req->nquery; i++) {
            if (strcmp(req->query[i].name, "page") == 0)
                continue;
            query_encode(&link, req->query[i].name);
            tams_buf_addch(&link, '=');
            query_encode(&link, req->query[i].value);
            tams_buf_addch(&link, '&');
        }
        tams_buf_addstr(&link, "page=");
        query_encode(&link, pg->next_key.data);
        tams_buf_addstr(&link, ">; rel=\"next\"");
        if (!tams_buf_ok(&link)) {
            /* Never a NextKey without its Link (a client following Links would stop early). */
            tams_buf_release(&link);
            tams_send_error(req, TAMS_ERR_URITOOLONG,
                            "the query is too long to repeat in the next page's Link; "
                            "shorten it (or use a larger limit)");
            return -1;
        }
    }
    snprintf(limit, sizeof(limit), "%d", pg->limit);
    tams_res_header(req, "X-Paging-Limit", limit);
    if (!pg->next_key.len)
        return 0;
    tams_res_header(req, "X-Paging-NextKey", pg->next_key.data);
    tams_res_header(req, "Link", link.data);
    tams_buf_release(&link);
    return 0;
}

void tams_paging_release(struct tams_paging *pg)
{
    tams_buf_release(&pg->next_key);
}

void tams_paging_send_error(struct tams_req *req, int rc)
{
    tams_buf_reset(&req->out);
    if (rc == TAMS_ERR_BADPAGE)
        tams_send_error(req, rc, "query parameter 'page' is not a page key of this listing");
    else if (rc == TAMS_ERR_BADQUERY)
        tams_send_error(req, rc, "too many tag.{name} and tag_exists.{name} parameters");
    else
        tams_send_error(req, rc, NULL);
}
