/* SPDX-License-Identifier: Apache-2.0 */
/* pg.c - the PostgreSQL metadata store (libpq): a connection pool, prepared statements, retries. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "store/backend_int.h"
#include "store/cursor.h"
#include "store/outbox.h"
#include "store/pg_int.h"
#include "store/pg_peers.h"
#include "store/store.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#define SQL_MAX 16384       /* generated listing SQL: fits MAX_TAG_FILTERS and every other filter */
#define MAX_TAG_FILTERS 64  /* more tag.* / tag_exists.* parameters in one query is BADQUERY */
#define TX_RETRIES 4        /* serialisation failures, deadlocks and lost races are retried */
#define POOL_WAIT_MS 10000  /* longest wait for a free connection before UNAVAILABLE */
#define SLOW_CONNECT_MS 500 /* a failed connect that took longer: the host hangs */
#define SLOW_DOWN_PAUSE_MS 1000   /* ...and is not tried again before this */
#define MIGRATE_LOCK 7353417901ll /* pg_advisory_lock key held while migrating */
/* Transaction-scoped advisory lock keys of the event outbox (see hooks_on): HOOKS_KEY is held
 * shared by every transaction that has looked for webhooks before writing events, and
 * exclusively by webhook_put; EVENTS_KEY is held exclusively from a transaction's first event
 * insert to its end, so events commit in seq order across every instance. */
#define HOOKS_KEY "7353417902"
#define EVENTS_KEY "7353417903"
#define EV_PAYLOAD_MAX (256u << 20)
#define MAX_PARAMS (2 * MAX_TAG_FILTERS + 16)

/* An internal result: the transaction lost a race (serialisation failure, deadlock, a unique
 * or foreign key violation a concurrent writer caused) and is run again. Never returned. */
#define ERR_RETRY (-100000)

static int pool_size_setting; /* tams__store_pg_set_pool_size; 0 = default */

/* ---- schema ------------------------------------------------------------------------------ */

/* Ids, names, values and RFC 3339 times compare byte-wise (COLLATE "C") whatever the cluster's
 * locale, so keyset order is the same as SQLite's and the indexes serve `id > $1`. */
#define TXT " TEXT COLLATE \"C\""

/* Ordered migrations; migration i brings tams_schema.version from i to i + 1. They mirror the
 * SQLite ones (docs/internals/store.md): same tables, columns and indexes; never edit a shipped
 * entry, append one. */
static const char *const migrations[] = {
    /* 1: the whole shape of design.md. */
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
};

/* ---- prepared statements ----------------------------------------------------------------- */

#define FLOW_COLS                                                                                  \
    "f.id, f.doc, f.created, f.metadata_updated, f.segments_updated, f.created_by,"                \
    " f.updated_by, f.read_only, (SELECT string_agg(x.collector_id, ',' ORDER BY x.collector_id)"  \
    " FROM (SELECT DISTINCT c.collector_id FROM flow_collection c WHERE c.member_id = f.id) x)"

/* A page of segments of flow $1 in one order, objects joined for what get_urls are built from;
 * nothing while the flow is being deleted. Their lo lies in [lower, $3], where lower is $2,
 * or the lo of the segment holding instant $4 when there is one (it starts before $2 and
 * overlaps the window), and at least $5 (the page key). One statement, so one round trip and
 * one snapshot: the hidden check and the seek are init plans run once, and every shape is one
 * range of the primary key (flow_id, lo) or of segments_object (object_id, flow_id, lo). */
#define SEG_LIST_HEAD                                                                              \
    "SELECT s.lo, s.hi, s.start_incl, s.end_incl, s.object_id, s.ts_offset, s.last_duration,"      \
    " s.sample_offset, s.sample_count, s.key_frame_count, s.get_urls, o.controlled,"               \
    " o.storage_id, o.key FROM segments s LEFT JOIN objects o ON o.id = s.object_id"               \
    " WHERE s.flow_id = $1"                                                                        \
    " AND NOT EXISTS (SELECT 1 FROM flows WHERE id = $1 AND deleting = 1)"                         \
    " AND s.lo BETWEEN GREATEST(COALESCE((SELECT x.lo FROM (SELECT lo, hi FROM segments"           \
    " WHERE flow_id = $1 AND lo <= $4::bigint ORDER BY lo DESC LIMIT 1) x"                         \
    " WHERE x.hi >= $4::bigint), $2::bigint), $5::bigint) AND $3::bigint"

/* Segments of flow $1 wholly inside [$2 .. $4] whose lo is at most $3; the _OBJ shapes only
 * those of object $5 (their extra parameter is $6, else $5). */
#define SEG_SEL(head, tail)                                                                        \
    head " FROM segments WHERE flow_id = $1 AND lo BETWEEN $2 AND $3 AND hi <= $4" tail
#define SEG_SEL_OBJ(head, tail)                                                                    \
    head " FROM segments WHERE flow_id = $1 AND lo BETWEEN $2 AND $3 AND hi <= $4"                 \
         " AND object_id = $5" tail

#define DR_COLS                                                                                    \
    "id, flow_id, timerange_to_delete, timerange_remaining, delete_flow, status, created,"         \
    " created_by, updated, expiry, error"

#define STMTS(XX)                                                                                  \
    XX(PING, "SELECT 1")                                                                           \
    XX(LOCK_FLOW, "SELECT pg_advisory_xact_lock(hashtextextended('flow:' || $1::text, 0))")        \
    XX(SETTING_GET, "SELECT value FROM settings WHERE key = $1")                                   \
    XX(SETTING_SET, "INSERT INTO settings(key, value) VALUES ($1, $2)"                             \
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value")                      \
    XX(SETTING_DEL, "DELETE FROM settings WHERE key = $1")                                         \
    XX(FLOW_STATE, "SELECT read_only, source_id, doc, deleting FROM flows WHERE id = $1"           \
                   " FOR UPDATE")                                                                  \
    XX(FLOW_EXISTS, "SELECT 1 FROM flows WHERE id = $1 AND deleting = 0")                          \
    XX(SOURCE_FORMAT, "SELECT format FROM sources WHERE id = $1")                                  \
    XX(SOURCE_INSERT, "INSERT INTO sources(id, format, created, updated, created_by, updated_by)"  \
                      " VALUES ($1, $2, $3, $3, $4, $4) ON CONFLICT(id) DO NOTHING")               \
    XX(FLOW_UPSERT,                                                                                \
       "INSERT INTO flows(id, source_id, format, codec, container, label, frame_width,"            \
       " frame_height, read_only, doc, created, metadata_updated, created_by, updated_by)"         \
       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $12)"                     \
       " ON CONFLICT(id) DO UPDATE SET source_id = excluded.source_id, format = excluded.format,"  \
       " codec = excluded.codec, container = excluded.container, label = excluded.label,"          \
       " frame_width = excluded.frame_width, frame_height = excluded.frame_height,"                \
       " read_only = excluded.read_only, doc = excluded.doc,"                                      \
       " metadata_updated = excluded.metadata_updated, updated_by = excluded.updated_by")          \
    XX(FLOW_TAGS_DEL, "DELETE FROM flow_tags WHERE flow_id = $1")                                  \
    XX(FLOW_TAG_INS, "INSERT INTO flow_tags(flow_id, name, value) VALUES ($1, $2, $3)"             \
                     " ON CONFLICT(flow_id, name) DO UPDATE SET value = excluded.value")           \
    XX(COLL_DEL, "DELETE FROM flow_collection WHERE collector_id = $1")                            \
    XX(COLL_INS, "INSERT INTO flow_collection(collector_id, member_id, role, position)"            \
                 " VALUES ($1, $2, $3, $4)")                                                       \
    XX(COLL_DEL_MEMBER, "DELETE FROM flow_collection WHERE member_id = $1")                        \
    XX(COLLECTORS_OF, "SELECT DISTINCT collector_id FROM flow_collection WHERE member_id = $1"     \
                      " AND collector_id <> $1 ORDER BY 1")                                        \
    XX(SOURCE_HAS_FLOWS, "SELECT 1 FROM flows WHERE source_id = $1 LIMIT 1")                       \
    XX(SOURCE_DEL, "DELETE FROM sources WHERE id = $1")                                            \
    XX(FLOW_GET, "SELECT " FLOW_COLS " FROM flows f WHERE f.id = $1 AND f.deleting = 0")           \
    XX(FLOW_SET_DOC, "UPDATE flows SET doc = $2, metadata_updated = $3 WHERE id = $1")             \
    XX(SEG_DEL_FLOW, "DELETE FROM segments WHERE flow_id = $1")                                    \
    XX(REFS_DEL_FLOW, "DELETE FROM object_refs WHERE flow_id = $1")                                \
    XX(FLOW_DEL, "DELETE FROM flows WHERE id = $1")                                                \
    XX(SEG_LAST_LE, "SELECT lo, hi, start_incl, end_incl FROM segments WHERE flow_id = $1"         \
                    " AND lo <= $2 ORDER BY lo DESC LIMIT 1")                                      \
    XX(SEG_FIRST_GT, "SELECT lo, hi, start_incl, end_incl FROM segments WHERE flow_id = $1"        \
                     " AND lo > $2 ORDER BY lo LIMIT 1")                                           \
    XX(SOURCE_GET, "SELECT src.id, src.format, src.label, src.description, src.created,"           \
                   " src.updated, src.created_by, src.updated_by FROM sources src"                 \
                   " WHERE src.id = $1")                                                           \
    XX(SOURCE_TAGS, "SELECT name, value FROM source_tags WHERE source_id = $1 ORDER BY name")      \
    XX(SOURCE_COLLECTION,                                                                          \
       "SELECT DISTINCT g.source_id, c.role FROM flows f"                                          \
       " JOIN flow_collection c ON c.collector_id = f.id JOIN flows g ON g.id = c.member_id"       \
       " WHERE f.source_id = $1 ORDER BY 1, 2")                                                    \
    XX(SOURCE_COLLECTED_BY,                                                                        \
       "SELECT DISTINCT f.source_id FROM flows g"                                                  \
       " JOIN flow_collection c ON c.member_id = g.id JOIN flows f ON f.id = c.collector_id"       \
       " WHERE g.source_id = $1 ORDER BY 1")                                                       \
    XX(SOURCE_SET_LABEL, "UPDATE sources SET label = $2, updated = $3, updated_by = $4"            \
                         " WHERE id = $1")                                                         \
    XX(SOURCE_SET_DESC, "UPDATE sources SET description = $2, updated = $3, updated_by = $4"       \
                        " WHERE id = $1")                                                          \
    XX(SOURCE_TOUCH, "UPDATE sources SET updated = $2, updated_by = $3 WHERE id = $1")             \
    XX(SOURCE_TAG_SET, "INSERT INTO source_tags(source_id, name, value) VALUES ($1, $2, $3)"       \
                       " ON CONFLICT(source_id, name) DO UPDATE SET value = excluded.value")       \
    XX(SOURCE_TAG_DEL, "DELETE FROM source_tags WHERE source_id = $1 AND name = $2")               \
    XX(MEDIA_FLOW, "SELECT read_only, (container IS NOT NULL)::int FROM flows WHERE id = $1"       \
                   " AND deleting = 0")                                                            \
    XX(SEG_ADD_MANY, "SELECT r_code, r_lo, r_hi, r_lo_incl, r_hi_incl FROM tams_segments_add($1,"  \
                     " $2, $3::bigint[], $4::bigint[], $5::int[], $6::int[], $7::text[],"          \
                     " $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],"   \
                     " $13::text[])")                                                              \
    XX(FLOW_SEG_TOUCH, "UPDATE flows SET segments_updated = $2 WHERE id = $1")                     \
    XX(OBJ_INSERT_MANY, "INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow," \
                        " created) SELECT u.id, $3, u.key, 1, $4, $5"                              \
                        " FROM unnest($1::text[], $2::text[]) AS u(id, key)"                       \
                        " ON CONFLICT(id) DO NOTHING RETURNING id")                                \
    XX(OBJ_FIRST_REF, "SELECT first_referenced_by_flow FROM objects WHERE id = $1")                \
    XX(OBJ_REF_FLOWS, "SELECT r.flow_id FROM object_refs r JOIN flows f ON f.id = r.flow_id"       \
                      " WHERE r.object_id = $1 AND r.flow_id > $2 AND f.deleting = 0"              \
                      " ORDER BY r.flow_id LIMIT $3")                                              \
    XX(OBJ_HAS_VISIBLE_REFS, "SELECT 1 FROM object_refs r JOIN flows f ON f.id = r.flow_id"        \
                             " WHERE r.object_id = $1 AND f.deleting = 0 LIMIT 1")                 \
    XX(SEG_LIST, SEG_LIST_HEAD " ORDER BY s.lo LIMIT $6")                                          \
    XX(SEG_LIST_REV, SEG_LIST_HEAD " ORDER BY s.lo DESC LIMIT $6")                                 \
    XX(SEG_LIST_OBJ, SEG_LIST_HEAD " AND s.object_id = $7 ORDER BY s.lo LIMIT $6")                 \
    XX(SEG_LIST_OBJ_REV, SEG_LIST_HEAD " AND s.object_id = $7 ORDER BY s.lo DESC LIMIT $6")        \
    XX(FLOW_HIDE, "UPDATE flows SET deleting = 1 WHERE id = $1")                                   \
    XX(SEG_SEL_NTH, SEG_SEL("SELECT lo, start_incl", " ORDER BY lo LIMIT 1 OFFSET $5"))            \
    XX(SEG_SEL_NTH_OBJ, SEG_SEL_OBJ("SELECT lo, start_incl", " ORDER BY lo LIMIT 1 OFFSET $6"))    \
    XX(SEG_SEL_COUNT, "SELECT count(*) FROM (" SEG_SEL("SELECT 1", " LIMIT $5") ") x")             \
    XX(SEG_SEL_REFS, SEG_SEL("SELECT object_id, count(*)", " GROUP BY object_id"))                 \
    XX(SEG_SEL_REFS_OBJ, SEG_SEL_OBJ("SELECT object_id, count(*)", " GROUP BY object_id"))         \
    XX(SEG_SEL_DEL, SEG_SEL("DELETE", ""))                                                         \
    XX(SEG_SEL_DEL_OBJ, SEG_SEL_OBJ("DELETE", ""))                                                 \
    XX(REF_SUB, "UPDATE object_refs SET count = count - $3 WHERE object_id = $1 AND flow_id = $2"  \
                " AND count > $3")                                                                 \
    XX(REF_DEL, "DELETE FROM object_refs WHERE object_id = $1 AND flow_id = $2")                   \
    XX(OBJ_UNREF, "UPDATE objects SET unreferenced_at = $2 WHERE id = $1"                          \
                  " AND NOT EXISTS (SELECT 1 FROM object_refs WHERE object_id = $1)")              \
    XX(OBJ_UNREF_FLOW,                                                                             \
       "UPDATE objects SET unreferenced_at = $2 WHERE id IN (SELECT object_id FROM object_refs"    \
       " WHERE flow_id = $1) AND NOT EXISTS (SELECT 1 FROM object_refs r"                          \
       " WHERE r.object_id = objects.id AND r.flow_id <> $1)")                                     \
    XX(DR_INSERT,                                                                                  \
       "INSERT INTO deletion_requests(id, flow_id, sel_lo, sel_hi, timerange_to_delete,"           \
       " to_delete_hi, to_delete_hi_incl, timerange_remaining, delete_flow, status, created,"      \
       " created_by, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $8, 'created', $9, $10,"     \
       " $9)")                                                                                     \
    XX(DR_GET, "SELECT " DR_COLS " FROM deletion_requests WHERE id = $1"                           \
               " AND (expiry IS NULL OR expiry > $2)")                                             \
    XX(DR_LIST, "SELECT " DR_COLS " FROM deletion_requests WHERE expiry IS NULL OR expiry > $1"    \
                " ORDER BY created, id")                                                           \
    XX(DR_NEXT, "SELECT id, flow_id, sel_lo, sel_hi, to_delete_hi, to_delete_hi_incl,"             \
                " delete_flow FROM deletion_requests WHERE status IN ('created', 'started')"       \
                " ORDER BY created LIMIT 1 FOR UPDATE SKIP LOCKED")                                \
    XX(DR_PROGRESS, "UPDATE deletion_requests SET status = 'started', timerange_remaining = $2,"   \
                    " updated = $3 WHERE id = $1")                                                 \
    XX(DR_FINISH, "UPDATE deletion_requests SET status = $2, timerange_remaining = $3,"            \
                  " updated = $4, expiry = $5, error = $6 WHERE id = $1")                          \
    XX(DR_PURGE, "DELETE FROM deletion_requests WHERE expiry <= $1")                               \
    XX(GC_UNREF, "SELECT id, controlled, storage_id, key FROM objects"                             \
                 " WHERE unreferenced_at IS NOT NULL AND unreferenced_at <= $1"                    \
                 " ORDER BY unreferenced_at LIMIT $2 FOR UPDATE SKIP LOCKED")                      \
    XX(GC_UNUSED, "SELECT id, controlled, storage_id, key FROM objects"                            \
                  " WHERE first_referenced_by_flow IS NULL AND created <= $1"                      \
                  " ORDER BY created LIMIT $2 FOR UPDATE SKIP LOCKED")                             \
    XX(GC_TAKE, "DELETE FROM objects WHERE id = $1"                                                \
                " AND NOT EXISTS (SELECT 1 FROM object_refs WHERE object_id = $1)")                \
    XX(TRASH_INS, "INSERT INTO object_trash(object_id, storage_id, key, not_before)"               \
                  " VALUES ($1, $2, $3, $4)")                                                      \
    XX(TRASH_DUE, "SELECT id, object_id, storage_id, key FROM object_trash"                        \
                  " WHERE not_before <= $1 ORDER BY not_before LIMIT $2")                          \
    XX(TRASH_DEL, "DELETE FROM object_trash WHERE id = $1")                                        \
    XX(TRASH_RETRY, "UPDATE object_trash SET not_before = $2 WHERE id = $1")                       \
    XX(HOOKS_SHARE, "SELECT pg_advisory_xact_lock_shared(" HOOKS_KEY ")")                          \
    XX(HOOKS_EXCL, "SELECT pg_advisory_xact_lock(" HOOKS_KEY ")")                                  \
    XX(HOOKS_ANY, "SELECT 1 FROM webhooks LIMIT 1")                                                \
    XX(EV_LOCK, "SELECT pg_advisory_xact_lock(" EVENTS_KEY ")")                                    \
    XX(EV_INSERT, "INSERT INTO events(type, ts, flow_id, source_id, flow_collected_by,"            \
                  " source_collected_by, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)")            \
    XX(FLOW_SNAP, "SELECT f.source_id, (SELECT string_agg(x.collector_id, ','"                     \
                  " ORDER BY x.collector_id) FROM (SELECT DISTINCT c.collector_id"                 \
                  " FROM flow_collection c WHERE c.member_id = f.id) x) FROM flows f"              \
                  " WHERE f.id = $1")                                                              \
    XX(FLOW_GET_ANY, "SELECT " FLOW_COLS " FROM flows f WHERE f.id = $1")                          \
    XX(OBJ_INFO, "SELECT controlled, storage_id, key FROM objects WHERE id = $1")                  \
    XX(OBJ_UNREGISTERED, "SELECT id, storage_id, key, allocated_for_flow,"                         \
                         " (controlled <> 0 AND first_referenced_by_flow IS NULL)::int"            \
                         " FROM objects WHERE id = ANY($1::text[])")                               \
    XX(SEG_RUNS, "SELECT lo, hi, start_incl, end_incl,"                                            \
                 " (hi <= $4 AND ($5::text IS NULL OR object_id = $5))::int FROM segments"         \
                 " WHERE flow_id = $1 AND lo BETWEEN $2 AND $3 ORDER BY lo")                       \
    XX(WH_FIND, "SELECT id FROM webhooks WHERE url = $1 AND api_key_name IS NOT DISTINCT FROM $2"  \
                " AND api_key_value IS NOT DISTINCT FROM $3")                                      \
    XX(WH_INSERT, "INSERT INTO webhooks(id, url, api_key_name, api_key_value, owner, doc,"         \
                  " created, cursor) VALUES ($1, $2, $3, $4, $5, $6, $7,"                          \
                  " COALESCE(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')"       \
                  "::regclass), 0))")                                                              \
    XX(WH_UPDATE, "UPDATE webhooks SET doc = $2 WHERE id = $1")                                    \
    XX(WH_DELETE, "DELETE FROM webhooks WHERE id = $1")                                            \
    XX(WH_LIST, "SELECT id, url, api_key_name, api_key_value, owner, doc, cursor FROM webhooks"    \
                " ORDER BY created, id")                                                           \
    XX(WH_ADVANCE, "UPDATE webhooks SET cursor = GREATEST(cursor, $2) WHERE id = $1"               \
                   " AND ($3::text IS NULL OR lease_owner = $3)")                                  \
    XX(WH_LEASE, "UPDATE webhooks SET lease_owner = $2,"                                           \
                 " lease_until = now() + $3::int * interval '1 second' WHERE id = $1"              \
                 " AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < now())"           \
                 " RETURNING cursor")                                                              \
    XX(WH_EXISTS, "SELECT 1 FROM webhooks WHERE id = $1")                                          \
    XX(EV_AFTER, "SELECT seq, type, ts, flow_id, source_id, flow_collected_by,"                    \
                 " source_collected_by, payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2") \
    XX(EV_PURGE, "DELETE FROM events WHERE seq <= (SELECT COALESCE(min(cursor),"                   \
                 " (SELECT max(seq) FROM events)) FROM webhooks)")                                 \
    XX(EV_PENDING, "SELECT COALESCE(sum((SELECT count(*) FROM events e WHERE e.seq > w.cursor)),"  \
                   " 0) FROM webhooks w")

