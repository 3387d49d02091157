/* SPDX-License-Identifier: Apache-2.0 */
/* Which VMs start with PCIe hot-plug slots (vm_config.hotplug_slots):
 * the ones known at their start to be a pod's sandbox, for the block
 * devices its members bring later. The slots cost every boot (PCI and
 * ACPI enumeration under TCG: docs/PERFORMANCE.md), so a plain
 * container's VM has none. Known: the CRI annotations ("sandbox", from
 * CRI-O and containerd) and podman's infra container, which carries no
 * annotation but runs podman's catatonit in pause mode (`catatonit -P`). */
#pragma once

struct spec_config;

#include <stdbool.h>

/* `pod_disk_slots`' default: a member's disks, one a slot. */
#define POD_HOTPLUG_SLOTS 4

/* Whether the spec is a pod's sandbox, known as it boots. Pure. */
bool pod_is_sandbox(const struct spec_config *spec);
/* configured (`pod_disk_slots`) for a sandbox's spec, else 0. Pure. */
unsigned pod_hotplug_slots(const struct spec_config *spec, unsigned configured);
