/* SPDX-License-Identifier: Apache-2.0 */
/* auth.c - credential checks for the gate: reloadable credentials, JWTs, cache, throttle. */
#include "core/common.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/random.h"
#include "auth/auth.h"
#include "core/base64.h"
#include "auth/creds.h"
#include "auth/jwt.h"
#include "auth/scopes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>

#define RELOAD_EVERY_US 1000000
#define CACHE_SLOTS 128
#define CACHE_TTL_US (300LL * 1000000)
#define TH_SLOTS 4096 /* client addresses remembered for throttling (fixed memory) */
#define TH_WAYS 8
#define TH_WINDOW_S 60.0
#define KEY_FILE_MAX (64 * 1024)
#define BASIC_MAX 4096

/* One loaded version of the credentials file; freed when the last user lets go. */
struct snapshot {
    struct tams_creds creds;
    uint64_t gen;
    int refs;
};

struct cache_entry {
    unsigned char key[TAMS_SHA256_LEN];
    int64_t expires_us;
    uint64_t gen;
    unsigned scopes;
    char name[TAMS_CREDS_NAME_MAX + 1];
};

struct th_slot {
    unsigned char addr[16];
    bool used;
    double tokens;
    int64_t last_us;
};

struct tams_auth {
    bool off;    /* auth_disabled */
    bool always; /* not loopback: authentication in force even with no credential */
    bool metrics_public;
    int fail_limit;
    char *path;
    struct tams_jwt_verifier *jwt;

    pthread_mutex_t lock; /* snapshot pointer and refs */
    struct snapshot *cur;
    pthread_mutex_t reload_lock;
    int64_t next_check_us;
    struct stat seen;
    bool seen_exists;

    pthread_mutex_t cache_lock;
    unsigned char cache_key[TAMS_SHA256_LEN];
    struct cache_entry cache[CACHE_SLOTS];
    size_t cache_next;

    pthread_mutex_t th_lock;
    uint64_t th_seed;
    struct th_slot *th;

    uint64_t n_missing, n_invalid, n_forbidden, n_throttled;
};

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

static void snap_put(struct tams_auth *a, struct snapshot *s)
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
    if (tams_creds_load(&fresh, a->path, &why)) {
        tams_log_error("cannot reload credentials, keeping the previous ones: %s", why.data);
        a->seen = st; /* do not retry until it changes again */
        a->seen_exists = exists;
        goto out;
    }
    a->seen = st;
    a->seen_exists = exists;
    s = tams_calloc(1, sizeof(*s));
    s->creds = fresh;
    s->refs = 1;
    pthread_mutex_lock(&a->lock);
    old = a->cur;
    s->gen = old->gen + 1;
    a->cur = s;
    pthread_mutex_unlock(&a->lock);
    snap_put(a, old);
    tams_log_info("credentials reloaded: %zu user(s), %zu token(s)", s->creds.nusers,
                  s->creds.ntokens);
out:
    pthread_mutex_unlock(&a->reload_lock);
    tams_buf_release(&why);
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

/* ---- throttling failed attempts ---------------------------------------------------------------
 */

