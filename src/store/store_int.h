/* SPDX-License-Identifier: Apache-2.0 */
/* store_int.h - what the store's resource files share; internal to src/store/.
 *
 * Every function here runs inside the caller's transaction on db (see db.h) and returns 0 or a
 * negative tams_err (or TAMS_DB_RETRY, which the driver answers by running the operation
 * again).
 */
#ifndef TAMS_STORE_STORE_INT_H
#define TAMS_STORE_STORE_INT_H

#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/random.h"
#include "store/db.h"
#include "store/store.h"

/* Shorthand for statement parameters in the resource files (TAMS_DB_ARGS and its kin, db.h):
 * tams_db_exec(db, &q, ARGS(TEXT(id), INT(n)), NULL). */
#define ARGS TAMS_DB_ARGS
#define NO_ARGS TAMS_DB_NO_ARGS
#define TEXT TAMS_DB_TEXT_P
#define TEXTN TAMS_DB_TEXTN_P
#define INT TAMS_DB_INT_P
#define INT_OR_NULL TAMS_DB_INT_OR_NULL_P

#define TAMS__SQL_MAX 16384      /* generated listing SQL: fits MAX_TAG_FILTERS and the rest */
#define TAMS__MAX_TAG_FILTERS 64 /* more tag.* / tag_exists.* parameters in one query: BADQUERY */

/* ---- strings that live for one operation (store.c) ---- */

/* Copies of row values that must outlive their rows, freed together. */
struct tams__strs {
    char **v;
    size_t n, cap;
};

/* Keep s (already allocated) until release; returns s. */
const char *tams__strs_keep(struct tams__strs *k, char *s);
/* A kept copy of s; NULL stays NULL. */
const char *tams__strs_dup(struct tams__strs *k, const char *s);
void tams__strs_release(struct tams__strs *k);

/* Runs one read statement (q, or the generated sql) on its own and keeps its rows for the
 * caller: read them after the operation with tams_db_next (callbacks may then use the store),
 * release them with tams_db_done (also after an error). */
int tams__fetch(struct tams_store *st, struct tams_sql *q, const char *sql,
                const struct tams_db_param *v, int n, struct tams_db_rows *rows);

/* Queue the media of the controlled items of an objects.instances array (JSON text or NULL)
 * in the collector's trash (instances.c). */
int tams__instances_trash(struct tams_db *db, const char *object_id, const char *instances,
                          const char *now);

/* Append a summary to why, which may be NULL. */
void tams__why_add(struct tams_buf *why, const char *fmt, ...) TAMS_PRINTF(2, 3);
/* Cut why back to len: what an attempt appended goes before the operation runs again. */
void tams__why_cut(struct tams_buf *why, size_t len);

/* The key of a page cursor of this kind: an integer (segment lo) or a UUID (listings).
 * *have / nothing appended when the page has no cursor; TAMS_ERR_BADPAGE when forged. */
int tams__page_lo(const struct tams_page *page, const char *kind, bool *have, int64_t *out);
int tams__page_after(const struct tams_page *page, const char *kind, struct tams_buf *key);
/* The page's limit (100 when unset); next_key emptied. */
int tams__page_start(const struct tams_page *page);

/* RFC 3339 time `seconds` from now (clamped so it cannot overflow). */
void tams__time_after(int64_t seconds, char out[TAMS_RFC3339_MAX]);

/* Tag filters of a listing as " AND ..." conditions on outer (the listed id column), with
 * parameters appended to p. */
/* Writes tag t of id as its rows (schema_sqlite.c, entry 7: pos -1 a string, 0.. a list's
 * values, -2 an empty list) with q, an INSERT taking (id, name, pos, value). */
int tams__tag_rows(struct tams_db *db, struct tams_sql *q, const char *id,
                   const struct tams_tag *t);
/* Do these tag filters and `more` other parameters fit one statement of a listing? (Else the
 * listing is BADQUERY.) */
bool tams__filters_fit(const struct tams_tag_filter *tags, size_t ntags, size_t more);
void tams__tag_filters(enum tams_db_dialect dialect, struct tams_buf *sql, struct tams_db_params *p,
                       const char *table, const char *idcol, const char *outer,
                       const struct tams_tag_filter *tags, size_t ntags);
/* " AND <cond>" where cond holds one "?%d" for the next parameter. */
void tams__cond_text(struct tams_buf *sql, struct tams_db_params *p, const char *cond,
                     const char *v);
void tams__cond_int(struct tams_buf *sql, struct tams_db_params *p, const char *cond, int64_t v);

/* ---- flows (flows.c) ---- */

