/* SPDX-License-Identifier: Apache-2.0 */
/* Strings from the guest are foreign: before one reaches a host log, a
 * terminal or an error message, its control characters go. */
#pragma once

#include <stddef.h>

/* Replaces, in place, every C0 control character, DEL and every C1
 * control (U+0080..U+009F in UTF-8, and a lone byte 0x80..0x9F) with
 * '?', and newlines and tabs with a space. Returns s. */
char *rv_text_sanitize(char *s);
/* The same over len bytes (NULs included). */
void rv_text_sanitize_n(char *s, size_t len);
