/* SPDX-License-Identifier: Apache-2.0 */
/* The container's filesystem, built inside its mount namespace (called in
 * the container's init before it execs): rootfs propagation, the spec's
 * mounts, default devices, pivot_root, then sysctls, masked and read-only
 * paths and the read-only root. */
#pragma once

#include <stdbool.h>

struct agent_timer;
struct rv_error;
struct spec_config;

/* Everything up to and including pivot_root; afterwards the cwd is the
 * container's /. timer (may be NULL) times its steps. */
int agent_rootfs_prepare(const struct spec_config *c, struct agent_timer *timer, struct rv_error **err);
/* /dev comes from a bind mount: runvm creates no devices in it. */
bool agent_dev_is_bind_mounted(const struct spec_config *c);
/* The container's network namespace is the VM's, owned by the guest's
 * first user namespace: under runc a container with a user namespace
 * gets a network namespace made in it, whose net.* sysctls its root may
 * write. Here the agent writes them, before the clone; the child skips
 * them. A no-op without a user namespace. */
int agent_rootfs_net_sysctls(const struct spec_config *c, struct rv_error **err);
/* After pivot_root: sysctls, read-only and masked paths, root read-only. */
int agent_rootfs_finalize(const struct spec_config *c, struct agent_timer *timer, struct rv_error **err);
