/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - the settings table, and the readers of the config file, environment and argv that
 * apply it (the values themselves are parsed by config_values.c). */
#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/random.h"

#include <errno.h>
#include <strings.h>

enum type {
    T_STRING,   /* any text; min/max bound the length */
    T_INT,      /* decimal integer in [min, max] */
    T_SIZE,     /* byte count with optional k/M/G suffix (powers of 1024) in [min, max] */
    T_BOOL,     /* true/false/yes/no/on/off/1/0 */
    T_LOGLEVEL, /* debug|info|warn|error */
    T_LISTEN,   /* host:port, writes listen_host and listen_port */
    T_DATABASE, /* "", sqlite:PATH, postgresql://..., postgres://... */
    T_URL,      /* "" or absolute http(s) URL, no query or fragment, trailing slash stripped */
    T_ORIGINS,  /* "", "*" or a comma-separated list of http(s) origins */
    T_UUID,     /* "" or a lowercase UUID v1-5 */
};

struct setting {
    const char *name; /* config file key */
    enum type type;
    const char *def; /* parsed by the same code as any other value */
    long long min, max;
    const char *env;
    const char *flag;
    const char *metavar;
    const char *help;
    size_t off; /* offset of the field in struct tams_config (unused by T_LISTEN) */
};

#define FIELD(f) offsetof(struct tams_config, f)
#define VMAX TAMS_CONFIG_VALUE_MAX