struct tams__flow_state {
    bool exists, read_only;
    bool deleting;   /* hidden: a deletion request is removing it */
    char *source_id; /* owned */
    char *doc;       /* owned */
};

/* Serialises the writers of one flow, whether it exists yet or not, until the transaction
 * ends (a shared database; one writer at a time needs nothing). */
int tams__flow_lock(struct tams_db *db, const char *id);
/* Reads the flow's row (and, in a shared database, locks it until the transaction ends). */
int tams__flow_state_read(struct tams_db *db, const char *id, struct tams__flow_state *fs);
void tams__flow_state_release(struct tams__flow_state *fs);
/* The flow, hidden or not, as a record for cb; NOTFOUND when there is no row. */
int tams__flow_read_any(struct tams_db *db, const char *id, tams_flow_cb cb, void *ctx);
/* Takes flow id out of every other flow's collection: rows and documents (flows/updated for
 * each), then its memberships. */
int tams__flow_leave_collections(struct tams_db *db, const char *id, const char *now);
/* Puts member_id back at the end of collector_id's collection with role: row and document
 * (flows/updated); nothing when the collection lists it already. */
int tams__flow_join_collection(struct tams_db *db, const char *collector_id, const char *member_id,
                               const char *role, const char *now);
/* Hides the flow from clients (reads and writes NOTFOUND, PUT CONFLICT) while a deletion
 * request removes it, and takes it out of every collection, its own included. */
int tams__flow_hide(struct tams_db *db, const char *id, const char *now);
/* The flow and everything of it: memberships, segments, references (objects left without one
 * are stamped for the collector), tags, collection rows, the row, and its source when it was
 * the last flow (*eff |= SOURCE_DELETED; eff may be NULL). With flow_event, flows/deleted
 * first. Object rows stay for the collector. */
int tams__flow_remove(struct tams_db *db, const char *id, const char *source_id, const char *now,
                      unsigned *eff, bool flow_event);

/* The first segment starting after `at`, or the last starting at or before it:
 * 1 = found, 0 = none. */
struct tams__seg_end {
    int64_t lo, hi;
    bool start_incl, end_incl;
};
int tams__seg_first_after(struct tams_db *db, const char *flow_id, int64_t at,
                          struct tams__seg_end *out);
int tams__seg_last_from(struct tams_db *db, const char *flow_id, int64_t at,
                        struct tams__seg_end *out);
/* Segment writes stamp the flow's segments_updated. */
int tams__flow_touch_segments(struct tams_db *db, const char *flow_id, const char *now);

/* ---- a registration batch's analytics aggregates, in-process (seg_stats.c) ---- */

struct tams__seg_stats_storage {
    char *id; /* '' for uncontrolled objects */
    int64_t segments, bytes;
};

/* What a batch adds to the aggregates; zero-initialised, released after. */
struct tams__seg_stats {
    int64_t segments, covered, first_lo, last_hi; /* of the segments added */
    int64_t objects, unsized, bytes;              /* of the references new to the flow */
    struct tams__seg_stats_storage *storage;      /* one per backend met, usually one */
    size_t nstorage;
};
/* Counts one segment added. */
void tams__seg_stats_segment(struct tams__seg_stats *t, const struct tams_segment *seg);
/* Counts a run of segments on one object of backend storage_id ('' for none): its size (-1:
 * unknown) when the reference is fresh (new to the flow). */
void tams__seg_stats_run(struct tams__seg_stats *t, const char *storage_id, int64_t segments,
                         int64_t size, bool fresh);
/* Writes what the batch added: three upserts, one more per other backend. */
int tams__seg_stats_write(struct tams_db *db, const char *flow_id, const struct tams__seg_stats *t);
void tams__seg_stats_release(struct tams__seg_stats *t);
/* init_objects.c (TAMS 8.2 init objects). Refuses (results[i], whys[i] when whys) the items
 * of a registration, among those not failed yet, whose object is an init object or whose
 * init_object_id is unknown, a media object, or allocated for another flow; or whose given
 * object_timerange differs from the object's (stored, or given by an earlier item). An item without
 * init_object_id whose object has one gets it: *own (NULL until then; the caller frees it)
 * becomes a copy of segs with it filled in, the strings in inherited. */
int tams__init_check(struct tams_db *db, const char *flow_id, const struct tams_segment *segs,
                     size_t n, int *results, struct tams_buf *whys, struct tams_segment **own,
                     struct tams__strs *inherited);
/* After the items are stored: the references the added ones (results[i] 0) hold on their init
 * objects, which become init objects for good. */
int tams__init_claim(struct tams_db *db, const char *flow_id, const struct tams_segment *segs,
                     size_t n, const int *results);