enum sid {
#define XX(name, sql) S_##name,
    STMTS(XX)
#undef XX
        S__COUNT
};

static const char *const stmt_sql[] = {
#define XX(name, sql) sql,
    STMTS(XX)
#undef XX
};

/* ---- the pool ---------------------------------------------------------------------------- */

enum { HOOKS_UNKNOWN, HOOKS_OFF, HOOKS_ON };

struct conn {
    PGconn *pg;     /* NULL until first use and after the connection was lost */
    bool broken;    /* lost: closed when given back, reopened on next use */
    bool reused;    /* opened before this operation (may have died while idle) */
    unsigned nstmt; /* statements sent in this attempt */
    int hooks;      /* this attempt: HOOKS_UNKNOWN, HOOKS_OFF or HOOKS_ON (see hooks_on) */
    bool prepared[S__COUNT];
    struct conn *next; /* free list */
};

struct tams_store_be {
    char *url;
    int size;
    struct conn *conns; /* size of them */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *free;
    /* Read caches key on its generation: moved by this process's commits at once, and by
     * other instances' commits before those are answered (pg_peers.h). */
    struct tams_pg_peers *peers;
    /* atomics: the last connect failed; one is under way while down; none before next_try_us */
    int down, probing;
    int64_t next_try_us;
};

static void conn_drop(struct conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->broken = false;
    memset(c->prepared, 0, sizeof(c->prepared));
}

/* Server notices (e.g. "relation already exists, skipping") are not ours to print. */
static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

