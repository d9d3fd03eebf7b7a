/* SPDX-License-Identifier: Apache-2.0 */
/* storage_config.c - the storage backends file: strict JSON parsing and validation. */
#include "core/common.h"
#include "core/buf.h"
#include "core/random.h"
#include "core/utf8.h"
#include "media/sigv4.h"
#include "media/storage_config.h"
#include "media/tags.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <strings.h>
#include <unistd.h>

#define MAX_TEXT 256 /* label, provider, store_product, availability_zone */

struct ctx {
    struct tams_storage_config *cfg;
    struct tams_buf *why;
    char **envp;
    char name[300]; /* the backend being parsed, for messages */
};

static void *own(struct tams_storage_config *cfg, void *p)
{
    if (cfg->_nowned == cfg->_capowned) {
        cfg->_capowned = cfg->_capowned ? 2 * cfg->_capowned : 32;
        cfg->_owned = tams_realloc(cfg->_owned, tams_st_mult(cfg->_capowned, sizeof(void *)));
    }
    cfg->_owned[cfg->_nowned++] = p;
    return p;
}

static const char *own_str(struct ctx *c, const char *s, size_t n)
{
    return own(c->cfg, tams_strndup(s, n));
}

/* The message quotes keys and values from the file, of any length and any bytes, so it is cut
 * to FAIL_MAX bytes (the key it names to KEY_QUOTE_MAX) and its control characters become '?':
 * one line that always fits the caller's buffer (a longer one would be lost whole). */
