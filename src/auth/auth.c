/* SPDX-License-Identifier: Apache-2.0 */
/* auth.c - credential checks for the gate: reloadable credentials, JWTs, cache, throttle. */
#include "core/common.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/random.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "core/base64.h"
#include "auth/creds.h"
#include "auth/jwt.h"
#include "auth/scopes.h"
#include "auth/throttle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RELOAD_EVERY_US 1000000
#define CACHE_TTL_US (300LL * 1000000)
#define KEY_FILE_MAX (64 * 1024)
#define BASIC_MAX 4096

/* ---- snapshots and reloading ---------------------------------------------------------------- */

static struct snapshot *snap_get(struct tams_auth *a)
{
    struct snapshot *s;
    pthread_mutex_lock(&a->lock);
    s = a->cur;
    s->refs++;
    pthread_mutex_unlock(&a->lock);
    return s;
}

void tams_auth_snap_put(struct tams_auth *a, struct snapshot *s)
{
    bool last;
    pthread_mutex_lock(&a->lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&a->lock);
    if (last) {
        tams_creds_release(&s->creds);
        tams_free(s);
    }
}

static bool same_file(const struct stat *x, const struct stat *y)
{
    return x->st_ino == y->st_ino && x->st_dev == y->st_dev && x->st_size == y->st_size &&
           x->st_mtim.tv_sec == y->st_mtim.tv_sec && x->st_mtim.tv_nsec == y->st_mtim.tv_nsec &&
           x->st_ctim.tv_sec == y->st_ctim.tv_sec && x->st_ctim.tv_nsec == y->st_ctim.tv_nsec;
}

static bool is_armed(const struct tams_auth *a)
{
    return __atomic_load_n(&a->armed, __ATOMIC_ACQUIRE);
}

/* An empty credentials file: the mark that authentication is in force for good. */
static int write_mark(const char *path, struct tams_buf *why)
{
    struct tams_creds none = {0};
    return tams_creds_save(&none, path, why);
}

/* Re-reads the file when it changed; at most once a second, and never blocking a request
 * behind another one's reload. */
static void maybe_reload(struct tams_auth *a)
{
    int64_t now = tams_clock_mono_us();
    struct stat st;
    bool exists;
    struct tams_creds fresh;
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct snapshot *s, *old;

    if (now < __atomic_load_n(&a->next_check_us, __ATOMIC_RELAXED))
        return;
    if (pthread_mutex_trylock(&a->reload_lock) != 0)
        return;
    __atomic_store_n(&a->next_check_us, now + RELOAD_EVERY_US, __ATOMIC_RELAXED);
    exists = stat(a->path, &st) == 0;
    if (exists == a->seen_exists && (!exists || same_file(&st, &a->seen)))
        goto out;
    if (!exists && is_armed(a) && !a->off) {
        /* Removing the file removes every credential, never the need for one. */
        tams_log_error("'%s' is gone: authentication stays in force with no credential; it is "
                       "written again empty, add a credential with 'tamsd user add' or "
                       "'tamsd token create'",
                       a->path);
        if (write_mark(a->path, &why))
            tams_log_error("cannot write '%s': %s", a->path, why.data);
        exists = stat(a->path, &st) == 0;
    }
    if (tams_creds_load(&fresh, a->path, &why)) {
        tams_log_error("cannot reload credentials, keeping the previous ones: %s", why.data);
        a->seen = st; /* do not retry until it changes again */
        a->seen_exists = exists;
        goto out;
    }
    a->seen = st;
    a->seen_exists = exists;
    if (exists && !is_armed(a)) {
        __atomic_store_n(&a->armed, true, __ATOMIC_RELEASE);
        if (!a->off)
            tams_log_warn("credentials appeared in '%s': authentication is now in force, and "
                          "stays so even if every credential is removed",
                          a->path);
    }
    s = tams_calloc(1, sizeof(*s));
    s->creds = fresh;
    s->refs = 1;
    pthread_mutex_lock(&a->lock);
    old = a->cur;
    s->gen = old->gen + 1;
    a->cur = s;
    pthread_mutex_unlock(&a->lock);
    tams_auth_snap_put(a, old);
    tams_log_info("credentials reloaded: %zu user(s), %zu token(s)", s->creds.nusers,
                  s->creds.ntokens);
out:
    pthread_mutex_unlock(&a->reload_lock);
    tams_buf_release(&why);
}

