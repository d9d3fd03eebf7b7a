/* SPDX-License-Identifier: Apache-2.0 */
/* copy.h - copy an object from one storage backend to another (TAMS 8.2 object instances).
 *
 * The bytes pass through an unnamed temporary file in tmp_dir (O_TMPFILE: nothing is left
 * behind whatever happens), so a copy between two remote stores needs no memory of its size
 * and every backend only implements fetch and store (media.h). Blocks for as long as the
 * transfer takes.
 */
#ifndef TAMS_MEDIA_COPY_H
#define TAMS_MEDIA_COPY_H

#include "core/common.h"
#include "core/buf.h"
#include "media/media.h"

/* 0 when dst holds dst_key with src_key's bytes and content type. Otherwise an error with one
 * line in why: TAMS_ERR_NOTFOUND (src has no such object), TAMS_ERR_CONFLICT (dst_key is
 * taken), TAMS_ERR_NOSPACE, TAMS_ERR_IO (a backend failed, or the temporary file). */
int tams_media_copy(const struct tams_media_backend *src, const char *src_key,
                    const struct tams_media_backend *dst, const char *dst_key, const char *tmp_dir,
                    struct tams_buf *why) TAMS_WUR;

#endif
