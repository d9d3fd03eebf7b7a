/* SPDX-License-Identifier: Apache-2.0 */
/* backend_int.h - what the SQL back ends (sqlite.c, pg.c) share that has no SQL in it.
 * Internal to src/store/. */
#ifndef TAMS_STORE_BACKEND_INT_H
#define TAMS_STORE_BACKEND_INT_H

#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"

/* Strings copied out of a result set that must live until the callbacks have run. */
struct tams__strpool {
    char **v;
    size_t n, cap;
};

/* Keep s (already allocated) until release; returns s. */
const char *tams__pool_keep(struct tams__strpool *p, char *s);
/* A kept copy of s; NULL stays NULL. */
const char *tams__pool_dup(struct tams__strpool *p, const char *s);
void tams__pool_release(struct tams__strpool *p);

/* Append a summary to why, which may be NULL. */
void tams__why_add(struct tams_buf *why, const char *fmt, ...) TAMS_PRINTF(2, 3);

/* The key of a page cursor of this kind: an integer (segment lo) or a UUID (listings).
 * *have / nothing appended when the page has no cursor; TAMS_ERR_BADPAGE when forged. */
int tams__page_lo(const struct tams_page *page, const char *kind, bool *have, int64_t *out);
int tams__page_after(const struct tams_page *page, const char *kind, struct tams_buf *key);

/* RFC 3339 time `seconds` from now (clamped so it cannot overflow). */
void tams__time_after(int64_t seconds, char out[TAMS_RFC3339_MAX]);

/* The back ends' operations (transitional: one implementation of the store replaces them). */
struct tams_store_be;
struct tams_store_ops {
    const char *name;
    unsigned caps;

    /* url: "" or "sqlite:PATH" (SQLite; default PATH = <data_dir>/tams.db). Applies pending
     * migrations. */
    int (*open)(struct tams_store_be **out, const char *url, const char *data_dir);
    /* Closes every thread's connection. No operation may run concurrently. */
    void (*close)(struct tams_store_be *st);
    /* Cheap liveness check of this thread's connection. */
    int (*ping)(struct tams_store_be *st);
    /* A number that changes after every committed write (any entity), so a reader can tell
     * whether something it cached may be stale. NULL when the back end cannot tell (callers
     * then do not cache). */
    uint64_t (*generation)(struct tams_store_be *st);

    /* Service settings (name, description, ...): a small key-value table. */
    int (*setting_get)(struct tams_store_be *st, const char *key, struct tams_buf *out);
    int (*setting_set)(struct tams_store_be *st, const char *key, const char *value);

    /* Flows. doc is the validated document with server members stripped; idx is built from it.
     * Creates the source when new (format copied); a source whose format differs is
     * VALIDATION; an existing read-only flow is READONLY; unknown collection members are
     * VALIDATION. *effects gets TAMS_EFFECT_* bits. */
    int (*flow_put)(struct tams_store_be *st, const struct tams_flow_index *idx, const char *doc,
                    size_t doclen, const char *principal, unsigned *effects, struct tams_buf *why);
    int (*flow_get)(struct tams_store_be *st, const char *id, tams_flow_cb cb, void *ctx);
    /* Reads, lets fn change, re-validates (tams_flow_validate), re-indexes and writes back the
     * document, bumping metadata_updated/updated_by. A read-only flow is READONLY unless
     * allow_read_only (only PUT /flows/{id}/read_only). */
    int (*flow_mutate)(struct tams_store_be *st, const char *id, bool allow_read_only,
                       tams_flow_mutate_fn fn, void *ctx, const char *principal,
                       struct tams_buf *why);
    /* Deletes the flow, its segments and collection rows; the source goes with its last flow.
     * READONLY for a read-only flow. */
    int (*flow_delete)(struct tams_store_be *st, const char *id, unsigned *effects);
    int (*flow_list)(struct tams_store_be *st, const struct tams_flow_filter *f,
                     const struct tams_page *page, tams_flow_cb cb, void *ctx);
    /* Hull of the flow's segments overlapping `within` (NULL = all); empty when none. */
    int (*flow_timerange)(struct tams_store_be *st, const char *id,
                          const struct tams_timerange *within, struct tams_timerange *out);

    /* Sources. */
    int (*source_get)(struct tams_store_be *st, const char *id, tams_source_cb cb, void *ctx);
    int (*source_list)(struct tams_store_be *st, const struct tams_source_filter *f,
                       const struct tams_page *page, tams_source_cb cb, void *ctx);
    /* value NULL = unset. */
    int (*source_set_prop)(struct tams_store_be *st, const char *id, enum tams_source_prop prop,
                           const char *value, const char *principal);
    /* value NULL = delete the tag (NOTFOUND when it does not exist). */
    int (*source_set_tag)(struct tams_store_be *st, const char *id, const char *name,
                          const char *value, const char *principal);

