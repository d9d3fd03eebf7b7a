/* SPDX-License-Identifier: Apache-2.0 */
/* pg_connect.h - a libpq connection with tamsd's defaults, for the PostgreSQL driver and its
 * peers' listener. */
#ifndef TAMS_STORE_PG_CONNECT_H
#define TAMS_STORE_PG_CONNECT_H

#include <libpq-fe.h>

/* A new connection to url (a libpq URL or conninfo): connect_timeout 5, application_name
 * tamsd, TCP keepalives and tcp_user_timeout, server notices silenced; the URL's own settings
 * win. NULL only when out of memory; check PQstatus. Free with PQfinish. */
PGconn *tams_pg_connect(const char *url);

#endif
