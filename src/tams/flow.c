/* SPDX-License-Identifier: Apache-2.0 */
/* flow.c - Flow validation against the TAMS 7.0 schemas, and the indexed members of a Flow. */
#include "core/common.h"
#include "core/buf.h"
#include "core/hex.h"
#include "core/random.h"
#include "tams/flow.h"

/*
 * The schemas are transcribed as tables (struct schema) and checked by one walker, so that each
 * table reads like the JSON Schema file it comes from. Deliberate readings of the schemas:
 *
 * - "integer" means a json-c int. A JSON number with a fraction or exponent (json_type_double)
 *   is not an integer, even when its value is integral (1.0). Integers beyond int64 are clamped
 *   by json-c, which keeps their sign, so minimum checks stay right.
 * - Only essence_parameters is closed (additionalProperties:false). Its nested objects
 *   (unc_parameters, avc_parameters, codec_parameters, the rationals) are open in the 7.0 files,
 *   as is the Flow top level, so unknown members there are accepted.
 * - `format: date-time` is an annotation: created/metadata_updated/segments_updated must be
 *   strings but are not parsed (the 7.0 data example has a zone-less value, and the members are
 *   server-managed anyway). `timerange` is likewise only type-checked: it is ignored on input.
 * - Patterns are ECMA-262 regular expressions over code points: `\s` is the ECMAScript
 *   whitespace set (including U+00A0, U+2028, U+FEFF ...), `.` is any code point but a line
 *   terminator, and `$` matches only at the very end.
 */

const char *const tams_flow_server_members[] = {
    "created",    "metadata_updated", "segments_updated", "created_by",
    "updated_by", "collected_by",     "timerange",        NULL,
};

const char *const tams_flow_statuses[] = {
    "awaiting_content", "ingesting", "replication_in_progress", "closed_complete", NULL,
};

static const char *const formats[] = {
    "urn:x-nmos:format:video", "urn:x-tam:format:image",  "urn:x-nmos:format:audio",
    "urn:x-nmos:format:data",  "urn:x-nmos:format:multi", NULL,
};

enum kind {
    K_STRING,
    K_BOOL,
    K_INT,     /* any integer */
    K_INT_GE0, /* minimum: 0 */
    K_INT_GT0, /* exclusiveMinimum: 0 */
    K_ENUM,
    K_UUID,
    K_MIME,
    K_OBJECT,
    K_TAGS,
    K_COLLECTION,
    K_UUID_ARRAY,
    K_CHANNEL_NUMBERS, /* array, minItems 1, items integer >= 0 */
    K_CHANNEL_RANGE,   /* ^[0-9]+_[0-9]+$ */
    K_PACKAGE_UID,     /* SMPTE UMID URN or UUID URN */
};

struct schema;

/* Which versions know a member: a V_82 member is unknown to 7.0 (refused where the object is
 * closed); a V_REQ70 member is required by 7.0 only (collection item role, ADR0056). */
enum since { V_ALL, V_82, V_REQ70 };

struct prop {
    const char *name;
    enum kind kind;
    bool required;
    const char *const *enumv; /* K_ENUM: NULL-terminated */
    const struct schema *sub; /* K_OBJECT */
    enum since since;
};

struct schema {
    const struct prop *props;
    size_t nprops;
    bool closed; /* additionalProperties: false */
};

#define SCHEMA(props, closed)                                                                      \
    {                                                                                              \
        (props), TAMS_ARRAY_SIZE(props), (closed)                                                  \
    }

struct vctx {
    struct tams_buf *why;
    const char *self_id; /* the Flow's own id, once validated */
    enum tams_flow_rules rules;
};

/* ---- schema tables ------------------------------------------------------------------------ */

/* frame_rate, segment_duration: denominator defaults to 1. */
static const struct prop rational_props[] = {
    {"numerator", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"denominator", K_INT_GT0, false, NULL, NULL, V_ALL},
};
static const struct schema rational_schema = SCHEMA(rational_props, false);

