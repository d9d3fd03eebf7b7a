/* SPDX-License-Identifier: Apache-2.0 */
/* local.h - the built-in object store: objects are files under the data directory, served by
 * tamsd itself at /_objects/{key} through URLs signed with HMAC-SHA256 and an expiry.
 *
 * Layout under <data_dir>/objects: <key> holds the bytes, <key>.type the Content-Type;
 * uploads are written to tmp/ first, fsynced and renamed, so a half-written object is never
 * visible. The signing secret is generated at first start into <data_dir>/media.secret (0600).
 *
 * exists / exists_many: an upload this backend committed (and did not remove since) is known
 * from memory (a bounded table of recent keys); anything else is a stat, so an upload through
 * another instance sharing the data directory is found too. A file deleted behind tamsd's back
 * after an upload through this process may still count as there until its slot is reused.
 */
#ifndef TAMS_MEDIA_LOCAL_H
#define TAMS_MEDIA_LOCAL_H

#include "media/media.h"

#define TAMS_LOCAL_URL_PREFIX "/_objects/"

/* get_urls last expiry seconds, put_urls put_expiry. */
int tams_local_open(struct tams_media_backend **out, const char *data_dir, const char *id,
                    const char *label, int expiry, int put_expiry, struct tams_buf *why);

/* Checks a request for /_objects/{key}: the key is well-formed, sig matches the method class
 * ("GET" also for HEAD, "PUT") and expires is in the future. 0, TAMS_ERR_NOTFOUND (bad key)
 * or TAMS_ERR_FORBIDDEN (bad or expired signature). */
int tams_local_authorize(const struct tams_media_backend *b, const char *method, const char *key,
                         const char *expires, const char *sig, int64_t now);
/* Absolute path of the object's bytes / of its content type, into out. */
void tams_local_path(const struct tams_media_backend *b, const char *key, struct tams_buf *out);

/* Upload: open a temporary file, append, then commit (fsync, rename into place) or abort.
 * An object is uploaded once: begin answers TAMS_ERR_CONFLICT when its bytes are already there,
 * and commit does too when another upload of it committed first (the rename never replaces), so
 * bytes a segment may use never change. A failed write (full disk, quota, I/O error) is
 * TAMS_ERR_NOSPACE, reported to core/diskfull; a commit that works clears that state.
 * Commit claims the bytes first and puts the type beside them after, so for an instant (or
 * after a crash between the two renames) an object may have no .type: it is then served as
 * application/octet-stream. Files are TAMS_FS_FILE_MODE, folders TAMS_FS_DIR_MODE. */
struct tams_local_upload;
int tams_local_upload_begin(const struct tams_media_backend *b, const char *key,
                            struct tams_local_upload **out);
int tams_local_upload_write(struct tams_local_upload *u, const void *data, size_t n);
int tams_local_upload_commit(struct tams_local_upload *u, const char *content_type);
void tams_local_upload_abort(struct tams_local_upload *u);

/* Whether an object of this stored Content-Type may be shown inline by a browser that opens its
 * URL: media a player plays and nothing a browser would render as a document. True for
 * video/ *, audio/ *, image/ * but SVG and +xml, and application/octet-stream, mp4, mxf, ogg,
 * vnd.apple.mpegurl, x-mpegurl (case-insensitive, parameters ignored); false for anything else
 * (HTML, XML, SVG, JavaScript, JSON, text, unknown or malformed types), which are served as
 * attachments. */
bool tams_local_type_inline(const char *content_type);

/* Open an object for reading: fd, size and stored content type (into ct). */
int tams_local_open_object(const struct tams_media_backend *b, const char *key, int *fd,
                           uint64_t *size, struct tams_buf *ct);

#endif