/* Keep docs/configuration.md in step: tests/unit/test_config.c checks every row is there. */
static const struct setting settings[] = {
    {"listen", T_LISTEN, "127.0.0.1:8080", 0, 0, "TAMS_LISTEN", "--listen", "HOST:PORT",
     "address to listen on: IPv4, [IPv6] or hostname, and a port (0 picks a free one)", 0},
    {"data_dir", T_STRING, "./data", 1, VMAX, "TAMS_DATA_DIR", "--data-dir", "DIR",
     "directory for the SQLite database, media objects and the store id", FIELD(data_dir)},
    {"database", T_DATABASE, "", 0, VMAX, "TAMS_DATABASE", "--database", "URL",
     "metadata store: empty for SQLite at DATA_DIR/tams.db, sqlite:PATH or postgresql://...",
     FIELD(database)},
    {"db_pool_size", T_INT, "0", 0, 1000, "TAMS_DB_POOL_SIZE", "--db-pool-size", "N",
     "PostgreSQL connections per instance; 0 uses twice the worker threads", FIELD(db_pool_size)},
    {"public_url", T_URL, "", 0, VMAX, "TAMS_PUBLIC_URL", "--public-url", "URL",
     "base of every URL the server generates; empty derives it from the request's Host",
     FIELD(public_url)},
    {"root_api_version", T_STRING, "7.0", 1, 16, "TAMS_ROOT_API_VERSION", "--root-api-version",
     "VERSION", "TAMS version served at the root paths (every version is under /tams/vVERSION)",
     FIELD(root_api_version)},
    {"threads", T_INT, "0", 0, 256, "TAMS_THREADS", "--threads", "N",
     "worker threads; 0 uses the number of cores", FIELD(threads)},
    {"max_body_bytes", T_SIZE, "8M", 1024, 1073741824, "TAMS_MAX_BODY_BYTES", "--max-body-bytes",
     "SIZE", "largest request body accepted; suffixes k, M, G are powers of 1024",
     FIELD(max_body_bytes)},
    {"cors_origins", T_ORIGINS, "", 0, VMAX, "TAMS_CORS_ORIGINS", "--cors-origins", "LIST",
     "comma-separated origins allowed by CORS, or *; empty turns CORS off", FIELD(cors_origins)},
    {"log_level", T_LOGLEVEL, "info", 0, 0, "TAMS_LOG_LEVEL", "--log-level", "LEVEL",
     "least severe level logged: debug, info, warn or error", FIELD(log_level)},
    {"access_log", T_BOOL, "true", 0, 0, "TAMS_ACCESS_LOG", "--access-log", "BOOL",
     "log one line per request (true/false, yes/no, on/off, 1/0)", FIELD(access_log)},
    {"page_limit_default", T_INT, "100", 1, 100000, "TAMS_PAGE_LIMIT_DEFAULT",
     "--page-limit-default", "N", "page size when a list request gives no limit",
     FIELD(page_limit_default)},
    {"page_limit_max", T_INT, "1000", 1, 100000, "TAMS_PAGE_LIMIT_MAX", "--page-limit-max", "N",
     "largest page size a client may ask for; not below page_limit_default", FIELD(page_limit_max)},
    {"service_name", T_STRING, "tamsd", 0, VMAX, "TAMS_SERVICE_NAME", "--service-name", "TEXT",
     "initial service name; POST /service overrides and persists it", FIELD(service_name)},
    {"service_description", T_STRING, "Time-addressable Media Store", 0, VMAX,
     "TAMS_SERVICE_DESCRIPTION", "--service-description", "TEXT",
     "initial service description; POST /service overrides and persists it",
     FIELD(service_description)},
    {"connection_timeout", T_INT, "30", 1, 3600, "TAMS_CONNECTION_TIMEOUT", "--connection-timeout",
     "SECONDS", "idle or stalled client connections are closed after this",
     FIELD(connection_timeout)},
    {"header_timeout", T_INT, "10", 1, 3600, "TAMS_HEADER_TIMEOUT", "--header-timeout", "SECONDS",
     "time from accepting a connection to the end of its request head, however it trickles",
     FIELD(header_timeout)},
    {"max_connections", T_INT, "4096", 1, 1000000, "TAMS_MAX_CONNECTIONS", "--max-connections", "N",
     "client connections open at once; more are closed as soon as accepted",
     FIELD(max_connections)},
    {"max_connections_per_address", T_INT, "128", 0, 1000000, "TAMS_MAX_CONNECTIONS_PER_ADDRESS",
     "--max-connections-per-address", "N",
     "client connections from one address (IPv6: one /64) open at once; 0: no such cap",
     FIELD(max_connections_per_address)},
    {"shutdown_timeout", T_INT, "30", 0, 3600, "TAMS_SHUTDOWN_TIMEOUT", "--shutdown-timeout",
     "SECONDS", "how long to let requests finish after SIGTERM", FIELD(shutdown_timeout)},
    {"local_store_id", T_UUID, "", 0, 0, "TAMS_LOCAL_STORE_ID", "--local-store-id", "UUID",
     "id of the built-in storage backend; empty generates one kept in DATA_DIR",
     FIELD(local_store_id)},
    {"local_store_label", T_STRING, "local", 0, VMAX, "TAMS_LOCAL_STORE_LABEL",
     "--local-store-label", "TEXT", "label of the built-in storage backend",
     FIELD(local_store_label)},
    {"flow_cache_memory", T_SIZE, "64M", 0, 68719476736LL, "TAMS_FLOW_CACHE_MEMORY",
     "--flow-cache-memory", "SIZE",
     "memory for flow documents kept rendered for GET /flows/{id} (each at most 16 KiB); 0 = off",
     FIELD(flow_cache_memory)},
    {"source_cache_memory", T_SIZE, "16M", 0, 68719476736LL, "TAMS_SOURCE_CACHE_MEMORY",
     "--source-cache-memory", "SIZE",
     "memory for source documents kept rendered for GET /sources/{id}; 0 = off",
     FIELD(source_cache_memory)},
    {"cache_ttl", T_INT, "60", 1, 86400, "TAMS_CACHE_TTL", "--cache-ttl", "SECONDS",
     "longest time a cached flow or source document is served (writes drop it at once anyway)",
     FIELD(cache_ttl)},
    {"media_url_expiry", T_INT, "3600", 1, 604800, "TAMS_MEDIA_URL_EXPIRY", "--media-url-expiry",
     "SECONDS", "lifetime of the signed get_urls the server hands out (and the put_url's cap)",
     FIELD(media_url_expiry)},
    {"put_url_expiry", T_INT, "600", 1, 604800, "TAMS_PUT_URL_EXPIRY", "--put-url-expiry",
     "SECONDS", "lifetime of the put_url of every storage backend; at most media_url_expiry",
     FIELD(put_url_expiry)},
    {"max_object_bytes", T_SIZE, "4G", 1024, 1099511627776LL, "TAMS_MAX_OBJECT_BYTES",
     "--max-object-bytes", "SIZE",
     "largest media object the built-in store accepts, and a segment may register from S3",
     FIELD(max_object_bytes)},
    {"storage_limit_default", T_INT, "10", 1, 100000, "TAMS_STORAGE_LIMIT_DEFAULT",
     "--storage-limit-default", "N", "objects allocated by POST /flows/{id}/storage without limit",
     FIELD(storage_limit_default)},
    {"storage_limit_max", T_INT, "1000", 1, 100000, "TAMS_STORAGE_LIMIT_MAX", "--storage-limit-max",
     "N", "most objects one POST /flows/{id}/storage may allocate", FIELD(storage_limit_max)},
    {"verify_uploads", T_BOOL, "true", 0, 0, "TAMS_VERIFY_UPLOADS", "--verify-uploads", "BOOL",
     "refuse a segment whose allocated object has no bytes in its storage backend yet",
     FIELD(verify_uploads)},
    {"storage_config", T_STRING, "", 0, VMAX, "TAMS_STORAGE_CONFIG", "--storage-config", "FILE",
     "JSON file of further storage backends (S3); empty: only the built-in store",
     FIELD(storage_config)},
    {"delete_sync_limit", T_INT, "10000", 0, 1000000000, "TAMS_DELETE_SYNC_LIMIT",
     "--delete-sync-limit", "N",
     "most segments a DELETE removes within the request; more become a deletion request (202)",
     FIELD(delete_sync_limit)},
    {"delete_batch", T_INT, "10000", 1, 1000000, "TAMS_DELETE_BATCH", "--delete-batch", "N",
     "segments a deletion request removes per transaction", FIELD(delete_batch)},
    {"delete_request_ttl", T_INT, "86400", 1, 31536000, "TAMS_DELETE_REQUEST_TTL",
     "--delete-request-ttl", "SECONDS", "how long a finished deletion request stays readable",
     FIELD(delete_request_ttl)},
    {"gc_interval", T_INT, "5", 1, 86400, "TAMS_GC_INTERVAL", "--gc-interval", "SECONDS",
     "pause between garbage collector rounds", FIELD(gc_interval)},
    {"gc_grace", T_INT, "600", 0, 31536000, "TAMS_GC_GRACE", "--gc-grace", "SECONDS",
     "age of an object's last reference before its media is deleted", FIELD(gc_grace)},
    {"gc_unused_after", T_INT, "86400", 0, 31536000, "TAMS_GC_UNUSED_AFTER", "--gc-unused-after",
     "SECONDS", "age of an allocated object no segment ever used before it is collected",
     FIELD(gc_unused_after)},
    {"spec_timeout_floors", T_BOOL, "true", 0, 0, "TAMS_SPEC_TIMEOUT_FLOORS",
     "--spec-timeout-floors", "BOOL",
     "refuse gc_unused_after below 300 s, URL lifetimes below 30 s or above gc_unused_after"
     " (TAMS 8.2's floors); false: allow them (tests), reported as set",
     FIELD(spec_timeout_floors)},
    {"soft_delete_retention", T_INT, "0", 0, 31536000, "TAMS_SOFT_DELETE_RETENTION",
     "--soft-delete-retention", "SECONDS",
     "keep deleted flows, sources and segments this long in the bin (restorable); 0: delete",
     FIELD(soft_delete_retention)},
    {"webhooks_allow_private", T_BOOL, "false", 0, 0, "TAMS_WEBHOOKS_ALLOW_PRIVATE",
     "--webhooks-allow-private", "BOOL",
     "allow webhook URLs whose host is loopback, private or link-local (SSRF guard off)",
     FIELD(webhooks_allow_private)},
    {"webhook_retry_for", T_INT, "86400", 0, 31536000, "TAMS_WEBHOOK_RETRY_FOR",
     "--webhook-retry-for", "SECONDS",
     "how long a webhook event is retried (exponential backoff) before it is given up",
     FIELD(webhook_retry_for)},
    {"webhook_error_after", T_INT, "3", 0, 1000000, "TAMS_WEBHOOK_ERROR_AFTER",
     "--webhook-error-after", "N",
     "events given up in a row before a webhook goes to status 'error' and stops (0: never)",
     FIELD(webhook_error_after)},
    {"webhook_timeout", T_INT, "10", 1, 600, "TAMS_WEBHOOK_TIMEOUT", "--webhook-timeout", "SECONDS",
     "time one webhook delivery attempt may take, connection included", FIELD(webhook_timeout)},
    {"webhook_workers", T_INT, "2", 1, 64, "TAMS_WEBHOOK_WORKERS", "--webhook-workers", "N",
     "webhook delivery threads (each webhook is delivered by one of them, in order)",
     FIELD(webhook_workers)},
    {"webhooks_per_owner_max", T_INT, "100", 1, 1000000, "TAMS_WEBHOOKS_PER_OWNER_MAX",
     "--webhooks-per-owner-max", "N",
     "webhooks one principal may register; a registration past it is 400",
     FIELD(webhooks_per_owner_max)},
    {"webhook_secret_key", T_STRING, "", 0, 64, "TAMS_WEBHOOK_SECRET_KEY", "--webhook-secret-key",
     "HEX", "64 hex digits: the key sealing webhook api keys at rest; empty: DATA_DIR/webhook.key",
     FIELD(webhook_secret_key)},
    {"auth_disabled", T_BOOL, "false", 0, 0, "TAMS_AUTH_DISABLED", "--auth-disabled", "BOOL",
     "serve without authentication even on a non-loopback address", FIELD(auth_disabled)},
    {"auth_fail_limit", T_INT, "10", 0, 1000000, "TAMS_AUTH_FAIL_LIMIT", "--auth-fail-limit", "N",
     "failed authentications per client address and principal per minute before 429; 0: off",
     FIELD(auth_fail_limit)},
    {"auth_fail_limit_unknown", T_INT, "5", 0, 1000000, "TAMS_AUTH_FAIL_LIMIT_UNKNOWN",
     "--auth-fail-limit-unknown", "N",
     "failed authentications per client address per minute that name no known user or token",
     FIELD(auth_fail_limit_unknown)},
    {"trusted_proxies", T_STRING, "", 0, VMAX, "TAMS_TRUSTED_PROXIES", "--trusted-proxies", "LIST",
     "reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client",
     FIELD(trusted_proxies)},
    {"auth_hash_threads", T_INT, "1", 1, 64, "TAMS_AUTH_HASH_THREADS", "--auth-hash-threads", "N",
     "threads that check passwords (PBKDF2), apart from the request threads",
     FIELD(auth_hash_threads)},
    {"auth_hash_queue", T_INT, "16", 1, 100000, "TAMS_AUTH_HASH_QUEUE", "--auth-hash-queue", "N",
     "password checks that may wait for a hashing thread; more get 429", FIELD(auth_hash_queue)},
    {"metrics_public", T_BOOL, "false", 0, 0, "TAMS_METRICS_PUBLIC", "--metrics-public", "BOOL",
     "serve GET /metrics without credentials", FIELD(metrics_public)},
    {"jwt_alg", T_STRING, "", 0, 16, "TAMS_JWT_ALG", "--jwt-alg", "ALG",
     "accept JWT bearer tokens signed with HS256, RS256 or ES256; empty: no JWTs", FIELD(jwt_alg)},
    {"jwt_secret", T_STRING, "", 0, VMAX, "TAMS_JWT_SECRET", "--jwt-secret", "SECRET",
     "HS256 shared secret (at least 32 bytes); prefer jwt_key_file or the environment",
     FIELD(jwt_secret)},
    {"jwt_key_file", T_STRING, "", 0, VMAX, "TAMS_JWT_KEY_FILE", "--jwt-key-file", "FILE",
     "PEM public key for RS256/ES256, or a file holding the HS256 secret", FIELD(jwt_key_file)},
    {"jwt_issuer", T_STRING, "", 0, VMAX, "TAMS_JWT_ISSUER", "--jwt-issuer", "TEXT",
     "required iss claim of JWTs; empty: not checked", FIELD(jwt_issuer)},
    {"jwt_audience", T_STRING, "", 0, VMAX, "TAMS_JWT_AUDIENCE", "--jwt-audience", "TEXT",
     "required aud claim of JWTs; empty: not checked", FIELD(jwt_audience)},
    {"jwt_scope_claim", T_STRING, "scope", 1, 256, "TAMS_JWT_SCOPE_CLAIM", "--jwt-scope-claim",
     "NAME", "JWT claim holding the scopes (space-separated string or array)",
     FIELD(jwt_scope_claim)},
    {"jwt_name_claim", T_STRING, "sub", 1, 256, "TAMS_JWT_NAME_CLAIM", "--jwt-name-claim", "NAME",
     "JWT claim naming the principal (recorded in created_by/updated_by)", FIELD(jwt_name_claim)},
    {"jwt_leeway", T_INT, "60", 0, 3600, "TAMS_JWT_LEEWAY", "--jwt-leeway", "SECONDS",
     "clock skew allowed when checking a JWT's exp and nbf", FIELD(jwt_leeway)},
};