/* aspect_ratio, pixel_aspect_ratio: both members required. */
static const struct prop ratio_props[] = {
    {"numerator", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"denominator", K_INT_GT0, true, NULL, NULL, V_ALL},
};
static const struct schema ratio_schema = SCHEMA(ratio_props, false);

static const char *const interlace_modes[] = {"progressive", "interlaced_tff", "interlaced_bff",
                                              "interlaced_psf", NULL};
static const char *const colorspaces[] = {"BT601", "BT709", "BT2020", "BT2100", NULL};
static const char *const transfer_characteristics[] = {"SDR", "HLG", "PQ", NULL};
static const char *const component_types[] = {"YCbCr", "RGB", NULL};
static const char *const video_unc_types[] = {
    "planar", "YUYV", "UYVY", "AYUV", "v210", "v216", "RGB",   "RGBx", "xRGB",
    "BGRx",   "xBGR", "RGBA", "ARGB", "BGRA", "ABGR", "alpha", NULL,
};
static const char *const audio_unc_types[] = {"interleaved", "planar", "pairs", NULL};

static const struct prop video_unc_props[] = {
    {"unc_type", K_ENUM, true, video_unc_types, NULL, V_ALL},
};
static const struct schema video_unc_schema = SCHEMA(video_unc_props, false);

static const struct prop avc_props[] = {
    {"profile", K_INT, true, NULL, NULL, V_ALL},
    {"level", K_INT, true, NULL, NULL, V_ALL},
    {"flags", K_INT, true, NULL, NULL, V_ALL},
};
static const struct schema avc_schema = SCHEMA(avc_props, false);

static const struct prop video_ep_props[] = {
    {"frame_width", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"frame_height", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"frame_rate", K_OBJECT, false, NULL, &rational_schema, V_ALL},
    {"bit_depth", K_INT_GT0, false, NULL, NULL, V_ALL},
    {"interlace_mode", K_ENUM, false, interlace_modes, NULL, V_ALL},
    {"colorspace", K_ENUM, false, colorspaces, NULL, V_ALL},
    {"transfer_characteristic", K_ENUM, false, transfer_characteristics, NULL, V_ALL},
    {"aspect_ratio", K_OBJECT, false, NULL, &ratio_schema, V_ALL},
    {"pixel_aspect_ratio", K_OBJECT, false, NULL, &ratio_schema, V_ALL},
    {"component_type", K_ENUM, false, component_types, NULL, V_ALL},
    {"horiz_chroma_subs", K_INT_GT0, false, NULL, NULL, V_ALL},
    {"vert_chroma_subs", K_INT_GT0, false, NULL, NULL, V_ALL},
    {"unc_parameters", K_OBJECT, false, NULL, &video_unc_schema, V_ALL},
    {"avc_parameters", K_OBJECT, false, NULL, &avc_schema, V_ALL},
    {"vfr", K_BOOL, false, NULL, NULL, V_82},
    {"init_segments", K_BOOL, false, NULL, NULL, V_82},
};
static const struct schema video_ep_schema = SCHEMA(video_ep_props, true);

static const struct prop audio_codec_props[] = {
    {"coded_frame_size", K_INT, false, NULL, NULL, V_ALL},
    {"mp4_oti", K_INT, false, NULL, NULL, V_ALL},
};
static const struct schema audio_codec_schema = SCHEMA(audio_codec_props, false);

static const struct prop audio_unc_props[] = {
    {"unc_type", K_ENUM, true, audio_unc_types, NULL, V_ALL},
};
static const struct schema audio_unc_schema = SCHEMA(audio_unc_props, false);

static const struct prop audio_ep_props[] = {
    {"sample_rate", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"channels", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"bit_depth", K_INT_GT0, false, NULL, NULL, V_ALL},
    {"codec_parameters", K_OBJECT, false, NULL, &audio_codec_schema, V_ALL},
    {"unc_parameters", K_OBJECT, false, NULL, &audio_unc_schema, V_ALL},
    {"init_segments", K_BOOL, false, NULL, NULL, V_82},
};
static const struct schema audio_ep_schema = SCHEMA(audio_ep_props, true);

