/* SPDX-License-Identifier: Apache-2.0 */
/* random.c - randomness from the kernel; UUID syntax. */
#include "core/common.h"
#include "core/hex.h"
#include "core/random.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

void tams_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            TAMS_BUG("getrandom failed");
        }
        p += got;
        n -= (size_t)got;
    }
}

void tams_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    while (nbytes) {
        size_t k = nbytes < sizeof(raw) ? nbytes : sizeof(raw);
        tams_random_bytes(raw, k);
        tams_hex_encode(raw, k, out);
        out += 2 * k;
        nbytes -= k;
    }
    *out = '\0';
}

static void uuid_format(unsigned char r[16], char out[TAMS_UUID_STRLEN + 1])
{
    size_t o = 0;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = tams_hex_lower[r[i] >> 4];
        out[o++] = tams_hex_lower[r[i] & 15];
    }
    out[o] = '\0';
}

void tams_uuid_v4(char out[TAMS_UUID_STRLEN + 1])
{
    unsigned char r[16];
    tams_random_bytes(r, sizeof(r));
    uuid_format(r, out);
}

void tams_uuid_v4_ordered(char out[TAMS_UUID_STRLEN + 1])
{
    unsigned char r[16];
    struct timespec ts;
    uint64_t ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    tams_random_bytes(r, sizeof(r));
    for (int i = 0; i < 6; i++)
        r[i] = (unsigned char)(ms >> (40 - 8 * i));
    uuid_format(r, out);
}

bool tams_uuid_valid(const char *s, size_t n)
{
    if (n != TAMS_UUID_STRLEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!tams_hex_valid(&s[i], 1)) {
            return false;
        }
    }
    if (s[14] < '1' || s[14] > '5')
        return false;
    return s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b';
}

uint64_t tams_fast_random(void)
{
    /* splitmix64 over a per-thread state: one syscall per thread instead of one per call. */
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    uint64_t z;
    if (!seeded) {
        tams_random_bytes(&state, sizeof(state));
        seeded = true;
    }
    z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
