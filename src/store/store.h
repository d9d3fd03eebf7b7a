/* SPDX-License-Identifier: Apache-2.0 */
/* store.h - the metadata store: the domain operations on sources, flows, segments, objects,
 * deletion requests, garbage and webhooks, over SQLite or PostgreSQL.
 *
 * Contract for every operation:
 * - Thread-safe. SQLite: each calling thread uses its own connection, opened on first use;
 *   PostgreSQL: connections come from a pool.
 * - One logical change is one transaction: it happens whole or not at all.
 * - Returns 0 or a negative tams_err: NOTFOUND, VALIDATION (with a summary appended to `why`,
 *   which may be NULL), READONLY, BADPAGE, STORE (the database failed; details are logged, not
 *   returned to clients), UNAVAILABLE (the database is away; retry later).
 * - Strings handed to callbacks are valid only during the callback. A callback that returns
 *   non-zero stops the iteration and the operation returns that value. Callbacks run after the
 *   operation's transaction has ended, so they may use the store again.
 * - No SQL outside src/store/.
 */
#ifndef TAMS_STORE_STORE_H
#define TAMS_STORE_STORE_H

#include "core/common.h"
#include "core/buf.h"
#include "tams/flow.h"
#include "tams/timerange.h"

#include <json-c/json.h>

struct tams_store;

enum tams_store_caps {
    /* Several processes may share the store: background work is leased (webhook delivery
     * with tams_store_webhook_lease, deletion and collection with row locks). */
    TAMS_STORE_CAP_LEASES = 1 << 0,
};

/* A page of a keyset-paged listing. `after` is the opaque cursor from the previous page's
 * next_key (NULL for the first page); next_key receives the cursor of the next page, or stays
 * empty when this is the last page. Cursors are validated: a forged one is BADPAGE. */
struct tams_page {
    const char *after;
    int limit; /* already clamped by the caller, >= 1 */
    struct tams_buf *next_key;
};

/* Filters of GET /flows; NULL / -1 / 0 means "not given". Tags: `tag.{name}=value`, and
 * `tag_exists.{name}=true|false`. All given filters are ANDed. */
struct tams_tag_filter {
    const char *name;
    const char *value; /* for tag.{name}; NULL for tag_exists */
    bool exists;       /* for tag_exists.{name} */
    /* 8.2's tag.{name}=a,b: any of these values (value is the text as given); NULL: value alone */
    const char *const *values;
    size_t nvalues;
};

/* The order of a listing: TAMS_SORT_ID is 7.0's (by id); the others are 8.2's sort_by, each
 * in its default direction (times newest first, label alphabetical, unset labels after), all
 * reversed by reverse (docs/tams-8.2-changes.md, entries 12 and 18). */
enum tams_sort_by {
    TAMS_SORT_ID,
    TAMS_SORT_CREATED,
    TAMS_SORT_UPDATED,          /* sources */
    TAMS_SORT_METADATA_UPDATED, /* flows */
    TAMS_SORT_LABEL,
};

/* collected_by_ids (8.2): given, the rows collected by any of ids (n of them), or with n == 0
 * those collected by none. */
struct tams_collected_filter {
    bool given;
    const char *const *ids;
    size_t n;
};

struct tams_flow_filter {
    const char *source_id, *format, *codec, *label;
    int64_t frame_width, frame_height;      /* -1 = not given */
    const struct tams_timerange *timerange; /* NULL = not given; empty = flows without segments */
    const struct tams_tag_filter *tags;
    size_t ntags;
    enum tams_sort_by sort; /* TAMS_SORT_UPDATED is not one of a flow's */
    bool reverse;
    struct tams_collected_filter collected_by;
    /* 8.2 (docs/tams-8.2-changes.md 15, 16, 17): NULL = not given; an absent init_segments counts
     * as false. */
    const char *status, *profile_id;
    const bool *init_segments;
};

struct tams_source_filter {
    const char *format, *label;
    const struct tams_tag_filter *tags;
    size_t ntags;
    enum tams_sort_by sort; /* TAMS_SORT_METADATA_UPDATED is not one of a source's */
    bool reverse;
    struct tams_collected_filter collected_by;
};

