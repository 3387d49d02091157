/* SPDX-License-Identifier: Apache-2.0 */
/* A container process's attributes, applied between clone (or setns) and
 * execve, in runc's order; shared by the container's init (child.c) and
 * exec'ed processes (the exec child, after it joined the container's
 * namespaces, so that / and the mounts are the container's).
 *
 * agent_process_apply, in order: rlimits, oomScoreAdj, noNewPrivileges,
 * scheduler, ioPriority, the seccomp filter compiled (and loaded here when
 * noNewPrivileges is off: loading then needs CAP_SYS_ADMIN, which the
 * user switch may drop — runc's order), the capability bounding set,
 * setgroups(additionalGids) / setgid / setuid with PR_SET_KEEPCAPS,
 * effective/permitted/inheritable/ambient capabilities, umask (default
 * 0022), chdir(cwd), the environment (HOME from the container's
 * /etc/passwd when missing) and the executable looked up like Go's
 * exec.LookPath, with runc's error texts (`exec: "foo": executable file
 * not found in $PATH`). apparmorProfile and selinuxLabel are accepted and
 * not enforced (the guest kernel has neither LSM): a debug line says so.
 *
 * agent_process_exec loads the seccomp filter still pending (with
 * noNewPrivileges: as close to execve as possible) and execs; it returns
 * only on failure, with the errno as the error's status (ENOENT: exit
 * 127, else 126, as runc). */
#pragma once

#include <stdbool.h>

struct agent_timer;
struct rv_error;
struct spec_config;
struct spec_process;
struct agent_seccomp;

struct agent_exec {
        char *path;                     /* resolved executable */
        char *const *argv;              /* the process's args (borrowed) */
        char **envp;                    /* owned, NULL-terminated */
        struct agent_seccomp *seccomp;  /* filter still to load before execve */
};

/* container: the container's config (linux.seccomp, ...); p: the process
 * to run (the config's own process for the init, exec's process
 * otherwise); is_init: the container's init. On failure err carries the
 * message to report (and the errno as its status). */
int agent_process_apply(const struct spec_config *container, const struct spec_process *p, bool is_init,
                        struct agent_timer *timer, struct agent_exec *ret, struct rv_error **err);
/* Returns only on failure. */
/* Loads the seccomp filter still pending now (startContainer hooks run
 * under it, as in runc); agent_process_exec then has none to load. */
int agent_process_seccomp(struct agent_exec *x, struct rv_error **err);
int agent_process_exec(struct agent_exec *x, struct rv_error **err);
void agent_exec_clear(struct agent_exec *x);
