/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's lifecycle: create (namespaces, hooks, the VM, the
 * container in it), start for `run`, the loop until the container exits,
 * finish, exit like the container. Each step is another part's
 * (monitor-*.h); this file only puts them in order. */
#include "libcontainer-vm/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/proc.h"
#include "libcontainer-vm/accel.h"
#include "libcontainer-vm/agent-client.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/cgroup-limits.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/console.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-ctl.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-loop.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-pod.h"
#include "libcontainer-vm/pod-join.h"
#include "libcontainer-vm/monitor-vm.h"
#include "libcontainer-vm/monitor-state.h"
#include "libcontainer-vm/monitor-sync.h"
#include "libcontainer-vm/monitor-userns.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/stdio.h"
#include "libcontainer-vm/translate.h"
#include "libcontainer-vm/tty.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/vm.h"

/* --- boot and create ------------------------------------------------------ */

static int join_network(const struct vm_plan *plan, struct rv_error **err)
{
        if (plan->netns_path == NULL) {
                if (unshare(CLONE_NEWNET) < 0)
                        return rv_error_set(err, errno, "create a network namespace");
                return 0;
        }
        _cleanup_close_ int fd = open(plan->netns_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open network namespace `%s`", plan->netns_path);
        if (setns(fd, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join network namespace `%s`", plan->netns_path);
        return 0;
}

static int setup_stdio(struct monitor *m, struct rv_error **err)
{
        switch (m->o->tty) {
        case MONITOR_TTY_CONSOLE_SOCKET: {
                const struct spec_box *size = &m->o->guest_spec->process.console_size;
                int slave;
                if (tty_console_create(m->o->console_socket, size->has ? (uint16_t) size->height : 0,
                                       size->has ? (uint16_t) size->width : 0, &slave, err) < 0)
                        return -1;
                m->tty_fd = slave;
                if (tty_make_controlling(slave, err) < 0 || stdio_release(err) < 0)
                        return -1;
                return proc_io_open(&m->init, m->ch, &m->streams, true, &slave, 1, true, err);
        }
        case MONITOR_TTY_STDIO: {
                int fds[2] = { STDIN_FILENO, STDOUT_FILENO };
                m->tty_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
                return proc_io_open(&m->init, m->ch, &m->streams, true, fds, 2, false, err);
        }
        case MONITOR_TTY_NONE:
        default: {
                int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
                return proc_io_open(&m->init, m->ch, &m->streams, false, fds, 3, false, err);
        }
        }
}

static int create_container(struct monitor *m, struct rv_error **err)
{
        if (setup_stdio(m, err) < 0)
                return rv_error_wrap(err, "container stdio");
        return monitor_vm_create_container(m, err);
}

/* --- teardown ------------------------------------------------------------- */

/* The container is stopped once its exit status is known and its output
 * is out: recorded then, before the VM goes, so `state`, `events` and a
 * waiting `delete` see it without waiting for the teardown. QEMU and
 * virtiofsd stay in the record until they are gone, so a delete that
 * comes meanwhile kills them (teardown.c) and leaves nothing behind. */
static void finish(struct monitor *m)
{
        agent_client_fail_all(m->agent, ESRCH, "container not running");
        monitor_ctl_close(m);
        proc_io_drain(&m->init, DRAIN_TIMEOUT_MS);
        /* Exec'ed processes die with the container's pid namespace. */
        monitor_exec_reap(m, true);
        m->o->state->exited = true;
        m->o->state->exit_code = m->exit_code;
        m->o->state->exit_signal = m->exit_signal;
        monitor_save_state(m, CONTAINER_STOPPED);
        /* Only now: a caller whose `events` ended finds the container
         * stopped, as with runc. */
        monitor_events_close(m);
        monitor_vm_destroy(m);
        monitor_net_teardown(m);
        state_clear_procs(m->o->state);
        monitor_save_state(m, CONTAINER_STOPPED);
}

/* --- entry ---------------------------------------------------------------- */

void monitor_signal_set(sigset_t *set)
{
        /* Every signal a caller may send to the pid it was given is meant
         * for the container; faults and SIGCHLD stay ours. */
        sigfillset(set);
        static const int ours[] = { SIGKILL, SIGSTOP, SIGCHLD, SIGSEGV, SIGBUS, SIGFPE,
                                    SIGILL, SIGPIPE, SIGTRAP, SIGSYS };
        for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
                sigdelset(set, ours[i]);
}

/* The monitor, and so QEMU, virtiofsd and hooks, live in the container's
 * host cgroup; the directories are recorded for delete at once. */
static int enter_host_cgroup(struct monitor *m, struct rv_error **err)
{
        char **dirs = NULL;
        struct host_cgroup_limits limits;

        host_cgroup_limits_from(&m->o->guest_spec->linux_.resources, m->o->plan->memory_mib,
                                m->o->cfg->overhead_memory_mib, m->o->plan->vcpus, &limits);
        if (host_cgroup_enter(m->o->guest_spec->linux_.cgroups_path, m->o->state->id, m->o->ctx->systemd_cgroup,
                              getpid(), &limits, &dirs, err) < 0)
                return -1;
        rv_strv_free(m->o->state->cgroup_dirs);
        m->o->state->cgroup_dirs = dirs;
        if (dirs && monitor_record(m, m->o->state->status, err) < 0)
                return rv_error_wrap(err, "record the host cgroup");
        return 0;
}

static int setup_signals(struct monitor *m, struct rv_error **err)
{
        sigset_t set;

        monitor_signal_set(&set);
        signal(SIGPIPE, SIG_IGN);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return rv_error_set(err, errno, "block signals");
        m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->sigfd < 0)
                return rv_error_set(err, errno, "signalfd");
        return 0;
}

static void monitor_fail(struct monitor *m, struct rv_error *err)
{
        struct rv_error *ns_err = NULL;

        /* Hooks and the state dir's paths are the host's. */
        if (monitor_ns_to_host(&m->ns, &ns_err) < 0)
                rv_warn("%s", ns_err->msg);
        rv_error_release(&ns_err);
        rv_log(RV_LOG_ERROR, "%s", err->msg);
        monitor_ctl_unlink(m);
        monitor_vm_destroy(m);
        monitor_net_teardown(m);
        /* Torn down before create hears of it, and recorded, so that a
         * create that died meanwhile leaves a `stopped` container with its
         * reason for delete (a live create removes the dir itself). */
        state_clear_procs(m->o->state);
        state_set_reason(m->o->state, err->msg);
        monitor_save_state(m, CONTAINER_STOPPED);
        monitor_sync_report(m->o->sync_fd, err->status > 0 ? err->status : EIO, err->msg);
        /* Torn down: poststop hooks run, as runc's do after a failed create. */
        struct rv_error *tmp_err = NULL;
        if (hooks_poststop_run_saved(m->o->dir->dirfd, m->o->state->bundle, &tmp_err) < 0)
                rv_warn("%s", tmp_err->msg);
        rv_error_release(&tmp_err);
}

_Noreturn void monitor_main(struct monitor_options *o)
{
        struct monitor m = {
                .o = o, .vm = NULL, .sigfd = -1, .tty_fd = -1, .pool_tap_fd = -1,
                .init = PROC_IO_INIT,
                .ns = MONITOR_NS_INIT, .status_before_pause = CONTAINER_RUNNING,
        };
        struct rv_error *err = NULL;

        m.agent = agent_client_new(o->state->id, MAX_PENDING, &monitor_agent_ops, &m);
        m.ctl = monitor_ctl_new();
        m.execs = monitor_execs_new();
        m.events = monitor_events_new();
        m.pod = monitor_pod_new();
        if (m.agent == NULL || m.ctl == NULL || m.execs == NULL || m.events == NULL || m.pod == NULL)
                rv_error_set(&err, ENOMEM, "monitor");
        if (err != NULL || loop_init(&m.loop, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        /* The lock belongs to the create command, which releases it when
         * it exits; a copy here would hold it for the container's life. */
        if (o->dir->lockfd >= 0)
                close(o->dir->lockfd);
        o->dir->lockfd = -1;
        /* Terminal signals are for the caller; the monitor only gets the
         * signals someone sends to the container's pid. */
        setsid();
        prctl(PR_SET_NAME, "runvm-monitor");
        int logfd = openat(o->dir->dirfd, "monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd >= 0) {
                rv_log_set_fd(logfd);
                close(logfd);
        }

        /* create recorded this pid and start time before it let us go. */
        o->state->monitor_pid = rv_proc_self_pid();     /* the host's: /proc is still its */
        rv_proc_start_time(o->state->monitor_pid, &o->state->monitor_start_time);

        const struct spec_hooks *hooks = &o->guest_spec->hooks;
        if (setup_signals(&m, &err) < 0 || join_network(o->plan, &err) < 0 ||
            monitor_ns_prepare(&m.ns, o->plan, &err) < 0 ||
            enter_host_cgroup(&m, &err) < 0 ||
            monitor_ns_unshare(&m.ns, o->guest_spec, &err) < 0 ||
            pod_join_pinned(o->plan->ipcns_path, o->plan->utsns_path, &err) < 0 ||
            pod_record_namespaces(o->state, &err) < 0 ||
            monitor_save_poststop(&m, &err) < 0 || monitor_sync_check(o->sync_fd, &err) < 0 ||
            monitor_run_hooks(&m, &hooks->prestart, "prestart", CONTAINER_CREATING, &err) < 0 ||
            monitor_run_hooks(&m, &hooks->create_runtime, "createRuntime", CONTAINER_CREATING, &err) < 0 ||
            monitor_sync_check(o->sync_fd, &err) < 0 || monitor_net_setup(&m, &err) < 0 ||
            monitor_vm_boot(&m, &err) < 0 || monitor_sync_check(o->sync_fd, &err) < 0 || monitor_net_configure(&m, &err) < 0 ||
            monitor_run_hooks(&m, &hooks->create_container, "createContainer", CONTAINER_CREATING, &err) < 0 ||
            monitor_sync_check(o->sync_fd, &err) < 0 || create_container(&m, &err) < 0 ||
            monitor_ctl_listen(&m, &err) < 0 ||
            monitor_ns_enter_view(&m.ns, o->plan, o->guest_spec, o->dir->path, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        o->state->monitor_pid = m.ns.host_pid;
        o->state->monitor_start_time = m.ns.host_start_time;
        /* runc runs poststart here, in create, before start (CONTRACT.md §5),
         * in the runtime's (the host's) namespaces. */
        if (monitor_record(&m, CONTAINER_CREATED, &err) < 0 ||
            monitor_ns_to_host(&m.ns, &err) < 0 ||
            monitor_run_hooks(&m, &hooks->poststart, "poststart", CONTAINER_CREATED, &err) < 0 ||
            monitor_ns_to_view(&m.ns, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        if (o->autostart) {
                int timeout_ms = REQUEST_TIMEOUT_MS + (int) spec_hooks_max_ms(&hooks->start_container);
                if (monitor_call(&m, PROTO_START_CONTAINER, NULL, NULL, timeout_ms, &err) < 0 ||
                    monitor_record(&m, CONTAINER_RUNNING, &err) < 0) {
                        monitor_fail(&m, err);
                        _exit(1);
                }
                /* The user namespace is entered before the verdict, and
                 * QEMU's fds are not its to open: what the boot left in
                 * guest RAM is freed first (else after the verdict). */
                if (monitor_userns_pending(&m))
                        monitor_vm_free_leftovers(&m);
                if (monitor_userns_enter(&m, &err) < 0) {
                        monitor_fail(&m, err);
                        _exit(1);
                }
        }
        /* A create that cannot hear the verdict cannot hand the container
         * to its caller: as if it died before (the rule above). */
        if (monitor_sync_check(o->sync_fd, &err) < 0 || (monitor_sync_report(o->sync_fd, 0, NULL) < 0 &&
                                            rv_error_setx(&err, ECANCELED, MONITOR_SYNC_GONE_MSG) < 0)) {
                m.exited = true;
                m.exit_signal = SIGKILL;
                finish(&m);
                state_set_reason(o->state, err->msg);
                monitor_save_state(&m, CONTAINER_STOPPED);
                _exit(1);
        }
        close(o->sync_fd);
        o->sync_fd = -1;
        monitor_vm_free_leftovers(&m);

        /* A pod's sandbox outlives its own process while members run
         * (docs/ARCHITECTURE.md, "Pods"): its state says stopped then. */
        bool recorded = false;
        while (!m.exited || (monitor_pod_any(&m) && !m.vm_gone && !m.channel_hangup)) {
                if (m.exited && !recorded) {
                        o->state->exited = true;
                        o->state->exit_code = m.exit_code;
                        o->state->exit_signal = m.exit_signal;
                        monitor_save_state(&m, CONTAINER_STOPPED);
                        recorded = true;
                }
                if (monitor_loop_once(&m, -1, &err) < 0) {
                        _cleanup_free_ char *console = monitor_vm_console_line(&m);
                        rv_log(RV_LOG_ERROR, "%s%s%s", err->msg, console ? "; console: " : "",
                               console ? console : "");
                        if (!m.exited)
                                state_set_reason(o->state, err->msg);
                        rv_error_release(&err);
                        /* The workload died with its VM. */
                        if (!m.exited)
                                m.exit_signal = SIGKILL;
                        m.exited = true;
                        m.vm_gone = true;
                }
        }
        /* Members still there learn that the VM goes. */
        monitor_pod_close(&m);
        finish(&m);
        monitor_userns_close(&m);
        monitor_ns_clear(&m.ns);
        rv_exit_like(m.exit_code, m.exit_signal);
}
