/* SPDX-License-Identifier: Apache-2.0 */
/* fs.h - small file-system helpers. */
#ifndef TAMS_CORE_FS_H
#define TAMS_CORE_FS_H

#include "core/common.h"

/* Modes of everything tamsd creates in its data directory, whatever the umask: only the
 * server's own user may read media, the database, keys and credentials. */
#define TAMS_FS_DIR_MODE 0700
#define TAMS_FS_FILE_MODE 0600

/* Sets the process umask to 077, so files that libraries create (SQLite's database, WAL and
 * shared-memory files) get no more than TAMS_FS_FILE_MODE either. Call once at start, before
 * any thread. */
void tams_fs_private_umask(void);

/* mkdir -p: create path and its missing parents with mode. Returns 0 or TAMS_ERR_IO with errno
 * set by the mkdir that failed. */
int tams_mkdir_p(const char *path, unsigned mode);

#endif
