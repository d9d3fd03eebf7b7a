/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup.c - tams_backup_sqlite (store/backup.h) against a real SQLite store in WAL mode
 * with a writer connection open: the copy holds every committed row (also those still only in
 * the WAL), none of a transaction still open, and passes integrity_check; a missing store is an
 * error naming it. */
#include "core/common.h"
#include "core/buf.h"
#include "store/backup.h"
#include "check.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, err ? err : "");
    CHECK_INT_EQ(rc, SQLITE_OK);
    sqlite3_free(err);
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    CHECK_INT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_copy_is_one_committed_instant(void)
{
    char dir[] = "/tmp/tams-test-backup-XXXXXX", src[256], dest[256];
    struct tams_buf why = TAMS_BUF_INIT(1024);
    sqlite3 *w, *other, *copy;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(src, sizeof(src), "%s/tams.db", dir);
    snprintf(dest, sizeof(dest), "%s/copy.db", dir);
    w = open_db(src);
    exec(w, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
            " INSERT INTO t(v) SELECT hex(randomblob(40)) FROM n;");
    /* Committed rows that live only in the WAL, then a transaction left open on another
     * connection: its rows must not be in the copy. */
    exec(w, "INSERT INTO t(v) VALUES ('in the wal')");
    other = open_db(src);
    exec(other, "BEGIN IMMEDIATE; INSERT INTO t(v) VALUES ('uncommitted')");

    CHECK_INT_EQ(tams_backup_sqlite(src, dest, &why), 0);
    CHECK_STR_EQ(why.data, "");
    copy = open_db(dest);
    CHECK_INT_EQ(scalar(copy, "SELECT count(*) FROM t"), 5001);
    CHECK_INT_EQ(scalar(copy, "SELECT count(*) FROM t WHERE v = 'in the wal'"), 1);
    CHECK_INT_EQ(scalar(copy, "SELECT count(*) FROM t WHERE v = 'uncommitted'"), 0);
    CHECK_INT_EQ(scalar(copy, "SELECT count(*) FROM pragma_integrity_check WHERE "
                              "integrity_check = 'ok'"),
                 1);
    sqlite3_close(copy);
    exec(other, "ROLLBACK");
    sqlite3_close(other);
    sqlite3_close(w);
    unlink(dest);
    unlink(src);
    snprintf(src, sizeof(src), "%s/tams.db-wal", dir);
    unlink(src);
    snprintf(src, sizeof(src), "%s/tams.db-shm", dir);
    unlink(src);
    rmdir(dir);
    tams_buf_release(&why);
}

static void test_missing_store_is_an_error(void)
{
    struct tams_buf why = TAMS_BUF_INIT(1024);

    CHECK(tams_backup_sqlite("/nonexistent/tams.db", "/tmp/tams-test-backup-never.db", &why) != 0);
    CHECK(strstr(why.data, "cannot open the store '/nonexistent/tams.db'") != NULL);
    CHECK(access("/tmp/tams-test-backup-never.db", F_OK) != 0);
    tams_buf_release(&why);
}

int main(void)
{
    RUN(test_copy_is_one_committed_instant);
    RUN(test_missing_store_is_an_error);
    return check_report();
}
