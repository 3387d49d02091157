/* SPDX-License-Identifier: Apache-2.0 */
/* The state store: one private directory per container under the root,
 * state.json replaced atomically, a lock file for commands that change
 * the container. state and list only read files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rv_error;
struct netns_record;

struct container_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created;                  /* RFC 3339 with nanoseconds */
        char *owner;
        char *status;                   /* as last recorded by the monitor */
        pid_t monitor_pid;              /* the pid callers see */
        uint64_t monitor_start_time;
        pid_t qemu_pid, virtiofsd_pid;
        char **annotations;             /* key, value, ..., NULL */
        bool exited;
        int exit_code;                  /* valid when exited and !exit_signal */
        int exit_signal;
        bool kvm;
        unsigned memory_mib, vcpus;
        char **cgroup_dirs;             /* host cgroup dirs made for it, NULL-terminated */
        struct netns_record *network;   /* TAPs and redirects to undo; NULL: none */
};

struct state_dir {
        int dirfd;
        int lockfd;
        char *path;
};

#define STATE_DIR_INIT { .dirfd = -1, .lockfd = -1, .path = NULL }

/* Makes root (0700) and root/id, locked. An existing id fails with
 * "container with id exists: ID" (EEXIST). */
int state_dir_create(const char *root, const char *id, struct state_dir *ret, struct rv_error **err);
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

/* The status callers see: what the monitor recorded while it lives,
 * "stopped" once it is gone (checked by pid and start time). */
const char *container_state_status(const struct container_state *s);
bool container_state_monitor_alive(const struct container_state *s);