/* TAMS_* variables that are not settings and are not errors. TAMS_CONFIG names the file. */
static const char *const env_allowed[] = {"TAMS_CONFIG"};

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

/* ---- messages ---------------------------------------------------------------------------- */

/* Appends s quoted, with bytes outside printable ASCII as \xNN and long values cut short, so a
 * hostile value cannot garble the one-line message. */
static void add_quoted(struct tams_buf *b, const char *s, size_t n)
{
    size_t shown = n > 64 ? 64 : n;
    tams_buf_addch(b, '\'');
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\')
            tams_buf_addf(b, "\\x%02x", c);
        else
            tams_buf_addch(b, (char)c);
    }
    if (shown < n)
        tams_buf_addstr(b, "...");
    tams_buf_addch(b, '\'');
}

/* The config-file key, flag or variable that matches `s` after lowercasing, '-' to '_' and
 * dropping a leading "--" or "tams_", for a "did you mean" hint; NULL if none. */
static const struct setting *near_miss(const char *s, size_t n)
{
    char norm[64];
    size_t k = 0;
    if (n >= 2 && s[0] == '-' && s[1] == '-') {
        s += 2;
        n -= 2;
    }
    if (n >= 5 && strncasecmp(s, "tams_", 5) == 0) {
        s += 5;
        n -= 5;
    }
    if (n >= sizeof(norm))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        norm[k++] = c == '-' ? '_' : c;
    }
    norm[k] = '\0';
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(settings); i++)
        if (strcmp(settings[i].name, norm) == 0)
            return &settings[i];
    return NULL;
}