/* A flow as read: the stored document (server members stripped) and the server's own fields. */
struct tams_flow_rec {
    const char *id;
    const char *doc; /* JSON object text */
    size_t doclen;
    const char *created, *metadata_updated, *segments_updated; /* RFC 3339; updated may be NULL */
    const char *created_by, *updated_by;                       /* NULL when unknown */
    bool read_only;
    const char *const *collected_by; /* ids of flows whose flow_collection lists this flow */
    size_t ncollected_by;
};

struct tams_collection_ref {
    const char *id, *role;
};

struct tams_source_rec {
    const char *id, *format;
    const char *label, *description; /* NULL when unset */
    const char *created, *updated, *created_by, *updated_by;
    const struct tams_tag *tags;
    size_t ntags;
    const struct tams_collection_ref *source_collection; /* derived from flow collections */
    size_t nsource_collection;
    const char *const *collected_by;
    size_t ncollected_by;
};

/* ---- segments and objects ---- */

enum tams_segment_has {
    TAMS_SEG_TS_OFFSET = 1 << 0,
    TAMS_SEG_LAST_DURATION = 1 << 1,
    TAMS_SEG_SAMPLE_OFFSET = 1 << 2,
    TAMS_SEG_SAMPLE_COUNT = 1 << 3,
    TAMS_SEG_KEY_FRAME_COUNT = 1 << 4,
    TAMS_SEG_OBJECT_SIZE = 1 << 5, /* registration only: object_size and object_storage */
    /* registration only: object_timerange was derived from sample_offset/sample_count (7.0),
     * so it says the samples used, not the object's timerange: never the object's, never
     * checked against it */
    TAMS_SEG_OTR_DERIVED = 1 << 6,
};

/* A segment as registered (POST) and as read back. */
struct tams_segment {
    struct tams_timerange tr; /* bounded, non-empty (checked by the caller) */
    const char *object_id;
    int64_t ts_offset, last_duration, sample_offset, sample_count, key_frame_count;
    /* The object's bytes and backend, when the caller asked that backend (analytics). */
    int64_t object_size;
    const char *object_storage;
    unsigned has;         /* enum tams_segment_has: which optional members are set */
    const char *get_urls; /* client-given (uncontrolled) get_urls as JSON array text, or NULL */
    /* TAMS 8.2: the object's timerange on its own timeline, as canonical timerange text, when
     * the registration gave it (or derived it from sample_offset/sample_count and the flow's
     * rate); NULL: not given (docs/tams-8.2-changes.md, 23). */
    const char *object_timerange;
    /* TAMS 8.2: the init object the media object needs (ADR0045), or NULL. */
    const char *init_object_id;
};

/* A segment read back, with what get_urls are built from. */
struct tams_segment_rec {
    struct tams_segment seg;
    bool controlled;        /* the object lives in one of our storage backends */
    const char *storage_id; /* backend of a controlled object */
    const char *key;        /* object key in that backend, fixed at allocation */
    const char *instances;  /* the object's further instances (tams_object_inst), or NULL */
    /* The object's timerange as first given by any registration (canonical text), or NULL. */
    const char *object_timerange;
    /* Where seg.init_object_id's bytes are, as controlled/storage_id/key above. */
    bool init_controlled;
    const char *init_storage_id, *init_key;
};

/* An object's instances (TAMS 8.2, ADR0038): the one it was allocated in (controlled) or
 * registered with (its segments' get_urls), and the further ones, a JSON array text of
 * {"storage_id", "key"} (copies tamsd made into its backends) and {"url", "label"} (the
 * client's uncontrolled URLs), NULL when there are none. */
struct tams_object_inst {
    bool controlled;
    const char *storage_id, *key; /* a controlled object's; NULL otherwise */
    const char *instances;
};
typedef int (*tams_object_inst_cb)(void *ctx, const struct tams_object_inst *o);

struct tams_segment_filter {
    const struct tams_timerange *timerange; /* NULL = all; segments overlapping it */
    const char *object_id;                  /* NULL = any */
    bool reverse;                           /* newest first */
};

