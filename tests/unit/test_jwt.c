/* SPDX-License-Identifier: Apache-2.0 */
/* test_jwt.c - JWT verification (keys made here with OpenSSL), scopes, credentials. */
#include "core/common.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/base64.h"
#include "auth/creds.h"
#include "auth/jwt.h"
#include "auth/scopes.h"
#include "check.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#define NOW 1700000000LL
static const char secret[] = "0123456789abcdef0123456789abcdef-test-secret";

static void b64url(struct tams_buf *b, const void *p, size_t n)
{
    char *enc = tams_malloc(4 * (n / 3 + 1) + 1);
    tams_base64_encode(p, n, true, enc);
    tams_buf_addstr(b, enc);
    tams_free(enc);
}

/* header.payload of two JSON texts. */
static void signing_input(struct tams_buf *b, const char *header, const char *payload)
{
    b64url(b, header, strlen(header));
    tams_buf_addch(b, '.');
    b64url(b, payload, strlen(payload));
}

static char *sign_hs256(const char *header, const char *payload, const void *key, size_t klen)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 16);
    unsigned char mac[TAMS_SHA256_LEN];
    signing_input(&b, header, payload);
    tams_hmac_sha256(key, klen, b.data, b.len, mac);
    tams_buf_addch(&b, '.');
    b64url(&b, mac, sizeof(mac));
    return tams_buf_detach(&b, NULL);
}

static char *sign_pkey(const char *header, const char *payload, EVP_PKEY *key, bool es256)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 16);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t slen = sizeof(sig);
    signing_input(&b, header, payload);
    CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1);
    CHECK(EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)b.data, b.len) == 1);
    EVP_MD_CTX_free(ctx);
    tams_buf_addch(&b, '.');
    if (es256) { /* DER -> R || S */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        unsigned char rs[64];
        CHECK(es != NULL);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        b64url(&b, rs, sizeof(rs));
    } else {
        b64url(&b, sig, slen);
    }
    return tams_buf_detach(&b, NULL);
}

static char *public_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;
    CHECK(PEM_write_bio_PUBKEY(bio, key) == 1);
    n = BIO_get_mem_data(bio, &data);
    out = tams_strndup(data, (size_t)n);
    BIO_free(bio);
    return out;
}

static struct tams_jwt_verifier *make(const char *alg, const char *pem, const char *iss,
                                      const char *aud)
{
    struct tams_jwt_verifier *v = NULL;
    struct tams_buf why = TAMS_BUF_INIT(512);
    struct tams_jwt_params p = {.alg = alg, .issuer = iss, .audience = aud, .leeway = 60};
    if (pem) {
        p.public_key_pem = pem;
        p.public_key_len = strlen(pem);
    } else {
        p.secret = (const unsigned char *)secret;
        p.secret_len = strlen(secret);
    }
    CHECK(tams_jwt_verifier_new(&v, &p, &why) == 0);
    if (!v)
        fprintf(stderr, "verifier: %s\n", why.data);
    tams_buf_release(&why);
    return v;
}

static int verify(struct tams_jwt_verifier *v, const char *tok, struct tams_jwt_result *res)
{
    const char *why = NULL;
    int rc = tams_jwt_verify(v, tok, strlen(tok), NOW, res, &why);
    CHECK((rc == 0) == (why == NULL));
    return rc;
}

#define HS "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define RS "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define ES "{\"alg\":\"ES256\",\"typ\":\"JWT\"}"
#define GOOD "{\"sub\":\"alice\",\"exp\":1700003600,\"scope\":\"openid read write\"}"

