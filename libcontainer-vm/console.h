/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the guest's serial console for errors: a boot that failed is
 * explained by a few kinds of kernel or agent line; the rest of the
 * console (routine boot noise such as "PCI: Fatal: No config space access
 * function found" under pci=off) would only mislead. */
#pragma once

#include <stddef.h>

/* The last line of text[0..len) that explains a failure (a panic, an OOM,
 * an oops, the agent's own words), at most 300 bytes, newly allocated; or
 * NULL when no line does. */
char *console_explaining_line(const char *text, size_t len);
