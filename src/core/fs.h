/* SPDX-License-Identifier: Apache-2.0 */
/* fs.h - small file-system helpers. */
#ifndef TAMS_CORE_FS_H
#define TAMS_CORE_FS_H

#include "core/common.h"

/* mkdir -p: create path and its missing parents with mode. Returns 0 or TAMS_ERR_IO with errno
 * set by the mkdir that failed. */
int tams_mkdir_p(const char *path, unsigned mode);

#endif
