/* SPDX-License-Identifier: Apache-2.0 */
/* Block devices into the VM: each host block device the spec names
 * (linux.devices of type b, and mounts whose source is a block device)
 * becomes one virtio-blk disk, opened once here; the guest spec names it
 * by its guest node (vm/channel/disks.h). A disk is read-only for the
 * guest when any one of these says so: a mount of it has `ro`, the
 * device rules do not let the container write it, the host device is
 * read-only (BLKROGET). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rv_error;
struct runvm_config;
struct spec_config;
struct spec_device_rule;
struct vm_disk;

/* Fills *ret_disks (*ret_n of them, opened; the caller owns them, also
 * after a failure) and rewrites c's block mounts to name them. */
int translate_disks(struct spec_config *c, const struct runvm_config *cfg, struct vm_disk **ret_disks,
                    size_t *ret_n, struct rv_error **err);

/* Whether the rules let the container write block device major:minor
 * (the last rule that matches it and names `w` decides; none: no), and
 * whether a rule names exactly that device. */
bool disk_rules_allow_write(const struct spec_device_rule *rules, size_t n, unsigned major, unsigned minor,
                            bool *ret_named);
/* The rules allow every device (podman --privileged's shape). */
bool disk_rules_allow_all(const struct spec_device_rule *rules, size_t n);
