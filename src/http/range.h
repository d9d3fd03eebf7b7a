/* SPDX-License-Identifier: Apache-2.0 */
/* range.h - the HTTP Range header (RFC 9110 §14), single byte ranges only. Pure. */
#ifndef TAMS_HTTP_RANGE_H
#define TAMS_HTTP_RANGE_H

#include "core/common.h"

enum tams_range_result {
    TAMS_RANGE_NONE,          /* no usable Range: send the whole representation (200) */
    TAMS_RANGE_OK,            /* send [*off, *off + *len) as 206 */
    TAMS_RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * /size */
};

/* header may be NULL. Several ranges, other units and bad syntax are NONE (the header is
 * ignored, as the RFC allows). */
enum tams_range_result tams_range_parse(const char *header, uint64_t size, uint64_t *off,
                                        uint64_t *len);

#endif
