/* SPDX-License-Identifier: Apache-2.0 */
/* client.h - who a request comes from, as throttling and logs see it: the peer's address, or,
 * when the peer is a trusted proxy, the rightmost X-Forwarded-For hop that is not one. What a
 * client writes to the left of its proxy's entry is never believed. Addresses are kept as 16
 * bytes, IPv4 as IPv4-mapped IPv6, so "192.0.2.1" and "::ffff:192.0.2.1" are one client. */
#ifndef TAMS_AUTH_CLIENT_H
#define TAMS_AUTH_CLIENT_H

#include "core/common.h"
#include "core/buf.h"

#include <sys/socket.h>

#define TAMS_PROXIES_MAX 64 /* entries of trusted_proxies */

struct tams_client {
    unsigned char addr[16];
    bool known; /* false: no peer address (then nothing is throttled) */
};

/* An address range of trusted_proxies. */
struct tams_net {
    unsigned char addr[16];
    int bits;
};

struct tams_proxies {
    struct tams_net nets[TAMS_PROXIES_MAX];
    size_t n;
};

/* Parses trusted_proxies into p (zeroed first): addresses and CIDR ranges ("10.0.0.0/8",
 * "2001:db8::/32", "127.0.0.1") separated by commas and blanks; "" is none. Returns 0, or
 * TAMS_ERR_BADREQUEST with why naming the entry. */
int tams_proxies_parse(struct tams_proxies *p, const char *list, struct tams_buf *why);

/* The client of a request from peer (NULL: unknown) with the X-Forwarded-For lines joined by
 * "," (NULL: none). Each hop is an address, "[v6]", "[v6]:port" or "v4:port"; a hop that is
 * none stops the walk at the proxy that passed it on. At most 32 hops are walked. */
void tams_client_of(const struct tams_proxies *p, const struct sockaddr *peer, const char *xff,
                    struct tams_client *out);

/* The address as text ("192.0.2.1", "2001:db8::1"), or "-" when unknown. */
void tams_client_text(const struct tams_client *c, char *out, size_t cap);

#endif
