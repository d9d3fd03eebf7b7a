/* SPDX-License-Identifier: Apache-2.0 */
/* creds.c - the credentials file: parse, write atomically, hash and check secrets. */
#include "core/common.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/random.h"
#include "core/base64.h"
#include "auth/creds.h"
#include "auth/scopes.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (16 * 1024 * 1024)

bool tams_creds_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TAMS_CREDS_NAME_MAX || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

void tams_creds_release(struct tams_creds *c)
{
    for (size_t i = 0; i < c->nusers; i++) {
        tams_free(c->users[i].name);
        tams_free(c->users[i].created);
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        tams_free(c->tokens[i].name);
        tams_free(c->tokens[i].created);
    }
    if (c->users)
        OPENSSL_cleanse(c->users, c->nusers * sizeof(*c->users));
    if (c->tokens)
        OPENSSL_cleanse(c->tokens, c->ntokens * sizeof(*c->tokens));
    tams_free(c->users);
    tams_free(c->tokens);
    memset(c, 0, sizeof(*c));
}

/* ---- parsing ------------------------------------------------------------------------------ */

static bool unhex(const char *s, unsigned char *out, size_t n)
{
    return tams_hex_decode(s, strlen(s), out, n) == 0;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool get_scopes(json_object *o, unsigned *out)
{
    json_object *arr;
    *out = 0;
    if (!json_object_object_get_ex(o, "scopes", &arr) || !json_object_is_type(arr, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *s;
        unsigned bit;
        if (!json_object_is_type(e, json_type_string))
            return false;
        s = json_object_get_string(e);
        bit = tams_scope_bit(s, strlen(s));
        if (!bit)
            return false;
        *out |= bit;
    }
    return true;
}

static bool name_taken(const struct tams_creds *c, const char *name, bool user)
{
    if (user) {
        for (size_t i = 0; i < c->nusers; i++)
            if (strcmp(c->users[i].name, name) == 0)
                return true;
    } else {
        for (size_t i = 0; i < c->ntokens; i++)
            if (strcmp(c->tokens[i].name, name) == 0)
                return true;
    }
    return false;
}

static int parse_user(struct tams_creds *c, json_object *o, size_t i, struct tams_buf *why)
{
    struct tams_cred_user *u = &c->users[c->nusers];
    const char *name = get_str(o, "name"), *kdf = get_str(o, "kdf"), *salt = get_str(o, "salt");
    const char *hash = get_str(o, "hash"), *created = get_str(o, "created");
    json_object *it;

    memset(u, 0, sizeof(*u));
    if (!name || !tams_creds_name_valid(name) || name_taken(c, name, true)) {
        tams_buf_addf(why, "users[%zu]: missing, invalid or repeated name", i);
        return TAMS_ERR_BADREQUEST;
    }
    if (!kdf || strcmp(kdf, "pbkdf2-sha256") != 0) {
        tams_buf_addf(why, "user '%s': kdf must be \"pbkdf2-sha256\"", name);
        return TAMS_ERR_BADREQUEST;
    }
    if (!json_object_object_get_ex(o, "iterations", &it) ||
        !json_object_is_type(it, json_type_int) ||
        json_object_get_int64(it) < TAMS_CREDS_MIN_ITERATIONS ||
        json_object_get_int64(it) > 100000000) {
        tams_buf_addf(why, "user '%s': iterations must be an integer from %d to 100000000", name,
                      TAMS_CREDS_MIN_ITERATIONS);
        return TAMS_ERR_BADREQUEST;
    }
    u->iterations = (int)json_object_get_int64(it);
    if (!salt || !unhex(salt, u->salt, sizeof(u->salt)) || !hash ||
        !unhex(hash, u->hash, sizeof(u->hash))) {
        tams_buf_addf(why, "user '%s': salt and hash must be 32 and 64 hex digits", name);
        return TAMS_ERR_BADREQUEST;
    }
    if (!get_scopes(o, &u->scopes)) {
        tams_buf_addf(why, "user '%s': scopes must be an array of read, write, delete, admin",
                      name);
        return TAMS_ERR_BADREQUEST;
    }
    u->name = tams_strdup(name);
    u->created = tams_strdup(created ? created : "");
    c->nusers++;
    return 0;
}

static int parse_token(struct tams_creds *c, json_object *o, size_t i, struct tams_buf *why)
{
    struct tams_cred_token *t = &c->tokens[c->ntokens];
    const char *name = get_str(o, "name"), *id = get_str(o, "id"), *hash = get_str(o, "hash");
    const char *created = get_str(o, "created");

    memset(t, 0, sizeof(*t));
    if (!name || !tams_creds_name_valid(name) || name_taken(c, name, false)) {
        tams_buf_addf(why, "tokens[%zu]: missing, invalid or repeated name", i);
        return TAMS_ERR_BADREQUEST;
    }
    if (!id || strlen(id) != TAMS_CREDS_TOKEN_ID_HEX) {
        tams_buf_addf(why, "token '%s': id must be %d hex digits", name, TAMS_CREDS_TOKEN_ID_HEX);
        return TAMS_ERR_BADREQUEST;
    }
    if (!tams_hex_valid(id, TAMS_CREDS_TOKEN_ID_HEX)) {
        tams_buf_addf(why, "token '%s': id must be %d hex digits", name, TAMS_CREDS_TOKEN_ID_HEX);
        return TAMS_ERR_BADREQUEST;
    }
    memcpy(t->id, id, TAMS_CREDS_TOKEN_ID_HEX + 1);
    if (!hash || !unhex(hash, t->hash, sizeof(t->hash))) {
        tams_buf_addf(why, "token '%s': hash must be 64 hex digits", name);
        return TAMS_ERR_BADREQUEST;
    }
    if (!get_scopes(o, &t->scopes)) {
        tams_buf_addf(why, "token '%s': scopes must be an array of read, write, delete, admin",
                      name);
        return TAMS_ERR_BADREQUEST;
    }
    t->name = tams_strdup(name);
    t->created = tams_strdup(created ? created : "");
    c->ntokens++;
    return 0;
}

int tams_creds_parse(struct tams_creds *c, const char *text, size_t n, struct tams_buf *why)
{
    json_tokener *tok = json_tokener_new_ex(16);
    json_object *root = NULL, *users = NULL, *tokens = NULL, *ver;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    if (!tok)
        TAMS_BUG("json_tokener_new_ex failed");
    if (n > FILE_MAX || memchr(text, '\0', n)) {
        tams_buf_addstr(why, "not a JSON document");
        rc = TAMS_ERR_BADREQUEST;
        goto out;
    }
    root = json_tokener_parse_ex(tok, text, (int)n);
    if (!root || json_tokener_get_error(tok) != json_tokener_success ||
        !json_object_is_type(root, json_type_object)) {
        tams_buf_addstr(why, "not a JSON object");
        rc = TAMS_ERR_BADREQUEST;
        goto out;
    }
    if (!json_object_object_get_ex(root, "version", &ver) || json_object_get_int(ver) != 1) {
        tams_buf_addstr(why, "unknown version (expected 1)");
        rc = TAMS_ERR_BADREQUEST;
        goto out;
    }
    if ((json_object_object_get_ex(root, "users", &users) &&
         !json_object_is_type(users, json_type_array)) ||
        (json_object_object_get_ex(root, "tokens", &tokens) &&
         !json_object_is_type(tokens, json_type_array))) {
        tams_buf_addstr(why, "users and tokens must be arrays");
        rc = TAMS_ERR_BADREQUEST;
        goto out;
    }
    if (users && json_object_array_length(users)) {
        size_t k = json_object_array_length(users);
        c->users = tams_calloc(k, sizeof(*c->users));
        for (size_t i = 0; i < k && !rc; i++) {
            json_object *e = json_object_array_get_idx(users, i);
            if (!json_object_is_type(e, json_type_object)) {
                tams_buf_addf(why, "users[%zu] is not an object", i);
                rc = TAMS_ERR_BADREQUEST;
            } else {
                rc = parse_user(c, e, i, why);
            }
        }
    }
    if (!rc && tokens && json_object_array_length(tokens)) {
        size_t k = json_object_array_length(tokens);
        c->tokens = tams_calloc(k, sizeof(*c->tokens));
        for (size_t i = 0; i < k && !rc; i++) {
            json_object *e = json_object_array_get_idx(tokens, i);
            if (!json_object_is_type(e, json_type_object)) {
                tams_buf_addf(why, "tokens[%zu] is not an object", i);
                rc = TAMS_ERR_BADREQUEST;
            } else {
                rc = parse_token(c, e, i, why);
            }
        }
    }
out:
    json_object_put(root);
    json_tokener_free(tok);
    if (rc)
        tams_creds_release(c);
    return rc;
}

int tams_creds_load(struct tams_creds *c, const char *path, struct tams_buf *why)
{
    struct tams_buf text = TAMS_BUF_INIT(FILE_MAX);
    char chunk[8192];
    int fd, rc = 0;

    memset(c, 0, sizeof(*c));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        tams_buf_addf(why, "cannot open '%s': %s", path, strerror(errno));
        return TAMS_ERR_IO;
    }
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            tams_buf_addf(why, "cannot read '%s': %s", path, strerror(errno));
            rc = TAMS_ERR_IO;
            break;
        }
        if (got == 0)
            break;
        if (tams_buf_add(&text, chunk, (size_t)got)) {
            tams_buf_addf(why, "'%s' is larger than %d bytes", path, FILE_MAX);
            rc = TAMS_ERR_BADREQUEST;
            break;
        }
    }
    close(fd);
    if (!rc) {
        struct tams_buf inner = TAMS_BUF_INIT(1024);
        rc = tams_creds_parse(c, text.data, text.len, &inner);
        if (rc)
            tams_buf_addf(why, "'%s': %s", path, inner.data);
        tams_buf_release(&inner);
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    tams_buf_release(&text);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void write_scopes(struct tams_json *j, unsigned scopes)
{
    static const unsigned bits[] = {TAMS_SCOPE_READ, TAMS_SCOPE_WRITE, TAMS_SCOPE_DELETE,
                                    TAMS_SCOPE_ADMIN};
    tams_json_key(j, "scopes");
    tams_json_arr_open(j);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bits); i++) {
        if (scopes & bits[i]) {
            struct tams_buf b = TAMS_BUF_INIT(16);
            tams_scopes_format(bits[i], &b);
            tams_json_str(j, b.data);
            tams_buf_release(&b);
        }
    }
    tams_json_arr_close(j);
}

