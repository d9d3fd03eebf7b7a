/* SPDX-License-Identifier: Apache-2.0 */
/* sqlite.c - the SQLite metadata store: one connection per thread, cached statements, WAL. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "store/backend_int.h"
#include "store/cursor.h"
#include "store/outbox.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000
#define SQL_MAX 16384      /* generated listing SQL: fits MAX_TAG_FILTERS and every other filter */
#define MAX_TAG_FILTERS 64 /* more tag.* / tag_exists.* parameters in one query is BADQUERY */

/* ---- schema ------------------------------------------------------------------------------ */

/* Ordered migrations; migration i brings PRAGMA user_version from i to i + 1. Never edit a
 * shipped entry: append a new one. docs/internals/store.md explains every table and index. */
static const char *const migrations[] = {
    /* 1: the whole shape of design.md. */
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

/* ---- cached statements ------------------------------------------------------------------- */

/* Columns of a flow record, in the order flow_rec_read() reads them. collected_by is folded into
 * the same statement (ids are UUIDs, so ',' is a safe separator) so one step gives one record. */
#define FLOW_COLS                                                                                  \
    "f.id, f.doc, f.created, f.metadata_updated, f.segments_updated, f.created_by,"                \
    " f.updated_by, f.read_only, (SELECT group_concat(x.collector_id, ',') FROM (SELECT DISTINCT"  \
    " c.collector_id FROM flow_collection c WHERE c.member_id = f.id ORDER BY 1) x)"

/* A page of segments whose lo lies in [?2, ?3], in one order, at most ?5 rows; objects joined
 * for what get_urls are built from (LEFT: a segment whose object row is missing still lists).
 * Columns in the order seg_rec_read() reads them. Every shape is a range of the primary key
 * (flow_id, lo), or of segments_object, which in a WITHOUT ROWID table is keyed
 * (object_id, flow_id, lo): no scan, no sort. */
#define SEG_LIST_SQL(cond, order)                                                                  \
    "SELECT s.lo, s.hi, s.start_incl, s.end_incl, s.object_id, s.ts_offset, s.last_duration,"      \
    " s.sample_offset, s.sample_count, s.key_frame_count, s.get_urls, o.controlled,"               \
    " o.storage_id, o.key FROM segments s LEFT JOIN objects o ON o.id = s.object_id"               \
    " WHERE s.flow_id = ?1 AND s.lo BETWEEN ?2 AND ?3" cond " " order " LIMIT ?5"

/* Segments of flow ?1 wholly inside [?2 .. ?4] whose lo is at most ?3 (a batch's end), with
 * SEG_SEL_OBJ only those of object ?5. Segments never overlap, so hi grows with lo: the rows are
 * one range of the primary key (or of segments_object), plus at most one straddler at the end
 * that `hi <= ?4` drops. */
#define SEG_SEL_SQL(head, cond, tail)                                                              \
    head " FROM segments WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3 AND hi <= ?4" cond tail
#define SEG_SEL_OBJ " AND object_id = ?5"

/* Columns of a deletion request, in the order dr_rec_read() reads them. */
#define DR_COLS                                                                                    \
    "id, flow_id, timerange_to_delete, timerange_remaining, delete_flow, status, created,"         \
    " created_by, updated, expiry, error"

#define STMTS(XX)                                                                                   \
    XX(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    XX(BEGIN_READ, "BEGIN")                                                                         \
    XX(COMMIT, "COMMIT")                                                                            \
    XX(ROLLBACK, "ROLLBACK")                                                                        \
    XX(PING, "SELECT 1")                                                                            \
    XX(SETTING_GET, "SELECT value FROM settings WHERE key = ?1")                                    \
    XX(SETTING_SET, "INSERT INTO settings(key, value) VALUES (?1, ?2)"                              \
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value")                       \
    XX(SETTING_DEL, "DELETE FROM settings WHERE key = ?1")                                          \
    XX(FLOW_STATE, "SELECT read_only, source_id, doc, deleting FROM flows WHERE id = ?1")           \
    XX(FLOW_EXISTS, "SELECT 1 FROM flows WHERE id = ?1 AND deleting = 0")                           \
    XX(SOURCE_FORMAT, "SELECT format FROM sources WHERE id = ?1")                                   \
    XX(SOURCE_INSERT, "INSERT INTO sources(id, format, created, updated, created_by, updated_by)"   \
                      " VALUES (?1, ?2, ?3, ?3, ?4, ?4)")                                           \
    XX(FLOW_UPSERT,                                                                                 \
       "INSERT INTO flows(id, source_id, format, codec, container, label, frame_width,"             \
       " frame_height, read_only, doc, created, metadata_updated, created_by, updated_by)"          \
       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?12)"                      \
       " ON CONFLICT(id) DO UPDATE SET source_id = excluded.source_id, format = excluded.format,"   \
       " codec = excluded.codec, container = excluded.container, label = excluded.label,"           \
       " frame_width = excluded.frame_width, frame_height = excluded.frame_height,"                 \
       " read_only = excluded.read_only, doc = excluded.doc,"                                       \
       " metadata_updated = excluded.metadata_updated, updated_by = excluded.updated_by")           \
    XX(FLOW_TAGS_DEL, "DELETE FROM flow_tags WHERE flow_id = ?1")                                   \
    XX(FLOW_TAG_INS, "INSERT OR REPLACE INTO flow_tags(flow_id, name, value) VALUES (?1, ?2, ?3)")  \
    XX(COLL_DEL, "DELETE FROM flow_collection WHERE collector_id = ?1")                             \
    XX(COLL_INS, "INSERT INTO flow_collection(collector_id, member_id, role, position)"             \
                 " VALUES (?1, ?2, ?3, ?4)")                                                        \
    XX(COLL_DEL_MEMBER, "DELETE FROM flow_collection WHERE member_id = ?1")                         \
    XX(COLLECTORS_OF, "SELECT DISTINCT collector_id FROM flow_collection WHERE member_id = ?1"      \
                      " AND collector_id <> ?1 ORDER BY 1")                                         \
    XX(SOURCE_HAS_FLOWS, "SELECT 1 FROM flows WHERE source_id = ?1 LIMIT 1")                        \
    XX(SOURCE_DEL, "DELETE FROM sources WHERE id = ?1")                                             \
    XX(FLOW_GET, "SELECT " FLOW_COLS " FROM flows f WHERE f.id = ?1 AND f.deleting = 0")            \
    XX(FLOW_SET_DOC, "UPDATE flows SET doc = ?2, metadata_updated = ?3 WHERE id = ?1")              \
    XX(SEG_DEL_FLOW, "DELETE FROM segments WHERE flow_id = ?1")                                     \
    XX(REFS_DEL_FLOW, "DELETE FROM object_refs WHERE flow_id = ?1")                                 \
    XX(FLOW_DEL, "DELETE FROM flows WHERE id = ?1")                                                 \
    XX(SEG_LAST_LE, "SELECT lo, hi, start_incl, end_incl FROM segments WHERE flow_id = ?1"          \
                    " AND lo <= ?2 ORDER BY lo DESC LIMIT 1")                                       \
    XX(SEG_FIRST_GT, "SELECT lo, hi, start_incl, end_incl FROM segments WHERE flow_id = ?1"         \
                     " AND lo > ?2 ORDER BY lo LIMIT 1")                                            \
    XX(SOURCE_TAGS, "SELECT name, value FROM source_tags WHERE source_id = ?1 ORDER BY name")       \
    XX(SOURCE_COLLECTION,                                                                           \
       "SELECT DISTINCT g.source_id, c.role FROM flows f"                                           \
       " JOIN flow_collection c ON c.collector_id = f.id JOIN flows g ON g.id = c.member_id"        \
       " WHERE f.source_id = ?1 ORDER BY 1, 2")                                                     \
    XX(SOURCE_COLLECTED_BY,                                                                         \
       "SELECT DISTINCT f.source_id FROM flows g"                                                   \
       " JOIN flow_collection c ON c.member_id = g.id JOIN flows f ON f.id = c.collector_id"        \
       " WHERE g.source_id = ?1 ORDER BY 1")                                                        \
    XX(SOURCE_SET_LABEL, "UPDATE sources SET label = ?2, updated = ?3, updated_by = ?4"             \
                         " WHERE id = ?1")                                                          \
    XX(SOURCE_SET_DESC, "UPDATE sources SET description = ?2, updated = ?3, updated_by = ?4"        \
                        " WHERE id = ?1")                                                           \
    XX(SOURCE_TOUCH, "UPDATE sources SET updated = ?2, updated_by = ?3 WHERE id = ?1")              \
    XX(SOURCE_TAG_SET, "INSERT INTO source_tags(source_id, name, value) VALUES (?1, ?2, ?3)"        \
                       " ON CONFLICT(source_id, name) DO UPDATE SET value = excluded.value")        \
    XX(SOURCE_TAG_DEL, "DELETE FROM source_tags WHERE source_id = ?1 AND name = ?2")                \
    XX(MEDIA_FLOW, "SELECT read_only, container IS NOT NULL FROM flows WHERE id = ?1"               \
                   " AND deleting = 0")                                                             \
    XX(OBJ_STATE, "SELECT allocated_for_flow, first_referenced_by_flow IS NOT NULL FROM objects"    \
                  " WHERE id = ?1")                                                                 \
    XX(OBJ_INS_UNCONTROLLED,                                                                        \
       "INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,"                   \
       " first_referenced_by_flow, created) VALUES (?1, NULL, '', 0, NULL, ?2, ?3)")                \
    XX(OBJ_CLAIM, "UPDATE objects SET first_referenced_by_flow = ?2, unreferenced_at = NULL"        \
                  " WHERE id = ?1 AND first_referenced_by_flow IS NULL"                             \
                  " AND allocated_for_flow = ?2")                                                   \
    XX(OBJ_SET_FIRST, "UPDATE objects SET first_referenced_by_flow = ?2 WHERE id = ?1"              \
                      " AND first_referenced_by_flow IS NULL")                                      \
    XX(SEG_INSERT,                                                                                  \
       "INSERT INTO segments(flow_id, lo, hi, start_incl, end_incl, object_id, ts_offset,"          \
       " last_duration, sample_offset, sample_count, key_frame_count, get_urls)"                    \
       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")                               \
    XX(REF_ADD, "INSERT INTO object_refs(object_id, flow_id, count) VALUES (?1, ?2, ?3)"            \
                " ON CONFLICT(object_id, flow_id) DO UPDATE SET count = count + excluded.count")    \
    XX(FLOW_SEG_TOUCH, "UPDATE flows SET segments_updated = ?2 WHERE id = ?1")                      \
    XX(OBJ_EXISTS, "SELECT 1 FROM objects WHERE id = ?1")                                           \
    XX(OBJ_INSERT, "INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,"       \
                   " created) VALUES (?1, ?2, ?3, 1, ?4, ?5)")                                      \
    XX(OBJ_FIRST_REF, "SELECT first_referenced_by_flow FROM objects WHERE id = ?1")                 \
    XX(OBJ_HAS_REFS, "SELECT 1 FROM object_refs WHERE object_id = ?1 LIMIT 1")                      \
    XX(OBJ_REF_FLOWS, "SELECT r.flow_id FROM object_refs r JOIN flows f ON f.id = r.flow_id"        \
                      " WHERE r.object_id = ?1 AND r.flow_id > ?2 AND f.deleting = 0"               \
                      " ORDER BY r.flow_id LIMIT ?3")                                               \
    XX(OBJ_HAS_VISIBLE_REFS, "SELECT 1 FROM object_refs r JOIN flows f ON f.id = r.flow_id"         \
                             " WHERE r.object_id = ?1 AND f.deleting = 0 LIMIT 1")                  \
    XX(SEG_LIST, SEG_LIST_SQL("", "ORDER BY s.lo"))                                                 \
    XX(SEG_LIST_REV, SEG_LIST_SQL("", "ORDER BY s.lo DESC"))                                        \
    XX(SEG_LIST_OBJ, SEG_LIST_SQL(" AND s.object_id = ?4", "ORDER BY s.lo"))                        \
    XX(SEG_LIST_OBJ_REV, SEG_LIST_SQL(" AND s.object_id = ?4", "ORDER BY s.lo DESC"))               \
    XX(FLOW_HIDDEN, "SELECT 1 FROM flows WHERE id = ?1 AND deleting = 1")                           \
    XX(FLOW_HIDE, "UPDATE flows SET deleting = 1 WHERE id = ?1")                                    \
    XX(SEG_SEL_NTH, SEG_SEL_SQL("SELECT lo, start_incl", "", " ORDER BY lo LIMIT 1 OFFSET ?6"))     \
    XX(SEG_SEL_NTH_OBJ,                                                                             \
       SEG_SEL_SQL("SELECT lo, start_incl", SEG_SEL_OBJ, " ORDER BY lo LIMIT 1 OFFSET ?6"))         \
    XX(SEG_SEL_COUNT, "SELECT count(*) FROM (" SEG_SEL_SQL("SELECT 1", "", " LIMIT ?6") ")")        \
    XX(SEG_SEL_REFS, SEG_SEL_SQL("SELECT object_id, count(*)", "", " GROUP BY object_id"))          \
    XX(SEG_SEL_REFS_OBJ,                                                                            \
       SEG_SEL_SQL("SELECT object_id, count(*)", SEG_SEL_OBJ, " GROUP BY object_id"))               \
    XX(SEG_SEL_DEL, SEG_SEL_SQL("DELETE", "", ""))                                                  \
    XX(SEG_SEL_DEL_OBJ, SEG_SEL_SQL("DELETE", SEG_SEL_OBJ, ""))                                     \
    XX(REF_SUB, "UPDATE object_refs SET count = count - ?3 WHERE object_id = ?1 AND flow_id = ?2"   \
                " AND count > ?3")                                                                  \
    XX(REF_DEL, "DELETE FROM object_refs WHERE object_id = ?1 AND flow_id = ?2")                    \
    XX(OBJ_UNREF, "UPDATE objects SET unreferenced_at = ?2 WHERE id = ?1"                           \
                  " AND NOT EXISTS (SELECT 1 FROM object_refs WHERE object_id = ?1)")               \
    XX(OBJ_UNREF_FLOW,                                                                              \
       "UPDATE objects SET unreferenced_at = ?2 WHERE id IN (SELECT object_id FROM object_refs"     \
       " WHERE flow_id = ?1) AND NOT EXISTS (SELECT 1 FROM object_refs r"                           \
       " WHERE r.object_id = objects.id AND r.flow_id <> ?1)")                                      \
    XX(OBJ_REREF, "UPDATE objects SET unreferenced_at = NULL WHERE id = ?1"                         \
                  " AND unreferenced_at IS NOT NULL")                                               \
    XX(DR_INSERT,                                                                                   \
       "INSERT INTO deletion_requests(id, flow_id, sel_lo, sel_hi, timerange_to_delete,"            \
       " to_delete_hi, to_delete_hi_incl, timerange_remaining, delete_flow, status, created,"       \
       " created_by, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?5, ?8, 'created', ?9, ?10, ?9)") \
    XX(DR_GET, "SELECT " DR_COLS " FROM deletion_requests WHERE id = ?1"                            \
               " AND (expiry IS NULL OR expiry > ?2)")                                              \
    XX(DR_LIST, "SELECT " DR_COLS " FROM deletion_requests WHERE expiry IS NULL OR expiry > ?1"     \
                " ORDER BY created, id")                                                            \
    XX(DR_NEXT, "SELECT id, flow_id, sel_lo, sel_hi, to_delete_hi, to_delete_hi_incl,"              \
                " delete_flow FROM deletion_requests WHERE status IN ('created', 'started')"        \
                " ORDER BY created LIMIT 1")                                                        \
    XX(DR_PROGRESS, "UPDATE deletion_requests SET status = 'started', timerange_remaining = ?2,"    \
                    " updated = ?3 WHERE id = ?1")                                                  \
    XX(DR_FINISH, "UPDATE deletion_requests SET status = ?2, timerange_remaining = ?3,"             \
                  " updated = ?4, expiry = ?5, error = ?6 WHERE id = ?1")                           \
    XX(DR_PURGE, "DELETE FROM deletion_requests WHERE expiry <= ?1")                                \
    XX(GC_UNREF, "SELECT id, controlled, storage_id, key FROM objects"                              \
                 " WHERE unreferenced_at IS NOT NULL AND unreferenced_at <= ?1"                     \
                 " ORDER BY unreferenced_at LIMIT ?2")                                              \
    XX(GC_UNUSED, "SELECT id, controlled, storage_id, key FROM objects"                             \
                  " WHERE first_referenced_by_flow IS NULL AND created <= ?1"                       \
                  " ORDER BY created LIMIT ?2")                                                     \
    XX(GC_TAKE, "DELETE FROM objects WHERE id = ?1"                                                 \
                " AND NOT EXISTS (SELECT 1 FROM object_refs WHERE object_id = ?1)")                 \
    XX(TRASH_INS, "INSERT INTO object_trash(object_id, storage_id, key, not_before)"                \
                  " VALUES (?1, ?2, ?3, ?4)")                                                       \
    XX(TRASH_DUE, "SELECT id, object_id, storage_id, key FROM object_trash"                         \
                  " WHERE not_before <= ?1 ORDER BY not_before LIMIT ?2")                           \
    XX(TRASH_DEL, "DELETE FROM object_trash WHERE id = ?1")                                         \
    XX(TRASH_RETRY, "UPDATE object_trash SET not_before = ?2 WHERE id = ?1")                        \
    XX(HOOKS_ANY, "SELECT 1 FROM webhooks WHERE rowid > 0 LIMIT 1")                                 \
    XX(EV_INSERT, "INSERT INTO events(type, ts, flow_id, source_id, flow_collected_by,"             \
                  " source_collected_by, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")             \
    XX(FLOW_SNAP, "SELECT f.source_id, (SELECT group_concat(x.collector_id, ',') FROM"              \
                  " (SELECT DISTINCT c.collector_id FROM flow_collection c"                         \
                  " WHERE c.member_id = f.id ORDER BY 1) x) FROM flows f WHERE f.id = ?1")          \
    XX(FLOW_GET_ANY, "SELECT " FLOW_COLS " FROM flows f WHERE f.id = ?1")                           \
    XX(SOURCE_GET, "SELECT src.id, src.format, src.label, src.description, src.created,"            \
                   " src.updated, src.created_by, src.updated_by FROM sources src"                  \
                   " WHERE src.id = ?1")                                                            \
    XX(OBJ_INFO, "SELECT controlled, storage_id, key FROM objects WHERE id = ?1")                   \
    XX(OBJ_UNREGISTERED, "SELECT storage_id, key, allocated_for_flow FROM objects WHERE id = ?1"    \
                         " AND controlled <> 0 AND first_referenced_by_flow IS NULL")               \
    XX(SEG_RUNS, "SELECT lo, hi, start_incl, end_incl, hi <= ?4 AND (?5 IS NULL OR"                 \
                 " object_id = ?5) FROM segments WHERE flow_id = ?1 AND lo BETWEEN ?2 AND ?3"       \
                 " ORDER BY lo")                                                                    \
    XX(WH_FIND, "SELECT id FROM webhooks WHERE url = ?1 AND api_key_name IS ?2"                     \
                " AND api_key_value IS ?3")                                                         \
    XX(WH_INSERT, "INSERT INTO webhooks(id, url, api_key_name, api_key_value, owner, doc,"          \
                  " created, cursor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE((SELECT seq"      \
                  " FROM sqlite_sequence WHERE name = 'events'), 0))")                              \
    XX(WH_UPDATE, "UPDATE webhooks SET doc = ?2 WHERE id = ?1")                                     \
    XX(WH_DELETE, "DELETE FROM webhooks WHERE id = ?1")                                             \
    XX(WH_LIST, "SELECT id, url, api_key_name, api_key_value, owner, doc, cursor FROM webhooks"     \
                " ORDER BY created, id")                                                            \
    XX(WH_ADVANCE, "UPDATE webhooks SET cursor = max(cursor, ?2) WHERE id = ?1")                    \
    XX(EV_AFTER, "SELECT seq, type, ts, flow_id, source_id, flow_collected_by,"                     \
                 " source_collected_by, payload FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")  \
    XX(EV_PURGE, "DELETE FROM events WHERE seq <= (SELECT COALESCE(min(cursor),"                    \
                 " (SELECT max(seq) FROM events)) FROM webhooks)")                                  \
    XX(EV_PENDING, "SELECT COALESCE(sum((SELECT count(*) FROM events e WHERE e.seq > w.cursor)),"   \
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

/* ---- connections ------------------------------------------------------------------------- */

struct conn {
    struct tams_store_be *st;
    sqlite3 *db;
    sqlite3_stmt *stmts[S__COUNT];
    struct conn *next; /* registry of the store */
    bool writing;      /* in a write transaction: holds the store's write_mu */
};

struct tams_store_be {
    char *path;
    uint64_t serial; /* unique per open, so a thread never reuses a closed store's connection */
    pthread_mutex_t mu;
    struct conn *conns;       /* every connection opened, by any thread; closed by close() */
    pthread_mutex_t write_mu; /* held by this process's one write transaction (tx_begin) */
    uint64_t generation;      /* bumped by every committed write (atomic), for read caches */

    /* Checkpoints run on their own thread, never inside a request's commit (which cost bulk
     * segment registration a quarter of its time). */
    pthread_t ckpt_thread;
    bool ckpt_running, ckpt_wanted;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
};

#define CKPT_PAGES 1000       /* WAL pages that make the checkpointer run at once */
#define CKPT_INTERVAL_MS 1000 /* and it runs at least this often while there is work */
/* WAL frames past which the checkpointer also restarts the log (about journal_size_limit). */
#define CKPT_RESTART_FRAMES 16384
#define CKPT_RESTART_WAIT_MS 100 /* longest a restart holds writers back waiting for readers */

/* Every committed write transaction of any connection. */
static int on_commit(void *arg)
{
    struct tams_store_be *st = arg;
    __atomic_fetch_add(&st->generation, 1, __ATOMIC_RELEASE);
    return 0;
}

/* Replaces SQLite's automatic checkpoint (sqlite3_wal_hook disables it): wake the
 * checkpointer instead of checkpointing in the committing thread. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct tams_store_be *st = arg;
    (void)db;
    (void)name;
    if (pages >= CKPT_PAGES) {
        pthread_mutex_lock(&st->ckpt_mu);
        st->ckpt_wanted = true;
        pthread_cond_signal(&st->ckpt_cv);
        pthread_mutex_unlock(&st->ckpt_mu);
    }
    return SQLITE_OK;
}

/* A thread's connections, by store serial. A thread usually serves one store; a few slots
 * cover tests that open several. A slot of a closed store is never matched again (serials are
 * not reused) and is overwritten when needed. */
#define TLS_SLOTS 4
static _Thread_local struct {
    uint64_t serial;
    struct conn *c;
} tls_conn[TLS_SLOTS];

static pthread_mutex_t serial_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_serial = 1;

/* Map an SQLite failure to our errors. BUSY/LOCKED (after busy_timeout) means the database is
 * away for now: UNAVAILABLE, so the client may retry. Anything else is logged and STORE. */
static int sqlerr(struct conn *c, int rc, const char *what)
{
    int primary = rc & 0xff;

    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        tams_log_warn("sqlite: %s: database busy", what);
        return TAMS_ERR_UNAVAILABLE;
    }
    tams_log_error("sqlite: %s: %s (%d)", what, c && c->db ? sqlite3_errmsg(c->db) : "", rc);
    return TAMS_ERR_STORE;
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < S__COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close_v2(c->db);
    tams_free(c);
}

static int conn_open(struct tams_store_be *st, struct conn **out)
{
    /* journal_size_limit: the WAL file keeps its high-water size (862 MB after a bench fill)
     * unless trimmed when a writer starts it over after a checkpoint. */
    static const char setup[] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                " PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864;";
    struct conn *c = tams_calloc(1, sizeof(*c));
    char *err = NULL;
    int rc;

    rc = sqlite3_open_v2(st->path, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        tams_log_error("sqlite: cannot open '%s': %s", st->path,
                       c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_close(c);
        return TAMS_ERR_STORE;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_commit_hook(c->db, on_commit, st);
    sqlite3_wal_hook(c->db, on_wal, st);
    c->st = st;
    rc = sqlite3_exec(c->db, setup, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        int e = sqlerr(c, rc, err ? err : "connection setup");
        sqlite3_free(err);
        conn_close(c);
        return e;
    }
    pthread_mutex_lock(&st->mu);
    c->next = st->conns;
    st->conns = c;
    pthread_mutex_unlock(&st->mu);
    *out = c;
    return 0;
}

/* This thread's connection to st, opened on first use. */
static int get_conn(struct tams_store_be *st, struct conn **out)
{
    size_t victim = 0;
    int rc;

    for (size_t i = 0; i < TLS_SLOTS; i++) {
        if (tls_conn[i].serial == st->serial) {
            *out = tls_conn[i].c;
            return 0;
        }
        if (tls_conn[i].serial < tls_conn[victim].serial)
            victim = i;
    }
    rc = conn_open(st, out);
    if (rc)
        return rc;
    tls_conn[victim].serial = st->serial;
    tls_conn[victim].c = *out;
    return 0;
}

/* A cached statement, reset and unbound; NULL (logged) if it cannot be prepared. */
static sqlite3_stmt *stmt(struct conn *c, enum sid id)
{
    if (!c->stmts[id]) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            tams_log_error("sqlite: cannot prepare statement %d: %s", (int)id,
                           sqlite3_errmsg(c->db));
            c->stmts[id] = NULL;
            return NULL;
        }
    }
    return c->stmts[id];
}

/* Every use of a cached statement ends here, so no statement holds a read snapshot open. */
static void done(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static void bind_int_opt(sqlite3_stmt *s, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static const char *col_str(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* Run a statement that returns no rows (or whose rows we ignore). */
static int exec_stmt(struct conn *c, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);

    while (rc == SQLITE_ROW)
        rc = sqlite3_step(s);
    done(s);
    return rc == SQLITE_DONE ? 0 : sqlerr(c, rc, what);
}

/* Step a one-row lookup: 1 = row (statement left on it; call done()), 0 = none, <0 = error. */
static int step_row(struct conn *c, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        return 1;
    done(s);
    return rc == SQLITE_DONE ? 0 : sqlerr(c, rc, what);
}

static int run(struct conn *c, enum sid id)
{
    sqlite3_stmt *s = stmt(c, id);

    return s ? exec_stmt(c, s, stmt_sql[id]) : TAMS_ERR_STORE;
}

/* SQLite lets one writer in at a time. The writers of this process queue on write_mu rather
 * than in SQLite's busy handler, which polls with sleeps growing to 100 ms, so a lock released
 * is taken at once (bulk registration from 4 connections: 103k -> 122k segments/s). Another
 * process on the same file still meets the busy handler. The wait has the same bound. */
static int tx_begin(struct conn *c)
{
    struct timespec until;
    int rc;

    tams_clock_deadline(&until, BUSY_TIMEOUT_MS);
    if ((rc = pthread_mutex_timedlock(&c->st->write_mu, &until)) != 0) {
        if (rc == EDEADLK) {
            tams_log_error("sqlite: a write transaction inside another on one thread");
            return TAMS_ERR_STORE;
        }
        tams_log_warn("sqlite: no turn to write within %d ms: database busy", BUSY_TIMEOUT_MS);
        return TAMS_ERR_UNAVAILABLE;
    }
    if ((rc = run(c, S_BEGIN)) == 0)
        c->writing = true;
    else
        pthread_mutex_unlock(&c->st->write_mu);
    return rc;
}

static int tx_begin_read(struct conn *c)
{
    return run(c, S_BEGIN_READ);
}

/* Commit on rc == 0, else roll back; returns the operation's result. */
static int tx_end(struct conn *c, int rc)
{
    if (rc == 0)
        rc = run(c, S_COMMIT);
    if (rc && !sqlite3_get_autocommit(c->db))
        (void)run(c, S_ROLLBACK);
    if (c->writing) {
        c->writing = false;
        pthread_mutex_unlock(&c->st->write_mu);
    }
    return rc;
}

/* ---- strings that live for one operation ------------------------------------------------- */

/* ---- open / close / ping / settings ------------------------------------------------------ */

static int read_user_version(struct conn *c, int *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : sqlerr(c, rc, "read schema version");
}

/* Each migration runs in its own IMMEDIATE transaction and re-reads the version inside it, so
 * two processes opening the same file at once apply each migration exactly once. */
static int migrate(struct conn *c)
{
    const int target = (int)TAMS_ARRAY_SIZE(migrations);

    for (;;) {
        char *err = NULL, pragma[64];
        int version = 0, rc = tx_begin(c);

        if (rc)
            return rc;
        rc = read_user_version(c, &version);
        if (rc == 0 && version > target) {
            tams_log_error("sqlite: schema version %d is newer than this tamsd knows (%d)", version,
                           target);
            rc = TAMS_ERR_STORE;
        }
        if (rc || version == target)
            return tx_end(c, rc);
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
        if (sqlite3_exec(c->db, migrations[version], NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(c->db, pragma, NULL, NULL, &err) != SQLITE_OK) {
            tams_log_error("sqlite: migration %d failed: %s", version + 1, err ? err : "");
            sqlite3_free(err);
            rc = TAMS_ERR_STORE;
        }
        rc = tx_end(c, rc);
        if (rc)
            return rc;
        tams_log_info("sqlite: schema migrated to version %d", version + 1);
    }
}

/* A passive checkpoint, and a RESTART when the log has grown long. Under a steady stream of
 * writes a passive checkpoint never catches up with the last frame, so no writer ever starts
 * the log over: it grows with every commit (862 MB during a 10,000-flow fill) and so does
 * every reader's search of it. RESTART waits, holding new writers back for at most
 * CKPT_RESTART_WAIT_MS, until readers are on the newest snapshot, copies the rest, and the
 * next writer starts the log over (cut back to journal_size_limit). Busy: next round. */
static void checkpoint(struct conn *c)
{
    int log = 0, done = 0;

    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (log < CKPT_RESTART_FRAMES)
        return;
    sqlite3_busy_timeout(c->db, CKPT_RESTART_WAIT_MS);
    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
}

static void *checkpointer(void *arg)
{
    struct tams_store_be *st = arg;
    struct conn *c = NULL;

    pthread_mutex_lock(&st->ckpt_mu);
    while (st->ckpt_running) {
        struct timespec until;
        tams_clock_deadline(&until, CKPT_INTERVAL_MS);
        if (!st->ckpt_wanted)
            pthread_cond_timedwait(&st->ckpt_cv, &st->ckpt_mu, &until);
        st->ckpt_wanted = false;
        if (!st->ckpt_running)
            break;
        pthread_mutex_unlock(&st->ckpt_mu);
        /* PASSIVE: copy what no reader still needs; never blocks writers or readers. */
        if (c || conn_open(st, &c) == 0)
            checkpoint(c);
        pthread_mutex_lock(&st->ckpt_mu);
    }
    pthread_mutex_unlock(&st->ckpt_mu);
    return NULL; /* c is in the store's registry; close() closes it */
}

static int checkpointer_start(struct tams_store_be *st)
{
    sigset_t all, old;
    int rc;
    st->ckpt_running = true;
    /* Signals belong to the main thread's sigwait(), whatever mask the caller has now. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&st->ckpt_thread, NULL, checkpointer, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        st->ckpt_running = false;
        tams_log_error("sqlite: cannot start the checkpoint thread");
        return TAMS_ERR_STORE;
    }
    return 0;
}

static void checkpointer_stop(struct tams_store_be *st)
{
    pthread_mutex_lock(&st->ckpt_mu);
    if (!st->ckpt_running) {
        pthread_mutex_unlock(&st->ckpt_mu);
        return;
    }
    st->ckpt_running = false;
    pthread_cond_signal(&st->ckpt_cv);
    pthread_mutex_unlock(&st->ckpt_mu);
    pthread_join(st->ckpt_thread, NULL);
}

static uint64_t sqlite_generation(struct tams_store_be *st)
{
    return __atomic_load_n(&st->generation, __ATOMIC_ACQUIRE);
}

static void sqlite_close(struct tams_store_be *st)
{
    struct conn *c, *next;

    if (!st)
        return;
    checkpointer_stop(st);
    for (size_t i = 0; i < TLS_SLOTS; i++)
        if (tls_conn[i].serial == st->serial) {
            tls_conn[i].serial = 0;
            tls_conn[i].c = NULL;
        }
    pthread_mutex_lock(&st->mu);
    for (c = st->conns; c; c = next) {
        next = c->next;
        conn_close(c);
    }
    st->conns = NULL;
    pthread_mutex_unlock(&st->mu);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->write_mu);
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_cond_destroy(&st->ckpt_cv);
    tams_free(st->path);
    tams_free(st);
}

/* Before SQLite's first use in the process: no memory statistics, which tamsd never reads and
 * which cost a global mutex on every SQLite malloc and free (5% of a bulk registration's
 * time). Once SQLite is initialised (another store opened first) the call is refused: harmless. */
static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlite_open(struct tams_store_be **out, const char *url, const char *data_dir)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    struct tams_store_be *st;
    struct conn *c;
    const char *path = url && strncmp(url, "sqlite:", 7) == 0 ? url + 7 : "";
    int rc;

    *out = NULL;
    pthread_once(&configured, sqlite_configure);
    st = tams_calloc(1, sizeof(*st));
    if (path[0]) {
        st->path = tams_strdup(path);
    } else {
        struct tams_buf b = TAMS_BUF_INIT(4096);
        tams_buf_addf(&b, "%s/tams.db", data_dir && data_dir[0] ? data_dir : ".");
        st->path = tams_buf_detach(&b, NULL);
    }
    pthread_mutex_init(&st->mu, NULL);
    {
        /* A thread asking again while it writes (a bug): an error at once, not a hang. */
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        pthread_mutex_init(&st->write_mu, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    pthread_mutex_init(&st->ckpt_mu, NULL);
    pthread_cond_init(&st->ckpt_cv, NULL);
    pthread_mutex_lock(&serial_mu);
    st->serial = next_serial++;
    pthread_mutex_unlock(&serial_mu);

    rc = get_conn(st, &c);
    if (rc == 0)
        rc = migrate(c);
    if (rc == 0)
        rc = checkpointer_start(st);
    if (rc) {
        sqlite_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int sqlite_ping(struct tams_store_be *st)
{
    struct conn *c;
    int rc = get_conn(st, &c);

    return rc ? rc : run(c, S_PING);
}

static int sqlite_setting_get(struct tams_store_be *st, const char *key, struct tams_buf *out)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_SETTING_GET)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = step_row(c, s, "setting_get");
    if (rc == 1) {
        rc = tams_buf_add(out, sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        done(s);
    } else if (rc == 0) {
        rc = TAMS_ERR_NOTFOUND;
    }
    return rc;
}

static int sqlite_setting_set(struct tams_store_be *st, const char *key, const char *value)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, value ? S_SETTING_SET : S_SETTING_DEL)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    return exec_stmt(c, s, "setting_set");
}

/* ---- flows: writing ---------------------------------------------------------------------- */

struct flow_state {
    bool exists, read_only;
    bool deleting;   /* hidden: a deletion request is removing it */
    char *source_id; /* owned */
    char *doc;       /* owned */
};

static void flow_state_release(struct flow_state *fs)
{
    tams_free(fs->source_id);
    tams_free(fs->doc);
    memset(fs, 0, sizeof(*fs));
}

static int read_flow_state(struct conn *c, const char *id, struct flow_state *fs)
{
    sqlite3_stmt *s = stmt(c, S_FLOW_STATE);
    int rc;

    memset(fs, 0, sizeof(*fs));
    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "read flow");
    if (rc <= 0)
        return rc;
    fs->exists = true;
    fs->read_only = sqlite3_column_int(s, 0) != 0;
    fs->source_id = tams_strdup(col_str(s, 1));
    fs->doc = tams_strdup(col_str(s, 2));
    fs->deleting = sqlite3_column_int(s, 3) != 0;
    done(s);
    return 0;
}

/* 1 when the statement (one id parameter) returns a row, 0 when not, <0 on error. */
static int exists(struct conn *c, enum sid id, const char *key)
{
    sqlite3_stmt *s = stmt(c, id);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = step_row(c, s, stmt_sql[id]);
    if (rc == 1)
        done(s);
    return rc;
}

/* Events into the outbox, inside the caller's write transaction (definitions with the
 * webhook operations below). Each does nothing when no webhook is registered. */
static int ev_flow(struct conn *c, const char *type, const char *flow_id, const char *now);
static int ev_flow_deleted(struct conn *c, const char *flow_id, const char *source_id,
                           const char *now);
static int ev_source(struct conn *c, const char *type, const char *source_id, const char *now);

/* The source of a flow being written: VALIDATION if it exists with another format; created
 * when new. */
static int ensure_source(struct conn *c, const struct tams_flow_index *idx, const char *now,
                         const char *principal, unsigned *effects, struct tams_buf *why)
{
    sqlite3_stmt *s = stmt(c, S_SOURCE_FORMAT);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, idx->source_id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "read source format");
    if (rc < 0)
        return rc;
    if (rc == 1) {
        const char *format = col_str(s, 0);
        if (strcmp(format, idx->format) != 0) {
            tams__why_add(why, "source_id %s has format %s; flow format %s", idx->source_id, format,
                          idx->format);
            rc = TAMS_ERR_VALIDATION;
        } else {
            rc = 0;
        }
        done(s);
        return rc;
    }
    if (!(s = stmt(c, S_SOURCE_INSERT)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, idx->source_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, idx->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
    bind_str(s, 4, principal);
    rc = exec_stmt(c, s, "create source");
    if (rc == 0 && effects)
        *effects |= TAMS_EFFECT_SOURCE_CREATED;
    return rc;
}

/* Delete a source that no flow references any more. */
static int drop_source_if_orphan(struct conn *c, const char *source_id, unsigned *effects)
{
    sqlite3_stmt *s;
    int rc = exists(c, S_SOURCE_HAS_FLOWS, source_id);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!(s = stmt(c, S_SOURCE_DEL)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, source_id, -1, SQLITE_STATIC);
    rc = exec_stmt(c, s, "delete source"); /* source_tags go by ON DELETE CASCADE */
    if (rc == 0 && effects)
        *effects |= TAMS_EFFECT_SOURCE_DELETED;
    if (rc == 0)
        rc = ev_source(c, TAMS_EV_SOURCE_DELETED, source_id, NULL);
    return rc;
}

/* Write the flow row (insert, or update keeping created/created_by/segments_updated) and
 * replace its tag and collection rows, all derived from idx. Inside the caller's transaction. */
static int write_flow_rows(struct conn *c, const struct tams_flow_index *idx, const char *doc,
                           size_t doclen, const char *now, const char *principal,
                           struct tams_buf *why)
{
    sqlite3_stmt *s;
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

    if (!(s = stmt(c, S_FLOW_UPSERT)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, idx->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, idx->source_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, idx->format, -1, SQLITE_STATIC);
    bind_str(s, 4, idx->codec);
    bind_str(s, 5, idx->container);
    bind_str(s, 6, idx->label);
    bind_int_opt(s, 7, idx->frame_width);
    bind_int_opt(s, 8, idx->frame_height);
    sqlite3_bind_int(s, 9, idx->read_only);
    sqlite3_bind_text(s, 10, doc, (int)doclen, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, now, -1, SQLITE_STATIC);
    bind_str(s, 12, principal);
    if ((rc = exec_stmt(c, s, "write flow")))
        return rc;

    if (!(s = stmt(c, S_FLOW_TAGS_DEL)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, idx->id, -1, SQLITE_STATIC);
    if ((rc = exec_stmt(c, s, "clear flow tags")))
        return rc;
    for (size_t i = 0; i < idx->ntags; i++) {
        if (!(s = stmt(c, S_FLOW_TAG_INS)))
            return TAMS_ERR_STORE;
        sqlite3_bind_text(s, 1, idx->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, idx->tags[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, idx->tags[i].value, -1, SQLITE_STATIC);
        if ((rc = exec_stmt(c, s, "write flow tag")))
            return rc;
    }

    if (!(s = stmt(c, S_COLL_DEL)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, idx->id, -1, SQLITE_STATIC);
    if ((rc = exec_stmt(c, s, "clear flow collection")))
        return rc;
    for (size_t i = 0; i < idx->ncollection; i++) {
        if (!(s = stmt(c, S_COLL_INS)))
            return TAMS_ERR_STORE;
        sqlite3_bind_text(s, 1, idx->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, idx->collection[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, idx->collection[i].role, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, (int64_t)i);
        if ((rc = exec_stmt(c, s, "write flow collection")))
            return rc;
    }
    return 0;
}

static int sqlite_flow_put(struct tams_store_be *st, const struct tams_flow_index *idx,
                           const char *doc, size_t doclen, const char *principal, unsigned *effects,
                           struct tams_buf *why)
{
    struct flow_state fs = {0};
    struct conn *c;
    char now[TAMS_RFC3339_MAX];
    unsigned eff = 0;
    int rc = get_conn(st, &c);

    if (effects)
        *effects = 0;
    if (rc)
        return rc;
    if (doclen > INT32_MAX)
        return TAMS_ERR_TOOBIG;
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    rc = read_flow_state(c, idx->id, &fs);
    if (rc)
        goto out;
    if (fs.exists && fs.deleting) {
        tams__why_add(why, "flow %s is being deleted; try again when its deletion request is done",
                      idx->id);
        rc = TAMS_ERR_CONFLICT;
        goto out;
    }
    if (fs.exists && fs.read_only) {
        tams__why_add(why, "flow %s is read-only", idx->id);
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    if (!fs.exists)
        eff |= TAMS_EFFECT_CREATED;
    if ((rc = ensure_source(c, idx, now, principal, &eff, why)))
        goto out;
    if ((rc = write_flow_rows(c, idx, doc, doclen, now, principal, why)))
        goto out;
    if ((eff & TAMS_EFFECT_SOURCE_CREATED) &&
        (rc = ev_source(c, TAMS_EV_SOURCE_CREATED, idx->source_id, now)))
        goto out;
    if ((rc = ev_flow(c, fs.exists ? TAMS_EV_FLOW_UPDATED : TAMS_EV_FLOW_CREATED, idx->id, now)))
        goto out;
    if (fs.exists && strcmp(fs.source_id, idx->source_id) != 0)
        rc = drop_source_if_orphan(c, fs.source_id, &eff);
out:
    flow_state_release(&fs);
    rc = tx_end(c, rc);
    if (rc == 0 && effects)
        *effects = eff;
    return rc;
}

static int sqlite_flow_mutate(struct tams_store_be *st, const char *id, bool allow_read_only,
                              tams_flow_mutate_fn fn, void *ctx, const char *principal,
                              struct tams_buf *why)
{
    struct flow_state fs = {0};
    struct tams_flow_index idx = {0};
    struct tams_buf why_local = TAMS_BUF_INIT(1024);
    json_object *doc = NULL;
    struct conn *c;
    char now[TAMS_RFC3339_MAX];
    const char *text;
    bool have_idx = false;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!why)
        why = &why_local; /* fn and the validator always get a buffer */
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    if ((rc = read_flow_state(c, id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (fs.read_only && !allow_read_only) {
        tams__why_add(why, "flow %s is read-only", id);
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    doc = json_tokener_parse(fs.doc);
    if (!doc || !json_object_is_type(doc, json_type_object)) {
        tams_log_error("sqlite: stored document of flow '%s' does not parse", id);
        rc = TAMS_ERR_STORE;
        goto out;
    }
    if ((rc = fn(ctx, doc, why)))
        goto out;
    if ((rc = tams_flow_validate(doc, why)))
        goto out;
    if ((rc = tams_flow_index_build(doc, &idx, why)))
        goto out;
    have_idx = true;
    /* Property updates never move a flow: the path names it, and ADR 0025 says source_id does
     * not change after creation (a PUT of the whole flow may still do it). */
    if (strcmp(idx.id, id) != 0) {
        tams__why_add(why, "id cannot be changed (%s)", id);
        rc = TAMS_ERR_VALIDATION;
        goto out;
    }
    if (strcmp(idx.source_id, fs.source_id) != 0) {
        tams__why_add(why, "source_id cannot be changed by a property update");
        rc = TAMS_ERR_VALIDATION;
        goto out;
    }
    if ((rc = ensure_source(c, &idx, now, principal, NULL, why)))
        goto out;
    text = json_object_to_json_string_ext(doc,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = write_flow_rows(c, &idx, text, strlen(text), now, principal, why);
    if (rc == 0)
        rc = ev_flow(c, TAMS_EV_FLOW_UPDATED, id, now);
out:
    if (have_idx)
        tams_flow_index_release(&idx);
    json_object_put(doc);
    flow_state_release(&fs);
    tams_buf_release(&why_local);
    return tx_end(c, rc);
}

/* Remove flow `id` from the collection of every other flow that lists it: both the rows and the
 * members of their documents, so documents and flow_collection never disagree. */
static int drop_from_collectors(struct conn *c, const char *id, const char *now)
{
    struct tams__strpool ids = {0};
    sqlite3_stmt *s = stmt(c, S_COLLECTORS_OF);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        tams__pool_dup(&ids, col_str(s, 0));
    done(s);
    if (rc != SQLITE_DONE) {
        rc = sqlerr(c, rc, "read collectors");
        goto out;
    }
    rc = 0;
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
            s = stmt(c, S_FLOW_SET_DOC);
            if (!s) {
                rc = TAMS_ERR_STORE;
            } else {
                sqlite3_bind_text(s, 1, ids.v[i], -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 2,
                                  json_object_to_json_string_ext(
                                      doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                                  -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
                rc = exec_stmt(c, s, "rewrite collector");
                if (rc == 0)
                    rc = ev_flow(c, TAMS_EV_FLOW_UPDATED, ids.v[i], now);
            }
        } else if (fs.exists) {
            tams_log_error("sqlite: collection of flow '%s' is not in its document", ids.v[i]);
            rc = TAMS_ERR_STORE;
        }
        json_object_put(doc);
        flow_state_release(&fs);
    }
    if (rc == 0) {
        if (!(s = stmt(c, S_COLL_DEL_MEMBER))) {
            rc = TAMS_ERR_STORE;
            goto out;
        }
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        rc = exec_stmt(c, s, "delete memberships");
    }
out:
    tams__pool_release(&ids);
    return rc;
}

static int delete_by_id(struct conn *c, enum sid id, const char *key)
{
    sqlite3_stmt *s = stmt(c, id);

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    return exec_stmt(c, s, stmt_sql[id]);
}

/* Objects that only this flow references are stamped for the collector; then the flow's
 * references go. */
static int unref_flow(struct conn *c, const char *id, const char *now)
{
    sqlite3_stmt *s = stmt(c, S_OBJ_UNREF_FLOW);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
    if ((rc = exec_stmt(c, s, "stamp unreferenced objects")))
        return rc;
    return delete_by_id(c, S_REFS_DEL_FLOW, id);
}

/* The flow and everything of it, inside the caller's transaction: memberships in other flows'
 * collections, segments, references, the row (tags and its own collection rows by ON DELETE
 * CASCADE) and its source when it was the last flow. Object rows stay: objects whose last
 * reference went are collected separately. */
static int remove_flow(struct conn *c, const char *id, const char *source_id, const char *now,
                       unsigned *eff, bool flow_event)
{
    int rc;

    /* flows/deleted first, with the collections it was in before it leaves them. */
    if (flow_event && (rc = ev_flow_deleted(c, id, source_id, now)))
        return rc;
    if ((rc = drop_from_collectors(c, id, now)) || (rc = delete_by_id(c, S_SEG_DEL_FLOW, id)) ||
        (rc = unref_flow(c, id, now)) || (rc = delete_by_id(c, S_FLOW_DEL, id)))
        return rc;
    return drop_source_if_orphan(c, source_id, eff);
}

static int sqlite_flow_delete(struct tams_store_be *st, const char *id, unsigned *effects)
{
    struct flow_state fs = {0};
    struct conn *c;
    char now[TAMS_RFC3339_MAX];
    unsigned eff = 0;
    int rc = get_conn(st, &c);

    if (effects)
        *effects = 0;
    if (rc)
        return rc;
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    if ((rc = read_flow_state(c, id, &fs)))
        goto out;
    if (!fs.exists || fs.deleting) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (fs.read_only) {
        rc = TAMS_ERR_READONLY;
        goto out;
    }
    rc = remove_flow(c, id, fs.source_id, now, &eff, true);
out:
    flow_state_release(&fs);
    rc = tx_end(c, rc);
    if (rc == 0 && effects)
        *effects = eff;
    return rc;
}

/* ---- flows: reading ---------------------------------------------------------------------- */

/* Build a record from a FLOW_COLS row and hand it to cb. With keep, every string is copied
 * first, so the caller may reset the statement before calling back. */
static void flow_rec_read(sqlite3_stmt *s, struct tams_flow_rec *rec, const char **coll,
                          struct tams__strpool *keep)
{
    memset(rec, 0, sizeof(*rec));
    rec->id = col_str(s, 0);
    rec->doc = col_str(s, 1);
    rec->doclen = (size_t)sqlite3_column_bytes(s, 1);
    rec->created = col_str(s, 2);
    rec->metadata_updated = col_str(s, 3);
    rec->segments_updated = col_str(s, 4);
    rec->created_by = col_str(s, 5);
    rec->updated_by = col_str(s, 6);
    rec->read_only = sqlite3_column_int(s, 7) != 0;
    *coll = col_str(s, 8);
    if (keep) {
        rec->id = tams__pool_dup(keep, rec->id);
        rec->doc = tams__pool_dup(keep, rec->doc);
        rec->created = tams__pool_dup(keep, rec->created);
        rec->metadata_updated = tams__pool_dup(keep, rec->metadata_updated);
        rec->segments_updated = tams__pool_dup(keep, rec->segments_updated);
        rec->created_by = tams__pool_dup(keep, rec->created_by);
        rec->updated_by = tams__pool_dup(keep, rec->updated_by);
        *coll = tams__pool_dup(keep, *coll);
    }
}

/* Split the comma-joined collected_by ids and call back. */
static int emit_flow(struct tams_flow_rec *rec, const char *coll, tams_flow_cb cb, void *ctx)
{
    char *copy = NULL;
    const char **ids = NULL;
    size_t n = 0;
    int rc;

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
    rec->collected_by = ids;
    rec->ncollected_by = n;
    rc = cb(ctx, rec);
    tams_free(ids);
    tams_free(copy);
    return rc;
}

static int sqlite_flow_get(struct tams_store_be *st, const char *id, tams_flow_cb cb, void *ctx)
{
    struct tams_flow_rec rec;
    struct tams__strpool keep = {0};
    const char *coll;
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_FLOW_GET)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "flow_get");
    if (rc == 0)
        return TAMS_ERR_NOTFOUND;
    if (rc < 0)
        return rc;
    /* Copy and release the cached statement first: the callback may well call the store
     * again (flow_timerange for include_timerange, even flow_get). */
    flow_rec_read(s, &rec, &coll, &keep);
    done(s);
    rc = emit_flow(&rec, coll, cb, ctx);
    tams__pool_release(&keep);
    return rc;
}

/* Parameters of a generated statement, bound in order. */
struct params {
    struct {
        bool is_int;
        const char *s;
        int64_t i;
    } v[2 * MAX_TAG_FILTERS + 16];
    int n;
};

static void param_s(struct params *p, const char *s)
{
    tams_assert(p->n < (int)TAMS_ARRAY_SIZE(p->v));
    p->v[p->n].is_int = false;
    p->v[p->n++].s = s;
}

static void param_i(struct params *p, int64_t i)
{
    tams_assert(p->n < (int)TAMS_ARRAY_SIZE(p->v));
    p->v[p->n].is_int = true;
    p->v[p->n++].i = i;
}

/* Tag filters. tag.{name}=v and tag_exists=true are IN lists over the (name, value, <id>)
 * index, which SQLite can drive the query from (for tag.{name}=v it even yields ids in order,
 * so keyset paging needs no sort); tag_exists=false is NOT EXISTS on the (<id>, name) key. */
static void add_tag_filters(struct tams_buf *sql, struct params *p, const char *table,
                            const char *idcol, const char *outer,
                            const struct tams_tag_filter *tags, size_t ntags)
{
    for (size_t i = 0; i < ntags; i++) {
        if (tags[i].value) {
            tams_buf_addf(sql,
                          " AND %s IN (SELECT t.%s FROM %s t WHERE t.name = ? AND t.value = ?)",
                          outer, idcol, table);
            param_s(p, tags[i].name);
            param_s(p, tags[i].value);
        } else if (tags[i].exists) {
            tams_buf_addf(sql, " AND %s IN (SELECT t.%s FROM %s t WHERE t.name = ?)", outer, idcol,
                          table);
            param_s(p, tags[i].name);
        } else {
            tams_buf_addf(sql,
                          " AND NOT EXISTS (SELECT 1 FROM %s t WHERE t.%s = %s AND t.name = ?)",
                          table, idcol, outer);
            param_s(p, tags[i].name);
        }
    }
}

/* " AND <cond>" with one parameter. */
static void add_cond(struct tams_buf *sql, struct params *p, const char *cond, bool is_int,
                     const char *sv, int64_t iv)
{
    tams_buf_addf(sql, " AND %s", cond);
    if (is_int)
        param_i(p, iv);
    else
        param_s(p, sv);
}

/* Prepare generated SQL (not cached: its shape depends on the filters) and bind p. */
static int prepare_generated(struct conn *c, const struct tams_buf *sql, const struct params *p,
                             sqlite3_stmt **out)
{
    int rc;

    *out = NULL;
    if (!tams_buf_ok(sql)) {
        tams_log_error("sqlite: generated statement too long");
        return TAMS_ERR_STORE;
    }
    rc = sqlite3_prepare_v2(c->db, sql->data, (int)sql->len, out, NULL);
    if (rc != SQLITE_OK)
        return sqlerr(c, rc, "prepare listing");
    for (int i = 0; i < p->n; i++) {
        if (p->v[i].is_int)
            sqlite3_bind_int64(*out, i + 1, p->v[i].i);
        else
            sqlite3_bind_text(*out, i + 1, p->v[i].s, -1, SQLITE_STATIC);
    }
    return 0;
}

/* Decode page->after into an id (a UUID, since both flows and sources are keyed by UUID). */

static int sqlite_flow_list(struct tams_store_be *st, const struct tams_flow_filter *f,
                            const struct tams_page *page, tams_flow_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(SQL_MAX), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct params p = {.n = 0};
    struct tams__strpool last = {0};
    struct tams_flow_rec rec;
    const char *coll;
    sqlite3_stmt *s = NULL;
    struct conn *c;
    int limit = page && page->limit > 0 ? page->limit : 100, rows = 0, rc;

    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if (f && f->ntags > MAX_TAG_FILTERS) {
        rc = TAMS_ERR_BADQUERY;
        goto out;
    }
    if ((rc = tams__page_after(page, "flows", &after)))
        goto out;
    if ((rc = get_conn(st, &c)))
        goto out;

    tams_buf_addstr(&sql, "SELECT " FLOW_COLS " FROM flows f WHERE f.deleting = 0");
    if (f && f->source_id)
        add_cond(&sql, &p, "f.source_id = ?", false, f->source_id, 0);
    if (f && f->format)
        add_cond(&sql, &p, "f.format = ?", false, f->format, 0);
    if (f && f->codec)
        add_cond(&sql, &p, "f.codec = ?", false, f->codec, 0);
    if (f && f->label)
        add_cond(&sql, &p, "f.label = ?", false, f->label, 0);
    if (f && f->frame_width >= 0)
        add_cond(&sql, &p, "f.frame_width = ?", true, NULL, f->frame_width);
    if (f && f->frame_height >= 0)
        add_cond(&sql, &p, "f.frame_height = ?", true, NULL, f->frame_height);
    if (f && f->timerange && tams_timerange_is_empty(f->timerange)) {
        tams_buf_addstr(&sql, " AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.flow_id = f.id)");
    } else if (f && f->timerange && !tams_timerange_is_eternity(f->timerange)) {
        /* Segments of a flow do not overlap, so hi grows with lo: the only segment that can
         * reach X.lo among those starting at or before X.hi is the last of them. One seek on
         * the (flow_id, lo) key instead of a scan of the flow's segments. */
        tams_buf_addstr(&sql, " AND (SELECT s.hi FROM segments s WHERE s.flow_id = f.id"
                              " AND s.lo <= ? ORDER BY s.lo DESC LIMIT 1) >= ?");
        param_i(&p, f->timerange->hi);
        param_i(&p, f->timerange->lo);
    }
    if (f)
        add_tag_filters(&sql, &p, "flow_tags", "flow_id", "f.id", f->tags, f->ntags);
    if (after.len)
        add_cond(&sql, &p, "f.id > ?", false, after.data, 0);
    tams_buf_addstr(&sql, " ORDER BY f.id LIMIT ?");
    param_i(&p, (int64_t)limit + 1);

    if ((rc = prepare_generated(c, &sql, &p, &s)))
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (rows == limit) {
            /* A row beyond the page: there is a next page, starting after the last id sent. */
            if (page && page->next_key && last.n)
                rc = tams_cursor_encode(page->next_key, "flows", last.v[last.n - 1]);
            else
                rc = 0;
            goto out;
        }
        rows++;
        tams__pool_release(&last);
        tams__pool_dup(&last, col_str(s, 0));
        flow_rec_read(s, &rec, &coll, NULL);
        if ((rc = emit_flow(&rec, coll, cb, ctx)))
            goto out;
    }
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "flow_list");
out:
    sqlite3_finalize(s);
    tams__pool_release(&last);
    tams_buf_release(&sql);
    tams_buf_release(&after);
    return rc;
}

struct seg_end {
    int64_t lo, hi;
    bool start_incl, end_incl;
};

/* 1 = found, 0 = none, <0 = error. */
static int seg_seek(struct conn *c, enum sid id, const char *flow_id, int64_t at,
                    struct seg_end *out)
{
    sqlite3_stmt *s = stmt(c, id);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, at);
    rc = step_row(c, s, "segment seek");
    if (rc == 1) {
        out->lo = sqlite3_column_int64(s, 0);
        out->hi = sqlite3_column_int64(s, 1);
        out->start_incl = sqlite3_column_int(s, 2) != 0;
        out->end_incl = sqlite3_column_int(s, 3) != 0;
        done(s);
    }
    return rc;
}

static int sqlite_flow_timerange(struct tams_store_be *st, const char *id,
                                 const struct tams_timerange *within, struct tams_timerange *out)
{
    struct tams_timerange all;
    struct seg_end first, last;
    struct conn *c;
    int rc = get_conn(st, &c), found;

    tams_timerange_empty(out);
    if (rc)
        return rc;
    if (!within) {
        tams_timerange_eternity(&all);
        within = &all;
    }
    if ((rc = tx_begin_read(c)))
        return rc;
    if ((found = exists(c, S_FLOW_EXISTS, id)) <= 0) {
        rc = found < 0 ? found : TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (tams_timerange_is_empty(within))
        goto out;
    /* First segment reaching within.lo: the last one starting at or before it if it reaches
     * that far, else the next one. Segments never overlap, so hi grows with lo. */
    found = seg_seek(c, S_SEG_LAST_LE, id, within->lo, &first);
    if (found == 1 && first.hi < within->lo)
        found = 0;
    if (found == 0 && within->lo != INT64_MAX)
        found = seg_seek(c, S_SEG_FIRST_GT, id, within->lo, &first);
    if (found <= 0 || first.lo > within->hi) {
        rc = found < 0 ? found : 0;
        goto out;
    }
    found = seg_seek(c, S_SEG_LAST_LE, id, within->hi, &last);
    if (found <= 0) {
        rc = found < 0 ? found : 0;
        goto out;
    }
    out->lo = first.lo;
    out->lo_incl = first.start_incl;
    out->hi = last.hi;
    out->hi_incl = last.end_incl;
out:
    if (rc)
        tams_timerange_empty(out);
    return tx_end(c, rc);
}

/* ---- sources ----------------------------------------------------------------------------- */

struct source_row {
    struct tams_source_rec rec;
    struct tams_tag *tags;
    struct tams_collection_ref *coll;
    const char **collected_by;
};

struct source_rows {
    struct source_row *v;
    size_t n;
    struct tams__strpool pool;
};

static void source_rows_release(struct source_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        tams_free(rows->v[i].tags);
        tams_free(rows->v[i].coll);
        tams_free(rows->v[i].collected_by);
    }
    tams_free(rows->v);
    tams__pool_release(&rows->pool);
    rows->v = NULL;
    rows->n = 0;
}

/* Columns: id, format, label, description, created, updated, created_by, updated_by. */
static void source_row_read(struct source_rows *rows, sqlite3_stmt *s, struct source_row *r)
{
    struct tams__strpool *p = &rows->pool;

    memset(r, 0, sizeof(*r));
    r->rec.id = tams__pool_dup(p, col_str(s, 0));
    r->rec.format = tams__pool_dup(p, col_str(s, 1));
    r->rec.label = tams__pool_dup(p, col_str(s, 2));
    r->rec.description = tams__pool_dup(p, col_str(s, 3));
    r->rec.created = tams__pool_dup(p, col_str(s, 4));
    r->rec.updated = tams__pool_dup(p, col_str(s, 5));
    r->rec.created_by = tams__pool_dup(p, col_str(s, 6));
    r->rec.updated_by = tams__pool_dup(p, col_str(s, 7));
}

/* Tags and the derived collection members of one source, inside the caller's read
 * transaction. */
static int source_row_complete(struct conn *c, struct source_rows *rows, struct source_row *r)
{
    static const enum sid q[] = {S_SOURCE_TAGS, S_SOURCE_COLLECTION, S_SOURCE_COLLECTED_BY};
    struct tams__strpool *p = &rows->pool;

    for (size_t k = 0; k < TAMS_ARRAY_SIZE(q); k++) {
        sqlite3_stmt *s = stmt(c, q[k]);
        size_t n = 0, cap = 0;
        int rc;

        if (!s)
            return TAMS_ERR_STORE;
        sqlite3_bind_text(s, 1, r->rec.id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 4;
                if (k == 0)
                    r->tags = tams_realloc(r->tags, tams_st_mult(cap, sizeof(*r->tags)));
                else if (k == 1)
                    r->coll = tams_realloc(r->coll, tams_st_mult(cap, sizeof(*r->coll)));
                else
                    r->collected_by =
                        tams_realloc(r->collected_by, tams_st_mult(cap, sizeof(*r->collected_by)));
            }
            if (k == 0) {
                r->tags[n].name = tams__pool_dup(p, col_str(s, 0));
                r->tags[n].value = tams__pool_dup(p, col_str(s, 1));
            } else if (k == 1) {
                r->coll[n].id = tams__pool_dup(p, col_str(s, 0));
                r->coll[n].role = tams__pool_dup(p, col_str(s, 1));
            } else {
                r->collected_by[n] = tams__pool_dup(p, col_str(s, 0));
            }
            n++;
        }
        done(s);
        if (rc != SQLITE_DONE)
            return sqlerr(c, rc, "read source details");
        if (k == 0)
            r->rec.tags = r->tags, r->rec.ntags = n;
        else if (k == 1)
            r->rec.source_collection = r->coll, r->rec.nsource_collection = n;
        else
            r->rec.collected_by = r->collected_by, r->rec.ncollected_by = n;
    }
    return 0;
}

/* Run a source listing statement (columns as source_row_read) and complete each row, all in
 * one read transaction; the callbacks run after it ends, so they may use the store freely. */
static int source_query(struct conn *c, sqlite3_stmt *s, int limit, struct source_rows *rows,
                        bool *more)
{
    size_t cap = 0;
    int rc;

    *more = false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((int)rows->n == limit) {
            *more = true;
            break;
        }
        if (rows->n == cap) {
            cap = cap ? cap * 2 : 8;
            rows->v = tams_realloc(rows->v, tams_st_mult(cap, sizeof(*rows->v)));
        }
        source_row_read(rows, s, &rows->v[rows->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlerr(c, rc, "source listing");
    sqlite3_reset(s);
    for (size_t i = 0; i < rows->n; i++) {
        if ((rc = source_row_complete(c, rows, &rows->v[i])))
            return rc;
    }
    return 0;
}

#define SOURCE_COLS                                                                                \
    "src.id, src.format, src.label, src.description, src.created, src.updated,"                    \
    " src.created_by, src.updated_by"

static int emit_sources(struct source_rows *rows, tams_source_cb cb, void *ctx)
{
    for (size_t i = 0; i < rows->n; i++) {
        int rc = cb(ctx, &rows->v[i].rec);
        if (rc)
            return rc;
    }
    return 0;
}

static int sqlite_source_list(struct tams_store_be *st, const struct tams_source_filter *f,
                              const struct tams_page *page, tams_source_cb cb, void *ctx)
{
    struct tams_buf sql = TAMS_BUF_INIT(SQL_MAX), after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct source_rows rows = {0};
    struct params p = {.n = 0};
    sqlite3_stmt *s = NULL;
    struct conn *c = NULL;
    int limit = page && page->limit > 0 ? page->limit : 100, rc;
    bool more = false;

    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if (f && f->ntags > MAX_TAG_FILTERS) {
        rc = TAMS_ERR_BADQUERY;
        goto out;
    }
    if ((rc = tams__page_after(page, "sources", &after)))
        goto out;
    if ((rc = get_conn(st, &c)))
        goto out;
    tams_buf_addstr(&sql, "SELECT " SOURCE_COLS " FROM sources src WHERE 1");
    if (f && f->format)
        add_cond(&sql, &p, "src.format = ?", false, f->format, 0);
    if (f && f->label)
        add_cond(&sql, &p, "src.label = ?", false, f->label, 0);
    if (f)
        add_tag_filters(&sql, &p, "source_tags", "source_id", "src.id", f->tags, f->ntags);
    if (after.len)
        add_cond(&sql, &p, "src.id > ?", false, after.data, 0);
    tams_buf_addstr(&sql, " ORDER BY src.id LIMIT ?");
    param_i(&p, (int64_t)limit + 1);
    if ((rc = prepare_generated(c, &sql, &p, &s)))
        goto out;
    /* The page and the details of each of its sources come from one snapshot. */
    if ((rc = tx_begin_read(c)))
        goto out;
    rc = tx_end(c, source_query(c, s, limit, &rows, &more));
    if (rc)
        goto out;
    if (more && rows.n && page && page->next_key &&
        (rc = tams_cursor_encode(page->next_key, "sources", rows.v[rows.n - 1].rec.id)))
        goto out;
    rc = emit_sources(&rows, cb, ctx);
out:
    sqlite3_finalize(s);
    source_rows_release(&rows);
    tams_buf_release(&sql);
    tams_buf_release(&after);
    return rc;
}

static int sqlite_source_get(struct tams_store_be *st, const char *id, tams_source_cb cb, void *ctx)
{
    static const char sql[] = "SELECT " SOURCE_COLS " FROM sources src WHERE src.id = ?1";
    struct source_rows rows = {0};
    sqlite3_stmt *s = NULL;
    struct conn *c;
    bool more;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    rc = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return sqlerr(c, rc, "prepare source_get");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if ((rc = tx_begin_read(c)) == 0) {
        rc = source_query(c, s, 1, &rows, &more);
        rc = tx_end(c, rc);
    }
    sqlite3_finalize(s);
    if (rc == 0)
        rc = rows.n ? emit_sources(&rows, cb, ctx) : TAMS_ERR_NOTFOUND;
    source_rows_release(&rows);
    return rc;
}

static int sqlite_source_set_prop(struct tams_store_be *st, const char *id,
                                  enum tams_source_prop prop, const char *value,
                                  const char *principal)
{
    char now[TAMS_RFC3339_MAX];
    sqlite3_stmt *s;
    struct conn *c;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    tams_clock_now_rfc3339(now);
    if (!(s = stmt(c, prop == TAMS_SOURCE_LABEL ? S_SOURCE_SET_LABEL : S_SOURCE_SET_DESC)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    bind_str(s, 2, value);
    sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
    bind_str(s, 4, principal);
    if ((rc = tx_begin(c))) {
        done(s);
        return rc;
    }
    if ((rc = exec_stmt(c, s, "source_set_prop")) == 0)
        rc = sqlite3_changes(c->db) ? ev_source(c, TAMS_EV_SOURCE_UPDATED, id, now)
                                    : TAMS_ERR_NOTFOUND;
    return tx_end(c, rc);
}

static int sqlite_source_set_tag(struct tams_store_be *st, const char *id, const char *name,
                                 const char *value, const char *principal)
{
    char now[TAMS_RFC3339_MAX];
    sqlite3_stmt *s;
    struct conn *c;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    if (!(s = stmt(c, S_SOURCE_TOUCH))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
    bind_str(s, 3, principal);
    if ((rc = exec_stmt(c, s, "touch source")))
        goto out;
    if (sqlite3_changes(c->db) == 0) {
        rc = TAMS_ERR_NOTFOUND;
        goto out;
    }
    if (!(s = stmt(c, value ? S_SOURCE_TAG_SET : S_SOURCE_TAG_DEL))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
    if ((rc = exec_stmt(c, s, "source_set_tag")))
        goto out;
    if (!value && sqlite3_changes(c->db) == 0)
        rc = TAMS_ERR_NOTFOUND;
    if (rc == 0)
        rc = ev_source(c, TAMS_EV_SOURCE_UPDATED, id, now);
out:
    return tx_end(c, rc);
}

/* ---- segments and objects ---------------------------------------------------------------- */

/* The flow a media write goes to (segments, storage): it must exist (NOTFOUND), be writable
 * (READONLY) and have a container (VALIDATION, notes §11.14). */
static int media_flow_check(struct conn *c, const char *flow_id, const char *what,
                            struct tams_buf *why)
{
    sqlite3_stmt *s = stmt(c, S_MEDIA_FLOW);
    bool read_only, container;
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "read flow");
    if (rc <= 0) {
        if (rc == 0)
            tams__why_add(why, "flow %s does not exist", flow_id);
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    }
    read_only = sqlite3_column_int(s, 0) != 0;
    container = sqlite3_column_int(s, 1) != 0;
    done(s);
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

/* What a segment registration may do with its object (notes §6.3). */
enum obj_state {
    OBJ_UNKNOWN,         /* no row: external, acceptable only with get_urls */
    OBJ_REGISTERED,      /* some segment registered it once: reuse by any flow */
    OBJ_ALLOCATED_HERE,  /* allocated for this flow, first registration now */
    OBJ_ALLOCATED_OTHER, /* allocated for another flow and never registered: refused */
};

static int object_state(struct conn *c, const char *id, const char *flow_id, enum obj_state *out)
{
    sqlite3_stmt *s = stmt(c, S_OBJ_STATE);
    const char *alloc;
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "read object");
    if (rc <= 0) {
        *out = OBJ_UNKNOWN;
        return rc;
    }
    alloc = col_str(s, 0);
    if (sqlite3_column_int(s, 1))
        *out = OBJ_REGISTERED;
    else if (alloc && strcmp(alloc, flow_id) != 0)
        *out = OBJ_ALLOCATED_OTHER;
    else
        *out = OBJ_ALLOCATED_HERE;
    done(s);
    return 0;
}

/* State of one segments_add call. Strings point into the caller's segments. */
struct seg_batch {
    struct conn *c;
    const char *flow_id;
    char now[TAMS_RFC3339_MAX];
    const char *obj_id; /* object of the last lookup, and what it is by now */
    enum obj_state obj;
    bool obj_claimed;   /* obj_id was just registered for the first time by this batch */
    const char *ref_id; /* object whose reference count rise is still to be written */
    int64_t ref_count;
    bool ref_claimed; /* ref_id was claimed here: it cannot be waiting for the collector */
    /* The end of the flow's last segment (the batch's included; INT64_MIN: none), so a segment
     * after it, the common case of ingest appending, needs no overlap seek. */
    bool tail_known;
    int64_t tail_hi;
};

/* Write the pending reference count rise: consecutive segments of one object (a long object
 * cut into many segments) cost one upsert. */
static int flush_ref(struct seg_batch *b)
{
    sqlite3_stmt *s;
    int rc;

    if (b->ref_count == 0)
        return 0;
    if (!(s = stmt(b->c, S_REF_ADD)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, b->ref_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, b->flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, b->ref_count);
    b->ref_count = 0;
    if ((rc = exec_stmt(b->c, s, "raise object reference")))
        return rc;
    /* Referenced again: no longer the collector's (a freshly claimed object never was). */
    return b->ref_claimed ? 0 : delete_by_id(b->c, S_OBJ_REREF, b->ref_id);
}

static void bind_opt(sqlite3_stmt *s, int i, bool has, int64_t v)
{
    if (has)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* Check and store one segment. *result gets 0 or the segment's own error (nothing of it is
 * written then); the return value is 0 or a failure that ends the whole batch. */
static int seg_add_one(struct seg_batch *b, const struct tams_segment *seg, int *result,
                       struct tams_buf *why)
{
    struct seg_end prev;
    sqlite3_stmt *s;
    int rc;

    *result = TAMS_ERR_VALIDATION;
    if (!seg->object_id || !seg->object_id[0] || !tams_timerange_is_bounded(&seg->tr)) {
        tams__why_add(why, "a segment needs an object_id and a bounded, non-empty timerange");
        return 0;
    }
    /* Stored segments never overlap, so hi grows with lo: of those starting at or before this
     * one's end, only the last can reach its start. One seek; earlier items of the batch are in
     * the table already, so this covers them too. A segment after the flow's last needs none. */
    if (!b->tail_known) {
        if ((rc = seg_seek(b->c, S_SEG_LAST_LE, b->flow_id, INT64_MAX, &prev)) < 0)
            return rc;
        b->tail_known = true;
        b->tail_hi = rc == 1 ? prev.hi : INT64_MIN;
    }
    if (seg->tr.lo <= b->tail_hi) /* a bounded start is never INT64_MIN */
        rc = seg_seek(b->c, S_SEG_LAST_LE, b->flow_id, seg->tr.hi, &prev);
    else
        rc = 0;
    if (rc < 0)
        return rc;
    if (rc == 1 && prev.hi >= seg->tr.lo) {
        struct tams_timerange other = {prev.lo, prev.hi, prev.start_incl, prev.end_incl};
        char a[TAMS_TIMERANGE_STRMAX], o[TAMS_TIMERANGE_STRMAX];

        tams_timerange_format(&seg->tr, a);
        tams_timerange_format(&other, o);
        tams__why_add(why, "segment %s overlaps segment %s of flow %s", a, o, b->flow_id);
        return 0;
    }
    rc = 0;
    if (!b->obj_id || strcmp(b->obj_id, seg->object_id) != 0) {
        /* Bulk ingest registers objects allocated for this flow: claim one with a single
         * seek, and look closer only when that does not apply. */
        if (!(s = stmt(b->c, S_OBJ_CLAIM)))
            return TAMS_ERR_STORE;
        sqlite3_bind_text(s, 1, seg->object_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, b->flow_id, -1, SQLITE_STATIC);
        if ((rc = exec_stmt(b->c, s, "claim object")))
            return rc;
        b->obj_claimed = sqlite3_changes(b->c->db) == 1;
        if (b->obj_claimed)
            b->obj = OBJ_REGISTERED;
        else if ((rc = object_state(b->c, seg->object_id, b->flow_id, &b->obj)))
            return rc;
        b->obj_id = seg->object_id;
    }
    switch (b->obj) {
    case OBJ_ALLOCATED_OTHER:
        tams__why_add(why,
                      "object '%s' was allocated for another flow and has not been registered yet",
                      seg->object_id);
        return 0;
    case OBJ_UNKNOWN:
        if (!seg->get_urls) {
            tams__why_add(
                why,
                "object '%s' is unknown: allocate it with POST /flows/{id}/storage or give"
                " get_urls",
                seg->object_id);
            return 0;
        }
        if (!(s = stmt(b->c, S_OBJ_INS_UNCONTROLLED)))
            return TAMS_ERR_STORE;
        sqlite3_bind_text(s, 1, seg->object_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, b->flow_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, b->now, -1, SQLITE_STATIC);
        rc = exec_stmt(b->c, s, "record uncontrolled object");
        break;
    case OBJ_ALLOCATED_HERE:
        if (!(s = stmt(b->c, S_OBJ_SET_FIRST)))
            return TAMS_ERR_STORE;
        sqlite3_bind_text(s, 1, seg->object_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, b->flow_id, -1, SQLITE_STATIC);
        rc = exec_stmt(b->c, s, "register object");
        break;
    case OBJ_REGISTERED:
        break;
    }
    if (rc)
        return rc;
    b->obj = OBJ_REGISTERED;

    if (!(s = stmt(b->c, S_SEG_INSERT)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, b->flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, seg->tr.lo);
    sqlite3_bind_int64(s, 3, seg->tr.hi);
    sqlite3_bind_int(s, 4, seg->tr.lo_incl);
    sqlite3_bind_int(s, 5, seg->tr.hi_incl);
    sqlite3_bind_text(s, 6, seg->object_id, -1, SQLITE_STATIC);
    bind_opt(s, 7, seg->has & TAMS_SEG_TS_OFFSET, seg->ts_offset);
    bind_opt(s, 8, seg->has & TAMS_SEG_LAST_DURATION, seg->last_duration);
    bind_opt(s, 9, seg->has & TAMS_SEG_SAMPLE_OFFSET, seg->sample_offset);
    bind_opt(s, 10, seg->has & TAMS_SEG_SAMPLE_COUNT, seg->sample_count);
    bind_opt(s, 11, seg->has & TAMS_SEG_KEY_FRAME_COUNT, seg->key_frame_count);
    if (seg->get_urls)
        sqlite3_bind_text(s, 12, seg->get_urls, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 12);
    if ((rc = exec_stmt(b->c, s, "insert segment")))
        return rc;

    if (b->ref_count && strcmp(b->ref_id, seg->object_id) != 0 && (rc = flush_ref(b)))
        return rc;
    if (!b->ref_count)
        b->ref_claimed = b->obj_claimed;
    b->ref_id = seg->object_id;
    b->ref_count++;
    if (seg->tr.hi > b->tail_hi)
        b->tail_hi = seg->tr.hi;
    *result = 0;
    return 0;
}

static int ev_segments_added(struct conn *c, const char *flow_id, const struct tams_segment *segs,
                             size_t n, const int *results, const char *now);

static int sqlite_segments_add(struct tams_store_be *st, const char *flow_id,
                               const struct tams_segment *segs, size_t n, int *results,
                               struct tams_buf *whys, const char *principal)
{
    struct seg_batch b = {.flow_id = flow_id, .obj = OBJ_UNKNOWN};
    /* Per-item outcomes are needed for the event even when the caller does not want them. */
    int *res_v = results ? results : (n ? tams_calloc(n, sizeof(*res_v)) : NULL);
    size_t added = 0;
    int rc = get_conn(st, &b.c);

    (void)principal; /* segment writes bump segments_updated only, not updated_by (§11.12) */
    for (size_t i = 0; i < n; i++)
        res_v[i] = 0;
    if (rc)
        goto fail;
    tams_clock_now_rfc3339(b.now);
    if ((rc = tx_begin(b.c)))
        goto fail;
    rc = media_flow_check(b.c, flow_id, "segments cannot be registered on it",
                          whys && n ? &whys[0] : NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int res;

        rc = seg_add_one(&b, &segs[i], &res, whys ? &whys[i] : NULL);
        if (rc == 0)
            res_v[i] = res;
        added += rc == 0 && res == 0;
    }
    if (rc == 0)
        rc = flush_ref(&b);
    if (rc == 0 && added) {
        sqlite3_stmt *s = stmt(b.c, S_FLOW_SEG_TOUCH);

        if (!s) {
            rc = TAMS_ERR_STORE;
        } else {
            sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, b.now, -1, SQLITE_STATIC);
            rc = exec_stmt(b.c, s, "touch flow segments");
        }
    }
    /* One flows/segments_added for the whole request, no flows/updated (lessons 17). */
    if (rc == 0 && added)
        rc = ev_segments_added(b.c, flow_id, segs, n, res_v, b.now);
    rc = tx_end(b.c, rc);
fail:
    /* Nothing was stored: every segment shares the batch's fate. */
    for (size_t i = 0; rc && i < n; i++)
        res_v[i] = rc;
    if (!results)
        tams_free(res_v);
    return rc;
}

/* The lo a segment page cursor carries, in canonical decimal only. */

struct seg_rows {
    struct tams_segment_rec *v;
    size_t n, cap;
    struct tams__strpool pool;
};

static void opt_col(sqlite3_stmt *s, int i, unsigned bit, unsigned *has, int64_t *v)
{
    if (sqlite3_column_type(s, i) != SQLITE_NULL) {
        *v = sqlite3_column_int64(s, i);
        *has |= bit;
    }
}

/* Copy a SEG_LIST_SQL row, so the statement can be reset before any callback runs. */
static void seg_row_read(sqlite3_stmt *s, struct seg_rows *rows)
{
    struct tams_segment_rec *r;
    struct tams_segment *g;

    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 16;
        rows->v = tams_realloc(rows->v, tams_st_mult(rows->cap, sizeof(*rows->v)));
    }
    r = &rows->v[rows->n++];
    memset(r, 0, sizeof(*r));
    g = &r->seg;
    g->tr.lo = sqlite3_column_int64(s, 0);
    g->tr.hi = sqlite3_column_int64(s, 1);
    g->tr.lo_incl = sqlite3_column_int(s, 2) != 0;
    g->tr.hi_incl = sqlite3_column_int(s, 3) != 0;
    g->object_id = tams__pool_dup(&rows->pool, col_str(s, 4));
    opt_col(s, 5, TAMS_SEG_TS_OFFSET, &g->has, &g->ts_offset);
    opt_col(s, 6, TAMS_SEG_LAST_DURATION, &g->has, &g->last_duration);
    opt_col(s, 7, TAMS_SEG_SAMPLE_OFFSET, &g->has, &g->sample_offset);
    opt_col(s, 8, TAMS_SEG_SAMPLE_COUNT, &g->has, &g->sample_count);
    opt_col(s, 9, TAMS_SEG_KEY_FRAME_COUNT, &g->has, &g->key_frame_count);
    g->get_urls = tams__pool_dup(&rows->pool, col_str(s, 10));
    r->controlled = sqlite3_column_int(s, 11) != 0; /* NULL (no object row) reads as 0 */
    if (r->controlled) {
        r->storage_id = tams__pool_dup(&rows->pool, col_str(s, 12));
        r->key = tams__pool_dup(&rows->pool, col_str(s, 13));
    }
}

static int sqlite_segments_list(struct tams_store_be *st, const char *flow_id,
                                const struct tams_segment_filter *f, const struct tams_page *page,
                                tams_segment_cb cb, void *ctx)
{
    static const enum sid shapes[2][2] = {{S_SEG_LIST, S_SEG_LIST_REV},
                                          {S_SEG_LIST_OBJ, S_SEG_LIST_OBJ_REV}};
    const struct tams_timerange *tr = f ? f->timerange : NULL;
    const char *object_id = f ? f->object_id : NULL;
    bool reverse = f && f->reverse, have_after, more = false;
    const char *kind = reverse ? "segments-rev" : "segments";
    int limit = page && page->limit > 0 ? page->limit : 100, rc;
    int64_t after = 0, lo_min = INT64_MIN, lo_max = INT64_MAX;
    struct seg_rows rows = {0};
    struct seg_end prev;
    struct conn *c;
    sqlite3_stmt *s;

    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if ((rc = tams__page_lo(page, kind, &have_after, &after)))
        return rc;
    if (tr && tams_timerange_is_empty(tr))
        return 0;
    if (tr) {
        lo_min = tr->lo;
        lo_max = tr->hi;
    }
    if ((rc = get_conn(st, &c)))
        return rc;
    if ((rc = tx_begin_read(c)))
        return rc;
    /* A flow being deleted lists nothing, like an unknown one. */
    if ((rc = exists(c, S_FLOW_HIDDEN, flow_id)) != 0) {
        (void)tx_end(c, 0);
        return rc < 0 ? rc : 0;
    }
    /* Overlap with X = lo in [L, X.hi], where L is the start of the one segment that starts
     * at or before X.lo and still reaches it (hi grows with lo), else X.lo. One seek, skipped
     * when an ascending cursor is past X.lo anyway. */
    if (tr && tr->lo != INT64_MIN && !(have_after && !reverse && after >= tr->lo)) {
        rc = seg_seek(c, S_SEG_LAST_LE, flow_id, tr->lo, &prev);
        if (rc == 1 && prev.hi >= tr->lo)
            lo_min = prev.lo;
        rc = rc < 0 ? rc : 0;
    }
    /* Keyset: continue after the last lo sent, in the listing's direction. */
    if (have_after && !reverse) {
        if (after == INT64_MAX)
            lo_min = INT64_MAX, lo_max = INT64_MIN;
        else if (after + 1 > lo_min)
            lo_min = after + 1;
    } else if (have_after) {
        if (after == INT64_MIN)
            lo_min = INT64_MAX, lo_max = INT64_MIN;
        else if (after - 1 < lo_max)
            lo_max = after - 1;
    }
    if (rc == 0 && lo_min <= lo_max) {
        if (!(s = stmt(c, shapes[object_id != NULL][reverse]))) {
            rc = TAMS_ERR_STORE;
        } else {
            sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, lo_min);
            sqlite3_bind_int64(s, 3, lo_max);
            if (object_id)
                sqlite3_bind_text(s, 4, object_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 5, (int64_t)limit + 1);
            while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                if ((int)rows.n == limit) {
                    more = true;
                    break;
                }
                seg_row_read(s, &rows);
            }
            rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "segments_list");
            done(s);
        }
    }
    if ((rc = tx_end(c, rc)))
        goto out;
    if (more && rows.n && page && page->next_key) {
        char key[32];

        snprintf(key, sizeof(key), "%" PRId64, rows.v[rows.n - 1].seg.tr.lo);
        if ((rc = tams_cursor_encode(page->next_key, kind, key)))
            goto out;
    }
    for (size_t i = 0; i < rows.n && rc == 0; i++)
        rc = cb(ctx, &rows.v[i]);
out:
    tams_free(rows.v);
    tams__pool_release(&rows.pool);
    return rc;
}

static int sqlite_objects_allocate(struct tams_store_be *st, const char *flow_id,
                                   const char *storage_id, const struct tams_object_alloc *objs,
                                   size_t n, struct tams_buf *why)
{
    char now[TAMS_RFC3339_MAX];
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    rc = media_flow_check(c, flow_id, "storage cannot be allocated for it", why);
    /* Inserting as we go also catches an id given twice; any failure rolls back all. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if ((rc = exists(c, S_OBJ_EXISTS, objs[i].id)) != 0) {
            if (rc == 1) {
                tams__why_add(why, "object id '%s' already exists", objs[i].id);
                rc = TAMS_ERR_VALIDATION;
            }
            break;
        }
        if (!(s = stmt(c, S_OBJ_INSERT))) {
            rc = TAMS_ERR_STORE;
            break;
        }
        sqlite3_bind_text(s, 1, objs[i].id, -1, SQLITE_STATIC);
        bind_str(s, 2, storage_id);
        sqlite3_bind_text(s, 3, objs[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, flow_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
        rc = exec_stmt(c, s, "allocate object");
    }
    return tx_end(c, rc);
}

/* Inside a read transaction: the object's first flow and a page of the flows using it. An
 * object no segment ever registered (allocated only) is NOTFOUND (notes §6.5). */
static int object_read(struct conn *c, const char *id, const char *after, int limit, char **first,
                       struct tams__strpool *flows, bool *more)
{
    sqlite3_stmt *s = stmt(c, S_OBJ_FIRST_REF);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "read object");
    if (rc <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    if (col_str(s, 0))
        *first = tams_strdup(col_str(s, 0));
    done(s);
    /* An object no segment references any more is not an object (notes §6.5), whatever it
     * was before; its row waits for the garbage collector. */
    if ((rc = exists(c, S_OBJ_HAS_VISIBLE_REFS, id)) <= 0)
        return rc < 0 ? rc : TAMS_ERR_NOTFOUND;
    if (!(s = stmt(c, S_OBJ_REF_FLOWS)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)limit + 1);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((int)flows->n == limit) {
            *more = true;
            break;
        }
        tams__pool_dup(flows, col_str(s, 0));
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "object flows");
    done(s);
    return rc;
}

static int sqlite_object_get(struct tams_store_be *st, const char *id, const struct tams_page *page,
                             tams_object_cb cb, void *ctx)
{
    struct tams_buf after = TAMS_BUF_INIT(TAMS_CURSOR_KEYMAX);
    struct tams_object_rec rec = {.id = id};
    struct tams__strpool flows = {0};
    int limit = page && page->limit > 0 ? page->limit : 100, rc;
    char *first = NULL;
    bool more = false;
    struct conn *c;

    if (page && page->next_key)
        tams_buf_reset(page->next_key);
    if ((rc = tams__page_after(page, "objflows", &after)))
        goto out;
    if ((rc = get_conn(st, &c)) || (rc = tx_begin_read(c)))
        goto out;
    rc = tx_end(c, object_read(c, id, after.data, limit, &first, &flows, &more));
    if (rc)
        goto out;
    if (more && flows.n && page && page->next_key &&
        (rc = tams_cursor_encode(page->next_key, "objflows", flows.v[flows.n - 1])))
        goto out;
    rec.referenced_by_flows = (const char *const *)flows.v;
    rec.nreferenced_by_flows = flows.n;
    rec.first_referenced_by_flow = first;
    rc = cb(ctx, &rec);
out:
    tams_free(first);
    tams__pool_release(&flows);
    tams_buf_release(&after);
    return rc;
}

/* One seek of the primary key per id, all in one read transaction; the rows are copied out so
 * the callbacks run after it ends. */
static int sqlite_objects_unregistered(struct tams_store_be *st, const char *const *ids, size_t n,
                                       tams_unregistered_object_cb cb, void *ctx)
{
    struct tams_unregistered_object *v = NULL;
    struct tams__strpool pool = {0};
    size_t found = 0, cap = 0;
    struct conn *c;
    sqlite3_stmt *s;
    int rc;

    if (!n)
        return 0;
    if ((rc = get_conn(st, &c)) || (rc = tx_begin_read(c)))
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!(s = stmt(c, S_OBJ_UNREGISTERED))) {
            rc = TAMS_ERR_STORE;
            break;
        }
        sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
        if ((rc = step_row(c, s, "read object")) <= 0)
            continue; /* 0: not one of them; < 0 ends the loop */
        if (found == cap) {
            cap = cap ? cap * 2 : 16;
            v = tams_realloc(v, tams_st_mult(cap, sizeof(*v)));
        }
        v[found].id = ids[i];
        v[found].storage_id = tams__pool_dup(&pool, col_str(s, 0));
        v[found].key = tams__pool_dup(&pool, col_str(s, 1));
        v[found].allocated_for_flow = tams__pool_dup(&pool, col_str(s, 2));
        found++;
        done(s);
        rc = 0;
    }
    rc = tx_end(c, rc);
    for (size_t i = 0; i < found && rc == 0; i++)
        rc = cb(ctx, &v[i]);
    tams_free(v);
    tams__pool_release(&pool);
    return rc;
}

/* ---- deletion ---------------------------------------------------------------------------- */

/* A selection of segments: wholly inside [lo, hi], of one object when object_id is set. */
struct del_sel {
    const char *flow_id;
    int64_t lo, hi;
    const char *object_id;
};

static void bind_sel(sqlite3_stmt *s, const struct del_sel *sel, int64_t upto)
{
    sqlite3_bind_text(s, 1, sel->flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, sel->lo);
    sqlite3_bind_int64(s, 3, upto);
    sqlite3_bind_int64(s, 4, sel->hi);
    if (sel->object_id)
        sqlite3_bind_text(s, 5, sel->object_id, -1, SQLITE_STATIC);
}

/* The (n+1)-th selected segment in time order: 1 (lo, start clusivity), 0 none, <0 error. */
static int sel_nth(struct conn *c, const struct del_sel *sel, int64_t n, int64_t *lo, bool *incl)
{
    sqlite3_stmt *s = stmt(c, sel->object_id ? S_SEG_SEL_NTH_OBJ : S_SEG_SEL_NTH);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    bind_sel(s, sel, sel->hi);
    sqlite3_bind_int64(s, 6, n);
    rc = step_row(c, s, "select segments");
    if (rc == 1) {
        *lo = sqlite3_column_int64(s, 0);
        *incl = sqlite3_column_int(s, 1) != 0;
        done(s);
    }
    return rc;
}

/* How many segments the selection holds, counting no further than `max` (index only). */
static int sel_count(struct conn *c, const struct del_sel *sel, int64_t max, int64_t *n)
{
    sqlite3_stmt *s = stmt(c, S_SEG_SEL_COUNT);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    bind_sel(s, sel, sel->hi);
    sqlite3_bind_int64(s, 6, max);
    rc = step_row(c, s, "count segments");
    if (rc == 1) {
        *n = sqlite3_column_int64(s, 0);
        done(s);
        rc = 0;
    }
    return rc;
}

/* `count` fewer segments of flow_id use object_id; an object left with no reference at all is
 * stamped with the time, which starts the collector's grace period. */
static int ref_drop(struct conn *c, const char *object_id, const char *flow_id, int64_t count,
                    const char *now)
{
    sqlite3_stmt *s = stmt(c, S_REF_SUB);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, count);
    if ((rc = exec_stmt(c, s, "lower object reference")))
        return rc;
    if (sqlite3_changes(c->db))
        return 0; /* this flow still uses it */
    if (!(s = stmt(c, S_REF_DEL)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, flow_id, -1, SQLITE_STATIC);
    if ((rc = exec_stmt(c, s, "drop object reference")))
        return rc;
    if (!(s = stmt(c, S_OBJ_UNREF)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
    return exec_stmt(c, s, "stamp unreferenced object");
}

/* Delete the first `max` selected segments in time order (max <= 0: all of them) and lower
 * the reference counts of their objects, inside the caller's transaction. Three statements
 * whatever the count: find the batch's last lo, count per object, delete the range. */
static int ev_seg_runs(struct conn *c, const struct del_sel *sel, int64_t upto, const char *now);

static int sel_delete(struct conn *c, const struct del_sel *sel, int64_t max, const char *now,
                      int64_t *deleted, bool emit)
{
    struct tams__strpool ids = {0};
    int64_t *counts = NULL, upto = sel->hi;
    size_t cap = 0;
    sqlite3_stmt *s;
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
    if (!(s = stmt(c, sel->object_id ? S_SEG_SEL_REFS_OBJ : S_SEG_SEL_REFS)))
        return TAMS_ERR_STORE;
    bind_sel(s, sel, upto);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (ids.n == cap) {
            cap = cap ? cap * 2 : 16;
            counts = tams_realloc(counts, tams_st_mult(cap, sizeof(*counts)));
        }
        counts[ids.n] = sqlite3_column_int64(s, 1);
        tams__pool_dup(&ids, col_str(s, 0));
    }
    done(s);
    if (rc != SQLITE_DONE) {
        rc = sqlerr(c, rc, "count segment objects");
        goto out;
    }
    if (!(s = stmt(c, sel->object_id ? S_SEG_SEL_DEL_OBJ : S_SEG_SEL_DEL))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    bind_sel(s, sel, upto);
    if ((rc = exec_stmt(c, s, "delete segments")))
        goto out;
    *deleted = sqlite3_changes64(c->db);
    for (size_t i = 0; i < ids.n && rc == 0; i++)
        rc = ref_drop(c, ids.v[i], sel->flow_id, counts[i], now);
out:
    tams_free(counts);
    tams__pool_release(&ids);
    return rc;
}

static int touch_segments(struct conn *c, const char *flow_id, const char *now)
{
    sqlite3_stmt *s = stmt(c, S_FLOW_SEG_TOUCH);

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
    return exec_stmt(c, s, "touch flow segments");
}

/* now + seconds, as RFC 3339. */

static void bind_rfc(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int sqlite_delete_start(struct tams_store_be *st, const struct tams_delete_spec *spec,
                               unsigned *effects, tams_delete_request_cb cb, void *ctx)
{
    struct del_sel sel = {spec->flow_id, INT64_MIN, INT64_MAX, spec->object_id};
    struct tams_delete_request rec = {0};
    struct tams_timerange shown;
    struct flow_state fs = {0};
    char now[TAMS_RFC3339_MAX], id[TAMS_UUID_STRLEN + 1], text[TAMS_TIMERANGE_STRMAX];
    unsigned eff = 0;
    int64_t n = 0;
    bool deferred = false;
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (effects)
        *effects = 0;
    if (rc)
        return rc;
    if (spec->timerange) {
        sel.lo = spec->timerange->lo;
        sel.hi = spec->timerange->hi;
        shown = *spec->timerange;
    } else {
        tams_timerange_eternity(&shown);
    }
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    if ((rc = read_flow_state(c, spec->flow_id, &fs)))
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
        goto out; /* an empty range selects nothing */
    /* A deletion request cannot carry an object_id (notes §7.1): those run now, whatever the
     * size. Otherwise count no further than the limit, on the index. */
    if (!spec->object_id) {
        if ((rc = sel_count(c, &sel, spec->sync_limit + 1, &n)))
            goto out;
        deferred = n > spec->sync_limit;
    }
    if (!deferred) {
        if ((rc = sel_delete(c, &sel, 0, now, &n, !spec->delete_flow)))
            goto out;
        if (spec->delete_flow)
            rc = remove_flow(c, spec->flow_id, fs.source_id, now, &eff, true);
        else if (n)
            rc = touch_segments(c, spec->flow_id, now);
        goto out;
    }
    /* Deferred: record the request. A flow to delete shows its own timerange (notes §7.2). */
    if (spec->delete_flow) {
        struct seg_end first, last;

        tams_timerange_empty(&shown);
        if ((rc = seg_seek(c, S_SEG_FIRST_GT, spec->flow_id, INT64_MIN, &first)) < 0 ||
            (rc = seg_seek(c, S_SEG_LAST_LE, spec->flow_id, INT64_MAX, &last)) < 0)
            goto out;
        shown = (struct tams_timerange){first.lo, last.hi, first.start_incl, last.end_incl};
    }
    tams_timerange_format(&shown, text);
    tams_uuid_v4(id);
    if (!(s = stmt(c, S_DR_INSERT))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, spec->flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, sel.lo);
    sqlite3_bind_int64(s, 4, sel.hi);
    sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, shown.hi);
    sqlite3_bind_int(s, 7, shown.hi_incl);
    sqlite3_bind_int(s, 8, spec->delete_flow);
    bind_rfc(s, 9, now);
    bind_str(s, 10, spec->principal);
    if ((rc = exec_stmt(c, s, "record deletion request")))
        goto out;
    eff |= TAMS_EFFECT_DEFERRED;
    if (spec->delete_flow) {
        /* Gone for clients from now on: hidden, out of every collection. Its segments,
         * references, row and source go with the request's last step. */
        if ((rc = ev_flow_deleted(c, spec->flow_id, fs.source_id, now)) ||
            (rc = delete_by_id(c, S_FLOW_HIDE, spec->flow_id)) ||
            (rc = drop_from_collectors(c, spec->flow_id, now)) ||
            (rc = delete_by_id(c, S_COLL_DEL, spec->flow_id)))
            goto out;
    }
out:
    rc = tx_end(c, rc);
    if (rc == 0 && effects)
        *effects = eff;
    if (rc == 0 && (eff & TAMS_EFFECT_DEFERRED) && cb) {
        rec.id = id;
        rec.flow_id = spec->flow_id;
        rec.timerange_to_delete = text;
        rec.timerange_remaining = text;
        rec.delete_flow = spec->delete_flow;
        rec.status = "created";
        rec.created = now;
        rec.created_by = spec->principal;
        rec.updated = now;
        rc = cb(ctx, &rec);
    }
    flow_state_release(&fs);
    return rc;
}

static void dr_rec_read(sqlite3_stmt *s, struct tams_delete_request *r, struct tams__strpool *p)
{
    memset(r, 0, sizeof(*r));
    r->id = tams__pool_dup(p, col_str(s, 0));
    r->flow_id = tams__pool_dup(p, col_str(s, 1));
    r->timerange_to_delete = tams__pool_dup(p, col_str(s, 2));
    r->timerange_remaining = tams__pool_dup(p, col_str(s, 3));
    r->delete_flow = sqlite3_column_int(s, 4) != 0;
    r->status = tams__pool_dup(p, col_str(s, 5));
    r->created = tams__pool_dup(p, col_str(s, 6));
    r->created_by = tams__pool_dup(p, col_str(s, 7));
    r->updated = tams__pool_dup(p, col_str(s, 8));
    r->expiry = tams__pool_dup(p, col_str(s, 9));
    r->error = tams__pool_dup(p, col_str(s, 10));
}

/* Rows of a DR_COLS statement (bound by the caller), copied, then handed to cb. */
static int dr_query(struct conn *c, sqlite3_stmt *s, bool one, tams_delete_request_cb cb, void *ctx)
{
    struct tams_delete_request *v = NULL;
    struct tams__strpool pool = {0};
    size_t n = 0, cap = 0;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = tams_realloc(v, tams_st_mult(cap, sizeof(*v)));
        }
        dr_rec_read(s, &v[n++], &pool);
    }
    done(s);
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "read deletion requests");
    if (rc == 0 && one && !n)
        rc = TAMS_ERR_NOTFOUND;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &v[i]);
    tams_free(v);
    tams__pool_release(&pool);
    return rc;
}

static int sqlite_delete_requests_list(struct tams_store_be *st, const char *now,
                                       tams_delete_request_cb cb, void *ctx)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_DR_LIST)))
        return TAMS_ERR_STORE;
    bind_rfc(s, 1, now);
    return dr_query(c, s, false, cb, ctx);
}

static int sqlite_delete_request_get(struct tams_store_be *st, const char *id, const char *now,
                                     tams_delete_request_cb cb, void *ctx)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_DR_GET)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    bind_rfc(s, 2, now);
    return dr_query(c, s, true, cb, ctx);
}

/* The unfinished request a worker step works on. */
struct dr_work {
    char *id, *flow_id;
    int64_t sel_lo, sel_hi, hi;
    bool hi_incl, delete_flow;
};

static int dr_finish(struct conn *c, const char *id, const char *status, const char *now,
                     int64_t ttl, const char *error)
{
    char expiry[TAMS_RFC3339_MAX];
    sqlite3_stmt *s = stmt(c, S_DR_FINISH);

    if (!s)
        return TAMS_ERR_STORE;
    tams__time_after(ttl, expiry);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, "()", -1, SQLITE_STATIC);
    bind_rfc(s, 4, now);
    bind_rfc(s, 5, expiry);
    bind_str(s, 6, error);
    return exec_stmt(c, s, "finish deletion request");
}

/* One batch of w, inside the caller's transaction. */
static int dr_step(struct conn *c, const struct dr_work *w, int batch, int64_t ttl, const char *now)
{
    struct del_sel sel = {w->flow_id, w->sel_lo, w->sel_hi, NULL};
    struct flow_state fs = {0};
    int64_t n, lo;
    bool incl;
    int rc;

    if ((rc = sel_delete(c, &sel, batch > 0 ? batch : 1, now, &n, !w->delete_flow)))
        return rc;
    if (n && !w->delete_flow && (rc = touch_segments(c, w->flow_id, now)))
        return rc;
    rc = sel_nth(c, &sel, 0, &lo, &incl);
    if (rc == 1) {
        struct tams_timerange left = {lo, w->hi, incl, w->hi_incl};
        char text[TAMS_TIMERANGE_STRMAX];
        sqlite3_stmt *s = stmt(c, S_DR_PROGRESS);

        if (!s)
            return TAMS_ERR_STORE;
        if (w->hi == INT64_MAX)
            left.hi_incl = false;
        tams_timerange_format(&left, text);
        sqlite3_bind_text(s, 1, w->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
        bind_rfc(s, 3, now);
        return exec_stmt(c, s, "advance deletion request");
    }
    if (rc < 0)
        return rc;
    /* Nothing left: the flow goes too when asked, and the request is done. */
    if (w->delete_flow) {
        if ((rc = read_flow_state(c, w->flow_id, &fs)) == 0 && fs.exists)
            rc = remove_flow(c, w->flow_id, fs.source_id, now, NULL, false);
        flow_state_release(&fs);
        if (rc)
            return rc;
    }
    return dr_finish(c, w->id, "done", now, ttl, NULL);
}

static int sqlite_delete_requests_step(struct tams_store_be *st, int batch, int64_t ttl,
                                       bool *worked)
{
    struct dr_work w = {0};
    char now[TAMS_RFC3339_MAX];
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    *worked = false;
    if (rc)
        return rc;
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    if (!(s = stmt(c, S_DR_PURGE))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    bind_rfc(s, 1, now);
    if ((rc = exec_stmt(c, s, "purge deletion requests")))
        goto out;
    if (!(s = stmt(c, S_DR_NEXT))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    rc = step_row(c, s, "next deletion request");
    if (rc <= 0)
        goto out;
    w.id = tams_strdup(col_str(s, 0));
    w.flow_id = tams_strdup(col_str(s, 1));
    w.sel_lo = sqlite3_column_int64(s, 2);
    w.sel_hi = sqlite3_column_int64(s, 3);
    w.hi = sqlite3_column_int64(s, 4);
    w.hi_incl = sqlite3_column_int(s, 5) != 0;
    w.delete_flow = sqlite3_column_int(s, 6) != 0;
    done(s);
    *worked = true;
    rc = dr_step(c, &w, batch, ttl, now);
out:
    rc = tx_end(c, rc < 0 ? rc : 0);
    if (rc == TAMS_ERR_STORE && w.id) {
        /* Not a passing state (busy is UNAVAILABLE and simply retried): the request ends
         * in error, with the error.json shape; the flow stays hidden. */
        char err[512];

        tams_log_error("deletion request %s failed", w.id);
        snprintf(err, sizeof(err),
                 "{\"type\":\"%s\",\"summary\":\"the metadata store failed while deleting flow "
                 "%s; see the server log\",\"time\":\"%s\"}",
                 tams_err_type(rc), w.flow_id, now);
        if (tx_begin(c) == 0)
            (void)tx_end(c, dr_finish(c, w.id, "error", now, ttl, err));
    }
    tams_free(w.id);
    tams_free(w.flow_id);
    return rc;
}

/* ---- garbage collection ------------------------------------------------------------------ */

struct gc_cand {
    const char *id, *storage_id, *key;
    bool controlled;
};

static int gc_take(struct conn *c, enum sid q, const char *cutoff, int limit, const char *now,
                   size_t *taken)
{
    struct tams__strpool pool = {0};
    struct gc_cand *v = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *s = stmt(c, q);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    bind_rfc(s, 1, cutoff);
    sqlite3_bind_int64(s, 2, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = tams_realloc(v, tams_st_mult(cap, sizeof(*v)));
        }
        v[n].id = tams__pool_dup(&pool, col_str(s, 0));
        v[n].controlled = sqlite3_column_int(s, 1) != 0;
        v[n].storage_id = tams__pool_dup(&pool, col_str(s, 2));
        v[n].key = tams__pool_dup(&pool, col_str(s, 3));
        n++;
    }
    done(s);
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "find garbage");
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* The row goes only if no segment references the object, checked by the same
         * statement that removes it. */
        if ((rc = delete_by_id(c, S_GC_TAKE, v[i].id)) || !sqlite3_changes(c->db))
            continue;
        (*taken)++;
        if (!v[i].controlled || !v[i].key || !v[i].key[0])
            continue; /* uncontrolled media is not ours: forgotten only */
        if (!(s = stmt(c, S_TRASH_INS))) {
            rc = TAMS_ERR_STORE;
            break;
        }
        sqlite3_bind_text(s, 1, v[i].id, -1, SQLITE_STATIC);
        bind_str(s, 2, v[i].storage_id);
        sqlite3_bind_text(s, 3, v[i].key, -1, SQLITE_STATIC);
        bind_rfc(s, 4, now);
        rc = exec_stmt(c, s, "queue media deletion");
    }
    tams_free(v);
    tams__pool_release(&pool);
    return rc;
}

static int sqlite_gc_collect(struct tams_store_be *st, const struct tams_gc_params *p,
                             size_t *taken)
{
    char now[TAMS_RFC3339_MAX], grace[TAMS_RFC3339_MAX], unused[TAMS_RFC3339_MAX];
    int64_t us = tams_clock_wall_us();
    int limit = p->batch > 0 ? p->batch : 1000;
    struct conn *c;
    int rc = get_conn(st, &c);

    *taken = 0;
    if (rc)
        return rc;
    tams_clock_rfc3339(us, now);
    tams_clock_rfc3339(us - p->grace * 1000000, grace);
    tams_clock_rfc3339(us - p->unused_after * 1000000, unused);
    if ((rc = tx_begin(c)))
        return rc;
    rc = gc_take(c, S_GC_UNREF, grace, limit, now, taken);
    if (rc == 0)
        rc = gc_take(c, S_GC_UNUSED, unused, limit, now, taken);
    return tx_end(c, rc);
}

static int sqlite_gc_trash_list(struct tams_store_be *st, int limit, tams_trash_cb cb, void *ctx)
{
    struct tams_trash_rec *v = NULL;
    struct tams__strpool pool = {0};
    char now[TAMS_RFC3339_MAX];
    size_t n = 0, cap = 0;
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_TRASH_DUE)))
        return TAMS_ERR_STORE;
    tams_clock_now_rfc3339(now);
    bind_rfc(s, 1, now);
    sqlite3_bind_int64(s, 2, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = tams_realloc(v, tams_st_mult(cap, sizeof(*v)));
        }
        v[n].id = sqlite3_column_int64(s, 0);
        v[n].object_id = tams__pool_dup(&pool, col_str(s, 1));
        v[n].storage_id = tams__pool_dup(&pool, col_str(s, 2));
        v[n].key = tams__pool_dup(&pool, col_str(s, 3));
        n++;
    }
    done(s);
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "read trash");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &v[i]);
    tams_free(v);
    tams__pool_release(&pool);
    return rc;
}