/* "<where>: unknown <what> '<s>'[, did you mean '<hint>'?]" */
static int unknown(struct tams_buf *err, const char *where, const char *what, const char *s,
                   size_t n, int kind)
{
    const struct setting *hint = near_miss(s, n);
    tams_buf_addf(err, "%s: unknown %s ", where, what);
    add_quoted(err, s, n);
    if (hint)
        tams_buf_addf(err, ", did you mean '%s'?",
                      kind == 0   ? hint->name
                      : kind == 1 ? hint->env
                                  : hint->flag);
    return TAMS_ERR_BADREQUEST;
}

static char **str_field(struct tams_config *cfg, size_t off)
{
    return (char **)(void *)((char *)cfg + off);
}

static void set_str(struct tams_config *cfg, size_t off, const char *v, size_t n)
{
    char **p = str_field(cfg, off);
    tams_free(*p);
    *p = tams_strndup(v, n);
}

/* Validates v (a NUL-terminated string) and stores it; on failure cfg is unchanged. */
static int parse_value(struct tams_config *cfg, const struct setting *s, const char *v, char *why,
                       size_t whylen)
{
    void *field = (char *)cfg + s->off;
    size_t n = strlen(v), keep;
    long long ll;

    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            snprintf(why, whylen, "control characters are not allowed");
            return -1;
        }
    }
    switch (s->type) {
    case T_STRING:
        if ((long long)n < s->min || (long long)n > s->max) {
            snprintf(why, whylen, "expected %lld to %lld bytes", s->min, s->max);
            return -1;
        }
        set_str(cfg, s->off, v, n);
        return 0;
    case T_INT:
        if (tams_cfg_parse_int(v, s->min, s->max, &ll, why, whylen))
            return -1;
        *(int *)field = (int)ll;
        return 0;
    case T_SIZE:
        return tams_cfg_parse_size(v, s->min, s->max, field, why, whylen);
    case T_BOOL:
        return tams_cfg_parse_bool(v, field, why, whylen);
    case T_LOGLEVEL:
        for (size_t i = 0; i < TAMS_ARRAY_SIZE(log_level_names); i++) {
            if (strcasecmp(v, log_level_names[i]) == 0) {
                *(enum tams_log_level *)field = (enum tams_log_level)i;
                return 0;
            }
        }
        snprintf(why, whylen, "expected debug, info, warn or error");
        return -1;
    case T_LISTEN: {
        char *host = NULL;
        int port;
        if (tams_cfg_parse_hostport(v, n, true, &host, &port, why, whylen))
            return -1;
        tams_free(cfg->listen_host);
        cfg->listen_host = host;
        cfg->listen_port = (uint16_t)port;
        return 0;
    }
    case T_DATABASE:
        if (tams_cfg_parse_database(v, why, whylen))
            return -1;
        set_str(cfg, s->off, v, n);
        return 0;
    case T_URL:
        if (n && tams_cfg_check_url(v, &keep, why, whylen))
            return -1;
        set_str(cfg, s->off, v, n ? keep : 0);
        return 0;
    case T_ORIGINS:
        return tams_cfg_parse_origins(v, str_field(cfg, s->off), why, whylen);
    case T_UUID:
        if (n && !tams_uuid_valid(v, n)) {
            snprintf(why, whylen, "expected empty or a lowercase UUID, version 1 to 5");
            return -1;
        }
        set_str(cfg, s->off, v, n);
        return 0;
    }
    TAMS_BUG("unknown setting type");
}

