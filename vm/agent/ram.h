/* SPDX-License-Identifier: Apache-2.0 */
/* RAM added as the containers use it. A large VM boots with `mem=` (the
 * host's boot_memory_mib): the kernel then writes the struct pages of that
 * much RAM only, 64 bytes per 4 KiB page, which for a 2 GiB VM is the
 * largest part of an idle guest's cost (32 MiB). The rest is in the
 * firmware's memory map; the agent adds it one memory block at a time
 * through the kernel's probe interface whenever free memory runs low.
 *
 * The signal is the containers' parent cgroup: its memory.high sits just
 * below what is free. Crossing it is an event in its memory.events, and
 * the kernel throttles the allocating task until the agent has added a
 * block and raised the mark, so a burst of allocations waits instead of
 * meeting the OOM killer. Once all the RAM is in, memory.high is `max`
 * and nothing is watched. docs/GUEST.md, "RAM added as used". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/agent/agent.h"

struct rv_error;
struct spec_config;

struct agent_ram {
        uint64_t block_bytes;           /* the kernel's memory block size */
        uint64_t *blocks;               /* physical addresses of the blocks not added yet, ascending */
        size_t n_blocks, next;          /* next: the first one not added */
        struct agent_watch events;      /* the parent cgroup's memory.events; -1: not watched */
        uint64_t unreachable_mib;       /* left out at boot and this kernel cannot add it */
        /* Where the boot loader put the initramfs, when that lies in RAM
         * left out at boot (QEMU puts it at the top of the low RAM; the
         * kernel moved it below mem= and never frees the original): the
         * host may free it (hello's initrd_moved_from). 0: none. */
        uint64_t initrd_moved_from;
};

#define AGENT_RAM_INIT { .events = { .fd = -1 } }

/* Finds the firmware's RAM the kernel was not given at boot. Nothing to
 * add (no mem=) is not an error; RAM left out that this kernel cannot add
 * (no probe interface) is unreachable_mib, which hello tells the host. */
int agent_ram_init(struct agent_ram *r, struct rv_error **err);

/* Free page reporting (virtio-balloon) hands the host back free memory in
 * pieces of 2^order pages and up. The driver sets 2 MiB (the pageblock
 * order) when it registers, over a page_reporting.page_reporting_order=
 * given on the command line (Linux 6.1), and what the boot frees (the
 * kernel image's gaps and init sections, the initramfs, each just under
 * 2 MiB or less) would stay on the host. Sets cmdline_order, or the
 * default below with -1; a kernel without page reporting is left as it
 * is. The host's guest RAM is a shared memfd, which the host does not
 * back with huge pages: small pieces split nothing there. */
#define AGENT_RAM_REPORTING_ORDER 5     /* 128 KiB */
void agent_ram_report_order(int cmdline_order);

/* RAM not added yet, in bytes. */
uint64_t agent_ram_pending_bytes(const struct agent_ram *r);

/* A tmpfs without a size (or with size=N%) is half (N%) of the RAM when
 * mounted, and nr_inodes half its pages: of the whole VM's RAM here, as if
 * it were all there, not of what has been added so far. */
int agent_ram_fit_tmpfs(const struct agent_ram *r, struct spec_config *spec, struct rv_error **err);

/* Once the containers' parent cgroup exists: adds blocks while too little
 * is free, sets its memory.high and watches its memory.events. */
void agent_ram_watch(struct agent *a, struct agent_ram *r);