PGconn *tams__pg_connect(const char *url)
{
    /* Defaults first: the URL's own settings, expanded at "dbname", override them. Keepalives
     * and tcp_user_timeout find a database host that vanished from the network (no reset
     * comes) in seconds rather than in the kernel's quarter of an hour. */
    const char *const keys[] = {
        "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname",          NULL};
    const char *const vals[] = {"5", "tamsd", "10", "5", "3", "10000", url, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    /* Server notices (e.g. "terminating connection") would go to stderr raw, not as JSON. */
    if (pg)
        PQsetNoticeProcessor(pg, quiet_notice, NULL);
    return pg;
}

/* While the database cannot be reached, one request at a time tries to connect; the others
 * get UNAVAILABLE at once instead of each waiting out the connect timeout. An attempt that
 * failed slowly (a host that hangs) is not repeated for SLOW_DOWN_PAUSE_MS, so worker threads
 * stay free for everything else; a refused connection fails fast, so then every request may
 * try, and service resumes with the first one after the database is back. */
static bool may_connect(struct tams_store_be *st)
{
    int expected = 0;

    if (!__atomic_load_n(&st->down, __ATOMIC_ACQUIRE))
        return true;
    if (tams_clock_mono_us() < __atomic_load_n(&st->next_try_us, __ATOMIC_ACQUIRE))
        return false;
    return __atomic_compare_exchange_n(&st->probing, &expected, 1, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void connected(struct tams_store_be *st, bool ok, int64_t took_us)
{
    if (!ok && took_us > SLOW_CONNECT_MS * 1000)
        __atomic_store_n(&st->next_try_us, tams_clock_mono_us() + SLOW_DOWN_PAUSE_MS * 1000,
                         __ATOMIC_RELEASE);
    __atomic_store_n(&st->down, ok ? 0 : 1, __ATOMIC_RELEASE);
    __atomic_store_n(&st->probing, 0, __ATOMIC_RELEASE);
}

static int conn_connect(struct tams_store_be *st, struct conn *c)
{
    int64_t t0;

    conn_drop(c);
    if (!may_connect(st))
        return TAMS_ERR_UNAVAILABLE;
    t0 = tams_clock_mono_us();
    c->pg = tams__pg_connect(st->url);
    connected(st, c->pg && PQstatus(c->pg) == CONNECTION_OK, tams_clock_mono_us() - t0);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        char msg[256];

        snprintf(msg, sizeof(msg), "%s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
        for (char *p = msg; *p; p++)
            if (*p == '\n')
                *p = ' ';
        tams_log_warn("postgresql: cannot connect: %s", msg);
        conn_drop(c);
        return TAMS_ERR_UNAVAILABLE;
    }
    return 0;
}

/* Take a connection from the pool (waiting for one), connected. */
static int acquire(struct tams_store_be *st, struct conn **out)
{
    struct timespec until;
    struct conn *c;
    int rc = 0;

    tams_clock_deadline(&until, POOL_WAIT_MS);
    pthread_mutex_lock(&st->mu);
    while (!st->free && rc == 0)
        rc = pthread_cond_timedwait(&st->cv, &st->mu, &until);
    c = st->free;
    if (c)
        st->free = c->next;
    pthread_mutex_unlock(&st->mu);
    if (!c) {
        tams_log_warn("postgresql: no free connection in the pool after %d ms", POOL_WAIT_MS);
        return TAMS_ERR_UNAVAILABLE;
    }
    c->next = NULL;
    c->reused = c->pg != NULL;
    c->nstmt = 0;
    c->hooks = HOOKS_UNKNOWN;
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK)
        c->broken = true;
    if (c->broken || !c->pg) {
        c->reused = false;
        if ((rc = conn_connect(st, c))) {
            pthread_mutex_lock(&st->mu);
            c->next = st->free;
            st->free = c;
            pthread_cond_signal(&st->cv);
            pthread_mutex_unlock(&st->mu);
            return rc;
        }
    }
    *out = c;
    return 0;
}

static void release(struct tams_store_be *st, struct conn *c)
{
    if (!c)
        return;
    if (c->broken)
        conn_drop(c);
    else if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK")); /* never hand out a connection inside a transaction */
    pthread_mutex_lock(&st->mu);
    c->next = st->free;
    st->free = c;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* Map a failed result. A lost connection (or the server going away: class 08, 57P) is
 * UNAVAILABLE and the connection is reset when given back; a lost race is ERR_RETRY; anything
 * else is logged and STORE. */
static int pgerr(struct conn *c, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg);
    char m[512];

    snprintf(m, sizeof(m), "%s", msg ? msg : "");
    for (char *p = m; *p; p++)
        if (*p == '\n')
            *p = ' ';
    if (PQstatus(c->pg) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0) {
        c->broken = true;
        tams_log_warn("postgresql: %s: connection lost: %s", what, m);
        return TAMS_ERR_UNAVAILABLE;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "23505") == 0 ||
        strcmp(state, "23503") == 0) {
        (void)what; /* a lost race is routine: run again, no log */
        return ERR_RETRY;
    }
    tams_log_error("postgresql: %s: %s (%s)", what, m, state);
    return TAMS_ERR_STORE;
}

/* Parameters of one statement, as text. */
struct params {
    const char *v[MAX_PARAMS];
    char num[MAX_PARAMS][24];
    int n;
};

static void ps(struct params *p, const char *s)
{
    tams_assert(p->n < MAX_PARAMS);
    p->v[p->n++] = s;
}

static void pi(struct params *p, int64_t i)
{
    tams_assert(p->n < MAX_PARAMS);
    snprintf(p->num[p->n], sizeof(p->num[0]), "%" PRId64, i);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* Optional integer: NULL when not given. */
static void pio(struct params *p, bool has, int64_t i)
{
    if (has)
        pi(p, i);
    else
        ps(p, NULL);
}

/* Run cached statement id with p; *out gets the result (PQclear it) when rc is 0. */
static int exec_q(struct conn *c, enum sid id, const struct params *p, PGresult **out)
{
    PGresult *r;
    char name[16];
    int rc;

    *out = NULL;
    snprintf(name, sizeof(name), "s%d", (int)id);
    c->nstmt++;
    if (!c->prepared[id]) {
        r = PQprepare(c->pg, name, stmt_sql[id], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pgerr(c, r, "prepare");
            if (rc == TAMS_ERR_STORE)
                tams_log_error("postgresql: cannot prepare statement %d", (int)id);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        c->prepared[id] = true;
    }
    r = PQexecPrepared(c->pg, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pgerr(c, r, stmt_sql[id]);
        PQclear(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Run a statement for its effect; *changed (may be NULL) gets the rows it touched. */
static int run(struct conn *c, enum sid id, const struct params *p, int64_t *changed)
{
    PGresult *r;
    int rc = exec_q(c, id, p, &r);

    if (rc)
        return rc;
    if (changed) {
        const char *t = PQcmdTuples(r);
        *changed = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(r);
    return 0;
}

static int run1(struct conn *c, enum sid id, const char *a, int64_t *changed)
{
    struct params p = {.n = 0};

    ps(&p, a);
    return run(c, id, &p, changed);
}

/* 1 when the statement (one id parameter) returns a row, 0 when not, <0 on error. */
static int exists(struct conn *c, enum sid id, const char *key)
{
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, key);
    if ((rc = exec_q(c, id, &p, &r)))
        return rc;
    rc = PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

static int simple(struct conn *c, const char *sql)
{
    PGresult *r;
    int rc = 0;

    c->nstmt++;
    r = PQexec(c->pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pgerr(c, r, sql);
    PQclear(r);
    return rc;
}

/* A column value; NULL for SQL NULL. */
static const char *gv(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int64_t gi(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool gb(const PGresult *r, int row, int col)
{
    const char *v = gv(r, row, col);
    return v && strcmp(v, "0") != 0 && strcmp(v, "f") != 0;
}

/* ---- array parameters ------------------------------------------------------------------- */

/* Array literals ('{...}') sent as one text parameter each, so a statement takes a whole list
 * in one round trip. Elements are appended one by one to an empty buffer, then arr_end. */
static void arr_sep(struct tams_buf *b)
{
    tams_buf_addch(b, b->len ? ',' : '{');
}

/* NULL, or the string double-quoted with each '"' and '\\' escaped: no value can end its
 * element or the array early, read as NULL or lose its white space. Takes 2 * len + 3 bytes. */
static void arr_str(struct tams_buf *b, const char *v)
{
    arr_sep(b);
    if (!v) {
        tams_buf_addstr(b, "NULL");
        return;
    }
    tams_buf_addch(b, '"');
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\')
            tams_buf_addch(b, '\\');
        tams_buf_addch(b, *c);
    }
    tams_buf_addch(b, '"');
}

static void arr_int(struct tams_buf *b, bool has, int64_t v)
{
    arr_sep(b);
    if (has)
        tams_buf_addf(b, "%" PRId64, v);
    else
        tams_buf_addstr(b, "NULL");
}

static void arr_end(struct tams_buf *b)
{
    if (!b->len)
        tams_buf_addch(b, '{');
    tams_buf_addch(b, '}');
}

/* The text[] literal of v; out (empty) needs room for 2 + sum(2 * len + 3) bytes. */
static void text_array(struct tams_buf *out, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        arr_str(out, v[i]);
    arr_end(out);
}

/* ---- transactions ------------------------------------------------------------------------ */

enum tx_kind {
    TX_NONE,  /* one read statement, autocommit */
    TX_READ,  /* several reads from one snapshot */
    TX_WRITE, /* a logical change: whole or absent */
    TX_QUIET, /* a change no read cache depends on (webhooks): no generation bump, no NOTIFY */
};

typedef int (*tx_body)(struct conn *c, void *arg);
typedef void (*tx_reset)(void *arg);

/* Run body on a pooled connection inside the transaction kind asks for; retried (with reset
 * first) when it lost a race, or when a connection that sat idle in the pool turns out to be
 * dead before anything was sent that could have changed the database. */
static int run_tx(struct tams_store_be *st, enum tx_kind kind, tx_body body, tx_reset reset,
                  void *arg)
{
    struct conn *c = NULL;
    int rc = 0;

    for (int attempt = 0;; attempt++) {
        if ((rc = acquire(st, &c)))
            return rc;
        /* Writes are READ COMMITTED whatever the cluster's default: each statement sees what
         * committed before it, which insert-if-absent and the webhook check rely on. */
        if (kind == TX_WRITE || kind == TX_QUIET)
            rc = simple(c, "BEGIN ISOLATION LEVEL READ COMMITTED");
        else if (kind == TX_READ)
            rc = simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (rc == 0)
            rc = body(c, arg);
        if (kind != TX_NONE && !c->broken) {
            if (rc == 0 && kind == TX_WRITE) {
                char sql[160];

                tams_pg_peers_commit_sql(st->peers, sql, sizeof(sql));
                if ((rc = simple(c, sql)) == 0)
                    tams_pg_peers_bump(st->peers);
            } else if (rc == 0) {
                rc = simple(c, "COMMIT");
            } else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
                PQclear(PQexec(c->pg, "ROLLBACK"));
            }
        }
        bool stale = rc == TAMS_ERR_UNAVAILABLE && c->broken && c->reused &&
                     (kind == TX_NONE || kind == TX_READ || c->nstmt <= 1);
        release(st, c);
        c = NULL;
        if (!(rc == ERR_RETRY || stale) || attempt >= TX_RETRIES)
            break;
        if (reset)
            reset(arg);
        if (rc == ERR_RETRY && attempt > 0) {
            struct timespec ts = {0, (long)(1000000 * (1 + tams_clock_wall_us() % 10) * attempt)};
            nanosleep(&ts, NULL);
        }
    }
    if (rc == ERR_RETRY) {
        tams_log_warn("postgresql: a transaction kept losing races; giving up for now");
        rc = TAMS_ERR_UNAVAILABLE;
    }
    /* Answered only once no other instance can serve what this write changed from a cache. */
    if (rc == 0 && kind == TX_WRITE)
        tams_pg_peers_wait(st->peers);
    return rc;
}

/* Serialises writers of one flow, whether it exists yet or not, until the transaction ends. */
static int lock_flow(struct conn *c, const char *flow_id)
{
    return run1(c, S_LOCK_FLOW, flow_id, NULL);
}

/* ---- strings that live for one operation ------------------------------------------------- */

/* Undo what an attempt appended to why before it is run again. */
static void why_cut(struct tams_buf *why, size_t len)
{
    if (why && why->len > len) {
        why->len = len;
        why->data[len] = '\0';
    }
}

/* ---- open / close / ping / settings ------------------------------------------------------ */

static uint64_t pg_generation(struct tams_store_be *st)
{
    return tams_pg_peers_generation(st->peers);
}

static void pg_close(struct tams_store_be *st)
{
    if (!st)
        return;
    tams_pg_peers_stop(st->peers);
    for (int i = 0; i < st->size; i++)
        conn_drop(&st->conns[i]);
    tams_free(st->conns);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    tams_free(st->url);
    tams_free(st);
}

/* Pending migrations under a session advisory lock, so instances starting together apply
 * each one exactly once; each migration and its version bump are one transaction. */
static int migrate(struct conn *c)
{
    const int target = (int)TAMS_ARRAY_SIZE(migrations);
    char sql[128];
    int rc, version = 0;
    PGresult *r;

    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", MIGRATE_LOCK);
    if ((rc = simple(c, sql)))
        return rc;
    rc = simple(c, "CREATE TABLE IF NOT EXISTS tams_schema(version INTEGER NOT NULL)");
    for (; rc == 0;) {
        if ((rc = simple(c, "BEGIN")))
            break;
        r = PQexec(c->pg, "SELECT version FROM tams_schema");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pgerr(c, r, "read schema version");
        } else if (PQntuples(r) == 0) {
            rc = simple(c, "INSERT INTO tams_schema(version) VALUES (0)");
            version = 0;
        } else {
            version = (int)gi(r, 0, 0);
        }
        PQclear(r);
        if (rc == 0 && version > target) {
            tams_log_error("postgresql: schema version %d is newer than this tamsd knows (%d)",
                           version, target);
            rc = TAMS_ERR_STORE;
        }
        if (rc == 0 && version < target) {
            snprintf(sql, sizeof(sql), "UPDATE tams_schema SET version = %d", version + 1);
            if ((rc = simple(c, migrations[version])) == 0)
                rc = simple(c, sql);
            if (rc)
                tams_log_error("postgresql: migration %d failed", version + 1);
        }
        if (rc == 0)
            rc = simple(c, "COMMIT");
        else if (!c->broken)
            PQclear(PQexec(c->pg, "ROLLBACK"));
        if (rc || version >= target)
            break;
        tams_log_info("postgresql: schema migrated to version %d", version + 1);
    }
    if (!c->broken) {
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MIGRATE_LOCK);
        PQclear(PQexec(c->pg, sql));
    }
    return rc == ERR_RETRY ? TAMS_ERR_STORE : rc;
}

void tams__store_pg_set_pool_size(int n)
{
    pool_size_setting = n;
}

static int pg_open(struct tams_store_be **out, const char *url, const char *data_dir)
{
    struct tams_store_be *st;
    struct conn *c = NULL;
    int rc;

    (void)data_dir;
    *out = NULL;
    st = tams_calloc(1, sizeof(*st));
    st->url = tams_strdup(url ? url : "");
    st->size = pool_size_setting > 0 ? pool_size_setting : 16;
    st->conns = tams_calloc((size_t)st->size, sizeof(*st->conns));
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    for (int i = st->size; i-- > 0;) {
        st->conns[i].next = st->free;
        st->free = &st->conns[i];
    }
    rc = acquire(st, &c);
    if (rc == 0) {
        rc = migrate(c);
        release(st, c);
    }
    if (rc) {
        pg_close(st);
        return rc;
    }
    st->peers = tams_pg_peers_start(st->url);
    tams_log_info("postgresql: connected (pool of %d connections)", st->size);
    *out = st;
    return 0;
}

static int ping_body(struct conn *c, void *arg)
{
    (void)arg;
    return run(c, S_PING, NULL, NULL);
}

static int pg_ping(struct tams_store_be *st)
{
    return run_tx(st, TX_NONE, ping_body, NULL, NULL);
}

struct setting_args {
    const char *key, *value;
    struct tams_buf *out;
    size_t out_len;
};

static int setting_get_body(struct conn *c, void *arg)
{
    struct setting_args *a = arg;
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, a->key);
    if ((rc = exec_q(c, S_SETTING_GET, &p, &r)))
        return rc;
    if (PQntuples(r) == 0)
        rc = TAMS_ERR_NOTFOUND;
    else
        rc = tams_buf_add(a->out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return rc;
}

static int pg_setting_get(struct tams_store_be *st, const char *key, struct tams_buf *out)
{
    struct setting_args a = {.key = key, .out = out};

    return run_tx(st, TX_NONE, setting_get_body, NULL, &a);
}

static int setting_set_body(struct conn *c, void *arg)
{
    struct setting_args *a = arg;
    struct params p = {.n = 0};

    ps(&p, a->key);
    if (a->value)
        ps(&p, a->value);
    return run(c, a->value ? S_SETTING_SET : S_SETTING_DEL, &p, NULL);
}

static int pg_setting_set(struct tams_store_be *st, const char *key, const char *value)
{
    struct setting_args a = {.key = key, .value = value};

    return run_tx(st, TX_WRITE, setting_set_body, NULL, &a);
}

/* ---- flows: writing ---------------------------------------------------------------------- */

/* Events into the outbox, inside the caller's write transaction (definitions with the webhook
 * operations below). Each writes nothing when no webhook is registered (hooks_on). */
static int ev_flow(struct conn *c, const char *type, const char *flow_id, const char *now);
static int ev_flow_deleted(struct conn *c, const char *flow_id, const char *source_id,
                           const char *now);
static int ev_source(struct conn *c, const char *type, const char *source_id, const char *now);

struct flow_state {
    bool exists, read_only, deleting;
    char *source_id, *doc; /* owned */
};

static void flow_state_release(struct flow_state *fs)
{
    tams_free(fs->source_id);
    tams_free(fs->doc);
    memset(fs, 0, sizeof(*fs));
}

/* Reads and locks the flow row until the transaction ends. */
static int read_flow_state(struct conn *c, const char *id, struct flow_state *fs)
{
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    memset(fs, 0, sizeof(*fs));
    ps(&p, id);
    if ((rc = exec_q(c, S_FLOW_STATE, &p, &r)))
        return rc;
    if (PQntuples(r) > 0) {
        fs->exists = true;
        fs->read_only = gb(r, 0, 0);
        fs->source_id = tams_strdup(PQgetvalue(r, 0, 1));
        fs->doc = tams_strdup(PQgetvalue(r, 0, 2));
        fs->deleting = gb(r, 0, 3);
    }
    PQclear(r);
    return 0;
}

static int ensure_source(struct conn *c, const struct tams_flow_index *idx, const char *now,
                         const char *principal, unsigned *effects, struct tams_buf *why)
{
    struct params p = {.n = 0};
    int64_t added = 0;
    PGresult *r;
    int rc;

    ps(&p, idx->source_id);
    ps(&p, idx->format);
    ps(&p, now);
    ps(&p, principal);
    /* Insert-if-absent first: two writers creating one source both get through, one creates. */
    if ((rc = run(c, S_SOURCE_INSERT, &p, &added)))
        return rc;
    if (added) {
        if (effects)
            *effects |= TAMS_EFFECT_SOURCE_CREATED;
        return 0;
    }
    p.n = 1;
    if ((rc = exec_q(c, S_SOURCE_FORMAT, &p, &r)))
        return rc;
    if (PQntuples(r) == 0) {
        rc = ERR_RETRY; /* deleted in between */
    } else if (strcmp(PQgetvalue(r, 0, 0), idx->format) != 0) {
        tams__why_add(why, "source_id %s has format %s; flow format %s", idx->source_id,
                      PQgetvalue(r, 0, 0), idx->format);
        rc = TAMS_ERR_VALIDATION;
    }
    PQclear(r);
    return rc;
}

static int drop_source_if_orphan(struct conn *c, const char *source_id, unsigned *effects)
{
    int rc = exists(c, S_SOURCE_HAS_FLOWS, source_id);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if ((rc = run1(c, S_SOURCE_DEL, source_id, NULL)))
        return rc;
    if (effects)
        *effects |= TAMS_EFFECT_SOURCE_DELETED;
    return ev_source(c, TAMS_EV_SOURCE_DELETED, source_id, NULL);
}

static int write_flow_rows(struct conn *c, const struct tams_flow_index *idx, const char *doc,
                           const char *now, const char *principal, struct tams_buf *why)
{
    struct params p = {.n = 0};
    int rc;

    for (size_t i = 0; i < idx->ncollection; i++) {
        if (strcmp(idx->collection[i].id, idx->id) == 0) {
            tams__why_add(why, "flow_collection must not list the flow itself (%s)", idx->id);
            return TAMS_ERR_VALIDATION;
        }
        rc = exists(c, S_FLOW_EXISTS, idx->collection[i].id);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            tams__why_add(why, "flow_collection member %s does not exist", idx->collection[i].id);
            return TAMS_ERR_VALIDATION;
        }
    }
    ps(&p, idx->id);
    ps(&p, idx->source_id);
    ps(&p, idx->format);
    ps(&p, idx->codec);
    ps(&p, idx->container);
    ps(&p, idx->label);
    pio(&p, idx->frame_width >= 0, idx->frame_width);
    pio(&p, idx->frame_height >= 0, idx->frame_height);
    pi(&p, idx->read_only ? 1 : 0);
    ps(&p, doc);
    ps(&p, now);
    ps(&p, principal);
    if ((rc = run(c, S_FLOW_UPSERT, &p, NULL)))
        return rc;
    if ((rc = run1(c, S_FLOW_TAGS_DEL, idx->id, NULL)))
        return rc;
    for (size_t i = 0; i < idx->ntags; i++) {
        p.n = 0;
        ps(&p, idx->id);
        ps(&p, idx->tags[i].name);
        ps(&p, idx->tags[i].value);
        if ((rc = run(c, S_FLOW_TAG_INS, &p, NULL)))
            return rc;
    }
    if ((rc = run1(c, S_COLL_DEL, idx->id, NULL)))
        return rc;
    for (size_t i = 0; i < idx->ncollection; i++) {
        p.n = 0;
        ps(&p, idx->id);
        ps(&p, idx->collection[i].id);
        ps(&p, idx->collection[i].role);
        pi(&p, (int64_t)i);
        if ((rc = run(c, S_COLL_INS, &p, NULL)))
            return rc;
    }
    return 0;
}

struct flow_put_args {
    const struct tams_flow_index *idx;
    const char *doc, *principal;
    unsigned eff;
    struct tams_buf *why;
    size_t why_len;
};

static void flow_put_reset(void *arg)
{
    struct flow_put_args *a = arg;

    a->eff = 0;
    why_cut(a->why, a->why_len);
}

static int flow_put_body(struct conn *c, void *arg)
{
    struct flow_put_args *a = arg;
    const struct tams_flow_index *idx = a->idx;
    struct flow_state fs = {0};
    char now[TAMS_RFC3339_MAX];
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = lock_flow(c, idx->id)) || (rc = read_flow_state(c, idx->id, &fs)))
        goto out;
    if (fs.exists && fs.deleting) {
        tams__why_add(a->why,
                      "flow %s is being deleted; try again when its deletion request is done",
                      idx->id);
        rc = TAMS_ERR_CONFLICT;
        goto out;
    }
    if (fs.exists && fs.read_only) {
        tams__why_add(a->why, "flow %s is read-only", idx->id);
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    if (!fs.exists)
        a->eff |= TAMS_EFFECT_CREATED;
    if ((rc = ensure_source(c, idx, now, a->principal, &a->eff, a->why)))
        goto out;
    if ((rc = write_flow_rows(c, idx, a->doc, now, a->principal, a->why)))
        goto out;
    if ((a->eff & TAMS_EFFECT_SOURCE_CREATED) &&
        (rc = ev_source(c, TAMS_EV_SOURCE_CREATED, idx->source_id, now)))
        goto out;
    if ((rc = ev_flow(c, fs.exists ? TAMS_EV_FLOW_UPDATED : TAMS_EV_FLOW_CREATED, idx->id, now)))
        goto out;
    if (fs.exists && strcmp(fs.source_id, idx->source_id) != 0)
        rc = drop_source_if_orphan(c, fs.source_id, &a->eff);
out:
    flow_state_release(&fs);
    return rc;
}

static int pg_flow_put(struct tams_store_be *st, const struct tams_flow_index *idx, const char *doc,
                       size_t doclen, const char *principal, unsigned *effects,
                       struct tams_buf *why)
{
    struct flow_put_args a = {idx, doc, principal, 0, why, why ? why->len : 0};
    int rc;

    if (effects)
        *effects = 0;
    if (doclen > INT32_MAX || strlen(doc) != doclen)
        return doclen > INT32_MAX ? TAMS_ERR_TOOBIG : TAMS_ERR_VALIDATION;
    rc = run_tx(st, TX_WRITE, flow_put_body, flow_put_reset, &a);
    if (rc == 0 && effects)
        *effects = a.eff;
    return rc;
}

struct flow_mutate_args {
    const char *id, *principal;
    bool allow_read_only;
    tams_flow_mutate_fn fn;
    void *ctx;
    struct tams_buf *why;
    size_t why_len;
};

static void flow_mutate_reset(void *arg)
{
    struct flow_mutate_args *a = arg;

    why_cut(a->why, a->why_len);
}

static int flow_mutate_body(struct conn *c, void *arg)
{
    struct flow_mutate_args *a = arg;
    struct flow_state fs = {0};
    struct tams_flow_index idx = {0};
    json_object *doc = NULL;
    char now[TAMS_RFC3339_MAX];
    bool have_idx = false;
    const char *text;
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = lock_flow(c, a->id)) || (rc = read_flow_state(c, a->id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (fs.read_only && !a->allow_read_only) {
        tams__why_add(a->why, "flow %s is read-only", a->id);
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    doc = json_tokener_parse(fs.doc);
    if (!doc || !json_object_is_type(doc, json_type_object)) {
        tams_log_error("postgresql: stored document of flow '%s' does not parse", a->id);
        rc = TAMS_ERR_STORE;
        goto out;
    }
    if ((rc = a->fn(a->ctx, doc, a->why)) || (rc = tams_flow_validate(doc, a->why)) ||
        (rc = tams_flow_index_build(doc, &idx, a->why)))
        goto out;
    have_idx = true;
    if (strcmp(idx.id, a->id) != 0) {
        tams__why_add(a->why, "id cannot be changed (%s)", a->id);
        rc = TAMS_ERR_VALIDATION;
        goto out;
    }
    if (strcmp(idx.source_id, fs.source_id) != 0) {
        tams__why_add(a->why, "source_id cannot be changed by a property update");
        rc = TAMS_ERR_VALIDATION;
        goto out;
    }
    if ((rc = ensure_source(c, &idx, now, a->principal, NULL, a->why)))
        goto out;
    text = json_object_to_json_string_ext(doc,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = write_flow_rows(c, &idx, text, now, a->principal, a->why);
    if (rc == 0)
        rc = ev_flow(c, TAMS_EV_FLOW_UPDATED, a->id, now);
out:
    if (have_idx)
        tams_flow_index_release(&idx);
    json_object_put(doc);
    flow_state_release(&fs);
    return rc;
}

static int pg_flow_mutate(struct tams_store_be *st, const char *id, bool allow_read_only,
                          tams_flow_mutate_fn fn, void *ctx, const char *principal,
                          struct tams_buf *why)
{
    struct tams_buf why_local = TAMS_BUF_INIT(1024);
    struct flow_mutate_args a = {
        id, principal, allow_read_only, fn, ctx, why ? why : &why_local, why ? why->len : 0};
    int rc = run_tx(st, TX_WRITE, flow_mutate_body, flow_mutate_reset, &a);

    tams_buf_release(&why_local);
    return rc;
}

/* Remove flow id from every other flow's collection: rows and documents. */
static int drop_from_collectors(struct conn *c, const char *id, const char *now)
{
    struct tams__strpool ids = {0};
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, id);
    if ((rc = exec_q(c, S_COLLECTORS_OF, &p, &r)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++)
        tams__pool_dup(&ids, PQgetvalue(r, i, 0));
    PQclear(r);
    for (size_t i = 0; i < ids.n && rc == 0; i++) {
        struct flow_state fs;
        json_object *doc = NULL, *coll;

        if ((rc = read_flow_state(c, ids.v[i], &fs)))
            break;
        doc = fs.exists ? json_tokener_parse(fs.doc) : NULL;
        if (doc && json_object_object_get_ex(doc, "flow_collection", &coll) &&
            json_object_is_type(coll, json_type_array)) {
            for (size_t k = json_object_array_length(coll); k-- > 0;) {
                json_object *item = json_object_array_get_idx(coll, k), *mid;
                const char *mids = json_object_object_get_ex(item, "id", &mid)
                                       ? json_object_get_string(mid)
                                       : NULL;
                if (mids && strcmp(mids, id) == 0)
                    json_object_array_del_idx(coll, k, 1);
            }
            if (json_object_array_length(coll) == 0)
                json_object_object_del(doc, "flow_collection");
            p.n = 0;
            ps(&p, ids.v[i]);
            ps(&p, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
            ps(&p, now);
            rc = run(c, S_FLOW_SET_DOC, &p, NULL);
            if (rc == 0)
                rc = ev_flow(c, TAMS_EV_FLOW_UPDATED, ids.v[i], now);
        } else if (fs.exists) {
            tams_log_error("postgresql: collection of flow '%s' is not in its document", ids.v[i]);
            rc = TAMS_ERR_STORE;
        }
        json_object_put(doc);
        flow_state_release(&fs);
    }
    if (rc == 0)
        rc = run1(c, S_COLL_DEL_MEMBER, id, NULL);
    tams__pool_release(&ids);
    return rc;
}

static int unref_flow(struct conn *c, const char *id, const char *now)
{
    struct params p = {.n = 0};
    int rc;

    ps(&p, id);
    ps(&p, now);
    if ((rc = run(c, S_OBJ_UNREF_FLOW, &p, NULL)))
        return rc;
    return run1(c, S_REFS_DEL_FLOW, id, NULL);
}

static int remove_flow(struct conn *c, const char *id, const char *source_id, const char *now,
                       unsigned *eff, bool flow_event)
{
    int rc;

    /* flows/deleted first, with the collections it was in before it leaves them. */
    if (flow_event && (rc = ev_flow_deleted(c, id, source_id, now)))
        return rc;
    if ((rc = drop_from_collectors(c, id, now)) || (rc = run1(c, S_SEG_DEL_FLOW, id, NULL)) ||
        (rc = unref_flow(c, id, now)) || (rc = run1(c, S_FLOW_DEL, id, NULL)))
        return rc;
    return drop_source_if_orphan(c, source_id, eff);
}

struct flow_delete_args {
    const char *id;
    unsigned eff;
};

static void flow_delete_reset(void *arg)
{
    ((struct flow_delete_args *)arg)->eff = 0;
}

static int flow_delete_body(struct conn *c, void *arg)
{
    struct flow_delete_args *a = arg;
    struct flow_state fs = {0};
    char now[TAMS_RFC3339_MAX];
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = lock_flow(c, a->id)) || (rc = read_flow_state(c, a->id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting)
        rc = TAMS_ERR_NOTFOUND;
    else if (fs.read_only)
        rc = TAMS_ERR_READONLY;
    else
        rc = remove_flow(c, a->id, fs.source_id, now, &a->eff, true);
out:
    flow_state_release(&fs);
    return rc;
}

static int pg_flow_delete(struct tams_store_be *st, const char *id, unsigned *effects)
{
    struct flow_delete_args a = {id, 0};
    int rc;

    if (effects)
        *effects = 0;
    rc = run_tx(st, TX_WRITE, flow_delete_body, flow_delete_reset, &a);
    if (rc == 0 && effects)
        *effects = a.eff;
    return rc;
}

/* ---- flows: reading ---------------------------------------------------------------------- */

/* Hand row i of a FLOW_COLS result to cb, with collected_by split from its comma list. */
static int emit_flow(const PGresult *r, int i, tams_flow_cb cb, void *ctx)
{
    struct tams_flow_rec rec = {0};
    const char *coll = gv(r, i, 8);
    char *copy = NULL;
    const char **ids = NULL;
    size_t n = 0;
    int rc;

    rec.id = gv(r, i, 0);
    rec.doc = gv(r, i, 1);
    rec.doclen = (size_t)PQgetlength(r, i, 1);
    rec.created = gv(r, i, 2);
    rec.metadata_updated = gv(r, i, 3);
    rec.segments_updated = gv(r, i, 4);
    rec.created_by = gv(r, i, 5);
    rec.updated_by = gv(r, i, 6);
    rec.read_only = gb(r, i, 7);
    if (coll && coll[0]) {
        size_t max = 1;
        for (const char *p = coll; *p; p++)
            max += *p == ',';
        copy = tams_strdup(coll);
        ids = tams_calloc(max, sizeof(*ids));
        for (char *p = copy, *comma; p; p = comma ? comma + 1 : NULL) {
            comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            ids[n++] = p;
        }
    }
    rec.collected_by = ids;
    rec.ncollected_by = n;
    rc = cb(ctx, &rec);
    tams_free(ids);
    tams_free(copy);
    return rc;
}

struct query_args {
    enum sid id;
    struct params p;
    PGresult *res;
};

static void query_reset(void *arg)
{
    struct query_args *a = arg;

    PQclear(a->res);
    a->res = NULL;
}

static int query_body(struct conn *c, void *arg)
{
    struct query_args *a = arg;

    return exec_q(c, a->id, &a->p, &a->res);
}

static int pg_flow_get(struct tams_store_be *st, const char *id, tams_flow_cb cb, void *ctx)
{
    struct query_args a = {.id = S_FLOW_GET};
    int rc;

    ps(&a.p, id);
    rc = run_tx(st, TX_NONE, query_body, query_reset, &a);
    /* The connection is back in the pool before the callback, which may use the store. */
    if (rc == 0)
        rc = PQntuples(a.res) ? emit_flow(a.res, 0, cb, ctx) : TAMS_ERR_NOTFOUND;
    PQclear(a.res);
    return rc;
}

/* Generated SQL (its shape depends on the filters), always with bound parameters. */
struct gen_args {
    struct tams_buf *sql;
    struct params p;
    PGresult *res;
};

static int gen_body(struct conn *c, void *arg)
{
    struct gen_args *a = arg;
    PGresult *r;
    int rc;

    c->nstmt++;
    r = PQexecParams(c->pg, a->sql->data, a->p.n, NULL, a->p.v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pgerr(c, r, "listing");
        PQclear(r);
        return rc;
    }
    a->res = r;
    return 0;
}

static void gen_reset(void *arg)
{
    struct gen_args *a = arg;

    PQclear(a->res);
    a->res = NULL;
}

/* " AND <cond>" whose one parameter is the next: cond holds a "%d" for its number. */
static void add_cond_s(struct tams_buf *sql, struct params *p, const char *cond, const char *v)
{
    tams_buf_addstr(sql, " AND ");
    tams_buf_addf(sql, cond, p->n + 1);
    ps(p, v);
}

static void add_cond_i(struct tams_buf *sql, struct params *p, const char *cond, int64_t v)
{
    tams_buf_addstr(sql, " AND ");
    tams_buf_addf(sql, cond, p->n + 1);
    pi(p, v);
}

/* Tag filters as EXISTS subqueries on the (<id>, name) primary key of the tag table. */
static void add_tag_filters(struct tams_buf *sql, struct params *p, const char *table,
                            const char *idcol, const char *outer,
                            const struct tams_tag_filter *tags, size_t ntags)
{
    for (size_t i = 0; i < ntags; i++) {
        if (tags[i].value) {
            tams_buf_addf(sql,
                          " AND EXISTS (SELECT 1 FROM %s t WHERE t.%s = %s AND t.name = $%d"
                          " AND t.value = $%d)",
                          table, idcol, outer, p->n + 1, p->n + 2);
            ps(p, tags[i].name);
            ps(p, tags[i].value);
        } else {
            tams_buf_addf(sql,
                          " AND %sEXISTS (SELECT 1 FROM %s t WHERE t.%s = %s AND t.name = $%d)",
                          tags[i].exists ? "" : "NOT ", table, idcol, outer, p->n + 1);
            ps(p, tags[i].name);
        }
    }
}

static int pg_flow_list(struct tams_store_be *st, const struct tams_flow_filter *f,
                        const struct tams_page *page, tams_flow_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(SQL_MAX), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct gen_args a = {.sql = &sql};
    int limit = page && page->limit > 0 ? page->limit : 100, rows, rc;

    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if (f && f->ntags > MAX_TAG_FILTERS) {
        rc = TAMS_ERR_BADQUERY;
        goto out;
    }
    if ((rc = tams__page_after(page, "flows", &after)))
        goto out;
    tams_buf_addstr(&sql, "SELECT " FLOW_COLS " FROM flows f WHERE f.deleting = 0");
    if (f && f->source_id)
        add_cond_s(&sql, &a.p, "f.source_id = $%d", f->source_id);
    if (f && f->format)
        add_cond_s(&sql, &a.p, "f.format = $%d", f->format);
    if (f && f->codec)
        add_cond_s(&sql, &a.p, "f.codec = $%d", f->codec);
    if (f && f->label)
        add_cond_s(&sql, &a.p, "f.label = $%d", f->label);
    if (f && f->frame_width >= 0)
        add_cond_i(&sql, &a.p, "f.frame_width = $%d", f->frame_width);
    if (f && f->frame_height >= 0)
        add_cond_i(&sql, &a.p, "f.frame_height = $%d", f->frame_height);
    if (f && f->timerange && tams_timerange_is_empty(f->timerange)) {
        tams_buf_addstr(&sql, " AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.flow_id = f.id)");
    } else if (f && f->timerange && !tams_timerange_is_eternity(f->timerange)) {
        /* hi grows with lo: the last segment starting at or before X.hi is the only one that
         * can reach X.lo. One backward seek on (flow_id, lo) per flow. */
        tams_buf_addf(&sql,
                      " AND (SELECT s.hi FROM segments s WHERE s.flow_id = f.id"
                      " AND s.lo <= $%d ORDER BY s.lo DESC LIMIT 1) >= $%d",
                      a.p.n + 1, a.p.n + 2);
        pi(&a.p, f->timerange->hi);
        pi(&a.p, f->timerange->lo);
    }
    if (f)
        add_tag_filters(&sql, &a.p, "flow_tags", "flow_id", "f.id", f->tags, f->ntags);
    if (after.len)
        add_cond_s(&sql, &a.p, "f.id > $%d", after.data);
    tams_buf_addf(&sql, " ORDER BY f.id LIMIT $%d", a.p.n + 1);
    pi(&a.p, (int64_t)limit + 1);
    if (!tams_buf_ok(&sql)) {
        tams_log_error("postgresql: generated statement too long");
        rc = TAMS_ERR_STORE;
        goto out;
    }
    if ((rc = run_tx(st, TX_NONE, gen_body, gen_reset, &a)))
        goto out;
    rows = PQntuples(a.res);
    for (int i = 0; i < rows && i < limit && rc == 0; i++)
        rc = emit_flow(a.res, i, cb, ctx);
    if (rc == 0 && rows > limit && page && page->next_key)
        rc = tams_cursor_encode(page->next_key, "flows", PQgetvalue(a.res, limit - 1, 0));
out:
    PQclear(a.res);
    tams_buf_release(&sql);
    tams_buf_release(&after);
    return rc;
}

struct seg_end {
    int64_t lo, hi;
    bool start_incl, end_incl;
};

static int seg_seek(struct conn *c, enum sid id, const char *flow_id, int64_t at,
                    struct seg_end *out)
{
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, flow_id);
    pi(&p, at);
    if ((rc = exec_q(c, id, &p, &r)))
        return rc;
    rc = PQntuples(r) > 0;
    if (rc) {
        out->lo = gi(r, 0, 0);
        out->hi = gi(r, 0, 1);
        out->start_incl = gb(r, 0, 2);
        out->end_incl = gb(r, 0, 3);
    }
    PQclear(r);
    return rc;
}

struct timerange_args {
    const char *id;
    const struct tams_timerange *within;
    struct tams_timerange *out;
};

static int timerange_body(struct conn *c, void *arg)
{
    struct timerange_args *a = arg;
    const struct tams_timerange *within = a->within;
    struct seg_end first, last;
    int found;

    tams_timerange_empty(a->out);
    if ((found = exists(c, S_FLOW_EXISTS, a->id)) <= 0)
        return found < 0 ? found : TAMS_ERR_NOTFOUND;
    if (tams_timerange_is_empty(within))
        return 0;
    found = seg_seek(c, S_SEG_LAST_LE, a->id, within->lo, &first);
    if (found == 1 && first.hi < within->lo)
        found = 0;
    if (found == 0 && within->lo != INT64_MAX)
        found = seg_seek(c, S_SEG_FIRST_GT, a->id, within->lo, &first);
    if (found <= 0 || first.lo > within->hi)
        return found < 0 ? found : 0;
    found = seg_seek(c, S_SEG_LAST_LE, a->id, within->hi, &last);
    if (found <= 0)
        return found < 0 ? found : 0;
    a->out->lo = first.lo;
    a->out->lo_incl = first.start_incl;
    a->out->hi = last.hi;
    a->out->hi_incl = last.end_incl;
    return 0;
}

static int pg_flow_timerange(struct tams_store_be *st, const char *id,
                             const struct tams_timerange *within, struct tams_timerange *out)
{
    struct tams_timerange all;
    struct timerange_args a = {id, within, out};
    int rc;

    if (!within) {
        tams_timerange_eternity(&all);
        a.within = &all;
    }
    rc = run_tx(st, TX_READ, timerange_body, NULL, &a);
    if (rc)
        tams_timerange_empty(out);
    return rc;
}

/* ---- sources ----------------------------------------------------------------------------- */

struct source_row {
    struct tams_source_rec rec;
    struct tams_tag *tags;
    struct tams_collection_ref *coll;
    const char **collected_by;
};

struct source_args {
    struct tams_buf *sql; /* generated listing, or NULL for source_get */
    struct params p;
    int limit;
    struct source_row *v;
    size_t n;
    bool more;
    struct tams__strpool pool;
};

static void source_args_reset(void *arg)
{
    struct source_args *a = arg;

    for (size_t i = 0; i < a->n; i++) {
        tams_free(a->v[i].tags);
        tams_free(a->v[i].coll);
        tams_free(a->v[i].collected_by);
    }
    tams_free(a->v);
    tams__pool_release(&a->pool);
    a->v = NULL;
    a->n = 0;
    a->more = false;
}

static int source_row_complete(struct conn *c, struct source_args *a, struct source_row *row)
{
    static const enum sid q[] = {S_SOURCE_TAGS, S_SOURCE_COLLECTION, S_SOURCE_COLLECTED_BY};
    struct tams__strpool *p = &a->pool;

    for (size_t k = 0; k < TAMS_ARRAY_SIZE(q); k++) {
        struct params pp = {.n = 0};
        PGresult *r;
        size_t n;
        int rc;

        ps(&pp, row->rec.id);
        if ((rc = exec_q(c, q[k], &pp, &r)))
            return rc;
        n = (size_t)PQntuples(r);
        if (k == 0) {
            row->tags = tams_calloc(n ? n : 1, sizeof(*row->tags));
            for (size_t i = 0; i < n; i++) {
                row->tags[i].name = tams__pool_dup(p, PQgetvalue(r, (int)i, 0));
                row->tags[i].value = tams__pool_dup(p, PQgetvalue(r, (int)i, 1));
            }
            row->rec.tags = row->tags;
            row->rec.ntags = n;
        } else if (k == 1) {
            row->coll = tams_calloc(n ? n : 1, sizeof(*row->coll));
            for (size_t i = 0; i < n; i++) {
                row->coll[i].id = tams__pool_dup(p, PQgetvalue(r, (int)i, 0));
                row->coll[i].role = tams__pool_dup(p, PQgetvalue(r, (int)i, 1));
            }
            row->rec.source_collection = row->coll;
            row->rec.nsource_collection = n;
        } else {
            row->collected_by = tams_calloc(n ? n : 1, sizeof(*row->collected_by));
            for (size_t i = 0; i < n; i++)
                row->collected_by[i] = tams__pool_dup(p, PQgetvalue(r, (int)i, 0));
            row->rec.collected_by = row->collected_by;
            row->rec.ncollected_by = n;
        }
        PQclear(r);
    }
    return 0;
}

/* The page and the details of each of its sources come from one snapshot. */
static int source_body(struct conn *c, void *arg)
{
    struct source_args *a = arg;
    PGresult *r;
    int rc, rows;

    if (a->sql) {
        c->nstmt++;
        r = PQexecParams(c->pg, a->sql->data, a->p.n, NULL, a->p.v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pgerr(c, r, "source listing");
            PQclear(r);
            return rc;
        }
    } else if ((rc = exec_q(c, S_SOURCE_GET, &a->p, &r))) {
        return rc;
    }
    rows = PQntuples(r);
    a->more = rows > a->limit;
    if (rows > a->limit)
        rows = a->limit;
    a->v = tams_calloc(rows ? (size_t)rows : 1, sizeof(*a->v));
    for (int i = 0; i < rows; i++) {
        struct tams_source_rec *s = &a->v[i].rec;

        s->id = tams__pool_dup(&a->pool, gv(r, i, 0));
        s->format = tams__pool_dup(&a->pool, gv(r, i, 1));
        s->label = tams__pool_dup(&a->pool, gv(r, i, 2));
        s->description = tams__pool_dup(&a->pool, gv(r, i, 3));
        s->created = tams__pool_dup(&a->pool, gv(r, i, 4));
        s->updated = tams__pool_dup(&a->pool, gv(r, i, 5));
        s->created_by = tams__pool_dup(&a->pool, gv(r, i, 6));
        s->updated_by = tams__pool_dup(&a->pool, gv(r, i, 7));
        a->n++;
    }
    PQclear(r);
    for (size_t i = 0; i < a->n; i++)
        if ((rc = source_row_complete(c, a, &a->v[i])))
            return rc;
    return 0;
}

static int emit_sources(struct source_args *a, tams_source_cb cb, void *ctx)
{
    for (size_t i = 0; i < a->n; i++) {
        int rc = cb(ctx, &a->v[i].rec);
        if (rc)
            return rc;
    }
    return 0;
}

#define SOURCE_COLS                                                                                \
    "src.id, src.format, src.label, src.description, src.created, src.updated,"                    \
    " src.created_by, src.updated_by"

static int pg_source_list(struct tams_store_be *st, const struct tams_source_filter *f,
                          const struct tams_page *page, tams_source_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(SQL_MAX), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct source_args a = {.sql = &sql};
    int rc;

    a.limit = page && page->limit > 0 ? page->limit : 100;
    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if (f && f->ntags > MAX_TAG_FILTERS) {
        rc = TAMS_ERR_BADQUERY;
        goto out;
    }
    if ((rc = tams__page_after(page, "sources", &after)))
        goto out;
    tams_buf_addstr(&sql, "SELECT " SOURCE_COLS " FROM sources src WHERE true");
    if (f && f->format)
        add_cond_s(&sql, &a.p, "src.format = $%d", f->format);
    if (f && f->label)
        add_cond_s(&sql, &a.p, "src.label = $%d", f->label);
    if (f)
        add_tag_filters(&sql, &a.p, "source_tags", "source_id", "src.id", f->tags, f->ntags);
    if (after.len)
        add_cond_s(&sql, &a.p, "src.id > $%d", after.data);
    tams_buf_addf(&sql, " ORDER BY src.id LIMIT $%d", a.p.n + 1);
    pi(&a.p, (int64_t)a.limit + 1);
    if (!tams_buf_ok(&sql)) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    if ((rc = run_tx(st, TX_READ, source_body, source_args_reset, &a)))
        goto out;
    if (a.more && a.n && page && page->next_key &&
        (rc = tams_cursor_encode(page->next_key, "sources", a.v[a.n - 1].rec.id)))
        goto out;
    rc = emit_sources(&a, cb, ctx);
out:
    source_args_reset(&a);
    tams_buf_release(&sql);
    tams_buf_release(&after);
    return rc;
}

static int pg_source_get(struct tams_store_be *st, const char *id, tams_source_cb cb, void *ctx)
{
    struct source_args a = {.limit = 1};
    int rc;

    ps(&a.p, id);
    rc = run_tx(st, TX_READ, source_body, source_args_reset, &a);
    if (rc == 0)
        rc = a.n ? emit_sources(&a, cb, ctx) : TAMS_ERR_NOTFOUND;
    source_args_reset(&a);
    return rc;
}

struct source_write_args {
    const char *id, *name, *value, *principal;
    enum tams_source_prop prop;
};

static int source_set_prop_body(struct conn *c, void *arg)
{
    struct source_write_args *a = arg;
    char now[TAMS_RFC3339_MAX];
    struct params p = {.n = 0};
    int64_t n = 0;
    int rc;

    tams_clock_now_rfc3339(now);
    ps(&p, a->id);
    ps(&p, a->value);
    ps(&p, now);
    ps(&p, a->principal);
    rc = run(c, a->prop == TAMS_SOURCE_LABEL ? S_SOURCE_SET_LABEL : S_SOURCE_SET_DESC, &p, &n);
    if (rc)
        return rc;
    return n ? ev_source(c, TAMS_EV_SOURCE_UPDATED, a->id, now) : TAMS_ERR_NOTFOUND;
}

static int pg_source_set_prop(struct tams_store_be *st, const char *id, enum tams_source_prop prop,
                              const char *value, const char *principal)
{
    struct source_write_args a = {.id = id, .value = value, .principal = principal, .prop = prop};

    return run_tx(st, TX_WRITE, source_set_prop_body, NULL, &a);
}

static int source_set_tag_body(struct conn *c, void *arg)
{
    struct source_write_args *a = arg;
    char now[TAMS_RFC3339_MAX];
    struct params p = {.n = 0};
    int64_t n = 0;
    int rc;

    tams_clock_now_rfc3339(now);
    ps(&p, a->id);
    ps(&p, now);
    ps(&p, a->principal);
    if ((rc = run(c, S_SOURCE_TOUCH, &p, &n)))
        return rc;
    if (n == 0)
        return TAMS_ERR_NOTFOUND;
    p.n = 0;
    ps(&p, a->id);
    ps(&p, a->name);
    if (a->value)
        ps(&p, a->value);
    if ((rc = run(c, a->value ? S_SOURCE_TAG_SET : S_SOURCE_TAG_DEL, &p, &n)))
        return rc;
    if (!a->value && n == 0)
        return TAMS_ERR_NOTFOUND;
    return ev_source(c, TAMS_EV_SOURCE_UPDATED, a->id, now);
}

static int pg_source_set_tag(struct tams_store_be *st, const char *id, const char *name,
                             const char *value, const char *principal)
{
    struct source_write_args a = {.id = id, .name = name, .value = value, .principal = principal};

    return run_tx(st, TX_WRITE, source_set_tag_body, NULL, &a);
}

/* ---- segments and objects ---------------------------------------------------------------- */

static int media_flow_check(struct conn *c, const char *flow_id, const char *what,
                            struct tams_buf *why)
{
    struct params p = {.n = 0};
    bool read_only, container;
    PGresult *r;
    int rc;

    ps(&p, flow_id);
    if ((rc = exec_q(c, S_MEDIA_FLOW, &p, &r)))
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        tams__why_add(why, "flow %s does not exist", flow_id);
        return TAMS_ERR_NOTFOUND;
    }
    read_only = gb(r, 0, 0);
    container = gb(r, 0, 1);
    PQclear(r);
    if (read_only) {
        tams__why_add(why, "flow %s is read-only", flow_id);
        return TAMS_ERR_READONLY;
    }
    if (!container) {
        tams__why_add(why, "flow %s has no container: %s", flow_id, what);
        return TAMS_ERR_VALIDATION;
    }
    return 0;
}

/* The items of a segment registration as the array parameters of tams_segments_add (migration
 * 5): one text literal per column, the rows in request order. */
enum seg_col {
    SC_LO,
    SC_HI,
    SC_LO_INCL,
    SC_HI_INCL,
    SC_OBJ,
    SC_TS_OFFSET,
    SC_LAST_DURATION,
    SC_SAMPLE_OFFSET,
    SC_SAMPLE_COUNT,
    SC_KEY_FRAME_COUNT,
    SC_GET_URLS,
    SC_N
};

static void seg_cols_add(struct tams_buf *col, const struct tams_segment *g)
{
    arr_int(&col[SC_LO], true, g->tr.lo);
    arr_int(&col[SC_HI], true, g->tr.hi);
    arr_int(&col[SC_LO_INCL], true, g->tr.lo_incl);
    arr_int(&col[SC_HI_INCL], true, g->tr.hi_incl);
    arr_str(&col[SC_OBJ], g->object_id);
    arr_int(&col[SC_TS_OFFSET], g->has & TAMS_SEG_TS_OFFSET, g->ts_offset);
    arr_int(&col[SC_LAST_DURATION], g->has & TAMS_SEG_LAST_DURATION, g->last_duration);
    arr_int(&col[SC_SAMPLE_OFFSET], g->has & TAMS_SEG_SAMPLE_OFFSET, g->sample_offset);
    arr_int(&col[SC_SAMPLE_COUNT], g->has & TAMS_SEG_SAMPLE_COUNT, g->sample_count);
    arr_int(&col[SC_KEY_FRAME_COUNT], g->has & TAMS_SEG_KEY_FRAME_COUNT, g->key_frame_count);
    arr_str(&col[SC_GET_URLS], g->get_urls);
}

/* What tams_segments_add said of one item, as the item's result and reason. */
static int seg_outcome(const PGresult *r, int row, const char *flow_id,
                       const struct tams_segment *seg, struct tams_buf *why)
{
    char x[TAMS_TIMERANGE_STRMAX], o[TAMS_TIMERANGE_STRMAX];
    struct tams_timerange other;

    switch (gi(r, row, 0)) {
    case 0:
        return 0;
    case 1:
        other = (struct tams_timerange){gi(r, row, 1), gi(r, row, 2), gb(r, row, 3), gb(r, row, 4)};
        tams_timerange_format(&seg->tr, x);
        tams_timerange_format(&other, o);
        tams__why_add(why, "segment %s overlaps segment %s of flow %s", x, o, flow_id);
        break;
    case 2:
        tams__why_add(why,
                      "object '%s' was allocated for another flow and has not been registered yet",
                      seg->object_id);
        break;
    default:
        tams__why_add(why,
                      "object '%s' is unknown: allocate it with POST /flows/{id}/storage or give"
                      " get_urls",
                      seg->object_id);
        break;
    }
    return TAMS_ERR_VALIDATION;
}

static int ev_segments_added(struct conn *c, const char *flow_id, const struct tams_segment *segs,
                             size_t n, const int *results, const char *now);

struct segments_add_args {
    const char *flow_id;
    const struct tams_segment *segs;
    size_t n;
    int *results;
    struct tams_buf *whys;
    size_t *why_lens;
};

static void segments_add_reset(void *arg)
{
    struct segments_add_args *a = arg;

    for (size_t i = 0; i < a->n; i++) {
        a->results[i] = 0;
        if (a->whys)
            why_cut(&a->whys[i], a->why_lens[i]);
    }
}

/* Items the store could never hold fail here; the others go to tams_segments_add as arrays in
 * one statement, so a request costs the same few round trips whatever its size. */
static int segments_add_body(struct conn *c, void *arg)
{
    struct segments_add_args *a = arg;
    struct tams_buf col[SC_N];
    struct params p = {.n = 0};
    char now[TAMS_RFC3339_MAX];
    size_t *sent = NULL, nsent = 0, added = 0;
    PGresult *r = NULL;
    int rc;

    tams_clock_now_rfc3339(now);
    if ((rc = lock_flow(c, a->flow_id)))
        return rc;
    if ((rc = media_flow_check(c, a->flow_id, "segments cannot be registered on it",
                               a->whys && a->n ? &a->whys[0] : NULL)))
        return rc;
    for (int k = 0; k < SC_N; k++)
        tams_buf_init(&col[k], SIZE_MAX);
    sent = tams_calloc(a->n ? a->n : 1, sizeof(*sent));
    for (size_t i = 0; i < a->n; i++) {
        const struct tams_segment *g = &a->segs[i];

        if (!g->object_id || !g->object_id[0] || !tams_timerange_is_bounded(&g->tr)) {
            a->results[i] = TAMS_ERR_VALIDATION;
            tams__why_add(a->whys ? &a->whys[i] : NULL,
                          "a segment needs an object_id and a bounded, non-empty timerange");
            continue;
        }
        seg_cols_add(col, g);
        sent[nsent++] = i;
    }
    if (!nsent)
        goto out;
    ps(&p, a->flow_id);
    ps(&p, now);
    for (int k = 0; k < SC_N; k++) {
        arr_end(&col[k]);
        ps(&p, col[k].data);
    }
    if ((rc = exec_q(c, S_SEG_ADD_MANY, &p, &r)))
        goto out;
    if ((size_t)PQntuples(r) != nsent) {
        tams_log_error("postgresql: tams_segments_add answered %d rows for %zu segments",
                       PQntuples(r), nsent);
        rc = TAMS_ERR_STORE;
        goto out;
    }
    for (size_t k = 0; k < nsent; k++) {
        size_t i = sent[k];

        a->results[i] =
            seg_outcome(r, (int)k, a->flow_id, &a->segs[i], a->whys ? &a->whys[i] : NULL);
        added += a->results[i] == 0;
    }
    if (added) {
        p.n = 0;
        ps(&p, a->flow_id);
        ps(&p, now);
        rc = run(c, S_FLOW_SEG_TOUCH, &p, NULL);
    }
    /* One flows/segments_added for the whole request, no flows/updated (lessons 17). */
    if (rc == 0 && added)
        rc = ev_segments_added(c, a->flow_id, a->segs, a->n, a->results, now);
out:
    PQclear(r);
    tams_free(sent);
    for (int k = 0; k < SC_N; k++)
        tams_buf_release(&col[k]);
    return rc;
}

static int pg_segments_add(struct tams_store_be *st, const char *flow_id,
                           const struct tams_segment *segs, size_t n, int *results,
                           struct tams_buf *whys, const char *principal)
{
    /* Per-item outcomes are needed for the event even when the caller does not want them. */
    int *res_v = results ? results : (n ? tams_calloc(n, sizeof(*res_v)) : NULL);
    struct segments_add_args a = {flow_id, segs, n, res_v, whys, NULL};
    int rc;

    (void)principal; /* segment writes bump segments_updated only (§11.12) */
    if (whys && n) {
        a.why_lens = tams_calloc(n, sizeof(*a.why_lens));
        for (size_t i = 0; i < n; i++)
            a.why_lens[i] = whys[i].len;
    }
    for (size_t i = 0; i < n; i++)
        res_v[i] = 0;
    rc = run_tx(st, TX_WRITE, segments_add_body, segments_add_reset, &a);
    for (size_t i = 0; rc && results && i < n; i++)
        results[i] = rc;
    if (!results)
        tams_free(res_v);
    tams_free(a.why_lens);
    return rc;
}

struct seg_list_args {
    const char *flow_id, *object_id;
    const struct tams_timerange *tr;
    bool reverse, have_after;
    int64_t after;
    int limit;
    PGresult *res;
};

static int seg_list_body(struct conn *c, void *arg)
{
    static const enum sid shapes[2][2] = {{S_SEG_LIST, S_SEG_LIST_REV},
                                          {S_SEG_LIST_OBJ, S_SEG_LIST_OBJ_REV}};
    struct seg_list_args *a = arg;
    const struct tams_timerange *tr = a->tr;
    int64_t lo_min = tr ? tr->lo : INT64_MIN, lo_max = tr ? tr->hi : INT64_MAX, floor = INT64_MIN;
    /* A segment starting before the window may still overlap it: the statement looks for
     * one unless the window is open at the start or the page key is inside the window. */
    bool seek = tr && tr->lo != INT64_MIN && !(a->have_after && !a->reverse && a->after >= tr->lo);
    struct params p = {.n = 0};

    if (a->have_after && !a->reverse) {
        if (a->after == INT64_MAX)
            return 0;
        floor = a->after + 1;
    } else if (a->have_after) {
        if (a->after == INT64_MIN)
            return 0;
        if (a->after - 1 < lo_max)
            lo_max = a->after - 1;
    }
    /* The seek only lowers lo_min, never below floor. */
    if ((floor > lo_min ? floor : lo_min) > lo_max)
        return 0;
    ps(&p, a->flow_id);
    pi(&p, lo_min);
    pi(&p, lo_max);
    pio(&p, seek, tr ? tr->lo : 0);
    pi(&p, floor);
    pi(&p, (int64_t)a->limit + 1);
    if (a->object_id)
        ps(&p, a->object_id);
    return exec_q(c, shapes[a->object_id != NULL][a->reverse], &p, &a->res);
}

static void seg_list_reset(void *arg)
{
    struct seg_list_args *a = arg;

    PQclear(a->res);
    a->res = NULL;
}

static void opt_col(const PGresult *r, int i, int col, unsigned bit, unsigned *has, int64_t *v)
{
    if (!PQgetisnull(r, i, col)) {
        *v = gi(r, i, col);
        *has |= bit;
    }
}

static int pg_segments_list(struct tams_store_be *st, const char *flow_id,
                            const struct tams_segment_filter *f, const struct tams_page *page,
                            tams_segment_cb cb, void *ctx)
{
    struct seg_list_args a = {.flow_id = flow_id};
    const char *kind;
    int rows, rc;

    a.tr = f ? f->timerange : NULL;
    a.object_id = f ? f->object_id : NULL;
    a.reverse = f && f->reverse;
    a.limit = page && page->limit > 0 ? page->limit : 100;
    kind = a.reverse ? "segments-rev" : "segments";
    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if ((rc = tams__page_lo(page, kind, &a.have_after, &a.after)))
        return rc;
    if (a.tr && tams_timerange_is_empty(a.tr))
        return 0;
    if ((rc = run_tx(st, TX_NONE, seg_list_body, seg_list_reset, &a)))
        goto out;
    rows = a.res ? PQntuples(a.res) : 0;
    if (rows > a.limit && page && page->next_key) {
        if ((rc = tams_cursor_encode(page->next_key, kind, PQgetvalue(a.res, a.limit - 1, 0))))
            goto out;
    }
    for (int i = 0; i < rows && i < a.limit && rc == 0; i++) {
        struct tams_segment_rec rec;
        struct tams_segment *g = &rec.seg;

        memset(&rec, 0, sizeof(rec));
        g->tr.lo = gi(a.res, i, 0);
        g->tr.hi = gi(a.res, i, 1);
        g->tr.lo_incl = gb(a.res, i, 2);
        g->tr.hi_incl = gb(a.res, i, 3);
        g->object_id = gv(a.res, i, 4);
        opt_col(a.res, i, 5, TAMS_SEG_TS_OFFSET, &g->has, &g->ts_offset);
        opt_col(a.res, i, 6, TAMS_SEG_LAST_DURATION, &g->has, &g->last_duration);
        opt_col(a.res, i, 7, TAMS_SEG_SAMPLE_OFFSET, &g->has, &g->sample_offset);
        opt_col(a.res, i, 8, TAMS_SEG_SAMPLE_COUNT, &g->has, &g->sample_count);
        opt_col(a.res, i, 9, TAMS_SEG_KEY_FRAME_COUNT, &g->has, &g->key_frame_count);
        g->get_urls = gv(a.res, i, 10);
        rec.controlled = gb(a.res, i, 11);
        if (rec.controlled) {
            rec.storage_id = gv(a.res, i, 12);
            rec.key = gv(a.res, i, 13);
        }
        rc = cb(ctx, &rec);
    }
out:
    PQclear(a.res);
    return rc;
}

struct alloc_args {
    const char *flow_id, *storage_id;
    const struct tams_object_alloc *objs;
    size_t n;
    struct tams_buf *why;
    size_t why_len;
};

static void alloc_reset(void *arg)
{
    struct alloc_args *a = arg;

    why_cut(a->why, a->why_len);
}

/* The first id of the request (in its order) that the insert did not take: inserted holds the
 * ids it took, sorted and unique (the primary key), each one answering for one occurrence. */
static const char *alloc_refused(const struct alloc_args *a, const char **inserted, size_t n)
{
    bool *used = tams_calloc(n ? n : 1, sizeof(*used));
    const char *refused = NULL;

    for (size_t i = 0; i < a->n && !refused; i++) {
        const char **hit = bsearch(&a->objs[i].id, inserted, n, sizeof(*inserted), tams_cmp_cstr);
        if (!hit || used[hit - inserted])
            refused = a->objs[i].id;
        else
            used[hit - inserted] = true;
    }
    tams_free(used);
    return refused;
}

/* All objects in one INSERT of two arrays; an id that exists already (or twice in the request)
 * is skipped by ON CONFLICT and then refused, which rolls the whole allocation back. */
static int alloc_body(struct conn *c, void *arg)
{
    struct alloc_args *a = arg;
    struct tams_buf ids = TAMS_BUF_INIT(SIZE_MAX), keys = TAMS_BUF_INIT(SIZE_MAX);
    char now[TAMS_RFC3339_MAX];
    struct params p = {.n = 0};
    const char **inserted = NULL;
    PGresult *r = NULL;
    int rc, rows;

    tams_clock_now_rfc3339(now);
    if ((rc = lock_flow(c, a->flow_id)))
        return rc;
    if ((rc = media_flow_check(c, a->flow_id, "storage cannot be allocated for it", a->why)) ||
        !a->n)
        return rc;
    for (size_t i = 0; i < a->n; i++) {
        arr_str(&ids, a->objs[i].id);
        arr_str(&keys, a->objs[i].key);
    }
    arr_end(&ids);
    arr_end(&keys);
    ps(&p, ids.data);
    ps(&p, keys.data);
    ps(&p, a->storage_id);
    ps(&p, a->flow_id);
    ps(&p, now);
    if ((rc = exec_q(c, S_OBJ_INSERT_MANY, &p, &r)))
        goto out;
    if ((size_t)(rows = PQntuples(r)) != a->n) {
        const char *refused;

        inserted = tams_calloc((size_t)rows + 1, sizeof(*inserted));
        for (int i = 0; i < rows; i++)
            inserted[i] = PQgetvalue(r, i, 0);
        qsort(inserted, (size_t)rows, sizeof(*inserted), tams_cmp_cstr);
        refused = alloc_refused(a, inserted, (size_t)rows);
        tams__why_add(a->why, "object id '%s' already exists", refused ? refused : "?");
        rc = TAMS_ERR_VALIDATION;
    }
out:
    tams_free(inserted);
    PQclear(r);
    tams_buf_release(&ids);
    tams_buf_release(&keys);
    return rc;
}

static int pg_objects_allocate(struct tams_store_be *st, const char *flow_id,
                               const char *storage_id, const struct tams_object_alloc *objs,
                               size_t n, struct tams_buf *why)
{
    struct alloc_args a = {flow_id, storage_id, objs, n, why, why ? why->len : 0};

    return run_tx(st, TX_WRITE, alloc_body, alloc_reset, &a);
}

struct object_args {
    const char *id, *after;
    int limit;
    char *first;
    struct tams__strpool flows;
    bool more;
};

static void object_reset(void *arg)
{
    struct object_args *a = arg;

    tams_free(a->first);
    a->first = NULL;
    tams__pool_release(&a->flows);
    a->more = false;
}

static int object_body(struct conn *c, void *arg)
{
    struct object_args *a = arg;
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, a->id);
    if ((rc = exec_q(c, S_OBJ_FIRST_REF, &p, &r)))
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return TAMS_ERR_NOTFOUND;
    }
    if (gv(r, 0, 0))
        a->first = tams_strdup(gv(r, 0, 0));
    PQclear(r);
    if ((rc = exists(c, S_OBJ_HAS_VISIBLE_REFS, a->id)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    ps(&p, a->after);
    pi(&p, (int64_t)a->limit + 1);
    if ((rc = exec_q(c, S_OBJ_REF_FLOWS, &p, &r)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        if (i == a->limit) {
            a->more = true;
            break;
        }
        tams__pool_dup(&a->flows, PQgetvalue(r, i, 0));
    }
    PQclear(r);
    return 0;
}

static int pg_object_get(struct tams_store_be *st, const char *id, const struct tams_page *page,
                         tams_object_cb cb, void *ctx)
{
    struct tams_buf after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_object_rec rec = {.id = id};
    struct object_args a = {.id = id};
    int rc;

    a.limit = page && page->limit > 0 ? page->limit : 100;
    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if ((rc = tams__page_after(page, "objflows", &after)))
        goto out;
    a.after = after.data; /* "" sorts before every id */
    if ((rc = run_tx(st, TX_READ, object_body, object_reset, &a)))
        goto out;
    if (a.more && a.flows.n && page && page->next_key &&
        (rc = tams_cursor_encode(page->next_key, "objflows", a.flows.v[a.flows.n - 1])))
        goto out;
    rec.referenced_by_flows = (const char *const *)a.flows.v;
    rec.nreferenced_by_flows = a.flows.n;
    rec.first_referenced_by_flow = a.first;
    rc = cb(ctx, &rec);
out:
    object_reset(&a);
    tams_buf_release(&after);
    return rc;
}

/* The filter on controlled and first_referenced_by_flow is applied here, not in the WHERE:
 * with it there the planner sometimes chose a scan of the partial index on never-registered
 * objects over the primary key (209 ms a call where the key takes 0.1 ms, seen in bench/pg.sh). */
static int pg_objects_unregistered(struct tams_store_be *st, const char *const *ids, size_t n,
                                   tams_unregistered_object_cb cb, void *ctx)
{
    struct query_args a = {.id = S_OBJ_UNREGISTERED};
    struct tams_buf arr;
    size_t cap = 2;
    int rc;

    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        cap = tams_st_add(cap, tams_st_add(tams_st_mult(strlen(ids[i]), 2), 3));
    tams_buf_init(&arr, cap);
    text_array(&arr, ids, n);
    tams_assert(tams_buf_ok(&arr));
    ps(&a.p, arr.data);
    rc = run_tx(st, TX_NONE, query_body, query_reset, &a);
    /* The connection is back in the pool before the callbacks, which may use the store. */
    for (int i = 0; rc == 0 && i < PQntuples(a.res); i++) {
        struct tams_unregistered_object o = {gv(a.res, i, 0), gv(a.res, i, 1), gv(a.res, i, 2),
                                             gv(a.res, i, 3)};
        if (strcmp(gv(a.res, i, 4), "1") == 0)
            rc = cb(ctx, &o);
    }
    PQclear(a.res);
    tams_buf_release(&arr);
    return rc;
}

/* ---- deletion ---------------------------------------------------------------------------- */

struct del_sel {
    const char *flow_id;
    int64_t lo, hi;
    const char *object_id;
};

static void bind_sel(struct params *p, const struct del_sel *sel, int64_t upto)
{
    p->n = 0;
    ps(p, sel->flow_id);
    pi(p, sel->lo);
    pi(p, upto);
    pi(p, sel->hi);
    if (sel->object_id)
        ps(p, sel->object_id);
}

static int sel_nth(struct conn *c, const struct del_sel *sel, int64_t n, int64_t *lo, bool *incl)
{
    struct params p;
    PGresult *r;
    int rc;

    bind_sel(&p, sel, sel->hi);
    pi(&p, n);
    if ((rc = exec_q(c, sel->object_id ? S_SEG_SEL_NTH_OBJ : S_SEG_SEL_NTH, &p, &r)))
        return rc;
    rc = PQntuples(r) > 0;
    if (rc) {
        *lo = gi(r, 0, 0);
        *incl = gb(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

static int sel_count(struct conn *c, const struct del_sel *sel, int64_t max, int64_t *n)
{
    struct params p;
    PGresult *r;
    int rc;

    tams_assert(!sel->object_id);
    bind_sel(&p, sel, sel->hi);
    pi(&p, max);
    if ((rc = exec_q(c, S_SEG_SEL_COUNT, &p, &r)))
        return rc;
    *n = gi(r, 0, 0);
    PQclear(r);
    return 0;
}

static int ref_drop(struct conn *c, const char *object_id, const char *flow_id, int64_t count,
                    const char *now)
{
    struct params p = {.n = 0};
    int64_t changed = 0;
    int rc;

    ps(&p, object_id);
    ps(&p, flow_id);
    pi(&p, count);
    if ((rc = run(c, S_REF_SUB, &p, &changed)))
        return rc;
    if (changed)
        return 0;
    p.n = 2;
    if ((rc = run(c, S_REF_DEL, &p, NULL)))
        return rc;
    p.n = 0;
    ps(&p, object_id);
    ps(&p, now);
    return run(c, S_OBJ_UNREF, &p, NULL);
}

static int ev_seg_runs(struct conn *c, const struct del_sel *sel, int64_t upto, const char *now);

static int sel_delete(struct conn *c, const struct del_sel *sel, int64_t max, const char *now,
                      int64_t *deleted, bool emit)
{
    int64_t upto = sel->hi;
    struct params p;
    PGresult *r = NULL;
    bool incl;
    int rc;

    *deleted = 0;
    if (max > 0) {
        rc = sel_nth(c, sel, max - 1, &upto, &incl);
        if (rc < 0)
            return rc;
        if (rc == 0)
            upto = sel->hi;
    }
    /* flows/segments_deleted, one per run of removed segments, before they go. */
    if (emit && (rc = ev_seg_runs(c, sel, upto, now)))
        return rc;
    bind_sel(&p, sel, upto);
    if ((rc = exec_q(c, sel->object_id ? S_SEG_SEL_REFS_OBJ : S_SEG_SEL_REFS, &p, &r)))
        return rc;
    if ((rc = run(c, sel->object_id ? S_SEG_SEL_DEL_OBJ : S_SEG_SEL_DEL, &p, deleted)))
        goto out;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++)
        rc = ref_drop(c, PQgetvalue(r, i, 0), sel->flow_id, gi(r, i, 1), now);
out:
    PQclear(r);
    return rc;
}

static int touch_segments(struct conn *c, const char *flow_id, const char *now)
{
    struct params p = {.n = 0};

    ps(&p, flow_id);
    ps(&p, now);
    return run(c, S_FLOW_SEG_TOUCH, &p, NULL);
}

struct delete_start_args {
    const struct tams_delete_spec *spec;
    unsigned eff;
    char now[TAMS_RFC3339_MAX], id[TAMS_UUID_STRLEN + 1], text[TAMS_TIMERANGE_STRMAX];
};

static void delete_start_reset(void *arg)
{
    ((struct delete_start_args *)arg)->eff = 0;
}

static int delete_start_body(struct conn *c, void *arg)
{
    struct delete_start_args *a = arg;
    const struct tams_delete_spec *spec = a->spec;
    struct del_sel sel = {spec->flow_id, INT64_MIN, INT64_MAX, spec->object_id};
    struct tams_timerange shown;
    struct flow_state fs = {0};
    struct params p = {.n = 0};
    bool deferred = false;
    int64_t n = 0;
    int rc;

    if (spec->timerange) {
        sel.lo = spec->timerange->lo;
        sel.hi = spec->timerange->hi;
        shown = *spec->timerange;
    } else {
        tams_timerange_eternity(&shown);
    }
    if ((rc = lock_flow(c, spec->flow_id)) || (rc = read_flow_state(c, spec->flow_id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (fs.read_only) {
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    if (sel.lo > sel.hi && !spec->delete_flow)
        goto out;
    if (!spec->object_id) {
        if ((rc = sel_count(c, &sel, spec->sync_limit + 1, &n)))
            goto out;
        deferred = n > spec->sync_limit;
    }
    if (!deferred) {
        if ((rc = sel_delete(c, &sel, 0, a->now, &n, !spec->delete_flow)))
            goto out;
        if (spec->delete_flow)
            rc = remove_flow(c, spec->flow_id, fs.source_id, a->now, &a->eff, true);
        else if (n)
            rc = touch_segments(c, spec->flow_id, a->now);
        goto out;
    }
    if (spec->delete_flow) {
        struct seg_end first, last;

        if ((rc = seg_seek(c, S_SEG_FIRST_GT, spec->flow_id, INT64_MIN, &first)) < 0 ||
            (rc = seg_seek(c, S_SEG_LAST_LE, spec->flow_id, INT64_MAX, &last)) < 0)
            goto out;
        shown = (struct tams_timerange){first.lo, last.hi, first.start_incl, last.end_incl};
    }
    tams_timerange_format(&shown, a->text);
    tams_uuid_v4(a->id);
    ps(&p, a->id);
    ps(&p, spec->flow_id);
    pi(&p, sel.lo);
    pi(&p, sel.hi);
    ps(&p, a->text);
    pi(&p, shown.hi);
    pi(&p, shown.hi_incl ? 1 : 0);
    pi(&p, spec->delete_flow ? 1 : 0);
    ps(&p, a->now);
    ps(&p, spec->principal);
    if ((rc = run(c, S_DR_INSERT, &p, NULL)))
        goto out;
    a->eff |= TAMS_EFFECT_DEFERRED;
    if (spec->delete_flow) {
        /* Gone for clients from now on: hidden, out of every collection. */
        if ((rc = ev_flow_deleted(c, spec->flow_id, fs.source_id, a->now)) ||
            (rc = run1(c, S_FLOW_HIDE, spec->flow_id, NULL)) ||
            (rc = drop_from_collectors(c, spec->flow_id, a->now)) ||
            (rc = run1(c, S_COLL_DEL, spec->flow_id, NULL)))
            goto out;
    }
out:
    flow_state_release(&fs);
    return rc < 0 ? rc : 0;
}

static int pg_delete_start(struct tams_store_be *st, const struct tams_delete_spec *spec,
                           unsigned *effects, tams_delete_request_cb cb, void *ctx)
{
    struct delete_start_args a = {.spec = spec};
    struct tams_delete_request rec = {0};
    int rc;

    if (effects)
        *effects = 0;
    tams_clock_now_rfc3339(a.now);
    rc = run_tx(st, TX_WRITE, delete_start_body, delete_start_reset, &a);
    if (rc == 0 && effects)
        *effects = a.eff;
    if (rc == 0 && (a.eff & TAMS_EFFECT_DEFERRED) && cb) {
        rec.id = a.id;
        rec.flow_id = spec->flow_id;
        rec.timerange_to_delete = a.text;
        rec.timerange_remaining = a.text;
        rec.delete_flow = spec->delete_flow;
        rec.status = "created";
        rec.created = a.now;
        rec.created_by = spec->principal;
        rec.updated = a.now;
        rc = cb(ctx, &rec);
    }
    return rc;
}

static int dr_emit(const PGresult *r, bool one, tams_delete_request_cb cb, void *ctx)
{
    int rc = 0, n = PQntuples(r);

    if (one && n == 0)
        return TAMS_ERR_NOTFOUND;
    for (int i = 0; i < n && rc == 0; i++) {
        struct tams_delete_request d = {0};

        d.id = gv(r, i, 0);
        d.flow_id = gv(r, i, 1);
        d.timerange_to_delete = gv(r, i, 2);
        d.timerange_remaining = gv(r, i, 3);
        d.delete_flow = gb(r, i, 4);
        d.status = gv(r, i, 5);
        d.created = gv(r, i, 6);
        d.created_by = gv(r, i, 7);
        d.updated = gv(r, i, 8);
        d.expiry = gv(r, i, 9);
        d.error = gv(r, i, 10);
        rc = cb(ctx, &d);
    }
    return rc;
}

static int pg_delete_requests_list(struct tams_store_be *st, const char *now,
                                   tams_delete_request_cb cb, void *ctx)
{
    struct query_args a = {.id = S_DR_LIST};
    int rc;

    ps(&a.p, now);
    rc = run_tx(st, TX_NONE, query_body, query_reset, &a);
    if (rc == 0)
        rc = dr_emit(a.res, false, cb, ctx);
    PQclear(a.res);
    return rc;
}

static int pg_delete_request_get(struct tams_store_be *st, const char *id, const char *now,
                                 tams_delete_request_cb cb, void *ctx)
{
    struct query_args a = {.id = S_DR_GET};
    int rc;

    ps(&a.p, id);
    ps(&a.p, now);
    rc = run_tx(st, TX_NONE, query_body, query_reset, &a);
    if (rc == 0)
        rc = dr_emit(a.res, true, cb, ctx);
    PQclear(a.res);
    return rc;
}

struct dr_work {
    char *id, *flow_id;
    int64_t sel_lo, sel_hi, hi;
    bool hi_incl, delete_flow;
};

static int dr_finish(struct conn *c, const char *id, const char *status, const char *now,
                     int64_t ttl, const char *error)
{
    char expiry[TAMS_RFC3339_MAX];
    struct params p = {.n = 0};

    tams__time_after(ttl, expiry);
    ps(&p, id);
    ps(&p, status);
    ps(&p, "()");
    ps(&p, now);
    ps(&p, expiry);
    ps(&p, error);
    return run(c, S_DR_FINISH, &p, NULL);
}

static int dr_step(struct conn *c, const struct dr_work *w, int batch, int64_t ttl, const char *now)
{
    struct del_sel sel = {w->flow_id, w->sel_lo, w->sel_hi, NULL};
    struct flow_state fs = {0};
    int64_t n, lo;
    bool incl;
    int rc;

    if ((rc = lock_flow(c, w->flow_id)))
        return rc;
    if ((rc = sel_delete(c, &sel, batch > 0 ? batch : 1, now, &n, !w->delete_flow)))
        return rc;
    if (n && !w->delete_flow && (rc = touch_segments(c, w->flow_id, now)))
        return rc;
    rc = sel_nth(c, &sel, 0, &lo, &incl);
    if (rc == 1) {
        struct tams_timerange left = {lo, w->hi, incl, w->hi_incl};
        char text[TAMS_TIMERANGE_STRMAX];
        struct params p = {.n = 0};

        if (w->hi == INT64_MAX)
            left.hi_incl = false;
        tams_timerange_format(&left, text);
        ps(&p, w->id);
        ps(&p, text);
        ps(&p, now);
        return run(c, S_DR_PROGRESS, &p, NULL);
    }
    if (rc < 0)
        return rc;
    if (w->delete_flow) {
        if ((rc = read_flow_state(c, w->flow_id, &fs)) == 0 && fs.exists)
            rc = remove_flow(c, w->flow_id, fs.source_id, now, NULL, false);
        flow_state_release(&fs);
        if (rc)
            return rc;
    }
    return dr_finish(c, w->id, "done", now, ttl, NULL);
}

struct dr_step_args {
    int batch;
    int64_t ttl;
    bool worked;
    struct dr_work w;
    char now[TAMS_RFC3339_MAX];
};

static void dr_step_reset(void *arg)
{
    struct dr_step_args *a = arg;

    tams_free(a->w.id);
    tams_free(a->w.flow_id);
    memset(&a->w, 0, sizeof(a->w));
    a->worked = false;
}

static int dr_step_body(struct conn *c, void *arg)
{
    struct dr_step_args *a = arg;
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, a->now);
    if ((rc = run(c, S_DR_PURGE, &p, NULL)))
        return rc;
    /* SKIP LOCKED: another instance's worker on a request is left to it. */
    if ((rc = exec_q(c, S_DR_NEXT, NULL, &r)))
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    a->w.id = tams_strdup(PQgetvalue(r, 0, 0));
    a->w.flow_id = tams_strdup(PQgetvalue(r, 0, 1));
    a->w.sel_lo = gi(r, 0, 2);
    a->w.sel_hi = gi(r, 0, 3);
    a->w.hi = gi(r, 0, 4);
    a->w.hi_incl = gb(r, 0, 5);
    a->w.delete_flow = gb(r, 0, 6);
    PQclear(r);
    a->worked = true;
    return dr_step(c, &a->w, a->batch, a->ttl, a->now);
}

struct dr_fail_args {
    const char *id, *now, *err;
    int64_t ttl;
};

static int dr_fail_body(struct conn *c, void *arg)
{
    struct dr_fail_args *a = arg;

    return dr_finish(c, a->id, "error", a->now, a->ttl, a->err);
}

static int pg_delete_requests_step(struct tams_store_be *st, int batch, int64_t ttl, bool *worked)
{
    struct dr_step_args a = {.batch = batch, .ttl = ttl};
    int rc;

    *worked = false;
    tams_clock_now_rfc3339(a.now);
    rc = run_tx(st, TX_WRITE, dr_step_body, dr_step_reset, &a);
    *worked = a.worked;
    if (rc == TAMS_ERR_STORE && a.w.id) {
        struct dr_fail_args f = {a.w.id, a.now, NULL, ttl};
        char err[512];

        tams_log_error("deletion request %s failed", a.w.id);
        snprintf(err, sizeof(err),
                 "{\"type\":\"%s\",\"summary\":\"the metadata store failed while deleting flow "
                 "%s; see the server log\",\"time\":\"%s\"}",
                 tams_err_type(rc), a.w.flow_id, a.now);
        f.err = err;
        (void)run_tx(st, TX_WRITE, dr_fail_body, NULL, &f);
    }
    dr_step_reset(&a);
    return rc;
}

/* ---- garbage collection ------------------------------------------------------------------ */

struct gc_args {
    const struct tams_gc_params *p;
    size_t taken;
};

static void gc_reset(void *arg)
{
    ((struct gc_args *)arg)->taken = 0;
}

static int gc_take(struct conn *c, enum sid q, const char *cutoff, int limit, const char *now,
                   size_t *taken)
{
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, cutoff);
    pi(&p, limit);
    if ((rc = exec_q(c, q, &p, &r)))
        return rc;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *key = gv(r, i, 3);
        int64_t n = 0;

        if ((rc = run1(c, S_GC_TAKE, PQgetvalue(r, i, 0), &n)) || !n)
            continue;
        (*taken)++;
        if (!gb(r, i, 1) || !key || !key[0])
            continue;
        p.n = 0;
        ps(&p, PQgetvalue(r, i, 0));
        ps(&p, gv(r, i, 2));
        ps(&p, key);
        ps(&p, now);
        rc = run(c, S_TRASH_INS, &p, NULL);
    }
    PQclear(r);
    return rc;
}

static int gc_body(struct conn *c, void *arg)
{
    struct gc_args *a = arg;
    char now[TAMS_RFC3339_MAX], grace[TAMS_RFC3339_MAX], unused[TAMS_RFC3339_MAX];
    int64_t us = tams_clock_wall_us();
    int limit = a->p->batch > 0 ? a->p->batch : 1000;
    int rc;

    tams_clock_rfc3339(us, now);
    tams_clock_rfc3339(us - a->p->grace * 1000000, grace);
    tams_clock_rfc3339(us - a->p->unused_after * 1000000, unused);
    rc = gc_take(c, S_GC_UNREF, grace, limit, now, &a->taken);
    if (rc == 0)
        rc = gc_take(c, S_GC_UNUSED, unused, limit, now, &a->taken);
    return rc;
}

static int pg_gc_collect(struct tams_store_be *st, const struct tams_gc_params *p, size_t *taken)
{
    struct gc_args a = {p, 0};
    int rc = run_tx(st, TX_WRITE, gc_body, gc_reset, &a);

    *taken = rc == 0 ? a.taken : 0;
    return rc;
}

static int pg_gc_trash_list(struct tams_store_be *st, int limit, tams_trash_cb cb, void *ctx)
{
    struct query_args a = {.id = S_TRASH_DUE};
    char now[TAMS_RFC3339_MAX];
    int rc;

    tams_clock_now_rfc3339(now);
    ps(&a.p, now);
    pi(&a.p, limit);
    rc = run_tx(st, TX_NONE, query_body, query_reset, &a);
    for (int i = 0; rc == 0 && i < PQntuples(a.res); i++) {
        struct tams_trash_rec t = {gi(a.res, i, 0), gv(a.res, i, 1), gv(a.res, i, 2),
                                   gv(a.res, i, 3)};
        rc = cb(ctx, &t);
    }
    PQclear(a.res);
    return rc;
}

struct trash_args {
    int64_t id, delay;
};

static int trash_done_body(struct conn *c, void *arg)
{
    struct trash_args *a = arg;
    struct params p = {.n = 0};

    pi(&p, a->id);
    return run(c, S_TRASH_DEL, &p, NULL);
}

static int trash_retry_body(struct conn *c, void *arg)
{
    struct trash_args *a = arg;
    char when[TAMS_RFC3339_MAX];
    struct params p = {.n = 0};

    tams__time_after(a->delay, when);
    pi(&p, a->id);
    ps(&p, when);
    return run(c, S_TRASH_RETRY, &p, NULL);
}

static int pg_gc_trash_done(struct tams_store_be *st, int64_t id)
{
    struct trash_args a = {id, 0};

    return run_tx(st, TX_WRITE, trash_done_body, NULL, &a);
}

static int pg_gc_trash_retry(struct tams_store_be *st, int64_t id, int64_t delay)
{
    struct trash_args a = {id, delay};

    return run_tx(st, TX_WRITE, trash_retry_body, NULL, &a);
}

/* ---- events (the outbox) and webhooks ---------------------------------------------------- */

/* 1 when some webhook is registered, 0 when none, <0 on error; asked once per transaction.
 * Exact under READ COMMITTED: HOOKS_KEY is taken shared before looking, and webhook_put holds
 * it exclusively, so no registration commits between this look and our commit. When there is
 * one, EVENTS_KEY is taken before the first insert and held to the end: sequence values are
 * handed out in commit order, so a reader that sees seq N has seen every event below N that
 * will ever commit, and a webhook's cursor never passes an event still in flight. */
static int hooks_on(struct conn *c)
{
    PGresult *r;
    bool on;
    int rc;

    if (c->hooks != HOOKS_UNKNOWN)
        return c->hooks == HOOKS_ON;
    if ((rc = run(c, S_HOOKS_SHARE, NULL, NULL)) || (rc = exec_q(c, S_HOOKS_ANY, NULL, &r)))
        return rc;
    on = PQntuples(r) > 0;
    PQclear(r);
    if (on && (rc = run(c, S_EV_LOCK, NULL, NULL)))
        return rc;
    c->hooks = on ? HOOKS_ON : HOOKS_OFF;
    return on;
}

/* What a flow's events are filtered by (notes §8.3), read inside the transaction. */
struct ev_snap {
    struct tams__strpool pool;
    const char *source_id, *flow_cb, *source_cb;
};

static int snap_source(struct conn *c, struct ev_snap *sn)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 20);
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, sn->source_id);
    if ((rc = exec_q(c, S_SOURCE_COLLECTED_BY, &p, &r)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        if (b.len)
            tams_buf_addch(&b, ',');
        tams_buf_addstr(&b, PQgetvalue(r, i, 0));
    }
    PQclear(r);
    sn->source_cb = b.len ? tams__pool_keep(&sn->pool, tams_buf_detach(&b, NULL)) : NULL;
    tams_buf_release(&b);
    return 0;
}

/* The flow's source and both collected_by lists; NOTFOUND when the row is gone. */
static int snap_flow(struct conn *c, const char *flow_id, struct ev_snap *sn)
{
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, flow_id);
    if ((rc = exec_q(c, S_FLOW_SNAP, &p, &r)))
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return TAMS_ERR_NOTFOUND;
    }
    sn->source_id = tams__pool_dup(&sn->pool, gv(r, 0, 0));
    sn->flow_cb = tams__pool_dup(&sn->pool, gv(r, 0, 1));
    PQclear(r);
    return snap_source(c, sn);
}

static int ev_insert(struct conn *c, const char *type, const char *now, const char *flow_id,
                     const struct ev_snap *sn, const struct tams_buf *payload)
{
    char ts[TAMS_RFC3339_MAX];
    struct params p = {.n = 0};

    if (!tams_buf_ok(payload)) {
        tams_log_error("postgresql: %s event of flow/source '%s' is too large", type,
                       flow_id ? flow_id : sn->source_id);
        return TAMS_ERR_TOOBIG;
    }
    if (!now) {
        tams_clock_now_rfc3339(ts);
        now = ts;
    }
    ps(&p, type);
    ps(&p, now);
    ps(&p, flow_id);
    ps(&p, sn->source_id);
    ps(&p, sn->flow_cb && sn->flow_cb[0] ? sn->flow_cb : NULL);
    ps(&p, sn->source_cb && sn->source_cb[0] ? sn->source_cb : NULL);
    ps(&p, payload->data);
    return run(c, S_EV_INSERT, &p, NULL);
}

static int ev_flow_render(void *ctx, const struct tams_flow_rec *rec)
{
    tams_outbox_flow(ctx, rec);
    return 0;
}

static int ev_flow(struct conn *c, const char *type, const char *flow_id, const char *now)
{
    struct ev_snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    struct params p = {.n = 0};
    PGresult *r = NULL;
    int rc = hooks_on(c);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(c, flow_id, &sn)))
        goto out;
    ps(&p, flow_id);
    if ((rc = exec_q(c, S_FLOW_GET_ANY, &p, &r)))
        goto out;
    if (PQntuples(r) == 0) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if ((rc = emit_flow(r, 0, ev_flow_render, &payload)))
        goto out;
    rc = ev_insert(c, type, now, flow_id, &sn, &payload);
out:
    PQclear(r);
    tams__pool_release(&sn.pool);
    tams_buf_release(&payload);
    return rc;
}

static int ev_flow_deleted(struct conn *c, const char *flow_id, const char *source_id,
                           const char *now)
{
    struct ev_snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(4096);
    int rc = hooks_on(c);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(c, flow_id, &sn)) == TAMS_ERR_NOTFOUND) {
        sn.source_id = source_id;
        rc = 0;
    }
    tams_outbox_id(&payload, "flow_id", flow_id);
    if (rc == 0)
        rc = ev_insert(c, TAMS_EV_FLOW_DELETED, now, flow_id, &sn, &payload);
    tams__pool_release(&sn.pool);
    tams_buf_release(&payload);
    return rc;
}

static int ev_source_render(void *ctx, const struct tams_source_rec *rec)
{
    tams_outbox_source(ctx, rec);
    return 0;
}

static int ev_source(struct conn *c, const char *type, const char *source_id, const char *now)
{
    struct ev_snap sn = {.source_id = source_id};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    struct source_args rows = {.limit = 1};
    int rc = hooks_on(c);

    if (rc <= 0)
        return rc;
    if ((rc = snap_source(c, &sn)))
        goto out;
    if (strcmp(type, TAMS_EV_SOURCE_DELETED) == 0) {
        tams_outbox_id(&payload, "source_id", source_id);
    } else {
        ps(&rows.p, source_id);
        if ((rc = source_body(c, &rows)))
            goto out;
        if (!rows.n) {
            rc = TAMS_ERR_NOTFOUND;
            goto out;
        }
        if ((rc = emit_sources(&rows, ev_source_render, &payload)))
            goto out;
    }
    rc = ev_insert(c, type, now, NULL, &sn, &payload);
out:
    source_args_reset(&rows);
    tams__pool_release(&sn.pool);
    tams_buf_release(&payload);
    return rc;
}

static int ev_segments_added(struct conn *c, const char *flow_id, const struct tams_segment *segs,
                             size_t n, const int *results, const char *now)
{
    struct ev_snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    struct tams_json j;
    int rc = hooks_on(c);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(c, flow_id, &sn)))
        goto out;
    tams_outbox_segments_begin(&j, &payload, flow_id);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct params p = {.n = 0};
        PGresult *r;

        if (results[i])
            continue;
        ps(&p, segs[i].object_id);
        if ((rc = exec_q(c, S_OBJ_INFO, &p, &r)))
            break;
        if (PQntuples(r) > 0 && gb(r, 0, 0))
            tams_outbox_segment(&j, &segs[i], true, gv(r, 0, 1), gv(r, 0, 2));
        else
            tams_outbox_segment(&j, &segs[i], false, NULL, NULL);
        PQclear(r);
    }
    tams_outbox_segments_end(&j);
    if (rc == 0)
        rc = ev_insert(c, TAMS_EV_SEGMENTS_ADDED, now, flow_id, &sn, &payload);