static void render(const struct tams_creds *c, struct tams_buf *out)
{
    struct tams_json j;
    char hex[2 * TAMS_SHA256_LEN + 1];
    tams_json_init(&j, out);
    tams_json_obj_open(&j);
    tams_json_kint(&j, "version", 1);
    tams_json_key(&j, "users");
    tams_json_arr_open(&j);
    for (size_t i = 0; i < c->nusers; i++) {
        const struct tams_cred_user *u = &c->users[i];
        tams_json_obj_open(&j);
        tams_json_kstr(&j, "name", u->name);
        write_scopes(&j, u->scopes);
        tams_json_kstr(&j, "kdf", "pbkdf2-sha256");
        tams_json_kint(&j, "iterations", u->iterations);
        tams_hex_encode(u->salt, sizeof(u->salt), hex);
        tams_json_kstr(&j, "salt", hex);
        tams_hex_encode(u->hash, sizeof(u->hash), hex);
        tams_json_kstr(&j, "hash", hex);
        tams_json_kstr(&j, "created", u->created);
        tams_json_obj_close(&j);
    }
    tams_json_arr_close(&j);
    tams_json_key(&j, "tokens");
    tams_json_arr_open(&j);
    for (size_t i = 0; i < c->ntokens; i++) {
        const struct tams_cred_token *t = &c->tokens[i];
        tams_json_obj_open(&j);
        tams_json_kstr(&j, "name", t->name);
        tams_json_kstr(&j, "id", t->id);
        write_scopes(&j, t->scopes);
        tams_hex_encode(t->hash, sizeof(t->hash), hex);
        tams_json_kstr(&j, "hash", hex);
        tams_json_kstr(&j, "created", t->created);
        tams_json_obj_close(&j);
    }
    tams_json_arr_close(&j);
    tams_json_obj_close(&j);
    tams_buf_addch(out, '\n');
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int tams_creds_save(const struct tams_creds *c, const char *path, struct tams_buf *why)
{
    struct tams_buf text = TAMS_BUF_INIT(FILE_MAX);
    struct tams_buf tmp = TAMS_BUF_INIT(8192);
    char *dir = tams_strdup(path);
    char suffix[17];
    int fd, dfd, rc = 0;

    render(c, &text);
    tams_random_hex(suffix, 8);
    tams_buf_addf(&tmp, "%s.%s.tmp", path, suffix);
    if (!tams_buf_ok(&text) || !tams_buf_ok(&tmp)) {
        tams_buf_addstr(why, "too many credentials for one file");
        rc = TAMS_ERR_TOOBIG;
        goto out;
    }
    fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        tams_buf_addf(why, "cannot create '%s': %s", tmp.data, strerror(errno));
        rc = TAMS_ERR_IO;
        goto out;
    }
    if (write_all(fd, text.data, text.len) || fsync(fd)) {
        tams_buf_addf(why, "cannot write '%s': %s", tmp.data, strerror(errno));
        close(fd);
        unlink(tmp.data);
        rc = TAMS_ERR_IO;
        goto out;
    }
    close(fd);
    if (rename(tmp.data, path)) {
        tams_buf_addf(why, "cannot rename '%s' to '%s': %s", tmp.data, path, strerror(errno));
        unlink(tmp.data);
        rc = TAMS_ERR_IO;
        goto out;
    }
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    tams_free(dir);
    tams_buf_release(&tmp);
    tams_buf_release(&text);
    return rc;
}

