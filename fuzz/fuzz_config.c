/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_config.c - libFuzzer target: config-file text on fresh defaults must never crash or leak. */
#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tams_config cfg;
    struct tams_buf err = TAMS_BUF_INIT(4096);
    int rc;

    tams_config_defaults(&cfg);
    rc = tams_config_apply_text(&cfg, (const char *)data, size, "fuzz", &err);
    /* An error always comes with a one-line message; success never leaves one. */
    if ((rc != 0) != (err.len != 0) || memchr(err.data, '\n', err.len))
        TAMS_BUG("config error and message disagree");
    if (rc == 0 && (!cfg.listen_host || !cfg.data_dir || !*cfg.data_dir || !cfg.database ||
                    !cfg.public_url || !cfg.cors_origins || !cfg.service_name ||
                    !cfg.service_description || !cfg.local_store_id || !cfg.local_store_label))
        TAMS_BUG("config field left NULL");
    tams_config_release(&cfg);
    tams_buf_release(&err);
    return 0;
}
