/* SPDX-License-Identifier: Apache-2.0 */
/* config.h - server settings from built-in defaults, a config file, TAMS_* variables and argv.
 *
 * One static table in config.c (name, type, default, bounds, environment variable, flag, help)
 * drives parsing, validation, the defaults and the --help text; docs/configuration.md lists the
 * same table and tests/unit/test_config.c fails when the two drift apart.
 *
 * Precedence, lowest first: built-in default < config file < environment < command line.
 * The config file is named by `--config FILE`, else by TAMS_CONFIG; without either none is read.
 * Unknown file keys, unknown `--flags` and unknown TAMS_* variables are errors.
 *
 * Ownership: every char * field is owned by the struct (allocated with tams_malloc) and is never
 * NULL after tams_config_defaults(), except config_file, which is NULL when no file was read.
 * tams_config_release() frees them all and leaves the struct zeroed; it accepts a zeroed or
 * already-released struct. Not thread-safe; meant for startup.
 *
 * Errors: functions return 0 or a negative enum tams_err and append one line (lowercase, problem
 * first, no trailing newline) to `err`, naming the origin ("FILE:LINE", "TAMS_X" or "--x"), the
 * setting and the offending value:
 *   TAMS_ERR_BADREQUEST  bad syntax, unknown key/flag/variable, value invalid or out of bounds
 *   TAMS_ERR_TOOBIG      config file over 1 MiB, a line over 8 KiB or a value over 8 KiB
 *   TAMS_ERR_IO          the config file cannot be read
 * main() should print the message and exit with status 2 whatever the code.
 */
#ifndef TAMS_CORE_CONFIG_H
#define TAMS_CORE_CONFIG_H

#include "core/common.h"
#include "core/config_values.h" /* TAMS_CONFIG_VALUE_MAX */
#include "core/buf.h"
#include "core/log.h"

#define TAMS_CONFIG_FILE_MAX (1024 * 1024) /* bytes in a config file */
#define TAMS_CONFIG_LINE_MAX (8 * 1024)    /* bytes in one config file line */

/* All fields public and read-only once loaded. */
struct tams_config {
    char *listen_host;    /* IPv4 literal, IPv6 literal without brackets, or a hostname */
    uint16_t listen_port; /* 0: let the kernel pick a free port */
    char *data_dir;
    char *database; /* "" (SQLite at <data_dir>/tams.db), "sqlite:PATH" or "postgres[ql]://..." */
    char *root_api_version; /* the TAMS version of the root paths: "7.0" (main.c checks it) */
    char *public_url; /* "" (derive from Host) or http(s)://host[:port][/path], no trailing slash */
    int threads;      /* 0: number of cores */
    int db_pool_size; /* PostgreSQL connections; 0: 2 * threads */
    size_t max_body_bytes;
    char *cors_origins; /* "" (CORS off), "*" or "origin,origin" with no spaces */
    enum tams_log_level log_level;
    bool access_log;
    int page_limit_default, page_limit_max; /* default <= max after tams_config_load() */
    char *service_name, *service_description;
    int shutdown_timeout;   /* seconds */
    int connection_timeout; /* seconds an idle or stalled connection is kept */
    char *local_store_id;   /* "" (server generates and persists one) or a lowercase UUID */
    char *local_store_label;
    size_t flow_cache_memory;   /* bytes of rendered flow documents kept; 0 = no cache */
    size_t source_cache_memory; /* bytes of rendered source documents kept; 0 = no cache */
    int cache_ttl;              /* seconds an entry of either cache may be served */
    int media_url_expiry;       /* seconds, get_urls (and the cap of put_url_expiry) */
    int put_url_expiry;         /* seconds, put_urls of every backend */
    size_t max_object_bytes;    /* built-in object store upload cap; S3 objects at registration */
    int storage_limit_default, storage_limit_max; /* objects per POST /flows/{id}/storage */
    char *storage_config; /* "" (only the built-in store) or a path, docs/configuration.md */
    bool verify_uploads;  /* check an allocated object's bytes are there at its registration */
    bool auth_disabled;   /* serve without authentication on any address */
    int auth_fail_limit;  /* failures per client address and principal per minute; 0: off */
    bool metrics_public;  /* GET /metrics without credentials */
    char *jwt_alg;        /* "" (no JWT), "HS256", "RS256" or "ES256" */
    char *jwt_secret;     /* HS256 shared secret, or "" */
    char *jwt_key_file;   /* PEM public key (RS256/ES256) or file holding the HS256 secret */
    char *jwt_issuer, *jwt_audience; /* "" = not checked */
    char *jwt_scope_claim, *jwt_name_claim;
    int jwt_leeway;            /* seconds */
    int delete_sync_limit;     /* segments deleted within the request; more: deletion request */
    int delete_batch;          /* segments per transaction of a deletion request */
    int delete_request_ttl;    /* seconds a finished deletion request stays readable */
    int gc_interval;           /* seconds between collector rounds */
    int gc_grace;              /* seconds after an object's last reference went */
    int gc_unused_after;       /* seconds after allocation for objects never used */
    bool spec_timeout_floors;  /* refuse timeouts below TAMS 8.2's floors (300 s, 30 s) */
    int soft_delete_retention; /* > 0: deletions kept this long in the bin (docs/soft-delete.md) */
    bool webhooks_allow_private; /* webhook targets may be loopback/private/link-local */
    int webhook_retry_for;       /* seconds an event is retried before it is given up */
    int webhook_error_after;     /* events given up in a row before the webhook is in error */
    int webhook_timeout;         /* seconds one delivery attempt may take */
    int webhook_workers;         /* delivery threads */
    int webhooks_per_owner_max;  /* registrations per principal */
    char *webhook_secret_key;    /* "" (key file in data_dir) or 64 hex digits */
    int auth_fail_limit_unknown; /* failures per client address per minute, unknown principal */
    char *trusted_proxies;       /* "" or addresses and CIDR ranges, comma-separated */
    int auth_hash_threads;       /* threads running PBKDF2 */
    int auth_hash_queue;         /* password checks waiting for them, at most */
    char *config_file;           /* NULL if none */