static bool in_force(struct tams_auth *a)
{
    return !a->off && (a->always || a->jwt || is_armed(a));
}

/* ---- the password cache --------------------------------------------------------------------- */

static void cache_key_of(struct tams_auth *a, const char *user, const char *pw, size_t plen,
                         unsigned char out[TAMS_SHA256_LEN])
{
    struct tams_buf b = TAMS_BUF_INIT(BASIC_MAX * 2);
    tams_buf_addstr(&b, user);
    tams_buf_addch(&b, '\0');
    tams_buf_add(&b, pw, plen);
    tams_hmac_sha256(a->cache_key, sizeof(a->cache_key), b.data, b.len, out);
    OPENSSL_cleanse(b.data, b.len);
    tams_buf_release(&b);
}

static bool cache_find(struct tams_auth *a, const unsigned char key[TAMS_SHA256_LEN], uint64_t gen,
                       char *name, size_t cap, unsigned *scopes)
{
    int64_t now = tams_clock_mono_us();
    bool hit = false;
    pthread_mutex_lock(&a->cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS && !hit; i++) {
        struct cache_entry *e = &a->cache[i];
        if (e->expires_us > now && e->gen == gen &&
            CRYPTO_memcmp(e->key, key, TAMS_SHA256_LEN) == 0) {
            snprintf(name, cap, "%s", e->name);
            *scopes = e->scopes;
            hit = true;
        }
    }
    pthread_mutex_unlock(&a->cache_lock);
    return hit;
}

static void cache_add(struct tams_auth *a, const unsigned char key[TAMS_SHA256_LEN], uint64_t gen,
                      const char *name, unsigned scopes)
{
    struct cache_entry *e;
    pthread_mutex_lock(&a->cache_lock);
    e = &a->cache[a->cache_next++ % CACHE_SLOTS];
    memcpy(e->key, key, TAMS_SHA256_LEN);
    e->expires_us = tams_clock_mono_us() + CACHE_TTL_US;
    e->gen = gen;
    e->scopes = scopes;
    snprintf(e->name, sizeof(e->name), "%s", name);
    pthread_mutex_unlock(&a->cache_lock);
}

/* ---- principals -------------------------------------------------------------------------------
 */

static void set_ok(struct tams_auth_result *res, char kind, const char *name, unsigned scopes)
{
    snprintf(res->name, sizeof(res->name), "%s", name);
    snprintf(res->principal, sizeof(res->principal), "%s:%s", kind == 'u' ? "user" : "token", name);
    res->scopes = scopes;
}

/* "jwt:" + the issuer with '%' and ':' percent-encoded + ":" + the subject. */
static void jwt_principal(const char *iss, const char *sub, char *out, size_t cap)
{
    struct tams_buf b = TAMS_BUF_INIT(TAMS_AUTH_PRINCIPAL_MAX - 1);
    tams_buf_addstr(&b, "jwt:");
    for (; *iss; iss++) {
        if (*iss == '%' || *iss == ':')
            tams_buf_addf(&b, "%%%02X", (unsigned char)*iss);
        else
            tams_buf_addch(&b, *iss);
    }
    tams_buf_addf(&b, ":%s", sub);
    snprintf(out, cap, "%s", b.data);
    tams_buf_release(&b);
}

/* ---- checking one credential ------------------------------------------------------------------
 */

static void note_failure(struct tams_auth *a, const struct tams_client *c, const char *why)
{
    char who[INET6_ADDRSTRLEN];
    __atomic_fetch_add(&a->n_invalid, 1, __ATOMIC_RELAXED);
    tams_client_text(c, who, sizeof(who));
    tams_log_info("authentication failed from %s: %s", who, why ? why : "invalid credential");
}

static enum tams_auth_outcome throttled(struct tams_auth *a, uint64_t who, int wait,
                                        struct tams_auth_result *res)
{
    res->retry_after = wait;
    res->unknown = who == TAMS_THROTTLE_UNKNOWN;
    __atomic_fetch_add(res->unknown ? &a->n_throttled_unknown : &a->n_throttled, 1,
                       __ATOMIC_RELAXED);
    return TAMS_AUTH_THROTTLED;
}

