/* SPDX-License-Identifier: Apache-2.0 */
/* What host and guest agree on about an engine's /dev/shm: the host
 * rewrites a bind of the tmpfs an engine made for a container's /dev/shm
 * into a tmpfs mount of the guest spec whose source is GUEST_SHM_PREFIX
 * followed by a key (16 hex digits, from the host directory). In one VM,
 * all the mounts of one key are one tmpfs, made by the agent at
 * GUEST_SHM_DIR "/" key on the first one's create and bound for each:
 * a pod's members share the sandbox's /dev/shm as they share its
 * directory on the host (libcontainer-vm/translate-shm.h). */
#pragma once

#define GUEST_SHM_PREFIX "runvm-shm:"
#define GUEST_SHM_DIR "/run/runvm/shm"
#define GUEST_SHM_KEY_LEN 16