/* Sets one value from any source; `where` names the source in the message. */
static int set_setting(struct tams_config *cfg, const struct setting *s, const char *v,
                       const char *where, struct tams_buf *err)
{
    char why[160];
    size_t n = strlen(v);
    if (n > TAMS_CONFIG_VALUE_MAX) {
        tams_buf_addf(err, "%s: value for %s is longer than %d bytes", where, s->name,
                      TAMS_CONFIG_VALUE_MAX);
        return TAMS_ERR_TOOBIG;
    }
    why[0] = '\0';
    if (parse_value(cfg, s, v, why, sizeof(why)) == 0)
        return 0;
    tams_buf_addf(err, "%s: invalid value ", where);
    if (strstr(s->name, "secret"))
        tams_buf_addstr(err, "(not shown)"); /* secrets stay out of messages */
    else
        add_quoted(err, v, n);
    tams_buf_addf(err, " for %s: %s", s->name, why);
    return TAMS_ERR_BADREQUEST;
}

/* ---- the config file ------------------------------------------------------------------------ */

static const struct setting *find_by_name(const char *s, size_t n)
{
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(settings); i++)
        if (strlen(settings[i].name) == n && memcmp(settings[i].name, s, n) == 0)
            return &settings[i];
    return NULL;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A double-quoted value starting at p (just past the opening quote); \" and \\ are the only
 * escapes. After the closing quote only blanks and a # comment may follow. */
static int unquote(const char *p, const char *end, struct tams_buf *out, const char **why)
{
    for (; p < end; p++) {
        if (*p == '\\') {
            if (p + 1 == end || (p[1] != '"' && p[1] != '\\')) {
                *why = "unknown escape in quoted value: only \\\" and \\\\ are allowed";
                return -1;
            }
            tams_buf_addch(out, *++p);
        } else if (*p == '"') {
            for (p++; p < end && is_blank(*p); p++)
                ;
            if (p < end && *p != '#') {
                *why = "unexpected text after the closing quote";
                return -1;
            }
            return 0;
        } else {
            tams_buf_addch(out, *p);
        }
    }
    *why = "missing closing quote";
    return -1;
}

static int apply_line(struct tams_config *cfg, const char *p, size_t n, const char *where,
                      struct tams_buf *err)
{
    struct tams_buf value = TAMS_BUF_INIT(TAMS_CONFIG_LINE_MAX);
    const char *end = p + n, *key, *why = NULL;
    const struct setting *s;
    size_t klen;
    int rc = 0;

