/* SPDX-License-Identifier: Apache-2.0 */
/* What create/run hand the monitor they fork: a header of its own, so the
 * monitor's parts (monitor-shared.h) read it without including the
 * monitor's entry points (monitor.h). */
#pragma once

#include <stdbool.h>

struct runvm_context;
struct runvm_config;
struct spec_config;
struct vm_plan;
struct state_dir;
struct container_state;

enum monitor_tty {
        MONITOR_TTY_NONE,               /* stdio is fds 0, 1, 2 */
        MONITOR_TTY_CONSOLE_SOCKET,     /* a pty whose master goes to console_socket */
        MONITOR_TTY_STDIO,              /* fds 0 and 1 are the terminal (foreground run) */
};

struct monitor_options {
        const struct runvm_context *ctx;
        const struct runvm_config *cfg;
        const struct spec_config *guest_spec;
        const struct vm_plan *plan;
        struct state_dir *dir;
        struct container_state *state;
        int sync_fd;                    /* create waits on the other end */
        bool autostart;                 /* run: start as soon as created */
        enum monitor_tty tty;
        const char *console_socket;
};