    int header_timeout;              /* seconds from accept to the end of a request head */
    int max_connections;             /* client connections open at once */
    int max_connections_per_address; /* from one client address (IPv6: one /64); 0: no cap */
};

enum tams_config_action { TAMS_CONFIG_RUN, TAMS_CONFIG_HELP, TAMS_CONFIG_VERSION };

/* Fills cfg (which may be uninitialised) from defaults, file, env (envp: NULL-terminated "K=V"
 * list, pass `environ`; NULL means empty) and argv (argv[0] is the program name; options only,
 * no positional arguments). Both `--flag VALUE` and `--flag=VALUE` work; `-h`/`--help` and
 * `--version` set *action and stop before the file and environment are read (cfg then holds the
 * defaults). On error returns a negative tams_err and appends a one-line message to err.
 * cfg must be released with tams_config_release() in every case. */
int tams_config_load(struct tams_config *cfg, int argc, char **argv, char **envp,
                     enum tams_config_action *action, struct tams_buf *err) TAMS_WUR;

/* Parses config-file text (`key = value` lines, see docs/configuration.md) on top of what cfg
 * holds. `origin` names the text in messages ("FILE:LINE"); NULL reads as "config". The text
 * need not be NUL-terminated and may hold any bytes. Cross-setting checks (page limits) are left
 * to tams_config_load(). On error cfg may hold some of the text's settings; release it. */
int tams_config_apply_text(struct tams_config *cfg, const char *text, size_t len,
                           const char *origin, struct tams_buf *err) TAMS_WUR;

/* Overwrites every field with its built-in default, without freeing what cfg held. */
void tams_config_defaults(struct tams_config *cfg);

void tams_config_release(struct tams_config *cfg);

/* The --help text, generated from the table. */
void tams_config_usage(FILE *out);

/* Read-only view of one row of the settings table, for docs checks and diagnostics. */
struct tams_config_setting_info {
    const char *name;          /* config file key, e.g. "max_body_bytes" */
    const char *env;           /* e.g. "TAMS_MAX_BODY_BYTES" */
    const char *flag;          /* e.g. "--max-body-bytes" */
    const char *default_value; /* as written in the table, e.g. "8M" */
    const char *help;          /* one line */
};

/* Fills *info with row i and returns true, or returns false when i is past the end. */
bool tams_config_setting_info(size_t i, struct tams_config_setting_info *info);

#endif
