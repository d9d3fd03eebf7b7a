/* SPDX-License-Identifier: Apache-2.0 */
/* scopes.h - what a credential may do: read (GET/HEAD), write (PUT/POST), delete (DELETE),
 * admin (everything). A set of scopes is a bit mask. */
#ifndef TAMS_AUTH_SCOPES_H
#define TAMS_AUTH_SCOPES_H

#include "core/common.h"
#include "core/buf.h"

enum tams_scope {
    TAMS_SCOPE_READ = 1 << 0,
    TAMS_SCOPE_WRITE = 1 << 1,
    TAMS_SCOPE_DELETE = 1 << 2,
    TAMS_SCOPE_ADMIN = 1 << 3,
};
#define TAMS_SCOPE_ALL (TAMS_SCOPE_READ | TAMS_SCOPE_WRITE | TAMS_SCOPE_DELETE | TAMS_SCOPE_ADMIN)

/* The bit for one scope name (exactly n bytes), or 0 for an unknown name. */
unsigned tams_scope_bit(const char *s, size_t n);
/* Parses a list separated by commas and/or blanks ("read,write", "read write"). Unknown names
 * are an error unless lenient (JWT claims carry other scopes too). An empty list is an error
 * unless lenient. Returns 0 or TAMS_ERR_BADREQUEST. */
int tams_scopes_parse(const char *s, size_t n, bool lenient, unsigned *out);
/* Appends "read,write" (table order) to b; "" for none. */
void tams_scopes_format(unsigned scopes, struct tams_buf *b);
/* True when the scopes allow an HTTP method, by name ("GET"): read for GET and HEAD, write
 * for PUT and POST, delete for DELETE, admin for any other; admin allows everything.
 * *needed (may be NULL) gets the scope the method needs. */
bool tams_scopes_allow(unsigned scopes, const char *method, unsigned *needed);

#endif
