/* SPDX-License-Identifier: Apache-2.0 */
/* local.c - the built-in object store on the local file system. */
#include "core/common.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/diskfull.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/random.h"
#include "media/local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h> /* renameat2 */
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_LEN 32
/* Slots of the table of committed uploads (8 bytes each: 4 MiB, touched as it fills). */
#define RECENT_SLOTS (1u << 19)

struct local {
    char *root; /* <data_dir>/objects */
    unsigned char secret[SECRET_LEN];
    int expiry, put_expiry; /* seconds of get and put URLs */
    /* Uploads this process committed, so the upload check at registration needs no stat for
     * them: a direct-mapped table of 64-bit key hashes. A newer key takes an older one's slot
     * and a miss only means a stat, so it is never wrong about an upload through another
     * instance. A key's slot is cleared before its file is removed. */
    uint64_t *recent;
};

struct tams_local_upload {
    const struct local *l;
    char *tmp_path, *final_path;
    char key[48];
    int fd;
};

static const struct local *impl(const struct tams_media_backend *b)
{
    return b->impl;
}

void tams_media_new_key(char out[48])
{
    char uuid[TAMS_UUID_STRLEN + 1];
    tams_uuid_v4(uuid);
    /* Fan out on the random part of the UUID so no directory grows huge. */
    snprintf(out, 48, "%.2s/%.2s/%s", uuid + 9, uuid + 11, uuid);
}

/* Keys are only ever made by tams_media_new_key(): anything else is not ours. */
static bool key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n != 6 + TAMS_UUID_STRLEN || key[2] != '/' || key[5] != '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (i == 2 || i == 5)
            continue;
        if (!(tams_hex_valid(&c, 1) || (c == '-' && i > 5)))
            return false;
    }
    return true;
}

/* FNV-1a: keys are random UUIDs, so any mixing will do; never 0, which marks an empty slot. */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h ? h : 1;
}

static void recent_mark(const struct local *l, const char *key)
{
    uint64_t h = key_hash(key);
    __atomic_store_n(&l->recent[h & (RECENT_SLOTS - 1)], h, __ATOMIC_RELEASE);
}

static bool recent_has(const struct local *l, const char *key)
{
    uint64_t h = key_hash(key);
    return __atomic_load_n(&l->recent[h & (RECENT_SLOTS - 1)], __ATOMIC_ACQUIRE) == h;
}

