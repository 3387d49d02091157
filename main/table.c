/* SPDX-License-Identifier: Apache-2.0 */
#include "main/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"

static size_t display_width(const char *s)
{
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        n++;
        return n;
}

static size_t row_len(char **row)
{
        size_t n = 0;

        while (row[n] != NULL)
                n++;
        return n;
}

int cli_table_add_row(struct cli_table *t, const char *const *cells, size_t n,
                      struct rv_error **err)
{
        _cleanup_strv_ char **row = calloc(n + 1, sizeof(*row));
        char ***rows;

        if (row == NULL)
                return rv_error_set(err, ENOMEM, "table row");
        for (size_t i = 0; i < n; i++) {
                row[i] = strdup(cells[i] != NULL ? cells[i] : "");
                if (row[i] == NULL)
                        return rv_error_set(err, ENOMEM, "table row");
        }
        rows = realloc(t->rows, (t->n_rows + 1) * sizeof(*rows));
        if (rows == NULL)
                return rv_error_set(err, ENOMEM, "table row");
        t->rows = rows;
        t->rows[t->n_rows++] = TAKE_PTR(row);
        return 0;
}

/* Width of column col: the widest cell that is followed by another cell
 * in its row (a row's last cell is not part of any column). */
static size_t column_width(const struct cli_table *t, size_t col)
{
        size_t w = 0;

        for (size_t r = 0; r < t->n_rows; r++) {
                if (row_len(t->rows[r]) <= col + 1)
                        continue;
                size_t cw = display_width(t->rows[r][col]);
                if (cw > w)
                        w = cw;
        }
        w += t->padding;
        return w < t->min_width ? t->min_width : w;
}

void cli_table_write(const struct cli_table *t, FILE *out)
{
        for (size_t r = 0; r < t->n_rows; r++) {
                size_t n = row_len(t->rows[r]);

                for (size_t c = 0; c < n; c++) {
                        const char *cell = t->rows[r][c];

                        fputs(cell, out);
                        if (c + 1 == n)
                                break;
                        for (size_t pad = column_width(t, c) - display_width(cell); pad > 0; pad--)
                                fputc(' ', out);
                }
                fputc('\n', out);
        }
}

void cli_table_clear(struct cli_table *t)
{
        for (size_t r = 0; r < t->n_rows; r++)
                rv_strv_free(t->rows[r]);
        free(t->rows);
        t->rows = NULL;
        t->n_rows = 0;
}
