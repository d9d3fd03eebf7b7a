/* SPDX-License-Identifier: Apache-2.0 */
/* test_local_store.c - the built-in object store's existence checks: uploads committed by this
 * backend, uploads made by another instance on the same data directory, removal; one upload per
 * object; file modes; which content types are served inline. */
#include "core/common.h"
#include "core/buf.h"
#include "media/local.h"
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char data_dir[] = "/tmp/tamsd-local-XXXXXX";

static struct tams_media_backend *open_backend(void)
{
    struct tams_media_backend *b = NULL;
    struct tams_buf why = TAMS_BUF_INIT(1024);

    CHECK_INT_EQ(tams_local_open(&b, data_dir, "11111111-2222-4333-8444-555555555555", "local",
                                 3600, 600, &why),
                 0);
    tams_buf_release(&why);
    return b;
}

static void upload(const struct tams_media_backend *b, const char *key)
{
    struct tams_local_upload *u = NULL;

    CHECK_INT_EQ(tams_local_upload_begin(b, key, &u), 0);
    CHECK_INT_EQ(tams_local_upload_write(u, "bytes", 5), 0);
    CHECK_INT_EQ(tams_local_upload_commit(u, "video/mp2t"), 0);
}

static void test_exists(void)
{
    struct tams_media_backend *a = open_backend(), *other = open_backend();
    char k1[48], k2[48], k3[48];
    const char *keys[4] = {k1, k2, k3, "not/a/key"};
    int results[4];
    struct tams_buf path = TAMS_BUF_INIT(4096);

    tams_media_new_key(k1);
    tams_media_new_key(k2);
    tams_media_new_key(k3);
    CHECK_INT_EQ(a->ops->exists(a, k1), TAMS_ERR_NOTFOUND);
    upload(a, k1);
    upload(other, k2); /* another instance on the same data directory */
    CHECK_INT_EQ(a->ops->exists(a, k1), 0);
    CHECK_INT_EQ(a->ops->exists(a, k2), 0); /* found by stat */
    CHECK_INT_EQ(a->ops->exists_many(a, keys, 4, results, NULL), 0);
    CHECK_INT_EQ(results[0], 0);
    CHECK_INT_EQ(results[1], 0);
    CHECK_INT_EQ(results[2], TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(results[3], TAMS_ERR_NOTFOUND);
    /* Removed through the backend: gone from its memory as well as from the disk. */
    CHECK_INT_EQ(a->ops->remove(a, k1), 0);
    CHECK_INT_EQ(a->ops->exists(a, k1), TAMS_ERR_NOTFOUND);
    CHECK_INT_EQ(other->ops->exists(other, k1), TAMS_ERR_NOTFOUND);
    /* The memory is what answers for this backend's own uploads: a file removed behind its
     * back still counts for it (local.h), while an instance that did not upload it asks the
     * file system. */
    upload(a, k3);
    tams_local_path(a, k3, &path);
    CHECK_INT_EQ(unlink(path.data), 0);
    CHECK_INT_EQ(a->ops->exists(a, k3), 0);
    CHECK_INT_EQ(other->ops->exists(other, k3), TAMS_ERR_NOTFOUND);
    tams_buf_release(&path);
    a->ops->close(a);
    other->ops->close(other);
}

static void read_file(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, out, cap - 1) : -1;
    out[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffff;
}

/* An object is uploaded once; of two uploads racing, the first commit wins whole. */
static void test_one_upload(void)
{
    struct tams_media_backend *b = open_backend();
    struct tams_local_upload *u1 = NULL, *u2 = NULL, *u3 = NULL;
    struct tams_buf path = TAMS_BUF_INIT(4096), type = TAMS_BUF_INIT(4096);
    char key[48], got[64];

    tams_media_new_key(key);
    CHECK_INT_EQ(tams_local_upload_begin(b, key, &u1), 0);
    CHECK_INT_EQ(tams_local_upload_begin(b, key, &u2), 0);
    CHECK_INT_EQ(tams_local_upload_write(u1, "first", 5), 0);
    CHECK_INT_EQ(tams_local_upload_write(u2, "second", 6), 0);
    CHECK_INT_EQ(tams_local_upload_commit(u1, "video/mp2t"), 0);
    CHECK_INT_EQ(tams_local_upload_commit(u2, "text/html"), TAMS_ERR_CONFLICT);
    CHECK_INT_EQ(tams_local_upload_begin(b, key, &u3), TAMS_ERR_CONFLICT);
    tams_local_path(b, key, &path);
    read_file(path.data, got, sizeof(got));
    CHECK_STR_EQ(got, "first");
    tams_buf_addf(&type, "%s.type", path.data);
    read_file(type.data, got, sizeof(got));
    CHECK_STR_EQ(got, "video/mp2t");
    /* Nothing wider than the owner's, whatever the umask (set to 0 in main). */
    CHECK_INT_EQ(mode_of(path.data), 0600);
    CHECK_INT_EQ(mode_of(type.data), 0600);
    *strrchr(path.data, '/') = '\0';
    CHECK_INT_EQ(mode_of(path.data), 0700);
    /* Once removed (garbage collection), the key could take an upload again. */
    CHECK_INT_EQ(b->ops->remove(b, key), 0);
    CHECK_INT_EQ(tams_local_upload_begin(b, key, &u3), 0);
    tams_local_upload_abort(u3);
    tams_buf_release(&path);
    tams_buf_release(&type);
    b->ops->close(b);
}

static void test_type_inline(void)
{
    static const char *const inline_types[] = {"video/mp2t",
                                               "VIDEO/MP4",
                                               "audio/wav",
                                               " audio/mpeg ; codecs=mp3",
                                               "image/png",
                                               "image/jpeg",
                                               "application/mp4",
                                               "application/MXF",
                                               "application/octet-stream",
                                               "application/vnd.apple.mpegurl",
                                               "application/x-mpegURL",
                                               "video/mp2t;charset=x"};
    static const char *const attachment_types[] = {
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "IMAGE/SVG+XML",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "text/plain",
        "application/json",
        "application/pdf",
        "application/dash+xml",
        "video/x+xml",
        "video/svg",
        "nonsense",
        "",
        "video/",
        "/mp4",
        "video/mp4/x",
        "multipart/x-mixed-replace",
        "application/mp4x",
        ("video/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+xml")};
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(inline_types); i++)
        CHECK(tams_local_type_inline(inline_types[i]));
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(attachment_types); i++)
        CHECK(!tams_local_type_inline(attachment_types[i]));
}

int main(void)
{
    char cmd[64];

    if (!mkdtemp(data_dir)) {
        perror("mkdtemp");
        return 1;
    }
    umask(0); /* the store's modes must not depend on it */
    RUN(test_exists);
    RUN(test_one_upload);
    RUN(test_type_inline);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", data_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", data_dir);
    return check_report();
}
