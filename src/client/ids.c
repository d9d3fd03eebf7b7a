/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/ids.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/hex.h"

void tams_ids_uuid(const void *name, size_t n, char out[TAMS_UUID_STRLEN])
{
    unsigned char h[TAMS_SHA256_LEN];
    char hex[33];
    tams_sha256(name, n, h);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x50); /* version 5 */
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    tams_hex_encode(h, 16, hex);
    snprintf(out, TAMS_UUID_STRLEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
}

void tams_ids_uuid2(const char *a, const char *b, char out[TAMS_UUID_STRLEN])
{
    struct tams_buf name = TAMS_BUF_INIT(1 << 16);
    (void)tams_buf_addf(&name, "%s/%s", a, b);
    tams_ids_uuid(name.data, name.len, out);
    tams_buf_release(&name);
}
