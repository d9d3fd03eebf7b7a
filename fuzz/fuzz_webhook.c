/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_webhook.c - libFuzzer target: JSON bytes -> webhook registration -> listing form. */
#include "core/common.h"
#include "core/buf.h"
#include "events/webhook.h"

#include <limits.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Under 8.2 (POST and PUT): what is stored re-parses as delivery reads it (the doc, with the
 * key put back), and the 8.2 view is JSON without the secret. */
static void check_82(json_object *body)
{
    static const unsigned flags[] = {TAMS_WEBHOOK_V82, TAMS_WEBHOOK_V82 | TAMS_WEBHOOK_PUT};

    for (size_t k = 0; k < TAMS_ARRAY_SIZE(flags); k++) {
        struct tams_webhook_reg reg, stored;
        struct tams_buf why = TAMS_BUF_INIT(1024), doc = TAMS_BUF_INIT(1 << 20),
                        view = TAMS_BUF_INIT(1 << 21);
        json_object *again;
        int rc = tams_webhook_parse_as(body, flags[k], &reg, &why);

        tams_assert(rc == 0 || rc == TAMS_ERR_VALIDATION);
        if (rc == 0) {
            tams_assert(!(flags[k] & TAMS_WEBHOOK_PUT) || (reg.id && reg.status));
            tams_webhook_doc(&reg, &doc);
            again = json_tokener_parse(doc.data);
            tams_assert(again);
            if (reg.api_key_name)
                json_object_object_add(again, "api_key_value", json_object_new_string("k"));
            tams_buf_reset(&why);
            rc =
                tams_webhook_parse_as(again, TAMS_WEBHOOK_STORED | TAMS_WEBHOOK_V82, &stored, &why);
            tams_assert(rc == 0);
            tams_assert(stored.events == reg.events && stored.v82);
            tams_webhook_reg_release(&stored);
            json_object_put(again);
            tams_webhook_view(&view, doc.data, true, "id", "created", NULL);
            again = json_tokener_parse(view.data);
            tams_assert(again && !json_object_object_get_ex(again, "api_key_value", NULL));
            json_object_put(again);
            tams_webhook_reg_release(&reg);
        }
        tams_buf_release(&why);
        tams_buf_release(&doc);
        tams_buf_release(&view);
    }
}

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
    check_82(body);
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