static const struct prop image_ep_props[] = {
    {"frame_width", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"frame_height", K_INT_GT0, true, NULL, NULL, V_ALL},
    {"aspect_ratio", K_OBJECT, false, NULL, &ratio_schema, V_ALL},
};
static const struct schema image_ep_schema = SCHEMA(image_ep_props, true);

static const struct prop data_ep_props[] = {
    {"data_type", K_STRING, false, NULL, NULL, V_ALL},
    {"init_segments", K_BOOL, false, NULL, NULL, V_82},
};
static const struct schema data_ep_schema = SCHEMA(data_ep_props, true);

/* 8.2's typed multi essence_parameters (7.0 left it unconstrained). */
static const struct prop multi_ep_props[] = {
    {"init_segments", K_BOOL, false, NULL, NULL, V_82},
};
static const struct schema multi_ep_schema = SCHEMA(multi_ep_props, true);

/* container-mapping.json */
static const struct prop audio_track_props[] = {
    {"channel_numbers", K_CHANNEL_NUMBERS, false, NULL, NULL, V_ALL},
    {"channel_range", K_CHANNEL_RANGE, false, NULL, NULL, V_ALL},
};
static const struct schema audio_track_schema = SCHEMA(audio_track_props, false);

static const struct prop mp2ts_props[] = {
    {"pid", K_INT, false, NULL, NULL, V_ALL},
};
static const struct schema mp2ts_schema = SCHEMA(mp2ts_props, false);

static const struct prop mxf_props[] = {
    {"package_uid", K_PACKAGE_UID, false, NULL, NULL, V_ALL},
    {"track_id", K_INT, false, NULL, NULL, V_ALL},
};
static const struct schema mxf_schema = SCHEMA(mxf_props, false);

static const struct prop isobmff_props[] = {
    {"track_id", K_INT, false, NULL, NULL, V_ALL},
};
static const struct schema isobmff_schema = SCHEMA(isobmff_props, false);

static const struct prop cmap_props[] = {
    {"track_index", K_INT_GE0, false, NULL, NULL, V_ALL},
    {"format_track_index", K_INT_GE0, false, NULL, NULL, V_ALL},
    {"audio_track", K_OBJECT, false, NULL, &audio_track_schema, V_ALL},
    {"mp2ts_container", K_OBJECT, false, NULL, &mp2ts_schema, V_ALL},
    {"mxf_container", K_OBJECT, false, NULL, &mxf_schema, V_ALL},
    {"isobmff_container", K_OBJECT, false, NULL, &isobmff_schema, V_ALL},
};
static const struct schema cmap_schema = SCHEMA(cmap_props, false);

/* collection-item.json + flow-collection.json's container_mapping */
static const struct prop item_props[] = {
    {"id", K_UUID, true, NULL, NULL, V_ALL},
    {"role", K_STRING, false, NULL, NULL, V_REQ70},
    {"container_mapping", K_OBJECT, false, NULL, &cmap_schema, V_ALL},
};
static const struct schema item_schema = SCHEMA(item_props, false);

/* flow-core.json, plus `format`, which every variant requires and which selects the variant. */
static const struct prop core_props[] = {
    {"id", K_UUID, true, NULL, NULL, V_ALL},
    {"source_id", K_UUID, true, NULL, NULL, V_ALL},
    {"format", K_ENUM, true, formats, NULL, V_ALL},
    {"label", K_STRING, false, NULL, NULL, V_ALL},
    {"description", K_STRING, false, NULL, NULL, V_ALL},
    {"created_by", K_STRING, false, NULL, NULL, V_ALL},
    {"updated_by", K_STRING, false, NULL, NULL, V_ALL},
    {"tags", K_TAGS, false, NULL, NULL, V_ALL},
    {"metadata_version", K_STRING, false, NULL, NULL, V_ALL},
    {"generation", K_INT_GE0, false, NULL, NULL, V_ALL},
    {"created", K_STRING, false, NULL, NULL, V_ALL},
    {"metadata_updated", K_STRING, false, NULL, NULL, V_ALL},
    {"segments_updated", K_STRING, false, NULL, NULL, V_ALL},
    {"read_only", K_BOOL, false, NULL, NULL, V_ALL},
    {"codec", K_MIME, false, NULL, NULL, V_ALL},
    {"container", K_MIME, false, NULL, NULL, V_ALL},
    {"avg_bit_rate", K_INT_GE0, false, NULL, NULL, V_ALL},
    {"max_bit_rate", K_INT_GE0, false, NULL, NULL, V_ALL},
    {"segment_duration", K_OBJECT, false, NULL, &rational_schema, V_ALL},
    {"timerange", K_STRING, false, NULL, NULL, V_ALL},
    {"flow_collection", K_COLLECTION, false, NULL, NULL, V_ALL},
    {"collected_by", K_UUID_ARRAY, false, NULL, NULL, V_ALL},
    {"container_mapping", K_OBJECT, false, NULL, &cmap_schema, V_ALL},
    {"status", K_ENUM, false, tams_flow_statuses, NULL, V_82},
    {"profile_id", K_UUID, false, NULL, NULL, V_82},
};
static const struct schema core_schema = SCHEMA(core_props, false);

