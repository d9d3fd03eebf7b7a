/* SPDX-License-Identifier: Apache-2.0 */
/* jwt.c - JWS compact verification (HS256, RS256, ES256) and claim checks on OpenSSL. */
#include "core/common.h"
#include "core/crypto.h"
#include "core/base64.h"
#include "core/utf8.h"
#include "auth/jwt.h"
#include "auth/scopes.h"

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define HEADER_MAX 2048
#define PAYLOAD_MAX 8192
#define JSON_DEPTH 16

enum alg { ALG_HS256, ALG_RS256, ALG_ES256 };

struct tams_jwt_verifier {
    enum alg alg;
    const char *alg_name;
    unsigned char *secret;
    size_t secret_len;
    EVP_PKEY *pkey;
    char *issuer, *audience, *scope_claim, *name_claim;
    int leeway;
};

static char *dup_or_null(const char *s)
{
    return s && *s ? tams_strdup(s) : NULL;
}

void tams_jwt_verifier_free(struct tams_jwt_verifier *v)
{
    if (!v)
        return;
    if (v->secret) {
        OPENSSL_cleanse(v->secret, v->secret_len);
        tams_free(v->secret);
    }
    EVP_PKEY_free(v->pkey);
    tams_free(v->issuer);
    tams_free(v->audience);
    tams_free(v->scope_claim);
    tams_free(v->name_claim);
    tams_free(v);
}

static int load_public_key(struct tams_jwt_verifier *v, const struct tams_jwt_params *p,
                           struct tams_buf *why)
{
    BIO *bio;
    if (!p->public_key_pem || !p->public_key_len) {
        tams_buf_addf(why, "%s needs a PEM public key", v->alg_name);
        return TAMS_ERR_BADREQUEST;
    }
    if (p->public_key_len > INT32_MAX) {
        tams_buf_addstr(why, "the public key file is too large");
        return TAMS_ERR_BADREQUEST;
    }
    bio = BIO_new_mem_buf(p->public_key_pem, (int)p->public_key_len);
    if (!bio)
        TAMS_BUG("BIO_new_mem_buf failed");
    v->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!v->pkey) {
        tams_buf_addstr(why, "the key is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
        return TAMS_ERR_BADREQUEST;
    }
    if (v->alg == ALG_RS256) {
        if (!EVP_PKEY_is_a(v->pkey, "RSA")) {
            tams_buf_addstr(why, "RS256 needs an RSA public key");
            return TAMS_ERR_BADREQUEST;
        }
        if (EVP_PKEY_get_bits(v->pkey) < 2048) {
            tams_buf_addstr(why, "the RSA key is shorter than 2048 bits");
            return TAMS_ERR_BADREQUEST;
        }
    } else {
        char group[64] = "";
        if (!EVP_PKEY_is_a(v->pkey, "EC") ||
            !EVP_PKEY_get_utf8_string_param(v->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), NULL) ||
            strcmp(group, "prime256v1") != 0) {
            tams_buf_addstr(why, "ES256 needs an EC public key on curve P-256");
            return TAMS_ERR_BADREQUEST;
        }
    }
    return 0;
}

int tams_jwt_verifier_new(struct tams_jwt_verifier **out, const struct tams_jwt_params *p,
                          struct tams_buf *why)
{
    struct tams_jwt_verifier *v = tams_calloc(1, sizeof(*v));
    int rc = 0;

    *out = NULL;
    if (p->alg && strcmp(p->alg, "HS256") == 0) {
        v->alg = ALG_HS256;
    } else if (p->alg && strcmp(p->alg, "RS256") == 0) {
        v->alg = ALG_RS256;
    } else if (p->alg && strcmp(p->alg, "ES256") == 0) {
        v->alg = ALG_ES256;
    } else {
        tams_buf_addstr(why, "unsupported JWT algorithm: expected HS256, RS256 or ES256");
        tams_jwt_verifier_free(v);
        return TAMS_ERR_BADREQUEST;
    }
    v->alg_name = p->alg;
    if (v->alg == ALG_HS256) {
        if (!p->secret || p->secret_len < TAMS_JWT_MIN_SECRET) {
            tams_buf_addf(why, "the HS256 secret is shorter than %d bytes", TAMS_JWT_MIN_SECRET);
            rc = TAMS_ERR_BADREQUEST;
        } else {
            v->secret = tams_malloc(p->secret_len);
            memcpy(v->secret, p->secret, p->secret_len);
            v->secret_len = p->secret_len;
        }
    } else {
        rc = load_public_key(v, p, why);
    }
    if (rc) {
        tams_jwt_verifier_free(v);
        return rc;
    }
    v->issuer = dup_or_null(p->issuer);
    v->audience = dup_or_null(p->audience);
    v->scope_claim = tams_strdup(p->scope_claim && *p->scope_claim ? p->scope_claim : "scope");
    v->name_claim = tams_strdup(p->name_claim && *p->name_claim ? p->name_claim : "sub");
    v->leeway = p->leeway < 0 ? 0 : p->leeway;
    *out = v;
    return 0;
}

