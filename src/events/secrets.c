/* SPDX-License-Identifier: Apache-2.0 */
/* secrets.c - the webhook key: loaded or created, and AES-256-GCM / HMAC with keys derived
 * from it. */
#include "core/common.h"
#include "core/base64.h"
#include "core/crypto.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/random.h"
#include "events/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define SEALED_PREFIX "v1:"
#define SEALED_MAX (64 * 1024) /* bytes of a sealed value; api keys are at most 4 KiB */

struct tams_webhook_secrets {
    unsigned char seal_key[KEY_LEN];
    unsigned char id_key[KEY_LEN];
};

/* 64 hex digits, either case, into key. */
static bool hex_key(const char *s, size_t n, unsigned char key[KEY_LEN])
{
    char lower[2 * KEY_LEN];
    bool ok;

    if (n != sizeof(lower))
        return false;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    ok = tams_hex_decode(lower, n, key, KEY_LEN) == 0;
    OPENSSL_cleanse(lower, sizeof(lower));
    return ok;
}

/* The key file: read it, or create it when it does not exist (O_EXCL: two processes starting
 * at once agree on one key). */
static int key_file(const char *data_dir, unsigned char key[KEY_LEN], struct tams_buf *why)
{
    struct tams_buf path = TAMS_BUF_INIT(8192);
    char text[2 * KEY_LEN + 2];
    struct stat st;
    ssize_t got = 0;
    int fd, rc = 0;

    tams_buf_addf(&path, "%s/%s", data_dir, TAMS_WEBHOOK_KEY_FILE);
    fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        tams_random_bytes(key, KEY_LEN);
        tams_hex_encode(key, KEY_LEN, text);
        text[2 * KEY_LEN] = '\n';
        if (write(fd, text, 2 * KEY_LEN + 1) != 2 * KEY_LEN + 1 || fsync(fd)) {
            tams_buf_addf(why, "cannot write '%s': %s", path.data, strerror(errno));
            unlink(path.data);
            rc = TAMS_ERR_IO;
        } else {
            tams_log_info("created '%s', the key sealing webhook api keys (keep it with the "
                          "store: without it they cannot be delivered)",
                          path.data);
        }
        close(fd);
        goto out;
    }
    if (errno != EEXIST || (fd = open(path.data, O_RDONLY | O_CLOEXEC)) < 0) {
        tams_buf_addf(why, "cannot open '%s': %s", path.data, strerror(errno));
        rc = TAMS_ERR_IO;
        goto out;
    }
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        tams_log_warn("'%s' is readable by other users; chmod 600 it", path.data);
    got = read(fd, text, sizeof(text));
    close(fd);
    while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r'))
        got--;
    if (got < 0 || !hex_key(text, (size_t)got, key)) {
        tams_buf_addf(why, "'%s' does not hold a key of 64 hex digits", path.data);
        rc = TAMS_ERR_BADREQUEST;
    }
out:
    OPENSSL_cleanse(text, sizeof(text));
    tams_buf_release(&path);
    return rc;
}

static void derive(const unsigned char master[KEY_LEN], const char *label,
                   unsigned char out[KEY_LEN])
{
    tams_hmac_sha256(master, KEY_LEN, label, strlen(label), out);
}

int tams_webhook_secrets_open(struct tams_webhook_secrets **out, const char *hex,
                              const char *data_dir, struct tams_buf *why)
{
    unsigned char master[KEY_LEN];
    struct tams_webhook_secrets *s;
    int rc = 0;

    *out = NULL;
    if (hex && hex[0]) {
        if (!hex_key(hex, strlen(hex), master)) {
            tams_buf_addstr(why, "webhook_secret_key must be 64 hex digits");
            rc = TAMS_ERR_BADREQUEST;
        }
    } else {
        rc = key_file(data_dir, master, why);
    }
    if (rc) {
        OPENSSL_cleanse(master, sizeof(master));
        return rc;
    }
    s = tams_calloc(1, sizeof(*s));
    derive(master, "tamsd webhook api_key_value seal v1", s->seal_key);
    derive(master, "tamsd webhook api_key_value identity v1", s->id_key);
    OPENSSL_cleanse(master, sizeof(master));
    *out = s;
    return 0;
}