/* A wrong credential of principal who: 401, or 429 once its bucket is empty. */
static enum tams_auth_outcome failed(struct tams_auth *a, const struct tams_client *c, uint64_t who,
                                     const char *why, struct tams_auth_result *res)
{
    int wait = tams_throttle_take(a->th, c, who);
    if (wait)
        return throttled(a, who, wait, res);
    note_failure(a, c, why);
    return TAMS_AUTH_INVALID;
}

static enum tams_auth_outcome check_bearer(struct tams_auth *a, struct snapshot *snap,
                                           const struct tams_client *c, const char *token,
                                           struct tams_auth_result *res)
{
    size_t n = strlen(token);
    const char *why = "not an API token of this server";

    if (tams_creds_is_token(token, n)) {
        const struct tams_cred_token *t = tams_creds_check_token(&snap->creds, token, n);
        const struct tams_cred_token *id = t ? t : tams_creds_find_token_id(&snap->creds, token, n);
        if (t) {
            set_ok(res, 't', t->name, t->scopes);
            return TAMS_AUTH_OK;
        }
        return failed(a, c, id ? tams_throttle_who(a->th, 't', id->id) : TAMS_THROTTLE_UNKNOWN,
                      "unknown or revoked API token", res);
    }
    if (a->jwt) {
        struct tams_jwt_result jr;
        if (tams_jwt_verify(a->jwt, token, n, tams_clock_wall_us() / 1000000, &jr, &why) == 0) {
            snprintf(res->name, sizeof(res->name), "%s", jr.name);
            jwt_principal(jr.issuer, jr.subject, res->principal, sizeof(res->principal));
            res->scopes = jr.scopes;
            return TAMS_AUTH_OK;
        }
    }
    return failed(a, c, TAMS_THROTTLE_UNKNOWN, why, res);
}

/* PBKDF2 and what follows it, on a hashing thread (or the caller's when it has no wake). */
enum tams_auth_outcome tams_auth_finish_password(struct tams_auth *a, struct snapshot *snap,
                                                 const struct tams_client *c, uint64_t who,
                                                 const char *user, const char *pw, size_t plen,
                                                 const unsigned char key[TAMS_SHA256_LEN],
                                                 struct tams_auth_result *res)
{
    const struct tams_cred_user *u = tams_creds_check_password(&snap->creds, user, pw, plen);
    if (!u) {
        note_failure(a, c, "unknown user or wrong password");
        return TAMS_AUTH_INVALID;
    }
    tams_throttle_give_back(a->th, c, who);
    set_ok(res, 'u', u->name, u->scopes);
    cache_add(a, key, snap->gen, u->name, u->scopes);
    return TAMS_AUTH_OK;
}

static enum tams_auth_outcome check_basic(struct tams_auth *a, const struct tams_auth_input *in,
                                          struct snapshot *snap, const struct tams_client *c,
                                          const char *b64, struct tams_auth_result *res,
                                          struct tams_auth_pending **pending)
{
    size_t n = strlen(b64), len = 0, plen;
    char *raw = NULL, *colon, *pw;
    unsigned char key[TAMS_SHA256_LEN];
    char name[TAMS_CREDS_NAME_MAX + 1];
    unsigned scopes;
    uint64_t who;
    int wait;
    enum tams_auth_outcome out;