/* ---- secrets ------------------------------------------------------------------------------ */

static void pbkdf2(const char *password, size_t plen, const unsigned char *salt, int iterations,
                   unsigned char out[TAMS_SHA256_LEN])
{
    if (!PKCS5_PBKDF2_HMAC(password, (int)plen, salt, TAMS_CREDS_SALT_LEN, iterations, EVP_sha256(),
                           TAMS_SHA256_LEN, out))
        TAMS_BUG("PBKDF2 failed");
}

int tams_creds_add_user(struct tams_creds *c, const char *name, unsigned scopes,
                        const char *password, size_t plen, struct tams_buf *why)
{
    struct tams_cred_user *u;
    char now[TAMS_RFC3339_MAX];

    if (name_taken(c, name, true)) {
        tams_buf_addf(why, "user '%s' already exists", name);
        return TAMS_ERR_CONFLICT;
    }
    if (plen < TAMS_CREDS_PASSWORD_MIN || plen > TAMS_CREDS_PASSWORD_MAX) {
        tams_buf_addf(why, "the password must be %d to %d bytes long", TAMS_CREDS_PASSWORD_MIN,
                      TAMS_CREDS_PASSWORD_MAX);
        return TAMS_ERR_BADREQUEST;
    }
    c->users = tams_realloc(c->users, (c->nusers + 1) * sizeof(*c->users));
    u = &c->users[c->nusers];
    memset(u, 0, sizeof(*u));
    u->name = tams_strdup(name);
    u->scopes = scopes;
    u->iterations = TAMS_CREDS_PBKDF2_ITERATIONS;
    tams_random_bytes(u->salt, sizeof(u->salt));
    pbkdf2(password, plen, u->salt, u->iterations, u->hash);
    tams_clock_now_rfc3339(now);
    u->created = tams_strdup(now);
    c->nusers++;
    return 0;
}

