/* SPDX-License-Identifier: Apache-2.0 */
/* Mount options and propagation names, parsed runc's way
 * (libcontainer/specconv's tables). */
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

/* linux.rootfsPropagation as MS_* flags (default: rslave); 0 with err set
 * for an unknown name. */
unsigned long agent_rootfs_propagation(const struct spec_config *c, struct rv_error **err);