struct tams_object_rec {
    const char *id;
    const char *const *referenced_by_flows; /* this page of them */
    size_t nreferenced_by_flows;
    const char *first_referenced_by_flow; /* NULL when unknown */
    /* For 8.2's Object (docs/tams-8.2-changes.md, 28): where its bytes are (storage_id and
     * key when controlled), and what its first segment (of its first flow, else any) says of
     * it: its uncontrolled get_urls (JSON text or NULL), key_frame_count (-1: not given), and
     * the object's timerange (objects.timerange, else that segment's object_timerange, else
     * its timerange less ts_offset; the canonical text, NULL when no segment is left). */
    bool controlled;
    const char *storage_id, *key;
    const char *get_urls;
    int64_t key_frame_count;
    const char *timerange;
    bool is_init; /* named as init_object_id by some segment: no timerange */
    /* A media object's init object (as its first registration named it), or NULL, and where
     * its bytes are. */
    const char *init_object_id;
    bool init_controlled;
    const char *init_storage_id, *init_key;
    const char *instances; /* the object's further instances (tams_object_inst), or NULL */
};

/* An object to allocate: id and key are chosen by the caller (key is fixed from now on). */
struct tams_object_alloc {
    const char *id, *key;
};

/* A controlled object allocated (POST /flows/{id}/storage) that no segment registered yet: its
 * bytes may not have been uploaded. */
struct tams_unregistered_object {
    const char *id;
    const char *storage_id;         /* the backend it was allocated in */
    const char *key;                /* its key there */
    const char *allocated_for_flow; /* the flow it was allocated for */
};

typedef int (*tams_segment_cb)(void *ctx, const struct tams_segment_rec *rec);
typedef int (*tams_object_cb)(void *ctx, const struct tams_object_rec *rec);
typedef int (*tams_unregistered_object_cb)(void *ctx, const struct tams_unregistered_object *rec);

typedef int (*tams_flow_cb)(void *ctx, const struct tams_flow_rec *rec);
typedef int (*tams_source_cb)(void *ctx, const struct tams_source_rec *rec);
/* Mutates a parsed flow document in place inside the store's transaction. Returns 0 to commit,
 * or a tams_err (with why) to roll back; that value is the operation's result. */
typedef int (*tams_flow_mutate_fn)(void *ctx, json_object *doc, struct tams_buf *why);

enum tams_source_prop { TAMS_SOURCE_LABEL, TAMS_SOURCE_DESCRIPTION };

/* Result flags of writes, so the caller can emit events and pick 201 vs 204. */
enum tams_write_effects {
    TAMS_EFFECT_CREATED = 1 << 0,
    TAMS_EFFECT_SOURCE_CREATED = 1 << 1,
    TAMS_EFFECT_SOURCE_DELETED = 1 << 2,
    TAMS_EFFECT_DEFERRED = 1 << 3, /* a deletion was recorded as a request, not done now */
};

/* ---- deletion requests and garbage collection ---- */

/* What to delete: segments of a flow wholly inside `timerange` (NULL = all) and, when given,
 * using `object_id`; with delete_flow, the flow itself after all its segments. */
struct tams_delete_spec {
    const char *flow_id;
    const struct tams_timerange *timerange; /* NULL = all; not with delete_flow */
    const char *object_id;                  /* NULL = any; such deletions are never deferred */
    bool delete_flow;
    int64_t sync_limit; /* more segments than this: deferred to a deletion request */
    const char *principal;
    int64_t retention; /* > 0: soft delete, kept in the bin this many seconds (bin.c) */
};

/* A deletion request (deletion-request.json). Optional members are NULL when unset. */
struct tams_delete_request {
    const char *id, *flow_id;
    const char *timerange_to_delete, *timerange_remaining; /* canonical TimeRange text */
    bool delete_flow;
    const char *status; /* "created", "started", "done" or "error" */
    const char *created, *created_by, *updated, *expiry;
    const char *error; /* error.json object as JSON text, only with status "error" */
};

/* An object the collector took from the store: its media is still to be deleted. */
struct tams_trash_rec {
    int64_t id;
    const char *object_id, *storage_id, *key;
};

/* Settings of one collector round (seconds, and rows per transaction). */
struct tams_gc_params {
    int64_t grace;        /* after the last reference went */
    int64_t unused_after; /* after allocation, for objects no segment ever used */
    int batch;
};

/* An entry of the soft-delete bin (docs/soft-delete.md): one deletion, what it removed kept
 * until `expires`. */
struct tams_bin_rec {
    const char *id;
    const char *kind; /* "flow" (the flow, its segments, its source if it was the last) or
                         "segments" (a range of a flow's segments) */
    const char *flow_id, *source_id;
    const char *timerange; /* what was deleted, as the deletion named it */
    const char *object_id; /* the deletion's object_id filter, or NULL */
    const char *deleted, *deleted_by, *expires;
    int64_t segments; /* how many segments it holds */
    bool pending;     /* a deletion request is still filling it: no restore, no purge */
};

