/* SPDX-License-Identifier: Apache-2.0 */
/* ssrf.c - address classification for webhook targets, and resolution that checks it. */
#include "core/common.h"
#include "events/ssrf.h"

#include <arpa/inet.h>
#include <netdb.h>

static bool v4_blocked(uint32_t a) /* host byte order */
{
    unsigned o1 = a >> 24, o2 = (a >> 16) & 0xff;

    return o1 == 0 ||                                          /* 0/8 "this network" */
           o1 == 10 ||                                         /* 10/8 */
           o1 == 127 ||                                        /* 127/8 loopback */
           (o1 == 100 && (o2 & 0xc0) == 64) ||                 /* 100.64/10 shared address space */
           (o1 == 169 && o2 == 254) ||                         /* 169.254/16 link-local */
           (o1 == 172 && (o2 & 0xf0) == 16) ||                 /* 172.16/12 */
           (o1 == 192 && o2 == 168) ||                         /* 192.168/16 */
           (o1 == 192 && o2 == 0 && ((a >> 8) & 0xff) == 0) || /* 192.0.0/24 IETF protocol */
           o1 >= 224; /* 224/4 multicast, 240/4 reserved, broadcast */
}

static bool v6_blocked(const unsigned char b[16])
{
    static const unsigned char zero12[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};

    if (memcmp(b, zero12, 12) == 0 || memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
        /* ::, ::1 and IPv4 inside IPv6: judge the IPv4 address (:: and ::1 fall in 0/8). */
        uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        if (memcmp(b, zero12, 12) == 0 && v4 == 1)
            return true; /* ::1 */
        return v4_blocked(v4);
    }
    return (b[0] & 0xfe) == 0xfc ||                   /* fc00::/7 unique local */
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
           (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || /* fec0::/10 site-local (deprecated) */
           b[0] == 0xff;                              /* ff00::/8 multicast */
}

bool tams_ssrf_blocked(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return v4_blocked(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return v6_blocked(in6->sin6_addr.s6_addr);
    }
    return true;
}

bool tams_ssrf_blocked_text(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, addr, &a4) == 1)
        return v4_blocked(ntohl(a4.s_addr));
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return v6_blocked(a6.s6_addr);
    return true;
}

int tams_ssrf_resolve(const char *host, bool allow_private, char addr[TAMS_SSRF_ADDRMAX],
                      struct tams_buf *why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL;
    char name[256];
    size_t len = strlen(host);
    int rc = 0, gai;

    /* An IPv6 literal as a URL writes it: [::1]. */
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(name)) {
        tams_buf_addf(why, "webhook host name is empty or too long");
        return TAMS_ERR_VALIDATION;
    }
    memcpy(name, host, len);
    name[len] = '\0';
    gai = getaddrinfo(name, NULL, &hints, &res);
    if (gai != 0 || !res) {
        tams_buf_addf(why, "webhook host '%s' does not resolve: %s", name,
                      gai ? gai_strerror(gai) : "no address");
        if (res)
            freeaddrinfo(res);
        return TAMS_ERR_VALIDATION;
    }
    addr[0] = '\0';
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[TAMS_SSRF_ADDRMAX];
        const void *raw =
            ai->ai_family == AF_INET6
                ? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
                : (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;

        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (!inet_ntop(ai->ai_family, raw, text, sizeof(text)))
            continue;
        if (!allow_private && tams_ssrf_blocked(ai->ai_addr)) {
            tams_buf_addf(why,
                          "webhook host '%s' resolves to %s, a loopback, private, link-local or "
                          "otherwise internal address (see webhooks_allow_private)",
                          name, text);
            rc = TAMS_ERR_VALIDATION;
            break;
        }
        if (!addr[0])
            snprintf(addr, TAMS_SSRF_ADDRMAX, "%s", text);
    }
    freeaddrinfo(res);
    if (rc == 0 && !addr[0]) {
        tams_buf_addf(why, "webhook host '%s' has no IPv4 or IPv6 address", name);
        rc = TAMS_ERR_VALIDATION;
    }
    return rc;
}
