/* SPDX-License-Identifier: Apache-2.0 */
/* err.c - lookups into the one error table. */
#include "core/common.h"

struct err_row {
    const char *name;
    int status;
    const char *type;
    const char *summary;
};

static const struct err_row rows[] = {
#define ROW(name, status, type, summary) {#name, status, type, summary},
    TAMS_ERR_MAP(ROW)
#undef ROW
};

static const struct err_row *row_of(int err)
{
    /* Range check before subtracting: err - FIRST overflows for err near INT_MAX. */
    if (err <= TAMS__ERR_FIRST || err >= TAMS__ERR_END)
        return &rows[TAMS_ERR_INTERNAL - (TAMS__ERR_FIRST + 1)];
    return &rows[err - (TAMS__ERR_FIRST + 1)];
}

int tams_err_http_status(int err)
{
    return row_of(err)->status;
}

const char *tams_err_type(int err)
{
    return row_of(err)->type;
}

const char *tams_strerror(int err)
{
    return row_of(err)->summary;
}

const char *tams_err_name(int err)
{
    return row_of(err)->name;
}
