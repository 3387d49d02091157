/* SPDX-License-Identifier: Apache-2.0 */
/* The container's init before execve: runs in the forked child, inside
 * the new namespaces. It reports to the agent over a pre-made pipe, one
 * record per message: READY once everything up to the executable lookup
 * succeeded, ERROR with the cause otherwise (also when execve fails after
 * the release). On a successful execve the pipe closes (O_CLOEXEC). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vm/agent/attrs.h"

struct agent_timer;
struct spec_config;

/* CONSOLE (before READY, with a terminal): errnum is the init's fd of the
 * pty master, for the agent to copy with pidfd_getfd. */
enum agent_sync_kind { AGENT_SYNC_READY = 1, AGENT_SYNC_ERROR = 2, AGENT_SYNC_CONSOLE = 3 };

struct agent_sync_msg {
        int32_t kind;
        int32_t errnum;
        char msg[4000];                 /* NUL-terminated; the record fits PIPE_BUF */
};

struct agent_child_args {
        const struct spec_config *spec;
        int sync_fd;                    /* write end of the report pipe */
        int start_fd;                   /* read end: a byte releases execve */
        int stdio[3];                   /* the process's stdio; -1: /dev/null */
        bool terminal;                  /* make the terminal in the container's devpts:
                                         * stdio, controlling tty and /dev/console */
        const char *hook_state;         /* state JSON for startContainer hooks; NULL: "{}" */
        struct agent_timer *timer;      /* the create's (the child's copy), or NULL */
};

/* Reads one report from the init, waiting at most timeout_ms. Returns 1
 * with *ret filled, 0 on EOF (the pipe closed: exec'ed or dead). */
int agent_sync_read(int fd, int timeout_ms, struct agent_sync_msg *ret, struct rv_error **err);

/* Never returns: execs the process or _exits. */
__attribute__((noreturn)) void agent_child_run(const struct agent_child_args *args);
