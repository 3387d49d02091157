/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's core: boot the VM, create the container, run the event
 * loop, tear down, exit like the container. */
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
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/console.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-ctl.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-internal.h"
#include "libcontainer-vm/monitor-loop.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-vm.h"
#include "libcontainer-vm/monitor-state.h"
#include "libcontainer-vm/monitor-sync.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/stdio.h"
#include "libcontainer-vm/translate.h"
#include "libcontainer-vm/tty.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/qemu/affinity.h"
#include "vm/qemu/vm.h"

/* --- helpers ------------------------------------------------------------ */

/* QEMU and virtiofsd are on disk the moment they run, so delete finds
 * them in any phase. */
static int monitor_record_vm(struct monitor *m, struct rv_error **err)
{
        struct container_state *st = m->o->state;

        state_clear_procs(st);
        /* As the host numbers them: /proc is still the host's here. */
        if (state_add_proc(st, "virtiofsd", rv_pidfd_proc_pid(m->vm.virtiofsd_pidfd), err) < 0 ||
            state_add_proc(st, "qemu", rv_pidfd_proc_pid(m->vm.qemu_pidfd), err) < 0 ||
            state_save(m->o->dir->dirfd, st, err) < 0)
                return rv_error_wrap(err, "record the VM");
        return 0;
}

/* The console line that explains a failure, if one does (console.h). */
static char *console_line(struct monitor *m)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct rv_error *tmp_err = NULL;

        vm_pump_logs(&m->vm);           /* what is in flight first */
        if (rv_read_file_at(m->o->dir->dirfd, "console.log", 8 << 20, &text, &len, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                return NULL;
        }
        return console_explaining_line(text, len);
}

#define FAILED_BOOT_LOG "failed-boot.log"

/* A boot that failed in the guest: the error stays one line (why, in
 * words), and QEMU's and the console's logs are kept in the host cache,
 * since a failed create removes the state dir they were in. */
