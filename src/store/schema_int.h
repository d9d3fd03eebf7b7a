/* SPDX-License-Identifier: Apache-2.0 */
/* schema_int.h - what the two dialects' migrations share (schema_sqlite.c, schema_pg.c): tables
 * that are the same in both but for types, written once with the types as parameters.
 *
 * Both dialects hold the same tables, columns and indexes (docs/internals/store.md explains
 * each); they differ in types (PostgreSQL's BIGINT, its byte-wise COLLATE "C" on every key and
 * time so that keyset order matches SQLite's), in SQLite's WITHOUT ROWID tables, and in what
 * only a shared database needs (PostgreSQL's instance leases and webhook delivery leases, and
 * its server-side segment registration). Entry i of a dialect's list brings a schema from
 * version i to i + 1 (store/db.h). Never edit a shipped entry; append one at the end of the
 * list, which ends each file.
 */
#ifndef TAMS_STORE_SCHEMA_INT_H
#define TAMS_STORE_SCHEMA_INT_H

/* The soft-delete bin, the same in both dialects but for types: K a key or time column, I a
 * 64-bit integer, W SQLite's WITHOUT ROWID. One entry per deletion (`bin`); copies of the
 * rows it removed, keyed by entry; no foreign keys, so a deletion pays no per-row check.
 * deletion_requests.bin_id: the entry a deferred deletion fills. */
#define BIN_SCHEMA(K, I, W)                                                                        \
    "CREATE TABLE bin(id" K " PRIMARY KEY, kind TEXT NOT NULL, flow_id" K " NOT NULL,"             \
    " source_id TEXT, timerange TEXT NOT NULL, object_id TEXT, deleted" K " NOT NULL,"             \
    " deleted_by TEXT, expires" K " NOT NULL, segments" I " NOT NULL DEFAULT 0,"                   \
    " pending INTEGER NOT NULL DEFAULT 0);"                                                        \
    "CREATE INDEX bin_expires ON bin(expires);"                                                    \
    "CREATE TABLE bin_flows(bin_id" K " PRIMARY KEY, id" K " NOT NULL, source_id" K " NOT NULL,"   \
    " format TEXT NOT NULL, codec TEXT, container TEXT, label TEXT, frame_width" I ","             \
    " frame_height" I ", read_only INTEGER NOT NULL, doc TEXT NOT NULL, created TEXT NOT NULL,"    \
    " metadata_updated TEXT NOT NULL, segments_updated TEXT, created_by TEXT, updated_by TEXT);"   \
    "CREATE TABLE bin_flow_tags(bin_id" K " NOT NULL, name" K " NOT NULL, value TEXT NOT NULL,"    \
    " PRIMARY KEY(bin_id, name))" W ";"                                                            \
    "CREATE TABLE bin_flow_collection(bin_id" K " NOT NULL, member_id TEXT NOT NULL,"              \
    " role TEXT NOT NULL, position" I " NOT NULL, PRIMARY KEY(bin_id, position))" W ";"            \
    "CREATE TABLE bin_sources(bin_id" K " PRIMARY KEY, id" K " NOT NULL, format TEXT NOT NULL,"    \
    " label TEXT, description TEXT, created TEXT NOT NULL, updated TEXT NOT NULL,"                 \
    " created_by TEXT, updated_by TEXT);"                                                          \
    "CREATE TABLE bin_source_tags(bin_id" K " NOT NULL, name" K " NOT NULL, value TEXT NOT NULL,"  \
    " PRIMARY KEY(bin_id, name))" W ";"                                                            \
    "CREATE TABLE bin_segments(bin_id" K " NOT NULL, lo" I " NOT NULL, hi" I " NOT NULL,"          \
    " start_incl INTEGER NOT NULL, end_incl INTEGER NOT NULL, object_id" K " NOT NULL,"            \
    " ts_offset" I ", last_duration" I ", sample_offset" I ", sample_count" I ","                  \
    " key_frame_count" I ", get_urls TEXT, PRIMARY KEY(bin_id, lo))" W ";"                         \
    "CREATE INDEX bin_segments_object ON bin_segments(object_id);"                                 \
    "ALTER TABLE deletion_requests ADD COLUMN bin_id TEXT;"

/* TAMS 8.2 init objects (docs/tams-8.2-changes.md, 22), the same in both dialects: the init
 * object each segment names, kept in the bin too (and holding its object there, as gc.c asks
 * by this index); objects named so are init objects; a media object keeps the init its first
 * registration named, for segments that reuse it without naming one. */
#define INIT_OBJECTS_SCHEMA                                                                        \
    "ALTER TABLE segments ADD COLUMN init_object_id TEXT;"                                         \
    "ALTER TABLE bin_segments ADD COLUMN init_object_id TEXT;"                                     \
    "CREATE INDEX bin_segments_init ON bin_segments(init_object_id)"                               \
    " WHERE init_object_id IS NOT NULL;"                                                           \
    "ALTER TABLE objects ADD COLUMN is_init INTEGER NOT NULL DEFAULT 0;"                           \
    "ALTER TABLE objects ADD COLUMN init_object_id TEXT;"

/* Soft delete, second step: the collections a deleted flow was a member of, so a restore puts
 * it back into them (docs/soft-delete.md). */
#define BIN_MEMBERSHIPS(K, I, W)                                                                   \
    "CREATE TABLE bin_memberships(bin_id" K " NOT NULL, collector_id" K " NOT NULL,"               \
    " role TEXT NOT NULL, position" I " NOT NULL, PRIMARY KEY(bin_id, collector_id, position))" W  \
    ";"

/* PostgreSQL migration 20, long enough for a file of its own (schema_pg_bulk.c). */
extern const char tams_schema_pg_segments_add_v3[];

#endif