static bool addr_key(const struct sockaddr *sa, unsigned char out[16])
{
    memset(out, 0, 16);
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static size_t th_group(const struct tams_auth *a, const unsigned char addr[16])
{
    uint64_t h = a->th_seed ^ 0xcbf29ce484222325ULL;
    for (int i = 0; i < 16; i++) {
        h ^= addr[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return (size_t)(h % (TH_SLOTS / TH_WAYS)) * TH_WAYS;
}

static void th_refill(const struct tams_auth *a, struct th_slot *s, int64_t now)
{
    double cap = (double)a->fail_limit;
    s->tokens += (double)(now - s->last_us) / 1e6 * cap / TH_WINDOW_S;
    if (s->tokens > cap)
        s->tokens = cap;
    s->last_us = now;
}

/* The slot of addr, or NULL (create: take a free or the least recently used one). */
static struct th_slot *th_slot(struct tams_auth *a, const unsigned char addr[16], bool create)
{
    struct th_slot *g = &a->th[th_group(a, addr)], *victim = NULL;
    for (int i = 0; i < TH_WAYS; i++)
        if (g[i].used && memcmp(g[i].addr, addr, 16) == 0)
            return &g[i];
    if (!create)
        return NULL;
    for (int i = 0; i < TH_WAYS; i++) {
        if (!g[i].used) {
            victim = &g[i];
            break;
        }
        if (!victim || g[i].last_us < victim->last_us)
            victim = &g[i];
    }
    memcpy(victim->addr, addr, 16);
    victim->used = true;
    victim->tokens = (double)a->fail_limit;
    victim->last_us = tams_clock_mono_us();
    return victim;
}

/* Seconds until this address may try again, or 0 when it may now. */
static int th_blocked(struct tams_auth *a, const struct sockaddr *client)
{
    unsigned char addr[16];
    struct th_slot *s;
    int wait = 0;
    if (a->fail_limit <= 0 || !addr_key(client, addr))
        return 0;
    pthread_mutex_lock(&a->th_lock);
    s = th_slot(a, addr, false);
    if (s) {
        th_refill(a, s, tams_clock_mono_us());
        if (s->tokens < 1.0)
            wait = 1 + (int)((1.0 - s->tokens) * TH_WINDOW_S / a->fail_limit);
    }
    pthread_mutex_unlock(&a->th_lock);
    return wait;
}

static void th_fail(struct tams_auth *a, const struct sockaddr *client)
{
    unsigned char addr[16];
    struct th_slot *s;
    if (a->fail_limit <= 0 || !addr_key(client, addr))
        return;
    pthread_mutex_lock(&a->th_lock);
    s = th_slot(a, addr, true);
    th_refill(a, s, tams_clock_mono_us());
    s->tokens -= 1.0;
    pthread_mutex_unlock(&a->th_lock);
}

/* ---- checking one credential ------------------------------------------------------------------
 */

static void client_text(const struct sockaddr *sa, char *out, size_t cap)
{
    snprintf(out, cap, "-");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

static enum tams_auth_outcome check_basic(struct tams_auth *a, struct snapshot *snap,
                                          const char *b64, char *principal, size_t cap,
                                          unsigned *scopes, const char **why)
{
    size_t n = strlen(b64), len = 0;
    char *raw;
    char *colon;
    unsigned char key[TAMS_SHA256_LEN];
    const struct tams_cred_user *u;
    enum tams_auth_outcome out = TAMS_AUTH_INVALID;

    *why = "malformed basic credentials";
    if (n == 0 || n > BASIC_MAX)
        return TAMS_AUTH_INVALID;
    raw = tams_malloc(TAMS_BASE64_DECODED_MAX(n) + 1);
    if (tams_base64_decode(b64, n, false, (unsigned char *)raw, &len))
        goto out;
    raw[len] = '\0';
    colon = memchr(raw, ':', len);
    if (!colon || memchr(raw, '\0', len))
        goto out;
    *colon = '\0';
    if (!tams_creds_name_valid(raw)) {
        *why = "unknown user or wrong password";
        goto out;
    }
    cache_key_of(a, raw, colon + 1, len - (size_t)(colon + 1 - raw), key);
    if (cache_find(a, key, snap->gen, principal, cap, scopes)) {
        out = TAMS_AUTH_OK;
        goto out;
    }
    u = tams_creds_check_password(&snap->creds, raw, colon + 1, len - (size_t)(colon + 1 - raw));
    if (!u) {
        *why = "unknown user or wrong password";
        goto out;
    }
    snprintf(principal, cap, "%s", u->name);
    *scopes = u->scopes;
    cache_add(a, key, snap->gen, u->name, u->scopes);
    out = TAMS_AUTH_OK;
out:
    OPENSSL_cleanse(raw, len < n ? len : n);
    tams_free(raw);
    return out;
}

static enum tams_auth_outcome check_bearer(struct tams_auth *a, struct snapshot *snap,
                                           const char *token, char *principal, size_t cap,
                                           unsigned *scopes, const char **why)
{
    size_t n = strlen(token);
    if (tams_creds_is_token(token, n)) {
        const struct tams_cred_token *t = tams_creds_check_token(&snap->creds, token, n);
        if (!t) {
            *why = "unknown or revoked API token";
            return TAMS_AUTH_INVALID;
        }
        snprintf(principal, cap, "%s", t->name);
        *scopes = t->scopes;
        return TAMS_AUTH_OK;
    }
    if (a->jwt) {
        struct tams_jwt_result res;
        if (tams_jwt_verify(a->jwt, token, n, tams_clock_wall_us() / 1000000, &res, why))
            return TAMS_AUTH_INVALID;
        snprintf(principal, cap, "%s", res.name);
        *scopes = res.scopes;
        return TAMS_AUTH_OK;
    }
    *why = "not an API token of this server";
    return TAMS_AUTH_INVALID;
}

enum tams_auth_outcome tams_auth_check(struct tams_auth *a, const struct tams_auth_input *in,
                                       char *principal, size_t cap, unsigned *scopes,
                                       int *retry_after)
{
    struct snapshot *snap;
    enum tams_auth_outcome out;
    const char *cred = in->authorization, *why = NULL;
    char who[INET6_ADDRSTRLEN];

    *scopes = 0;
    *retry_after = 0;
    principal[0] = '\0';
    if (a->off)
        return TAMS_AUTH_OFF;
    maybe_reload(a);
    snap = snap_get(a);
    if (!a->always && !a->jwt && !snap->creds.nusers && !snap->creds.ntokens) {
        snap_put(a, snap);
        return TAMS_AUTH_OFF;
    }
    while (cred && (*cred == ' ' || *cred == '\t'))
        cred++;
    if ((!cred || !*cred) && !in->access_token) {
        snap_put(a, snap);
        __atomic_fetch_add(&a->n_missing, 1, __ATOMIC_RELAXED);
        return TAMS_AUTH_MISSING;
    }
    *retry_after = th_blocked(a, in->client);
    if (*retry_after) {
        snap_put(a, snap);
        __atomic_fetch_add(&a->n_throttled, 1, __ATOMIC_RELAXED);
        return TAMS_AUTH_THROTTLED;
    }
    if (cred && *cred) {
        if (strncasecmp(cred, "Basic ", 6) == 0) {
            for (cred += 6; *cred == ' '; cred++)
                ;
            out = check_basic(a, snap, cred, principal, cap, scopes, &why);
        } else if (strncasecmp(cred, "Bearer ", 7) == 0) {
            for (cred += 7; *cred == ' '; cred++)
                ;
            out = check_bearer(a, snap, cred, principal, cap, scopes, &why);
        } else {
            why = "unsupported authorization scheme (use Basic or Bearer)";
            out = TAMS_AUTH_INVALID;
        }
    } else {
        out = check_bearer(a, snap, in->access_token, principal, cap, scopes, &why);
    }
    snap_put(a, snap);
    if (out != TAMS_AUTH_OK) {
        principal[0] = '\0';
        *scopes = 0;
        __atomic_fetch_add(&a->n_invalid, 1, __ATOMIC_RELAXED);
        th_fail(a, in->client);
        client_text(in->client, who, sizeof(who));
        tams_log_info("authentication failed from %s: %s", who, why ? why : "invalid credential");
    }
    return out;
}

void tams_auth_note_forbidden(struct tams_auth *a)
{
    __atomic_fetch_add(&a->n_forbidden, 1, __ATOMIC_RELAXED);
}

bool tams_auth_metrics_public(const struct tams_auth *a)
{
    return a->metrics_public;
}

bool tams_auth_in_force(struct tams_auth *a)
{
    struct snapshot *snap;
    bool on;
    if (a->off)
        return false;
    maybe_reload(a);
    snap = snap_get(a);
    on = a->always || a->jwt || snap->creds.nusers || snap->creds.ntokens;
    snap_put(a, snap);
    return on;
}

void tams_auth_metrics_render(void *ctx, struct tams_buf *out)
{
    struct tams_auth *a = ctx;
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
                  "# HELP tams_auth_throttled_total Requests refused with 429 after repeated "
                  "failed authentications from one address.\n"
                  "# TYPE tams_auth_throttled_total counter\n"
                  "tams_auth_throttled_total %" PRIu64 "\n",
                  __atomic_load_n(&a->n_throttled, __ATOMIC_RELAXED));
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
out:
    if (key.len)
        OPENSSL_cleanse(key.data, key.len);
    tams_buf_release(&key);
    tams_buf_release(&inner);
    return rc;
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
    pthread_mutex_init(&a->th_lock, NULL);
    a->off = cfg->auth_disabled;
    a->always = !loopback;
    a->metrics_public = cfg->metrics_public;
    a->fail_limit = cfg->auth_fail_limit;
    tams_random_bytes(a->cache_key, sizeof(a->cache_key));
    tams_random_bytes(&a->th_seed, sizeof(a->th_seed));
    a->th = tams_calloc(TH_SLOTS, sizeof(*a->th));
    tams_buf_addf(&path, "%s/%s", cfg->data_dir, TAMS_CREDS_FILE);
    a->path = tams_buf_detach(&path, NULL);
    a->cur = tams_calloc(1, sizeof(*a->cur));
    a->cur->refs = 1;
    a->seen_exists = stat(a->path, &a->seen) == 0;
    if (a->seen_exists && (a->seen.st_mode & 077))
        tams_log_warn("'%s' is readable by other users; chmod 600 it", a->path);
    rc = tams_creds_load(&a->cur->creds, a->path, why);
    if (!rc && cfg->jwt_alg[0])
        rc = open_jwt(a, cfg, why);
    if (rc) {
        tams_auth_close(a);
        return rc;
    }
    a->next_check_us = tams_clock_mono_us() + RELOAD_EVERY_US;
    ncreds = a->cur->creds.nusers + a->cur->creds.ntokens + (a->jwt ? 1 : 0);
    if (a->off) {
        tams_log_warn("authentication is disabled (auth_disabled): anyone who can reach %s has "
                      "full access",
                      cfg->listen_host);
    } else if (!ncreds && !loopback) {
        tams_buf_addf(why,
                      "refusing to listen on non-loopback address '%s' without credentials: add "
                      "one with 'tamsd user add' or 'tamsd token create', configure jwt_alg, or "
                      "set auth_disabled = true to serve without authentication",
                      cfg->listen_host);
        tams_auth_close(a);
        return TAMS_ERR_FORBIDDEN;
    } else if (!ncreds) {
        tams_log_warn("no credentials configured: serving WITHOUT authentication, allowed only "
                      "because the listen address '%s' is loopback",
                      cfg->listen_host);
    } else {
        tams_log_info("authentication in force: %zu user(s), %zu token(s)%s%s",
                      a->cur->creds.nusers, a->cur->creds.ntokens, a->jwt ? ", JWT " : "",
                      a->jwt ? cfg->jwt_alg : "");
    }
    *out = a;
    return 0;
}

void tams_auth_close(struct tams_auth *a)
{
    if (!a)
        return;
    if (a->cur)
        snap_put(a, a->cur);
    tams_jwt_verifier_free(a->jwt);
    OPENSSL_cleanse(a->cache, sizeof(a->cache));
    tams_free(a->th);
    tams_free(a->path);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->reload_lock);
    pthread_mutex_destroy(&a->cache_lock);
    pthread_mutex_destroy(&a->th_lock);
    tams_free(a);
}