static void recent_clear(const struct local *l, const char *key)
{
    uint64_t h = key_hash(key);
    __atomic_compare_exchange_n(&l->recent[h & (RECENT_SLOTS - 1)], &h, 0, false, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
}

static void sign(const struct local *l, const char *method, const char *key, int64_t expires,
                 char out[2 * TAMS_SHA256_LEN + 1])
{
    unsigned char mac[TAMS_SHA256_LEN];
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%s\n%s\n%" PRId64, method, key, expires);
    tams_hmac_sha256(l->secret, SECRET_LEN, msg, (size_t)n, mac);
    tams_hex_encode(mac, sizeof(mac), out);
}

static int signed_url(const struct tams_media_backend *b, const char *method, const char *base_url,
                      const char *key, int64_t now, struct tams_buf *out)
{
    const struct local *l = impl(b);
    char sig[2 * TAMS_SHA256_LEN + 1];
    int64_t expires = now + (strcmp(method, "PUT") == 0 ? l->put_expiry : l->expiry);
    sign(l, method, key, expires, sig);
    return tams_buf_addf(out, "%s" TAMS_LOCAL_URL_PREFIX "%s?expires=%" PRId64 "&sig=%s", base_url,
                         key, expires, sig);
}

static int local_put_url(const struct tams_media_backend *b, const char *base_url, const char *key,
                         int64_t now, struct tams_buf *out)
{
    return signed_url(b, "PUT", base_url, key, now, out);
}

static int local_get_url(const struct tams_media_backend *b, const char *base_url, const char *key,
                         int64_t now, struct tams_buf *out, bool *presigned)
{
    *presigned = true;
    return signed_url(b, "GET", base_url, key, now, out);
}

void tams_local_path(const struct tams_media_backend *b, const char *key, struct tams_buf *out)
{
    tams_buf_addf(out, "%s/%s", impl(b)->root, key);
}

/* An upload this process committed is known without asking the file system (a bulk
 * registration asks once per fresh object) unless out wants its size; anything else is a stat
 * by path like uploads and downloads (not relative to a directory descriptor, which would keep
 * looking at the old folder if the data directory were replaced under a running server). out
 * (may be NULL) gets the size (registration records it for the analytics: one stat instead of
 * a write transaction per upload); the built-in store has no entity tags. */
static int local_stat(const struct tams_media_backend *b, const char *key,
                      struct tams_media_stat *out)
{
    char path[PATH_MAX];
    struct stat st;
    int n;
    if (out) {
        out->size = -1;
        out->etag[0] = '\0';
    }
    if (!key_ok(key))
        return TAMS_ERR_NOTFOUND;
    if (!out && recent_has(impl(b), key))
        return 0;
    n = snprintf(path, sizeof(path), "%s/%s", impl(b)->root, key);
    if (n < 0 || (size_t)n >= sizeof(path))
        return TAMS_ERR_NOTFOUND; /* no upload could have been stored there either */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return TAMS_ERR_NOTFOUND;
    if (out)
        out->size = st.st_size;
    return 0;
}

static int local_exists(const struct tams_media_backend *b, const char *key)
{
    return local_stat(b, key, NULL);
}

static int local_exists_many(const struct tams_media_backend *b, const char *const *keys, size_t n,
                             int *results, struct tams_media_stat *stats)
{
    for (size_t i = 0; i < n; i++)
        results[i] = local_stat(b, keys[i], stats ? &stats[i] : NULL);
    return 0; /* a stat either finds the file or not: never "cannot tell" */
}

/* Unlink the object and its content type; a missing file is already gone. The type goes last,
 * so an object whose bytes are visible keeps its type while it goes. */
static int local_remove(const struct tams_media_backend *b, const char *key)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    int rc = 0;

    if (!key_ok(key))
        return 0; /* never one of ours: nothing to delete */
    recent_clear(impl(b), key);
    tams_local_path(b, key, &path);
    if (unlink(path.data) != 0 && errno != ENOENT)
        rc = TAMS_ERR_IO;
    tams_buf_addstr(&path, ".type");
    if (rc == 0 && unlink(path.data) != 0 && errno != ENOENT)
        rc = TAMS_ERR_IO;
    tams_buf_release(&path);
    return rc;
}

static void local_free(struct tams_media_backend *b)
{
    struct local *l;
    if (!b)
        return;
    l = b->impl;
    if (l) {
        memset(l->secret, 0, sizeof(l->secret));
        tams_free(l->recent);
        tams_free(l->root);
        tams_free(l);
    }
    tams_free((char *)(uintptr_t)b->label);
    tams_free(b);
}

/* Ready when a file can be made where uploads are written (objects/tmp): a folder that became
 * read-only, was removed or sits on a file system remounted read-only fails here. */
static bool local_ready(const struct tams_media_backend *b, struct tams_buf *why)
{
    char path[PATH_MAX];
    int fd, n = snprintf(path, sizeof(path), "%s/tmp/.ready-XXXXXX", impl(b)->root);

    if (n < 0 || (size_t)n >= sizeof(path)) {
        tams_buf_addf(why, "the data directory's path is too long");
        return false;
    }
    fd = mkstemp(path);
    if (fd < 0) {
        tams_buf_addf(why, "cannot write under '%s/tmp': %s", impl(b)->root, strerror(errno));
        return false;
    }
    close(fd);
    unlink(path);
    return true;
}

/* Copies of objects (media/copy.h). */
static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static int local_fetch(const struct tams_media_backend *b, const char *key, int fd,
                       struct tams_buf *content_type)
{
    char chunk[65536];
    uint64_t size;
    int in, rc = tams_local_open_object(b, key, &in, &size, content_type);

    while (rc == 0) {
        ssize_t n = read(in, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? TAMS_ERR_IO : 0;
            break;
        }
        if (!write_all(fd, chunk, (size_t)n))
            rc = TAMS_ERR_IO;
    }
    if (in >= 0)
        close(in);
    return rc;
}

static int local_store(const struct tams_media_backend *b, const char *key, int fd, uint64_t size,
                       const char *content_type)
{
    struct tams_local_upload *u = NULL;
    char chunk[65536];
    uint64_t at = 0;
    int rc = tams_local_upload_begin(b, key, &u);

    while (rc == 0 && at < size) {
        size_t want = size - at < sizeof(chunk) ? (size_t)(size - at) : sizeof(chunk);
        ssize_t n = pread(fd, chunk, want, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = TAMS_ERR_IO;
            break;
        }
        rc = tams_local_upload_write(u, chunk, (size_t)n);
        at += (uint64_t)n;
    }
    if (rc == 0)
        return tams_local_upload_commit(u, content_type);
    if (u)
        tams_local_upload_abort(u);
    return rc;
}

