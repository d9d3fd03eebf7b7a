/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook_secrets.c - webhook api keys at rest: the key file, sealing, identities. */
#include "core/common.h"
#include "core/buf.h"
#include "events/secrets.h"
#include "check.h"

#include <sys/stat.h>
#include <unistd.h>

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX_B "FF112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"

static void test_seal_and_open(void)
{
    struct tams_webhook_secrets *s = NULL, *other = NULL;
    struct tams_buf why = TAMS_BUF_INIT(512), sealed = TAMS_BUF_INIT(64 * 1024),
                    again = TAMS_BUF_INIT(64 * 1024), out = TAMS_BUF_INIT(64 * 1024);
    char id1[TAMS_WEBHOOK_SECRET_ID_HEX + 1], id2[TAMS_WEBHOOK_SECRET_ID_HEX + 1];

    CHECK_INT_EQ(tams_webhook_secrets_open(&s, HEX_A, "/nonexistent", &why), 0);
    CHECK_INT_EQ(tams_webhook_secrets_open(&other, HEX_B, "/nonexistent", &why), 0);
    tams_webhook_secret_seal(s, "http://h/x", "X-Key", "s3cret value", &sealed);
    CHECK(strncmp(sealed.data, "v1:", 3) == 0);
    CHECK(strstr(sealed.data, "s3cret") == NULL);
    /* a fresh nonce each time */
    tams_webhook_secret_seal(s, "http://h/x", "X-Key", "s3cret value", &again);
    CHECK(strcmp(sealed.data, again.data) != 0);
    CHECK_INT_EQ(tams_webhook_secret_open(s, "http://h/x", "X-Key", sealed.data, &out), 0);
    CHECK_STR_EQ(out.data, "s3cret value");
    /* bound to its registration and its key; tampering is noticed */
    tams_buf_reset(&out);
    CHECK_INT_EQ(tams_webhook_secret_open(s, "http://h/y", "X-Key", sealed.data, &out),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_webhook_secret_open(s, "http://h/x", "X-Other", sealed.data, &out),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_webhook_secret_open(other, "http://h/x", "X-Key", sealed.data, &out),
                 TAMS_ERR_BADREQUEST);
    sealed.data[10] = sealed.data[10] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(tams_webhook_secret_open(s, "http://h/x", "X-Key", sealed.data, &out),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_webhook_secret_open(s, "http://h/x", "X-Key", "s3cret value", &out),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(tams_webhook_secret_open(s, "http://h/x", "X-Key", "v1:", &out),
                 TAMS_ERR_BADREQUEST);
    CHECK_INT_EQ(out.len, 0);
    /* identities: stable per key and value, differ across keys and values */
    tams_webhook_secret_id(s, "a", id1);
    tams_webhook_secret_id(s, "a", id2);
    CHECK_STR_EQ(id1, id2);
    CHECK_INT_EQ(strlen(id1), TAMS_WEBHOOK_SECRET_ID_HEX);
    tams_webhook_secret_id(s, "b", id2);
    CHECK(strcmp(id1, id2) != 0);
    tams_webhook_secret_id(other, "a", id2);
    CHECK(strcmp(id1, id2) != 0);
    /* a bad key is refused, and not repeated in the message */
    tams_webhook_secrets_free(other);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_webhook_secrets_open(&other, "abc", "/nonexistent", &why),
                 TAMS_ERR_BADREQUEST);
    CHECK(other == NULL);
    CHECK(strstr(why.data, "abc") == NULL);
    tams_webhook_secrets_free(s);
    tams_buf_release(&why);
    tams_buf_release(&sealed);
    tams_buf_release(&again);
    tams_buf_release(&out);
}

static void test_key_file(void)
{
    char dir[] = "/tmp/tams_test_secrets_XXXXXX", path[128], cmd[160];
    struct tams_webhook_secrets *s = NULL, *t = NULL;
    struct tams_buf why = TAMS_BUF_INIT(512), sealed = TAMS_BUF_INIT(4096),
                    out = TAMS_BUF_INIT(4096);
    struct stat st;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/%s", dir, TAMS_WEBHOOK_KEY_FILE);
    /* created 0600 at first, then read back: the same key */
    CHECK_INT_EQ(tams_webhook_secrets_open(&s, "", dir, &why), 0);
    CHECK_INT_EQ(stat(path, &st), 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK_INT_EQ(st.st_size, 65);
    tams_webhook_secret_seal(s, "http://h/x", NULL, "v", &sealed);
    CHECK_INT_EQ(tams_webhook_secrets_open(&t, NULL, dir, &why), 0);
    CHECK_INT_EQ(tams_webhook_secret_open(t, "http://h/x", NULL, sealed.data, &out), 0);
    CHECK_STR_EQ(out.data, "v");
    tams_webhook_secrets_free(t);
    t = NULL;
    /* a file that holds no key stops the server */
    f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    tams_buf_reset(&why);
    CHECK_INT_EQ(tams_webhook_secrets_open(&t, "", dir, &why), TAMS_ERR_BADREQUEST);
    CHECK(strstr(why.data, TAMS_WEBHOOK_KEY_FILE) != NULL);
    CHECK(t == NULL);
    tams_webhook_secrets_free(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_INT_EQ(system(cmd), 0);
    tams_buf_release(&why);
    tams_buf_release(&sealed);
    tams_buf_release(&out);
}

int main(void)
{
    RUN(test_seal_and_open);
    RUN(test_key_file);
    return check_report();
}
