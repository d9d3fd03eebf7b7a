/* SPDX-License-Identifier: Apache-2.0 */
/* outbox.c - event payload text, written by the store inside the transaction of the change. */
#include "core/common.h"
#include "store/flow_doc.h"
#include "store/outbox.h"
#include "tams/timestamp.h"

void tams_outbox_flow(struct tams_buf *out, const struct tams_flow_rec *rec)
{
    struct tams_json j;
    tams_json_init(&j, out);
    tams_json_obj_open(&j);
    tams_json_key(&j, "flow");
    tams_flow_doc_write(&j, rec, NULL);
    tams_json_obj_close(&j);
}

void tams_outbox_source(struct tams_buf *out, const struct tams_source_rec *r)
{
    struct tams_json jw, *j = &jw;

    tams_json_init(j, out);
    tams_json_obj_open(j);
    tams_json_key(j, "source");
    tams_source_doc_write(j, r, false);
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

/* 8.2's object_timerange, always (as GET with include_object_timerange=true): as registered,
 * else the segment's timerange less its ts_offset (the whole object). Delivery shows it only
 * to an 8.2 webhook that asks for it (events/message.c). */
static void write_object_timerange(struct tams_json *j, const struct tams_segment *s)
{
    struct tams_timerange o = s->tr;
    int64_t off = (s->has & TAMS_SEG_TS_OFFSET) ? s->ts_offset : 0;
    char text[TAMS_TIMERANGE_STRMAX];

    if (s->object_timerange) {
        tams_json_kstr(j, "object_timerange", s->object_timerange);
        return;
    }
    if (__builtin_sub_overflow(o.lo, off, &o.lo) || __builtin_sub_overflow(o.hi, off, &o.hi))
        return;
    tams_timerange_format(&o, text);
    tams_json_kstr(j, "object_timerange", text);
}

static void write_where(struct tams_json *j, const struct tams_outbox_where *w)
{
    tams_json_kbool(j, "controlled", w->controlled);
    if (w->storage_id)
        tams_json_kstr(j, "storage_id", w->storage_id);
    if (w->key)
        tams_json_kstr(j, "key", w->key);
}

void tams_outbox_segment(struct tams_json *j, const struct tams_segment *s,
                         const struct tams_outbox_where *object,
                         const struct tams_outbox_where *init)
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
    write_object_timerange(j, s);
    if (s->get_urls) {
        tams_json_key(j, "_get_urls");
        tams_json_raw(j, s->get_urls, strlen(s->get_urls));
    }
    tams_json_key(j, "_object");
    tams_json_obj_open(j);
    write_where(j, object);
    tams_json_obj_close(j);
    if (s->init_object_id && init) {
        tams_json_key(j, "_init");
        tams_json_obj_open(j);
        tams_json_kstr(j, "object_id", s->init_object_id);
        write_where(j, init);
        tams_json_obj_close(j);
    }
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
