/* SPDX-License-Identifier: Apache-2.0 */
/* The container lifecycle on top of a VM: what main/ calls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/log.h"

struct rv_error;

/* Built once by main/ from the global flags; read-only afterwards. */
struct runvm_context {
        const char *root;               /* state root, absolute; default /run/runvm */
        const char *log_path;           /* --log, NULL for stderr */
        enum rv_log_format log_format;
        bool debug;
        bool systemd_cgroup;
};

struct container_create_options {
        const char *id;
        const char *bundle;             /* absolute; main/ defaults it to the cwd */
        const char *console_socket;     /* NULL when not given */
        const char *pid_file;           /* NULL when not given */
        bool no_pivot;
        bool no_new_keyring;
        unsigned preserve_fds;
};

struct container_run_options {
        bool detach;                    /* run -d */
        bool keep;                      /* run --keep: no delete after exit */
        bool no_subreaper;
};

/* A container as `state` and `list` show it. Strings owned by the struct. */
struct netns_record;

struct container_info {
        char *id;
        pid_t pid;                      /* 0 unless created/running/paused */
        char *status;                   /* created|running|paused|stopped */
        char *bundle;
        char *rootfs;
        char *created;                  /* RFC 3339, nanoseconds */
        char *owner;
        char **annotations;             /* key, value, key, value, ..., NULL */
        struct netns_record *network;   /* the NICs while the VM runs, or NULL */
        unsigned memory_mib, vcpus;     /* the VM's size; 0 before it was planned */
};

/* Errors: every function sets *err with the context main/ prints. The
 * status of the error is the errno of the cause; ENOENT on a missing
 * container comes with the message "container does not exist". */

int container_create(const struct runvm_context *ctx, const struct container_create_options *o,
                     struct rv_error **err);
int container_start(const struct runvm_context *ctx, const char *id, struct rv_error **err);
/* create + start; in the foreground it relays stdio and signals and sets
 * *ret_status to what runc's run returns: the exit code, or 128+N for a
 * signal death. Detached, *ret_status is 0. */
int container_run(const struct runvm_context *ctx, const struct container_create_options *o,
                  const struct container_run_options *r, int *ret_status, struct rv_error **err);
int container_kill(const struct runvm_context *ctx, const char *id, int signal, bool all,
                   struct rv_error **err);
int container_delete(const struct runvm_context *ctx, const char *id, bool force,
                     struct rv_error **err);

int container_info_load(const struct runvm_context *ctx, const char *id,
                        struct container_info **ret, struct rv_error **err);
/* All containers under the root, sorted by id. A missing root is empty. */
int container_info_list(const struct runvm_context *ctx, struct container_info ***ret,
                        size_t *ret_n, struct rv_error **err);
void container_info_free(struct container_info *i);
void container_info_list_free(struct container_info **v, size_t n);
/* The `runvm state` document for one container (indented, no newline). */
int container_info_state_json(const struct container_info *i, char **ret, struct rv_error **err);
/* A one-line JSON array of state objects (`list --format json`). */
int container_info_list_json(struct container_info **v, size_t n, char **ret,
                             struct rv_error **err);

/* Container IDs: [A-Za-z0-9_+.-]+, not "." or "..". */
bool container_id_is_valid(const char *id);

/* `runvm check`: what the host offers and what runvm will use, as lines
 * or one JSON document; reprobe asks KVM again instead of the cache. */
int container_host_report(const struct runvm_context *ctx, bool json, bool reprobe, char **ret,
                          struct rv_error **err);

/* --- exec ------------------------------------------------------------------ */

struct container_exec_options {
        const char *id;
        const char *process_path;       /* --process: a runtime-spec Process; wins */
        char *const *args;              /* the command, when no --process */
        bool tty;                       /* -t */
        const char *cwd;                /* --cwd */
        char *const *env;               /* -e K=V, NULL-terminated */
        const char *user;               /* -u uid[:gid] or name[:group] */
        char *const *additional_gids;   /* -g, NULL-terminated */
        char *const *caps;              /* -c, NULL-terminated */
        bool no_new_privs;
        const char *apparmor;
        const char *process_label;
        const char *console_socket;
        const char *pid_file;
        bool detach;
        unsigned preserve_fds;
        bool ignore_paused;
};

/* Runs a process in the container. Foreground: returns once it exited,
 * *ret_status as runc exec returns it (code, or 128+N). Detached: returns
 * once it started (pid file written: an exec monitor that relays the
 * process's stdio, forwards the signals it receives, and exits with its
 * status). Errors are exec's ("exec failed: ..." is main/'s prefix). */
int container_exec(const struct runvm_context *ctx, const struct container_exec_options *o,
                   int *ret_status, struct rv_error **err);

/* --- ps, pause, resume, update, events -------------------------------------- */

/* JSON array of the host pids standing in for the container's processes
 * (the monitor and exec monitors: what kill(2) reaches). */
int container_ps_json(const struct runvm_context *ctx, const char *id, char **ret,
                      struct rv_error **err);
/* The guest's process table, `ps -ef` columns. */
int container_ps_table(const struct runvm_context *ctx, const char *id, char **ret,
                       struct rv_error **err);
int container_pause(const struct runvm_context *ctx, const char *id, struct rv_error **err);
int container_resume(const struct runvm_context *ctx, const char *id, struct rv_error **err);
/* resources_json: a runtime-spec LinuxResources object. */
int container_update(const struct runvm_context *ctx, const char *id, const char *resources_json,
                     struct rv_error **err);
/* One stats event line: {"type":"stats","id":...,"data":{...}}. */
int container_stats_event(const struct runvm_context *ctx, const char *id, char **ret,
                          struct rv_error **err);
/* Streams events (stats every interval_ms, oom as it happens) to
 * on_event until the container stops. */
int container_events(const struct runvm_context *ctx, const char *id, int interval_ms,
                     int (*on_event)(const char *line, void *data), void *data,
                     struct rv_error **err);
