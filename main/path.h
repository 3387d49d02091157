/* SPDX-License-Identifier: Apache-2.0 */
/* Paths given on the command line, made absolute the way runc does. */
#pragma once

struct rv_error;

/* Makes path absolute against the cwd and cleans it lexically like Go's
 * filepath.Abs (no symlinks resolved). */
int cli_path_absolute(const char *path, char **ret, struct rv_error **err);
/* Lexical clean of an absolute path: "//a/./b/../c/" -> "/a/c". In place. */
void cli_path_clean(char *path);
