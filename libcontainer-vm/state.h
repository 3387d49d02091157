/* SPDX-License-Identifier: Apache-2.0 */
/* The state store: one private directory per container under the root,
 * state.json replaced atomically, a lock file for commands that change
 * the container. state and list only read files. */
#pragma once

#include "base/cleanup.h"
#include "libcontainer-vm/status.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rv_error;
struct netns_record;

/* A process the container started on the host (the VM driver's:
 * vm_procs, and what other parts add): delete stops each, checked by pid
 * and start time, whatever its name. */
#define STATE_MAX_PROCS 8
struct state_proc {
        char name[16];
        pid_t pid;
        uint64_t start_time;
};

/* Something else the container made on the host that delete removes:
 * kind names the remover (libcontainer-vm/teardown.c), name what. */
struct state_resource {
        char *kind;
        char *name;
};

/* A namespace the monitor holds (nsfs device and inode): a container
 * joining it by path joins this container's VM (pod-join.h). ino 0: none
 * recorded. */
enum state_ns { STATE_NS_NET, STATE_NS_IPC, STATE_NS_UTS, STATE_NS_COUNT };
struct state_nsid {
        uint64_t dev, ino;
};
/* The spec's name of each (`linux.namespaces[].type`). */
const char *state_ns_name(enum state_ns ns);

struct container_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created;                  /* RFC 3339 with nanoseconds */
        char *owner;
        enum container_status status;   /* as last recorded by the monitor */
        pid_t monitor_pid;              /* the pid callers see */
        uint64_t monitor_start_time;
        /* Pid 1 of the monitor's pid namespace (lifecycle.c): it outlives
         * the monitor by the moment the kernel takes to kill and reap
         * what is left in the namespace; killing it ends them all. */
        pid_t pidns_init_pid;
        uint64_t pidns_init_start_time;
        char **annotations;             /* key, value, ..., NULL */
        bool exited;
        int exit_code;                  /* valid when exited and !exit_signal */
        int exit_signal;
        bool kvm;
        unsigned memory_mib, vcpus;
        char **cgroup_dirs;             /* host cgroup dirs made for it, NULL-terminated */
        struct state_proc procs[STATE_MAX_PROCS];
        size_t n_procs;
        struct state_resource *resources;
        size_t n_resources;
        char *reason;                   /* why it stopped, when not by its own exit */
        struct netns_record *network;   /* TAPs and redirects to undo; NULL: none */
        struct state_nsid ns[STATE_NS_COUNT];   /* the monitor's net, ipc, uts */
        char *sandbox;                  /* a pod member: its sandbox container; NULL: none */
};

struct state_dir {
        int dirfd;
        int lockfd;
        char *path;
};

#define STATE_DIR_INIT { .dirfd = -1, .lockfd = -1, .path = NULL }

/* What state.json's layout is (`state_version`); state_load refuses
 * another (1 had no key, and `qemu_pid`/`virtiofsd_pid`). */
#define STATE_VERSION 2

/* The most state.json may hold; state_save refuses more. */
#define STATE_FILE_MAX (1u << 20)

/* Makes root (0700) and root/id, locked, holding initial as its state
 * (when not NULL) from the moment it appears. An existing id fails with
 * "container with id exists: ID" (EEXIST). */
int state_dir_create(const char *root, const char *id, const struct container_state *initial,
                     struct state_dir *ret, struct rv_error **err);
/* Removes what creates killed before their directory appeared left. */
void state_sweep_temps(const char *root);
/* Opens an existing container's directory, locked if asked. A missing one
 * fails with "container does not exist" (ENOENT). */
int state_dir_open(const char *root, const char *id, bool lock, struct state_dir *ret,
                   struct rv_error **err);
void state_dir_close(struct state_dir *d);
/* Removes the directory (and the lock with it). Missing is success. */
int state_dir_remove(const char *root, const char *id, struct rv_error **err);

int state_save(int dirfd, const struct container_state *s, struct rv_error **err);
int state_load(int dirfd, struct container_state **ret, struct rv_error **err);
void container_state_free(struct container_state *s);
DEFINE_CLEANUP_FUNC(struct container_state *, container_state_free)
/* Records a process (its start time read now) / a resource for delete. */
int state_add_proc(struct container_state *s, const char *name, pid_t pid, struct rv_error **err);
void state_clear_procs(struct container_state *s);
int state_add_resource(struct container_state *s, const char *kind, const char *name, struct rv_error **err);
/* Replaces the reason (NULL clears it). */
void state_set_reason(struct container_state *s, const char *reason);

/* The status callers see: what the monitor recorded while it lives,
 * stopped once it is gone (checked by pid and start time). */
enum container_status container_state_status(const struct container_state *s);
bool container_state_monitor_alive(const struct container_state *s);