#define FAIL_MAX 1024
#define KEY_QUOTE_MAX 64
static int fail(struct ctx *c, const char *key, const char *fmt, ...) TAMS_PRINTF(3, 4);
static int fail(struct ctx *c, const char *key, const char *fmt, ...)
{
    struct tams_buf msg = TAMS_BUF_INIT(4 * TAMS_STORAGE_CONFIG_MAX_BYTES);
    va_list ap;
    size_t n;
    if (c->name[0])
        tams_buf_addf(&msg, "storage backend %s: ", c->name);
    if (key) {
        n = tams_utf8_clip(key, strlen(key), KEY_QUOTE_MAX);
        tams_buf_addf(&msg, "'%.*s%s' ", (int)n, key, key[n] ? "..." : "");
    }
    va_start(ap, fmt);
    tams_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    n = tams_utf8_clip(msg.data, msg.len, FAIL_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg.data[i] < 0x20 || msg.data[i] == 0x7f)
            msg.data[i] = '?';
    tams_buf_add(c->why, msg.data, n);
    if (n < msg.len)
        tams_buf_addstr(c->why, "...");
    tams_buf_release(&msg);
    return TAMS_ERR_BADREQUEST;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* A string member: *out (owned copy) and its length; min..max bytes, no control characters
 * (unless raw: secrets, checked only for length and NUL). */
static int get_str(struct ctx *c, json_object *v, const char *key, size_t min, size_t max, bool raw,
                   const char **out)
{
    const char *s;
    size_t n;
    if (!json_object_is_type(v, json_type_string))
        return fail(c, key, "must be a string");
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (n < min || n > max)
        return fail(c, key, "must be %zu to %zu bytes long", min, max);
    if (memchr(s, '\0', n) || (!raw && has_control(s, n)))
        return fail(c, key, "must not hold control characters");
    *out = own_str(c, s, n);
    return 0;
}

static bool token_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static int check_region(struct ctx *c, const char *r)
{
    size_t n = strlen(r);
    for (size_t i = 0; i < n; i++)
        if (!token_char(r[i]))
            return fail(c, "region", "must be 1 to 64 of A-Z a-z 0-9 _ -");
    return 0;
}

static int check_bucket(struct ctx *c, const char *b)
{
    size_t n = strlen(b);
    bool ok = n >= 3 && n <= 63;
    for (size_t i = 0; ok && i < n; i++) {
        char ch = b[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        ok = alnum || ((ch == '.' || ch == '-') && i > 0 && i + 1 < n);
    }
    return ok ? 0
              : fail(c, "bucket",
                     "must be 3 to 63 of a-z 0-9 . - starting and ending with "
                     "a letter or digit");
}

static int check_access_key(struct ctx *c, const char *k)
{
    for (const char *p = k; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '/')
            return fail(c, "access_key", "must be printable ASCII without '/' or spaces");
    return 0;
}

static bool is_ip_literal(const char *host)
{
    if (host[0] == '[')
        return true;
    for (const char *p = host; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
    return true;
}

bool tams__storage_endpoint_normalise(const char *url, struct tams_buf *out, bool *ip_literal)
{
    const char *p, *host, *hend, *port = NULL, *end;
    bool https;
    size_t hn;
    long pv = 0;

    if (strncasecmp(url, "http://", 7) == 0)
        https = false, p = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        https = true, p = url + 8;
    else
        return false;
    end = p + strlen(p);
    if (end > p && end[-1] == '/')
        end--;
    host = p;
    if (*host == '[') {
        hend = memchr(host, ']', (size_t)(end - host));
        if (!hend || hend - host < 3)
            return false;
        for (const char *q = host + 1; q < hend; q++)
            if (!(isxdigit((unsigned char)*q) || *q == ':' || *q == '.'))
                return false;
        hend++;
    } else {
        hend = host;
        while (hend < end && *hend != ':') {
            char ch = *hend;
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
                return false;
            hend++;
        }
        if (hend == host || host[0] == '.' || host[0] == '-' || hend[-1] == '.' ||
            hend - host > 253)
            return false;
        for (const char *q = host; q + 1 < hend; q++)
            if (q[0] == '.' && q[1] == '.')
                return false;
    }
    if (hend < end) {
        if (*hend != ':')
            return false;
        port = hend + 1;
        if (end - port < 1 || end - port > 5)
            return false;
        for (const char *q = port; q < end; q++) {
            if (*q < '0' || *q > '9')
                return false;
            pv = pv * 10 + (*q - '0');
        }
        if (pv < 1 || pv > 65535)
            return false;
    }
    hn = (size_t)(hend - host);
    tams_buf_addstr(out, https ? "https://" : "http://");
    for (size_t i = 0; i < hn; i++)
        tams_buf_addch(out, (char)tolower((unsigned char)host[i]));
    if (port && pv != (https ? 443 : 80))
        tams_buf_addf(out, ":%ld", pv);
    if (ip_literal) {
        char h[260];
        snprintf(h, sizeof(h), "%.*s", (int)hn, host);
        *ip_literal = is_ip_literal(h);
    }
    return tams_buf_ok(out);
}

static const char *env_lookup(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* key or key_env: the value (owned) into *out; NULL when neither is given. */
static int get_secret(struct ctx *c, json_object *o, const char *key, size_t max, const char **out)
{
    char envkey[64];
    json_object *v = NULL, *ev = NULL;
    const char *name, *val;
    size_t n;
    int rc;

    snprintf(envkey, sizeof(envkey), "%s_env", key);
    json_object_object_get_ex(o, key, &v);
    json_object_object_get_ex(o, envkey, &ev);
    *out = NULL;
    if (v && ev)
        return fail(c, key, "and '%s' are both given: give one", envkey);
    if (v)
        return get_str(c, v, key, 1, max, true, out);
    if (!ev)
        return 0;
    rc = get_str(c, ev, envkey, 1, 128, false, &name);
    if (rc)
        return rc;
    for (const char *p = name; *p; p++)
        if (!(token_char(*p) && *p != '-') || (p == name && *p >= '0' && *p <= '9'))
            return fail(c, envkey, "must be an environment variable name, not '%s'", name);
    val = env_lookup(c->envp, name);
    if (!val || !*val)
        return fail(c, envkey, "names environment variable %s, which is not set or empty", name);
    n = strlen(val);
    if (n > max)
        return fail(c, envkey, "names environment variable %s, whose value is over %zu bytes", name,
                    max);
    *out = own_str(c, val, n);
    return 0;
}

static const char *const backend_keys[] = {
    "id",
    "label",
    "type",
    "provider",
    "store_product",
    "region",
    "availability_zone",
    "endpoints",
    "bucket",
    "prefix",
    "addressing",
    "access_key",
    "access_key_env",
    "secret_key",
    "secret_key_env",
    "session_token",
    "session_token_env",
    "probe_interval",
    "default",
    "conditional_put",
    "tags",
};

static bool known_key(const char *k, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

static int parse_endpoints(struct ctx *c, json_object *v, struct tams_s3_settings *s, bool *any_ip)
{
    size_t n;
    const char **eps;
    if (!json_object_is_type(v, json_type_array))
        return fail(c, "endpoints", "must be an array of base URLs");
    n = json_object_array_length(v);
    if (n < 1 || n > TAMS_S3_MAX_ENDPOINTS)
        return fail(c, "endpoints", "must list 1 to %d base URLs", TAMS_S3_MAX_ENDPOINTS);
    eps = own(c->cfg, tams_calloc(n, sizeof(*eps)));
    *any_ip = false;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        struct tams_buf norm = TAMS_BUF_INIT(512);
        const char *url;
        bool ip = false;
        if (!json_object_is_type(e, json_type_string))
            return fail(c, "endpoints", "item %zu must be a string", i);
        url = json_object_get_string(e);
        if ((size_t)json_object_get_string_len(e) != strlen(url) || has_control(url, strlen(url)) ||
            !tams__storage_endpoint_normalise(url, &norm, &ip)) {
            tams_buf_release(&norm);
            return fail(c, "endpoints",
                        "item %zu must be http(s)://host[:port] with no path, "
                        "user, query or fragment",
                        i);
        }
        *any_ip = *any_ip || ip;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(eps[j], norm.data) == 0) {
                int rc = fail(c, "endpoints", "lists %s twice", norm.data);
                tams_buf_release(&norm);
                return rc;
            }
        }
        eps[i] = own_str(c, norm.data, norm.len);
        tams_buf_release(&norm);
    }
    s->endpoints = eps;
    s->nendpoints = n;
    return 0;
}

/* "tags": kept as parsed (a reference the config holds until it is released). */
static int get_tags(struct ctx *c, json_object *v, const char *key, json_object **out)
{
    struct tams_buf msg = TAMS_BUF_INIT(4096);
    int rc = tams_media_tags_check(v, &msg);

    if (rc)
        rc = fail(c, key, "%s", msg.data);
    else
        *out = json_object_get(v);
    tams_buf_release(&msg);
    return rc;
}

static int parse_backend(struct ctx *c, json_object *o, size_t index, const char *local_id,
                         const char *local_label, struct tams_s3_settings *s, json_object **tags)
{
    json_object *v;
    bool any_ip = false;
    int rc;

    snprintf(c->name, sizeof(c->name), "backends[%zu]", index);
    if (!json_object_is_type(o, json_type_object))
        return fail(c, NULL, "must be a JSON object");
    /* The label first, so every later message can name the backend by it. */
    if (!json_object_object_get_ex(o, "label", &v))
        return fail(c, "label", "is required");
    if ((rc = get_str(c, v, "label", 1, MAX_TEXT, false, &s->label)))
        return rc;
    snprintf(c->name, sizeof(c->name), "'%s' (backends[%zu])", s->label, index);
    json_object_object_foreach(o, k, val)
    {
        (void)val;
        if (!known_key(k, backend_keys, TAMS_ARRAY_SIZE(backend_keys)))
            return fail(c, k, "is not a known key");
    }
    if (!json_object_object_get_ex(o, "type", &v))
        return fail(c, "type", "is required (\"s3\")");
    if (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "s3"))
        return fail(c, "type", "must be \"s3\"");
    if (!json_object_object_get_ex(o, "id", &v))
        return fail(c, "id", "is required");
    if ((rc = get_str(c, v, "id", 1, 64, false, &s->id)))
        return rc;
    if (!tams_uuid_valid(s->id, strlen(s->id)))
        return fail(c, "id", "must be a lowercase UUID (version 1 to 5), not '%s'", s->id);
    if (local_id && strcmp(s->id, local_id) == 0)
        return fail(c, "id", "is the built-in store's id");
    if (local_label && strcmp(s->label, local_label) == 0)
        return fail(c, "label", "is the built-in store's label (setting local_store_label)");
    if (json_object_object_get_ex(o, "provider", &v) &&
        (rc = get_str(c, v, "provider", 1, MAX_TEXT, false, &s->provider)))
        return rc;
    if (json_object_object_get_ex(o, "store_product", &v) &&
        (rc = get_str(c, v, "store_product", 1, MAX_TEXT, false, &s->store_product)))
        return rc;
    if (json_object_object_get_ex(o, "availability_zone", &v) &&
        (rc = get_str(c, v, "availability_zone", 1, MAX_TEXT, false, &s->availability_zone)))
        return rc;
    s->region = "us-east-1";
    if (json_object_object_get_ex(o, "region", &v) &&
        ((rc = get_str(c, v, "region", 1, 64, false, &s->region)) ||
         (rc = check_region(c, s->region))))
        return rc;
    if (!json_object_object_get_ex(o, "endpoints", &v))
        return fail(c, "endpoints", "is required");
    if ((rc = parse_endpoints(c, v, s, &any_ip)))
        return rc;
    if (!json_object_object_get_ex(o, "bucket", &v))
        return fail(c, "bucket", "is required");
    if ((rc = get_str(c, v, "bucket", 1, 63, false, &s->bucket)) ||
        (rc = check_bucket(c, s->bucket)))
        return rc;
    s->prefix = "";
    if (json_object_object_get_ex(o, "prefix", &v)) {
        if ((rc = get_str(c, v, "prefix", 0, TAMS_S3_MAX_PREFIX, false, &s->prefix)))
            return rc;
        if (s->prefix[0] == '/')
            return fail(c, "prefix", "must not start with '/'");
    }
    s->virtual_hosted = false;
    if (json_object_object_get_ex(o, "addressing", &v)) {
        const char *a = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(a, "virtual") == 0)
            s->virtual_hosted = true;
        else if (strcmp(a, "path") != 0)
            return fail(c, "addressing", "must be \"path\" or \"virtual\"");
    }
    if (s->virtual_hosted && any_ip)
        return fail(c, "addressing",
                    "\"virtual\" needs endpoints with a host name, not an IP "
                    "address");
    if ((rc = get_secret(c, o, "access_key", 128, &s->access_key)))
        return rc;
    if (!s->access_key)
        return fail(c, "access_key", "(or 'access_key_env') is required");
    if ((rc = check_access_key(c, s->access_key)))
        return rc;
    if ((rc = get_secret(c, o, "secret_key", 256, &s->secret_key)))
        return rc;
    if (!s->secret_key)
        return fail(c, "secret_key", "(or 'secret_key_env') is required");
    if ((rc = get_secret(c, o, "session_token", 8192, &s->session_token)))
        return rc;
    s->probe_interval = 10;
    if (json_object_object_get_ex(o, "probe_interval", &v)) {
        int64_t i = json_object_get_int64(v);
        if (!json_object_is_type(v, json_type_int) || i < 1 || i > 3600)
            return fail(c, "probe_interval", "must be an integer number of seconds, 1 to 3600");
        s->probe_interval = (int)i;
    }
    s->is_default = false;
    if (json_object_object_get_ex(o, "default", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return fail(c, "default", "must be true or false");
        s->is_default = json_object_get_boolean(v);
    }
    s->conditional_put = false;
    if (json_object_object_get_ex(o, "conditional_put", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return fail(c, "conditional_put", "must be true or false");
        s->conditional_put = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(o, "tags", &v) && (rc = get_tags(c, v, "tags", tags)))
        return rc;
    return 0;
}

static int parse_doc(struct ctx *c, json_object *root, const char *local_id,
                     const char *local_label)
{
    struct tams_storage_config *cfg = c->cfg;
    json_object *backends = NULL, *local = NULL;
    bool local_default_set = false;
    size_t n, ndefault = 0;
    int rc;

    if (!json_object_is_type(root, json_type_object))
        return fail(c, NULL, "the file must hold one JSON object");
    json_object_object_foreach(root, k, val)
    {
        (void)val;
        if (strcmp(k, "backends") != 0 && strcmp(k, "local") != 0)
            return fail(c, k, "is not a known key (expected \"backends\" and \"local\")");
    }
    cfg->local_default = true;
    if (json_object_object_get_ex(root, "local", &local)) {
        if (!json_object_is_type(local, json_type_object))
            return fail(c, "local", "must be an object");
        json_object_object_foreach(local, lk, lval)
        {
            if (strcmp(lk, "tags") == 0) {
                if ((rc = get_tags(c, lval, "local.tags", &cfg->local_tags)))
                    return rc;
                continue;
            }
            if (strcmp(lk, "default") != 0)
                return fail(c, "local", "has unknown key '%s' (only \"default\" and \"tags\")", lk);
            if (!json_object_is_type(lval, json_type_boolean))
                return fail(c, "local.default", "must be true or false");
            cfg->local_default = json_object_get_boolean(lval);
            local_default_set = true;
        }
    }
    if (!json_object_object_get_ex(root, "backends", &backends))
        return 0;
    if (!json_object_is_type(backends, json_type_array))
        return fail(c, "backends", "must be an array");
    n = json_object_array_length(backends);
    if (n > TAMS_STORAGE_CONFIG_MAX_BACKENDS)
        return fail(c, "backends", "lists more than %d backends", TAMS_STORAGE_CONFIG_MAX_BACKENDS);
    cfg->s3 = own(cfg, tams_calloc(n ? n : 1, sizeof(*cfg->s3)));
    cfg->tags = own(cfg, tams_calloc(n ? n : 1, sizeof(*cfg->tags)));
    for (size_t i = 0; i < n; i++) {
        struct tams_s3_settings *s = &cfg->s3[i];
        rc = parse_backend(c, json_object_array_get_idx(backends, i), i, local_id, local_label, s,
                           &cfg->tags[i]);
        if (rc)
            return rc;
        cfg->ns3 = i + 1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->s3[j].id, s->id) == 0)
                return fail(c, "id", "is also the id of backend '%s'", cfg->s3[j].label);
            if (strcmp(cfg->s3[j].label, s->label) == 0)
                return fail(c, "label", "is also the label of backends[%zu]", j);
        }
        ndefault += s->is_default;
    }
    c->name[0] = '\0';
    if (ndefault > 1)
        return fail(c, "default", "is true for %zu backends: at most one may be", ndefault);
    if (ndefault == 1) {
        if (local_default_set && cfg->local_default)
            return fail(c, "local.default", "is true but a backend is also \"default\": true");
        cfg->local_default = false;
    }
    return 0;
}

