/* SPDX-License-Identifier: Apache-2.0 */
/* An engine's /dev/shm into the VM. podman and the CRI runtimes mount a
 * tmpfs of the size asked for (podman's userdata/shm, a sandbox's shm)
 * and bind it at /dev/shm. Through virtio-fs that tmpfs would hold every
 * page twice (the host's tmpfs, charged to virtiofsd, and the guest's
 * page cache), cost a FUSE round trip per miss, and read as the share's
 * filesystem in df. So when the source is the root of an empty tmpfs
 * mount, the bind becomes a tmpfs of the guest's own, of the host tmpfs's
 * size and mode, one per host directory and VM (vm/channel/shm.h): what
 * the container writes there is guest memory, counted by its memory
 * limit as runc's shm is by the container's cgroup. Not taken: a
 * non-empty tmpfs (what it holds would be hidden), any other source,
 * and a container with a user namespace (the guest tmpfs's owner would
 * be the guest's root). */
#pragma once

struct rv_error;
struct spec_config;

/* Rewrites c's qualifying /dev/shm mount in place. */
int translate_shm(struct spec_config *c, struct rv_error **err);
