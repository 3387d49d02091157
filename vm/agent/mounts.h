/* SPDX-License-Identifier: Apache-2.0 */
/* The container's filesystem, built inside its mount namespace (called in
 * the container's init before it execs): rootfs propagation, the spec's
 * mounts, default devices, pivot_root, masked and read-only paths. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;
struct spec_config;

/* Mount options parsed runc's way: known flags, propagation, the rest as
 * comma-separated data ("mode=755,size=65536k"). */
struct agent_mount_opts {
        unsigned long flags;            /* MS_* to set (MS_BIND, MS_REC included) */
        unsigned long propagation[8];   /* MS_PRIVATE etc., possibly | MS_REC */
        size_t n_propagation;
        uint64_t attr_set, attr_clr;    /* recursive attributes (rro, rnosuid...) */
        char *data;                     /* NULL when empty */
        bool tmpcopyup;                 /* tmpfs: copy what the destination held */
};

int agent_mount_opts_parse(char *const *options, struct agent_mount_opts *ret, struct rv_error **err);
void agent_mount_opts_clear(struct agent_mount_opts *o);

/* Everything up to and including pivot_root; afterwards the cwd is the
 * container's /. */
int agent_rootfs_prepare(const struct spec_config *c, struct rv_error **err);
/* /dev comes from a bind mount: runvm creates no devices in it. */
bool agent_dev_is_bind_mounted(const struct spec_config *c);
/* After pivot_root: sysctls, read-only and masked paths, root read-only. */
int agent_rootfs_finalize(const struct spec_config *c, struct rv_error **err);

/* Opens `path` (absolute, as the container sees it) inside rootfd without
 * escaping it, creating missing directories (and the last component as a
 * directory or an empty file when create is set). Returns an O_PATH fd. */
int agent_path_open_in_root(int rootfd, const char *path, bool create, bool dir,
                            struct rv_error **err);
