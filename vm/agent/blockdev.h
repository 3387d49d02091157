/* SPDX-License-Identifier: Apache-2.0 */
/* The host's block devices in the guest: virtio-blk disks found by their
 * serial (vm/channel/disks.h). Before the container's cgroup and init
 * exist, the spec is made the guest's: linux.devices of type b and the
 * device rules get the disks' guest numbers (so the nodes and the device
 * cgroup allow exactly what the spec allowed, for the device it meant),
 * each disk gets a node in GUEST_DISKS_DIR, and a filesystem mounted from
 * a disk is mounted here (where no device rule applies, as runc mounts
 * before it applies them) and bound into the container. */
#pragma once

struct rv_error;
struct spec_config;
struct spec_resources;

int agent_blockdev_prepare(struct spec_config *c, const char *id, struct rv_error **err);
/* The device rules of an update, the same way. */
int agent_blockdev_map_rules(struct spec_resources *r, struct rv_error **err);
/* A removed container's filesystems staged from disks are unmounted
 * (written back: a pod member's disk is about to leave the running VM). */
void agent_blockdev_release(const char *id);