out:
    tams__pool_release(&sn.pool);
    tams_buf_release(&payload);
    return rc;
}

/* One flows/segments_deleted per run of selected segments (selected ones with no kept segment
 * between them), each with the hull of its run, so a range never begins or ends in a gap or
 * spans a kept segment (notes §3.4). */
static int ev_seg_runs(struct conn *c, const struct del_sel *sel, int64_t upto, const char *now)
{
    struct ev_snap sn = {0};
    struct tams_timerange run_tr = {0};
    struct tams_buf payload = TAMS_BUF_INIT(4096);
    struct params p;
    PGresult *r = NULL;
    bool open = false;
    int rc = hooks_on(c), rows;

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(c, sel->flow_id, &sn)))
        goto out;
    bind_sel(&p, sel, upto);
    if (!sel->object_id)
        ps(&p, NULL);
    if ((rc = exec_q(c, S_SEG_RUNS, &p, &r)))
        goto out;
    rows = PQntuples(r);
    for (int i = 0; i <= rows; i++) {
        bool selected = i < rows && gb(r, i, 4);

        if (open && !selected) {
            tams_buf_reset(&payload);
            tams_outbox_segments_deleted(&payload, sel->flow_id, &run_tr);
            if ((rc = ev_insert(c, TAMS_EV_SEGMENTS_DELETED, now, sel->flow_id, &sn, &payload)))
                break;
            open = false;
        }
        if (!selected)
            continue;
        if (!open) {
            run_tr.lo = gi(r, i, 0);
            run_tr.lo_incl = gb(r, i, 2);
            open = true;
        }
        run_tr.hi = gi(r, i, 1);
        run_tr.hi_incl = gb(r, i, 3);
    }