/* Variants other than multi require codec and essence_parameters. */
struct variant {
    const char *format;
    const struct schema *ep; /* NULL: multi, nothing beyond the core */
};

static const struct variant variants[] = {
    {"urn:x-nmos:format:video", &video_ep_schema},
    {"urn:x-tam:format:image", &image_ep_schema},
    {"urn:x-nmos:format:audio", &audio_ep_schema},
    {"urn:x-nmos:format:data", &data_ep_schema},
    {"urn:x-nmos:format:multi", NULL},
};

/* Is p a member under these rules, and is it required? */
static bool prop_known(const struct vctx *c, const struct prop *p)
{
    return p->since != V_82 || c->rules != TAMS_FLOW_RULES_70;
}

static bool prop_required(const struct vctx *c, const struct prop *p)
{
    return p->required || (p->since == V_REQ70 && c->rules == TAMS_FLOW_RULES_70);
}

/* ---- patterns ----------------------------------------------------------------------------- */

/* Decode one UTF-8 code point of s[0..n) (n > 0) into *cp; returns its length. A malformed
 * sequence counts as one code point U+FFFD of length 1, so every byte string can be walked. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        c &= 0x07;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (len > n)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            goto bad;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)))
        goto bad;
    *cp = c;
    return len;
bad:
    *cp = 0xfffd;
    return 1;
}

static bool is_line_terminator(uint32_t c)
{
    return c == 0x0a || c == 0x0d || c == 0x2028 || c == 0x2029;
}

/* ECMAScript \s: WhiteSpace and LineTerminator. */
static bool is_ecma_space(uint32_t c)
{
    switch (c) {
    case 0x09:
    case 0x0b:
    case 0x0c:
    case 0x20:
    case 0xa0:
    case 0x1680:
    case 0x202f:
    case 0x205f:
    case 0x3000:
    case 0xfeff:
        return true;
    default:
        return is_line_terminator(c) || (c >= 0x2000 && c <= 0x200a);
    }
}

