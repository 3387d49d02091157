/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2 in the guest: one cgroup per container under
 * /sys/fs/cgroup/containers (cgroup2 mounted by init.c; the parent carries
 * the mark that adds RAM as it is used, ram.h), linux.resources written runc's way, the freezer,
 * the processes, memory.events for OOM kills and runc's stats. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct agent_bpf_cache;

struct json_writer;
struct rv_error;
struct spec_resources;

#define AGENT_CGROUP_ROOT "/sys/fs/cgroup"
#define AGENT_CGROUP_CONTAINERS AGENT_CGROUP_ROOT "/containers"

struct agent_cgroup {
        char *name;                     /* the directory under the root */
        int fd;                         /* O_DIRECTORY of it; -1: none */
        int bpf_fd;                     /* the device program attached; -1: none */
};

/* Enables every available controller in the root's subtree_control and in
 * that of the containers' parent, which it creates (the controllers the
 * kernel refuses are logged and left out). Idempotent. */
int agent_cgroup_enable_controllers(struct rv_error **err);

/* Creates (or reuses, when empty) /sys/fs/cgroup/containers/<name>. name is a
 * container id: no '/', not "." or "..". */
int agent_cgroup_create(const char *name, struct agent_cgroup *ret, struct rv_error **err);
/* Closes the fds and removes the directory when it is empty (best
 * effort). Accepts a never-created cgroup. */
void agent_cgroup_destroy(struct agent_cgroup *cg);

/* fork() straight into the cgroup (clone3 CLONE_INTO_CGROUP), with the
 * extra clone flags (namespaces). Returns the pid, 0 in the child. */
pid_t agent_cgroup_clone(const struct agent_cgroup *cg, uint64_t flags, struct rv_error **err);

/* Writes the resources present in r (runc's v2 conversions); what is
 * absent is left alone, so the same call serves create and update. The
 * device program comes from progs when it was loaded before (may be
 * NULL: vm/agent/devices-bpf.h). */
int agent_cgroup_apply(struct agent_cgroup *cg, const struct spec_resources *r, struct agent_bpf_cache *progs,
                       struct rv_error **err);

/* Writes cgroup.freeze; agent_cgroup_frozen reads cgroup.events. */
int agent_cgroup_set_freeze(const struct agent_cgroup *cg, bool frozen, struct rv_error **err);
int agent_cgroup_frozen(const struct agent_cgroup *cg, bool *ret, struct rv_error **err);

/* The pids in cgroup.procs (guest pids), sorted. */
int agent_cgroup_procs(const struct agent_cgroup *cg, pid_t **ret, size_t *ret_n, struct rv_error **err);

/* A key of a flat-keyed file ("oom_kill" of memory.events); 0 when absent. */
int agent_cgroup_read_key(const struct agent_cgroup *cg, const char *file, const char *key, uint64_t *ret,
                          struct rv_error **err);

/* runc's `events --stats` data object, written as one JSON value; the
 * interfaces are those of init's network namespace. */
int agent_cgroup_stats(const struct agent_cgroup *cg, pid_t init, struct json_writer *w, struct rv_error **err);