static int sqlite_gc_trash_done(struct tams_store_be *st, int64_t id)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_TRASH_DEL)))
        return TAMS_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    return exec_stmt(c, s, "empty trash entry");
}

static int sqlite_gc_trash_retry(struct tams_store_be *st, int64_t id, int64_t delay)
{
    char when[TAMS_RFC3339_MAX];
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_TRASH_RETRY)))
        return TAMS_ERR_STORE;
    tams__time_after(delay, when);
    sqlite3_bind_int64(s, 1, id);
    bind_rfc(s, 2, when);
    return exec_stmt(c, s, "postpone trash entry");
}

/* ---- events (the outbox) and webhooks ---------------------------------------------------- */

/* 1 when some webhook is registered, 0 when none, <0 on error. Without webhooks no event is
 * written: a webhook only ever receives events written after it was registered. */
static int hooks_on(struct conn *c)
{
    sqlite3_stmt *s = stmt(c, S_HOOKS_ANY);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    rc = step_row(c, s, "look for webhooks");
    if (rc == 1)
        done(s);
    return rc;
}

/* What a flow's events are filtered by (notes §8.3), read inside the transaction. */
struct ev_snap {
    struct tams__strpool pool;
    const char *source_id, *flow_cb, *source_cb;
};

static int snap_source(struct conn *c, struct ev_snap *sn)
{
    sqlite3_stmt *s = stmt(c, S_SOURCE_COLLECTED_BY);
    struct tams_buf b = TAMS_BUF_INIT(1 << 20);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, sn->source_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (b.len)
            tams_buf_addch(&b, ',');
        tams_buf_addstr(&b, col_str(s, 0));
    }
    done(s);
    if (rc != SQLITE_DONE) {
        tams_buf_release(&b);
        return sqlerr(c, rc, "read source collections");
    }
    sn->source_cb = b.len ? tams__pool_keep(&sn->pool, tams_buf_detach(&b, NULL)) : NULL;
    tams_buf_release(&b);
    return 0;
}

