/* SPDX-License-Identifier: Apache-2.0 */
/* outbox.c - event payload text, written by the store inside the transaction of the change. */
#include "core/common.h"
#include "store/flow_doc.h"
#include "store/outbox.h"
#include "tams/flow_v82.h"
#include "tams/timestamp.h"

/* Events carry the 7.0 view of a flow (docs/tams-8.2-changes.md R1), as webhooks did before 8.2:
 * which version a webhook is sent in is the webhooks' own change. */
void tams_outbox_flow(struct tams_buf *out, const struct tams_flow_rec *rec)
{
    struct tams_flow_rec view = *rec;
    json_object *doc = NULL;
    struct tams_json j;

    if (tams_flow_view70_may_differ(rec->doc) && (doc = json_tokener_parse(rec->doc)) &&
        json_object_is_type(doc, json_type_object)) {
        tams_flow_view70(doc);
        view.doc = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        view.doclen = strlen(view.doc);
    }
    tams_json_init(&j, out);
    tams_json_obj_open(&j);
    tams_json_key(&j, "flow");
    tams_flow_doc_write(&j, &view, NULL);
    tams_json_obj_close(&j);
    json_object_put(doc);
}

void tams_outbox_source(struct tams_buf *out, const struct tams_source_rec *r)
{
    struct tams_json jw, *j = &jw;

    tams_json_init(j, out);
    tams_json_obj_open(j);
    tams_json_key(j, "source");
    tams_source_doc_write(j, r);
    tams_json_obj_close(j);
}

void tams_outbox_id(struct tams_buf *out, const char *key, const char *id)
{
    struct tams_json j;

    tams_json_init(&j, out);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, key, id);
    tams_json_obj_close(&j);
}

void tams_outbox_segments_deleted(struct tams_buf *out, const char *flow_id,
                                  const struct tams_timerange *tr)
{
    struct tams_json j;
    char text[TAMS_TIMERANGE_STRMAX];

    tams_timerange_format(tr, text);
    tams_json_init(&j, out);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "flow_id", flow_id);
    tams_json_kstr(&j, "timerange", text);
    tams_json_obj_close(&j);
}

void tams_outbox_segments_begin(struct tams_json *j, struct tams_buf *out, const char *flow_id)
{
    tams_json_init(j, out);
    tams_json_obj_open(j);
    tams_json_kstr(j, "flow_id", flow_id);
    tams_json_key(j, "segments");
    tams_json_arr_open(j);
}

static void write_ts(struct tams_json *j, const char *key, int64_t ns)
{
    char ts[TAMS_TS_STRMAX];

    tams_ts_format(ns, ts);
    tams_json_kstr(j, key, ts);
}

void tams_outbox_segment(struct tams_json *j, const struct tams_segment *s, bool controlled,
                         const char *storage_id, const char *key)
{
    char tr[TAMS_TIMERANGE_STRMAX];

    tams_timerange_format(&s->tr, tr);
    tams_json_obj_open(j);
    tams_json_kstr(j, "object_id", s->object_id);
    tams_json_kstr(j, "timerange", tr);
    if (s->has & TAMS_SEG_TS_OFFSET)
        write_ts(j, "ts_offset", s->ts_offset);
    if (s->has & TAMS_SEG_LAST_DURATION)
        write_ts(j, "last_duration", s->last_duration);
    if (s->has & TAMS_SEG_SAMPLE_OFFSET)
        tams_json_kint(j, "sample_offset", s->sample_offset);
    if (s->has & TAMS_SEG_SAMPLE_COUNT)
        tams_json_kint(j, "sample_count", s->sample_count);
    if (s->has & TAMS_SEG_KEY_FRAME_COUNT)
        tams_json_kint(j, "key_frame_count", s->key_frame_count);
    if (s->get_urls) {
        tams_json_key(j, "_get_urls");
        tams_json_raw(j, s->get_urls, strlen(s->get_urls));
    }
    tams_json_key(j, "_object");
    tams_json_obj_open(j);
    tams_json_kbool(j, "controlled", controlled);
    if (storage_id)
        tams_json_kstr(j, "storage_id", storage_id);
    if (key)
        tams_json_kstr(j, "key", key);
    tams_json_obj_close(j);
    tams_json_obj_close(j);
}

void tams_outbox_segments_end(struct tams_json *j)
{
    tams_json_arr_close(j);
    tams_json_obj_close(j);
}

char *tams_outbox_join(const char *const *ids, size_t n)
{
    struct tams_buf b = TAMS_BUF_INIT(1 << 20);

    if (!n)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i)
            tams_buf_addch(&b, ',');
        tams_buf_addstr(&b, ids[i]);
    }
    return tams_buf_detach(&b, NULL);
}
