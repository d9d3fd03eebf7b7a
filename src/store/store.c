/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - picks the metadata store back end from the store URL. */
#include "core/common.h"
#include "store/pg_int.h"
#include "store/store.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int tams_store_open(struct tams_store_handle *h, const char *url, const char *data_dir,
                    struct tams_buf *why)
{
    const struct tams_store_ops *ops = NULL;
    struct tams_store *st = NULL;
    int rc;

    h->ops = NULL;
    h->st = NULL;
    if (!url)
        url = "";
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) {
        ops = &tams_store_pg_ops;
    } else if (url[0] == '\0' || has_prefix(url, "sqlite:")) {
        ops = &tams_store_sqlite_ops;
    } else {
        if (why)
            tams_buf_addf(
                why, "unknown store URL scheme in '%s' (use sqlite:PATH or postgresql://...)", url);
        return TAMS_ERR_BADREQUEST;
    }
    rc = ops->open(&st, url, data_dir);
    if (rc) {
        if (why)
            tams_buf_addf(why, "cannot open the %s metadata store", ops->name);
        return rc;
    }
    h->ops = ops;
    h->st = st;
    return 0;
}

void tams_store_set_pool_size(int n)
{
    tams__store_pg_set_pool_size(n);
}

void tams_store_close(struct tams_store_handle *h)
{
    if (h->ops && h->st)
        h->ops->close(h->st);
    h->ops = NULL;
    h->st = NULL;
}