static const struct tams_media_ops local_ops = {
    .put_url = local_put_url,
    .get_url = local_get_url,
    .exists = local_exists,
    .exists_many = local_exists_many,
    .fetch = local_fetch,
    .store = local_store,
    .close = local_free,
    .remove = local_remove,
    .ready = local_ready,
};

/* Read the secret, or make one at first start (0600, written then renamed). */
static int load_secret(const char *data_dir, unsigned char secret[SECRET_LEN], struct tams_buf *why)
{
    struct tams_buf path = TAMS_BUF_INIT(4096), tmp = TAMS_BUF_INIT(4096);
    char hex[2 * SECRET_LEN + 2];
    int fd, rc = 0;
    ssize_t n;

    tams_buf_addf(&path, "%s/media.secret", data_dir);
    fd = open(path.data, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, hex, sizeof(hex));
        close(fd);
        if (n < 2 * SECRET_LEN) {
            tams_buf_addf(why,
                          "'%s' is damaged: remove it to make a new one (media URLs "
                          "handed out before become invalid)",
                          path.data);
            rc = TAMS_ERR_IO;
            goto out;
        }
        for (int i = 0; i < SECRET_LEN; i++) {
            unsigned v;
            if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
                tams_buf_addf(why, "'%s' is not hex", path.data);
                rc = TAMS_ERR_IO;
                goto out;
            }
            secret[i] = (unsigned char)v;
        }
        goto out;
    }
    if (errno != ENOENT) {
        tams_buf_addf(why, "cannot read '%s': %s", path.data, strerror(errno));
        rc = TAMS_ERR_IO;
        goto out;
    }
    tams_random_bytes(secret, SECRET_LEN);
    tams_hex_encode(secret, SECRET_LEN, hex);
    hex[2 * SECRET_LEN] = '\n';
    tams_buf_addf(&tmp, "%s.tmp", path.data);
    fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, TAMS_FS_FILE_MODE);
    if (fd < 0 || write(fd, hex, 2 * SECRET_LEN + 1) != 2 * SECRET_LEN + 1 || fsync(fd) != 0 ||
        rename(tmp.data, path.data) != 0) {
        tams_buf_addf(why, "cannot write '%s': %s", path.data, strerror(errno));
        rc = TAMS_ERR_IO;
    }
    if (fd >= 0)
        close(fd);
out:
    tams_buf_release(&path);
    tams_buf_release(&tmp);
    return rc;
}