static int wrap_guest_error(struct monitor *m, struct rv_error **err)
{
        _cleanup_free_ char *cache = NULL, *why = NULL, *title = NULL;
        _cleanup_close_ int dfd = -EBADF;
        struct rv_error *tmp_err = NULL;

        /* create died: nothing went wrong in the guest. */
        if ((*err)->status == ECANCELED)
                return -1;
        if ((*err)->status == ETIMEDOUT && (why = vm_stuck_reason(&m->vm)))
                rv_error_wrap(err, "%s", why);
        if (runvm_host_cache_dir(m->o->ctx->root, &cache, &tmp_err) < 0 ||
            (dfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                rv_error_release(&tmp_err);
                return -1;
        }
        if (asprintf(&title, "container %s: %s", m->o->state->id, (*err)->msg) < 0)
                return -1;
        vm_save_failure_logs(&m->vm, dfd, FAILED_BOOT_LOG, title);
        /* The reason reads first: "hello: the guest ...; guest logs: PATH". */
        struct rv_error *e = *err;
        *err = NULL;
        rv_error_setx(err, e->status, "%s; guest logs: %s/" FAILED_BOOT_LOG, e->msg, cache);
        rv_error_free(e);
        return -1;
}

static void close_channel(struct monitor *m)
{
        monitor_loop_unwatch_channel(m);
        agent_client_set_channel(m->agent, NULL);
        channel_free(m->ch);
        m->ch = NULL;
        m->init.ch = NULL;
}

/* The channel failed or closed: QEMU is likely on its way out, and its
 * exit or run state says why better than the socket's error does. */
static int vm_lost(struct monitor *m, const char *what, struct rv_error **err)
{
        struct rv_error *why = NULL;

        if (m->vm.qemu_pidfd >= 0)
                rv_pidfd_wait(m->vm.qemu_pidfd, 1000);
        if (vm_check(&m->vm, &why) < 0) {
                rv_error_release(err);
                *err = why;
                m->vm_gone = m->vm.qemu_pid == 0;
        }
        return rv_error_wrap(err, "%s", what);
}

#define NO_ANSWER "no answer from the guest in time"

/* A synchronous call's own small loop: the channel, the VM and create. */
struct call_wait {
        struct monitor *m;
        const char *what;
        bool hangup;
};

static int wait_on_channel(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct call_wait *cw = ctx;
        int n = channel_receive(cw->m->ch, err);

        if (n < 0 || agent_client_pump(cw->m->agent, err) < 0)
                return -1;
        cw->hangup = n == 1;
        return 0;
}

static int wait_on_vm(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct call_wait *cw = ctx;

        if (vm_check(&cw->m->vm, err) == 0)
                return 0;
        cw->m->vm_gone = cw->m->vm.qemu_pid == 0;
        return rv_error_wrap(err, "%s", cw->what);
}

static int wait_on_helper(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct call_wait *cw = ctx;

        cw->m->vm_gone = true;
        return rv_error_setx(err, EIO, "%s: virtiofsd exited", cw->what);
}

static int wait_on_creator(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        if (rev & (EPOLLERR | EPOLLHUP))
                return rv_error_setx(err, ECANCELED, MONITOR_SYNC_GONE_MSG);
        return 0;
}

/* Sends a request and waits for its answer, up to timeout_ms: the
 * client's one dispatch handles whatever else arrives meanwhile. QEMU
 * exiting, or pausing itself on an internal error, ends the wait at once:
 * never sit out the deadline on a dead VM. So do virtiofsd's death and
 * create's (the rule in docs/ARCHITECTURE.md); a console or helper log
 * nobody reads would stall the guest. */
static int call_checked(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                        int timeout_ms, int (*check)(const struct json_value *, struct rv_error **),
                        struct rv_error **err)
{
        struct call_wait cw = { .m = m, .what = proto_method_name(method) };
        struct monitor_call c = { .check = check };
        struct agent_request tag = { .kind = PENDING_CALL, .client_fd = -1, .ptr = &c };
        struct loop l = LOOP_INIT;
        struct loop_watch ch = LOOP_WATCH_INIT(wait_on_channel, NULL);
        struct loop_watch helper = LOOP_WATCH_INIT(wait_on_helper, NULL);
        struct loop_watch creator = LOOP_WATCH_INIT(wait_on_creator, NULL);
        struct loop_watch vmw[VM_WATCH_MAX];
        int vmfds[VM_WATCH_MAX];
        size_t n_vm = vm_watch_fds(&m->vm, vmfds);
        uint32_t id;
        int r = -1;

        if (loop_init(&l, err) < 0)
                return -1;
        ch.fd = channel_fd(m->ch);
        helper.fd = m->vm.virtiofsd_pidfd;
        creator.fd = m->o->sync_fd;
        for (size_t i = 0; i < n_vm; i++) {
                vmw[i] = (struct loop_watch) LOOP_WATCH_INIT(wait_on_vm, NULL);
                vmw[i].fd = vmfds[i];
                if (loop_watch_set(&l, &vmw[i], EPOLLIN, err) < 0)
                        goto fail;
        }
        /* create's end reports only its hang-up: RDHUP asks for no more. */
        if ((helper.fd >= 0 && loop_watch_set(&l, &helper, EPOLLIN, err) < 0) ||
            (creator.fd >= 0 && loop_watch_set(&l, &creator, EPOLLRDHUP, err) < 0))
                goto fail;
        if (agent_client_request(m->agent, method, fill, data, &tag, timeout_ms, &id, err) < 0)
                goto fail;
        while (!c.done) {
                if (channel_flush(m->ch, err) < 0) {
                        r = vm_lost(m, cw.what, err);
                        goto out;
                }
                int left = agent_client_expire(m->agent, rv_now_ms());
                if (c.done)
                        break;
                uint32_t events = EPOLLIN | (channel_want_write(m->ch) ? EPOLLOUT : 0);
                if (loop_watch_set(&l, &ch, events, err) < 0 || loop_run_once(&l, left, &cw, err) < 0)
                        goto out;
                if (cw.hangup && !c.done) {
                        rv_error_setx(err, ECONNRESET, "the agent closed the channel");
                        r = vm_lost(m, cw.what, err);
                        goto out;
                }
        }
        loop_fini(&l);
        if (c.err == NULL)
                return 0;
        if (c.err->status == ETIMEDOUT && strcmp(c.err->msg, NO_ANSWER) == 0) {
                rv_error_release(&c.err);
                return rv_error_setx(err, ETIMEDOUT, "%s: no answer from the guest after %d ms", cw.what,
                                     timeout_ms);
        }
        *err = c.err;
        return -1;
out:
        /* The entry points into this frame: it goes with it. */
        if (!c.done)
                agent_client_cancel(m->agent, id);
        rv_error_release(&c.err);
fail:
        loop_fini(&l);
        return r;
}

int monitor_call(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                 int timeout_ms, struct rv_error **err)
{
        return call_checked(m, method, fill, data, timeout_ms, NULL, err);
}

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

static void fill_hello(struct json_writer *w, const void *data)
{
        json_write_key(w, "version");
        json_write_int64(w, CHANNEL_PROTOCOL_VERSION);
}

static void fill_create(struct json_writer *w, const void *data)
{
        const struct monitor *m = data;
        json_write_key(w, "spec");
        spec_config_write(w, m->o->guest_spec);
        json_write_key(w, "stdio");
        proc_io_write_stdio(w, &m->init);
        /* For startContainer hooks, which the agent runs in the container. */
        if (m->o->guest_spec->hooks.start_container.n > 0) {
                struct spec_state s = monitor_hook_state(m, CONTAINER_CREATED);
                json_write_key(w, "hook_state");
                spec_state_write_hook(w, &s);
        }
}

static int boot(struct monitor *m, struct rv_error **err)
{
        const struct runvm_config *cfg = m->o->cfg;
        const struct vm_plan *plan = m->o->plan;
        _cleanup_free_ char *cache = NULL;
        struct runvm_accel_choice accel;
        struct vm_params p = {
                .qemu_path = cfg->qemu_path, .virtiofsd_path = cfg->virtiofsd_path,
                .kernel = cfg->kernel, .initrd = cfg->initrd,
                .memory_mib = plan->memory_mib, .vcpus = plan->vcpus,
                .state_dir = m->o->dir->path, .shares = plan->shares, .n_shares = plan->n_shares,
                .nics = m->vm_nics, .n_nics = m->n_vm_nics,
                .extra_cmdline = cfg->kernel_params, .debug = m->o->ctx->debug,
        };

        if (access(cfg->kernel, R_OK) < 0)
                return rv_error_set(err, errno, "guest kernel `%s`", cfg->kernel);
        if (access(cfg->initrd, R_OK) < 0)
                return rv_error_set(err, errno, "guest initrd `%s`", cfg->initrd);
        if (runvm_accel_choose(cfg, m->o->ctx->root, false, &accel, err) < 0)
                return -1;
        if (accel.refused)
                return rv_error_setx(err, ENODEV, "accel = kvm, but KVM cannot run the guest: %s", accel.reason);
        p.kvm = accel.kvm;
        if (!p.kvm) {
                if (runvm_host_cache_dir(m->o->ctx->root, &cache, err) < 0)
                        return -1;
                if (vm_host_tsc_khz(cache, &p.tsc_khz, err) < 0)
                        return -1;
        }
        rv_debug("booting with %s (%s%s), %u MiB, %u vcpus", p.kvm ? "KVM" : "TCG", accel.reason,
                 accel.cached ? ", cached" : "", p.memory_mib, p.vcpus);
        /* The monitor's pid is unique among running VMs, and so is this id. */
        p.qemu_uid = p.qemu_gid = VM_QEMU_ID_BASE + (unsigned) m->ns.host_pid;
        p.share_trees = m->ns.vfs_trees;
        if (vm_start(&p, &m->vm, err) < 0)
                return -1;
        monitor_net_vm_started(m);
        /* The monitor has a pid namespace of its own; /proc here is the host's. */
        pid_t qemu_proc_pid = rv_pidfd_proc_pid(m->vm.qemu_pidfd);
        if (plan->cpus && qemu_proc_pid < 0)
                return rv_error_set(err, -qemu_proc_pid, "find qemu in /proc");
        if (vm_pin_vcpus(qemu_proc_pid, plan->cpus, p.vcpus, cfg->boot_timeout_ms, err) < 0)
                return -1;
        m->o->state->kvm = p.kvm;
        m->o->state->memory_mib = p.memory_mib;
        m->o->state->vcpus = p.vcpus;
        /* The monitor's children as the host numbers them (delete waits
         * for these): /proc is still the host's here. */
        m->o->state->qemu_pid = rv_pidfd_proc_pid(m->vm.qemu_pidfd);
        m->o->state->virtiofsd_pid = rv_pidfd_proc_pid(m->vm.virtiofsd_pidfd);
        if (m->o->state->qemu_pid <= 0 || m->o->state->virtiofsd_pid <= 0)
                return rv_error_setx(err, ESRCH, "boot: the VM's processes are gone");
        if (monitor_record_vm(m, err) < 0)
                return -1;
        m->ch = channel_new(m->vm.agent_fd);
        if (m->ch == NULL)
                return rv_error_set(err, ENOMEM, "channel");
        m->vm.agent_fd = -1;            /* the channel owns it now */
        agent_client_set_channel(m->agent, m->ch);
        if (call_checked(m, PROTO_HELLO, fill_hello, NULL, cfg->boot_timeout_ms, proto_hello_check, err) < 0)
                return wrap_guest_error(m, err);
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
        return monitor_call(m, PROTO_CREATE_CONTAINER, fill_create, m, REQUEST_TIMEOUT_MS, err);
}

/* The container's namespace changed between create and start (ctr --cni
 * runs CNI then): nothing has run in the guest yet, so a new VM with the
 * namespace as it is now takes the old one's place, under the same
 * monitor and with the same stdio streams. */
int monitor_reboot(struct monitor *m, struct rv_error **err)
{
        close_channel(m);
        monitor_loop_unwatch_vm(m);
        vm_destroy(&m->vm);
        m->vm_gone = false;
        monitor_net_teardown(m);
        /* QEMU and virtiofsd start from the host's view of the files. */
        if (monitor_ns_rearm(&m->ns, err) < 0 || monitor_ns_to_host(&m->ns, err) < 0)
                return -1;
        int r = monitor_net_setup(m, err) < 0 || boot(m, err) < 0 ? -1 : 0;
        struct rv_error *ns_err = NULL;
        if (monitor_ns_to_view(&m->ns, &ns_err) < 0) {
                if (r == 0) {
                        *err = ns_err;
                        return -1;
                }
                rv_error_release(&ns_err);
        }
        if (r < 0 || monitor_net_configure(m, err) < 0)
                return -1;
        if (proc_io_reopen(&m->init, m->ch, err) < 0)
                return -1;
        if (monitor_call(m, PROTO_CREATE_CONTAINER, fill_create, m, REQUEST_TIMEOUT_MS, err) < 0)
                return -1;
        monitor_save_state(m, m->o->state->status);
        return 0;
}

/* --- teardown ------------------------------------------------------------- */

static void shutdown_vm(struct monitor *m)
{
        struct rv_error *tmp_err = NULL;

        if (m->ch && !m->vm_gone && monitor_send_request(m, PROTO_SHUTDOWN, NULL, NULL, &tmp_err) == 0)
                channel_flush(m->ch, &tmp_err);
        rv_error_release(&tmp_err);
        monitor_loop_unwatch_vm(m);
        vm_stop(&m->vm, m->vm_gone ? 0 : m->o->cfg->shutdown_timeout_ms);
        close_channel(m);
}

static void finish(struct monitor *m)
{
        agent_client_fail_all(m->agent, ESRCH, "container not running");
        monitor_ctl_close(m);
        proc_io_drain(&m->init, DRAIN_TIMEOUT_MS);
        /* Exec'ed processes die with the container's pid namespace. */
        monitor_exec_reap(m, true);
        shutdown_vm(m);
        monitor_net_teardown(m);
        m->o->state->exited = true;
        m->o->state->exit_code = m->exit_code;
        m->o->state->exit_signal = m->exit_signal;
        m->o->state->qemu_pid = m->o->state->virtiofsd_pid = 0;
        state_clear_procs(m->o->state);
        monitor_save_state(m, CONTAINER_STOPPED);
        /* Only now: a caller whose `events` ended finds the container
         * stopped, as with runc. */
        monitor_events_close(m);
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

        if (host_cgroup_enter(m->o->guest_spec->linux_.cgroups_path, m->o->state->id, getpid(), &dirs, err) < 0)
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
        close_channel(m);
        monitor_loop_unwatch_vm(m);
        vm_destroy(&m->vm);
        monitor_net_teardown(m);
        /* Torn down before create hears of it, and recorded, so that a
         * create that died meanwhile leaves a `stopped` container with its
         * reason for delete (a live create removes the dir itself). */
        m->o->state->qemu_pid = m->o->state->virtiofsd_pid = 0;
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
                .o = o, .vm = VM_INIT, .sigfd = -1, .tty_fd = -1,
                .init = PROC_IO_INIT,
                .ns = MONITOR_NS_INIT, .status_before_pause = CONTAINER_RUNNING,
        };
        struct rv_error *err = NULL;

        m.agent = agent_client_new(o->state->id, MAX_PENDING, &monitor_agent_ops, &m);
        m.ctl = monitor_ctl_new();
        m.execs = monitor_execs_new();
        m.events = monitor_events_new();
        if (m.agent == NULL || m.ctl == NULL || m.execs == NULL || m.events == NULL)
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
            monitor_save_poststop(&m, &err) < 0 || monitor_sync_check(o->sync_fd, &err) < 0 ||
            monitor_run_hooks(&m, &hooks->prestart, "prestart", CONTAINER_CREATING, &err) < 0 ||
            monitor_run_hooks(&m, &hooks->create_runtime, "createRuntime", CONTAINER_CREATING, &err) < 0 ||
            monitor_sync_check(o->sync_fd, &err) < 0 || monitor_net_setup(&m, &err) < 0 ||
            boot(&m, &err) < 0 || monitor_sync_check(o->sync_fd, &err) < 0 || monitor_net_configure(&m, &err) < 0 ||
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

        while (!m.exited) {
                if (monitor_loop_once(&m, -1, &err) < 0) {
                        _cleanup_free_ char *console = console_line(&m);
                        rv_log(RV_LOG_ERROR, "%s%s%s", err->msg, console ? "; console: " : "",
                               console ? console : "");
                        state_set_reason(o->state, err->msg);
                        rv_error_release(&err);
                        /* The workload died with its VM. */
                        m.exited = true;
                        m.exit_signal = SIGKILL;
                        m.vm_gone = true;
                }
        }
        finish(&m);
        monitor_ns_clear(&m.ns);
        rv_exit_like(m.exit_code, m.exit_signal);
}
