/* SPDX-License-Identifier: Apache-2.0 */
/* Starting helper processes (QEMU, virtiofsd, hooks): fork, prepare,
 * exec, with failures before exec reported back as the error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct rv_error;

struct rv_spawn {
        char *const *argv;              /* argv[0] is the path executed, unless path */
        const char *path;               /* NULL: argv[0] (hooks: path and args differ) */
        char *const *envp;              /* NULL: inherit */
        int stdin_fd, stdout_fd, stderr_fd;   /* -1: /dev/null */
        const int *pass_fds;            /* kept open across exec at their numbers */
        size_t n_pass_fds;
        bool pdeathsig;                 /* SIGKILL when the parent dies */
        const char *cwd;                /* NULL: inherit */
        /* Runs in the child before exec; returns <0 with errno set and a
         * message in msg (size msg_size) on failure. */
        int (*setup)(void *data, char *msg, size_t msg_size);
        void *setup_data;
        /* uid > 0: after setup, the child becomes uid/gid with groups as
         * its only supplementary groups, loses every capability (bounding
         * set included) and gets no_new_privs, so exec cannot regain any. */
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
};

/* On success the child has exec'ed: *ret_pid and a pidfd (O_CLOEXEC) are
 * returned (ret_pidfd NULL: none is opened; pidfd_open may be denied
 * where the caller runs). On failure nothing is left running. */
int rv_spawn_start(const struct rv_spawn *s, pid_t *ret_pid, int *ret_pidfd,
                   struct rv_error **err);
/* SIGKILL (if still running) and reap; safe on pid <= 0. */
void rv_spawn_kill(pid_t pid, int *pidfd);
/* Waits up to timeout_ms for pid to exit and reaps it. Returns the wait
 * status, or -ETIMEDOUT. */
int rv_spawn_wait(pid_t pid, int pidfd, int timeout_ms);