typedef int (*tams_bin_cb)(void *ctx, const struct tams_bin_rec *rec);

typedef int (*tams_delete_request_cb)(void *ctx, const struct tams_delete_request *rec);
typedef int (*tams_trash_cb)(void *ctx, const struct tams_trash_rec *rec);

/* ---- webhooks and the event outbox (notes §8) ---- */

/* A webhook registration. Identity is (url, api_key_name, api_key_value), the value known by
 * its keyed hash api_key_id (events/secrets.h); id is a hidden UUID the server gives it. The
 * value itself is kept only sealed (api_key_sealed); api_key_value is a value an older release
 * kept in clear, until tams_store_webhook_seal replaces it. owner is a principal namespaced by
 * kind (auth/auth.h; "legacy:NAME" for an older release's un-namespaced name), NULL when
 * anonymous, and owner_scopes the scopes it had when it last registered. doc is the
 * registration as GET lists it (webhook.json without api_key_value), JSON object text. cursor
 * is the seq of the last event this webhook is done with (delivered, filtered out, withheld or
 * given up). status is "created", "started", "disabled" or "error" (8.2; only the first two
 * are delivered), error its error body (error.json text) or NULL; api ("7.0", "8.2") and
 * prefix ("" at the root, else "/tams/vX.Y") are what it was registered under. */
struct tams_webhook_rec {
    const char *id;
    const char *url, *api_key_name; /* name NULL when not given */
    const char *api_key_id;         /* NULL when no key */
    const char *api_key_sealed;     /* NULL when no key (or still in clear) */
    const char *api_key_value;      /* listings only: a clear value of an older release */
    const char *owner;              /* NULL when anonymous */
    unsigned owner_scopes;
    const char *doc;
    int64_t cursor;
    const char *status, *error, *api, *prefix;
};

/* What the one who registers may do (tams_store_webhook_put). */
struct tams_webhook_caller {
    bool admin;            /* may change or remove any registration, keeping its owner */
    const char *legacy;    /* it may claim registrations owned by this ("legacy:NAME"), or NULL */
    int64_t max_per_owner; /* registrations one owner may have; <= 0: no limit */
};

/* An event of the outbox. Every store write that fires an event appends it in the same
 * transaction (nothing when no webhook is registered then: a webhook only receives events
 * written after it was registered). payload is the `event` member as JSON text, except for
 * flows/segments_added, where it is {"flow_id":..., "segments":[...]} with each segment in its
 * stored form plus "_object":{"controlled","storage_id","key"} so get_urls can be built per
 * webhook at delivery, and for one with an init object "_init" (the same and "object_id"). The
 * filter snapshot (ids, collected_by lists as comma-separated UUIDs, NULL when none) is taken at
 * the change, so a deleted flow still filters. */
struct tams_event_rec {
    int64_t seq; /* increasing: the delivery order */
    const char *type, *timestamp;
    const char *flow_id, *source_id;
    const char *flow_collected_by, *source_collected_by;
    const char *payload;
};

typedef int (*tams_webhook_cb)(void *ctx, const struct tams_webhook_rec *rec);
typedef int (*tams_event_cb)(void *ctx, const struct tams_event_rec *rec);

enum tams_webhook_put_result { TAMS_WEBHOOK_CREATED, TAMS_WEBHOOK_UPDATED, TAMS_WEBHOOK_REMOVED };

/* Opens the store named by url: "" or "sqlite:PATH" (SQLite; default PATH =
 * <data_dir>/tams.db), "postgresql://..." or "postgres://..." (PostgreSQL, a libpq URI), and
 * applies pending migrations. pool_size: connections of a PostgreSQL store (<= 0: 16); SQLite
 * opens one per thread. On failure *out is NULL and why (may be NULL) says what failed. */
int tams_store_open(struct tams_store **out, const char *url, const char *data_dir, int pool_size,
                    struct tams_buf *why);
