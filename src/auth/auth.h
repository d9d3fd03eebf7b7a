/* SPDX-License-Identifier: Apache-2.0 */
/* auth.h - who is asking: the credential check the HTTP gate runs before any handler.
 *
 * Credentials come from `Authorization: Basic` (a user and password), `Authorization: Bearer`
 * (an API token "tams_..." or, when configured, a JWT) or the `access_token` query parameter
 * (read as a bearer token; the header wins when both are present). Users and tokens live in
 * <data_dir>/credentials.json (see auth/creds.h), which is re-read within a second of changing,
 * so `tamsd user|token ...` takes effect on a running server.
 *
 * When authentication is in force (docs/authentication.md), decided by tams_auth_open():
 *   - auth_disabled = true: never, with a warning in the log; the only way to serve without
 *     authentication once a credential has existed;
 *   - a non-loopback listen address: always, and tamsd refuses to start while no credential
 *     exists;
 *   - a loopback address: from the moment a credential exists for good. The credentials file
 *     is the mark: `tamsd user|token` create it and never remove it, and tamsd creates an empty
 *     one when it starts with JWTs configured, so revoking or deleting the last credential (or
 *     turning JWTs off) leaves every request refused. Only a data directory that never had a
 *     credential (no credentials file) is served anonymously, with a warning at start.
 *
 * Principals. A successful check gives a display name (the user, token or JWT name claim, for
 * created_by/updated_by) and a principal: the name namespaced by kind, which is what owns
 * things (webhooks): "user:NAME", "token:NAME", "jwt:ISS:SUB" with '%' and ':' of the issuer
 * percent-encoded (ISS empty when the token has none).
 *
 * Throttling. Failed attempts are counted per (client address, principal) in token buckets of
 * auth_fail_limit per minute; attempts whose principal is unknown (no such user, no such token
 * id, a JWT that does not verify, garbage) share one bucket per address of
 * auth_fail_limit_unknown per minute. An empty bucket turns that principal's failures from that
 * address into 429 (and a password is not even checked). API tokens and JWTs are checked
 * first: a valid one is never refused. The client address is the peer's, or, when the peer is
 * one of trusted_proxies, the rightmost address of X-Forwarded-For that is not. The tables
 * have a fixed size.
 *
 * Passwords. PBKDF2 runs on auth_hash_threads threads of their own, never on the caller's:
 * a check that needs it is queued (at most auth_hash_queue; past that it is TAMS_AUTH_BUSY at
 * once) and answered TAMS_AUTH_PENDING, and the caller learns the outcome through the
 * tams_auth_pending_* functions. Verified passwords are cached for five minutes (keyed by an
 * HMAC under a per-process key) so PBKDF2 runs once per client session, not per request.
 *
 * Thread-safe.
 */
#ifndef TAMS_AUTH_AUTH_H
#define TAMS_AUTH_AUTH_H

#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"

#include <sys/socket.h>

#define TAMS_AUTH_CHALLENGE "Bearer realm=\"tamsd\", Basic realm=\"tamsd\""
#define TAMS_AUTH_NAME_MAX 300       /* bytes of a display name, NUL included */
#define TAMS_AUTH_PRINCIPAL_MAX 1100 /* bytes of a principal, NUL included */

struct tams_auth;
struct tams_auth_pending;

enum tams_auth_outcome {
    TAMS_AUTH_OK,        /* res->name, res->principal and res->scopes set */
    TAMS_AUTH_OFF,       /* no authentication in force: anonymous, everything allowed */
    TAMS_AUTH_MISSING,   /* 401: no credential given */
    TAMS_AUTH_INVALID,   /* 401: a credential that is wrong, unknown, expired or malformed */
    TAMS_AUTH_THROTTLED, /* 429: too many failures of this principal from this address */
    TAMS_AUTH_BUSY,      /* 429: the password-checking queue is full (or the server stops) */
    TAMS_AUTH_PENDING,   /* a password check is queued; see tams_auth_pending_park */
};

