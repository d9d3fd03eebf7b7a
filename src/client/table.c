/* SPDX-License-Identifier: Apache-2.0 */
#include "core/common.h"
#include "client/table.h"

#define CELL_MAX 60

void tams_table_init(struct tams_table *t, size_t ncols, const char *const *header)
{
    tams_assert(ncols > 0 && ncols <= TAMS_TABLE_MAXCOLS);
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    tams_table_add(t, header);
}

void tams_table_add(struct tams_table *t, const char *const *cells)
{
    if ((t->nrows + 1) * t->ncols > t->_cap) {
        t->_cap = tams_st_mult(t->_cap ? t->_cap : t->ncols * 8, 2);
        t->_cells = tams_realloc(t->_cells, tams_st_mult(t->_cap, sizeof(char *)));
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const char *c = cells[i] ? cells[i] : "-";
        size_t n = strlen(c);
        char *copy;
        if (n > CELL_MAX) {
            copy = tams_malloc(CELL_MAX + 1);
            memcpy(copy, c, CELL_MAX - 3);
            memcpy(copy + CELL_MAX - 3, "...", 4);
        } else {
            copy = tams_strdup(c);
        }
        t->_cells[t->nrows * t->ncols + i] = copy;
    }
    t->nrows++;
}

void tams_table_print(const struct tams_table *t, FILE *f)
{
    size_t width[TAMS_TABLE_MAXCOLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t n = strlen(t->_cells[r * t->ncols + i]);
            if (n > width[i])
                width[i] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *c = t->_cells[r * t->ncols + i];
            if (i + 1 == t->ncols)
                fprintf(f, "%s\n", c);
            else
                fprintf(f, "%-*s  ", (int)width[i], c);
        }
    }
}

void tams_table_release(struct tams_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        tams_free(t->_cells[i]);
    tams_free(t->_cells);
    memset(t, 0, sizeof(*t));
}