/* The gap before seg, appended after the flow's last segment, which ended at tail_hi
 * (INT64_MIN: none): a row only after a hole. */
int tams__seg_gap_append(struct tams_db *db, const char *flow_id, int64_t tail_hi,
                         const struct tams_segment *seg);
/* seg, just stored before the flow's end after the segment ending at prev_hi (when has_prev):
 * the gap it fell into gives way to the gaps between it and its neighbours. */
int tams__seg_gaps_insert(struct tams_db *db, const char *flow_id, const struct tams_segment *seg,
                          bool has_prev, int64_t prev_hi);

/* ---- sources (sources.c) ---- */

/* The source of a flow being written: VALIDATION when it exists with another format, created
 * when new (*effects |= SOURCE_CREATED; effects may be NULL). */
int tams__source_ensure(struct tams_db *db, const struct tams_flow_index *idx, const char *now,
                        const char *principal, unsigned *effects, struct tams_buf *why);
/* Deletes a source no flow uses any more (*effects |= SOURCE_DELETED; sources/deleted). */
int tams__source_drop_if_orphan(struct tams_db *db, const char *source_id, unsigned *effects);
/* The sources whose flows collect a flow of this source, comma-joined (*out allocated; NULL
 * when none). */
int tams__source_collected_by(struct tams_db *db, const char *source_id, char **out);
/* The source as a record for cb; NOTFOUND when there is none. */
int tams__source_read(struct tams_db *db, const char *id, tams_source_cb cb, void *ctx);

/* ---- the outbox (events.c) ---- */

/* Each appends one event in the caller's write transaction, and nothing when no webhook is
 * registered. now may be NULL (the current time). */
int tams__ev_flow(struct tams_db *db, const char *type, const char *flow_id, const char *now);
int tams__ev_flow_deleted(struct tams_db *db, const char *flow_id, const char *source_id,
                          const char *now);
int tams__ev_source(struct tams_db *db, const char *type, const char *source_id, const char *now);
/* flows/segments_added for the segments whose results[i] is 0. */
int tams__ev_segments_added(struct tams_db *db, const char *flow_id,
                            const struct tams_segment *segs, size_t n, const int *results,
                            const char *now);

/* A selection of segments to delete: wholly inside [lo, hi], of one object when object_id is
 * set, and starting at or before `upto` (a batch's end). */
struct tams__del_sel {
    const char *flow_id;
    int64_t lo, hi;
    const char *object_id;
};
/* flows/segments_deleted, one per run of selected segments (no kept segment between them),
 * each with the hull of its run; before they go. */
int tams__ev_segments_deleted(struct tams_db *db, const struct tams__del_sel *sel, int64_t upto,
                              const char *now);

/* ---- segments (segments.c) ---- */

/* Registers segs on flow_id inside the caller's transaction, exactly as
 * tams_store_segments_add does (results[i] per item; flow-level failures returned). */
/* segments.c: the flow a media write goes to (segments, storage) must exist (NOTFOUND), be
 * writable (READONLY) and have a container (VALIDATION, notes §11.14), and (refuse_init) not
 * say init_segments (VALIDATION); what says what was refused ("segments cannot be registered
 * on it"), in why. */
int tams__media_flow_check(struct tams_db *db, const char *flow_id, const char *what,
                           bool refuse_init, struct tams_buf *why);
int tams__segments_add_in(struct tams_db *db, const char *flow_id, const struct tams_segment *segs,
                          size_t n, int *results);

/* ---- the soft-delete bin (bin.c) ---- */

/* A new entry for spec's deletion (id written to id); pending while a deletion request fills
 * it. Expires `spec->retention` seconds from now. */
int tams__bin_open(struct tams_db *db, const struct tams_delete_spec *spec, const char *source_id,
                   const char *timerange, bool pending, const char *now,
                   char id[TAMS_UUID_STRLEN + 1]);
/* Copies the flow's row, tags and collection, and its source's row and tags, into the entry. */
int tams__bin_keep_flow(struct tams_db *db, const char *bin_id, const char *flow_id,
                        const char *source_id);
/* Copies the selected segments up to `upto` (about to be deleted) into the entry. One
 * statement, one more for the entry's count. */
int tams__bin_keep_segments(struct tams_db *db, const char *bin_id, const struct tams__del_sel *sel,
                            int64_t upto);
/* The entry's deletion request is done (pending no more), or found nothing: forgotten. */
int tams__bin_settle(struct tams_db *db, const char *bin_id);
int tams__bin_forget(struct tams_db *db, const char *bin_id);

#endif