/* Closes every connection. No operation may run concurrently. NULL is allowed. */
void tams_store_close(struct tams_store *st);
/* "sqlite" or "postgresql". */
const char *tams_store_name(const struct tams_store *st);
/* enum tams_store_caps bits. */
unsigned tams_store_caps(const struct tams_store *st);
/* Cheap liveness check of this thread's connection. */
int tams_store_ping(struct tams_store *st);
/* A connection pool's state, for GET /metrics. */
struct tams_store_pool {
    int size;          /* connections in the pool */
    int in_use;        /* handed out now */
    int waiting;       /* threads waiting for one now */
    uint64_t timeouts; /* waits that gave up (the request got 503) since the start */
};
/* Fills *out; false when the store has no pool (SQLite). */
bool tams_store_pool(struct tams_store *st, struct tams_store_pool *out);
/* A number that changes after every committed write that may change the stored document of
 * id (a flow or a source), so a reader can tell whether what it cached may be stale. Writes
 * to one flow's segments move it for that flow only (and the few ids sharing its bucket);
 * other writes move it for every id. id NULL: moved by those other writes only. */
uint64_t tams_store_generation(struct tams_store *st, const char *id);

/* Service settings (name, description, ...): a small key-value table. */
int tams_store_setting_get(struct tams_store *st, const char *key, struct tams_buf *out);
int tams_store_setting_set(struct tams_store *st, const char *key, const char *value);

/* Flows. doc is the validated document with server members stripped; idx is built from it.
 * Creates the source when new (format copied); a source whose format differs is
 * VALIDATION; an existing read-only flow is READONLY; unknown collection members are
 * VALIDATION. *effects gets TAMS_EFFECT_* bits. */
int tams_store_flow_put(struct tams_store *st, const struct tams_flow_index *idx, const char *doc,
                        size_t doclen, const char *principal, unsigned *effects,
                        struct tams_buf *why);
/* As tams_store_flow_put, only while the stored document is still `expect` (NULL: while the
 * flow does not exist); else TAMS_ERR_CONFLICT with *stale set, nothing written. A write
 * computed from the stored document (a 7.0 PUT merging it) reads, computes and tries again. */
int tams_store_flow_put_if(struct tams_store *st, const struct tams_flow_index *idx,
                           const char *doc, size_t doclen, const char *expect,
                           const char *principal, unsigned *effects, bool *stale,
                           struct tams_buf *why);
int tams_store_flow_get(struct tams_store *st, const char *id, tams_flow_cb cb, void *ctx);
/* Reads, lets fn change, re-validates (tams_flow_validate), re-indexes and writes back the
 * document, bumping metadata_updated/updated_by. A read-only flow is READONLY unless
 * allow_read_only (only PUT /flows/{id}/read_only). */
int tams_store_flow_mutate(struct tams_store *st, const char *id, bool allow_read_only,
                           tams_flow_mutate_fn fn, void *ctx, const char *principal,
                           struct tams_buf *why);
/* Deletes the flow, its segments and collection rows; the source goes with its last flow.
 * READONLY for a read-only flow. */
int tams_store_flow_delete(struct tams_store *st, const char *id, unsigned *effects);
int tams_store_flow_list(struct tams_store *st, const struct tams_flow_filter *f,
                         const struct tams_page *page, tams_flow_cb cb, void *ctx);
/* Hull of the flow's segments overlapping `within` (NULL = all); empty when none. */
int tams_store_flow_timerange(struct tams_store *st, const char *id,
                              const struct tams_timerange *within, struct tams_timerange *out);

/* Sources. */
int tams_store_source_get(struct tams_store *st, const char *id, tams_source_cb cb, void *ctx);
int tams_store_source_list(struct tams_store *st, const struct tams_source_filter *f,
                           const struct tams_page *page, tams_source_cb cb, void *ctx);
/* value NULL = unset. */
int tams_store_source_set_prop(struct tams_store *st, const char *id, enum tams_source_prop prop,
                               const char *value, const char *principal);
/* Writes tag->name: tag->value NULL deletes it (NOTFOUND when it does not exist); else the
 * string or list (tams/tag.h) replaces it. v70: a TAMS 7.0 write of the string tag->value,
 * which keeps a stored list a list and is CONFLICT (nothing changed) over a list of several
 * values (tams_tag_70_write, docs/tams-8.2-changes.md entry 10). */
int tams_store_source_set_tag(struct tams_store *st, const char *id, const struct tams_tag *tag,
                              bool v70, const char *principal);

