/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp with libseccomp, translated the way runc does
 * (libcontainer/seccomp/seccomp_linux.go): every action, errnoRet and
 * defaultErrnoRet, architectures (the native one always), flags, argument
 * conditions with every operator; syscall names libseccomp does not know
 * are skipped; a rule whose action is the default action is skipped.
 * Notification (SCMP_ACT_NOTIFY, listenerPath) is refused.
 *
 * The filter is compiled (agent_seccomp_prepare) before it is loaded
 * (agent_seccomp_load), so that every error is reported while the process
 * can still report it and the load itself is one syscall just before
 * execve. */
#pragma once

struct rv_error;
struct spec_seccomp;
struct agent_seccomp;

/* *ret is NULL when the config has no seccomp object. */
int agent_seccomp_prepare(const struct spec_seccomp *s, struct agent_seccomp **ret, struct rv_error **err);
/* Loads the filter into the calling thread (and, with TSYNC, its
 * threads). Does not set no_new_privs: the caller either has or needs
 * CAP_SYS_ADMIN. */
int agent_seccomp_load(struct agent_seccomp *f, struct rv_error **err);
void agent_seccomp_free(struct agent_seccomp *f);