/* The flow's source and both collected_by lists; NOTFOUND when the row is gone. */
static int snap_flow(struct conn *c, const char *flow_id, struct ev_snap *sn)
{
    sqlite3_stmt *s = stmt(c, S_FLOW_SNAP);
    int rc;

    if (!s)
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
    rc = step_row(c, s, "read flow for an event");
    if (rc <= 0)
        return rc ? rc : TAMS_ERR_NOTFOUND;
    sn->source_id = tams__pool_dup(&sn->pool, col_str(s, 0));
    sn->flow_cb = tams__pool_dup(&sn->pool, col_str(s, 1));
    done(s);
    return snap_source(c, sn);
}

static int ev_insert(struct conn *c, const char *type, const char *now, const char *flow_id,
                     const struct ev_snap *sn, const struct tams_buf *payload)
{
    char ts[TAMS_RFC3339_MAX];
    sqlite3_stmt *s;

    if (!tams_buf_ok(payload)) {
        tams_log_error("sqlite: %s event of flow/source '%s' is too large", type,
                       flow_id ? flow_id : sn->source_id);
        return TAMS_ERR_TOOBIG;
    }
    if (!now) {
        tams_clock_now_rfc3339(ts);
        now = ts;
    }
    if (!(s = stmt(c, S_EV_INSERT)))
        return TAMS_ERR_STORE;
    sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_TRANSIENT);
    bind_str(s, 3, flow_id);
    bind_str(s, 4, sn->source_id);
    bind_str(s, 5, sn->flow_cb && sn->flow_cb[0] ? sn->flow_cb : NULL);
    bind_str(s, 6, sn->source_cb && sn->source_cb[0] ? sn->source_cb : NULL);
    sqlite3_bind_text(s, 7, payload->data, (int)payload->len, SQLITE_STATIC);
    return exec_stmt(c, s, "write event");
}