struct tams_auth_input {
    const char *authorization;     /* the Authorization header, or NULL */
    const char *access_token;      /* the access_token query parameter, or NULL */
    const char *forwarded_for;     /* every X-Forwarded-For line joined with ",", or NULL */
    const struct sockaddr *client; /* the peer */
    /* For TAMS_AUTH_PENDING: called once, from a hashing thread, when a parked check is done.
     * NULL: a password is checked on the calling thread and PENDING never happens. */
    void (*wake)(void *ctx);
    void *wake_ctx;
};

struct tams_auth_result {
    char name[TAMS_AUTH_NAME_MAX];           /* display name */
    char principal[TAMS_AUTH_PRINCIPAL_MAX]; /* namespaced, see above */
    unsigned scopes;
    int retry_after; /* seconds, for THROTTLED and BUSY */
    bool unknown;    /* THROTTLED: the bucket of unknown principals */
};

/* Loads credentials and the JWT key, applies the policy above for cfg->listen_host (logging
 * what it implies), parses trusted_proxies and starts the hashing threads. Returns 0, or an
 * error with the reason in why: refusing to start without credentials, an unreadable or
 * malformed credentials file, a bad JWT key, a bad trusted_proxies entry. */
int tams_auth_open(struct tams_auth **out, const struct tams_config *cfg, struct tams_buf *why);
/* Stops the hashing threads; every pending check must have been finished or cancelled. */
void tams_auth_close(struct tams_auth *a);

/* Checks the request's credential. On PENDING, *pending receives the queued check: park it
 * (tams_auth_pending_park) until it is done, then tams_auth_pending_finish it, or cancel it. */
enum tams_auth_outcome tams_auth_check(struct tams_auth *a, const struct tams_auth_input *in,
                                       struct tams_auth_result *res,
                                       struct tams_auth_pending **pending);
/* False when the check is done (finish it now). Else calls suspend(ctx) while the check cannot
 * complete, and returns true: the input's wake then runs exactly once, after which the check
 * is done. */
bool tams_auth_pending_park(struct tams_auth_pending *p, void (*suspend)(void *ctx), void *ctx);
/* The outcome of a done check (OK, INVALID, THROTTLED or BUSY) into res; frees p. */
enum tams_auth_outcome tams_auth_pending_finish(struct tams_auth_pending *p,
                                                struct tams_auth_result *res);
/* The request went away before finishing: frees p once no hashing thread holds it. Never
 * call it on a parked check (a parked request cannot go away before its wake). */
void tams_auth_pending_cancel(struct tams_auth_pending *p);
/* For stopping: queued checks end as BUSY (their parked requests woken), running ones are
 * waited for until their requests are woken too, and later ones are BUSY at once. After it, no
 * request sleeps on a check (libmicrohttpd aborts when stopped with one asleep). */
void tams_auth_abort_pending(struct tams_auth *a);

/* Count a request refused with 403 (authenticated, but outside its scopes). */
void tams_auth_note_forbidden(struct tams_auth *a);
/* GET /metrics is served without credentials (metrics_public). */
bool tams_auth_metrics_public(const struct tams_auth *a);
/* Prometheus text of the counters; ctx is the struct tams_auth. A tams_render_fn, for
 * tams_registry_source (core/registry.h). */
void tams_auth_metrics_render(void *ctx, struct tams_buf *out);

/* Is authentication in force now (anonymous requests refused; tams_auth_check would not answer
 * TAMS_AUTH_OFF)? Counts nothing. */
bool tams_auth_in_force(struct tams_auth *a);
/* May this owner read everything now? owner is a principal as above or NULL (anonymous), and
 * scopes what it had when it registered (JWT owners: the only scopes known; others are looked
 * up in the current credentials). Anonymous owners may while no authentication is in force;
 * every owner may while none is; "legacy:" owners never may. ctx is the struct tams_auth.
 * Thread-safe; cheap. */
bool tams_auth_owner_may_read(void *ctx, const char *owner, unsigned scopes);
/* The principal an un-namespaced owner name of an older release maps to: "user:NAME" when a
 * user of that name exists, else "token:NAME" when a token does; 0 with out set, or NOTFOUND. */
int tams_auth_legacy_owner(struct tams_auth *a, const char *name, char *out, size_t cap);

/* True when host (as in the listen setting) resolves only to loopback addresses. */
bool tams_auth_host_is_loopback(const char *host);

#endif