/* ^[^\s/]+/[^\s/]+$ over s[0..n) */
static bool mime_valid_n(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int slashes = 0;
    while (i < n) {
        uint32_t c;
        i += utf8_next(p + i, n - i, &c);
        if (c == '/') {
            if (run == 0 || ++slashes > 1)
                return false;
            run = 0;
        } else if (is_ecma_space(c)) {
            return false;
        } else {
            run++;
        }
    }
    return slashes == 1 && run > 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ^[0-9]+_[0-9]+$ */
static bool channel_range_valid(const char *s, size_t n)
{
    size_t i = 0, a, b;
    while (i < n && is_digit(s[i]))
        i++;
    a = i;
    if (a == 0 || i >= n || s[i] != '_')
        return false;
    i++;
    while (i < n && is_digit(s[i]))
        i++;
    b = i - a - 1;
    return b > 0 && i == n;
}

static bool hex_run(const char *s, size_t n, size_t *i, size_t count)
{
    if (n - *i < count)
        return false;
    for (size_t k = 0; k < count; k++)
        if (tams_hex_digit(s[*i + k]) < 0)
            return false;
    *i += count;
    return true;
}

/* ^urn:smpte:umid:[0-9a-fA-F]{8}(.[0-9a-fA-F]{8}){7}$ or
 * ^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ */
static bool package_uid_valid(const char *s, size_t n)
{
    static const char umid[] = "urn:smpte:umid:", uuid[] = "urn:uuid:";
    size_t i;
    if (n >= sizeof(umid) - 1 && memcmp(s, umid, sizeof(umid) - 1) == 0) {
        i = sizeof(umid) - 1;
        if (!hex_run(s, n, &i, 8))
            return false;
        for (int g = 0; g < 7; g++) {
            uint32_t c;
            if (i >= n)
                return false;
            i += utf8_next((const unsigned char *)s + i, n - i, &c);
            if (is_line_terminator(c) || !hex_run(s, n, &i, 8))
                return false;
        }
        return i == n;
    }
    if (n >= sizeof(uuid) - 1 && memcmp(s, uuid, sizeof(uuid) - 1) == 0) {
        static const size_t groups[] = {8, 4, 4, 4, 12};
        i = sizeof(uuid) - 1;
        for (size_t g = 0; g < TAMS_ARRAY_SIZE(groups); g++) {
            if (g > 0) {
                if (i >= n || s[i] != '-')
                    return false;
                i++;
            }
            if (!hex_run(s, n, &i, groups[g]))
                return false;
        }
        return i == n;
    }
    return false;
}

bool tams_format_valid(const char *s)
{
    if (!s)
        return false;
    for (size_t i = 0; formats[i]; i++)
        if (strcmp(s, formats[i]) == 0)
            return true;
    return false;
}

bool tams_mime_valid(const char *s)
{
    return s && mime_valid_n(s, strlen(s));
}

/* ---- the walker --------------------------------------------------------------------------- */

/* Appends "<pfx><name><what>" to why; returns TAMS_ERR_VALIDATION. Names are clipped so that a
 * hostile key cannot fill the buffer. */
static int fail(const struct vctx *c, const char *pfx, const char *name, const char *what)
{
    if (c->why)
        tams_buf_addf(c->why, "%s%.64s%s %s", pfx, name, strlen(name) > 64 ? "..." : "", what);
    return TAMS_ERR_VALIDATION;
}

static int fail_enum(const struct vctx *c, const char *pfx, const char *name,
                     const char *const *enumv)
{
    if (c->why) {
        tams_buf_addf(c->why, "%s%s must be one of ", pfx, name);
        for (size_t i = 0; enumv[i]; i++)
            tams_buf_addf(c->why, "%s%s", i ? ", " : "", enumv[i]);
    }
    return TAMS_ERR_VALIDATION;
}

static bool is_string(json_object *v)
{
    return json_object_is_type(v, json_type_string);
}

/* json_type_int only: a double is never an integer here (see the top of the file). */
static bool get_int(json_object *v, int64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_int64(v);
    return true;
}

static bool string_in(json_object *v, const char *const *enumv)
{
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    for (size_t i = 0; enumv[i]; i++)
        if (strlen(enumv[i]) == n && memcmp(s, enumv[i], n) == 0)
            return true;
    return false;
}

static int check_object(const struct vctx *c, json_object *obj, const struct schema *sc,
                        const char *pfx);

static int check_object_member(const struct vctx *c, json_object *v, const struct schema *sc,
                               const char *pfx, const char *name)
{
    char sub[192];
    if (!json_object_is_type(v, json_type_object))
        return fail(c, pfx, name, "must be an object");
    snprintf(sub, sizeof(sub), "%s%s.", pfx, name);
    return check_object(c, v, sc, sub);
}

static int check_tags(const struct vctx *c, json_object *v, const char *pfx, const char *name)
{
    char sub[192];
    struct json_object_iterator it, end;
    if (!json_object_is_type(v, json_type_object))
        return fail(c, pfx, name, "must be an object");
    snprintf(sub, sizeof(sub), "%s%s.", pfx, name);
    it = json_object_iter_begin(v);
    end = json_object_iter_end(v);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        if (!tams_tag_json_valid(json_object_iter_peek_value(&it), true))
            return fail(c, sub, json_object_iter_peek_name(&it),
                        "must be a string or an array of strings");
    }
    return 0;
}

