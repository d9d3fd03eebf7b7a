/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_storage_config.c - libFuzzer target: storage backends files never crash or leak. */
#include "core/common.h"
#include "core/buf.h"
#include "media/storage_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char env_secret[] = "S3_SECRET=from-env";
    static char *envp[] = {env_secret, NULL};
    struct tams_storage_config cfg;
    struct tams_buf why = TAMS_BUF_INIT(4096);
    int rc = tams_storage_config_parse(&cfg, (const char *)data, size,
                                       "11111111-2222-4333-8444-555555555555", "local", envp, &why);
    /* An error always comes with a one-line message; success never leaves one. */
    if ((rc != 0) != (why.len != 0) || memchr(why.data, '\n', why.len))
        TAMS_BUG("storage config error and message disagree");
    if (rc == 0) {
        size_t ndefault = cfg.local_default;
        for (size_t i = 0; i < cfg.ns3; i++) {
            const struct tams_s3_settings *s = &cfg.s3[i];
            if (!s->id || !s->label || !s->bucket || !s->access_key || !s->secret_key ||
                !s->region || !s->prefix || s->nendpoints < 1 ||
                s->nendpoints > TAMS_S3_MAX_ENDPOINTS)
                TAMS_BUG("storage config backend incomplete");
            ndefault += s->is_default;
        }
        if (ndefault > 1)
            TAMS_BUG("two default storage backends");
    } else if (cfg.ns3 || cfg.s3) {
        TAMS_BUG("storage config kept backends after an error");
    }
    tams_storage_config_release(&cfg);
    tams_buf_release(&why);
    return 0;
}