    /* Segments. All in one transaction: the flow must exist (NOTFOUND), not be read-only
     * (READONLY) and have a container (VALIDATION). Each segment is then checked on its own:
     * it must not overlap a stored segment or an earlier one of the batch; its object must
     * have been allocated for this flow (or registered by any flow before), or, when unknown,
     * the segment must carry get_urls (the object is then recorded as uncontrolled). results[i]
     * gets 0 or the segment's error, with a summary appended to whys[i]. Good segments are
     * stored, object reference counts raised and segments_updated set, even when others fail.
     * Returns 0 when the batch ran. */
    int (*segments_add)(struct tams_store_be *st, const char *flow_id,
                        const struct tams_segment *segs, size_t n, int *results,
                        struct tams_buf *whys, const char *principal);
    /* Keyset-paged in time order (or reversed); an unknown flow lists nothing. Cost is
     * O(log n + page) whatever the flow's length. */
    int (*segments_list)(struct tams_store_be *st, const char *flow_id,
                         const struct tams_segment_filter *f, const struct tams_page *page,
                         tams_segment_cb cb, void *ctx);
    /* Record objects allocated for a flow in a storage backend. The flow must exist
     * (NOTFOUND), not be read-only (READONLY) and have a container (VALIDATION); an id that
     * already exists is VALIDATION naming it; nothing is recorded then. */
    int (*objects_allocate)(struct tams_store_be *st, const char *flow_id, const char *storage_id,
                            const struct tams_object_alloc *objs, size_t n, struct tams_buf *why);
    /* An object that at least one segment ever registered (NOTFOUND otherwise), with a page of
     * the flows that reference it now (keyset on flow id). */
    int (*object_get)(struct tams_store_be *st, const char *id, const struct tams_page *page,
                      tams_object_cb cb, void *ctx);
    /* Of the n object ids (any strings; duplicates allowed but not merged), the controlled
     * objects allocated and never registered by a segment (controlled, no
     * first_referenced_by_flow): cb runs once per such id, in no particular order. Unknown ids,
     * registered and uncontrolled objects are skipped. Nothing is locked: the answer is what
     * was committed when the read ran. cb runs after the read is over and the connection is
     * released (it may use the store); a non-zero return stops the calls and is the result.
     * Cost: SQLite one primary-key seek per id, PostgreSQL one query for the whole list. */
    int (*objects_unregistered)(struct tams_store_be *st, const char *const *ids, size_t n,
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
    int (*delete_start)(struct tams_store_be *st, const struct tams_delete_spec *spec,
                        unsigned *effects, tams_delete_request_cb cb, void *ctx);
    /* Requests not expired at `now` (RFC 3339), oldest first. */
    int (*delete_requests_list)(struct tams_store_be *st, const char *now,
                                tams_delete_request_cb cb, void *ctx);
    /* NOTFOUND when unknown or expired at `now`. */
    int (*delete_request_get)(struct tams_store_be *st, const char *id, const char *now,
                              tams_delete_request_cb cb, void *ctx);
    /* One step of the oldest unfinished request: delete up to `batch` of its segments in one
     * transaction (status started, timerange_remaining shrinks); the step that finds nothing
     * left removes the flow (delete_flow) and marks the request done with expiry = now + ttl.
     * A request whose step fails with STORE is marked error. *worked is false when there was
     * nothing to do. Also purges expired requests. */
    int (*delete_requests_step)(struct tams_store_be *st, int batch, int64_t ttl, bool *worked);

    /* Garbage collection. Takes up to p->batch objects that no segment references and whose
     * last reference went p->grace seconds ago, or that were allocated p->unused_after
     * seconds ago and never used; each row is removed in a transaction that checks it still
     * has no reference. Controlled objects are queued in the trash (their media is still to
     * be deleted); uncontrolled ones are only forgotten. *taken counts both. */
    int (*gc_collect)(struct tams_store_be *st, const struct tams_gc_params *p, size_t *taken);
    /* Trash entries due now, up to limit, oldest first. */
    int (*gc_trash_list)(struct tams_store_be *st, int limit, tams_trash_cb cb, void *ctx);
    /* The entry's media is gone (done) or must be retried after delay seconds. */
    int (*gc_trash_done)(struct tams_store_be *st, int64_t id);
    int (*gc_trash_retry)(struct tams_store_be *st, int64_t id, int64_t delay);

    /* Webhooks (NULL in a back end without them: the API then answers 404). */
    /* Register, update or (doc NULL) remove the registration with rec's identity, in one
     * transaction. A new one gets rec->id (caller-made UUID), rec->owner, and a cursor at the
     * newest event, so it receives only later events; an update replaces doc and keeps id,
     * owner and cursor. Removing an unknown one is not an error (REMOVED). */
    int (*webhook_put)(struct tams_store_be *st, const struct tams_webhook_rec *rec,
                       enum tams_webhook_put_result *result);
    /* Every registration, oldest first. */
    int (*webhook_list)(struct tams_store_be *st, tams_webhook_cb cb, void *ctx);
    /* Up to limit events after seq `after`, in seq order. */
    int (*events_after)(struct tams_store_be *st, int64_t after, int limit, tams_event_cb cb,
                        void *ctx);
    /* Leases delivery of the webhook's events to owner for `seconds` (0: gives it up): taken
     * when free, run out or owner's already (then renewed); *cursor is the webhook's cursor as
     * stored now. CONFLICT while another owner's lease runs, NOTFOUND when the webhook is gone.
     * NULL in a store only one process uses (SQLite), where delivery needs no lease. */
    int (*webhook_lease)(struct tams_store_be *st, const char *id, const char *owner, int seconds,
                         int64_t *cursor);
    /* The webhook is done with every event up to seq (never moves back); events every webhook
     * is done with are purged. NOTFOUND when the webhook is gone; CONFLICT when owner is not
     * NULL and does not hold the webhook's lease any more. */
    int (*webhook_advance)(struct tams_store_be *st, const char *id, const char *owner,
                           int64_t seq);
    /* Events not yet done by each webhook, summed (the delivery queue depth). */
    int (*events_pending)(struct tams_store_be *st, int64_t *count);
};

extern const struct tams_store_ops tams_store_sqlite_ops, tams_store_pg_ops;

#endif
