/* SPDX-License-Identifier: Apache-2.0 */
/* pg_connect.c - a libpq connection with tamsd's defaults. */
#include "core/common.h"
#include "store/pg_connect.h"

/* Server notices (e.g. "relation already exists, skipping", "terminating connection") would go
 * to stderr raw, not as JSON log lines; they are not ours to print. */
static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

PGconn *tams_pg_connect(const char *url)
{
    /* Defaults first: the URL's own settings, expanded at "dbname", override them. Keepalives
     * and tcp_user_timeout find a database host that vanished from the network (no reset
     * comes) in seconds rather than in the kernel's quarter of an hour. */
    const char *const keys[] = {
        "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname",          NULL};
    const char *const vals[] = {"5", "tamsd", "10", "5", "3", "10000", url, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    if (pg)
        PQsetNoticeProcessor(pg, quiet_notice, NULL);
    return pg;
}