int tams_creds_add_token(struct tams_creds *c, const char *name, unsigned scopes, char **token,
                         struct tams_buf *why)
{
    struct tams_cred_token *t;
    unsigned char secret[TAMS_CREDS_TOKEN_SECRET_BYTES];
    char enc[4 * ((TAMS_CREDS_TOKEN_SECRET_BYTES + 2) / 3) + 1];
    char now[TAMS_RFC3339_MAX];
    char *text;

    if (name_taken(c, name, false)) {
        tams_buf_addf(why, "token '%s' already exists", name);
        return TAMS_ERR_CONFLICT;
    }
    c->tokens = tams_realloc(c->tokens, (c->ntokens + 1) * sizeof(*c->tokens));
    t = &c->tokens[c->ntokens];
    memset(t, 0, sizeof(*t));
    t->name = tams_strdup(name);
    t->scopes = scopes;
    tams_random_hex(t->id, TAMS_CREDS_TOKEN_ID_HEX / 2);
    tams_random_bytes(secret, sizeof(secret));
    tams_base64_encode(secret, sizeof(secret), true, enc);
    text = tams_malloc(TAMS_CREDS_TOKEN_LEN + 8);
    snprintf(text, TAMS_CREDS_TOKEN_LEN + 8, "%s%s_%s", TAMS_CREDS_TOKEN_PREFIX, t->id, enc);
    tams_sha256(text, strlen(text), t->hash);
    tams_clock_now_rfc3339(now);
    t->created = tams_strdup(now);
    c->ntokens++;
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(enc, sizeof(enc));
    *token = text;
    return 0;
}

