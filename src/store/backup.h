/* SPDX-License-Identifier: Apache-2.0 */
/* backup.h - `tamsd backup DEST [--objects] [OPTION]...`: a consistent copy of a data directory
 * taken while tamsd runs and writes.
 *
 * DEST becomes a data directory another tamsd can start on (`tamsd --data-dir DEST`):
 *   tams.db       the SQLite store, copied with SQLite's online backup API in one read
 *                 transaction (WAL: writers go on meanwhile), so the copy is the store as it was
 *                 at one instant; checked with PRAGMA integrity_check before it is kept
 *   other files   the data directory's own top-level files (media signing secret, credentials,
 *                 webhook secret key), copied as they are
 *   objects/      with --objects only: the built-in object store's files (not its tmp/). They
 *                 are copied after the store, and an object's bytes never change once uploaded,
 *                 so every object a segment in the copied store uses is there, unless garbage
 *                 collection removed it in between (its segments were deleted before the copy).
 * With PostgreSQL the metadata is not copied (use pg_dump; docs/operations.md): the files are,
 * and a note says so. DEST must not exist or be an empty directory. [OPTION]s are the server's,
 * resolved as the server resolves them, to find the data directory and the store.
 * Exit status: 0 done, 1 failed (DEST is left incomplete: remove it), 2 usage.
 */
#ifndef TAMS_STORE_BACKUP_H
#define TAMS_STORE_BACKUP_H

#include "core/common.h"
#include "core/buf.h"

/* True when argv[1] is "backup". */
bool tams_backup_cli_wants(int argc, char **argv);
/* Runs it; returns the process exit status. */
int tams_backup_cli(int argc, char **argv, char **envp, FILE *out, FILE *err);

/* The SQLite store at src copied to dest (which must not exist) in one read transaction and
 * checked; 0, or an error with the reason in why. */
int tams_backup_sqlite(const char *src, const char *dest, struct tams_buf *why);

#endif
