/* SPDX-License-Identifier: Apache-2.0 */
/* pg_int.h - what store.c and pg_peers.c need of the PostgreSQL back end (pg.c); not for other
 * modules. */
#ifndef TAMS_STORE_PG_INT_H
#define TAMS_STORE_PG_INT_H

#include "store/backend_int.h"

#include <libpq-fe.h>

/* Connections in the pool of the next PostgreSQL store opened (n <= 0: 16). Set before open. */
void tams__store_pg_set_pool_size(int n);

/* A new connection to url (a libpq URL or conninfo) with tamsd's defaults (connect_timeout 5,
 * application_name tamsd); check PQstatus. */
PGconn *tams__pg_connect(const char *url);

#endif