out:
    PQclear(r);
    tams__pool_release(&sn.pool);
    tams_buf_release(&payload);
    return rc;
}

struct webhook_args {
    const struct tams_webhook_rec *rec;
    enum tams_webhook_put_result result;
    char now[TAMS_RFC3339_MAX];
};

static int webhook_put_body(struct conn *c, void *arg)
{
    struct webhook_args *a = arg;
    const struct tams_webhook_rec *rec = a->rec;
    struct params p = {.n = 0};
    char *id = NULL;
    PGresult *r;
    int rc;

    /* Exclusive: no transaction that looked for webhooks is in flight, so none of their
     * events is still to take a sequence value below the new cursor. */
    if ((rc = run(c, S_HOOKS_EXCL, NULL, NULL)))
        return rc;
    ps(&p, rec->url);
    ps(&p, rec->api_key_name);
    ps(&p, rec->api_key_value);
    if ((rc = exec_q(c, S_WH_FIND, &p, &r)))
        return rc;
    if (PQntuples(r) > 0)
        id = tams_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    p.n = 0;
    if (!rec->doc) {
        a->result = TAMS_WEBHOOK_REMOVED;
        if (id && (rc = run1(c, S_WH_DELETE, id, NULL)) == 0)
            rc = run(c, S_EV_PURGE, NULL, NULL);
    } else if (id) {
        a->result = TAMS_WEBHOOK_UPDATED;
        ps(&p, id);
        ps(&p, rec->doc);
        rc = run(c, S_WH_UPDATE, &p, NULL);
    } else {
        a->result = TAMS_WEBHOOK_CREATED;
        ps(&p, rec->id);
        ps(&p, rec->url);
        ps(&p, rec->api_key_name);
        ps(&p, rec->api_key_value);
        ps(&p, rec->owner);
        ps(&p, rec->doc);
        ps(&p, a->now);
        rc = run(c, S_WH_INSERT, &p, NULL);
    }
    tams_free(id);
    return rc;
}

