/* SPDX-License-Identifier: Apache-2.0 */
/* An engine's /dev/shm as a tmpfs of the guest's (vm/channel/shm.h):
 * before the container's init exists, each tmpfs mount of the spec whose
 * source is GUEST_SHM_PREFIX + key is made the VM's tmpfs of that key
 * (mounted here, in the agent's namespace, on the first create that names
 * it, with that mount's size, mode and flags) and the mount a bind of it:
 * a pod's members and its sandbox share one, as on the host. It lasts as
 * long as the VM. */
#pragma once

struct rv_error;
struct spec_config;

int agent_shm_prepare(struct spec_config *c, struct rv_error **err);
