/* SPDX-License-Identifier: Apache-2.0 */
/* jwt.h - JSON Web Token (JWS compact) verification against one configured key.
 *
 * Pure: no I/O, no clock (the caller passes the time), no global state; a verifier is
 * immutable after creation and may be used from many threads at once.
 *
 * The verifier accepts exactly one algorithm, the configured one (HS256, RS256 or ES256); the
 * token's `alg` header must name it, so `none` and algorithm confusion (an RS256 public key
 * used as an HS256 secret) are refused by construction. Tokens with a `crit` header are refused.
 * The signature is checked before any claim is read. Claims: `exp` is required and `nbf`
 * honoured (both with leeway); `iss` and `aud` (string or array) must match when configured;
 * the principal's name comes from the name claim (default `sub`) and the scopes from the
 * scope claim (default `scope`: a space-separated string or an array of strings; names other
 * than read/write/delete/admin are ignored). The principal's identity (what owns webhooks) is
 * the issuer and the subject: `iss` (a string when present) and `sub` (the name claim's value
 * when the token has no usable `sub`).
 */
#ifndef TAMS_AUTH_JWT_H
#define TAMS_AUTH_JWT_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_JWT_MAX_LEN 16384 /* bytes in a compact token */
#define TAMS_JWT_NAME_MAX 256  /* bytes in the principal's name */
#define TAMS_JWT_MIN_SECRET 32 /* bytes in an HS256 secret */

struct tams_jwt_params {
    const char *alg;             /* "HS256", "RS256" or "ES256" */
    const unsigned char *secret; /* HS256: the shared secret */
    size_t secret_len;
    const char *public_key_pem; /* RS256/ES256: a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) */
    size_t public_key_len;
    const char *issuer;      /* NULL or "": not checked */
    const char *audience;    /* NULL or "": not checked */
    const char *scope_claim; /* NULL or "": "scope" */
    const char *name_claim;  /* NULL or "": "sub" */
    int leeway;              /* seconds of clock skew allowed on exp and nbf */
};

struct tams_jwt_verifier;

struct tams_jwt_result {
    char name[TAMS_JWT_NAME_MAX + 1];    /* the name claim: for created_by/updated_by */
    char issuer[TAMS_JWT_NAME_MAX + 1];  /* `iss`, "" when absent */
    char subject[TAMS_JWT_NAME_MAX + 1]; /* `sub`, else the name claim */
    unsigned scopes;                     /* enum tams_scope bits */
};

/* Checks the parameters (known alg, secret length, key type and size, P-256 for ES256) and
 * builds a verifier. Returns 0 or TAMS_ERR_BADREQUEST with a one-line reason in why. */
int tams_jwt_verifier_new(struct tams_jwt_verifier **out, const struct tams_jwt_params *p,
                          struct tams_buf *why);
void tams_jwt_verifier_free(struct tams_jwt_verifier *v);

/* Verifies token (n bytes) at Unix time now. Returns 0 and fills *res, or
 * TAMS_ERR_UNAUTHORIZED with *why set to a static reason (never any part of the token). */
int tams_jwt_verify(const struct tams_jwt_verifier *v, const char *token, size_t n, int64_t now,
                    struct tams_jwt_result *res, const char **why);

#endif
