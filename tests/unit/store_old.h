/* SPDX-License-Identifier: Apache-2.0 */
/* store_old.h - a store as an older release left it, for migration tests: on an empty database
 * (a SQLite file, or a PostgreSQL schema of its own) the back end's migrations before `before`
 * run and the schema version is recorded; the test writes its rows with harness_old_exec, then
 * harness_old_ready, and tams_store_open(o.url) runs the migrations under test.
 *
 * Usage: `struct harness_old o; harness_old_make(&o, "name", before); harness_old_exec(&o, ...);
 * harness_old_ready(&o); tams_store_open(&s, o.url, ...); ...; harness_old_drop(&o);`
 */
#ifndef TAMS_TESTS_STORE_OLD_H
#define TAMS_TESTS_STORE_OLD_H

#include "store_harness.h"

#include <sqlite3.h>

struct harness_old {
    sqlite3 *db;     /* SQLite: the old file, open until harness_old_ready */
    char schema[48]; /* PostgreSQL: the old store's schema */
    char url[1300];  /* the store URL to open it with */
};

/* Runs sql on the old store (several statements allowed); 0 or -1. */
static inline int harness_old_exec(struct harness_old *o, const char *sql)
{
    struct tams_buf b = TAMS_BUF_INIT(64 * 1024);
    int rc;

    if (o->db)
        return sqlite3_exec(o->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    tams_buf_addf(&b, "SET search_path TO %s; %s", o->schema, sql);
    rc = tams_buf_ok(&b) ? harness_admin(b.data) : -1;
    tams_buf_release(&b);
    return rc;
}

/* The old store named name (unique within the test): entries [0, before) of this back end's
 * migrations, the version `before` recorded. */
static inline void harness_old_make(struct harness_old *o, const char *name, size_t before)
{
    const char *const *entries = on_sqlite() ? tams_schema_sqlite : tams_schema_pg;
    char path[200], sql[256];

    *o = (struct harness_old){0};
    snprintf(o->schema, sizeof(o->schema), "%s_%s", harness.schema, name);
    if (on_sqlite()) {
        snprintf(path, sizeof(path), "%s/%s.db", harness.dir, name);
        CHECK_INT_EQ(sqlite3_open(path, &o->db), SQLITE_OK);
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", before);
        snprintf(o->url, sizeof(o->url), "sqlite:%s", path);
    } else {
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", o->schema,
                 o->schema);
        CHECK_INT_EQ(harness_admin(sql), 0);
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE tams_schema(version INTEGER NOT NULL);"
                 " INSERT INTO tams_schema VALUES (%zu)",
                 before);
        snprintf(o->url, sizeof(o->url), "%s%soptions=-csearch_path%%3D%s", harness.base_url,
                 strchr(harness.base_url, '?') ? "&" : "?", o->schema);
    }
    for (size_t i = 0; i < before; i++)
        CHECK_INT_EQ(harness_old_exec(o, entries[i]), 0);
    CHECK_INT_EQ(harness_old_exec(o, sql), 0);
}

/* The rows are in: let go of the old file so that the store can open it. */
static inline void harness_old_ready(struct harness_old *o)
{
    if (o->db)
        sqlite3_close(o->db);
    o->db = NULL;
}

/* Drops the old store's PostgreSQL schema (the SQLite file goes with harness.dir). */
static inline void harness_old_drop(struct harness_old *o)
{
    char sql[128];

    harness_old_ready(o);
    if (on_pg()) {
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", o->schema);
        CHECK_INT_EQ(harness_admin(sql), 0);
    }
}

#endif
