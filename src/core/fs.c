/* SPDX-License-Identifier: Apache-2.0 */
/* fs.c - file-system helpers. */
#include "core/common.h"
#include "core/fs.h"

#include <errno.h>
#include <sys/stat.h>

int tams_mkdir_p(const char *path, unsigned mode)
{
    char *p = tams_strdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                int saved = errno;
                tams_free(p);
                errno = saved;
                return TAMS_ERR_IO;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    tams_free(p);
    return rc;
}

void tams_fs_private_umask(void)
{
    umask(077);
}
