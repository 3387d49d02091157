/* SPDX-License-Identifier: Apache-2.0 */
/* A hot-plugged disk's PCIe slot, powered off from inside the guest once
 * the container that used it is removed: the device leaves at once
 * (QEMU sees the slot go dark, detaches it and reports DEVICE_DELETED),
 * instead of after the 5 s Linux's pciehp waits when QEMU presses the
 * slot's attention button (device_del), which the host then need not. A
 * disk cold-plugged at boot (virtio-mmio) has no slot and stays. */
#pragma once

/* The disk whose serial is serial, if it sits in a hot-plug slot. */
void agent_blockdev_slot_power_off(const char *serial);