static void wipe(struct tams_storage_config *cfg)
{
    for (size_t i = 0; i < cfg->ns3; i++) {
        struct tams_s3_settings *s = &cfg->s3[i];
        if (s->secret_key)
            explicit_bzero((char *)(uintptr_t)s->secret_key, strlen(s->secret_key));
        if (s->session_token)
            explicit_bzero((char *)(uintptr_t)s->session_token, strlen(s->session_token));
    }
    for (size_t i = 0; cfg->tags && i < cfg->ns3; i++)
        json_object_put(cfg->tags[i]);
    json_object_put(cfg->local_tags);
    for (size_t i = 0; i < cfg->_nowned; i++)
        tams_free(cfg->_owned[i]);
    tams_free(cfg->_owned);
    memset(cfg, 0, sizeof(*cfg));
}

void tams_storage_config_release(struct tams_storage_config *cfg)
{
    wipe(cfg);
}

int tams_storage_config_parse(struct tams_storage_config *cfg, const char *text, size_t len,
                              const char *local_id, const char *local_label, char **envp,
                              struct tams_buf *why)
{
    struct ctx c = {.cfg = cfg, .why = why, .envp = envp};
    struct json_tokener *tok;
    json_object *root;
    size_t end;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if (len > TAMS_STORAGE_CONFIG_MAX_BYTES) {
        tams_buf_addf(why, "the file is over %d bytes", TAMS_STORAGE_CONFIG_MAX_BYTES);
        return TAMS_ERR_TOOBIG;
    }
    if (memchr(text, '\0', len))
        return fail(&c, NULL, "the file holds a NUL byte: it must be JSON text");
    tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, text, (int)len);
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        rc = fail(&c, NULL, "not valid JSON: %s near byte %zu",
                  json_tokener_error_desc(json_tokener_get_error(tok)),
                  json_tokener_get_parse_end(tok));
        json_object_put(root);
        json_tokener_free(tok);
        return rc;
    }
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    for (size_t i = end; i < len; i++) {
        if (!isspace((unsigned char)text[i])) {
            json_object_put(root);
            return fail(&c, NULL, "not valid JSON: text after the object at byte %zu", i);
        }
    }
    rc = parse_doc(&c, root, local_id, local_label);
    json_object_put(root);
    if (rc)
        wipe(cfg);
    return rc;
}