static int pg_webhook_put(struct tams_store_be *st, const struct tams_webhook_rec *rec,
                          enum tams_webhook_put_result *result)
{
    struct webhook_args a = {.rec = rec};
    int rc;

    tams_clock_now_rfc3339(a.now);
    rc = run_tx(st, TX_QUIET, webhook_put_body, NULL, &a);
    if (rc == 0)
        *result = a.result;
    return rc;
}

static int pg_webhook_list(struct tams_store_be *st, tams_webhook_cb cb, void *ctx)
{
    struct query_args a = {.id = S_WH_LIST};
    int rc = run_tx(st, TX_NONE, query_body, query_reset, &a);

    /* The connection is back in the pool: callbacks may use the store. */
    for (int i = 0; rc == 0 && i < PQntuples(a.res); i++) {
        struct tams_webhook_rec rec = {
            .id = gv(a.res, i, 0),
            .url = gv(a.res, i, 1),
            .api_key_name = gv(a.res, i, 2),
            .api_key_value = gv(a.res, i, 3),
            .owner = gv(a.res, i, 4),
            .doc = gv(a.res, i, 5),
            .cursor = gi(a.res, i, 6),
        };
        rc = cb(ctx, &rec);
    }
    PQclear(a.res);
    return rc;
}

static int pg_events_after(struct tams_store_be *st, int64_t after, int limit, tams_event_cb cb,
                           void *ctx)
{
    struct query_args a = {.id = S_EV_AFTER};
    int rc;

    pi(&a.p, after);
    pi(&a.p, limit > 0 ? limit : 1);
    rc = run_tx(st, TX_NONE, query_body, query_reset, &a);
    for (int i = 0; rc == 0 && i < PQntuples(a.res); i++) {
        struct tams_event_rec ev = {
            .seq = gi(a.res, i, 0),
            .type = gv(a.res, i, 1),
            .timestamp = gv(a.res, i, 2),
            .flow_id = gv(a.res, i, 3),
            .source_id = gv(a.res, i, 4),
            .flow_collected_by = gv(a.res, i, 5),
            .source_collected_by = gv(a.res, i, 6),
            .payload = gv(a.res, i, 7),
        };
        rc = cb(ctx, &ev);
    }
    PQclear(a.res);
    return rc;
}