/* Segments. All in one transaction: the flow must exist (NOTFOUND), not be read-only
 * (READONLY) and have a container (VALIDATION). Each segment is then checked on its own:
 * it must not overlap a stored segment or an earlier one of the batch; its object must
 * have been allocated for this flow (or registered by any flow before), or, when unknown,
 * the segment must carry get_urls (the object is then recorded as uncontrolled). results[i]
 * gets 0 or the segment's error, with a summary appended to whys[i]. Good segments are
 * stored, object reference counts raised and segments_updated set, even when others fail.
 * Returns 0 when the batch ran. */
int tams_store_segments_add(struct tams_store *st, const char *flow_id,
                            const struct tams_segment *segs, size_t n, int *results,
                            struct tams_buf *whys, const char *principal);
/* The same for a TAMS 7.0 request, which cannot name init objects: a flow whose document says
 * essence_parameters.init_segments is refused whole (VALIDATION, why in whys[0]), read in the
 * statement that checks the flow (docs/tams-8.2-changes.md 22). */
int tams_store_segments_add_70(struct tams_store *st, const char *flow_id,
                               const struct tams_segment *segs, size_t n, int *results,
                               struct tams_buf *whys, const char *principal);
/* Keyset-paged in time order (or reversed); an unknown flow lists nothing. Cost is
 * O(log n + page) whatever the flow's length. */
int tams_store_segments_list(struct tams_store *st, const char *flow_id,
                             const struct tams_segment_filter *f, const struct tams_page *page,
                             tams_segment_cb cb, void *ctx);
/* Record objects allocated for a flow in a storage backend. The flow must exist
 * (NOTFOUND), not be read-only (READONLY) and have a container (VALIDATION); an id that
 * already exists is VALIDATION naming it; nothing is recorded then. */
int tams_store_objects_allocate(struct tams_store *st, const char *flow_id, const char *storage_id,
                                const struct tams_object_alloc *objs, size_t n,
                                struct tams_buf *why);
/* A registered object's instances (NOTFOUND for an unknown object, or one allocated and never
 * used by a segment). */
int tams_store_object_instances_get(struct tams_store *st, const char *id, tams_object_inst_cb cb,
                                    void *ctx);
/* Adds a further instance: a copy in storage_id at key (url and label NULL), or the client's
 * url with label (storage_id and key NULL). NOTFOUND as above; CONFLICT (a line in why) when
 * the object has an instance in that backend, or one with that label, already. */
int tams_store_object_instance_add(struct tams_store *st, const char *id, const char *storage_id,
                                   const char *key, const char *url, const char *label,
                                   struct tams_buf *why);
/* Removes the instance in backend storage_id, or the one labelled label (give one). The media
 * of a controlled one goes to the collector's trash in the same transaction. The instance the
 * object was allocated in may go when a copy in another backend exists (the copy takes its
 * place); otherwise VALIDATION: an object always keeps one instance, and a controlled object
 * a controlled one. NOTFOUND (a line in why) for no such instance. */
int tams_store_object_instance_remove(struct tams_store *st, const char *id, const char *storage_id,
                                      const char *label, struct tams_buf *why);
/* Queues media no object row names (a copy that lost a race) for the collector to delete. */
int tams_store_media_trash(struct tams_store *st, const char *object_id, const char *storage_id,
                           const char *key);
/* An object that at least one segment ever registered (NOTFOUND otherwise), with a page of
 * the flows that reference it now (keyset on flow id). */
int tams_store_object_get(struct tams_store *st, const char *id, const struct tams_page *page,
                          tams_object_cb cb, void *ctx);
/* The same, referenced_by_flows limited to flows whose tags pass flow_tags (8.2's
 * flow_tag.{name} / flow_tag_exists.{name}; as tag.{name} on the flow list). */
int tams_store_object_get_tagged(struct tams_store *st, const char *id,
                                 const struct tams_tag_filter *flow_tags, size_t nflow_tags,
                                 const struct tams_page *page, tams_object_cb cb, void *ctx);
/* Of the n object ids (any strings; duplicates allowed), the controlled objects allocated and
 * never registered by a segment (controlled, no first_referenced_by_flow): cb runs for each,
 * in no particular order, once or (for a repeated id) more. Unknown ids,
 * registered and uncontrolled objects are skipped. Nothing is locked: the answer is what
 * was committed when the read ran. cb runs after the read is over and the connection is
 * released (it may use the store); a non-zero return stops the calls and is the result.
 * Cost: one statement, a primary-key seek per id. */
int tams_store_objects_unregistered(struct tams_store *st, const char *const *ids, size_t n,
                                    tams_unregistered_object_cb cb, void *ctx);