static void test_hs256(void)
{
    struct tams_jwt_verifier *v = make("HS256", NULL, NULL, NULL);
    struct tams_jwt_result res;
    char *t;

    t = sign_hs256(HS, GOOD, secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), 0);
    CHECK_STR_EQ(res.name, "alice");
    CHECK_INT_EQ(res.scopes, TAMS_SCOPE_READ | TAMS_SCOPE_WRITE);
    /* one flipped signature character */
    t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    CHECK(res.name[0] == '\0' && res.scopes == 0);
    tams_free(t);
    /* signed with another secret */
    t = sign_hs256(HS, GOOD, "another secret that is long enough!!", 36);
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    /* expired, within leeway, not yet valid, no exp, exp not a number */
    t = sign_hs256(HS, "{\"sub\":\"a\",\"exp\":1699990000}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"a\",\"exp\":1699999970}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), 0);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"a\",\"exp\":1700003600,\"nbf\":1700000600}", secret,
                   strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"a\"}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"a\",\"exp\":\"1700003600\"}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    /* no sub, empty sub, sub not a string */
    t = sign_hs256(HS, "{\"exp\":1700003600}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"\",\"exp\":1700003600}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":7,\"exp\":1700003600}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    /* scopes as an array; no scope claim: authenticated with no scopes */
    t = sign_hs256(HS, "{\"sub\":\"b\",\"exp\":1700003600,\"scope\":[\"delete\",\"admin\",\"x\"]}",
                   secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), 0);
    CHECK_INT_EQ(res.scopes, TAMS_SCOPE_DELETE | TAMS_SCOPE_ADMIN);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"b\",\"exp\":1700003600}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), 0);
    CHECK_INT_EQ(res.scopes, 0);
    tams_free(t);
    t = sign_hs256(HS, "{\"sub\":\"b\",\"exp\":1700003600,\"scope\":{\"read\":1}}", secret,
                   strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    /* a crit header */
    t = sign_hs256("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", GOOD, secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    tams_jwt_verifier_free(v);
}

static void test_alg_none_and_confusion(EVP_PKEY *rsa)
{
    char *pem = public_pem(rsa);
    struct tams_jwt_verifier *vr = make("RS256", pem, NULL, NULL);
    struct tams_jwt_verifier *vh = make("HS256", NULL, NULL, NULL);
    struct tams_jwt_result res;
    struct tams_buf b = TAMS_BUF_INIT(4096);
    char *t;

    /* alg none, with and without a signature part */
    signing_input(&b, "{\"alg\":\"none\"}", GOOD);
    tams_buf_addch(&b, '.');
    CHECK_INT_EQ(verify(vh, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    CHECK_INT_EQ(verify(vr, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    tams_buf_addstr(&b, "AAAA");
    CHECK_INT_EQ(verify(vh, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    tams_buf_release(&b);
    signing_input(&b, "{\"alg\":\"NONE\"}", GOOD);
    CHECK_INT_EQ(verify(vh, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    tams_buf_release(&b);
    /* the RSA public key (PEM text) used as an HMAC secret */
    t = sign_hs256(HS, GOOD, pem, strlen(pem));
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    /* an RS256 token against the HS256 verifier */
    t = sign_pkey(RS, GOOD, rsa, false);
    CHECK_INT_EQ(verify(vh, t, &res), TAMS_ERR_UNAUTHORIZED);
    CHECK_INT_EQ(verify(vr, t, &res), 0);
    tams_free(t);
    /* header alg spelled differently */
    t = sign_pkey("{\"alg\":\"rs256\"}", GOOD, rsa, false);
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    tams_jwt_verifier_free(vr);
    tams_jwt_verifier_free(vh);
    tams_free(pem);
}

static void test_rs256_es256(EVP_PKEY *rsa, EVP_PKEY *ec)
{
    char *rpem = public_pem(rsa), *epem = public_pem(ec);
    struct tams_jwt_verifier *vr = make("RS256", rpem, "https://idp.example", "tams");
    struct tams_jwt_verifier *ve = make("ES256", epem, NULL, NULL);
    struct tams_jwt_result res;
    char *t;

    t = sign_pkey(RS,
                  "{\"sub\":\"svc\",\"exp\":1700003600,\"iss\":\"https://idp.example\","
                  "\"aud\":[\"x\",\"tams\"],\"scope\":\"read\"}",
                  rsa, false);
    CHECK_INT_EQ(verify(vr, t, &res), 0);
    CHECK_STR_EQ(res.name, "svc");
    CHECK_INT_EQ(res.scopes, TAMS_SCOPE_READ);
    t[strlen(t) / 2] ^= 1; /* tampered payload or signature */
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    /* wrong issuer, missing issuer, wrong audience, audience as a string */
    t = sign_pkey(RS,
                  "{\"sub\":\"s\",\"exp\":1700003600,\"iss\":\"https://evil\",\"aud\":\"tams\"}",
                  rsa, false);
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_pkey(RS, "{\"sub\":\"s\",\"exp\":1700003600,\"aud\":\"tams\"}", rsa, false);
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_pkey(RS,
                  "{\"sub\":\"s\",\"exp\":1700003600,\"iss\":\"https://idp.example\","
                  "\"aud\":\"other\"}",
                  rsa, false);
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_pkey(RS,
                  "{\"sub\":\"s\",\"exp\":1700003600,\"iss\":\"https://idp.example\","
                  "\"aud\":\"tams\"}",
                  rsa, false);
    CHECK_INT_EQ(verify(vr, t, &res), 0);
    tams_free(t);

    t = sign_pkey(ES, GOOD, ec, true);
    CHECK_INT_EQ(verify(ve, t, &res), 0);
    CHECK_STR_EQ(res.name, "alice");
    CHECK_INT_EQ(verify(vr, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    t = sign_pkey(ES, GOOD, ec, false); /* DER signature instead of R || S */
    CHECK_INT_EQ(verify(ve, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    tams_jwt_verifier_free(vr);
    tams_jwt_verifier_free(ve);
    tams_free(rpem);
    tams_free(epem);
}

static void test_malformed(void)
{
    struct tams_jwt_verifier *v = make("HS256", NULL, NULL, NULL);
    struct tams_jwt_result res;
    struct tams_buf b = TAMS_BUF_INIT(1 << 16);
    char *good = sign_hs256(HS, GOOD, secret, strlen(secret));
    static const char *const bad[] = {
        "",    ".",           "..",
        "...", "a.b",         "a.b.c.d",
        "abc", "@@@.###.$$$", "eyJhbGciOiJIUzI1NiJ9..", /* empty payload and signature */
    };
    char *t;

    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++)
        CHECK_INT_EQ(verify(v, bad[i], &res), TAMS_ERR_UNAUTHORIZED);
    /* padding, whitespace and standard-alphabet characters in an otherwise good token */
    tams_buf_addstr(&b, good);
    tams_buf_addch(&b, '=');
    CHECK_INT_EQ(verify(v, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    tams_buf_reset(&b);
    tams_buf_addf(&b, " %s", good);
    CHECK_INT_EQ(verify(v, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    tams_buf_reset(&b);
    tams_buf_addstr(&b, good);
    b.data[3] = '+';
    CHECK_INT_EQ(verify(v, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    /* a NUL inside */
    CHECK_INT_EQ(tams_jwt_verify(v, good, strlen(good) + 1, NOW, &res, &(const char *){NULL}),
                 TAMS_ERR_UNAUTHORIZED);
    /* not JSON, not an object, trailing bytes, a NUL inside the JSON */
    /* ... and text that is not strict UTF-8: overlong '/', CESU-8, a lone surrogate */
    static const char *const payloads[] = {
        "not json",
        "[1,2]",
        GOOD " x",
        "{\"sub\":\"a\"",
        "\"str\"",
        "{\"sub\":\"\xc0\xaf\",\"exp\":1700003600}",
        "{\"sub\":\"\xed\xa0\xbd\xed\xb8\x80\",\"exp\":1700003600}",
        "{\"alg\":\"HS256\",\"x\":\"\xed\xa0\x80\"}"};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(payloads); i++) {
        t = sign_hs256(HS, payloads[i], secret, strlen(secret));
        CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
        tams_free(t);
        t = sign_hs256(payloads[i], GOOD, secret, strlen(secret));
        CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
        tams_free(t);
    }
    /* too long */
    tams_buf_reset(&b);
    for (int i = 0; i < TAMS_JWT_MAX_LEN; i++)
        tams_buf_addch(&b, 'A');
    tams_buf_addstr(&b, ".AAAA.AAAA");
    CHECK_INT_EQ(verify(v, b.data, &res), TAMS_ERR_UNAUTHORIZED);
    tams_buf_release(&b);
    tams_free(good);
    tams_jwt_verifier_free(v);
}

static void test_bad_params(EVP_PKEY *rsa, EVP_PKEY *ec, EVP_PKEY *rsa_small)
{
    struct tams_jwt_verifier *v = NULL;
    struct tams_buf why = TAMS_BUF_INIT(512);
    char *rpem = public_pem(rsa), *epem = public_pem(ec), *spem = public_pem(rsa_small);
    struct tams_jwt_params p = {
        .alg = "HS256", .secret = (const unsigned char *)"short", .secret_len = 5};

    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    CHECK(v == NULL && why.len > 0);
    p = (struct tams_jwt_params){
        .alg = "HS512", .secret = (const unsigned char *)secret, .secret_len = strlen(secret)};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    p = (struct tams_jwt_params){.alg = "none"};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    p = (struct tams_jwt_params){
        .alg = "RS256", .public_key_pem = epem, .public_key_len = strlen(epem)};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    p = (struct tams_jwt_params){
        .alg = "ES256", .public_key_pem = rpem, .public_key_len = strlen(rpem)};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    p = (struct tams_jwt_params){
        .alg = "RS256", .public_key_pem = spem, .public_key_len = strlen(spem)};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    p = (struct tams_jwt_params){.alg = "RS256", .public_key_pem = "garbage", .public_key_len = 7};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    p = (struct tams_jwt_params){.alg = "RS256"};
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), TAMS_ERR_BADREQUEST);
    CHECK(v == NULL);
    tams_jwt_verifier_free(NULL);
    tams_buf_release(&why);
    tams_free(rpem);
    tams_free(epem);
    tams_free(spem);
}

static void test_custom_claims(void)
{
    struct tams_jwt_verifier *v = NULL;
    struct tams_buf why = TAMS_BUF_INIT(512);
    struct tams_jwt_params p = {.alg = "HS256",
                                .secret = (const unsigned char *)secret,
                                .secret_len = strlen(secret),
                                .scope_claim = "scp",
                                .name_claim = "email"};
    struct tams_jwt_result res;
    char *t;
    CHECK_INT_EQ(tams_jwt_verifier_new(&v, &p, &why), 0);
    t = sign_hs256(HS, "{\"email\":\"ops@example.com\",\"exp\":1700003600,\"scp\":[\"write\"]}",
                   secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), 0);
    CHECK_STR_EQ(res.name, "ops@example.com");
    CHECK_INT_EQ(res.scopes, TAMS_SCOPE_WRITE);
    /* identity: no iss, no sub: the name claim */
    CHECK_STR_EQ(res.issuer, "");
    CHECK_STR_EQ(res.subject, "ops@example.com");
    tams_free(t);
    /* identity: iss and sub, whatever the name claim says */
    t = sign_hs256(HS,
                   "{\"email\":\"ops@example.com\",\"sub\":\"u-17\",\"iss\":\"https://idp\","
                   "\"exp\":1700003600}",
                   secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), 0);
    CHECK_STR_EQ(res.name, "ops@example.com");
    CHECK_STR_EQ(res.issuer, "https://idp");
    CHECK_STR_EQ(res.subject, "u-17");
    tams_free(t);
    /* an iss that is not a string is refused, whether or not an issuer is configured */
    t = sign_hs256(HS, "{\"email\":\"o@e\",\"iss\":7,\"exp\":1700003600}", secret, strlen(secret));
    CHECK_INT_EQ(verify(v, t, &res), TAMS_ERR_UNAUTHORIZED);
    tams_free(t);
    tams_jwt_verifier_free(v);
    tams_buf_release(&why);
}

static void test_scopes(void)
{
    unsigned s = 0, needed = 0;
    struct tams_buf b = TAMS_BUF_INIT(64);

    CHECK_INT_EQ(tams_scopes_parse("read,write", 10, false, &s), 0);
    CHECK_INT_EQ(s, TAMS_SCOPE_READ | TAMS_SCOPE_WRITE);
    CHECK_INT_EQ(tams_scopes_parse("read,bogus", 10, false, &s), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_scopes_parse("", 0, false, &s), TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_scopes_parse("openid admin", 12, true, &s), 0);
    CHECK_INT_EQ(s, TAMS_SCOPE_ADMIN);
    tams_scopes_format(TAMS_SCOPE_DELETE | TAMS_SCOPE_READ, &b);
    CHECK_STR_EQ(b.data, "read,delete");
    tams_buf_release(&b);

    /* methods by name: read for GET/HEAD, write for PUT/POST, delete for DELETE, else admin */
    CHECK(tams_scopes_allow(TAMS_SCOPE_READ, "GET", &needed) && needed == TAMS_SCOPE_READ);
    CHECK(tams_scopes_allow(TAMS_SCOPE_READ, "HEAD", NULL));
    CHECK(!tams_scopes_allow(TAMS_SCOPE_READ, "PUT", &needed) && needed == TAMS_SCOPE_WRITE);
    CHECK(tams_scopes_allow(TAMS_SCOPE_WRITE, "POST", NULL));
    CHECK(!tams_scopes_allow(TAMS_SCOPE_WRITE, "DELETE", &needed) && needed == TAMS_SCOPE_DELETE);
    CHECK(tams_scopes_allow(TAMS_SCOPE_DELETE, "DELETE", NULL));
    CHECK(!tams_scopes_allow(TAMS_SCOPE_ALL & ~TAMS_SCOPE_ADMIN, "OPTIONS", &needed) &&
          needed == TAMS_SCOPE_ADMIN);
    CHECK(!tams_scopes_allow(TAMS_SCOPE_READ, "get", NULL)); /* method names are case-sensitive */
    CHECK(tams_scopes_allow(TAMS_SCOPE_ADMIN, "PATCH", NULL));
}

static void test_creds(void)
{
    struct tams_creds c = {0}, d;
    struct tams_buf why = TAMS_BUF_INIT(1024);
    char dir[] = "/tmp/tams-creds-XXXXXX";
    char path[64];
    char *token = NULL;
    const struct tams_cred_user *u;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/credentials.json", dir);
    CHECK_INT_EQ(tams_creds_load(&c, path, &why), 0); /* missing: empty */
    CHECK(c.nusers == 0 && c.ntokens == 0);
    CHECK_INT_EQ(tams_creds_add_user(&c, "alice", TAMS_SCOPE_READ, "secret-pw", 9, &why), 0);
    CHECK_INT_EQ(tams_creds_add_user(&c, "alice", TAMS_SCOPE_READ, "secret-pw", 9, &why),
                 TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(tams_creds_add_user(&c, "bob", TAMS_SCOPE_READ, "short", 5, &why),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_creds_add_token(&c, "ci", TAMS_SCOPE_ADMIN, &token, &why), 0);
    CHECK(token && strlen(token) == TAMS_CREDS_TOKEN_LEN);
    CHECK_INT_EQ(tams_creds_save(&c, path, &why), 0);
    CHECK_INT_EQ(tams_creds_load(&d, path, &why), 0);
    CHECK(d.nusers == 1 && d.ntokens == 1);
    u = tams_creds_check_password(&d, "alice", "secret-pw", 9);
    CHECK(u && u->scopes == TAMS_SCOPE_READ);
    CHECK(tams_creds_check_password(&d, "alice", "secret-pX", 9) == NULL);
    CHECK(tams_creds_check_password(&d, "nobody", "secret-pw", 9) == NULL);
    CHECK(tams_creds_check_token(&d, token, strlen(token)) != NULL);
    token[TAMS_CREDS_TOKEN_LEN - 1] ^= 1;
    CHECK(tams_creds_check_token(&d, token, strlen(token)) == NULL);
    CHECK_INT_EQ(tams_creds_remove_token(&d, "ci"), 0);
    CHECK_INT_EQ(tams_creds_remove_token(&d, "ci"), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(tams_creds_remove_user(&d, "alice"), 0);
    CHECK(!tams_creds_name_valid("-x") && !tams_creds_name_valid("") &&
          !tams_creds_name_valid("a b") && tams_creds_name_valid("svc.ingest@site-1"));
    tams_creds_release(&d);
    tams_creds_release(&c);
    /* malformed files */
    static const char *const bad[] = {
        "",
        "[]",
        "{\"version\":2}",
        "{\"version\":1,\"users\":{}}",
        ("{\"version\":1,\"users\":[{\"name\":\"a\",\"kdf\":\"pbkdf2-sha256\",\"iterations\":10,"
         "\"salt\":\"00\",\"hash\":\"00\",\"scopes\":[]}]}"), /* one string */
        "{\"version\":1,\"tokens\":[{\"name\":\"t\",\"id\":\"xyz\",\"hash\":\"00\",\"scopes\":[]}]}",
    };
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(bad); i++) {
        tams_buf_reset(&why);
        CHECK_INT_EQ(tams_creds_parse(&c, bad[i], strlen(bad[i]), &why), TAMS_ERR_BADREQUEST);
        CHECK(why.len > 0);
    }
    unlink(path);
    rmdir(dir);
    tams_free(token);
    tams_buf_release(&why);
}

int main(void)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(rsa && ec && rsa_small);
    RUN(test_hs256);
    test_alg_none_and_confusion(rsa);
    test_rs256_es256(rsa, ec);
    RUN(test_malformed);
    test_bad_params(rsa, ec, rsa_small);
    RUN(test_custom_claims);
    RUN(test_scopes);
    RUN(test_creds);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_small);
    EVP_PKEY_free(ec);
    return check_report();
}