    if (n > TAMS_CONFIG_LINE_MAX) {
        tams_buf_addf(err, "%s: line is longer than %d bytes", where, TAMS_CONFIG_LINE_MAX);
        return TAMS_ERR_TOOBIG;
    }
    if (memchr(p, '\0', n)) {
        tams_buf_addf(err, "%s: NUL byte in the line", where);
        return TAMS_ERR_BADREQUEST;
    }
    while (p < end && is_blank(*p))
        p++;
    while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
        end--;
    if (p == end || *p == '#')
        return 0;

    key = p;
    while (p < end && !is_blank(*p) && *p != '=')
        p++;
    klen = (size_t)(p - key);
    while (p < end && is_blank(*p))
        p++;
    if (klen == 0 || p == end || *p != '=') {
        tams_buf_addf(err, "%s: expected 'key = value'", where);
        return TAMS_ERR_BADREQUEST;
    }
    s = find_by_name(key, klen);
    if (!s)
        return unknown(err, where, "setting", key, klen, 0);
    for (p++; p < end && is_blank(*p); p++)
        ;
    if (p < end && *p == '"') {
        if (unquote(p + 1, end, &value, &why)) {
            tams_buf_addf(err, "%s: %s for %s", where, why, s->name);
            rc = TAMS_ERR_BADREQUEST;
            goto out;
        }
    } else {
        tams_buf_add(&value, p, (size_t)(end - p));
    }
    rc = set_setting(cfg, s, value.data, where, err);
out:
    tams_buf_release(&value);
    return rc;
}

int tams_config_apply_text(struct tams_config *cfg, const char *text, size_t len,
                           const char *origin, struct tams_buf *err)
{
    struct tams_buf where = TAMS_BUF_INIT(TAMS_CONFIG_VALUE_MAX + 32);
    const char *p = text, *end = text + len;
    unsigned long line = 0;
    int rc = 0;

    if (!origin)
        origin = "config";
    if (len > TAMS_CONFIG_FILE_MAX) {
        tams_buf_addf(err, "%s: config file is larger than %d bytes", origin, TAMS_CONFIG_FILE_MAX);
        return TAMS_ERR_TOOBIG;
    }
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, as some editors write */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        tams_buf_reset(&where);
        tams_buf_addf(&where, "%s:%lu", origin, ++line);
        rc = apply_line(cfg, p, (size_t)(eol - p), where.data, err);
        if (rc)
            break;
        p = nl ? nl + 1 : end;
    }
    tams_buf_release(&where);
    return rc;
}

static int read_file(const char *path, struct tams_buf *out, struct tams_buf *err)
{
    char chunk[16384];
    FILE *f = fopen(path, "rb");
    int rc = 0;

    if (!f) {
        tams_buf_addf(err, "cannot open config file '%s': %s", path, strerror(errno));
        return TAMS_ERR_IO;
    }
    for (;;) {
        size_t got = fread(chunk, 1, sizeof(chunk), f);
        if (got && tams_buf_add(out, chunk, got)) {
            tams_buf_addf(err, "config file '%s' is larger than %d bytes", path,
                          TAMS_CONFIG_FILE_MAX);
            rc = TAMS_ERR_TOOBIG;
            goto out;
        }
        if (got < sizeof(chunk))
            break;
    }
    if (ferror(f)) {
        tams_buf_addf(err, "cannot read config file '%s': %s", path, strerror(errno));
        rc = TAMS_ERR_IO;
    }
out:
    fclose(f);
    return rc;
}

/* ---- environment and command line ----------------------------------------------------------- */

