/* SPDX-License-Identifier: Apache-2.0 */
/* client.c - the client's address: the peer, or the hop behind trusted proxies. */
#include "core/common.h"
#include "auth/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#define XFF_HOPS_MAX 32

static bool addr_key(const struct sockaddr *sa, unsigned char out[16])
{
    memset(out, 0, 16);
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

/* Numeric address text ("192.0.2.1", "2001:db8::1") into out, IPv4 as IPv4-mapped. */
static bool parse_addr(const char *s, unsigned char out[16])
{
    struct in_addr v4;
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, &v4) == 1) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, s, out) == 1;
}

static bool net_has(const struct tams_net *n, const unsigned char addr[16])
{
    int full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, addr, (size_t)full) != 0)
        return false;
    return !rest || ((n->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

static bool trusted(const struct tams_proxies *p, const unsigned char addr[16])
{
    for (size_t i = 0; i < p->n; i++)
        if (net_has(&p->nets[i], addr))
            return true;
    return false;
}

/* One X-Forwarded-For entry: an address, "[v6]" or "[v6]:port", or "v4:port". A bare IPv6
 * address has colons too, so a port is cut only from what is no address as it stands and has
 * one colon after dotted digits. */
static bool parse_hop(const char *s, size_t n, unsigned char out[16])
{
    char tmp[64], *colon;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(tmp))
        return false;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        n = (size_t)(close - s - 1);
        s++;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (parse_addr(tmp, out))
        return true;
    colon = strchr(tmp, ':');
    if (!colon || strchr(colon + 1, ':') || !memchr(tmp, '.', (size_t)(colon - tmp)))
        return false;
    *colon = '\0'; /* v4:port */
    return parse_addr(tmp, out);
}

void tams_client_of(const struct tams_proxies *p, const struct sockaddr *peer, const char *xff,
                    struct tams_client *c)
{
    const char *end;
    unsigned char hop[16];

    c->known = addr_key(peer, c->addr);
    if (!c->known || !xff || !p->n || !trusted(p, c->addr))
        return;
    end = xff + strlen(xff);
    for (int hops = 0; end > xff && hops < XFF_HOPS_MAX; hops++) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        if (!parse_hop(start, (size_t)(end - start), hop))
            return;
        memcpy(c->addr, hop, 16);
        if (!trusted(p, hop))
            return;
        end = start > xff ? start - 1 : start;
    }
}

void tams_client_text(const struct tams_client *c, char *out, size_t cap)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    snprintf(out, cap, "-");
    if (c->known && memcmp(c->addr, mapped, 12) == 0)
        inet_ntop(AF_INET, c->addr + 12, out, (socklen_t)cap);
    else if (c->known)
        inet_ntop(AF_INET6, c->addr, out, (socklen_t)cap);
}

int tams_proxies_parse(struct tams_proxies *p, const char *list, struct tams_buf *why)
{
    const char *s = list;
    memset(p, 0, sizeof(*p));
    while (*s) {
        char item[80], *slash;
        size_t n = strcspn(s, ", \t");
        long bits;
        bool v4;
        if (n == 0) {
            s++;
            continue;
        }
        if (n >= sizeof(item) || p->n == TAMS_PROXIES_MAX)
            goto bad;
        memcpy(item, s, n);
        item[n] = '\0';
        slash = strchr(item, '/');
        if (slash)
            *slash = '\0';
        v4 = strchr(item, ':') == NULL;
        if (!parse_addr(item, p->nets[p->n].addr))
            goto bad;
        bits = v4 ? 32 : 128;
        if (slash) {
            char *end;
            errno = 0;
            bits = strtol(slash + 1, &end, 10);
            if (errno || end == slash + 1 || *end || bits < 0 || bits > (v4 ? 32 : 128))
                goto bad;
        }
        p->nets[p->n++].bits = (int)bits + (v4 ? 96 : 0);
        s += n;
        continue;
    bad:
        tams_buf_addf(why, "trusted_proxies: '%.*s' is not an IPv4 or IPv6 address or range",
                      (int)(n < 64 ? n : 64), s);
        return TAMS_ERR_BADREQUEST;
    }
    return 0;
}
