/* SPDX-License-Identifier: Apache-2.0 */
/* cursor.h - opaque keyset page cursors shared by the store back ends.
 *
 * A cursor is the base64url (no padding) encoding of "v1|<kind>|<key>": a version, a short
 * kind that names the listing ("flows", "sources", ...) so a cursor of one listing is refused
 * by another, and the last key returned (an id, a timestamp, ...). Clients treat it as opaque;
 * the store validates it strictly, so anything that does not decode to exactly that shape is
 * TAMS_ERR_BADPAGE (a 400), never a crash or a silent first page.
 * Pure: no allocation besides the caller's buffers, thread-safe.
 */
#ifndef TAMS_STORE_CURSOR_H
#define TAMS_STORE_CURSOR_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_CURSOR_KEYMAX 256  /* longest key a cursor may carry */
#define TAMS_CURSOR_TEXTMAX 512 /* longer page tokens are refused without decoding */

/* Append the cursor of (kind, key) to out. key: 1..TAMS_CURSOR_KEYMAX printable ASCII bytes.
 * Returns 0, TAMS_ERR_TOOBIG (out's cap) or TAMS_ERR_INTERNAL (a key that breaks the rules). */
int tams_cursor_encode(struct tams_buf *out, const char *kind, const char *key);

/* Decode text (NUL-terminated) made by tams_cursor_encode with the same kind and append its
 * key to key_out. Returns 0 or TAMS_ERR_BADPAGE; key_out is unchanged on error. */
int tams_cursor_decode(const char *text, const char *kind, struct tams_buf *key_out);

#endif
