/* SPDX-License-Identifier: Apache-2.0 */
/* copy.c - an object's bytes from one backend to another, through a temporary file. */
#include "core/common.h"
#include "media/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *name_of(const struct tams_media_backend *b)
{
    return b->label ? b->label : b->id;
}

int tams_media_copy(const struct tams_media_backend *src, const char *src_key,
                    const struct tams_media_backend *dst, const char *dst_key, const char *tmp_dir,
                    struct tams_buf *why)
{
    struct tams_buf type = TAMS_BUF_INIT(1024);
    struct stat st;
    int fd, rc;

    if (!src->ops->fetch || !dst->ops->store) {
        tams_buf_addf(why, "storage backend '%s' cannot take part in copies",
                      name_of(src->ops->fetch ? dst : src));
        return TAMS_ERR_IO;
    }
    fd = open(tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        tams_buf_addf(why, "cannot make a temporary file in '%s': %s", tmp_dir, strerror(errno));
        return errno == ENOSPC || errno == EDQUOT ? TAMS_ERR_NOSPACE : TAMS_ERR_IO;
    }
    rc = src->ops->fetch(src, src_key, fd, &type);
    if (rc) {
        tams_buf_addf(why, "cannot read the object from storage backend '%s' (%s)", name_of(src),
                      tams_strerror(rc));
    } else if (fstat(fd, &st) != 0) {
        rc = TAMS_ERR_IO;
        tams_buf_addf(why, "cannot measure the temporary copy: %s", strerror(errno));
    } else if ((rc = dst->ops->store(dst, dst_key, fd, (uint64_t)st.st_size, type.data))) {
        tams_buf_addf(why, "cannot write the copy to storage backend '%s' (%s)", name_of(dst),
                      tams_strerror(rc));
    }
    close(fd);
    tams_buf_release(&type);
    return rc;
}
