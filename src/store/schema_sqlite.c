/* SPDX-License-Identifier: Apache-2.0 */
/* schema_sqlite.c - the store's tables on SQLite, as migrations (tams_schema_sqlite, store/db.h):
 * the version is PRAGMA user_version. What both dialects share, and the rules: schema_int.h.
 * New migrations are appended at the end of the list. */
#include "core/common.h"
#include "store/db.h"
#include "store/schema_int.h"

/* SQLite's entry 10: a tag table T keyed by (K, name) rebuilt keyed by (K, name, pos), value
 * nullable, every existing tag kept as a string (pos -1); NOIDX "--" for the bin's copies,
 * which have no value index. */
#define TAGS_BY_VALUE(T, K, REF, NOIDX)                                                            \
    "CREATE TABLE " T "_v(" K " TEXT NOT NULL" REF ", name TEXT NOT NULL,"                         \
    " pos INTEGER NOT NULL, value TEXT, PRIMARY KEY(" K ", name, pos)) WITHOUT ROWID;"             \
    "INSERT INTO " T "_v(" K ", name, pos, value) SELECT " K ", name, -1, value FROM " T ";"       \
    "DROP TABLE " T ";"                                                                            \
    "ALTER TABLE " T "_v RENAME TO " T ";" NOIDX "CREATE INDEX " T "_name_value ON " T             \
    "(name, value, " K ");\n"

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
    /* 4: webhook owners namespaced by kind, api keys sealed (docs/authentication.md). An owner
     * of an older release is "legacy:NAME" (the name alone could be a user, a token or a JWT
     * subject); tamsd maps it at start to the user or token of that name when one exists.
     * Values still in clear (api_key_value) are sealed at start, into api_key_id (a keyed hash,
     * the identity) and api_key_sealed, with the key only tamsd has. */
    "ALTER TABLE webhooks ADD COLUMN api_key_id TEXT;"
    "ALTER TABLE webhooks ADD COLUMN api_key_sealed TEXT;"
    "ALTER TABLE webhooks ADD COLUMN owner_scopes INTEGER NOT NULL DEFAULT 0;"
    "UPDATE webhooks SET owner = 'legacy:' || owner WHERE owner IS NOT NULL;"
    "CREATE INDEX webhooks_owner ON webhooks(owner);",
    /* 5: analytics (docs/analytics.md): aggregates kept in the transaction that changes
     * segments, object references or object sizes: by registration once per batch, by triggers
     * on the other paths (deletion, flow removal, sizes); then computed once from the rows
     * already stored. The gap rules are those of the PostgreSQL entry. */
    "ALTER TABLE objects ADD COLUMN size INTEGER;"
    "CREATE INDEX objects_key ON objects(key);"
    "CREATE TABLE flow_stats(flow_id TEXT PRIMARY KEY, segments INTEGER NOT NULL DEFAULT 0,"
    " covered INTEGER NOT NULL DEFAULT 0, first_lo INTEGER, last_hi INTEGER,"
    " objects INTEGER NOT NULL DEFAULT 0, unsized INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE flow_gaps(flow_id TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,"
    " PRIMARY KEY(flow_id, lo)) WITHOUT ROWID;"
    "CREATE TABLE flow_storage_stats(flow_id TEXT NOT NULL, storage_id TEXT NOT NULL,"
    " segments INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(flow_id, storage_id)) WITHOUT ROWID;"
    "CREATE TABLE flow_ingest(flow_id TEXT NOT NULL, minute INTEGER NOT NULL,"
    " segments INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(flow_id, minute)) WITHOUT ROWID;"
    "CREATE INDEX flow_ingest_minute ON flow_ingest(minute);"
    "CREATE TRIGGER segments_stats_del AFTER DELETE ON segments BEGIN"
    " UPDATE flow_stats SET segments = segments - 1, covered = covered - (OLD.hi - OLD.lo + 1),"
    " first_lo = (SELECT lo FROM segments WHERE flow_id = OLD.flow_id ORDER BY lo LIMIT 1),"
    " last_hi = (SELECT hi FROM segments WHERE flow_id = OLD.flow_id ORDER BY lo DESC LIMIT 1)"
    " WHERE flow_id = OLD.flow_id;"
    " DELETE FROM flow_gaps WHERE flow_id = OLD.flow_id"
    " AND lo > coalesce((SELECT hi FROM segments WHERE flow_id = OLD.flow_id AND lo < OLD.lo"
    " ORDER BY lo DESC LIMIT 1), -9223372036854775807)"
    " AND lo < coalesce((SELECT lo FROM segments WHERE flow_id = OLD.flow_id AND lo > OLD.lo"
    " ORDER BY lo LIMIT 1), 9223372036854775807);"
    " INSERT INTO flow_gaps(flow_id, lo, hi) SELECT OLD.flow_id, p.hi + 1, n.lo - 1"
    " FROM (SELECT hi FROM segments WHERE flow_id = OLD.flow_id AND lo < OLD.lo"
    " ORDER BY lo DESC LIMIT 1) p, (SELECT lo FROM segments WHERE flow_id = OLD.flow_id"
    " AND lo > OLD.lo ORDER BY lo LIMIT 1) n WHERE p.hi + 1 < n.lo"
    " ON CONFLICT(flow_id, lo) DO NOTHING;"
    " END;"
    /* Registration writes a batch's aggregates itself (segments.c, stats_write); triggers
     * keep the rarer paths: deletions, a reference count lowered, a size learnt, a flow gone. */
    "CREATE TRIGGER object_refs_stats_count AFTER UPDATE OF count ON object_refs"
    " WHEN NEW.count < OLD.count BEGIN"
    " UPDATE flow_storage_stats SET segments = segments + NEW.count - OLD.count"
    " WHERE flow_id = NEW.flow_id AND storage_id = coalesce((SELECT storage_id FROM objects"
    " WHERE id = NEW.object_id), '');"
    " END;"
    "CREATE TRIGGER object_refs_stats_del AFTER DELETE ON object_refs BEGIN"
    " UPDATE flow_stats SET objects = objects - 1,"
    " unsized = unsized - coalesce((SELECT size IS NULL FROM objects WHERE id = OLD.object_id), 1),"
    " bytes = bytes - coalesce((SELECT size FROM objects WHERE id = OLD.object_id), 0)"
    " WHERE flow_id = OLD.flow_id;"
    " UPDATE flow_storage_stats SET segments = segments - OLD.count,"
    " bytes = bytes - coalesce((SELECT size FROM objects WHERE id = OLD.object_id), 0)"
    " WHERE flow_id = OLD.flow_id AND storage_id = coalesce((SELECT storage_id FROM objects"
    " WHERE id = OLD.object_id), '');"
    " END;"
    /* Only for an object some flow references (never one not registered before: the claim
     * that sets its size counts it itself), and an IN (subquery) costs a temporary table. */
    "CREATE TRIGGER objects_size_stats AFTER UPDATE OF size ON objects"
    " WHEN OLD.first_referenced_by_flow IS NOT NULL"
    " AND EXISTS (SELECT 1 FROM object_refs WHERE object_id = NEW.id) BEGIN"
    " UPDATE flow_stats SET bytes = bytes + coalesce(NEW.size, 0) - coalesce(OLD.size, 0),"
    " unsized = unsized + (NEW.size IS NULL) - (OLD.size IS NULL)"
    " WHERE flow_id IN (SELECT flow_id FROM object_refs WHERE object_id = NEW.id);"
    " UPDATE flow_storage_stats SET bytes = bytes + coalesce(NEW.size, 0) - coalesce(OLD.size, 0)"
    " WHERE storage_id = coalesce(NEW.storage_id, '')"
    " AND flow_id IN (SELECT flow_id FROM object_refs WHERE object_id = NEW.id);"
    " END;"
    "CREATE TRIGGER flows_stats_drop AFTER DELETE ON flows BEGIN"
    " DELETE FROM flow_stats WHERE flow_id = OLD.id;"
    " DELETE FROM flow_gaps WHERE flow_id = OLD.id;"
    " DELETE FROM flow_storage_stats WHERE flow_id = OLD.id;"
    " END;"
    "INSERT INTO flow_stats(flow_id, segments, covered, first_lo, last_hi)"
    " SELECT flow_id, count(*), sum(hi - lo + 1), min(lo), max(hi) FROM segments"
    " GROUP BY flow_id;"
    "INSERT INTO flow_stats(flow_id) SELECT DISTINCT flow_id FROM object_refs"
    " WHERE flow_id NOT IN (SELECT flow_id FROM flow_stats);"
    "UPDATE flow_stats SET objects = (SELECT count(*) FROM object_refs r"
    " WHERE r.flow_id = flow_stats.flow_id), unsized = (SELECT count(*) FROM object_refs r"
    " WHERE r.flow_id = flow_stats.flow_id);"
    "INSERT INTO flow_gaps(flow_id, lo, hi) SELECT flow_id, prev_hi + 1, lo - 1 FROM"
    " (SELECT flow_id, lo, lag(hi) OVER (PARTITION BY flow_id ORDER BY lo) AS prev_hi"
    " FROM segments) WHERE prev_hi + 1 < lo;"
    "INSERT INTO flow_storage_stats(flow_id, storage_id, segments)"
    " SELECT s.flow_id, coalesce(o.storage_id, ''), count(*) FROM segments s"
    " LEFT JOIN objects o ON o.id = s.object_id GROUP BY 1, 2;",
    /* 6: soft delete (docs/soft-delete.md): deleted flows, sources and segments kept in a bin
     * for the retention period, outside every table a read looks at. */
    BIN_SCHEMA(" TEXT", " INTEGER", " WITHOUT ROWID"),
    /* 7: TAMS 8.2 webhooks (docs/tams-8.2-changes.md 6-9): status and error of delivery, and the
     * API version and prefix a webhook was registered under (its events are that version's, their
     * get_urls under that prefix). Rows of an older release were being delivered: started,
     * 7.0, at the root. A disabled or failed webhook keeps no events waiting (status). */
    "ALTER TABLE webhooks ADD COLUMN status TEXT NOT NULL DEFAULT 'started';"
    "ALTER TABLE webhooks ADD COLUMN error TEXT;"
    "ALTER TABLE webhooks ADD COLUMN api TEXT NOT NULL DEFAULT '7.0';"
    "ALTER TABLE webhooks ADD COLUMN prefix TEXT NOT NULL DEFAULT '';",
    /* 8: TAMS 8.2 object instances (ADR0038): an object's copies beyond the one it was
     * allocated in (or registered with), as a JSON array of {"storage_id", "key"} (a copy
     * tamsd made) and {"url", "label"} (the client's). NULL, as for every existing object:
     * no further instance. Objects are never binned, so the bin needs nothing. */
    "ALTER TABLE objects ADD COLUMN instances TEXT;",
    /* 9: TAMS 8.2 segments and objects (docs/tams-8.2-changes.md, 23): each segment's
     * object_timerange when its registration gave one, and the object's timerange as first
     * given. NULL (every row before 8.2) reads as the segment's timerange less its ts_offset,
     * what 8.2 assumes of a segment that uses its whole object. And init objects (22). */
    "ALTER TABLE segments ADD COLUMN object_timerange TEXT;"
    "ALTER TABLE bin_segments ADD COLUMN object_timerange TEXT;"
    "ALTER TABLE objects ADD COLUMN timerange TEXT;" INIT_OBJECTS_SCHEMA,
    /* 10: TAMS 8.2 tags and list orders (docs/tams-8.2-changes.md, entries 10, 12, 18). A tag
     * is one row per value: pos -1 a string (every tag stored before), 0.. a list's values in
     * order, -2 with value NULL an empty list; `tag.{name}=v` filters keep matching any value
     * through (name, value, <id>). Indexes for GET /sources and /flows sorted by time. */
    TAGS_BY_VALUE("source_tags", "source_id", " REFERENCES sources(id) ON DELETE CASCADE", "")
        TAGS_BY_VALUE("flow_tags", "flow_id", " REFERENCES flows(id) ON DELETE CASCADE", "")
            TAGS_BY_VALUE("bin_source_tags", "bin_id", "", "--") TAGS_BY_VALUE(
                "bin_flow_tags", "bin_id", "",
                "--") "CREATE INDEX sources_created ON sources(created, id);"
                      "CREATE INDEX sources_updated ON sources(updated, id);"
                      "CREATE INDEX flows_created ON flows(created, id);"
                      "CREATE INDEX flows_metadata_updated ON flows(metadata_updated, id);",
    /* 11: soft delete keeps the deleted flow's memberships. */
    BIN_MEMBERSHIPS(" TEXT", " INTEGER", " WITHOUT ROWID"),
    /* 12 (TAMS 8.2, docs/tams-8.2-changes.md 4 and 14): Profiles, immutable templates of a
     * flow's technical metadata (a flow names its own in its document's profile_id); and a
     * video flow without frame_rate, which 7.0 allowed, is a variable rate flow (ADR0040): its
     * document says so (vfr true), live and in the bin. */
    "CREATE TABLE profiles(id TEXT PRIMARY KEY, label TEXT, format TEXT NOT NULL, codec TEXT,"
    " doc TEXT NOT NULL, created TEXT NOT NULL, created_by TEXT) WITHOUT ROWID;"
    "CREATE INDEX profiles_label ON profiles(label, id);"
    "CREATE INDEX profiles_format ON profiles(format, id);"
    "UPDATE flows SET doc = json_set(doc, '$.essence_parameters.vfr', json('true'))"
    " WHERE format = 'urn:x-nmos:format:video'"
    " AND json_type(doc, '$.essence_parameters') = 'object'"
    " AND json_type(doc, '$.essence_parameters.frame_rate') IS NULL"
    " AND json_type(doc, '$.essence_parameters.vfr') IS NULL;"
    "UPDATE bin_flows SET doc = json_set(doc, '$.essence_parameters.vfr', json('true'))"
    " WHERE format = 'urn:x-nmos:format:video'"
    " AND json_type(doc, '$.essence_parameters') = 'object'"
    " AND json_type(doc, '$.essence_parameters.frame_rate') IS NULL"
    " AND json_type(doc, '$.essence_parameters.vfr') IS NULL;",
    /* 13: 8.2's GET /flows filters on members of the document (status, profile_id,
     * init_segments, docs/tams-8.2-changes.md 15-17): an index on each expression as
     * store/flows.c writes it, so a filtered page is a range of an index, not a scan. */
    "CREATE INDEX flows_status ON flows(json_extract(doc, '$.status'), id);"
    "CREATE INDEX flows_profile ON flows(json_extract(doc, '$.profile_id'), id);"
    "CREATE INDEX flows_init_segments ON flows("
    "coalesce(json_extract(doc, '$.essence_parameters.init_segments'), 0), id);"};
const size_t tams_schema_sqlite_count = TAMS_ARRAY_SIZE(tams_schema_sqlite);
