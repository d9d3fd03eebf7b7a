/* SPDX-License-Identifier: Apache-2.0 */
/* head.h - checks on a request head's framing that libmicrohttpd 0.9.75 leaves to the
 * application. Pure: plain values in, no request, no socket.
 *
 * libmicrohttpd already answers 400 (with a plain HTML body, before tamsd sees the request) for a
 * malformed request line or header line and for a Content-Length that is not a decimal number,
 * 413 for one past 2^64, and 431/414 for a head larger than its connection memory. It does not
 * look at the rest, and these come here (RFC 9112 §3.2, §6.1, §6.3):
 *
 *   - a field name with whitespace before its colon ("Host : x"), which some proxies read as
 *     the field and libmicrohttpd does not;
 *   - HTTP/1.1 without Host, with more than one Host, or with a Host that is no host[:port];
 *     HTTP/1.0 with more than one Host;
 *   - Content-Length given more than once with different values, or a second one that is not a
 *     decimal number (libmicrohttpd reads the first only; a proxy in front might read the other:
 *     request smuggling);
 *   - Transfer-Encoding together with Content-Length, on HTTP/1.0, more than once, or other than
 *     exactly "chunked" (libmicrohttpd decodes only that, and would otherwise read the body up to
 *     the end of the connection).
 * Any of these makes the body's length uncertain, so the server answers 400 and closes.
 */
#ifndef TAMS_HTTP_HEAD_H
#define TAMS_HTTP_HEAD_H

#include "core/common.h"
#include "core/buf.h"

struct tams_head_field {
    const char *name, *value; /* as received; names compared without regard to case */
};

/* version is the request's protocol ("HTTP/1.1", "HTTP/1.0"). fields are the head's header
 * fields, in order (only Host, Content-Length, Transfer-Encoding and names with whitespace
 * matter; others are ignored).
 * Returns 0, or TAMS_ERR_BADREQUEST with the summary for the 400 appended to why. */
int tams_head_check(const char *version, const struct tams_head_field *fields, size_t n,
                    struct tams_buf *why);

#endif
