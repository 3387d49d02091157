/* SPDX-License-Identifier: Apache-2.0 */
/* `kill`'s signal argument, as runc parses it: a decimal number is used as
 * given (0 probes liveness); otherwise a name, case-insensitive, with or
 * without the SIG prefix (TERM, sigterm, SIGTERM). */
#pragma once

struct rv_error;

/* Fails with `unknown signal "X"` for an unknown name or a number outside
 * 0..SIGRTMAX. */
int cli_signal_parse(const char *s, int *ret, struct rv_error **err);