/* Nothing matched the webhook and its lease owner: CONFLICT if the webhook is there. */
static int lease_lost_or_gone(struct conn *c, const char *id)
{
    PGresult *r;
    int rc;
    struct params p = {.n = 0};

    ps(&p, id);
    if ((rc = exec_q(c, S_WH_EXISTS, &p, &r)))
        return rc;
    rc = PQntuples(r) ? TAMS_ERR_CONFLICT : TAMS_ERR_NOTFOUND;
    PQclear(r);
    return rc;
}

struct lease_args {
    const char *id, *owner;
    int seconds;
    int64_t cursor;
};

static int webhook_lease_body(struct conn *c, void *arg)
{
    struct lease_args *a = arg;
    struct params p = {.n = 0};
    PGresult *r;
    int rc;

    ps(&p, a->id);
    ps(&p, a->owner);
    pi(&p, a->seconds);
    if ((rc = exec_q(c, S_WH_LEASE, &p, &r)))
        return rc;
    if (PQntuples(r))
        a->cursor = gi(r, 0, 0);
    else
        rc = lease_lost_or_gone(c, a->id);
    PQclear(r);
    return rc;
}

static int pg_webhook_lease(struct tams_store_be *st, const char *id, const char *owner,
                            int seconds, int64_t *cursor)
{
    struct lease_args a = {id, owner, seconds, 0};
    int rc = run_tx(st, TX_QUIET, webhook_lease_body, NULL, &a);

    *cursor = a.cursor;
    return rc;
}