static int apply_env(struct tams_config *cfg, char **envp, struct tams_buf *err)
{
    for (char **e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        const struct setting *s = NULL;
        size_t n;
        bool allowed = false;
        int rc;

        if (strncmp(*e, "TAMS_", 5) != 0 || !eq)
            continue;
        n = (size_t)(eq - *e);
        for (size_t i = 0; i < TAMS_ARRAY_SIZE(env_allowed); i++)
            allowed = allowed || (strlen(env_allowed[i]) == n && !memcmp(env_allowed[i], *e, n));
        if (allowed)
            continue;
        for (size_t i = 0; i < TAMS_ARRAY_SIZE(settings) && !s; i++)
            if (strlen(settings[i].env) == n && memcmp(settings[i].env, *e, n) == 0)
                s = &settings[i];
        if (!s)
            return unknown(err, "environment", "variable", *e, n, 1);
        rc = set_setting(cfg, s, eq + 1, s->env, err);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

struct pending {
    const struct setting *s;
    const char *value;
};

/* TAMS 8.2's GET /service states min_object_timeout (gc_unused_after) and
 * min_presigned_url_timeout (the shorter URL lifetime); the spec says each MUST be at least
 * 300 s and 30 s, the second at most the first (docs/tams-8.2-changes.md 1). Settings that
 * cannot keep that promise are refused rather than reported as more than tamsd keeps. */
static bool timeout_floors_why(const struct tams_config *cfg, struct tams_buf *err)
{
    bool put_shorter = cfg->put_url_expiry <= cfg->media_url_expiry;
    int urls = put_shorter ? cfg->put_url_expiry : cfg->media_url_expiry;
    const char *url_setting = put_shorter ? "put_url_expiry" : "media_url_expiry";
    const char *off = "; set spec_timeout_floors to false to allow it anyway (tests)";

    if (cfg->gc_unused_after < 300)
        tams_buf_addf(err,
                      "gc_unused_after %d is below 300 seconds, the least TAMS 8.2 allows as"
                      " min_object_timeout%s",
                      cfg->gc_unused_after, off);
    else if (urls < 30)
        tams_buf_addf(err,
                      "%s %d is below 30 seconds, the least TAMS 8.2 allows as"
                      " min_presigned_url_timeout%s",
                      url_setting, urls, off);
    else if (urls > cfg->gc_unused_after)
        tams_buf_addf(err,
                      "%s %d is more than gc_unused_after %d: an allocated object could be"
                      " collected while its put_url is still valid (TAMS 8.2 asks"
                      " min_presigned_url_timeout <= min_object_timeout)%s",
                      url_setting, urls, cfg->gc_unused_after, off);
    else
        return false;
    return true;
}

/* Walks argv: records settings in `args`, finds --config and stops at --help or --version. */
static int scan_args(int argc, char **argv, struct pending *args, size_t *nargs,
                     const char **config_path, enum tams_config_action *action,
                     struct tams_buf *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *val;
        const struct setting *s = NULL;
        size_t n;
        bool is_config;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *action = TAMS_CONFIG_HELP;
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            *action = TAMS_CONFIG_VERSION;
            return 0;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            tams_buf_addstr(err, "unexpected argument ");
            add_quoted(err, a, strlen(a));
            tams_buf_addstr(err, "; see --help");
            return TAMS_ERR_BADREQUEST;
        }
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a) : strlen(a);
        is_config = n == 8 && memcmp(a, "--config", 8) == 0;
        for (size_t k = 0; k < TAMS_ARRAY_SIZE(settings) && !s && !is_config; k++)
            if (strlen(settings[k].flag) == n && memcmp(settings[k].flag, a, n) == 0)
                s = &settings[k];
        if (!s && !is_config) {
            if ((n == 6 && !memcmp(a, "--help", 6)) || (n == 9 && !memcmp(a, "--version", 9))) {
                tams_buf_addf(err, "%.*s takes no value", (int)n, a);
                return TAMS_ERR_BADREQUEST;
            }
            return unknown(err, "command line", "option", a, n, 2);
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            tams_buf_addf(err, "%s: missing value", a);
            return TAMS_ERR_BADREQUEST;
        }
        if (is_config) {
            if (!*val) {
                tams_buf_addstr(err, "--config: empty file name");
                return TAMS_ERR_BADREQUEST;
            }
            if (strlen(val) > TAMS_CONFIG_VALUE_MAX) {
                tams_buf_addf(err, "--config: file name is longer than %d bytes",
                              TAMS_CONFIG_VALUE_MAX);
                return TAMS_ERR_TOOBIG;
            }
            *config_path = val;
        } else {
            args[*nargs].s = s;
            args[(*nargs)++].value = val;
        }
    }
    return 0;
}

int tams_config_load(struct tams_config *cfg, int argc, char **argv, char **envp,
                     enum tams_config_action *action, struct tams_buf *err)
{
    struct tams_buf text = TAMS_BUF_INIT(TAMS_CONFIG_FILE_MAX);
    struct pending *args = tams_calloc(argc > 0 ? (size_t)argc : 1, sizeof(*args));
    const char *path = NULL;
    size_t nargs = 0;
    int rc;

    tams_config_defaults(cfg);
    *action = TAMS_CONFIG_RUN;
    rc = scan_args(argc, argv, args, &nargs, &path, action, err);
    if (rc || *action != TAMS_CONFIG_RUN)
        goto out;

    if (!path) {
        path = env_get(envp, "TAMS_CONFIG");
        if (path && !*path)
            path = NULL; /* set but empty: no file, as when unset */
        if (path && strlen(path) > TAMS_CONFIG_VALUE_MAX) {
            tams_buf_addf(err, "TAMS_CONFIG: file name is longer than %d bytes",
                          TAMS_CONFIG_VALUE_MAX);
            rc = TAMS_ERR_TOOBIG;
            goto out;
        }
    }
    if (path) {
        cfg->config_file = tams_strdup(path);
        rc = read_file(path, &text, err);
        if (rc)
            goto out;
        rc = tams_config_apply_text(cfg, text.data, text.len, path, err);
        if (rc)
            goto out;
    }

    rc = apply_env(cfg, envp, err);
    if (rc)
        goto out;

    for (size_t i = 0; i < nargs; i++) {
        rc = set_setting(cfg, args[i].s, args[i].value, args[i].s->flag, err);
        if (rc)
            goto out;
    }

