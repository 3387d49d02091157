/* SPDX-License-Identifier: Apache-2.0 */
/* Early boot as PID 1: the mounts every container relies on, a real root
 * to pivot away from, entropy, the shared directory and the channel. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct rv_error;

#define AGENT_SHARED_DIR "/run/runvm/shared"
#define AGENT_SHARED_TAG "runvm"
#define AGENT_PORT_NAME "runvm.agent"

struct agent_boot_options {
        bool halt;      /* runvm.halt=1: power off once booted (benchmark) */
        bool debug;     /* runvm.debug=1: verbose log on the console */
        bool probe;     /* runvm.probe=1: no share, no entropy: answer hello (the KVM probe) */
        bool timing;    /* runvm.timing=1: time each container's set-up (also on with debug) */
        bool prewarm;   /* runvm.prewarm=1: a warm pool VM pays the kernel's first-time costs (warm.h) */
        int reporting_order;    /* page_reporting.page_reporting_order=N, -1 without (ram.h) */
};

/* Mounts devtmpfs and proc on the initramfs, points fds 0-2 at the
 * console and reads the runvm.* options from the kernel command line. */
int agent_init_early(struct agent_boot_options *ret_opts, struct rv_error **err);

/* Moves everything onto a tmpfs mounted over / and chroots into it (the
 * initramfs itself cannot be pivot_root'ed away from), freeing the
 * initramfs files. /dev and /proc move along. */
int agent_init_reroot(struct rv_error **err);

/* /sys, /sys/fs/cgroup (cgroup2), /dev/pts, /dev/shm, /run. */
int agent_init_mounts(struct rv_error **err);

/* Makes sure getrandom() does not block: seeds the pool from virtio-rng
 * when the kernel has not initialised it yet. */
int agent_init_entropy(struct rv_error **err);

/* Mounts the virtio-fs share (tag `runvm`) at AGENT_SHARED_DIR. */
int agent_init_shared(struct rv_error **err);

/* Opens the virtio-serial port named AGENT_PORT_NAME (waiting for it to
 * appear, bounded by timeout_ms). Returns the fd (O_NONBLOCK). */
int agent_init_channel_open(int timeout_ms, struct rv_error **err);

/* Milliseconds since boot (CLOCK_BOOTTIME), for the debug log. */
int64_t agent_uptime_ms(void);
