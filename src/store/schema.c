/* SPDX-License-Identifier: Apache-2.0 */
/* schema.c - the store's tables, as migrations for each dialect, side by side.
 *
 * Both dialects hold the same tables, columns and indexes (docs/internals/store.md explains
 * each); they differ in types (PostgreSQL's BIGINT, its byte-wise COLLATE "C" on every key and
 * time so that keyset order matches SQLite's), in SQLite's WITHOUT ROWID tables, and in what
 * only a shared database needs (PostgreSQL's instance leases and webhook delivery leases, and
 * its server-side segment registration). Entry i brings a schema from version i to i + 1:
 * SQLite keeps the version in PRAGMA user_version, PostgreSQL in the table tams_schema. Never
 * edit a shipped entry; append one.
 */
#include "core/common.h"
#include "store/db.h"

const char *const tams_schema_sqlite[] = {
    /* 1: the whole shape (docs/internals/store.md, "Tables and indexes"). */
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE sources(id TEXT PRIMARY KEY, format TEXT NOT NULL, label TEXT,"
    " description TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, created_by TEXT,"
    " updated_by TEXT);"
    "CREATE INDEX sources_label ON sources(label, id);"
    "CREATE INDEX sources_format ON sources(format, id);"
    "CREATE TABLE source_tags(source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(source_id, name)) WITHOUT ROWID;"
    "CREATE INDEX source_tags_name_value ON source_tags(name, value, source_id);"
    "CREATE TABLE flows(id TEXT PRIMARY KEY, source_id TEXT NOT NULL REFERENCES sources(id),"
    " format TEXT NOT NULL, codec TEXT, container TEXT, label TEXT, frame_width INTEGER,"
    " frame_height INTEGER, read_only INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL,"
    " created TEXT NOT NULL, metadata_updated TEXT NOT NULL, segments_updated TEXT,"
    " created_by TEXT, updated_by TEXT);"
    "CREATE INDEX flows_source_id ON flows(source_id, id);"
    "CREATE INDEX flows_format ON flows(format, id);"
    "CREATE INDEX flows_codec ON flows(codec, id);"
    "CREATE INDEX flows_label ON flows(label, id);"
    "CREATE INDEX flows_frame_width ON flows(frame_width, id);"
    "CREATE INDEX flows_frame_height ON flows(frame_height, id);"
    "CREATE TABLE flow_tags(flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(flow_id, name)) WITHOUT ROWID;"
    "CREATE INDEX flow_tags_name_value ON flow_tags(name, value, flow_id);"
    "CREATE TABLE flow_collection(collector_id TEXT NOT NULL REFERENCES flows(id)"
    " ON DELETE CASCADE, member_id TEXT NOT NULL REFERENCES flows(id), role TEXT NOT NULL,"
    " position INTEGER NOT NULL, PRIMARY KEY(collector_id, position)) WITHOUT ROWID;"
    "CREATE INDEX flow_collection_member ON flow_collection(member_id);"
    "CREATE TABLE segments(flow_id TEXT NOT NULL REFERENCES flows(id), lo INTEGER NOT NULL,"
    " hi INTEGER NOT NULL, start_incl INTEGER NOT NULL, end_incl INTEGER NOT NULL,"
    " object_id TEXT NOT NULL, ts_offset INTEGER, last_duration INTEGER,"
    " sample_offset INTEGER, sample_count INTEGER, key_frame_count INTEGER, get_urls TEXT,"
    " PRIMARY KEY(flow_id, lo)) WITHOUT ROWID;"
    "CREATE INDEX segments_object ON segments(object_id);"
    "CREATE TABLE objects(id TEXT PRIMARY KEY, storage_id TEXT, key TEXT NOT NULL,"
    " controlled INTEGER NOT NULL, allocated_for_flow TEXT, first_referenced_by_flow TEXT,"
    " created TEXT NOT NULL);"
    "CREATE INDEX objects_unreferenced ON objects(created) WHERE first_referenced_by_flow IS NULL;"
    "CREATE TABLE object_refs(object_id TEXT NOT NULL REFERENCES objects(id),"
    " flow_id TEXT NOT NULL, count INTEGER NOT NULL CHECK(count > 0),"
    " PRIMARY KEY(object_id, flow_id)) WITHOUT ROWID;"
    "CREATE INDEX object_refs_flow ON object_refs(flow_id);",
    /* 2: deletion requests, hidden flows, garbage collection. */
    "ALTER TABLE flows ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN unreferenced_at TEXT;"
    "UPDATE objects SET unreferenced_at = strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'"
    " WHERE first_referenced_by_flow IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM object_refs r WHERE r.object_id = objects.id);"
    "CREATE INDEX objects_unreferenced_at ON objects(unreferenced_at)"
    " WHERE unreferenced_at IS NOT NULL;"
    "CREATE TABLE deletion_requests(id TEXT PRIMARY KEY, flow_id TEXT NOT NULL,"
    " sel_lo INTEGER NOT NULL, sel_hi INTEGER NOT NULL, timerange_to_delete TEXT NOT NULL,"
    " to_delete_hi INTEGER NOT NULL, to_delete_hi_incl INTEGER NOT NULL,"
    " timerange_remaining TEXT NOT NULL, delete_flow INTEGER NOT NULL, status TEXT NOT NULL,"
    " created TEXT NOT NULL, created_by TEXT, updated TEXT NOT NULL, expiry TEXT, error TEXT);"
    "CREATE INDEX deletion_requests_pending ON deletion_requests(created)"
    " WHERE status IN ('created', 'started');"
    "CREATE INDEX deletion_requests_expiry ON deletion_requests(expiry) WHERE expiry IS NOT NULL;"
    "CREATE TABLE object_trash(id INTEGER PRIMARY KEY, object_id TEXT NOT NULL,"
    " storage_id TEXT, key TEXT NOT NULL, not_before TEXT NOT NULL);"
    "CREATE INDEX object_trash_due ON object_trash(not_before);",
    /* 3: webhooks and the event outbox. */
    "CREATE TABLE webhooks(id TEXT PRIMARY KEY, url TEXT NOT NULL, api_key_name TEXT,"
    " api_key_value TEXT, owner TEXT, doc TEXT NOT NULL, created TEXT NOT NULL,"
    " cursor INTEGER NOT NULL);"
    "CREATE INDEX webhooks_url ON webhooks(url);"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,"
    " ts TEXT NOT NULL, flow_id TEXT, source_id TEXT, flow_collected_by TEXT,"
    " source_collected_by TEXT, payload TEXT NOT NULL);",
};
const size_t tams_schema_sqlite_count = TAMS_ARRAY_SIZE(tams_schema_sqlite);

/* Ids, names, values and RFC 3339 times compare byte-wise (COLLATE "C") whatever the cluster's
 * locale, so keyset order is the same as SQLite's and the indexes serve `id > $1`. */
#define TXT " TEXT COLLATE \"C\""

const char *const tams_schema_pg[] = {
    /* 1: the whole shape (docs/internals/store.md, "Tables and indexes"). */
    "CREATE TABLE settings(key" TXT " PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE sources(id" TXT " PRIMARY KEY, format" TXT " NOT NULL, label" TXT ","
    " description TEXT, created" TXT " NOT NULL, updated" TXT " NOT NULL, created_by TEXT,"
    " updated_by TEXT);"
    "CREATE INDEX sources_label ON sources(label, id);"
    "CREATE INDEX sources_format ON sources(format, id);"
    "CREATE TABLE source_tags(source_id" TXT " NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " name" TXT " NOT NULL, value" TXT " NOT NULL, PRIMARY KEY(source_id, name));"
    "CREATE INDEX source_tags_name_value ON source_tags(name, value, source_id);"
    "CREATE TABLE flows(id" TXT " PRIMARY KEY, source_id" TXT " NOT NULL REFERENCES sources(id),"
    " format" TXT " NOT NULL, codec" TXT ", container" TXT ", label" TXT ", frame_width BIGINT,"
    " frame_height BIGINT, read_only INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL,"
    " created" TXT " NOT NULL, metadata_updated" TXT " NOT NULL, segments_updated" TXT ","
    " created_by TEXT, updated_by TEXT);"
    "CREATE INDEX flows_source_id ON flows(source_id, id);"
    "CREATE INDEX flows_format ON flows(format, id);"
    "CREATE INDEX flows_codec ON flows(codec, id);"
    "CREATE INDEX flows_label ON flows(label, id);"
    "CREATE INDEX flows_frame_width ON flows(frame_width, id);"
    "CREATE INDEX flows_frame_height ON flows(frame_height, id);"
    "CREATE TABLE flow_tags(flow_id" TXT " NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    " name" TXT " NOT NULL, value" TXT " NOT NULL, PRIMARY KEY(flow_id, name));"
    "CREATE INDEX flow_tags_name_value ON flow_tags(name, value, flow_id);"
    "CREATE TABLE flow_collection(collector_id" TXT " NOT NULL REFERENCES flows(id)"
    " ON DELETE CASCADE, member_id" TXT " NOT NULL REFERENCES flows(id), role TEXT NOT NULL,"
    " position BIGINT NOT NULL, PRIMARY KEY(collector_id, position));"
    "CREATE INDEX flow_collection_member ON flow_collection(member_id);"
    "CREATE TABLE segments(flow_id" TXT " NOT NULL REFERENCES flows(id), lo BIGINT NOT NULL,"
    " hi BIGINT NOT NULL, start_incl INTEGER NOT NULL, end_incl INTEGER NOT NULL,"
    " object_id" TXT " NOT NULL, ts_offset BIGINT, last_duration BIGINT,"
    " sample_offset BIGINT, sample_count BIGINT, key_frame_count BIGINT, get_urls TEXT,"
    " PRIMARY KEY(flow_id, lo));"
    /* SQLite's WITHOUT ROWID index on object_id is keyed (object_id, flow_id, lo): say so. */
    "CREATE INDEX segments_object ON segments(object_id, flow_id, lo);"
    "CREATE TABLE objects(id" TXT " PRIMARY KEY, storage_id TEXT, key TEXT NOT NULL,"
    " controlled INTEGER NOT NULL, allocated_for_flow" TXT ", first_referenced_by_flow" TXT ","
    " created" TXT " NOT NULL);"
    "CREATE INDEX objects_unreferenced ON objects(created) WHERE first_referenced_by_flow IS NULL;"
    "CREATE TABLE object_refs(object_id" TXT " NOT NULL REFERENCES objects(id),"
    " flow_id" TXT " NOT NULL, count BIGINT NOT NULL CHECK(count > 0),"
    " PRIMARY KEY(object_id, flow_id));"
    "CREATE INDEX object_refs_flow ON object_refs(flow_id);",
    /* 2: deletion requests, hidden flows, garbage collection. */
    "ALTER TABLE flows ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN unreferenced_at" TXT ";"
    "UPDATE objects SET unreferenced_at ="
    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z'"
    " WHERE first_referenced_by_flow IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM object_refs r WHERE r.object_id = objects.id);"
    "CREATE INDEX objects_unreferenced_at ON objects(unreferenced_at)"
    " WHERE unreferenced_at IS NOT NULL;"
    "CREATE TABLE deletion_requests(id" TXT " PRIMARY KEY, flow_id" TXT " NOT NULL,"
    " sel_lo BIGINT NOT NULL, sel_hi BIGINT NOT NULL, timerange_to_delete TEXT NOT NULL,"
    " to_delete_hi BIGINT NOT NULL, to_delete_hi_incl INTEGER NOT NULL,"
    " timerange_remaining TEXT NOT NULL, delete_flow INTEGER NOT NULL, status" TXT " NOT NULL,"
    " created" TXT " NOT NULL, created_by TEXT, updated" TXT " NOT NULL, expiry" TXT ","
    " error TEXT);"
    "CREATE INDEX deletion_requests_pending ON deletion_requests(created)"
    " WHERE status IN ('created', 'started');"
    "CREATE INDEX deletion_requests_expiry ON deletion_requests(expiry) WHERE expiry IS NOT NULL;"
    "CREATE TABLE object_trash(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " object_id" TXT " NOT NULL, storage_id TEXT, key TEXT NOT NULL, not_before" TXT " NOT NULL);"
    "CREATE INDEX object_trash_due ON object_trash(not_before);",
    /* 3: webhooks and the event outbox. seq comes from a sequence, never reused after a
     * purge, so a new webhook's cursor (the sequence's last value) never sees old events. */
    "CREATE TABLE webhooks(id" TXT " PRIMARY KEY, url" TXT " NOT NULL, api_key_name" TXT ","
    " api_key_value" TXT ", owner TEXT, doc TEXT NOT NULL, created" TXT " NOT NULL,"
    " cursor BIGINT NOT NULL);"
    "CREATE INDEX webhooks_url ON webhooks(url);"
    "CREATE TABLE events(seq BIGSERIAL PRIMARY KEY, type TEXT NOT NULL, ts TEXT NOT NULL,"
    " flow_id TEXT, source_id TEXT, flow_collected_by TEXT, source_collected_by TEXT,"
    " payload TEXT NOT NULL);",
    /* 4: the instances sharing the database (read-cache coherence, pg_peers.h), and webhook
     * delivery leases: one instance at a time delivers a webhook's events, in order. */
    "CREATE TABLE tams_instances(key" TXT " PRIMARY KEY, lease_until TIMESTAMPTZ NOT NULL);"
    "ALTER TABLE webhooks ADD COLUMN lease_owner TEXT, ADD COLUMN lease_until TIMESTAMPTZ;",
    /* 5: segment registration in one round trip (segments_add_body): the items of a request,
     * as arrays, in their order, each checked against what is stored including the items
     * before it. One row per item: r_code 0 added, 1 overlaps the stored segment r_lo..r_hi,
     * 2 object allocated for another flow and never registered, 3 unknown object without
     * get_urls. References are counted per run of one object, as one upsert per run. */
    "CREATE FUNCTION tams_segments_add(p_flow text, p_now text, p_lo bigint[], p_hi bigint[],"
    " p_lo_incl int[], p_hi_incl int[], p_obj text[], p_ts_offset bigint[],"
    " p_last_duration bigint[], p_sample_offset bigint[], p_sample_count bigint[],"
    " p_key_frame_count bigint[], p_get_urls text[])"
    " RETURNS TABLE(r_code int, r_lo bigint, r_hi bigint, r_lo_incl int, r_hi_incl int)"
    " LANGUAGE plpgsql AS $f$\n"
    "DECLARE\n"
    "  prev record;\n"
    "  obj record;\n"
    "  run_obj text := NULL;\n"
    "  run_n bigint := 0;\n"
    "BEGIN\n"
    "  FOR i IN 1 .. coalesce(array_length(p_lo, 1), 0) LOOP\n"
    "    r_code := 0; r_lo := NULL; r_hi := NULL; r_lo_incl := NULL; r_hi_incl := NULL;\n"
    "    SELECT s.lo, s.hi, s.start_incl, s.end_incl INTO prev FROM segments s\n"
    "      WHERE s.flow_id = p_flow AND s.lo <= p_hi[i] ORDER BY s.lo DESC LIMIT 1;\n"
    "    IF FOUND AND prev.hi >= p_lo[i] THEN\n"
    "      r_code := 1; r_lo := prev.lo; r_hi := prev.hi;\n"
    "      r_lo_incl := prev.start_incl; r_hi_incl := prev.end_incl;\n"
    "      RETURN NEXT; CONTINUE;\n"
    "    END IF;\n"
    "    SELECT o.allocated_for_flow, o.first_referenced_by_flow IS NOT NULL AS registered\n"
    "      INTO obj FROM objects o WHERE o.id = p_obj[i];\n"
    "    IF NOT FOUND THEN\n"
    "      IF p_get_urls[i] IS NULL THEN r_code := 3; RETURN NEXT; CONTINUE; END IF;\n"
    "      INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,\n"
    "        first_referenced_by_flow, created) VALUES (p_obj[i], NULL, '', 0, NULL, p_flow, p_now);\n"
    "    ELSIF NOT obj.registered THEN\n"
    "      IF obj.allocated_for_flow IS NOT NULL AND obj.allocated_for_flow <> p_flow THEN\n"
    "        r_code := 2; RETURN NEXT; CONTINUE;\n"
    "      END IF;\n"
    "      UPDATE objects SET first_referenced_by_flow = p_flow\n"
    "        WHERE id = p_obj[i] AND first_referenced_by_flow IS NULL;\n"
    "    END IF;\n"
    "    INSERT INTO segments(flow_id, lo, hi, start_incl, end_incl, object_id, ts_offset,\n"
    "      last_duration, sample_offset, sample_count, key_frame_count, get_urls)\n"
    "      VALUES (p_flow, p_lo[i], p_hi[i], p_lo_incl[i], p_hi_incl[i], p_obj[i],\n"
    "        p_ts_offset[i], p_last_duration[i], p_sample_offset[i], p_sample_count[i],\n"
    "        p_key_frame_count[i], p_get_urls[i]);\n"
    "    IF run_n > 0 AND run_obj <> p_obj[i] THEN\n"
    "      INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"
    "        ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count;\n"
    "      UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"
    "      run_n := 0;\n"
    "    END IF;\n"
    "    run_obj := p_obj[i]; run_n := run_n + 1;\n"
    "    RETURN NEXT;\n"
    "  END LOOP;\n"
    "  IF run_n > 0 THEN\n"
    "    INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"
    "      ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count;\n"
    "    UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"
    "  END IF;\n"
    "END\n"
    "$f$;",
    /* 6: the backend of each instance's listening session, so a peer whose session ended
     * (a crashed process) is not waited for until its lease runs out (pg_peers.c). */
    "ALTER TABLE tams_instances ADD COLUMN pid INTEGER;",
};
const size_t tams_schema_pg_count = TAMS_ARRAY_SIZE(tams_schema_pg);
