/* SPDX-License-Identifier: Apache-2.0 */
/* ids.h - name-based UUIDs: the same name gives the same ID, so an ingest run again on the
 * same file finds the source and flows it made before. */
#ifndef TAMS_CLIENT_IDS_H
#define TAMS_CLIENT_IDS_H

#include "core/common.h"

#define TAMS_UUID_STRLEN 37 /* 36 characters and a NUL */

/* The UUID (version 5 layout: the first 16 bytes of SHA-256 of name, version and variant bits
 * set) of n bytes of name, written lower-case into out. */
void tams_ids_uuid(const void *name, size_t n, char out[TAMS_UUID_STRLEN]);

/* tams_ids_uuid of the string "<a>/<b>". */
void tams_ids_uuid2(const char *a, const char *b, char out[TAMS_UUID_STRLEN]);

#endif
