/* SPDX-License-Identifier: Apache-2.0 */
/* creds.h - users and API tokens, kept only as salted or high-entropy hashes in one file.
 *
 * The file is <data_dir>/credentials.json, mode 0600, replaced atomically (temporary file,
 * fsync, rename, fsync of the directory). Its shape:
 *   {"version": 1,
 *    "users":  [{"name", "scopes": [...], "kdf": "pbkdf2-sha256", "iterations", "salt", "hash",
 *                "created"}],
 *    "tokens": [{"name", "id", "scopes": [...], "hash", "created"}]}
 * salt and hash are lowercase hex. A user's hash is PBKDF2-HMAC-SHA256 of the password with a
 * per-user random 16-byte salt. A token is "tams_<id>_<secret>": id is 12 hex digits (not
 * secret; it finds the row), secret is 32 random bytes in base64url; the file keeps the
 * SHA-256 of the whole token (fast hashing is right for 256 random bits). Comparisons of
 * hashes are constant-time.
 *
 * A struct tams_creds is a plain value: not thread-safe, never shared while being changed.
 */
#ifndef TAMS_AUTH_CREDS_H
#define TAMS_AUTH_CREDS_H

#include "core/common.h"
#include "core/buf.h"
#include "core/crypto.h"

#define TAMS_CREDS_FILE "credentials.json"
#define TAMS_CREDS_PBKDF2_ITERATIONS 600000 /* OWASP 2023 for PBKDF2-HMAC-SHA256 */
#define TAMS_CREDS_MIN_ITERATIONS 200000    /* a file with fewer is refused */
#define TAMS_CREDS_SALT_LEN 16
#define TAMS_CREDS_NAME_MAX 64
#define TAMS_CREDS_PASSWORD_MIN 8
#define TAMS_CREDS_PASSWORD_MAX 1024
#define TAMS_CREDS_TOKEN_ID_HEX 12
#define TAMS_CREDS_TOKEN_SECRET_BYTES 32
#define TAMS_CREDS_TOKEN_PREFIX "tams_"
/* "tams_" + id + "_" + base64url(32 bytes) = 5 + 12 + 1 + 43 */
#define TAMS_CREDS_TOKEN_LEN 61

struct tams_cred_user {
    char *name;
    unsigned scopes;
    int iterations;
    unsigned char salt[TAMS_CREDS_SALT_LEN];
    unsigned char hash[TAMS_SHA256_LEN];
    char *created;
};

struct tams_cred_token {
    char *name;
    char id[TAMS_CREDS_TOKEN_ID_HEX + 1];
    unsigned scopes;
    unsigned char hash[TAMS_SHA256_LEN];
    char *created;
};

struct tams_creds {
    struct tams_cred_user *users;
    size_t nusers;
    struct tams_cred_token *tokens;
    size_t ntokens;
};

/* A user or token name: 1 to 64 of [A-Za-z0-9._@-], not starting with '.' or '-'. */
bool tams_creds_name_valid(const char *s);

/* Reads path into c (which may be uninitialised). A missing file is an empty set. Returns 0,
 * TAMS_ERR_IO (unreadable) or TAMS_ERR_BADREQUEST (malformed), with a reason in why. */
int tams_creds_load(struct tams_creds *c, const char *path, struct tams_buf *why);
int tams_creds_parse(struct tams_creds *c, const char *text, size_t n, struct tams_buf *why);
/* Writes c to path atomically with mode 0600. */
int tams_creds_save(const struct tams_creds *c, const char *path, struct tams_buf *why);
void tams_creds_release(struct tams_creds *c);

/* Add a user, hashing the password (TAMS_ERR_CONFLICT when the name exists). */
int tams_creds_add_user(struct tams_creds *c, const char *name, unsigned scopes,
                        const char *password, size_t plen, struct tams_buf *why);
/* Add a token; *token gets the token text (tams_free it after showing it once). */
int tams_creds_add_token(struct tams_creds *c, const char *name, unsigned scopes, char **token,
                         struct tams_buf *why);
/* TAMS_ERR_NOTFOUND when there is no such name. */
int tams_creds_remove_user(struct tams_creds *c, const char *name);
int tams_creds_remove_token(struct tams_creds *c, const char *name);

/* The user whose password this is, or NULL. Costs one PBKDF2 run even when the name is
 * unknown, so timing does not tell which names exist. */
const struct tams_cred_user *tams_creds_check_password(const struct tams_creds *c, const char *name,
                                                       const char *password, size_t plen);
/* The user or token of this name, or NULL; nothing is hashed. */
const struct tams_cred_user *tams_creds_find_user(const struct tams_creds *c, const char *name);
const struct tams_cred_token *tams_creds_find_token(const struct tams_creds *c, const char *name);
/* The token whose id this token text carries, or NULL; says nothing about its secret. */
const struct tams_cred_token *tams_creds_find_token_id(const struct tams_creds *c,
                                                       const char *token, size_t n);
/* The token with this text, or NULL. */
const struct tams_cred_token *tams_creds_check_token(const struct tams_creds *c, const char *token,
                                                     size_t n);
/* True when token looks like one of ours ("tams_" + 12 hex + "_"), whatever its secret. */
bool tams_creds_is_token(const char *token, size_t n);

#endif
