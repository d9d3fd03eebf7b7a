/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_jwt.c - libFuzzer target: JWT verification and the credentials-file parser.
 *
 * First byte selects the mode: 0 verifies the rest as a token; 1 takes the rest as
 * "header.payload" JSON-in-base64url, signs it with the verifier's secret, so the claim checks
 * are reached, and verifies it; 2 parses the rest as a credentials file. Whatever the input,
 * verification either fails cleanly or yields a non-empty NUL-terminated name. */
#include "core/common.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/base64.h"
#include "auth/creds.h"
#include "auth/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_jwt: violated: %s (line %d)\n", #cond, __LINE__);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char secret[] = "fuzzing-secret-0123456789abcdef-0123";

static struct tams_jwt_verifier *verifier(void)
{
    static struct tams_jwt_verifier *v;
    if (!v) {
        struct tams_buf why = TAMS_BUF_INIT(256);
        struct tams_jwt_params p = {.alg = "HS256",
                                    .secret = (const unsigned char *)secret,
                                    .secret_len = sizeof(secret) - 1,
                                    .issuer = "iss",
                                    .audience = "aud",
                                    .leeway = 5};
        REQUIRE(tams_jwt_verifier_new(&v, &p, &why) == 0);
        tams_buf_release(&why);
    }
    return v;
}

static void check(const char *tok, size_t n)
{
    struct tams_jwt_result res;
    const char *why = NULL;
    int rc = tams_jwt_verify(verifier(), tok, n, 1700000000, &res, &why);
    REQUIRE(rc == 0 || rc == TAMS_ERR_UNAUTHORIZED);
    REQUIRE((rc == 0) == (why == NULL));
    if (rc == 0) {
        REQUIRE(res.name[0] != '\0');
        REQUIRE(strlen(res.name) <= TAMS_JWT_NAME_MAX);
        REQUIRE(res.scopes < 16);
    } else {
        REQUIRE(res.name[0] == '\0' && res.scopes == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;
    size_t n = size ? size - 1 : 0;
    if (size == 0)
        return 0;
    if (data[0] == 0) {
        check(s, n);
    } else if (data[0] == 1) {
        struct tams_buf b = TAMS_BUF_INIT(2 * TAMS_JWT_MAX_LEN);
        unsigned char mac[TAMS_SHA256_LEN];
        char enc[64];
        tams_buf_add(&b, s, n);
        tams_hmac_sha256(secret, sizeof(secret) - 1, b.data, b.len, mac);
        tams_base64_encode(mac, sizeof(mac), true, enc);
        tams_buf_addch(&b, '.');
        tams_buf_addstr(&b, enc);
        if (tams_buf_ok(&b))
            check(b.data, b.len);
        tams_buf_release(&b);
    } else {
        struct tams_creds c;
        struct tams_buf why = TAMS_BUF_INIT(4096);
        int rc = tams_creds_parse(&c, s, n, &why);
        REQUIRE(rc == 0 || rc == TAMS_ERR_BADREQUEST);
        if (rc == 0) {
            for (size_t i = 0; i < c.nusers; i++)
                REQUIRE(tams_creds_name_valid(c.users[i].name));
            for (size_t i = 0; i < c.ntokens; i++)
                REQUIRE(tams_creds_name_valid(c.tokens[i].name));
            tams_creds_release(&c);
        } else {
            REQUIRE(why.len > 0);
        }
        tams_buf_release(&why);
    }
    return 0;
}