int tams_storage_config_load(struct tams_storage_config *cfg, const char *path,
                             const char *local_id, const char *local_label, char **envp,
                             struct tams_buf *why)
{
    struct tams_buf text = TAMS_BUF_INIT(TAMS_STORAGE_CONFIG_MAX_BYTES + 65536 + 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    memset(cfg, 0, sizeof(*cfg));
    if (fd < 0) {
        tams_buf_addf(why, "storage_config '%s': cannot open: %s", path, strerror(errno));
        return TAMS_ERR_IO;
    }
    for (;;) {
        char *p = text.len > TAMS_STORAGE_CONFIG_MAX_BYTES ? NULL : tams_buf_reserve(&text, 65536);
        ssize_t n;
        if (!p) {
            tams_buf_addf(why, "storage_config '%s': the file is over %d bytes", path,
                          TAMS_STORAGE_CONFIG_MAX_BYTES);
            rc = TAMS_ERR_TOOBIG;
            break;
        }
        n = read(fd, p, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            tams_buf_addf(why, "storage_config '%s': cannot read: %s", path, strerror(errno));
            rc = TAMS_ERR_IO;
            break;
        }
        if (n == 0) {
            if (text.len > TAMS_STORAGE_CONFIG_MAX_BYTES) {
                tams_buf_addf(why, "storage_config '%s': the file is over %d bytes", path,
                              TAMS_STORAGE_CONFIG_MAX_BYTES);
                rc = TAMS_ERR_TOOBIG;
            }
            break;
        }
        tams_buf_commit(&text, (size_t)n);
    }
    close(fd);
    if (!rc) {
        struct tams_buf msg = TAMS_BUF_INIT(4096);
        rc = tams_storage_config_parse(cfg, text.data, text.len, local_id, local_label, envp, &msg);
        if (rc)
            tams_buf_addf(why, "storage_config '%s': %s", path, msg.data);
        tams_buf_release(&msg);
    }
    tams_buf_release(&text);
    return rc;
}