struct advance_args {
    const char *id, *owner;
    int64_t seq;
};

static int webhook_advance_body(struct conn *c, void *arg)
{
    struct advance_args *a = arg;
    struct params p = {.n = 0};
    int64_t n = 0;
    int rc;

    ps(&p, a->id);
    pi(&p, a->seq);
    ps(&p, a->owner);
    if ((rc = run(c, S_WH_ADVANCE, &p, &n)))
        return rc;
    if (n == 0)
        return lease_lost_or_gone(c, a->id);
    return run(c, S_EV_PURGE, NULL, NULL);
}

static int pg_webhook_advance(struct tams_store_be *st, const char *id, const char *owner,
                              int64_t seq)
{
    struct advance_args a = {id, owner, seq};

    return run_tx(st, TX_QUIET, webhook_advance_body, NULL, &a);
}

static int pg_events_pending(struct tams_store_be *st, int64_t *count)
{
    struct query_args a = {.id = S_EV_PENDING};
    int rc = run_tx(st, TX_NONE, query_body, query_reset, &a);

    *count = 0;
    if (rc == 0 && PQntuples(a.res) > 0 && !PQgetisnull(a.res, 0, 0))
        *count = gi(a.res, 0, 0);
    PQclear(a.res);
    return rc;
}

const struct tams_store_ops tams_store_pg_ops = {
    .name = "postgresql",
    .caps = TAMS_STORE_CAP_LEASES,
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .generation = pg_generation,
    .setting_get = pg_setting_get,
    .setting_set = pg_setting_set,
    .flow_put = pg_flow_put,
    .flow_get = pg_flow_get,
    .flow_mutate = pg_flow_mutate,
    .flow_delete = pg_flow_delete,
    .flow_list = pg_flow_list,
    .flow_timerange = pg_flow_timerange,
    .source_get = pg_source_get,
    .source_list = pg_source_list,
    .source_set_prop = pg_source_set_prop,
    .source_set_tag = pg_source_set_tag,
    .segments_add = pg_segments_add,
    .segments_list = pg_segments_list,
    .objects_allocate = pg_objects_allocate,
    .object_get = pg_object_get,
    .objects_unregistered = pg_objects_unregistered,
    .delete_start = pg_delete_start,
    .delete_requests_list = pg_delete_requests_list,
    .delete_request_get = pg_delete_request_get,
    .delete_requests_step = pg_delete_requests_step,
    .gc_collect = pg_gc_collect,
    .gc_trash_list = pg_gc_trash_list,
    .gc_trash_done = pg_gc_trash_done,
    .gc_trash_retry = pg_gc_trash_retry,
    .webhook_put = pg_webhook_put,
    .webhook_list = pg_webhook_list,
    .events_after = pg_events_after,
    .webhook_lease = pg_webhook_lease,
    .webhook_advance = pg_webhook_advance,
    .events_pending = pg_events_pending,
};
