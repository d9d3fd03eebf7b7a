/* SPDX-License-Identifier: Apache-2.0 */
/* seg_timing.c - object_timerange and sample_offset/sample_count, each from the other. */
#include "core/common.h"
#include "api/seg_timing.h"
#include "tams/timerange.h"

#include <json-c/json.h>

static int64_t member_int(json_object *o, const char *name, int64_t dflt)
{
    json_object *v;
    if (!json_object_object_get_ex(o, name, &v))
        return dflt;
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

static int rate_row(void *ctx, const struct tams_flow_rec *rec)
{
    struct tams_seg_rate *r = ctx;
    json_object *doc = json_tokener_parse(rec->doc), *ep, *fr;

    if (json_object_object_get_ex(doc, "essence_parameters", &ep)) {
        if (json_object_object_get_ex(ep, "frame_rate", &fr)) {
            r->num = member_int(fr, "numerator", -1);
            r->den = member_int(fr, "denominator", 1);
        } else {
            r->num = member_int(ep, "sample_rate", -1);
            r->den = 1;
        }
    }
    json_object_put(doc);
    return 0;
}

static bool rate_known(struct tams_seg_rate *r)
{
    if (!r->state) {
        r->num = r->den = -1;
        /* A flow that cannot be read (gone, a store error) has no rate to translate with. */
        tams_store_flow_get(r->st, r->flow_id, rate_row, r);
        r->state = r->num > 0 && r->den > 0 ? 1 : -1;
    }
    return r->state == 1;
}

void tams_seg_timing_derive(struct tams_seg_rate *rate, struct tams_pool *pool,
                            struct tams_segment *seg)
{
    struct tams_timerange obj;
    char text[TAMS_TIMERANGE_STRMAX];
    unsigned has = seg->has;

    if (seg->object_timerange || !(has & (TAMS_SEG_SAMPLE_OFFSET | TAMS_SEG_SAMPLE_COUNT)) ||
        !rate_known(rate))
        return;
    if (tams_timerange_from_samples(&seg->tr, has & TAMS_SEG_TS_OFFSET ? seg->ts_offset : 0,
                                    has & TAMS_SEG_SAMPLE_OFFSET ? seg->sample_offset : 0,
                                    has & TAMS_SEG_SAMPLE_COUNT, seg->sample_count, rate->num,
                                    rate->den, &obj))
        return; /* not exact: the pair alone says it */
    tams_timerange_format(&obj, text);
    seg->object_timerange = tams_pool_strdup(pool, text);
    seg->has |= TAMS_SEG_OTR_DERIVED;
}

void tams_seg_timing_write(struct tams_json *j, struct tams_seg_rate *rate,
                           const struct tams_segment_rec *rec, bool v82, bool include_otr)
{
    const struct tams_segment *s = &rec->seg;
    const char *otr = s->object_timerange ? s->object_timerange : rec->object_timerange;
    int64_t tso = s->has & TAMS_SEG_TS_OFFSET ? s->ts_offset : 0, offset, count;
    bool has_offset = s->has & TAMS_SEG_SAMPLE_OFFSET, has_count = s->has & TAMS_SEG_SAMPLE_COUNT;
    struct tams_timerange obj;
    char text[TAMS_TIMERANGE_STRMAX];

    offset = s->sample_offset;
    count = s->sample_count;
    /* 7.0 has only the pair: said from the object_timerange when the store has none. */
    if (!v82 && !has_offset && !has_count && otr &&
        tams_timerange_parse(otr, strlen(otr), &obj) == 0 && rate_known(rate) &&
        tams_timerange_to_samples(&s->tr, tso, &obj, rate->num, rate->den, &offset, &has_offset,
                                  &count, &has_count))
        has_offset = has_count = false;
    if (has_offset)
        tams_json_kint(j, "sample_offset", offset);
    if (has_count)
        tams_json_kint(j, "sample_count", count);
    if (!v82 || !include_otr)
        return;
    if (otr) {
        tams_json_kstr(j, "object_timerange", otr);
        return;
    }
    /* Never given: the whole object, on its own timeline (8.2's default). */
    obj = s->tr;
    if (__builtin_sub_overflow(obj.lo, tso, &obj.lo) ||
        __builtin_sub_overflow(obj.hi, tso, &obj.hi))
        return;
    tams_timerange_format(&obj, text);
    tams_json_kstr(j, "object_timerange", text);
}
