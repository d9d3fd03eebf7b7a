/* SPDX-License-Identifier: Apache-2.0 */
/* backup.c - `tamsd backup`: the SQLite store by the online backup API, then the files. */
#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/fs.h"
#include "store/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2

struct totals {
    uint64_t files, bytes;
};

bool tams_backup_cli_wants(int argc, char **argv)
{
    return argc > 1 && strcmp(argv[1], "backup") == 0;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: tamsd backup DEST [--objects] [OPTION]...\n"
               "Copy the data directory into DEST (new or empty) while tamsd runs: the SQLite\n"
               "store as of one instant (online backup, integrity-checked), the data\n"
               "directory's own files and, with --objects, the built-in object store's files.\n"
               "Start a server on the copy with 'tamsd --data-dir DEST'. With PostgreSQL the\n"
               "metadata is not copied: use pg_dump (see docs/operations.md).\n"
               "OPTIONs are the server's (--data-dir DIR, --database URL, --config FILE, ...).\n");
}

int tams_backup_sqlite(const char *src, const char *dest, struct tams_buf *why)
{
    sqlite3 *from = NULL, *to = NULL;
    sqlite3_backup *bk;
    sqlite3_stmt *check = NULL;
    int rc, tries = 0;
    bool ok = false;

    rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        tams_buf_addf(why, "cannot open the store '%s': %s", src, sqlite3_errstr(rc));
        goto out;
    }
    rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        tams_buf_addf(why, "cannot create '%s': %s", dest, sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_busy_timeout(from, 5000);
    bk = sqlite3_backup_init(to, "main", from, "main");
    if (!bk) {
        tams_buf_addf(why, "cannot start the backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    /* All pages in one step: one read transaction, so the copy is one instant of the store.
     * Copying in slices would start over whenever the running server writes. */
    do {
        rc = sqlite3_backup_step(bk, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(100);
    } while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++tries < 100);
    sqlite3_backup_finish(bk);
    if (rc != SQLITE_DONE) {
        tams_buf_addf(why, "backup of '%s' failed: %s", src, sqlite3_errstr(rc));
        goto out;
    }
    rc = sqlite3_prepare_v2(to, "PRAGMA integrity_check", -1, &check, NULL);
    if (rc == SQLITE_OK && sqlite3_step(check) == SQLITE_ROW &&
        strcmp((const char *)sqlite3_column_text(check, 0), "ok") == 0)
        ok = true;
    else
        tams_buf_addf(why, "the copy fails PRAGMA integrity_check: %s",
                      rc == SQLITE_OK ? (const char *)sqlite3_column_text(check, 0)
                                      : sqlite3_errmsg(to));
out:
    sqlite3_finalize(check);
    sqlite3_close_v2(from);
    if (sqlite3_close_v2(to) != SQLITE_OK && ok) {
        tams_buf_addf(why, "cannot close '%s'", dest);
        ok = false;
    }
    return ok ? 0 : TAMS_ERR_IO;
}

/* One file copied with its mode and synced; a source that vanished (collected meanwhile) is
 * skipped, not an error. */
static int copy_file(const char *src, const char *dest, mode_t mode, struct totals *t,
                     struct tams_buf *why)
{
    char buf[1 << 16];
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
    ssize_t n = 0;

    if (in < 0)
        return errno == ENOENT ? 0
                               : (tams_buf_addf(why, "cannot read '%s': %s", src, strerror(errno)),
                                  TAMS_ERR_IO);
    out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        tams_buf_addf(why, "cannot create '%s': %s", dest, strerror(errno));
        close(in);
        return TAMS_ERR_IO;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                n = -1;
                break;
            }
            off += w;
        }
        if (n < 0)
            break;
        t->bytes += (uint64_t)n;
    }
    if (n < 0 || fsync(out) != 0) {
        tams_buf_addf(why, "cannot copy '%s' to '%s': %s", src, dest, strerror(errno));
        rc = TAMS_ERR_IO;
    }
    close(in);
    if (close(out) != 0 && !rc) {
        tams_buf_addf(why, "cannot write '%s': %s", dest, strerror(errno));
        rc = TAMS_ERR_IO;
    }
    t->files++;
    return rc;
}

static bool is_store_file(const char *name)
{
    return strcmp(name, "tams.db") == 0 || strcmp(name, "tams.db-wal") == 0 ||
           strcmp(name, "tams.db-shm") == 0 || strcmp(name, "tams.db-journal") == 0;
}

/* The regular files of src into dest; with deep, its folders too (all but skip_dir). */
static int copy_tree(const char *src, const char *dest, bool deep, const char *skip_dir,
                     struct totals *t, struct tams_buf *why)
{
    DIR *d = opendir(src);
    struct dirent *e;
    int rc = 0;

