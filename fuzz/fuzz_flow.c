/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_flow.c - libFuzzer target: JSON bytes -> Flow validation -> index -> strip. */
#include "core/common.h"
#include "core/buf.h"
#include "tams/flow.h"

#include <limits.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_tokener *tok;
    json_object *doc;
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_flow_index idx;
    int rc;

    if (size > (size_t)INT_MAX)
        return 0;
    tok = json_tokener_new_ex(32);
    if (!tok)
        return 0;
    doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!doc)
        return 0;

    rc = tams_flow_validate(doc, &why);
    tams_assert(rc == 0 || rc == TAMS_ERR_VALIDATION);
    tams_assert(rc == 0 ? why.len == 0 : why.len > 0);
    /* index_build validates again and must agree. */
    tams_buf_reset(&why);
    tams_assert(tams_flow_index_build(doc, &idx, &why) == rc);
    if (rc == 0) {
        tams_assert(idx.id && idx.source_id && idx.format);
        for (size_t i = 0; i < idx.ntags; i++)
            tams_assert(idx.tags[i].name && idx.tags[i].value);
        for (size_t i = 0; i < idx.ncollection; i++)
            tams_assert(idx.collection[i].id && idx.collection[i].role);
        tams_assert(strlen(idx.id) == 36 && strlen(idx.source_id) == 36);
    }
    tams_flow_index_release(&idx);

    /* A valid Flow stays valid once the server members are stripped. */
    tams_flow_strip_server_members(doc);
    if (rc == 0)
        tams_assert(tams_flow_validate(doc, NULL) == 0);

    json_object_put(doc);
    tams_buf_release(&why);
    return 0;
}