static int check_collection(const struct vctx *c, json_object *v, const char *pfx, const char *name)
{
    size_t n;
    if (!json_object_is_type(v, json_type_array))
        return fail(c, pfx, name, "must be an array");
    n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(v, i), *id;
        char sub[192];
        int rc;
        snprintf(sub, sizeof(sub), "%s%s[%zu]", pfx, name, i);
        if (!json_object_is_type(item, json_type_object))
            return fail(c, sub, "", "must be an object");
        snprintf(sub, sizeof(sub), "%s%s[%zu].", pfx, name, i);
        rc = check_object(c, item, &item_schema, sub);
        if (rc)
            return rc;
        /* A Flow collecting itself makes a cycle; 7.0 is silent, the notes decide 400. */
        if (c->self_id && json_object_object_get_ex(item, "id", &id) &&
            strcmp(json_object_get_string(id), c->self_id) == 0)
            return fail(c, sub, "id", "must not be the flow's own id");
    }
    return 0;
}

/* Arrays of scalars: collected_by (UUIDs) and channel_numbers (integers >= 0, minItems 1). */
static int check_scalar_array(const struct vctx *c, json_object *v, enum kind kind, const char *pfx,
                              const char *name)
{
    size_t n;
    char sub[192];
    if (!json_object_is_type(v, json_type_array))
        return fail(c, pfx, name, "must be an array");
    n = json_object_array_length(v);
    if (kind == K_CHANNEL_NUMBERS && n < 1)
        return fail(c, pfx, name, "must not be empty");
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        int64_t x;
        snprintf(sub, sizeof(sub), "%s%s[%zu]", pfx, name, i);
        if (kind == K_UUID_ARRAY) {
            if (!is_string(e) ||
                !tams_uuid_valid(json_object_get_string(e), (size_t)json_object_get_string_len(e)))
                return fail(c, sub, "", "must be a UUID");
        } else if (!get_int(e, &x) || x < 0) {
            return fail(c, sub, "", "must be an integer >= 0");
        }
    }
    return 0;
}