int tams_local_open(struct tams_media_backend **out, const char *data_dir, const char *id,
                    const char *label, int expiry, int put_expiry, struct tams_buf *why)
{
    struct tams_media_backend *b = tams_calloc(1, sizeof(*b));
    struct local *l = tams_calloc(1, sizeof(*l));
    struct tams_buf dir = TAMS_BUF_INIT(4096);
    int rc;

    b->impl = l;
    b->ops = &local_ops;
    snprintf(b->id, sizeof(b->id), "%s", id);
    b->label = tams_strdup(label);
    b->provider = "tamsd";
    b->store_product = "tamsd built-in object store";
    b->is_default = true;
    l->expiry = expiry;
    l->put_expiry = put_expiry;
    l->recent = tams_calloc(RECENT_SLOTS, sizeof(*l->recent));
    tams_buf_addf(&dir, "%s/objects/tmp", data_dir);
    l->root = tams_strndup(dir.data, dir.len - 4);
    rc = tams_mkdir_p(dir.data, TAMS_FS_DIR_MODE);
    if (rc)
        tams_buf_addf(why, "cannot create '%s': %s", dir.data, strerror(errno));
    if (!rc)
        rc = load_secret(data_dir, l->secret, why);
    tams_buf_release(&dir);
    if (rc) {
        local_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

int tams_local_authorize(const struct tams_media_backend *b, const char *method, const char *key,
                         const char *expires, const char *sig, int64_t now)
{
    char want[2 * TAMS_SHA256_LEN + 1];
    char *end;
    long long exp;

    if (!key_ok(key))
        return TAMS_ERR_NOTFOUND;
    if (!expires || !sig)
        return TAMS_ERR_FORBIDDEN;
    /* Only the canonical decimal the server wrote: strtoll alone would also take " 1", "+1"
     * and "01", so one signature would open several spellings of the URL. */
    if (expires[0] < '1' || expires[0] > '9' || strspn(expires, "0123456789") != strlen(expires))
        return TAMS_ERR_FORBIDDEN;
    errno = 0;
    exp = strtoll(expires, &end, 10);
    if (*end || errno)
        return TAMS_ERR_FORBIDDEN;
    sign(impl(b), strcmp(method, "PUT") == 0 ? "PUT" : "GET", key, exp, want);
    if (!tams_ct_equal(want, strlen(want), sig, strlen(sig)))
        return TAMS_ERR_FORBIDDEN;
    return exp >= now ? 0 : TAMS_ERR_FORBIDDEN;
}

static void upload_free(struct tams_local_upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    tams_free(u->tmp_path);
    tams_free(u->final_path);
    tams_free(u);
}

/* A write of the store failed with errno e: the episode is reported (once) and the request
 * answered 507. */
static int write_failed(const char *what, int e)
{
    char cause[160];
    snprintf(cause, sizeof(cause), "%s: %s", what, strerror(e));
    return tams_diskfull_hit(TAMS_DISKFULL_OBJECTS, cause);
}

static bool object_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int tams_local_upload_begin(const struct tams_media_backend *b, const char *key,
                            struct tams_local_upload **out)
{
    const struct local *l = impl(b);
    struct tams_local_upload *u;
    struct tams_buf p = TAMS_BUF_INIT(4096);
    char rnd[33];
    int e;

    if (!key_ok(key))
        return TAMS_ERR_NOTFOUND;
    u = tams_calloc(1, sizeof(*u));
    u->l = l;
    u->fd = -1;
    snprintf(u->key, sizeof(u->key), "%s", key); /* key_ok: 42 bytes */
    tams_buf_addf(&p, "%s/%s", l->root, key);
    u->final_path = tams_buf_detach(&p, NULL);
    if (object_exists(u->final_path)) {
        upload_free(u);
        return TAMS_ERR_CONFLICT; /* one upload per object: the bytes a segment may use stay */
    }
    tams_random_hex(rnd, 16);
    tams_buf_addf(&p, "%s/tmp/%s", l->root, rnd);
    u->tmp_path = tams_buf_detach(&p, NULL);
    u->fd = open(u->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, TAMS_FS_FILE_MODE);
    if (u->fd < 0) {
        e = errno;
        upload_free(u);
        return write_failed("cannot create a temporary upload file", e);
    }
    *out = u;
    return 0;
}

int tams_local_upload_write(struct tams_local_upload *u, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = write(u->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return write_failed("cannot write an upload", errno);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void tams_local_upload_abort(struct tams_local_upload *u)
{
    if (!u)
        return;
    unlink(u->tmp_path);
    upload_free(u);
}

/* The content type into a new temporary file beside the uploads, synced; its path into tmp. */
static int write_type(const struct local *l, const char *content_type, struct tams_buf *tmp)
{
    size_t n = strlen(content_type);
    char rnd[33];
    int fd, e = 0, rc = 0;

    tams_random_hex(rnd, 16);
    tams_buf_addf(tmp, "%s/tmp/%s.type", l->root, rnd);
    fd = open(tmp->data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, TAMS_FS_FILE_MODE);
    if (fd < 0) {
        e = errno;
    } else {
        ssize_t w = write(fd, content_type, n);
        if (w != (ssize_t)n)
            e = w < 0 ? errno : ENOSPC; /* a short write is a full disk */
        else if (fsync(fd) != 0)
            e = errno;
        close(fd);
    }
    if (e) {
        unlink(tmp->data);
        rc = write_failed("cannot write an object's content type", e);
    }
    return rc;
}

static int fsync_dir_of(const char *path)
{
    char *dir = tams_strdup(path);
    char *slash = strrchr(dir, '/');
    int fd, rc = 0;
    if (slash)
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = write_failed("cannot sync an object's folder", errno);
    if (fd >= 0)
        close(fd);
    tams_free(dir);
    return rc;
}

/* Move from into place at to unless to exists: 0, TAMS_ERR_CONFLICT or -errno. Atomic, so of
 * two uploads of one object that end together exactly one wins. File systems without
 * RENAME_NOREPLACE (EINVAL: NFS, some FUSE) get link(2), which cannot replace either. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        return TAMS_ERR_CONFLICT;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    if (link(from, to) != 0)
        return errno == EEXIST ? TAMS_ERR_CONFLICT : -errno;
    unlink(from);
    return 0;
}

/* The bytes are claimed first (no-replace rename), then the type is put beside them: a losing
 * upload never touches the winner's type. */
int tams_local_upload_commit(struct tams_local_upload *u, const char *content_type)
{
    struct tams_buf type_tmp = TAMS_BUF_INIT(4096), type_path = TAMS_BUF_INIT(4096);
    char *dir = NULL;
    bool claimed = false;
    int rc = 0;

    if (fsync(u->fd) != 0) {
        rc = write_failed("cannot sync an upload", errno);
        goto out;
    }
    dir = tams_strdup(u->final_path);
    *strrchr(dir, '/') = '\0';
    if (tams_mkdir_p(dir, TAMS_FS_DIR_MODE)) {
        rc = write_failed("cannot create an object folder", errno);
        goto out;
    }
    if ((rc =
             write_type(u->l, content_type ? content_type : "application/octet-stream", &type_tmp)))
        goto out;
    rc = rename_noreplace(u->tmp_path, u->final_path);
    if (rc == TAMS_ERR_CONFLICT)
        goto out;
    if (rc) {
        rc = write_failed("cannot move an upload into place", -rc);
        goto out;
    }
    claimed = true;
    tams_buf_addf(&type_path, "%s.type", u->final_path);
    if (rename(type_tmp.data, type_path.data) != 0) {
        rc = write_failed("cannot move an object's content type into place", errno);
        goto out;
    }
    rc = fsync_dir_of(u->final_path);
out:
    if (rc && claimed) {
        /* Not durable, or without its type: not uploaded, so the client can try again. */
        unlink(type_path.data);
        unlink(u->final_path);
    }
    if (rc) {
        unlink(u->tmp_path);
        if (type_tmp.len)
            unlink(type_tmp.data);
    } else {
        recent_mark(u->l, u->key);
        tams_diskfull_clear(TAMS_DISKFULL_OBJECTS);
    }
    tams_free(dir);
    tams_buf_release(&type_tmp);
    tams_buf_release(&type_path);
    upload_free(u);
    return rc;
}

int tams_local_open_object(const struct tams_media_backend *b, const char *key, int *fd,
                           uint64_t *size, struct tams_buf *ct)
{
    struct tams_buf path = TAMS_BUF_INIT(4096);
    struct stat st;
    char type[256];
    int tfd, rc = 0;
    ssize_t n;

    if (!key_ok(key))
        return TAMS_ERR_NOTFOUND;
    tams_local_path(b, key, &path);
    *fd = open(path.data, O_RDONLY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        tams_buf_release(&path);
        return TAMS_ERR_NOTFOUND;
    }
    *size = (uint64_t)st.st_size;
    tams_buf_addstr(&path, ".type");
    tfd = open(path.data, O_RDONLY | O_CLOEXEC);
    n = tfd >= 0 ? read(tfd, type, sizeof(type) - 1) : -1;
    if (tfd >= 0)
        close(tfd);
    tams_buf_addstr(ct, n > 0 ? (type[n] = '\0', type) : "application/octet-stream");
    tams_buf_release(&path);
    return rc;
}

/* Media a player plays; everything else could be a document (HTML, SVG, XML, script, text). */
bool tams_local_type_inline(const char *ct)
{
    static const char *const app_inline[] = {"octet-stream",      "mp4",       "mxf", "ogg",
                                             "vnd.apple.mpegurl", "x-mpegurl", NULL};
    char type[128];
    size_t n = 0;
    const char *sub;

    while (*ct == ' ' || *ct == '\t')
        ct++;
    while (ct[n] && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t' && n < sizeof(type) - 1) {
        type[n] = (char)((ct[n] >= 'A' && ct[n] <= 'Z') ? ct[n] + 32 : ct[n]);
        n++;
    }
    type[n] = '\0';
    if (ct[n] && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t')
        return false; /* too long to be one we know */
    if (!(sub = strchr(type, '/')) || !sub[1] || strchr(sub + 1, '/') || strstr(sub, "xml") ||
        strstr(sub, "svg"))
        return false;
    sub++;
    if (strncmp(type, "video/", 6) == 0 || strncmp(type, "audio/", 6) == 0 ||
        strncmp(type, "image/", 6) == 0)
        return true;
    if (strncmp(type, "application/", 12) != 0)
        return false;
    for (size_t i = 0; app_inline[i]; i++)
        if (strcmp(sub, app_inline[i]) == 0)
            return true;
    return false;
}
