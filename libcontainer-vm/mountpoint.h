/* SPDX-License-Identifier: Apache-2.0 */
/* Mount points made on the host, in a rootfs the guest will only get
 * read-only (root.readonly: the share itself is read-only, so the agent
 * cannot make them). Every lookup stays inside the rootfs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rv_error;
struct spec_config;

/* Makes the spec's mount points and process.cwd where missing.
 * is_dir(i, data): whether mounts[i]'s mount point is a directory. */
int mountpoints_prepare(int rootfd, const struct spec_config *c,
                        bool (*is_dir)(size_t i, const void *data), const void *data,
                        struct rv_error **err);
