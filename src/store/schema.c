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

/* Soft delete, second step: the collections a deleted flow was a member of, so a restore puts
 * it back into them (docs/soft-delete.md). */
#define BIN_MEMBERSHIPS(K, I, W)                                                                   \
    "CREATE TABLE bin_memberships(bin_id" K " NOT NULL, collector_id" K " NOT NULL,"               \
    " role TEXT NOT NULL, position" I " NOT NULL, PRIMARY KEY(bin_id, collector_id, position))" W  \
    ";"

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
    /* 7: no foreign keys from segments to flows or from object_refs to objects: their
     * per-row checks were a quarter of bulk registration (bench/pg_rows.sql). The same rows are
     * locked once per batch instead: tams_segments_add (entry 9) holds the flow row and every
     * object row it references FOR KEY SHARE, and the collector takes only objects it could lock
     * FOR UPDATE SKIP LOCKED (gc.c), so neither disappears under a registration; every writer
     * of a flow's segments, and its removal, holds the flow's advisory lock
     * (docs/internals/store.md). */
    "ALTER TABLE segments DROP CONSTRAINT IF EXISTS segments_flow_id_fkey;"
    "ALTER TABLE object_refs DROP CONSTRAINT IF EXISTS object_refs_object_id_fkey;",
    /* 8: webhook owners namespaced by kind, api keys sealed; as SQLite's 4. */
    "ALTER TABLE webhooks ADD COLUMN api_key_id" TXT ", ADD COLUMN api_key_sealed TEXT,"
    " ADD COLUMN owner_scopes INTEGER NOT NULL DEFAULT 0;"
    "UPDATE webhooks SET owner = 'legacy:' || owner WHERE owner IS NOT NULL;"
    "CREATE INDEX webhooks_owner ON webhooks(owner);",
    /* 9: analytics (docs/analytics.md), as SQLite's entry 5, computed once from the rows
     * already stored. Registration (tams_segments_add, replaced below) writes a batch's aggregates
     * once, from the batch; deletions are kept by statement-level triggers with transition tables,
     * so a statement that deletes many rows updates each aggregate row once: updating one row a
     * thousand times in one transaction leaves a thousand versions every later update must walk
     * (measured: 50x slower). A segment's gaps are those between it and its neighbours: for the
     * segments inserted, every gap starting in (predecessor's hi, segment's lo] goes and the gaps
     * around each come; for those deleted, the gaps between each one's surviving neighbours go and
     * the one between them comes. Each rule depends only on the final neighbours, so applying it
     * set-wise after the statement gives the gaps of the final rows (docs/internals/store.md,
     * "Analytics aggregates"). */
    "ALTER TABLE objects ADD COLUMN size BIGINT;"
    "CREATE INDEX objects_key ON objects(key);"
    "CREATE TABLE flow_stats(flow_id" TXT " PRIMARY KEY, segments BIGINT NOT NULL DEFAULT 0,"
    " covered BIGINT NOT NULL DEFAULT 0, first_lo BIGINT, last_hi BIGINT,"
    " objects BIGINT NOT NULL DEFAULT 0, unsized BIGINT NOT NULL DEFAULT 0,"
    " bytes BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE flow_gaps(flow_id" TXT " NOT NULL, lo BIGINT NOT NULL, hi BIGINT NOT NULL,"
    " PRIMARY KEY(flow_id, lo));"
    "CREATE TABLE flow_storage_stats(flow_id" TXT " NOT NULL, storage_id" TXT " NOT NULL,"
    " segments BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY(flow_id, storage_id));"
    "CREATE TABLE flow_ingest(flow_id" TXT " NOT NULL, minute BIGINT NOT NULL,"
    " segments BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY(flow_id, minute));"
    "CREATE INDEX flow_ingest_minute ON flow_ingest(minute);"
    /* A registration's aggregates, once per batch, called by tams_segments_add below: the
     * items p_sel marks (NULL: all) were added, the references to p_fresh are new to the flow,
     * p_tail was the end of the flow's last segment before (NULL: none). Items all after it
     * (appending ingest) add a gap only after a hole; otherwise the gap rules of the deletion
     * trigger's kind, set-wise from each added segment's final neighbours. */
    "CREATE FUNCTION tams_stats_batch_add(p_flow text, p_lo bigint[], p_hi bigint[],"
    " p_obj text[], p_sel boolean[], p_fresh text[], p_tail bigint) RETURNS void"
    " LANGUAGE plpgsql AS $f$\n"
    "DECLARE\n"
    "  first bigint;\n"
    "  last bigint;\n"
    "  cnt bigint;\n"
    "  cov bigint;\n"
    "  fo bigint := 0;\n"
    "  fu bigint := 0;\n"
    "  fb bigint := 0;\n"
    "BEGIN\n"
    "  SELECT min(u.lo), max(u.hi), count(*), sum(u.hi - u.lo + 1) INTO first, last, cnt, cov\n"
    "    FROM unnest(p_lo, p_hi) WITH ORDINALITY AS u(lo, hi, i)\n"
    "    WHERE p_sel IS NULL OR p_sel[u.i];\n"
    "  IF cnt = 0 THEN RETURN; END IF;\n"
    "  IF p_fresh IS NOT NULL THEN\n"
    "    SELECT count(*), count(*) FILTER (WHERE o.size IS NULL), coalesce(sum(o.size), 0)\n"
    "      INTO fo, fu, fb FROM unnest(p_fresh) AS r(ob) LEFT JOIN objects o ON o.id = r.ob;\n"
    "  END IF;\n"
    "  INSERT INTO flow_stats AS a(flow_id, segments, covered, first_lo, last_hi, objects,\n"
    "      unsized, bytes) VALUES (p_flow, cnt, cov, first, last, fo, fu, fb)\n"
    "    ON CONFLICT(flow_id) DO UPDATE SET segments = a.segments + excluded.segments,\n"
    "      covered = a.covered + excluded.covered,\n"
    "      first_lo = LEAST(a.first_lo, excluded.first_lo),\n"
    "      last_hi = GREATEST(a.last_hi, excluded.last_hi), objects = a.objects + excluded.objects,\n"
    "      unsized = a.unsized + excluded.unsized, bytes = a.bytes + excluded.bytes;\n"
    "  INSERT INTO flow_storage_stats AS a(flow_id, storage_id, segments)\n"
    "    SELECT p_flow, coalesce(o.storage_id, ''), sum(g.c)\n"
    "      FROM (SELECT u.ob, count(*) AS c FROM unnest(p_obj) WITH ORDINALITY AS u(ob, i)\n"
    "        WHERE p_sel IS NULL OR p_sel[u.i] GROUP BY u.ob) g\n"
    "      LEFT JOIN objects o ON o.id = g.ob GROUP BY 1, 2\n"
    "    ON CONFLICT(flow_id, storage_id) DO UPDATE SET segments = a.segments + excluded.segments;\n"
    "  IF fb > 0 THEN\n"
    "    UPDATE flow_storage_stats a SET bytes = a.bytes + x.b\n"
    "      FROM (SELECT coalesce(o.storage_id, '') AS sid, sum(o.size) AS b FROM objects o\n"
    "        WHERE o.id = ANY(p_fresh) AND o.size IS NOT NULL GROUP BY 1) x\n"
    "      WHERE a.flow_id = p_flow AND a.storage_id = x.sid;\n"
    "  END IF;\n"
    "  INSERT INTO flow_ingest AS a(flow_id, minute, segments, bytes)\n"
    "    VALUES (p_flow, floor(extract(epoch FROM now()) / 60)::bigint, cnt, fb)\n"
    "    ON CONFLICT(flow_id, minute) DO UPDATE SET segments = a.segments + excluded.segments,\n"
    "      bytes = a.bytes + excluded.bytes;\n"
    "  IF p_tail IS NULL OR first > p_tail THEN\n"
    "    IF p_tail + 1 < first THEN\n"
    "      INSERT INTO flow_gaps(flow_id, lo, hi) VALUES (p_flow, p_tail + 1, first - 1);\n"
    "    END IF;\n"
    "    IF cov = last - first + 1 THEN RETURN; END IF; /* no hole inside the batch */\n"
    "    INSERT INTO flow_gaps(flow_id, lo, hi)\n"
    "      SELECT p_flow, x.prev_hi + 1, x.lo - 1 FROM (SELECT u.lo,\n"
    "          lag(u.hi) OVER (ORDER BY u.lo) AS prev_hi\n"
    "        FROM unnest(p_lo, p_hi) WITH ORDINALITY AS u(lo, hi, i)\n"
    "        WHERE p_sel IS NULL OR p_sel[u.i]) x\n"
    "      WHERE x.prev_hi + 1 < x.lo;\n"
    "    RETURN;\n"
    "  END IF;\n"
    "  DELETE FROM flow_gaps g USING (SELECT u.lo, (SELECT s.hi FROM segments s\n"
    "      WHERE s.flow_id = p_flow AND s.lo < u.lo ORDER BY s.lo DESC LIMIT 1) AS pre_hi\n"
    "      FROM unnest(p_lo) WITH ORDINALITY AS u(lo, i) WHERE p_sel IS NULL OR p_sel[u.i]) x\n"
    "    WHERE g.flow_id = p_flow AND g.lo > x.pre_hi AND g.lo <= x.lo;\n"
    "  INSERT INTO flow_gaps(flow_id, lo, hi)\n"
    "    SELECT p_flow, pre_hi + 1, lo - 1 FROM (SELECT u.lo, (SELECT s.hi FROM segments s\n"
    "        WHERE s.flow_id = p_flow AND s.lo < u.lo ORDER BY s.lo DESC LIMIT 1) AS pre_hi\n"
    "        FROM unnest(p_lo) WITH ORDINALITY AS u(lo, i) WHERE p_sel IS NULL OR p_sel[u.i]) x\n"
    "      WHERE pre_hi + 1 < lo\n"
    "    UNION\n"
    "    SELECT p_flow, hi + 1, n_lo - 1 FROM (SELECT u.hi, (SELECT s.lo FROM segments s\n"
    "        WHERE s.flow_id = p_flow AND s.lo > u.lo ORDER BY s.lo LIMIT 1) AS n_lo\n"
    "        FROM unnest(p_lo, p_hi) WITH ORDINALITY AS u(lo, hi, i)\n"
    "        WHERE p_sel IS NULL OR p_sel[u.i]) y WHERE hi + 1 < n_lo\n"
    "    ON CONFLICT(flow_id, lo) DO NOTHING;\n"
    "END\n"
    "$f$;"
    "CREATE FUNCTION tams_stats_segments_del() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  UPDATE flow_stats a SET segments = a.segments - d.n, covered = a.covered - d.c,\n"
    "    first_lo = (SELECT s.lo FROM segments s WHERE s.flow_id = a.flow_id\n"
    "      ORDER BY s.lo LIMIT 1),\n"
    "    last_hi = (SELECT s.hi FROM segments s WHERE s.flow_id = a.flow_id\n"
    "      ORDER BY s.lo DESC LIMIT 1)\n"
    "    FROM (SELECT flow_id, count(*) AS n, sum(hi - lo + 1) AS c FROM od GROUP BY flow_id) d\n"
    "    WHERE a.flow_id = d.flow_id;\n"
    "  DELETE FROM flow_gaps g USING (SELECT DISTINCT o.flow_id, (SELECT s.hi FROM segments s\n"
    "      WHERE s.flow_id = o.flow_id AND s.lo < o.lo ORDER BY s.lo DESC LIMIT 1) AS p_hi,\n"
    "      (SELECT s.lo FROM segments s WHERE s.flow_id = o.flow_id AND s.lo > o.lo\n"
    "      ORDER BY s.lo LIMIT 1) AS n_lo FROM od o) x\n"
    "    WHERE g.flow_id = x.flow_id AND g.lo > coalesce(x.p_hi, -9223372036854775807)\n"
    "    AND g.lo < coalesce(x.n_lo, 9223372036854775807);\n"
    "  INSERT INTO flow_gaps(flow_id, lo, hi) SELECT DISTINCT flow_id, p_hi + 1, n_lo - 1\n"
    "    FROM (SELECT o.flow_id, (SELECT s.hi FROM segments s WHERE s.flow_id = o.flow_id\n"
    "      AND s.lo < o.lo ORDER BY s.lo DESC LIMIT 1) AS p_hi, (SELECT s.lo FROM segments s\n"
    "      WHERE s.flow_id = o.flow_id AND s.lo > o.lo ORDER BY s.lo LIMIT 1) AS n_lo\n"
    "      FROM od o) x WHERE p_hi + 1 < n_lo ON CONFLICT(flow_id, lo) DO NOTHING;\n"
    "  UPDATE flow_storage_stats a SET segments = a.segments - d.n\n"
    "    FROM (SELECT o.flow_id, coalesce(x.storage_id, '') AS sid, count(*) AS n FROM od o\n"
    "      LEFT JOIN objects x ON x.id = o.object_id GROUP BY 1, 2) d\n"
    "    WHERE a.flow_id = d.flow_id AND a.storage_id = d.sid;\n"
    "  RETURN NULL;\n"
    "END\n"
    "$f$;"
    "CREATE TRIGGER segments_stats_del AFTER DELETE ON segments REFERENCING OLD TABLE AS od"
    " FOR EACH STATEMENT EXECUTE FUNCTION tams_stats_segments_del();"
    "CREATE FUNCTION tams_stats_refs_del() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  UPDATE flow_stats a SET objects = a.objects - d.n, unsized = a.unsized - d.u,\n"
    "    bytes = a.bytes - d.b\n"
    "    FROM (SELECT r.flow_id, count(*) AS n, count(*) FILTER (WHERE o.size IS NULL) AS u,\n"
    "      coalesce(sum(o.size), 0) AS b FROM od r LEFT JOIN objects o ON o.id = r.object_id\n"
    "      GROUP BY r.flow_id) d\n"
    "    WHERE a.flow_id = d.flow_id;\n"
    "  UPDATE flow_storage_stats a SET bytes = a.bytes - d.b\n"
    "    FROM (SELECT r.flow_id, coalesce(o.storage_id, '') AS sid, sum(o.size) AS b FROM od r\n"
    "      JOIN objects o ON o.id = r.object_id WHERE o.size IS NOT NULL GROUP BY 1, 2) d\n"
    "    WHERE a.flow_id = d.flow_id AND a.storage_id = d.sid;\n"
    "  RETURN NULL;\n"
    "END\n"
    "$f$;"
    "CREATE TRIGGER object_refs_stats_del AFTER DELETE ON object_refs"
    " REFERENCING OLD TABLE AS od FOR EACH STATEMENT EXECUTE FUNCTION tams_stats_refs_del();"
    "CREATE FUNCTION tams_stats_object_size() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  UPDATE flow_stats SET bytes = bytes + coalesce(NEW.size, 0) - coalesce(OLD.size, 0),\n"
    "    unsized = unsized + CASE WHEN NEW.size IS NULL THEN 1 ELSE 0 END\n"
    "      - CASE WHEN OLD.size IS NULL THEN 1 ELSE 0 END\n"
    "    WHERE flow_id IN (SELECT r.flow_id FROM object_refs r WHERE r.object_id = NEW.id);\n"
    "  UPDATE flow_storage_stats SET bytes = bytes + coalesce(NEW.size, 0) - coalesce(OLD.size, 0)\n"
    "    WHERE storage_id = coalesce(NEW.storage_id, '')\n"
    "    AND flow_id IN (SELECT r.flow_id FROM object_refs r WHERE r.object_id = NEW.id);\n"
    "  RETURN NULL;\n"
    "END\n"
    "$f$;"
    /* Not for an object never registered: it has no references yet, and registration's
     * sizes, set before tams_segments_add, are counted by it. */
    "CREATE TRIGGER objects_size_stats AFTER UPDATE OF size ON objects"
    " FOR EACH ROW WHEN (OLD.size IS DISTINCT FROM NEW.size"
    " AND OLD.first_referenced_by_flow IS NOT NULL)"
    " EXECUTE FUNCTION tams_stats_object_size();"
    "CREATE FUNCTION tams_stats_flow_drop() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  DELETE FROM flow_stats WHERE flow_id = OLD.id;\n"
    "  DELETE FROM flow_gaps WHERE flow_id = OLD.id;\n"
    "  DELETE FROM flow_storage_stats WHERE flow_id = OLD.id;\n"
    "  RETURN NULL;\n"
    "END\n"
    "$f$;"
    "CREATE TRIGGER flows_stats_drop AFTER DELETE ON flows"
    " FOR EACH ROW EXECUTE FUNCTION tams_stats_flow_drop();"
    /* tams_segments_add writes a batch in which every item would be added (the usual ingest:
     * no overlap with the flow or within the batch, every object usable) set-based, in a few
     * statements; any other batch goes item by item as in entry 5, with the same outcome per
     * item. It locks the flow row and the objects it references FOR KEY SHARE (entry 7), and
     * writes the batch's aggregates through tams_stats_batch_add: the references new to the
     * flow are those whose count after the upsert is the batch's own. */
    "CREATE OR REPLACE FUNCTION tams_segments_add(p_flow text, p_now text, p_lo bigint[],"
    " p_hi bigint[], p_lo_incl int[], p_hi_incl int[], p_obj text[], p_ts_offset bigint[],"
    " p_last_duration bigint[], p_sample_offset bigint[], p_sample_count bigint[],"
    " p_key_frame_count bigint[], p_get_urls text[])"
    " RETURNS TABLE(r_code int, r_lo bigint, r_hi bigint, r_lo_incl int, r_hi_incl int)"
    " LANGUAGE plpgsql AS $f$\n"
    "DECLARE\n"
    "  n int := coalesce(array_length(p_lo, 1), 0);\n"
    "  tail bigint;\n"
    "  clean boolean := false;\n"
    "  prev record;\n"
    "  obj record;\n"
    "  run_obj text := NULL;\n"
    "  run_n bigint := 0;\n"
    "  c bigint;\n"
    "  sel boolean[];\n"
    "  fresh text[];\n"
    "BEGIN\n"
    "  PERFORM 1 FROM flows WHERE id = p_flow FOR KEY SHARE;\n"
    "  IF NOT FOUND THEN\n"
    "    RAISE foreign_key_violation USING MESSAGE = 'no flow ' || p_flow;\n"
    "  END IF;\n"
    "  SELECT s.hi INTO tail FROM segments s WHERE s.flow_id = p_flow\n"
    "    ORDER BY s.lo DESC LIMIT 1;\n"
    "  IF n > 1 THEN\n"
    "    PERFORM 1 FROM objects o WHERE o.id = ANY(p_obj) FOR KEY SHARE;\n"
    "    WITH it AS (SELECT * FROM unnest(p_lo, p_hi, p_obj, p_get_urls) WITH ORDINALITY\n"
    "      AS u(lo, hi, ob, urls, i))\n"
    "    SELECT NOT EXISTS (SELECT 1 FROM (SELECT lo, lag(hi) OVER (ORDER BY lo) AS prev_hi\n"
    "        FROM it) x WHERE x.lo <= x.prev_hi)\n"
    "      AND (tail IS NULL OR (SELECT min(lo) FROM it) > tail OR NOT EXISTS (\n"
    "        SELECT 1 FROM it, LATERAL (SELECT s.hi FROM segments s WHERE s.flow_id = p_flow\n"
    "          AND s.lo <= it.hi ORDER BY s.lo DESC LIMIT 1) p WHERE p.hi >= it.lo))\n"
    "      AND NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (ob) ob, urls FROM it\n"
    "          ORDER BY ob, i) f LEFT JOIN objects o ON o.id = f.ob\n"
    "        WHERE (o.id IS NULL AND f.urls IS NULL) OR (o.id IS NOT NULL\n"
    "          AND o.first_referenced_by_flow IS NULL AND o.allocated_for_flow <> p_flow))\n"
    "    INTO clean;\n"
    "    IF clean THEN\n"
    "      INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,\n"
    "        first_referenced_by_flow, created)\n"
    "        SELECT DISTINCT u.ob, NULL::text, '', 0, NULL::text, p_flow, p_now\n"
    "        FROM unnest(p_obj) AS u(ob)\n"
    "        WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.id = u.ob);\n"
    "      UPDATE objects o SET first_referenced_by_flow = p_flow\n"
    "        FROM (SELECT DISTINCT ob FROM unnest(p_obj) AS u(ob)) f\n"
    "        WHERE o.id = f.ob AND o.first_referenced_by_flow IS NULL;\n"
    "      INSERT INTO segments(flow_id, lo, hi, start_incl, end_incl, object_id, ts_offset,\n"
    "        last_duration, sample_offset, sample_count, key_frame_count, get_urls)\n"
    "        SELECT p_flow, u.* FROM unnest(p_lo, p_hi, p_lo_incl, p_hi_incl, p_obj,\n"
    "          p_ts_offset, p_last_duration, p_sample_offset, p_sample_count,\n"
    "          p_key_frame_count, p_get_urls) AS u;\n"
    "      WITH b AS (SELECT u.ob, count(*) AS c FROM unnest(p_obj) AS u(ob) GROUP BY u.ob),\n"
    "      r AS (INSERT INTO object_refs(object_id, flow_id, count)\n"
    "        SELECT b.ob, p_flow, b.c FROM b ON CONFLICT(object_id, flow_id)\n"
    "        DO UPDATE SET count = object_refs.count + excluded.count\n"
    "        RETURNING object_refs.object_id, object_refs.count)\n"
    "      SELECT array_agg(r.object_id) INTO fresh FROM r JOIN b ON b.ob = r.object_id\n"
    "        WHERE r.count = b.c;\n"
    "      UPDATE objects SET unreferenced_at = NULL\n"
    "        WHERE id IN (SELECT u.ob FROM unnest(p_obj) AS u(ob))\n"
    "        AND unreferenced_at IS NOT NULL;\n"
    "      PERFORM tams_stats_batch_add(p_flow, p_lo, p_hi, p_obj, NULL, fresh, tail);\n"
    "      RETURN QUERY SELECT 0, NULL::bigint, NULL::bigint, NULL::int, NULL::int\n"
    "        FROM generate_series(1, n);\n"
    "      RETURN;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  sel := array_fill(false, ARRAY[n]);\n"
    "  FOR i IN 1 .. n LOOP\n"
    "    r_code := 0; r_lo := NULL; r_hi := NULL; r_lo_incl := NULL; r_hi_incl := NULL;\n"
    "    SELECT s.lo, s.hi, s.start_incl, s.end_incl INTO prev FROM segments s\n"
    "      WHERE s.flow_id = p_flow AND s.lo <= p_hi[i] ORDER BY s.lo DESC LIMIT 1;\n"
    "    IF FOUND AND prev.hi >= p_lo[i] THEN\n"
    "      r_code := 1; r_lo := prev.lo; r_hi := prev.hi;\n"
    "      r_lo_incl := prev.start_incl; r_hi_incl := prev.end_incl;\n"
    "      RETURN NEXT; CONTINUE;\n"
    "    END IF;\n"
    "    SELECT o.allocated_for_flow, o.first_referenced_by_flow IS NOT NULL AS registered\n"
    "      INTO obj FROM objects o WHERE o.id = p_obj[i] FOR KEY SHARE;\n"
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
    "    sel[i] := true;\n"
    "    IF run_n > 0 AND run_obj <> p_obj[i] THEN\n"
    "      INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"
    "        ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count\n"
    "        RETURNING count INTO c;\n"
    "      IF c = run_n THEN fresh := array_append(fresh, run_obj); END IF;\n"
    "      UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"
    "      run_n := 0;\n"
    "    END IF;\n"
    "    run_obj := p_obj[i]; run_n := run_n + 1;\n"
    "    RETURN NEXT;\n"
    "  END LOOP;\n"
    "  IF run_n > 0 THEN\n"
    "    INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"
    "      ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count\n"
    "      RETURNING count INTO c;\n"
    "    IF c = run_n THEN fresh := array_append(fresh, run_obj); END IF;\n"
    "    UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"
    "  END IF;\n"
    "  PERFORM tams_stats_batch_add(p_flow, p_lo, p_hi, p_obj, sel, fresh, tail);\n"
    "END\n"
    "$f$;"
    "INSERT INTO flow_stats(flow_id, segments, covered, first_lo, last_hi)"
    " SELECT flow_id, count(*), sum(hi - lo + 1), min(lo), max(hi) FROM segments"
    " GROUP BY flow_id;"
    "INSERT INTO flow_stats(flow_id) SELECT DISTINCT flow_id FROM object_refs"
    " ON CONFLICT(flow_id) DO NOTHING;"
    "UPDATE flow_stats SET objects = r.n, unsized = r.n FROM (SELECT flow_id, count(*) AS n"
    " FROM object_refs GROUP BY flow_id) r WHERE r.flow_id = flow_stats.flow_id;"
    "INSERT INTO flow_gaps(flow_id, lo, hi) SELECT flow_id, prev_hi + 1, lo - 1 FROM"
    " (SELECT flow_id, lo, lag(hi) OVER (PARTITION BY flow_id ORDER BY lo) AS prev_hi"
    " FROM segments) x WHERE prev_hi + 1 < lo;"
    "INSERT INTO flow_storage_stats(flow_id, storage_id, segments)"
    " SELECT s.flow_id, coalesce(o.storage_id, ''), count(*) FROM segments s"
    " LEFT JOIN objects o ON o.id = s.object_id GROUP BY 1, 2;",
    /* 10: soft delete, as SQLite's 6. */
    BIN_SCHEMA(TXT, " BIGINT", ""),
    /* 11: TAMS 8.2 webhooks, as SQLite's 7. */
    "ALTER TABLE webhooks ADD COLUMN status TEXT NOT NULL DEFAULT 'started',"
    " ADD COLUMN error TEXT, ADD COLUMN api TEXT NOT NULL DEFAULT '7.0',"
    " ADD COLUMN prefix TEXT NOT NULL DEFAULT '';",
    /* 12: TAMS 8.2 object instances, as SQLite's 8. */
    "ALTER TABLE objects ADD COLUMN instances TEXT;",
    /* 13: TAMS 8.2 segments and objects, as SQLite's 9. tams_segments_add is untouched: the
     * registration writes these columns after it, for the items that carry them (init
     * objects: init_objects.c). */
    "ALTER TABLE segments ADD COLUMN object_timerange TEXT;"
    "ALTER TABLE bin_segments ADD COLUMN object_timerange TEXT;"
    "ALTER TABLE objects ADD COLUMN timerange TEXT;" INIT_OBJECTS_SCHEMA,
    /* 14: TAMS 8.2 tags and list orders, as SQLite's 10. */
    "ALTER TABLE source_tags ADD COLUMN pos INTEGER NOT NULL DEFAULT -1,"
    " ALTER COLUMN value DROP NOT NULL, DROP CONSTRAINT source_tags_pkey,"
    " ADD PRIMARY KEY(source_id, name, pos);"
    "ALTER TABLE flow_tags ADD COLUMN pos INTEGER NOT NULL DEFAULT -1,"
    " ALTER COLUMN value DROP NOT NULL, DROP CONSTRAINT flow_tags_pkey,"
    " ADD PRIMARY KEY(flow_id, name, pos);"
    "ALTER TABLE bin_source_tags ADD COLUMN pos INTEGER NOT NULL DEFAULT -1,"
    " ALTER COLUMN value DROP NOT NULL, DROP CONSTRAINT bin_source_tags_pkey,"
    " ADD PRIMARY KEY(bin_id, name, pos);"
    "ALTER TABLE bin_flow_tags ADD COLUMN pos INTEGER NOT NULL DEFAULT -1,"
    " ALTER COLUMN value DROP NOT NULL, DROP CONSTRAINT bin_flow_tags_pkey,"
    " ADD PRIMARY KEY(bin_id, name, pos);"
    "CREATE INDEX sources_created ON sources(created, id);"
    "CREATE INDEX sources_updated ON sources(updated, id);"
    "CREATE INDEX flows_created ON flows(created, id);"
    "CREATE INDEX flows_metadata_updated ON flows(metadata_updated, id);",
    /* 15: registration reads its batch as rows of segments: a JSON array whose members are
     * named as the table's columns, through json_populate_recordset over the table's row type,
     * staged once as an array of rows (it) and written with `INSERT INTO segments SELECT *`.
     * A column segments gains travels with no change here, only the line of segments.c that
     * writes its member (seg_row). The usual batch (no overlap with the flow or within the
     * batch, every object usable) is written set-based, the others item by item with the same
     * outcome per item as entry 5. 8.2's object_timerange and init_object_id (13) travel as NULL
     * here and are written after the call (segments.c, q_seg_8x_many). An object is claimed,
     * unstamped and given the size the caller learnt (a member object_size beside the columns) by
     * one UPDATE, where the sizes were one statement of their own before the call (61 ms of a 220
     * ms batch under load, pg_stat_statements in bench/pg.sh). */
    "DROP FUNCTION tams_segments_add(text, text, bigint[], bigint[], int[], int[], text[],"
    " bigint[], bigint[], bigint[], bigint[], bigint[], text[]);"
    "CREATE FUNCTION tams_segments_add(p_flow text, p_now text, p_rows json)"
    " RETURNS TABLE(r_code int, r_lo bigint, r_hi bigint, r_lo_incl int, r_hi_incl int)"
    " LANGUAGE plpgsql AS $f$\n"
    "DECLARE\n"
    "  it segments[];\n"
    "  v_lo bigint[];\n"
    "  v_hi bigint[];\n"
    "  v_ob text[];\n"
    "  n int;\n"
    "  tail bigint;\n"
    "  clean boolean := false;\n"
    "  prev record;\n"
    "  obj record;\n"
    "  run_obj text := NULL;\n"
    "  run_n bigint := 0;\n"
    "  c bigint;\n"
    "  sel boolean[];\n"
    "  fresh text[];\n"
    "  sz_id text[];\n"
    "  sz bigint[];\n"
    "BEGIN\n"
    "  SELECT array_agg(x.object_id), array_agg(x.object_size) INTO sz_id, sz\n"
    "    FROM json_to_recordset(p_rows) AS x(object_id text, object_size bigint)\n"
    "    WHERE x.object_size IS NOT NULL;\n"
    "  SELECT array_agg(r), array_agg(r.lo), array_agg(r.hi), array_agg(r.object_id)\n"
    "    INTO it, v_lo, v_hi, v_ob FROM json_populate_recordset(json_populate_record(\n"
    "      NULL::segments, json_build_object('flow_id', p_flow)), p_rows) AS r;\n"
    "  n := coalesce(array_length(it, 1), 0);\n"
    "  PERFORM 1 FROM flows WHERE id = p_flow FOR KEY SHARE;\n"
    "  IF NOT FOUND THEN\n"
    "    RAISE foreign_key_violation USING MESSAGE = 'no flow ' || p_flow;\n"
    "  END IF;\n"
    "  SELECT s.hi INTO tail FROM segments s WHERE s.flow_id = p_flow\n"
    "    ORDER BY s.lo DESC LIMIT 1;\n"
    "  IF n > 1 THEN\n"
    "    PERFORM 1 FROM objects o WHERE o.id = ANY(v_ob) FOR KEY SHARE;\n"
    "    WITH b AS (SELECT u.lo, u.hi, u.object_id AS ob, u.get_urls AS urls, u.ordinality AS i\n"
    "      FROM unnest(it) WITH ORDINALITY AS u)\n"
    "    SELECT NOT EXISTS (SELECT 1 FROM (SELECT b.lo, lag(b.hi) OVER (ORDER BY b.lo) AS prev_hi\n"
    "        FROM b) x WHERE x.lo <= x.prev_hi)\n"
    "      AND (tail IS NULL OR (SELECT min(b.lo) FROM b) > tail OR NOT EXISTS (\n"
    "        SELECT 1 FROM b, LATERAL (SELECT s.hi FROM segments s WHERE s.flow_id = p_flow\n"
    "          AND s.lo <= b.hi ORDER BY s.lo DESC LIMIT 1) p WHERE p.hi >= b.lo))\n"
    "      AND NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (b.ob) b.ob, b.urls FROM b\n"
    "          ORDER BY b.ob, b.i) f LEFT JOIN objects o ON o.id = f.ob\n"
    "        WHERE (o.id IS NULL AND f.urls IS NULL) OR (o.id IS NOT NULL\n"
    "          AND o.first_referenced_by_flow IS NULL AND o.allocated_for_flow <> p_flow))\n"
    "    INTO clean;\n"
    "    IF clean THEN\n"
    "      UPDATE objects o SET first_referenced_by_flow =\n"
    "          coalesce(o.first_referenced_by_flow, p_flow), unreferenced_at = NULL,\n"
    "          size = coalesce(f.size, o.size)\n"
    "        FROM (SELECT u.ob, max(z.size) AS size FROM unnest(v_ob) AS u(ob)\n"
    "          LEFT JOIN unnest(sz_id, sz) AS z(id, size) ON z.id = u.ob GROUP BY u.ob) f\n"
    "        WHERE o.id = f.ob AND (o.first_referenced_by_flow IS NULL\n"
    "          OR o.unreferenced_at IS NOT NULL OR o.size IS DISTINCT FROM coalesce(f.size, o.size));\n"
    "      INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,\n"
    "        first_referenced_by_flow, created)\n"
    "        SELECT DISTINCT u.ob, NULL::text, '', 0, NULL::text, p_flow, p_now\n"
    "        FROM unnest(v_ob) AS u(ob)\n"
    "        WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.id = u.ob);\n"
    "      INSERT INTO segments SELECT * FROM unnest(it);\n"
    "      WITH b AS (SELECT u.ob, count(*) AS c FROM unnest(v_ob) AS u(ob) GROUP BY u.ob),\n"
    "      r AS (INSERT INTO object_refs(object_id, flow_id, count)\n"
    "        SELECT b.ob, p_flow, b.c FROM b ON CONFLICT(object_id, flow_id)\n"
    "        DO UPDATE SET count = object_refs.count + excluded.count\n"
    "        RETURNING object_refs.object_id, object_refs.count)\n"
    "      SELECT array_agg(r.object_id) INTO fresh FROM r JOIN b ON b.ob = r.object_id\n"
    "        WHERE r.count = b.c;\n"
    "      PERFORM tams_stats_batch_add(p_flow, v_lo, v_hi, v_ob, NULL, fresh, tail);\n"
    "      RETURN QUERY SELECT 0, NULL::bigint, NULL::bigint, NULL::int, NULL::int\n"
    "        FROM generate_series(1, n);\n"
    "      RETURN;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  UPDATE objects o SET size = z.size FROM unnest(sz_id, sz) AS z(id, size)\n"
    "    WHERE o.id = z.id AND o.size IS DISTINCT FROM z.size;\n"
    "  sel := array_fill(false, ARRAY[n]);\n"
    "  FOR i IN 1 .. n LOOP\n"
    "    r_code := 0; r_lo := NULL; r_hi := NULL; r_lo_incl := NULL; r_hi_incl := NULL;\n"
    "    SELECT s.lo, s.hi, s.start_incl, s.end_incl INTO prev FROM segments s\n"
    "      WHERE s.flow_id = p_flow AND s.lo <= v_hi[i] ORDER BY s.lo DESC LIMIT 1;\n"
    "    IF FOUND AND prev.hi >= v_lo[i] THEN\n"
    "      r_code := 1; r_lo := prev.lo; r_hi := prev.hi;\n"
    "      r_lo_incl := prev.start_incl; r_hi_incl := prev.end_incl;\n"
    "      RETURN NEXT; CONTINUE;\n"
    "    END IF;\n"
    "    SELECT o.allocated_for_flow, o.first_referenced_by_flow IS NOT NULL AS registered\n"
    "      INTO obj FROM objects o WHERE o.id = v_ob[i] FOR KEY SHARE;\n"
    "    IF NOT FOUND THEN\n"
    "      IF (it[i]).get_urls IS NULL THEN r_code := 3; RETURN NEXT; CONTINUE; END IF;\n"
    "      INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,\n"
    "        first_referenced_by_flow, created) VALUES (v_ob[i], NULL, '', 0, NULL, p_flow, p_now);\n"
    "    ELSIF NOT obj.registered THEN\n"
    "      IF obj.allocated_for_flow IS NOT NULL AND obj.allocated_for_flow <> p_flow THEN\n"
    "        r_code := 2; RETURN NEXT; CONTINUE;\n"
    "      END IF;\n"
    "      UPDATE objects SET first_referenced_by_flow = p_flow\n"
    "        WHERE id = v_ob[i] AND first_referenced_by_flow IS NULL;\n"
    "    END IF;\n"
    "    INSERT INTO segments SELECT (it[i]).*;\n"
    "    sel[i] := true;\n"
    "    IF run_n > 0 AND run_obj <> v_ob[i] THEN\n"
    "      INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"
    "        ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count\n"
    "        RETURNING count INTO c;\n"
    "      IF c = run_n THEN fresh := array_append(fresh, run_obj); END IF;\n"
    "      UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"
    "      run_n := 0;\n"
    "    END IF;\n"
    "    run_obj := v_ob[i]; run_n := run_n + 1;\n"
    "    RETURN NEXT;\n"
    "  END LOOP;\n"
    "  IF run_n > 0 THEN\n"
    "    INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"
    "      ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count\n"
    "      RETURNING count INTO c;\n"
    "    IF c = run_n THEN fresh := array_append(fresh, run_obj); END IF;\n"
    "    UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"
    "  END IF;\n"
    "  PERFORM tams_stats_batch_add(p_flow, v_lo, v_hi, v_ob, sel, fresh, tail);\n"
    "END\n"
    "$f$;",
    /* 16: soft delete keeps the deleted flow's memberships, as SQLite's 11. */
    BIN_MEMBERSHIPS(TXT, " BIGINT", ""),
    /* 17: the deletion trigger's gap rules per run of deleted segments, not per segment. After
     * the statement the deleted rows are dead entries of the index, so the seek for a deleted
     * segment's surviving predecessor walked back over every deleted one before it: quadratic,
     * 821 ms of an 827 ms DELETE of 2,000 segments (bench/soft_delete.py, EXPLAIN ANALYZE).
     * The deleted segments of a flow with no survivor between them (a run) share their
     * surviving neighbours, so the rules are applied once per run, and finding the runs seeks
     * only between consecutive deleted segments, where nothing was deleted. */
    "CREATE OR REPLACE FUNCTION tams_stats_segments_del() RETURNS trigger LANGUAGE plpgsql"
    " AS $f$\n"
    "DECLARE\n"
    "  rf text[];\n"
    "  rp bigint[];\n"
    "  rn bigint[];\n"
    "BEGIN\n"
    "  UPDATE flow_stats a SET segments = a.segments - d.n, covered = a.covered - d.c,\n"
    "    first_lo = (SELECT s.lo FROM segments s WHERE s.flow_id = a.flow_id\n"
    "      ORDER BY s.lo LIMIT 1),\n"
    "    last_hi = (SELECT s.hi FROM segments s WHERE s.flow_id = a.flow_id\n"
    "      ORDER BY s.lo DESC LIMIT 1)\n"
    "    FROM (SELECT flow_id, count(*) AS n, sum(hi - lo + 1) AS c FROM od GROUP BY flow_id) d\n"
    "    WHERE a.flow_id = d.flow_id;\n"
    "  WITH x AS (SELECT o.flow_id, o.lo,\n"
    "      lag(o.lo) OVER (PARTITION BY o.flow_id ORDER BY o.lo) AS p_lo FROM od o),\n"
    "    y AS (SELECT x.flow_id, x.lo, x.p_lo IS NULL OR EXISTS (SELECT 1 FROM segments s\n"
    "      WHERE s.flow_id = x.flow_id AND s.lo > x.p_lo AND s.lo < x.lo) AS starts FROM x),\n"
    "    z AS (SELECT y.flow_id, y.lo, sum(CASE WHEN y.starts THEN 1 ELSE 0 END)\n"
    "      OVER (PARTITION BY y.flow_id ORDER BY y.lo) AS run FROM y),\n"
    "    r AS (SELECT z.flow_id, min(z.lo) AS first, max(z.lo) AS last FROM z\n"
    "      GROUP BY z.flow_id, z.run)\n"
    "  SELECT array_agg(r.flow_id), array_agg((SELECT s.hi FROM segments s\n"
    "      WHERE s.flow_id = r.flow_id AND s.lo < r.first ORDER BY s.lo DESC LIMIT 1)),\n"
    "    array_agg((SELECT s.lo FROM segments s WHERE s.flow_id = r.flow_id AND s.lo > r.last\n"
    "      ORDER BY s.lo LIMIT 1)) INTO rf, rp, rn FROM r;\n"
    "  DELETE FROM flow_gaps g USING unnest(rf, rp, rn) AS u(flow_id, p_hi, n_lo)\n"
    "    WHERE g.flow_id = u.flow_id AND g.lo > coalesce(u.p_hi, -9223372036854775807)\n"
    "    AND g.lo < coalesce(u.n_lo, 9223372036854775807);\n"
    "  INSERT INTO flow_gaps(flow_id, lo, hi) SELECT DISTINCT u.flow_id, u.p_hi + 1, u.n_lo - 1\n"
    "    FROM unnest(rf, rp, rn) AS u(flow_id, p_hi, n_lo) WHERE u.p_hi + 1 < u.n_lo\n"
    "    ON CONFLICT(flow_id, lo) DO NOTHING;\n"
    "  UPDATE flow_storage_stats a SET segments = a.segments - d.n\n"
    "    FROM (SELECT o.flow_id, coalesce(x.storage_id, '') AS sid, count(*) AS n FROM od o\n"
    "      LEFT JOIN objects x ON x.id = o.object_id GROUP BY 1, 2) d\n"
    "    WHERE a.flow_id = d.flow_id AND a.storage_id = d.sid;\n"
    "  RETURN NULL;\n"
    "END\n"
    "$f$;",
    /* 18 (TAMS 8.2): as SQLite's 12, Profiles, and video flows without frame_rate get vfr true. */
    "CREATE TABLE profiles(id" TXT " PRIMARY KEY, label" TXT ", format" TXT " NOT NULL,"
    " codec" TXT ", doc TEXT NOT NULL, created" TXT " NOT NULL, created_by TEXT);"
    "CREATE INDEX profiles_label ON profiles(label, id);"
    "CREATE INDEX profiles_format ON profiles(format, id);"
    "UPDATE flows SET doc = jsonb_set(doc::jsonb, '{essence_parameters,vfr}', 'true')::text"
    " WHERE format = 'urn:x-nmos:format:video'"
    " AND jsonb_typeof(doc::jsonb -> 'essence_parameters') = 'object'"
    " AND doc::jsonb #> '{essence_parameters,frame_rate}' IS NULL"
    " AND doc::jsonb #> '{essence_parameters,vfr}' IS NULL;"
    "UPDATE bin_flows SET doc = jsonb_set(doc::jsonb, '{essence_parameters,vfr}', 'true')::text"
    " WHERE format = 'urn:x-nmos:format:video'"
    " AND jsonb_typeof(doc::jsonb -> 'essence_parameters') = 'object'"
    " AND doc::jsonb #> '{essence_parameters,frame_rate}' IS NULL"
    " AND doc::jsonb #> '{essence_parameters,vfr}' IS NULL;",
    /* 19: as SQLite's 13, the expressions as store/flows.c writes them for PostgreSQL. */
    "CREATE INDEX flows_status ON flows(((doc::jsonb ->> 'status')), id);"
    "CREATE INDEX flows_profile ON flows(((doc::jsonb ->> 'profile_id')), id);"
    "CREATE INDEX flows_init_segments ON flows("
    "(coalesce(doc::jsonb #>> '{essence_parameters,init_segments}', 'false')), id);",
    /* 20: registration reads the batch's objects once (schema_pg_add.c). */
    tams_schema_pg_segments_add_v3};
const size_t tams_schema_pg_count = TAMS_ARRAY_SIZE(tams_schema_pg);
