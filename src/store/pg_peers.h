/* SPDX-License-Identifier: Apache-2.0 */
/* pg_peers.h - read caches that stay true across tamsd instances sharing one PostgreSQL.
 *
 * Each instance serves GET /flows/{id} and GET /sources/{id} from memory while its store
 * generation stands (api/doc_cache.h). This module moves that generation when another instance
 * writes, and makes the writer wait until every other instance has done so, so no instance
 * answers from a cache that a finished write has made stale:
 *
 *   - Each instance LISTENs on tams_generation, tams_ping and tams_ack, and holds a lease row
 *     in tams_instances (renewed every PEERS_RENEW_MS, running PEERS_LEASE_MS by the
 *     database's clock). Its row key is fresh per listening connection.
 *   - A write commits with NOTIFY tams_generation '<writer>@<store>', or
 *     '<writer>@<store> <scope>' when it changes one id's documents only (store/db.h): every
 *     other instance of the store bumps its generation, or that id's part of it, on hearing it.
 *     <store> is a hash of the schema the store's tables are in (current_schema()): stores in
 *     other schemas of the database hear the write too, and pass over it. Without it (an older
 *     release, or before the writer read its schema) the write counts for every store.
 *   - After its COMMIT returns, the writer asks its listening thread for a ping: NOTIFY
 *     tams_ping '<writer> <m>', m counting pings. PostgreSQL delivers notifications in commit
 *     order, so an instance that hears ping m has heard (and bumped for) every write committed
 *     before it, so it needs no bump of its own: it answers NOTIFY tams_ack '<own key> <writer>
 *     <m> ...'. One ping serves every write that finished before it was sent.
 *   - The writer returns once each peer it knows has answered for a ping sent after its
 *     commit, or that peer's lease has surely run out, or the peer left the table (shut down,
 *     or reconnected under a new key), or the database no longer has the peer's listening
 *     session (its backend pid is kept in the row): a crashed process's sessions end as soon
 *     as its sockets close, so a restarted instance does not wait out its predecessor's lease
 *     (at most one renewal, PEERS_RENEW_MS, while the session winds down).
 *   - An instance trusts its caches only while it is listening, while its own lease is surely
 *     running, and once it has been registered long enough for every writer to know it.
 *     Otherwise tams_pg_peers_generation moves on at every call: every read is a miss.
 *
 * Reads cost nothing. A write with peers costs a ping and its answers (two notification hops,
 * well under a millisecond on one host), shared by concurrent writes; if a peer dies
 * without deregistering, writes wait for it until its session is gone, or, when the database
 * cannot tell (a host cut off without a reset), for its lease once (at most PEERS_LEASE_MS).
 * Known limit: a writer whose own listening connection is down cannot learn of instances that
 * start meanwhile; it keeps waiting only for the peers it knew (logged when it happens).
 */
#ifndef TAMS_STORE_PG_PEERS_H
#define TAMS_STORE_PG_PEERS_H

#include "core/common.h"

#define PEERS_RENEW_MS 500
#define PEERS_LEASE_MS 3000
#define PEERS_MARGIN_MS 500 /* clock rate drift and scheduling, on both sides */

struct tams_pg_peers;

/* Starts the listening thread for the database at url (a libpq URL). Never fails: while the
 * database cannot be reached the thread retries every second and no cache is trusted. */
struct tams_pg_peers *tams_pg_peers_start(const char *url);
/* Deregisters (so writers stop waiting for this instance at once) and joins the thread. */
void tams_pg_peers_stop(struct tams_pg_peers *p);

/* The generation read caches key on for id (NULL: the store-wide part; store/db.h): stable
 * while caches may be trusted, else new each call. */
uint64_t tams_pg_peers_generation(struct tams_pg_peers *p, const char *id);
/* This process's own commit: move the generation at once, of scope's bucket only when scope
 * is an id (db.h), else store-wide. */
void tams_pg_peers_bump(struct tams_pg_peers *p, const char *scope);

/* "NOTIFY ...; COMMIT" for a write of scope (NULL: any document), into sql (at least 160
 * bytes). */
void tams_pg_peers_commit_sql(struct tams_pg_peers *p, const char *scope, char *sql, size_t size);
/* After such a commit returned: wait until every known peer has dropped what it cached. */
void tams_pg_peers_wait(struct tams_pg_peers *p);

/* Peers currently known (for tests and /metrics). */
size_t tams_pg_peers_count(struct tams_pg_peers *p);

#endif
