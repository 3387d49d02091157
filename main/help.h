/* SPDX-License-Identifier: Apache-2.0 */
/* `runvm COMMAND --help` in runc's layout. */
#pragma once

#include <stddef.h>
#include <stdio.h>

struct cli_flag;

/* usage: the one-line description; args_usage: used for a command runc
 * does not have. */
void help_print_command(FILE *out, const char *name, const char *usage, const char *args_usage,
                        const struct cli_flag *flags, size_t n_flags);
