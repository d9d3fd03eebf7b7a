/* SPDX-License-Identifier: Apache-2.0 */
/* conns.h - the connection guard: how many client connections the server keeps, and how long a
 * client may take to send a request head.
 *
 * libmicrohttpd 0.9.75 on its own has an idle timeout that every byte resets (so a client that
 * trickles a byte a second keeps its connection for ever), a connection cap that, once reached,
 * stops accepting (new clients then wait in the listen backlog behind the trickling ones), and it
 * may miss a client that closes its side in the same packet as its last bytes. The guard:
 *
 *   - refuses a connection past max_connections, or past max_per_address from one client address
 *     (an IPv6 client counts per /64), as soon as it is accepted: nothing is read from it and
 *     libmicrohttpd closes it (tams_conns_admit, the accept policy);
 *   - closes a connection whose request head (request line and headers) is not complete
 *     header_timeout after it was accepted, or, on a kept-alive connection, idle_timeout after the
 *     previous response, however slowly its bytes come. A client that had sent part of a head gets
 *     408 with the error body first;
 *   - closes, within about half a second, a connection whose client shut its sending side while
 *     no request of it was running (a partial head gets 400 with the error body first).
 *
 * A connection is closed by shutting its socket down; libmicrohttpd then sees the end of the
 * stream and releases it as usual. Refusals and closings are counted in the HTTP metrics
 * (tams_metrics_conn_*, http/metrics.h).
 *
 * Threads: tams_conns_admit and tams_conns_open run on the libmicrohttpd thread that accepts the
 * connection, in that order (the accept policy, then the connection notification); the other
 * connection functions on the thread that serves it. A watchdog thread of the guard's own keeps
 * the deadlines. Everything else is thread-safe.
 */
#ifndef TAMS_HTTP_CONNS_H
#define TAMS_HTTP_CONNS_H

#include "core/common.h"
#include "core/buf.h"
#include "http/metrics.h"

#include <sys/socket.h>

struct tams_conns_config {
    int max_connections; /* >= 1: connections open at once */
    int max_per_address; /* connections from one client address; 0: no such cap */
    int header_timeout_ms;
    int idle_timeout_ms; /* a kept-alive connection's time for its next complete head */
};

struct tams_conns;
struct tams_conn;

/* Makes the guard and starts its watchdog. metrics must outlive it. Returns 0, or TAMS_ERR_IO
 * with the reason in why. */
int tams_conns_new(struct tams_conns **out, const struct tams_conns_config *cfg,
                   struct tams_metrics *metrics, struct tams_buf *why);
/* Stops the watchdog and frees the guard. Every connection must be closed (tams_conns_close)
 * before: stop libmicrohttpd first. NULL is allowed. */
void tams_conns_free(struct tams_conns *g);

/* The accept policy: true when a connection from addr may be kept; its place is then held for
 * the tams_conns_open that follows on this thread. False (counted) when a cap is reached. */
bool tams_conns_admit(struct tams_conns *g, const struct sockaddr *addr, socklen_t len);
/* The admitted connection has socket fd: it now waits for its first request head. Returns the
 * connection's handle, or NULL when it was not admitted (it is then not guarded). */
struct tams_conn *tams_conns_open(struct tams_conns *g, int fd);
/* The connection is closing (before its socket is closed). c may be NULL. */
void tams_conns_close(struct tams_conns *g, struct tams_conn *c);

/* The request line of a request has arrived. c may be NULL. */
void tams_conns_head_started(struct tams_conn *c);
/* The request head is complete and the request will run. False when the guard has already
 * started closing the connection: the request must then not run. c may be NULL (true). */
bool tams_conns_head_done(struct tams_conn *c);
/* The request is over (its response sent or abandoned): the connection waits for the next head.
 * c may be NULL. */
void tams_conns_request_done(struct tams_conn *c);

/* Connections open now. */
int tams_conns_open_count(struct tams_conns *g);

#endif
