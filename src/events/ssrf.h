/* SPDX-License-Identifier: Apache-2.0 */
/* ssrf.h - which network addresses a webhook may be delivered to (notes §8.1, SSRF).
 *
 * Refused: loopback (127/8, ::1), "this network" (0/8, ::), private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), shared address space (100.64/10), link-local (169.254/16, fe80::/10),
 * multicast (224/4, ff00::/8), reserved and broadcast (240/4), and IPv4 reached through IPv6
 * (::ffff:0:0/96 mapped, ::/96 compatible, 64:ff9b::/96 NAT64) when the IPv4 address is.
 * Pure functions, thread-safe.
 */
#ifndef TAMS_EVENTS_SSRF_H
#define TAMS_EVENTS_SSRF_H

#include "core/common.h"
#include "core/buf.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define TAMS_SSRF_ADDRMAX 64 /* numeric address text, IPv6 included */

/* True when the address may not be a delivery target. Unknown families are refused. */
bool tams_ssrf_blocked(const struct sockaddr *sa);
/* The same for numeric address text ("10.0.0.1", "::1"); text that is no address: true. */
bool tams_ssrf_blocked_text(const char *addr);

/* Resolve host (a name, or an address literal, IPv6 with or without brackets) with
 * getaddrinfo. Fails with TAMS_ERR_VALIDATION (summary in why) when it does not resolve or,
 * unless allow_private, when any of its addresses is blocked. On success `addr` gets the
 * first address as numeric text, to pin the connection to it (CURLOPT_RESOLVE). Blocks for
 * as long as DNS takes. */
int tams_ssrf_resolve(const char *host, bool allow_private, char addr[TAMS_SSRF_ADDRMAX],
                      struct tams_buf *why);

#endif
