/* SPDX-License-Identifier: Apache-2.0 */
/* exec_process: another process in a running container, runc's way.
 *
 * The agent clones a helper straight into the container's cgroup
 * (clone3 CLONE_INTO_CGROUP); the helper setns()es into every namespace
 * of the container's init that differs from the agent's (user first,
 * mount last) and clones the process with CLONE_PARENT, so that it is the
 * agent's child, inside the container's PID namespace. The helper reports
 * the process's pid on the report pipe and then lets it go on; the
 * process sets itself up (setsid, its tty or stdio, agent_process_apply)
 * and execs. The report pipe closes on a successful execve, or carries
 * the error. The request is answered then, without holding the event loop
 * (the answer is deferred); process_exited follows the answer. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/agent/agent.h"
#include "vm/agent/process.h"

struct agent_container;
struct json_value;
struct json_writer;
struct rv_error;

struct agent_exec_proc {
        char *exec_id;
        pid_t pid;                      /* guest pid; 0 until the helper reported it */
        pid_t helper;                   /* the setns helper while it may live */
        struct agent_stdio stdio;
        struct agent_watch report;      /* read end of the report pipe while pending */
        uint32_t request_id;            /* the exec_process request to answer */
        bool answered;                  /* the request got its answer */
        bool failed;                    /* ... and it was an error: no process_exited */
        int err_status;
        char *err_msg;                  /* the process's setup error */
        int64_t deadline;               /* pending: give up then; exited: drain deadline */
        bool exited;
        int status;                     /* wait status once exited */
        bool reported;
        struct agent_exec_proc *next;
};

/* The exec_process method. Returns 1 when the answer is deferred. */
int agent_exec_process(struct agent *a, const struct json_value *params, struct json_writer *w,
                       struct rv_error **err);

/* A reaped pid: true when it was one of c's exec'ed processes. */
bool agent_exec_reaped(struct agent_container *c, pid_t pid, int status);
/* Reads what the pending helpers reported, without blocking (before a
 * reaped pid is matched: the process may have been reaped first). */
void agent_execs_poll(struct agent *a);
/* Exits to report, deadlines; lowers *timeout_ms to the next one. */
void agent_execs_tick(struct agent *a, struct agent_container *c, int *timeout_ms);
/* Frees every exec of c (after the reports; at teardown). */
void agent_execs_free(struct agent *a, struct agent_container *c);
/* The exec named exec_id in c, or NULL. */
struct agent_exec_proc *agent_exec_find(struct agent_container *c, const char *exec_id);