#define EV_PAYLOAD_MAX (256u << 20)

struct ev_flow_ctx {
    struct tams_buf *out;
};

static int ev_flow_render(void *ctx, const struct tams_flow_rec *rec)
{
    tams_outbox_flow(((struct ev_flow_ctx *)ctx)->out, rec);
    return 0;
}

static int ev_flow(struct conn *c, const char *type, const char *flow_id, const char *now)
{
    struct ev_snap sn = {0};
    struct tams_buf payload = TAMS_BUF_INIT(EV_PAYLOAD_MAX);
    struct ev_flow_ctx ctx = {&payload};
    struct tams_flow_rec rec;
    struct tams__strpool keep = {0};
    const char *coll = NULL;
    sqlite3_stmt *s;
    int rc = hooks_on(c);

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(c, flow_id, &sn)))
        goto out;
    if (!(s = stmt(c, S_FLOW_GET_ANY))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    sqlite3_bind_text(s, 1, flow_id, -1, SQLITE_STATIC);
    if ((rc = step_row(c, s, "read flow for an event")) <= 0) {
        rc = rc ? rc : TAMS_ERR_NOTFOUND;
        goto out;
    }
    flow_rec_read(s, &rec, &coll, &keep);
    done(s);
    if ((rc = emit_flow(&rec, coll, ev_flow_render, &ctx)))
        goto out;
    rc = ev_insert(c, type, now, flow_id, &sn, &payload);
out:
    tams__pool_release(&keep);
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
    struct source_rows rows = {0};
    int rc = hooks_on(c);

    if (rc <= 0)
        return rc;
    if ((rc = snap_source(c, &sn)))
        goto out;
    if (strcmp(type, TAMS_EV_SOURCE_DELETED) == 0) {
        tams_outbox_id(&payload, "source_id", source_id);
    } else {
        sqlite3_stmt *s = stmt(c, S_SOURCE_GET);
        bool more;

        if (!s) {
            rc = TAMS_ERR_STORE;
            goto out;
        }
        sqlite3_bind_text(s, 1, source_id, -1, SQLITE_STATIC);
        rc = source_query(c, s, 1, &rows, &more);
        done(s);
        if (rc == 0 && !rows.n)
            rc = TAMS_ERR_NOTFOUND;
        if (rc == 0)
            rc = emit_sources(&rows, ev_source_render, &payload);
        if (rc)
            goto out;
    }
    rc = ev_insert(c, type, now, NULL, &sn, &payload);
out:
    source_rows_release(&rows);
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
        sqlite3_stmt *s;

        if (results[i])
            continue;
        if (!(s = stmt(c, S_OBJ_INFO))) {
            rc = TAMS_ERR_STORE;
            break;
        }
        sqlite3_bind_text(s, 1, segs[i].object_id, -1, SQLITE_STATIC);
        rc = step_row(c, s, "read object for an event");
        if (rc == 1) {
            bool controlled = sqlite3_column_int(s, 0) != 0;
            tams_outbox_segment(&j, &segs[i], controlled, controlled ? col_str(s, 1) : NULL,
                                controlled ? col_str(s, 2) : NULL);
            done(s);
            rc = 0;
        } else if (rc == 0) {
            tams_outbox_segment(&j, &segs[i], false, NULL, NULL);
        }
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
    struct tams_timerange run = {0};
    struct tams_buf payload = TAMS_BUF_INIT(4096);
    bool open = false;
    sqlite3_stmt *s;
    int rc = hooks_on(c), step;

    if (rc <= 0)
        return rc;
    if ((rc = snap_flow(c, sel->flow_id, &sn)))
        goto out;
    if (!(s = stmt(c, S_SEG_RUNS))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    bind_sel(s, sel, upto);
    for (;;) {
        bool selected = false, flush;

        step = sqlite3_step(s);
        if (step == SQLITE_ROW)
            selected = sqlite3_column_int(s, 4) != 0;
        flush = open && (step != SQLITE_ROW || !selected);
        if (flush) {
            tams_buf_reset(&payload);
            tams_outbox_segments_deleted(&payload, sel->flow_id, &run);
            if ((rc = ev_insert(c, TAMS_EV_SEGMENTS_DELETED, now, sel->flow_id, &sn, &payload)))
                break;
            open = false;
        }
        if (step != SQLITE_ROW)
            break;
        if (!selected)
            continue;
        if (!open) {
            run.lo = sqlite3_column_int64(s, 0);
            run.lo_incl = sqlite3_column_int(s, 2) != 0;
            open = true;
        }
        run.hi = sqlite3_column_int64(s, 1);
        run.hi_incl = sqlite3_column_int(s, 3) != 0;
    }
    done(s);
    if (rc == 0 && step != SQLITE_DONE)
        rc = sqlerr(c, step, "read deleted segments");
out:
    tams__pool_release(&sn.pool);
    tams_buf_release(&payload);
    return rc;
}

static int sqlite_webhook_put(struct tams_store_be *st, const struct tams_webhook_rec *rec,
                              enum tams_webhook_put_result *result)
{
    char now[TAMS_RFC3339_MAX], *id = NULL;
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    tams_clock_now_rfc3339(now);
    if ((rc = tx_begin(c)))
        return rc;
    if (!(s = stmt(c, S_WH_FIND))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    bind_str(s, 1, rec->url);
    bind_str(s, 2, rec->api_key_name);
    bind_str(s, 3, rec->api_key_value);
    rc = step_row(c, s, "find webhook");
    if (rc < 0)
        goto out;
    if (rc == 1) {
        id = tams_strdup(col_str(s, 0));
        done(s);
    }
    rc = 0;
    if (!rec->doc) {
        *result = TAMS_WEBHOOK_REMOVED;
        if (id && (rc = delete_by_id(c, S_WH_DELETE, id)) == 0)
            rc = run(c, S_EV_PURGE);
    } else if (id) {
        *result = TAMS_WEBHOOK_UPDATED;
        if (!(s = stmt(c, S_WH_UPDATE))) {
            rc = TAMS_ERR_STORE;
            goto out;
        }
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, rec->doc, -1, SQLITE_STATIC);
        rc = exec_stmt(c, s, "update webhook");
    } else {
        *result = TAMS_WEBHOOK_CREATED;
        if (!(s = stmt(c, S_WH_INSERT))) {
            rc = TAMS_ERR_STORE;
            goto out;
        }
        sqlite3_bind_text(s, 1, rec->id, -1, SQLITE_STATIC);
        bind_str(s, 2, rec->url);
        bind_str(s, 3, rec->api_key_name);
        bind_str(s, 4, rec->api_key_value);
        bind_str(s, 5, rec->owner);
        sqlite3_bind_text(s, 6, rec->doc, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, now, -1, SQLITE_STATIC);
        rc = exec_stmt(c, s, "register webhook");
    }
out:
    tams_free(id);
    return tx_end(c, rc);
}

static int sqlite_webhook_list(struct tams_store_be *st, tams_webhook_cb cb, void *ctx)
{
    struct tams_webhook_rec *v = NULL;
    struct tams__strpool pool = {0};
    size_t n = 0, cap = 0;
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_WH_LIST)))
        return TAMS_ERR_STORE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = tams_realloc(v, tams_st_mult(cap, sizeof(*v)));
        }
        v[n].id = tams__pool_dup(&pool, col_str(s, 0));
        v[n].url = tams__pool_dup(&pool, col_str(s, 1));
        v[n].api_key_name = tams__pool_dup(&pool, col_str(s, 2));
        v[n].api_key_value = tams__pool_dup(&pool, col_str(s, 3));
        v[n].owner = tams__pool_dup(&pool, col_str(s, 4));
        v[n].doc = tams__pool_dup(&pool, col_str(s, 5));
        v[n].cursor = sqlite3_column_int64(s, 6);
        n++;
    }
    done(s);
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "list webhooks");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &v[i]);
    tams_free(v);
    tams__pool_release(&pool);
    return rc;
}