static int check_value(const struct vctx *c, json_object *v, const struct prop *p, const char *pfx)
{
    int64_t x;
    switch (p->kind) {
    case K_STRING:
        return is_string(v) ? 0 : fail(c, pfx, p->name, "must be a string");
    case K_BOOL:
        return json_object_is_type(v, json_type_boolean)
                   ? 0
                   : fail(c, pfx, p->name, "must be a boolean");
    case K_INT:
        return get_int(v, &x) ? 0 : fail(c, pfx, p->name, "must be an integer");
    case K_INT_GE0:
        return get_int(v, &x) && x >= 0 ? 0 : fail(c, pfx, p->name, "must be an integer >= 0");
    case K_INT_GT0:
        return get_int(v, &x) && x > 0 ? 0 : fail(c, pfx, p->name, "must be an integer > 0");
    case K_ENUM:
        return is_string(v) && string_in(v, p->enumv) ? 0 : fail_enum(c, pfx, p->name, p->enumv);
    case K_UUID:
        if (is_string(v) &&
            tams_uuid_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
            return 0;
        return fail(c, pfx, p->name,
                    "must be a UUID (lowercase hex, version 1-5, variant 8, 9, a or b)");
    case K_MIME:
        if (is_string(v) &&
            mime_valid_n(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
            return 0;
        return fail(c, pfx, p->name, "must be a MIME type: type/subtype, without whitespace");
    case K_CHANNEL_RANGE:
        if (is_string(v) &&
            channel_range_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
            return 0;
        return fail(c, pfx, p->name, "must be a string of the form <first>_<last>");
    case K_PACKAGE_UID:
        if (is_string(v) &&
            package_uid_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
            return 0;
        return fail(c, pfx, p->name, "must be a SMPTE UMID URN or a UUID URN");
    case K_OBJECT:
        return check_object_member(c, v, p->sub, pfx, p->name);
    case K_TAGS:
        return check_tags(c, v, pfx, p->name);
    case K_COLLECTION:
        return check_collection(c, v, pfx, p->name);
    case K_UUID_ARRAY:
    case K_CHANNEL_NUMBERS:
        return check_scalar_array(c, v, p->kind, pfx, p->name);
    }
    TAMS_BUG("unknown schema kind");
}

static int check_object(const struct vctx *c, json_object *obj, const struct schema *sc,
                        const char *pfx)
{
    for (size_t i = 0; i < sc->nprops; i++) {
        const struct prop *p = &sc->props[i];
        json_object *v;
        int rc;
        if (!prop_known(c, p))
            continue;
        if (!json_object_object_get_ex(obj, p->name, &v)) {
            if (prop_required(c, p))
                return fail(c, pfx, p->name, "is required");
            continue;
        }
        rc = check_value(c, v, p, pfx);
        if (rc)
            return rc;
    }
    if (sc->closed) {
        struct json_object_iterator it = json_object_iter_begin(obj);
        struct json_object_iterator end = json_object_iter_end(obj);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *key = json_object_iter_peek_name(&it);
            bool known = false;
            for (size_t i = 0; i < sc->nprops && !known; i++)
                known = prop_known(c, &sc->props[i]) && strcmp(key, sc->props[i].name) == 0;
            if (!known)
                return fail(c, pfx, key, "is not allowed");
        }
    }
    return 0;
}

static const struct variant *variant_of(json_object *doc)
{
    json_object *f;
    const char *s;
    if (!json_object_object_get_ex(doc, "format", &f) || !is_string(f))
        return NULL;
    s = json_object_get_string(f);
    for (size_t i = 0; i < TAMS_ARRAY_SIZE(variants); i++)
        if (strcmp(s, variants[i].format) == 0)
            return &variants[i];
    return NULL;
}

/* ADR0040: a fixed rate (vfr false or absent) needs frame_rate, a variable one must not have it. */
static int check_vfr(const struct vctx *c, json_object *ep)
{
    json_object *vfr;
    bool variable = json_object_object_get_ex(ep, "vfr", &vfr) && json_object_get_boolean(vfr);
    bool has_rate = json_object_object_get_ex(ep, "frame_rate", NULL);

    if (!variable && !has_rate)
        return fail(c, "", "essence_parameters.frame_rate", "is required unless vfr is true");
    if (variable && has_rate)
        return fail(c, "", "essence_parameters.frame_rate", "must not be set when vfr is true");
    return 0;
}

int tams_flow_validate(json_object *doc, struct tams_buf *why)
{
    return tams_flow_validate_rules(doc, TAMS_FLOW_RULES_STORED, why);
}

int tams_flow_validate_rules(json_object *doc, enum tams_flow_rules rules, struct tams_buf *why)
{
    struct vctx c = {why, NULL, rules};
    const struct variant *var;
    json_object *id, *ep;
    int rc;

    if (!json_object_is_type(doc, json_type_object)) {
        if (why)
            tams_buf_addstr(why, "the flow must be a JSON object");
        return TAMS_ERR_VALIDATION;
    }
    /* id comes first in core_props, so it is valid by the time flow_collection is checked. */
    if (json_object_object_get_ex(doc, "id", &id) && is_string(id) &&
        tams_uuid_valid(json_object_get_string(id), (size_t)json_object_get_string_len(id)))
        c.self_id = json_object_get_string(id);
    rc = check_object(&c, doc, &core_schema, "");
    if (rc)
        return rc;

    var = variant_of(doc);
    tams_assert(var); /* format passed the enum check */
    if (!var->ep) {
        /* Stored multi flows may carry 7.0's free essence_parameters; 8.2 input may not. */
        if (rules == TAMS_FLOW_RULES_82 &&
            json_object_object_get_ex(doc, "essence_parameters", &ep))
            return check_object_member(&c, ep, &multi_ep_schema, "", "essence_parameters");
        return 0;
    }
    if (!json_object_object_get_ex(doc, "codec", NULL))
        return fail(&c, "", "codec", "is required for this format");
    if (!json_object_object_get_ex(doc, "essence_parameters", &ep))
        return fail(&c, "", "essence_parameters", "is required for this format");
    rc = check_object_member(&c, ep, var->ep, "", "essence_parameters");
    /* The store's writers keep vfr right (a 7.0 write sets it), so the rule is 8.2 input's. */
    if (!rc && rules == TAMS_FLOW_RULES_82 && var->ep == &video_ep_schema)
        rc = check_vfr(&c, ep);
    return rc;
}

void tams_flow_strip_server_members(json_object *doc)
{
    if (!json_object_is_type(doc, json_type_object))
        return;
    for (size_t i = 0; tams_flow_server_members[i]; i++)
        json_object_object_del(doc, tams_flow_server_members[i]);
}

/* ---- index -------------------------------------------------------------------------------- */

static const char *opt_string(json_object *obj, const char *name)
{
    json_object *v;
    if (json_object_object_get_ex(obj, name, &v) && is_string(v))
        return json_object_get_string(v);
    return NULL;
}

static int64_t opt_int(json_object *obj, const char *name)
{
    json_object *v;
    int64_t x;
    if (json_object_object_get_ex(obj, name, &v) && get_int(v, &x))
        return x;
    return -1;
}

int tams_flow_index_build(json_object *doc, struct tams_flow_index *idx, struct tams_buf *why)
{
    json_object *v, *ep;
    int rc;

    *idx = (struct tams_flow_index){.frame_width = -1, .frame_height = -1};
    rc = tams_flow_validate(doc, why);
    if (rc)
        return rc;

    idx->id = opt_string(doc, "id");
    idx->source_id = opt_string(doc, "source_id");
    idx->format = opt_string(doc, "format");
    idx->codec = opt_string(doc, "codec");
    idx->container = opt_string(doc, "container");
    idx->label = opt_string(doc, "label");
    if (json_object_object_get_ex(doc, "read_only", &v))
        idx->read_only = json_object_get_boolean(v);

    /* Only video and image essence_parameters define frame_width/frame_height; a multi Flow's
     * essence_parameters is unconstrained, so it must not leak into the index. */
    if ((strcmp(idx->format, "urn:x-nmos:format:video") == 0 ||
         strcmp(idx->format, "urn:x-tam:format:image") == 0) &&
        json_object_object_get_ex(doc, "essence_parameters", &ep)) {
        idx->frame_width = opt_int(ep, "frame_width");
        idx->frame_height = opt_int(ep, "frame_height");
    }

    if (json_object_object_get_ex(doc, "tags", &v)) {
        size_t n = (size_t)json_object_object_length(v);
        if (n) {
            struct json_object_iterator it = json_object_iter_begin(v);
            struct json_object_iterator end = json_object_iter_end(v);
            idx->tags = tams_calloc(n, sizeof(*idx->tags));
            for (; !json_object_iter_equal(&it, &end) && idx->ntags < n;
                 json_object_iter_next(&it)) {
                /* validated above: cannot fail */
                tams_tag_from_json(json_object_iter_peek_value(&it),
                                   json_object_iter_peek_name(&it), &idx->tags[idx->ntags++], NULL);
            }
        }
    }

    if (json_object_object_get_ex(doc, "flow_collection", &v)) {
        size_t n = json_object_array_length(v);
        if (n) {
            idx->collection = tams_calloc(n, sizeof(*idx->collection));
            for (size_t i = 0; i < n; i++) {
                json_object *item = json_object_array_get_idx(v, i);
                idx->collection[i].id = opt_string(item, "id");
                idx->collection[i].role = opt_string(item, "role");
                if (!idx->collection[i].role) /* 8.2: role is optional */
                    idx->collection[i].role = "";
            }
            idx->ncollection = n;
        }
    }
    return 0;
}

void tams_flow_index_release(struct tams_flow_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->ntags; i++)
        tams_tag_release(&idx->tags[i]);
    tams_free(idx->tags);
    tams_free(idx->collection);
    *idx = (struct tams_flow_index){.frame_width = -1, .frame_height = -1};
}
