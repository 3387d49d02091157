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

/* Device programs loaded before, by their instructions: rules that
 * compile to a program loaded earlier in this boot attach that program
 * again (one verifier run, ~30 ms under TCG, per distinct rule set: the
 * default spec's deny-all is every podman and `runvm spec` container's).
 * Bounded; the kernel frees a program once no fd or cgroup holds it. */
#define AGENT_BPF_CACHE_MAX 8
struct agent_bpf_cache {
        struct {
                struct bpf_insn *insns;
                size_t n;
                int fd;
        } progs[AGENT_BPF_CACHE_MAX];
        size_t n;
};

/* Attaches the program for rules to the cgroup dirfd (BPF_F_ALLOW_MULTI),
 * loaded or taken from cache (NULL: none). *prog_fd is the program
 * attached before (-1 for none): it is detached once the new one is in
 * place and replaced by the new program's fd; the same program again is
 * left as it is. */
int agent_devices_bpf_apply(struct agent_bpf_cache *cache, int cgroup_fd, const struct spec_device_rule *rules,
                            size_t n, int *prog_fd, struct rv_error **err);

/* Loads the program for rules into the cache, unattached: a warm pool VM
 * pays for the containers it expects (vm/agent/warm.h); it is also the
 * boot's first BPF_PROG_LOAD, which costs ~50 ms more than later ones. */
int agent_devices_bpf_preload(struct agent_bpf_cache *cache, const struct spec_device_rule *rules, size_t n,
                              struct rv_error **err);