/* Decodes one base64url part into a new buffer of at most max bytes. */
static unsigned char *decode_part(const char *s, size_t n, size_t max, size_t *len)
{
    unsigned char *out;
    if (n == 0 || n / 4 * 3 > max)
        return NULL;
    out = tams_malloc(TAMS_BASE64_DECODED_MAX(n) + 1);
    if (tams_base64_decode(s, n, true, out, len)) {
        tams_free(out);
        return NULL;
    }
    out[*len] = '\0';
    return out;
}

/* A JSON object from exactly len bytes of strict UTF-8 (json-c would take any bytes in a
 * string, and claims become names in logs and scopes), or NULL. */
static json_object *parse_object(const unsigned char *text, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    json_object *obj;
    if (!tok)
        TAMS_BUG("json_tokener_new_ex failed");
    if (memchr(text, '\0', len) || !tams_utf8_valid((const char *)text, len)) {
        json_tokener_free(tok);
        return NULL;
    }
    obj = json_tokener_parse_ex(tok, (const char *)text, (int)len);
    if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len || !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

static bool verify_hs256(const struct tams_jwt_verifier *v, const char *data, size_t n,
                         const unsigned char *sig, size_t siglen)
{
    unsigned char mac[TAMS_SHA256_LEN];
    bool ok;
    tams_hmac_sha256(v->secret, v->secret_len, data, n, mac);
    ok = siglen == sizeof(mac) && CRYPTO_memcmp(mac, sig, sizeof(mac)) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

static bool verify_pkey(const struct tams_jwt_verifier *v, const char *data, size_t n,
                        const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok;
    if (!ctx)
        TAMS_BUG("EVP_MD_CTX_new failed");
    ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, v->pkey) == 1 &&
         EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* JWS ES256 signatures are R || S (32 bytes each); OpenSSL verifies DER. */
static bool verify_es256(const struct tams_jwt_verifier *v, const char *data, size_t n,
                         const unsigned char *sig, size_t siglen)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *der = NULL;
    int derlen;
    bool ok;

    if (siglen != 64)
        return false;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
        TAMS_BUG("ECDSA_SIG allocation failed");
    derlen = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (derlen <= 0)
        return false;
    ok = verify_pkey(v, data, n, der, (size_t)derlen);
    OPENSSL_free(der);
    return ok;
}

/* exp, nbf and the like: an integer (or a number with a fraction, truncated). */
static bool get_time(json_object *payload, const char *name, int64_t *out, bool *present)
{
    json_object *o;
    *present = json_object_object_get_ex(payload, name, &o);
    if (!*present)
        return true;
    if (json_object_is_type(o, json_type_int)) {
        *out = json_object_get_int64(o);
        return true;
    }
    if (json_object_is_type(o, json_type_double)) {
        double d = json_object_get_double(o);
        if (!(d > -9.2e18 && d < 9.2e18))
            return false;
        *out = (int64_t)d;
        return true;
    }
    return false;
}

static bool audience_ok(json_object *payload, const char *want)
{
    json_object *aud;
    if (!json_object_object_get_ex(payload, "aud", &aud))
        return false;
    if (json_object_is_type(aud, json_type_string))
        return strcmp(json_object_get_string(aud), want) == 0;
    if (json_object_is_type(aud, json_type_array)) {
        size_t n = json_object_array_length(aud);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(aud, i);
            if (json_object_is_type(e, json_type_string) &&
                strcmp(json_object_get_string(e), want) == 0)
                return true;
        }
    }
    return false;
}

