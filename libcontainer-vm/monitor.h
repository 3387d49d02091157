/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor: the container's host-side stand-in for its init process
 * (DESIGN.md §2). Forked by create/run, it owns the VM, relays stdio,
 * serves ctl.sock, forwards the signals it receives, and finally exits
 * with the container's status or dies by the same signal. */
#pragma once

#include <stdbool.h>

struct runvm_context;
struct runvm_config;
struct spec_config;
struct vm_plan;
struct state_dir;
struct container_state;
struct rv_error;

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

/* In the forked child: never returns. */
_Noreturn void monitor_main(struct monitor_options *o);

/* In create/run: waits for the monitor's verdict on sync_fd. On failure
 * the monitor has already torn everything down; its message is in *err. */
/* Meanwhile it runs the hooks the monitor asks for (prestart,
 * createRuntime, createContainer, poststart): here, in the caller's
 * namespaces, as runc runs them. */
struct spec_hooks;
int monitor_wait_created(int sync_fd, const struct spec_hooks *hooks, const char *bundle,
                         struct rv_error **err);

#include <signal.h>
/* The signals the monitor (and a foreground run) take for the container. */
void monitor_signal_set(sigset_t *set);