    if (n == 0 || n > BASIC_MAX)
        return failed(a, c, TAMS_THROTTLE_UNKNOWN, "malformed basic credentials", res);
    raw = tams_malloc(TAMS_BASE64_DECODED_MAX(n) + 1);
    if (tams_base64_decode(b64, n, false, (unsigned char *)raw, &len) ||
        !(colon = memchr(raw, ':', len)) || memchr(raw, '\0', len)) {
        out = failed(a, c, TAMS_THROTTLE_UNKNOWN, "malformed basic credentials", res);
        goto out;
    }
    raw[len] = '\0';
    *colon = '\0';
    pw = colon + 1;
    plen = len - (size_t)(pw - raw);
    if (!tams_creds_name_valid(raw)) {
        out = failed(a, c, TAMS_THROTTLE_UNKNOWN, "unknown user or wrong password", res);
        goto out;
    }
    /* The attempt is taken before anything is checked, the cache included, so a throttled
     * address learns nothing; a right password gives it back. */
    who = tams_creds_find_user(&snap->creds, raw) ? tams_throttle_who(a->th, 'u', raw)
                                                  : TAMS_THROTTLE_UNKNOWN;
    if ((wait = tams_throttle_take(a->th, c, who))) {
        out = throttled(a, who, wait, res);
        goto out;
    }
    cache_key_of(a, raw, pw, plen, key);
    if (cache_find(a, key, snap->gen, name, sizeof(name), &scopes)) {
        tams_throttle_give_back(a->th, c, who);
        set_ok(res, 'u', name, scopes);
        out = TAMS_AUTH_OK;
    } else if (!in->wake || !pending) {
        out = tams_auth_finish_password(a, snap, c, who, raw, pw, plen, key, res);
    } else {
        out = tams_auth_queue_password(a, in, snap, c, who, raw, pw, plen, key, res, pending);
    }
out:
    OPENSSL_cleanse(raw, len < n ? len : n);
    tams_free(raw);
    return out;
}

enum tams_auth_outcome tams_auth_check(struct tams_auth *a, const struct tams_auth_input *in,
                                       struct tams_auth_result *res,
                                       struct tams_auth_pending **pending)
{
    struct snapshot *snap;
    struct tams_client c;
    enum tams_auth_outcome out;
    const char *cred = in->authorization;

    memset(res, 0, sizeof(*res));
    if (pending)
        *pending = NULL;
    if (a->off)
        return TAMS_AUTH_OFF;
    maybe_reload(a);
    if (!in_force(a))
        return TAMS_AUTH_OFF;
    while (cred && (*cred == ' ' || *cred == '\t'))
        cred++;
    if ((!cred || !*cred) && !in->access_token) {
        __atomic_fetch_add(&a->n_missing, 1, __ATOMIC_RELAXED);
        return TAMS_AUTH_MISSING;
    }
    tams_client_of(&a->proxies, in->client, in->forwarded_for, &c);
    snap = snap_get(a);
    if (cred && *cred) {
        if (strncasecmp(cred, "Basic ", 6) == 0) {
            for (cred += 6; *cred == ' '; cred++)
                ;
            out = check_basic(a, in, snap, &c, cred, res, pending);
        } else if (strncasecmp(cred, "Bearer ", 7) == 0) {
            for (cred += 7; *cred == ' '; cred++)
                ;
            out = check_bearer(a, snap, &c, cred, res);
        } else {
            out = failed(a, &c, TAMS_THROTTLE_UNKNOWN,
                         "unsupported authorization scheme (use Basic or Bearer)", res);
        }
    } else {
        out = check_bearer(a, snap, &c, in->access_token, res);
    }
    tams_auth_snap_put(a, snap);
    if (out != TAMS_AUTH_OK) {
        res->name[0] = res->principal[0] = '\0';
        res->scopes = 0;
    }
    return out;
}

/* ---- counters and questions of other modules ------------------------------------------------- */

void tams_auth_note_forbidden(struct tams_auth *a)
{
    __atomic_fetch_add(&a->n_forbidden, 1, __ATOMIC_RELAXED);
}

bool tams_auth_metrics_public(const struct tams_auth *a)
{
    return a->metrics_public;
}