static bool scopes_of(json_object *payload, const char *claim, unsigned *scopes)
{
    json_object *c;
    unsigned bits = 0;
    *scopes = 0;
    if (!json_object_object_get_ex(payload, claim, &c))
        return true; /* authenticated, may do nothing */
    if (json_object_is_type(c, json_type_string)) {
        const char *s = json_object_get_string(c);
        return tams_scopes_parse(s, strlen(s), true, scopes) == 0;
    }
    if (!json_object_is_type(c, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(c); i++) {
        json_object *e = json_object_array_get_idx(c, i);
        const char *s;
        if (!json_object_is_type(e, json_type_string))
            return false;
        s = json_object_get_string(e);
        bits |= tams_scope_bit(s, strlen(s));
    }
    *scopes = bits;
    return true;
}

static bool name_of(json_object *payload, const char *claim, char *out)
{
    json_object *c;
    const char *s;
    size_t n;
    if (!json_object_object_get_ex(payload, claim, &c) || !json_object_is_type(c, json_type_string))
        return false;
    s = json_object_get_string(c);
    n = strlen(s);
    if (n == 0 || n > TAMS_JWT_NAME_MAX || (size_t)json_object_get_string_len(c) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    memcpy(out, s, n + 1);
    return true;
}

static int check_claims(const struct tams_jwt_verifier *v, json_object *payload, int64_t now,
                        struct tams_jwt_result *res, const char **why)
{
    int64_t exp = 0, nbf = 0;
    bool has_exp, has_nbf;
    json_object *iss;

    if (!get_time(payload, "exp", &exp, &has_exp) || !has_exp) {
        *why = "the token has no valid exp claim";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (now > exp && now - exp > v->leeway) {
        *why = "the token has expired";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (!get_time(payload, "nbf", &nbf, &has_nbf)) {
        *why = "the token's nbf claim is not a number";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (has_nbf && nbf > now && nbf - now > v->leeway) {
        *why = "the token is not valid yet";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (v->issuer && (!json_object_object_get_ex(payload, "iss", &iss) ||
                      !json_object_is_type(iss, json_type_string) ||
                      strcmp(json_object_get_string(iss), v->issuer) != 0)) {
        *why = "the token's issuer is not the configured one";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (v->audience && !audience_ok(payload, v->audience)) {
        *why = "the token is not meant for this audience";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (!name_of(payload, v->name_claim, res->name)) {
        *why = "the token has no usable name claim";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (json_object_object_get_ex(payload, "iss", &iss) && !name_of(payload, "iss", res->issuer)) {
        *why = "the token's iss claim is not a short string";
        return TAMS_ERR_UNAUTHORIZED;
    }
    if (!name_of(payload, "sub", res->subject))
        memcpy(res->subject, res->name, sizeof(res->subject));
    if (!scopes_of(payload, v->scope_claim, &res->scopes)) {
        *why = "the token's scope claim is neither a string nor an array of strings";
        return TAMS_ERR_UNAUTHORIZED;
    }
    return 0;
}

int tams_jwt_verify(const struct tams_jwt_verifier *v, const char *token, size_t n, int64_t now,
                    struct tams_jwt_result *res, const char **why)
{
    const char *dot1, *dot2;
    unsigned char *header = NULL, *payload = NULL, *sig = NULL;
    size_t hlen, plen, slen;
    json_object *hobj = NULL, *pobj = NULL, *alg, *crit;
    bool sig_ok;
    int rc = TAMS_ERR_UNAUTHORIZED;

    memset(res, 0, sizeof(*res));
    *why = "the token is malformed";
    if (n == 0 || n > TAMS_JWT_MAX_LEN || memchr(token, '\0', n))
        return rc;
    dot1 = memchr(token, '.', n);
    dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - token)))
        return rc;
    header = decode_part(token, (size_t)(dot1 - token), HEADER_MAX, &hlen);
    if (!header || !(hobj = parse_object(header, hlen)))
        goto out;
    if (!json_object_object_get_ex(hobj, "alg", &alg) ||
        !json_object_is_type(alg, json_type_string))
        goto out;
    if (strcmp(json_object_get_string(alg), v->alg_name) != 0) {
        *why = "the token's algorithm is not the configured one";
        goto out;
    }
    if (json_object_object_get_ex(hobj, "crit", &crit)) {
        *why = "the token has critical header parameters this server does not understand";
        goto out;
    }
    sig = decode_part(dot2 + 1, n - (size_t)(dot2 + 1 - token), 1024, &slen);
    if (!sig)
        goto out;
    switch (v->alg) {
    case ALG_HS256:
        sig_ok = verify_hs256(v, token, (size_t)(dot2 - token), sig, slen);
        break;
    case ALG_RS256:
        sig_ok = verify_pkey(v, token, (size_t)(dot2 - token), sig, slen);
        break;
    default:
        sig_ok = verify_es256(v, token, (size_t)(dot2 - token), sig, slen);
        break;
    }
    if (!sig_ok) {
        *why = "the token's signature is not valid";
        goto out;
    }
    payload = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), PAYLOAD_MAX, &plen);
    if (!payload || !(pobj = parse_object(payload, plen))) {
        *why = "the token's claims are not a JSON object";
        goto out;
    }
    rc = check_claims(v, pobj, now, res, why);
    if (!rc)
        *why = NULL;
out:
    json_object_put(hobj);
    json_object_put(pobj);
    tams_free(header);
    tams_free(payload);
    tams_free(sig);
    if (rc)
        memset(res, 0, sizeof(*res));
    return rc;
}
