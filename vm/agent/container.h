/* SPDX-License-Identifier: Apache-2.0 */
/* A container in the guest: create (namespaces + the init held before
 * execve), start, its OOM events and the process_exited event. What
 * routes to any process of any container is containers.h; pause, resume,
 * stats, update and ps are container-cgroup.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/agent/agent.h"
#include "vm/agent/cgroup.h"
#include "vm/agent/process.h"

struct agent_exec_proc;
struct spec_config;

enum agent_container_state {
        AGENT_CONTAINER_CREATED,
        AGENT_CONTAINER_RUNNING,
        AGENT_CONTAINER_EXITED,
};

struct agent_container {
        char *id;
        pid_t pid;                      /* the init, as the guest sees it */
        ino_t pidns;                    /* its PID namespace; 0 when it has none */
        enum agent_container_state state;
        int start_fd;                   /* write end of the release pipe */
        int sync_fd;                    /* read end of the init's report pipe */
        struct agent_stdio stdio;
        int status;                     /* wait status, once exited */
        int64_t drain_deadline;         /* monotonic ms: stop waiting for output */
        bool reported;                  /* process_exited sent */
        struct spec_config *spec;       /* kept for exec (seccomp, ...) */
        struct agent_cgroup cgroup;     /* /sys/fs/cgroup/<id> */
        bool paused;                    /* cgroup.freeze is 1 */
        struct agent_exec_proc *execs;  /* exec'ed processes not yet reported */
        int oom_wd;                     /* inotify watch of memory.events; -1: none */
        uint64_t oom_kills;             /* oom_kill count already reported */
        /* A pause/resume waiting for cgroup.events (answered later). */
        bool freeze_pending, freeze_target;
        uint32_t freeze_request;
        int64_t freeze_deadline;
        struct agent_container *next;
};

/* Request handlers: on success they write the result value into w. */
int agent_container_create(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err);
int agent_container_start(struct agent *a, const struct json_value *params, struct json_writer *w,
                          struct rv_error **err);
struct agent_container *agent_container_find(struct agent *a, const char *id);
/* Frees a container no longer in the agent's list (its cgroup removed). */
void agent_container_free(struct agent *a, struct agent_container *c);
/* remove_container: an exited pod member's record, cgroup and published
 * namespaces go (a pod outlives its members; the id may come again). */
int agent_container_remove(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err);
/* The container named by params' "id": "container `x` does not exist". */
int agent_container_lookup(struct agent *a, const struct json_value *params,
                           struct agent_container **ret, struct rv_error **err);
/* Writes {} (the result of a method with nothing to say). */
void agent_write_empty(struct json_writer *w);

/* Sends process_exited for the init (exec_id NULL) or an exec'ed process,
 * from its wait status. */
void agent_send_process_exited(struct agent *a, const char *id, const char *exec_id, pid_t pid,
                               int status);
/* Sends an oom event when memory.events counts a kill not yet told. */
void agent_container_oom_check(struct agent *a, struct agent_container *c);
/* inotify: a container's memory.events changed; sends `oom` events. */
void agent_containers_oom_handler(struct agent *a, struct agent_watch *w, uint32_t revents);
