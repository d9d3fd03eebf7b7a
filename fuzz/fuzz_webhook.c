/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_webhook.c - libFuzzer target: JSON bytes -> webhook registration -> listing form. */
#include "core/common.h"
#include "core/buf.h"
#include "events/webhook.h"

#include <limits.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_tokener *tok;
    struct tams_webhook_reg reg;
    struct tams_buf why = TAMS_BUF_INIT(1024), doc = TAMS_BUF_INIT(1 << 20);
    json_object *body, *again;
    int rc;

    if (size > (size_t)INT_MAX)
        return 0;
    tok = json_tokener_new_ex(32);
    if (!tok)
        return 0;
    body = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!body)
        return 0;
    rc = tams_webhook_parse(body, &reg, &why);
    tams_assert(rc == 0 || rc == TAMS_ERR_VALIDATION);
    tams_assert(rc == 0 ? why.len == 0 : why.len > 0);
    if (rc == 0) {
        tams_assert(reg.url && reg.host && reg.host[0]);
        tams_assert(!reg.api_key_name == !reg.api_key_value);
        for (int i = 0; i < TAMS_WEBHOOK_NEVENTS; i++)
            if (reg.events & (1u << i))
                (void)tams_webhook_wants(&reg, tams_webhook_events[i], reg.url, reg.url, reg.url,
                                         NULL);
        /* The listing form is JSON without the secret. */
        tams_webhook_doc(&reg, &doc);
        again = json_tokener_parse(doc.data);
        tams_assert(again && !json_object_object_get_ex(again, "api_key_value", NULL));
        json_object_put(again);
        tams_webhook_reg_release(&reg);
    }
    json_object_put(body);
    tams_buf_release(&why);
    tams_buf_release(&doc);
    return 0;
}