void tams_auth_metrics_render(void *ctx, struct tams_buf *out)
{
    struct tams_auth *a = ctx;
    int depth;

    pthread_mutex_lock(&a->hq_lock);
    depth = a->hq_len;
    pthread_mutex_unlock(&a->hq_lock);
    tams_buf_addf(out,
                  "# HELP tams_auth_failures_total Requests refused with 401: no credential "
                  "(missing) or a wrong one (invalid).\n"
                  "# TYPE tams_auth_failures_total counter\n"
                  "tams_auth_failures_total{reason=\"missing\"} %" PRIu64 "\n"
                  "tams_auth_failures_total{reason=\"invalid\"} %" PRIu64 "\n",
                  __atomic_load_n(&a->n_missing, __ATOMIC_RELAXED),
                  __atomic_load_n(&a->n_invalid, __ATOMIC_RELAXED));
    tams_buf_addf(out,
                  "# HELP tams_auth_forbidden_total Requests refused with 403: outside the "
                  "credential's scopes.\n# TYPE tams_auth_forbidden_total counter\n"
                  "tams_auth_forbidden_total %" PRIu64 "\n",
                  __atomic_load_n(&a->n_forbidden, __ATOMIC_RELAXED));
    tams_buf_addf(out,
                  "# HELP tams_auth_throttled_total Requests refused with 429: repeated failures "
                  "of one principal (principal) or of unknown ones (unknown) from one address, or "
                  "a full password-checking queue (hash_queue).\n"
                  "# TYPE tams_auth_throttled_total counter\n"
                  "tams_auth_throttled_total{reason=\"principal\"} %" PRIu64 "\n"
                  "tams_auth_throttled_total{reason=\"unknown\"} %" PRIu64 "\n"
                  "tams_auth_throttled_total{reason=\"hash_queue\"} %" PRIu64 "\n",
                  __atomic_load_n(&a->n_throttled, __ATOMIC_RELAXED),
                  __atomic_load_n(&a->n_throttled_unknown, __ATOMIC_RELAXED),
                  __atomic_load_n(&a->n_busy, __ATOMIC_RELAXED));
    tams_buf_addf(out,
                  "# HELP tams_auth_hash_queue_depth Password checks waiting for a hashing "
                  "thread.\n# TYPE tams_auth_hash_queue_depth gauge\n"
                  "tams_auth_hash_queue_depth %d\n",
                  depth);
}

bool tams_auth_in_force(struct tams_auth *a)
{
    maybe_reload(a);
    return in_force(a);
}

/* The issuer part of a "jwt:" principal equals the configured issuer, encoded. */
static bool issuer_is(const char *enc, size_t n, const char *iss)
{
    char want[TAMS_AUTH_PRINCIPAL_MAX];
    const char *colon;
    jwt_principal(iss, "", want, sizeof(want));
    colon = strrchr(want, ':');
    return colon && (size_t)(colon - want) - 4 == n && memcmp(want + 4, enc, n) == 0;
}

bool tams_auth_owner_may_read(void *ctx, const char *owner, unsigned scopes)
{
    struct tams_auth *a = ctx;
    struct snapshot *snap;
    unsigned have = 0;

    if (!tams_auth_in_force(a))
        return true; /* anyone may read everything */
    if (!owner)
        return false;
    if (strncmp(owner, "jwt:", 4) == 0) {
        const char *colon = strchr(owner + 4, ':');
        if (!a->jwt || !colon)
            return false;
        if (a->jwt_issuer && !issuer_is(owner + 4, (size_t)(colon - owner - 4), a->jwt_issuer))
            return false;
        have = scopes;
    } else if (strncmp(owner, "user:", 5) == 0 || strncmp(owner, "token:", 6) == 0) {
        snap = snap_get(a);
        if (owner[0] == 'u') {
            const struct tams_cred_user *u = tams_creds_find_user(&snap->creds, owner + 5);
            have = u ? u->scopes : 0;
        } else {
            const struct tams_cred_token *t = tams_creds_find_token(&snap->creds, owner + 6);
            have = t ? t->scopes : 0;
        }
        tams_auth_snap_put(a, snap);
    }
    return (have & (TAMS_SCOPE_READ | TAMS_SCOPE_ADMIN)) != 0;
}

int tams_auth_legacy_owner(struct tams_auth *a, const char *name, char *out, size_t cap)
{
    struct snapshot *snap;
    int rc = TAMS_ERR_NOTFOUND;

    maybe_reload(a);
    snap = snap_get(a);
    if (tams_creds_find_user(&snap->creds, name)) {
        snprintf(out, cap, "user:%s", name);
        rc = 0;
    } else if (tams_creds_find_token(&snap->creds, name)) {
        snprintf(out, cap, "token:%s", name);
        rc = 0;
    }
    tams_auth_snap_put(a, snap);
    return rc;
}

/* ---- startup --------------------------------------------------------------------------------- */