    if (!d) {
        if (errno == ENOENT)
            return 0;
        tams_buf_addf(why, "cannot read '%s': %s", src, strerror(errno));
        return TAMS_ERR_IO;
    }
    while (!rc && (e = readdir(d))) {
        struct tams_buf from = TAMS_BUF_INIT(8192), to = TAMS_BUF_INIT(8192);
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            (!deep && is_store_file(e->d_name)))
            continue;
        tams_buf_addf(&from, "%s/%s", src, e->d_name);
        tams_buf_addf(&to, "%s/%s", dest, e->d_name);
        if (lstat(from.data, &st) != 0) {
            if (errno != ENOENT) {
                tams_buf_addf(why, "cannot stat '%s': %s", from.data, strerror(errno));
                rc = TAMS_ERR_IO;
            }
        } else if (S_ISREG(st.st_mode)) {
            rc = copy_file(from.data, to.data, st.st_mode, t, why);
        } else if (S_ISDIR(st.st_mode) && deep && !(skip_dir && strcmp(e->d_name, skip_dir) == 0)) {
            if (mkdir(to.data, TAMS_FS_DIR_MODE) != 0 && errno != EEXIST) {
                tams_buf_addf(why, "cannot create '%s': %s", to.data, strerror(errno));
                rc = TAMS_ERR_IO;
            } else {
                rc = copy_tree(from.data, to.data, true, NULL, t, why);
            }
        }
        tams_buf_release(&from);
        tams_buf_release(&to);
    }
    closedir(d);
    return rc;
}

/* DEST made (mode 0700), or accepted when it is an empty directory. */
static int make_dest(const char *dest, struct tams_buf *why)
{
    DIR *d;
    struct dirent *e;
    bool empty = true;

    if (mkdir(dest, TAMS_FS_DIR_MODE) == 0)
        return 0;
    if (errno != EEXIST || !(d = opendir(dest))) {
        tams_buf_addf(why, "cannot create '%s': %s", dest, strerror(errno));
        return TAMS_ERR_IO;
    }
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty) {
        tams_buf_addf(why, "'%s' exists and is not empty", dest);
        return TAMS_ERR_CONFLICT;
    }
    return 0;
}

static int run(const struct tams_config *cfg, const char *dest, bool objects, FILE *out,
               struct tams_buf *why)
{
    struct tams_buf src = TAMS_BUF_INIT(8192), path = TAMS_BUF_INIT(8192);
    struct totals files = {0}, objs = {0};
    bool pg = strncmp(cfg->database, "postgres", 8) == 0;
    int rc = make_dest(dest, why);

    if (!rc && !pg) {
        if (strncmp(cfg->database, "sqlite:", 7) == 0)
            tams_buf_addstr(&src, cfg->database + 7);
        else
            tams_buf_addf(&src, "%s/tams.db", cfg->data_dir);
        tams_buf_addf(&path, "%s/tams.db", dest);
        rc = tams_backup_sqlite(src.data, path.data, why);
    }
    if (!rc)
        rc = copy_tree(cfg->data_dir, dest, false, NULL, &files, why);
    if (!rc && objects) {
        tams_buf_reset(&src);
        tams_buf_reset(&path);
        tams_buf_addf(&src, "%s/objects", cfg->data_dir);
        tams_buf_addf(&path, "%s/objects", dest);
        if (mkdir(path.data, TAMS_FS_DIR_MODE) != 0) {
            tams_buf_addf(why, "cannot create '%s': %s", path.data, strerror(errno));
            rc = TAMS_ERR_IO;
        } else {
            rc = copy_tree(src.data, path.data, true, "tmp", &objs, why);
        }
    }
    if (!rc) {
        fprintf(out, "tamsd: backed up '%s' to '%s': %s; %" PRIu64 " other files", cfg->data_dir,
                dest, pg ? "no store (PostgreSQL: use pg_dump)" : "SQLite store", files.files);
        if (objects)
            fprintf(out, "; %" PRIu64 " object files, %" PRIu64 " bytes", objs.files, objs.bytes);
        fprintf(out, "\n");
    }
    tams_buf_release(&src);
    tams_buf_release(&path);
    return rc;
}

int tams_backup_cli(int argc, char **argv, char **envp, FILE *out, FILE *err)
{
    struct tams_config cfg;
    struct tams_buf msg = TAMS_BUF_INIT(4096);
    enum tams_config_action action = TAMS_CONFIG_RUN;
    char **pass = tams_calloc((size_t)argc + 1, sizeof(char *));
    const char *dest = NULL;
    bool objects = false;
    int npass = 0, rc = 0;

    memset(&cfg, 0, sizeof(cfg));
    pass[npass++] = argv[0];
    for (int i = 2; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(out);
            tams_free(pass);
            return 0;
        } else if (strcmp(a, "--objects") == 0) {
            objects = true;
        } else if (strncmp(a, "--", 2) == 0) {
            /* A server setting: every one takes a value. */
            pass[npass++] = argv[i];
            if (!strchr(a, '=') && i + 1 < argc)
                pass[npass++] = argv[++i];
        } else if (!dest) {
            dest = a;
        } else {
            fprintf(err, "tamsd: unexpected argument '%s'\n", a);
            rc = EXIT_USAGE;
        }
    }
    if (!rc && !dest) {
        usage(err);
        rc = EXIT_USAGE;
    }
    if (!rc && tams_config_load(&cfg, npass, pass, envp, &action, &msg) != 0) {
        fprintf(err, "tamsd: %s\n", msg.data);
        rc = EXIT_USAGE;
    }
    if (!rc) {
        tams_buf_reset(&msg);
        if (run(&cfg, dest, objects, out, &msg) != 0) {
            fprintf(err, "tamsd: backup failed: %s\n", msg.data);
            rc = EXIT_FAILED;
        }
    }
    tams_config_release(&cfg);
    tams_buf_release(&msg);
    tams_free(pass);
    return rc;
}
