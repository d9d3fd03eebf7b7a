/* SPDX-License-Identifier: Apache-2.0 */
/* flow_doc.c - the stored document is spliced as text; only server members are written. */
#include "core/common.h"
#include "store/flow_doc.h"

void tams_flow_doc_write(struct tams_json *j, const struct tams_flow_rec *rec,
                         const struct tams_timerange *timerange)
{
    size_t end = rec->doclen;
    bool empty = true;

    /* The document is a JSON object written by json-c: drop its final '}' and append. */
    while (end && rec->doc[end - 1] != '}')
        end--;
    tams_assert(end > 0);
    end--;
    for (size_t i = 1; i < end; i++) {
        char c = rec->doc[i];
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            empty = false;
            break;
        }
    }
    tams_json_raw(j, rec->doc, end);
    /* Continue the object: the writer's comma state belongs to the outer container, so the
     * members below are written as raw text. */
#define MEMBER_STR(key, val)                                                                       \
    do {                                                                                           \
        if (val) {                                                                                 \
            tams_buf_addstr(j->b, empty ? "\"" key "\":" : ",\"" key "\":");                       \
            tams_json_escape(j->b, (val), strlen(val));                                            \
            empty = false;                                                                         \
        }                                                                                          \
    } while (0)
    MEMBER_STR("created", rec->created);
    MEMBER_STR("metadata_updated", rec->metadata_updated);
    MEMBER_STR("segments_updated", rec->segments_updated);
    MEMBER_STR("created_by", rec->created_by);
    MEMBER_STR("updated_by", rec->updated_by);
    if (timerange) {
        char tr[TAMS_TIMERANGE_STRMAX];
        const char *trp = tr;
        tams_timerange_format(timerange, tr);
        MEMBER_STR("timerange", trp);
    }
#undef MEMBER_STR
    if (rec->ncollected_by) {
        tams_buf_addstr(j->b, empty ? "\"collected_by\":[" : ",\"collected_by\":[");
        for (size_t i = 0; i < rec->ncollected_by; i++) {
            if (i)
                tams_buf_addch(j->b, ',');
            tams_json_escape(j->b, rec->collected_by[i], strlen(rec->collected_by[i]));
        }
        tams_buf_addch(j->b, ']');
    }
    tams_buf_addch(j->b, '}');
}

void tams_source_doc_write(struct tams_json *j, const struct tams_source_rec *r, bool v70)
{
    tams_json_obj_open(j);
    tams_json_kstr(j, "id", r->id);
    tams_json_kstr(j, "format", r->format);
    if (r->label)
        tams_json_kstr(j, "label", r->label);
    if (r->description)
        tams_json_kstr(j, "description", r->description);
    tams_json_key(j, "tags");
    tams_json_obj_open(j);
    for (size_t i = 0; i < r->ntags; i++) {
        tams_json_key(j, r->tags[i].name);
        tams_tag_write(j, &r->tags[i], v70);
    }
    tams_json_obj_close(j);
    if (r->created)
        tams_json_kstr(j, "created", r->created);
    if (r->updated)
        tams_json_kstr(j, "updated", r->updated);
    if (r->created_by)
        tams_json_kstr(j, "created_by", r->created_by);
    if (r->updated_by)
        tams_json_kstr(j, "updated_by", r->updated_by);
    if (r->nsource_collection) {
        tams_json_key(j, "source_collection");
        tams_json_arr_open(j);
        for (size_t i = 0; i < r->nsource_collection; i++) {
            tams_json_obj_open(j);
            tams_json_kstr(j, "id", r->source_collection[i].id);
            /* a flow collected without a role (8.2) is stored with "": 7.0 needs the member */
            if (v70 || r->source_collection[i].role[0])
                tams_json_kstr(j, "role", r->source_collection[i].role);
            tams_json_obj_close(j);
        }
        tams_json_arr_close(j);
    }
    if (r->ncollected_by) {
        tams_json_key(j, "collected_by");
        tams_json_arr_open(j);
        for (size_t i = 0; i < r->ncollected_by; i++)
            tams_json_str(j, r->collected_by[i]);
        tams_json_arr_close(j);
    }
    tams_json_obj_close(j);
}