bool tams_auth_host_is_loopback(const char *host)
{
    struct addrinfo hints = {0}, *ai = NULL;
    bool all = true;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, NULL, &hints, &ai) || !ai)
        return false;
    for (struct addrinfo *p = ai; p && all; p = p->ai_next) {
        if (p->ai_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)p->ai_addr;
            all = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (p->ai_family == AF_INET6) {
            const struct in6_addr *a6 =
                &((const struct sockaddr_in6 *)(const void *)p->ai_addr)->sin6_addr;
            all = IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
        } else {
            all = false;
        }
    }
    freeaddrinfo(ai);
    return all;
}

static int read_small_file(const char *path, struct tams_buf *out, struct tams_buf *why)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t got;
    if (!f) {
        tams_buf_addf(why, "cannot open jwt_key_file '%s': %s", path, strerror(errno));
        return TAMS_ERR_IO;
    }
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (tams_buf_add(out, chunk, got)) {
            fclose(f);
            tams_buf_addf(why, "jwt_key_file '%s' is larger than %d bytes", path, KEY_FILE_MAX);
            return TAMS_ERR_TOOBIG;
        }
    }
    fclose(f);
    OPENSSL_cleanse(chunk, sizeof(chunk));
    return 0;
}

static int open_jwt(struct tams_auth *a, const struct tams_config *cfg, struct tams_buf *why)
{
    struct tams_buf key = TAMS_BUF_INIT(KEY_FILE_MAX);
    struct tams_buf inner = TAMS_BUF_INIT(512);
    struct tams_jwt_params p = {
        .alg = cfg->jwt_alg,
        .issuer = cfg->jwt_issuer,
        .audience = cfg->jwt_audience,
        .scope_claim = cfg->jwt_scope_claim,
        .name_claim = cfg->jwt_name_claim,
        .leeway = cfg->jwt_leeway,
    };
    int rc = 0;
    bool hs = strcmp(cfg->jwt_alg, "HS256") == 0;

    if (cfg->jwt_key_file[0]) {
        rc = read_small_file(cfg->jwt_key_file, &key, why);
        if (rc)
            goto out;
        if (hs) /* a secret file usually ends in a newline that is not part of the secret */
            while (key.len && (key.data[key.len - 1] == '\n' || key.data[key.len - 1] == '\r'))
                key.data[--key.len] = '\0';
    } else if (hs) {
        tams_buf_addstr(&key, cfg->jwt_secret);
    } else {
        tams_buf_addf(why, "jwt_alg %s needs jwt_key_file (a PEM public key)", cfg->jwt_alg);
        rc = TAMS_ERR_BADREQUEST;
        goto out;
    }
    if (hs) {
        p.secret = (const unsigned char *)key.data;
        p.secret_len = key.len;
    } else {
        p.public_key_pem = key.data;
        p.public_key_len = key.len;
    }
    rc = tams_jwt_verifier_new(&a->jwt, &p, &inner);
    if (rc)
        tams_buf_addf(why, "JWT settings: %s", inner.data);
    else if (cfg->jwt_issuer[0])
        a->jwt_issuer = tams_strdup(cfg->jwt_issuer);
out:
    if (key.len)
        OPENSSL_cleanse(key.data, key.len);
    tams_buf_release(&key);
    tams_buf_release(&inner);
    return rc;
}

/* What the log says at start about who may come in. */
static void log_policy(struct tams_auth *a, const struct tams_config *cfg, size_t ncreds)
{
    if (a->off) {
        tams_log_warn("authentication is disabled (auth_disabled): anyone who can reach %s has "
                      "full access",
                      cfg->listen_host);
    } else if (!in_force(a)) {
        tams_log_warn("no credential has ever been configured (no '%s'): serving WITHOUT "
                      "authentication, allowed only because the listen address '%s' is "
                      "loopback; the first 'tamsd user add' or 'tamsd token create' turns "
                      "authentication on for good",
                      a->path, cfg->listen_host);
    } else if (!ncreds) {
        tams_log_warn("authentication is in force but no credential exists: every request "
                      "except GET /health gets 401; add one with 'tamsd user add' or 'tamsd "
                      "token create' (set auth_disabled = true to serve without authentication)");
    } else {
        tams_log_info("authentication in force: %zu user(s), %zu token(s)%s%s",
                      a->cur->creds.nusers, a->cur->creds.ntokens, a->jwt ? ", JWT " : "",
                      a->jwt ? cfg->jwt_alg : "");
    }
}