/* Deletion (notes §7). One transaction: the flow must exist and not be hidden (NOTFOUND)
 * nor read-only (READONLY). When at most sync_limit segments are selected (or object_id
 * is given), they are deleted now, with the flow's segments_updated and the object
 * reference counts (objects that lost their last reference are stamped for the
 * collector); with delete_flow also the flow, its tags and collection rows, its
 * memberships of other flows' collections and its source when it was the last flow
 * (*effects |= SOURCE_DELETED). Otherwise a deletion request is recorded (*effects |=
 * DEFERRED) and handed to cb after the commit; with delete_flow the flow is hidden from
 * then on (reads NOTFOUND, writes NOTFOUND, PUT CONFLICT) and leaves its collections. */
int tams_store_delete_start(struct tams_store *st, const struct tams_delete_spec *spec,
                            unsigned *effects, tams_delete_request_cb cb, void *ctx);
/* Requests not expired at `now` (RFC 3339), oldest first. */
int tams_store_delete_requests_list(struct tams_store *st, const char *now,
                                    tams_delete_request_cb cb, void *ctx);
/* NOTFOUND when unknown or expired at `now`. */
int tams_store_delete_request_get(struct tams_store *st, const char *id, const char *now,
                                  tams_delete_request_cb cb, void *ctx);
/* One step of the oldest unfinished request: delete up to `batch` of its segments in one
 * transaction (status started, timerange_remaining shrinks); the step that finds nothing
 * left removes the flow (delete_flow) and marks the request done with expiry = now + ttl.
 * A request whose step fails with STORE is marked error. *worked is false when there was
 * nothing to do. Also purges expired requests. */
int tams_store_delete_requests_step(struct tams_store *st, int batch, int64_t ttl, bool *worked);

/* Garbage collection. Takes up to p->batch objects that no segment references and whose
 * last reference went p->grace seconds ago, or that were allocated p->unused_after
 * seconds ago and never used; each row is removed in a transaction that checks it still
 * has no reference. Controlled objects are queued in the trash (their media is still to
 * be deleted); uncontrolled ones are only forgotten. *taken counts both. */
int tams_store_gc_collect(struct tams_store *st, const struct tams_gc_params *p, size_t *taken);
/* Trash entries due now, up to limit, oldest first. */
int tams_store_gc_trash_list(struct tams_store *st, int limit, tams_trash_cb cb, void *ctx);
/* The entry's media is gone (done) or must be retried after delay seconds. */
int tams_store_gc_trash_done(struct tams_store *st, int64_t id);
int tams_store_gc_trash_retry(struct tams_store *st, int64_t id, int64_t delay);

/* The soft-delete bin (bin.c). Entries oldest first, a page at a time (BADPAGE for a forged
 * page key); one by id (NOTFOUND when unknown). */
int tams_store_bin_list(struct tams_store *st, const struct tams_page *page, tams_bin_cb cb,
                        void *ctx);
int tams_store_bin_get(struct tams_store *st, const char *id, tams_bin_cb cb, void *ctx);
/* Puts an entry back as it was: the flow (its row, tags, collection, source when gone) and
 * every segment through registration (references, analytics, flows/segments_added), then
 * forgets the entry; all or nothing. NOTFOUND unknown; CONFLICT (why says which) while
 * pending, when the flow exists again (flow) or is gone or read-only (segments), or a
 * segment overlaps one written since. */
int tams_store_bin_restore(struct tams_store *st, const char *id, struct tams_buf *why);
/* Forgets an entry now (its objects go to the collector as after a hard delete): NOTFOUND,
 * CONFLICT while pending. */
int tams_store_bin_purge(struct tams_store *st, const char *id);
/* Forgets up to limit entries expired at now; *n how many. Writes nothing when none is due. */
int tams_store_bin_expire(struct tams_store *st, int limit, size_t *n);

/* Webhooks. */
/* Register, update or (doc NULL) remove the registration with rec's identity, in one
 * transaction. A new one gets rec->id (caller-made UUID), rec->owner, rec->owner_scopes, and a
 * cursor at the newest event, so it receives only later events; BADREQUEST when its owner has
 * caller->max_per_owner registrations already. An existing one may be changed by its owner
 * (doc and owner_scopes are replaced), by an admin (doc only) or, when it is owned by
 * caller->legacy, claimed (owner and owner_scopes become rec's); id and cursor stay. Anyone
 * else is FORBIDDEN, for a removal too. Removing an unknown one is not an error (REMOVED). */
