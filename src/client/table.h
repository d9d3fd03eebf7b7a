/* SPDX-License-Identifier: Apache-2.0 */
/* table.h - rows of text printed as aligned columns under a header line.
 *
 * Cells are copied. Columns are as wide as their widest cell (counted in bytes; a cell wider
 * than 60 is cut with "..."), separated by two spaces; the last column is never padded.
 */
#ifndef TAMS_CLIENT_TABLE_H
#define TAMS_CLIENT_TABLE_H

#include "core/common.h"

#define TAMS_TABLE_MAXCOLS 8

struct tams_table {
    size_t ncols;
    size_t nrows; /* read-only, header included */
    char **_cells;
    size_t _cap;
};

/* Starts a table with the header cells (ncols of them). */
void tams_table_init(struct tams_table *t, size_t ncols, const char *const *header);
/* Adds a row of ncols cells; a NULL cell prints as "-". */
void tams_table_add(struct tams_table *t, const char *const *cells);
void tams_table_print(const struct tams_table *t, FILE *f);
void tams_table_release(struct tams_table *t);

#endif