int tams_auth_open(struct tams_auth **out, const struct tams_config *cfg, struct tams_buf *why)
{
    struct tams_auth *a = tams_calloc(1, sizeof(*a));
    struct tams_buf path = TAMS_BUF_INIT(TAMS_CONFIG_VALUE_MAX + 64);
    bool loopback = tams_auth_host_is_loopback(cfg->listen_host);
    size_t ncreds;
    int rc;

    *out = NULL;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->reload_lock, NULL);
    pthread_mutex_init(&a->cache_lock, NULL);
    pthread_mutex_init(&a->hq_lock, NULL);
    pthread_cond_init(&a->hq_cv, NULL);
    pthread_cond_init(&a->hq_idle, NULL);
    a->off = cfg->auth_disabled;
    a->always = !loopback;
    a->metrics_public = cfg->metrics_public;
    a->hq_max = cfg->auth_hash_queue > 0 ? cfg->auth_hash_queue : 1;
    tams_random_bytes(a->cache_key, sizeof(a->cache_key));
    a->th = tams_throttle_new(cfg->auth_fail_limit, cfg->auth_fail_limit_unknown);
    tams_buf_addf(&path, "%s/%s", cfg->data_dir, TAMS_CREDS_FILE);
    a->path = tams_buf_detach(&path, NULL);
    a->cur = tams_calloc(1, sizeof(*a->cur));
    a->cur->refs = 1;
    rc = tams_proxies_parse(&a->proxies, cfg->trusted_proxies, why);
    if (!rc && cfg->jwt_alg[0])
        rc = open_jwt(a, cfg, why);
    a->seen_exists = stat(a->path, &a->seen) == 0;
    if (!rc && !a->seen_exists && a->jwt && !a->off) {
        /* JWTs are a credential too: once used, turning them off must not open the server. */
        rc = write_mark(a->path, why);
        a->seen_exists = stat(a->path, &a->seen) == 0;
    }
    if (!rc && a->seen_exists && (a->seen.st_mode & 077))
        tams_log_warn("'%s' is readable by other users; chmod 600 it", a->path);
    if (!rc)
        rc = tams_creds_load(&a->cur->creds, a->path, why);
    a->armed = a->seen_exists;
    if (!rc)
        rc = tams_auth_start_hashing(a, cfg->auth_hash_threads > 0 ? cfg->auth_hash_threads : 1,
                                     why);
    if (rc) {
        tams_auth_close(a);
        return rc;
    }
    a->next_check_us = tams_clock_mono_us() + RELOAD_EVERY_US;
    ncreds = a->cur->creds.nusers + a->cur->creds.ntokens + (a->jwt ? 1 : 0);
    if (!a->off && !ncreds && !loopback) {
        tams_buf_addf(why,
                      "refusing to listen on non-loopback address '%s' without credentials: add "
                      "one with 'tamsd user add' or 'tamsd token create', configure jwt_alg, or "
                      "set auth_disabled = true to serve without authentication",
                      cfg->listen_host);
        tams_auth_close(a);
        return TAMS_ERR_FORBIDDEN;
    }
    log_policy(a, cfg, ncreds);
    if (a->proxies.n)
        tams_log_info("X-Forwarded-For is believed from %zu trusted proxy range(s)", a->proxies.n);
    *out = a;
    return 0;
}

void tams_auth_close(struct tams_auth *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->hq_lock);
    a->hq_stop = true;
    pthread_cond_broadcast(&a->hq_cv);
    pthread_mutex_unlock(&a->hq_lock);
    for (int i = 0; i < a->hq_nthreads; i++)
        pthread_join(a->hq_threads[i], NULL);
    tams_free(a->hq_threads);
    if (a->cur)
        tams_auth_snap_put(a, a->cur);
    tams_jwt_verifier_free(a->jwt);
    tams_free(a->jwt_issuer);
    OPENSSL_cleanse(a->cache, sizeof(a->cache));
    tams_throttle_free(a->th);
    tams_free(a->path);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->reload_lock);
    pthread_mutex_destroy(&a->cache_lock);
    pthread_mutex_destroy(&a->hq_lock);
    pthread_cond_destroy(&a->hq_cv);
    pthread_cond_destroy(&a->hq_idle);
    tams_free(a);
}