static int sqlite_events_after(struct tams_store_be *st, int64_t after, int limit, tams_event_cb cb,
                               void *ctx)
{
    struct tams_event_rec *v = NULL;
    struct tams__strpool pool = {0};
    size_t n = 0, cap = 0;
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    if (rc)
        return rc;
    if (!(s = stmt(c, S_EV_AFTER)))
        return TAMS_ERR_STORE;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int(s, 2, limit > 0 ? limit : 1);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = tams_realloc(v, tams_st_mult(cap, sizeof(*v)));
        }
        v[n].seq = sqlite3_column_int64(s, 0);
        v[n].type = tams__pool_dup(&pool, col_str(s, 1));
        v[n].timestamp = tams__pool_dup(&pool, col_str(s, 2));
        v[n].flow_id = tams__pool_dup(&pool, col_str(s, 3));
        v[n].source_id = tams__pool_dup(&pool, col_str(s, 4));
        v[n].flow_collected_by = tams__pool_dup(&pool, col_str(s, 5));
        v[n].source_collected_by = tams__pool_dup(&pool, col_str(s, 6));
        v[n].payload = tams__pool_dup(&pool, col_str(s, 7));
        n++;
    }
    done(s);
    rc = rc == SQLITE_DONE ? 0 : sqlerr(c, rc, "read events");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &v[i]);
    tams_free(v);
    tams__pool_release(&pool);
    return rc;
}

