/* SPDX-License-Identifier: Apache-2.0 */
/* Paths inside a container's rootfs, resolved without escaping it
 * (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). */
#pragma once

#include <stdbool.h>

struct rv_error;

/* Opens `path` (absolute, as the container sees it) inside rootfd without
 * escaping it, creating missing directories (and the last component as a
 * directory or an empty file when create is set). Returns an O_PATH fd. */
int agent_path_open_in_root(int rootfd, const char *path, bool create, bool dir,
                            struct rv_error **err);
