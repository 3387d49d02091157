/* SPDX-License-Identifier: Apache-2.0 */
/* Device rules (linux.resources.devices) as a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to a container's cgroup, as runc and crun do on
 * cgroup v2. runc's default allowed devices (null, zero, full, random,
 * urandom, tty, console, ptmx, pts, tun, mknod of any node) are checked
 * first, as runc appends them after the spec's rules; then the spec's
 * rules, the last matching one deciding; anything else is denied. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct bpf_insn;
struct rv_error;
struct spec_device_rule;

/* Builds the program. ret_insns is malloc'ed. Rules with an unknown type
 * or access letter are refused. */
int agent_devices_bpf_build(const struct spec_device_rule *rules, size_t n, struct bpf_insn **ret_insns,
                            size_t *ret_count, struct rv_error **err);

/* Loads the program for rules and attaches it to the cgroup dirfd
 * (BPF_F_ALLOW_MULTI). *prog_fd is the program attached before (-1 for
 * none): it is detached once the new one is in place and replaced by the
 * new program's fd. */
int agent_devices_bpf_apply(int cgroup_fd, const struct spec_device_rule *rules, size_t n, int *prog_fd,
                            struct rv_error **err);

/* Loads (and closes) the smallest cgroup device program, unattached: the
 * kernel's first BPF_PROG_LOAD of a boot costs ~50 ms under TCG that the
 * next ones do not (vm/agent/warm.h). Best effort; -errno on failure. */
int agent_devices_bpf_warm(void);