int tams_store_webhook_put(struct tams_store *st, const struct tams_webhook_rec *rec,
                           const struct tams_webhook_caller *caller,
                           enum tams_webhook_put_result *result);
/* What a merge callback makes of a registration and the one stored: the doc to store
 * (allocated, or NULL to keep rec->doc) and the status to set (NULL: rec->status). */
struct tams_webhook_merged {
    char *doc;
    const char *status; /* a string literal */
};
/* Register or update as tams_store_webhook_put, for a doc made from the one stored: merge
 * (may be NULL) is called with the registration of rec's identity (NULL when none) and fills
 * *out (zeroed before). An update keeps the status
 * unless rec->status is set; setting one clears error, and setting "created" on a webhook that
 * was not delivered ("disabled", "error") moves its cursor to the newest event. api and prefix
 * follow rec. *id gets the webhook's id (TAMS_UUID_STRLEN + 1 bytes). */
typedef int (*tams_webhook_merge_cb)(void *ctx, const struct tams_webhook_rec *old,
                                     struct tams_webhook_merged *out);
int tams_store_webhook_register(struct tams_store *st, const struct tams_webhook_rec *rec,
                                const struct tams_webhook_caller *caller,
                                tams_webhook_merge_cb merge, void *ctx,
                                enum tams_webhook_put_result *result, char *id);
/* The registration with this id; NOTFOUND when none. */
int tams_store_webhook_get(struct tams_store *st, const char *id, tams_webhook_cb cb, void *ctx);
/* Replace the registration rec->id (8.2 PUT): url, api key (name, id, sealed), doc, status
 * (as tams_store_webhook_register), api and prefix; owner and owner_scopes become rec's
 * unless keep_owner (an admin's change). NOTFOUND when gone; CONFLICT when another
 * registration has the new identity. */
int tams_store_webhook_replace(struct tams_store *st, const struct tams_webhook_rec *rec,
                               bool keep_owner);
/* Remove the registration with this id; NOTFOUND when none. */
int tams_store_webhook_delete(struct tams_store *st, const char *id);
/* Delivery's status change: from `from` (NULL: any) to `to`, with error (error.json text or
 * NULL). *changed is true when the row had `from`. */
int tams_store_webhook_set_status(struct tams_store *st, const char *id, const char *from,
                                  const char *to, const char *error, bool *changed);
/* Every registration owned by `from` is owned by `to` now (older releases' owners, see
 * tams_webhook_rec); *changed (may be NULL) counts them. */
int tams_store_webhook_set_owner(struct tams_store *st, const char *from, const char *to,
                                 int64_t *changed);
/* The webhook whose api_key_value is still `clear` keeps it as api_key_id and api_key_sealed
 * instead; NOTFOUND when no such row is left (gone, or sealed meanwhile). */
int tams_store_webhook_seal(struct tams_store *st, const char *id, const char *clear,
                            const char *api_key_id, const char *api_key_sealed);
/* Every registration, oldest first. */
int tams_store_webhook_list(struct tams_store *st, tams_webhook_cb cb, void *ctx);
/* Up to limit events after seq `after`, in seq order. */
int tams_store_events_after(struct tams_store *st, int64_t after, int limit, tams_event_cb cb,
                            void *ctx);
/* Leases delivery of the webhook's events to owner for `seconds` (0: gives it up): taken
 * when free, run out or owner's already (then renewed); *cursor is the webhook's cursor as
 * stored now. CONFLICT while another owner's lease runs, NOTFOUND when the webhook is gone.
 * Only with TAMS_STORE_CAP_LEASES: a store only one process uses (SQLite) needs no lease,
 * and there it is INTERNAL. */
int tams_store_webhook_lease(struct tams_store *st, const char *id, const char *owner, int seconds,
                             int64_t *cursor);
/* The webhook is done with every event up to seq (never moves back); events every webhook
 * is done with are purged. NOTFOUND when the webhook is gone; CONFLICT when owner is not
 * NULL and does not hold the webhook's lease any more. */
int tams_store_webhook_advance(struct tams_store *st, const char *id, const char *owner,
                               int64_t seq);
/* Events not yet done by each webhook, summed (the delivery queue depth). */
int tams_store_events_pending(struct tams_store *st, int64_t *count);

#endif