    if (cfg->page_limit_default > cfg->page_limit_max) {
        tams_buf_addf(err, "page_limit_default %d is greater than page_limit_max %d",
                      cfg->page_limit_default, cfg->page_limit_max);
        rc = TAMS_ERR_BADREQUEST;
    } else if (cfg->storage_limit_default > cfg->storage_limit_max) {
        tams_buf_addf(err, "storage_limit_default %d is greater than storage_limit_max %d",
                      cfg->storage_limit_default, cfg->storage_limit_max);
        rc = TAMS_ERR_BADREQUEST;
    } else if (cfg->jwt_alg[0] && strcmp(cfg->jwt_alg, "HS256") != 0 &&
               strcmp(cfg->jwt_alg, "RS256") != 0 && strcmp(cfg->jwt_alg, "ES256") != 0) {
        tams_buf_addstr(err, "invalid value ");
        add_quoted(err, cfg->jwt_alg, strlen(cfg->jwt_alg));
        tams_buf_addstr(err, " for jwt_alg: expected HS256, RS256, ES256 or empty");
        rc = TAMS_ERR_BADREQUEST;
    } else if (!cfg->jwt_alg[0] && (cfg->jwt_secret[0] || cfg->jwt_key_file[0])) {
        tams_buf_addstr(err, "jwt_secret or jwt_key_file is set but jwt_alg is empty");
        rc = TAMS_ERR_BADREQUEST;
    } else if (cfg->jwt_secret[0] && cfg->jwt_key_file[0]) {
        tams_buf_addstr(err, "set jwt_secret or jwt_key_file, not both");
        rc = TAMS_ERR_BADREQUEST;
    } else if (cfg->spec_timeout_floors && timeout_floors_why(cfg, err)) {
        rc = TAMS_ERR_BADREQUEST;
    } else if (cfg->webhook_secret_key[0] && !tams_cfg_hex_key_valid(cfg->webhook_secret_key)) {
        /* the value is a secret: never quoted */
        tams_buf_addstr(err, "webhook_secret_key must be 64 hex digits (32 bytes), or empty");
        rc = TAMS_ERR_BADREQUEST;
    }
out:
    tams_buf_release(&text);
    tams_free(args);
    return rc;
}

void tams_config_defaults(struct tams_config *cfg)
{
    char why[160];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(settings); i++)
        if (parse_value(cfg, &settings[i], settings[i].def, why, sizeof(why)))
            TAMS_BUG("a built-in default does not pass its own validation");
}

void tams_config_release(struct tams_config *cfg)
{
    tams_free(cfg->listen_host);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(settings); i++) {
        enum type t = settings[i].type;
        if (t == T_STRING || t == T_DATABASE || t == T_URL || t == T_ORIGINS || t == T_UUID)
            tams_free(*str_field(cfg, settings[i].off));
    }
    tams_free(cfg->config_file);
    memset(cfg, 0, sizeof(*cfg));
}

void tams_config_usage(FILE *out)
{
    fprintf(out, "Usage: tamsd [OPTION]...\n"
                 "       tamsd user add|delete|list ... [OPTION]...\n"
                 "       tamsd token create|revoke|list ... [OPTION]...\n"
                 "       tamsd backup DEST [--objects] [OPTION]...\n"
                 "Serve the Time-addressable Media Store API, manage its credentials or back it\n"
                 "up.\n\n"
                 "Commands (they read the same options and TAMS_* variables as the server, to\n"
                 "find DATA_DIR/credentials.json; 'tamsd user --help' shows the details):\n"
                 "  tamsd user add NAME --scopes LIST     add a user (the password is on stdin)\n"
                 "  tamsd user delete NAME                delete a user\n"
                 "  tamsd user list                       list the users and their scopes\n"
                 "  tamsd token create --name NAME --scopes LIST\n"
                 "                                        create an API token; it is printed once\n"
                 "  tamsd token revoke NAME               revoke a token\n"
                 "  tamsd token list                      list the tokens (never the secrets)\n"
                 "  tamsd backup DEST [--objects]         copy the data directory (and the SQLite\n"
                 "                                        store, consistently) while it runs\n"
                 "LIST is a comma-separated subset of read, write, delete, admin.\n\n"
                 "Every option is also a config file key and a TAMS_* environment variable.\n"
                 "Precedence: default < config file < environment < command line.\n"
                 "Options take a value as --option VALUE or --option=VALUE.\n\n"
                 "  -h, --help               show this help and exit\n"
                 "      --version            show the version and exit\n"
                 "      --config FILE        read settings from FILE [env TAMS_CONFIG]\n");
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(settings); i++) {
        const struct setting *s = &settings[i];
        int w = (int)(strlen(s->flag) + 1 + strlen(s->metavar));
        fprintf(out, "      %s %s%*s %s\n", s->flag, s->metavar, w < 20 ? 20 - w : 0, "", s->help);
        fprintf(out, "%29s[key %s, env %s, default '%s']\n", "", s->name, s->env, s->def);
    }
}

bool tams_config_setting_info(size_t i, struct tams_config_setting_info *info)
{
    if (i >= TAMS_ARRAY_SIZE(settings))
        return false;
    info->name = settings[i].name;
    info->env = settings[i].env;
    info->flag = settings[i].flag;
    info->default_value = settings[i].def;
    info->help = settings[i].help;
    return true;
}
