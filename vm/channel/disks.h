/* SPDX-License-Identifier: Apache-2.0 */
/* What host and guest agree on about block devices: a host block device
 * MAJ:MIN reaches the guest as a virtio-blk disk whose serial is
 * "runvm-MAJ-MIN" (at most 20 bytes, virtio-blk's serial field), and the
 * guest spec names it by GUEST_DISKS_DIR "/" serial, a node the agent
 * makes for each disk. linux.devices keep the host's numbers: the agent
 * maps them (vm/agent/blockdev.c). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#define GUEST_DISKS_DIR "/run/runvm/disks"
#define DISK_SERIAL_PREFIX "runvm-"
#define DISK_SERIAL_MAX 20

/* buf: at least DISK_SERIAL_MAX + 1 bytes. */
static inline void disk_serial(char *buf, size_t size, unsigned major, unsigned minor)
{
        snprintf(buf, size, DISK_SERIAL_PREFIX "%u-%u", major, minor);
}

static inline bool disk_serial_parse(const char *s, unsigned *ret_major, unsigned *ret_minor)
{
        char tail;
        return sscanf(s, DISK_SERIAL_PREFIX "%u-%u%c", ret_major, ret_minor, &tail) == 2;
}
