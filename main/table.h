/* SPDX-License-Identifier: Apache-2.0 */
/* Go's text/tabwriter as runc's `list` uses it (minwidth 12, tabwidth 1,
 * padding 3, pad with spaces): every cell but the last of a row is padded
 * to max(widest cell of its column + padding, minwidth); the last cell is
 * written as is. Widths count UTF-8 code points, like tabwriter's runes. */
#pragma once

#include <stddef.h>
#include <stdio.h>

struct rv_error;

struct cli_table {
        size_t min_width;
        size_t padding;
        char ***rows;           /* each row a NULL-terminated list of cells */
        size_t n_rows;
};

/* runc's list layout: minwidth 12, padding 3. */
#define CLI_TABLE_INIT { .min_width = 12, .padding = 3 }

/* Copies the cells; n may differ between rows. */
int cli_table_add_row(struct cli_table *t, const char *const *cells, size_t n,
                      struct rv_error **err);
void cli_table_write(const struct cli_table *t, FILE *out);
void cli_table_clear(struct cli_table *t);
