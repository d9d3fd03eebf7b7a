/* SPDX-License-Identifier: Apache-2.0 */
/* link.h - the rel="next" target of an HTTP Link header (RFC 8288), for following TAMS paging.
 *
 * Pure. Accepts several comma-separated link values, parameters in any order, rel quoted or
 * not and holding several relation types ("next last").
 */
#ifndef TAMS_CLIENT_LINK_H
#define TAMS_CLIENT_LINK_H

#include "core/common.h"

/* Finds the rel="next" URI in the Link header value h (n bytes). Returns 1 and its bounds in
 * *uri / *urilen (pointing into h), 0 when there is none, -1 when h is malformed. */
int tams_link_next(const char *h, size_t n, const char **uri, size_t *urilen);

#endif
