/* SPDX-License-Identifier: Apache-2.0 */
/* The spec's mounts, one at a time, inside the container's rootfs (before
 * pivot_root): binds, tmpfs with tmpcopyup, the kernel filesystems, the
 * options applied after the mount; read-only remounts delayed to the end. */
#pragma once

struct rv_error;
struct spec_mount;

/* Mounts m at its destination inside rootfd. */
int agent_mount_one(int rootfd, const struct spec_mount *m, struct rv_error **err);
/* After pivot_root: the read-only remount agent_mount_one left for later
 * (a read-only tmpfs or /dev mount, which devices and other mounts still
 * had to go into). */
int agent_mount_remount_delayed_ro(const struct spec_mount *m, struct rv_error **err);
/* The longest mount point containing path, from mountinfo. */
int agent_mount_parent_point(const char *path, char **ret, struct rv_error **err);
/* The MS_* flags a bind remount must keep (nosuid, nodev, ...) of path. */
unsigned long agent_mount_statvfs_flags(const char *path);