int tams_creds_remove_user(struct tams_creds *c, const char *name)
{
    for (size_t i = 0; i < c->nusers; i++) {
        if (strcmp(c->users[i].name, name) == 0) {
            tams_free(c->users[i].name);
            tams_free(c->users[i].created);
            memmove(&c->users[i], &c->users[i + 1], (c->nusers - i - 1) * sizeof(*c->users));
            c->nusers--;
            return 0;
        }
    }
    return TAMS_ERR_NOTFOUND;
}

int tams_creds_remove_token(struct tams_creds *c, const char *name)
{
    for (size_t i = 0; i < c->ntokens; i++) {
        if (strcmp(c->tokens[i].name, name) == 0) {
            tams_free(c->tokens[i].name);
            tams_free(c->tokens[i].created);
            memmove(&c->tokens[i], &c->tokens[i + 1], (c->ntokens - i - 1) * sizeof(*c->tokens));
            c->ntokens--;
            return 0;
        }
    }
    return TAMS_ERR_NOTFOUND;
}

const struct tams_cred_user *tams_creds_check_password(const struct tams_creds *c, const char *name,
                                                       const char *password, size_t plen)
{
    static const unsigned char dummy_salt[TAMS_CREDS_SALT_LEN] = {0};
    const struct tams_cred_user *u = NULL;
    unsigned char got[TAMS_SHA256_LEN];
    bool ok;

    for (size_t i = 0; i < c->nusers && !u; i++)
        if (strcmp(c->users[i].name, name) == 0)
            u = &c->users[i];
    if (plen > TAMS_CREDS_PASSWORD_MAX)
        plen = TAMS_CREDS_PASSWORD_MAX;
    pbkdf2(password, plen, u ? u->salt : dummy_salt,
           u ? u->iterations : TAMS_CREDS_PBKDF2_ITERATIONS, got);
    ok = u && CRYPTO_memcmp(got, u->hash, sizeof(got)) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok ? u : NULL;
}

bool tams_creds_is_token(const char *token, size_t n)
{
    size_t p = strlen(TAMS_CREDS_TOKEN_PREFIX);
    if (n < p + TAMS_CREDS_TOKEN_ID_HEX + 1 || memcmp(token, TAMS_CREDS_TOKEN_PREFIX, p) != 0)
        return false;
    return tams_hex_valid(token + p, TAMS_CREDS_TOKEN_ID_HEX) &&
           token[p + TAMS_CREDS_TOKEN_ID_HEX] == '_';
}

const struct tams_cred_token *tams_creds_check_token(const struct tams_creds *c, const char *token,
                                                     size_t n)
{
    unsigned char got[TAMS_SHA256_LEN];
    const char *id = token + strlen(TAMS_CREDS_TOKEN_PREFIX);
    if (!tams_creds_is_token(token, n))
        return NULL;
    tams_sha256(token, n, got);
    for (size_t i = 0; i < c->ntokens; i++)
        if (memcmp(c->tokens[i].id, id, TAMS_CREDS_TOKEN_ID_HEX) == 0 &&
            CRYPTO_memcmp(c->tokens[i].hash, got, sizeof(got)) == 0)
            return &c->tokens[i];
    return NULL;
}

const struct tams_cred_user *tams_creds_find_user(const struct tams_creds *c, const char *name)
{
    for (size_t i = 0; i < c->nusers; i++)
        if (strcmp(c->users[i].name, name) == 0)
            return &c->users[i];
    return NULL;
}

const struct tams_cred_token *tams_creds_find_token(const struct tams_creds *c, const char *name)
{
    for (size_t i = 0; i < c->ntokens; i++)
        if (strcmp(c->tokens[i].name, name) == 0)
            return &c->tokens[i];
    return NULL;
}

const struct tams_cred_token *tams_creds_find_token_id(const struct tams_creds *c,
                                                       const char *token, size_t n)
{
    const char *id = token + strlen(TAMS_CREDS_TOKEN_PREFIX);
    if (!tams_creds_is_token(token, n))
        return NULL;
    for (size_t i = 0; i < c->ntokens; i++)
        if (memcmp(c->tokens[i].id, id, TAMS_CREDS_TOKEN_ID_HEX) == 0)
            return &c->tokens[i];
    return NULL;
}