void tams_webhook_secrets_free(struct tams_webhook_secrets *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, sizeof(*s));
    tams_free(s);
}

/* Associated data: the registration the value belongs to. */
static void aad_of(const char *url, const char *name, struct tams_buf *out)
{
    tams_buf_addstr(out, url);
    tams_buf_addch(out, '\n');
    tams_buf_addstr(out, name ? name : "");
}

/* AES-256-GCM over in (n bytes) into out (n bytes) and tag; false when OpenSSL fails or, on
 * open, the tag does not match. */
static bool gcm(bool seal, const unsigned char key[KEY_LEN], const unsigned char nonce[NONCE_LEN],
                const struct tams_buf *aad, const unsigned char *in, size_t n, unsigned char *out,
                unsigned char tag[TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;

    ok = ctx && n <= INT_MAX &&
         EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal ? 1 : 0) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal ? 1 : 0) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad->data, (int)aad->len) == 1 &&
         EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1;
    if (ok && !seal)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out + len, &len) == 1;
    if (ok && seal)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

void tams_webhook_secret_seal(const struct tams_webhook_secrets *s, const char *url,
                              const char *name, const char *value, struct tams_buf *out)
{
    size_t n = strlen(value), total = NONCE_LEN + n + TAG_LEN;
    unsigned char *blob = tams_malloc(total);
    char *text = tams_malloc(TAMS_BASE64_ENCODED_MAX(total));
    struct tams_buf aad = TAMS_BUF_INIT(SEALED_MAX);

    aad_of(url, name, &aad);
    tams_random_bytes(blob, NONCE_LEN);
    if (!gcm(true, s->seal_key, blob, &aad, (const unsigned char *)value, n, blob + NONCE_LEN,
             blob + NONCE_LEN + n))
        TAMS_BUG("AES-256-GCM sealing failed");
    tams_base64_encode(blob, total, false, text);
    tams_buf_addstr(out, SEALED_PREFIX);
    tams_buf_addstr(out, text);
    tams_free(blob);
    tams_free(text);
    tams_buf_release(&aad);
}

int tams_webhook_secret_open(const struct tams_webhook_secrets *s, const char *url,
                             const char *name, const char *sealed, struct tams_buf *out)
{
    size_t n = strlen(sealed), len = 0, plen = strlen(SEALED_PREFIX);
    unsigned char *blob = NULL, *plain = NULL;
    struct tams_buf aad = TAMS_BUF_INIT(SEALED_MAX);
    int rc = TAMS_ERR_BADREQUEST;

    if (n <= plen || n > SEALED_MAX || strncmp(sealed, SEALED_PREFIX, plen) != 0)
        goto out;
    blob = tams_malloc(TAMS_BASE64_DECODED_MAX(n));
    if (tams_base64_decode(sealed + plen, n - plen, false, blob, &len) || len < NONCE_LEN + TAG_LEN)
        goto out;
    len -= NONCE_LEN + TAG_LEN;
    plain = tams_malloc(len + 1);
    aad_of(url, name, &aad);
    if (!gcm(false, s->seal_key, blob, &aad, blob + NONCE_LEN, len, plain, blob + NONCE_LEN + len))
        goto out;
    tams_buf_add(out, plain, len);
    rc = tams_buf_ok(out) ? 0 : TAMS_ERR_TOOBIG;
out:
    if (plain) {
        OPENSSL_cleanse(plain, len);
        tams_free(plain);
    }
    tams_free(blob);
    tams_buf_release(&aad);
    return rc;
}

void tams_webhook_secret_id(const struct tams_webhook_secrets *s, const char *value,
                            char out[TAMS_WEBHOOK_SECRET_ID_HEX + 1])
{
    unsigned char mac[TAMS_SHA256_LEN];

    tams_hmac_sha256(s->id_key, KEY_LEN, value, strlen(value), mac);
    tams_hex_encode(mac, sizeof(mac), out);
    out[TAMS_WEBHOOK_SECRET_ID_HEX] = '\0';
}
