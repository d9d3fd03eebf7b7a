/* SPDX-License-Identifier: Apache-2.0 */
/* auth.h - who is asking: the credential check the HTTP gate runs before any handler.
 *
 * Credentials come from `Authorization: Basic` (a user and password), `Authorization: Bearer`
 * (an API token "tams_..." or, when configured, a JWT) or the `access_token` query parameter
 * (read as a bearer token; the header wins when both are present). Users and tokens live in
 * <data_dir>/credentials.json (see auth/creds.h), which is re-read within a second of changing,
 * so `tamsd user|token ...` takes effect on a running server.
 *
 * Safe defaults, decided by tams_auth_open():
 *   - auth_disabled = true: no authentication at all, with a warning in the log;
 *   - otherwise on a loopback listen address: authentication is in force exactly while a
 *     credential exists (users, tokens or JWT settings); with none, requests are served
 *     anonymously and the log says so at start;
 *   - otherwise (any other address): authentication is always in force, and tamsd refuses to
 *     start while no credential exists.
 *
 * Failed authentications are counted (see tams_auth_metrics_render) and slowed down: after
 * auth_fail_limit failures in a minute from one client address, requests from it that carry a
 * credential get 429 until its token bucket refills. The table of addresses has a fixed size.
 * Thread-safe; verified passwords are cached for a few minutes (keyed by an HMAC under a
 * per-process key) so PBKDF2 runs once per client session, not per request.
 */
#ifndef TAMS_AUTH_AUTH_H
#define TAMS_AUTH_AUTH_H

#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"

#include <sys/socket.h>

#define TAMS_AUTH_CHALLENGE "Bearer realm=\"tamsd\", Basic realm=\"tamsd\""

struct tams_auth;

enum tams_auth_outcome {
    TAMS_AUTH_OK,        /* *principal and *scopes set */
    TAMS_AUTH_OFF,       /* no authentication in force: anonymous, everything allowed */
    TAMS_AUTH_MISSING,   /* 401: no credential given */
    TAMS_AUTH_INVALID,   /* 401: a credential that is wrong, unknown, expired or malformed */
    TAMS_AUTH_THROTTLED, /* 429: too many failures from this address; *retry_after seconds */
};

struct tams_auth_input {
    const char *authorization; /* the Authorization header, or NULL */
    const char *access_token;  /* the access_token query parameter, or NULL */
    const struct sockaddr *client;
};

/* Loads credentials and the JWT key, applies the safe-default policy above for cfg->listen_host
 * (logging the warnings it implies). Returns 0, or an error with the reason in why: refusing
 * to start without credentials, an unreadable or malformed credentials file, a bad JWT key. */
int tams_auth_open(struct tams_auth **out, const struct tams_config *cfg, struct tams_buf *why);
void tams_auth_close(struct tams_auth *a);

/* Checks the request's credential. On OK, principal (cap bytes) receives its name. */
enum tams_auth_outcome tams_auth_check(struct tams_auth *a, const struct tams_auth_input *in,
                                       char *principal, size_t cap, unsigned *scopes,
                                       int *retry_after);
/* Count a request refused with 403 (authenticated, but outside its scopes). */
void tams_auth_note_forbidden(struct tams_auth *a);
/* GET /metrics is served without credentials (metrics_public). */
bool tams_auth_metrics_public(const struct tams_auth *a);
/* Requests need a credential now (the policy above): tams_auth_check would not answer
 * TAMS_AUTH_OFF. Counts nothing. */
bool tams_auth_in_force(struct tams_auth *a);
/* Prometheus text of the counters; ctx is the struct tams_auth. A tams_render_fn, for
 * tams_registry_source (core/registry.h). */
void tams_auth_metrics_render(void *ctx, struct tams_buf *out);

/* True when host (as in the listen setting) resolves only to loopback addresses. */
bool tams_auth_host_is_loopback(const char *host);

#endif