/* One process uses the file, so there are no leases: owner is not checked. */
static int sqlite_webhook_advance(struct tams_store_be *st, const char *id, const char *owner,
                                  int64_t seq)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    (void)owner;
    if (rc)
        return rc;
    if ((rc = tx_begin(c)))
        return rc;
    if (!(s = stmt(c, S_WH_ADVANCE))) {
        rc = TAMS_ERR_STORE;
        goto out;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, seq);
    if ((rc = exec_stmt(c, s, "advance webhook")))
        goto out;
    if (sqlite3_changes(c->db) == 0)
        rc = TAMS_ERR_NOTFOUND;
    else
        rc = run(c, S_EV_PURGE);
out:
    return tx_end(c, rc);
}

static int sqlite_events_pending(struct tams_store_be *st, int64_t *count)
{
    struct conn *c;
    sqlite3_stmt *s;
    int rc = get_conn(st, &c);

    *count = 0;
    if (rc)
        return rc;
    if (!(s = stmt(c, S_EV_PENDING)))
        return TAMS_ERR_STORE;
    rc = step_row(c, s, "count pending events");
    if (rc == 1) {
        *count = sqlite3_column_int64(s, 0);
        done(s);
        rc = 0;
    }
    return rc;
}

const struct tams_store_ops tams_store_sqlite_ops = {
    .name = "sqlite",
    .caps = 0,
    .open = sqlite_open,
    .close = sqlite_close,
    .ping = sqlite_ping,
    .setting_get = sqlite_setting_get,
    .setting_set = sqlite_setting_set,
    .flow_put = sqlite_flow_put,
    .flow_get = sqlite_flow_get,
    .flow_mutate = sqlite_flow_mutate,
    .flow_delete = sqlite_flow_delete,
    .flow_list = sqlite_flow_list,
    .flow_timerange = sqlite_flow_timerange,
    .source_get = sqlite_source_get,
    .source_list = sqlite_source_list,
    .source_set_prop = sqlite_source_set_prop,
    .source_set_tag = sqlite_source_set_tag,
    .generation = sqlite_generation,
    .segments_add = sqlite_segments_add,
    .segments_list = sqlite_segments_list,
    .objects_allocate = sqlite_objects_allocate,
    .object_get = sqlite_object_get,
    .objects_unregistered = sqlite_objects_unregistered,
    .delete_start = sqlite_delete_start,
    .delete_requests_list = sqlite_delete_requests_list,
    .delete_request_get = sqlite_delete_request_get,
    .delete_requests_step = sqlite_delete_requests_step,
    .gc_collect = sqlite_gc_collect,
    .gc_trash_list = sqlite_gc_trash_list,
    .gc_trash_done = sqlite_gc_trash_done,
    .gc_trash_retry = sqlite_gc_trash_retry,
    .webhook_put = sqlite_webhook_put,
    .webhook_list = sqlite_webhook_list,
    .events_after = sqlite_events_after,
    .webhook_advance = sqlite_webhook_advance,
    .events_pending = sqlite_events_pending,
};
