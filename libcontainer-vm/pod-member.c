/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pod-member.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/cgroup-limits.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-sync.h"
#include "hooks/hooks.h"
#include "libcontainer-vm/pod-hooks.h"
#include "libcontainer-vm/pod-join.h"
#include "libcontainer-vm/monitor.h"
#include "libcontainer-vm/pod-size.h"
#include "libcontainer-vm/pool.h"
#include "libcontainer-vm/pool-member.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/translate.h"
#include "libcontainer-vm/tty.h"
#include "spec/config.h"
#include "spec/json.h"
#include "netns/watch.h"
#include "vm/channel/netconf.h"

/* The guest paths where the agent publishes a container's namespaces
 * (vm/agent/pod.h). */
#define GUEST_NS_DIR "/run/runvm/ns"

static const char *const strippable[] = { [STATE_NS_IPC] = "ipc", [STATE_NS_UTS] = "uts" };

void pod_member_strip_paths(struct spec_config *spec, unsigned joined)
{
        for (size_t i = 0; i < spec->linux_.n_namespaces; i++) {
                struct spec_namespace *ns = &spec->linux_.namespaces[i];
                for (int k = STATE_NS_IPC; k <= STATE_NS_UTS; k++) {
                        if ((joined & (1u << k)) && ns->type && strcmp(ns->type, strippable[k]) == 0) {
                                free(ns->path);
                                ns->path = NULL;
                        }
                }
        }
}

int pod_member_take_pid(const char *root, const char *sandbox, struct spec_config *spec, unsigned *joined,
                        struct rv_error **err)
{
        struct spec_namespace *ns = NULL;
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct stat want, have;
        char path[64];

        for (size_t i = 0; i < spec->linux_.n_namespaces; i++)
                if (spec->linux_.namespaces[i].type && strcmp(spec->linux_.namespaces[i].type, "pid") == 0)
                        ns = &spec->linux_.namespaces[i];
        if (ns == NULL || ns->path == NULL || ns->path[0] == '\0')
                return 0;
        if (stat(ns->path, &want) < 0)
                return rv_error_set(err, errno, "`linux.namespaces`: pid namespace `%s`", ns->path);
        if (state_dir_open(root, sandbox, false, &dir, err) < 0)
                return -1;
        int r = state_load(dir.dirfd, &s, err);
        state_dir_close(&dir);
        if (r < 0)
                return -1;
        /* The sandbox's pid, as podman's `--share pid` names it. */
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) s->monitor_pid);
        if (stat(path, &have) < 0 || !container_state_monitor_alive(s))
                return rv_error_setx(err, ESRCH, "the pod's sandbox `%s` is not running", sandbox);
        if (want.st_dev != have.st_dev || want.st_ino != have.st_ino)
                return rv_error_setx(err, ENOTSUP, "`linux.namespaces`: pid namespace `%s` is not the pod's "
                                     "sandbox's (`%s`): a pod member can join only that one", ns->path, sandbox);
        free(ns->path);
        ns->path = NULL;
        *joined |= POD_JOINED_PID;
        return 0;
}

/* GUEST_SHARED_DIR/x -> GUEST_SHARED_DIR/POD_MEMBERS_DIR/<id>/x */
static int move_source(char **s, const char *id, struct rv_error **err)
{
        const char *prefix = GUEST_SHARED_DIR "/";
        size_t n = strlen(prefix);
        char *moved;

        if (*s == NULL || strncmp(*s, prefix, n) != 0)
                return 0;
        if (asprintf(&moved, "%s%s/%s/%s", prefix, POD_MEMBERS_DIR, id, *s + n) < 0)
                return rv_error_set(err, ENOMEM, "member spec");
        free(*s);
        *s = moved;
        return 0;
}

int pod_member_guest_spec(struct spec_config *guest, struct vm_plan *plan, const char *sandbox,
                          const char *id, unsigned joined, struct rv_error **err)
{
        for (size_t i = 0; i < plan->n_shares; i++) {
                char *name;
                if (asprintf(&name, "%s/%s/%s", POD_MEMBERS_DIR, id, plan->shares[i].name) < 0)
                        return rv_error_set(err, ENOMEM, "member spec");
                free((char *) plan->shares[i].name);
                plan->shares[i].name = name;
        }
        if (move_source(&guest->root.path, id, err) < 0)
                return -1;
        for (size_t i = 0; i < guest->n_mounts; i++)
                if (move_source(&guest->mounts[i].source, id, err) < 0)
                        return -1;
        for (size_t i = 0; i < guest->linux_.n_namespaces; i++) {
                struct spec_namespace *ns = &guest->linux_.namespaces[i];
                /* The sandbox container's, published by the agent. */
                if ((joined & POD_JOINED_PID) && ns->type && strcmp(ns->type, "pid") == 0) {
                        free(ns->path);
                        if (asprintf(&ns->path, "%s/%s/pid", GUEST_NS_DIR, sandbox) < 0) {
                                ns->path = NULL;
                                return rv_error_set(err, ENOMEM, "member spec");
                        }
                }
                for (int k = STATE_NS_IPC; k <= STATE_NS_UTS; k++) {
                        if (!(joined & (1u << k)) || ns->type == NULL || strcmp(ns->type, strippable[k]) != 0)
                                continue;
                        free(ns->path);
                        if (asprintf(&ns->path, "%s/%s/%s", GUEST_NS_DIR, sandbox, strippable[k]) < 0) {
                                ns->path = NULL;
                                return rv_error_set(err, ENOMEM, "member spec");
                        }
                }
        }
        return 0;
}

int pod_member_check(const char *root, const char *sandbox, const struct spec_config *spec,
                     struct rv_error **err)
{
        struct state_dir dir = STATE_DIR_INIT;
        _cleanup_(container_state_freep) struct container_state *s = NULL;

        if (state_dir_open(root, sandbox, false, &dir, err) < 0)
                return -1;
        int r = state_load(dir.dirfd, &s, err);
        state_dir_close(&dir);
        return r < 0 ? -1 : pod_member_fits(spec, s, err);
}

/* --- the member's monitor --------------------------------------------------- */

static char *member_payload(const struct monitor_options *o, const struct netconf *network, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        char *text = NULL;
        size_t len;

        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, o->state->id);
        json_write_key(w, "spec");
        spec_config_write(w, o->guest_spec);
        pod_hooks_write_guest_state(w, o);
        /* What its start may take beyond the usual: the guest runs them then. */
        json_write_key(w, "start_hooks_ms");
        json_write_int64(w, spec_hooks_max_ms(&o->guest_spec->hooks.start_container));
        json_write_key(w, "shares");
        json_write_array_begin(w);
        for (size_t i = 0; i < o->plan->n_shares; i++) {
                const struct vm_share *s = &o->plan->shares[i];
                json_write_object_begin(w);
                json_write_key(w, "name"); json_write_string(w, s->name);
                json_write_key(w, "source"); json_write_string(w, s->source);
                json_write_key(w, "is_dir"); json_write_bool(w, s->is_dir);
                json_write_object_end(w);
        }
        json_write_array_end(w);
        /* Hot-plugged into the sandbox's VM; their fds follow the trees'. */
        json_write_key(w, "disks");
        json_write_array_begin(w);
        for (size_t i = 0; i < o->plan->n_disks; i++) {
                const struct vm_disk *d = &o->plan->disks[i];
                json_write_object_begin(w);
                json_write_key(w, "id"); json_write_string(w, d->id);
                json_write_key(w, "source"); json_write_string(w, d->source);
                json_write_key(w, "is_block"); json_write_bool(w, d->is_block);
                json_write_key(w, "readonly"); json_write_bool(w, d->readonly);
                json_write_object_end(w);
        }
        json_write_array_end(w);
        /* A warm pool VM's NIC takes the container's interface (pool-nic.h). */
        if (network && network->n_ifaces > 0) {
                json_write_key(w, "network");
                netconf_write(w, network);
        }
        json_write_object_end(w);
        if (json_writer_finish(w, &text, &len, err) < 0)
                return NULL;
        return text;
}

/* The member's stdio as the sandbox's monitor relays it: fds 0, 1, 2; or
 * with a terminal (CTL_FLAG_TERMINAL) its input and output end, twice the
 * same pty slave for a console socket (as monitor.c's setup_stdio), and
 * the output again in the third slot. *ret_tty: the fd whose size a
 * SIGWINCH reports, kept by the member's monitor (-1: none). */
static int member_stdio(const struct monitor_options *o, int fds[3], int *ret_tty, struct rv_error **err)
{
        const struct spec_box *size = &o->guest_spec->process.console_size;
        int slave;

        *ret_tty = -1;
        switch (o->tty) {
        case MONITOR_TTY_CONSOLE_SOCKET:
                if (tty_console_create(o->console_socket, size->has ? (uint16_t) size->height : 0,
                                       size->has ? (uint16_t) size->width : 0, &slave, err) < 0)
                        return -1;
                /* Its session's terminal: a resize of the master is our SIGWINCH. */
                if (tty_make_controlling(slave, err) < 0) {
                        close(slave);
                        return -1;
                }
                fds[0] = fds[1] = fds[2] = *ret_tty = slave;
                return 0;
        case MONITOR_TTY_STDIO:
                fds[0] = STDIN_FILENO;
                fds[1] = fds[2] = STDOUT_FILENO;
                if (isatty(STDIN_FILENO))
                        *ret_tty = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
                return 0;
        case MONITOR_TTY_NONE:
        default:
                for (int i = 0; i < 3; i++)
                        fds[i] = i;
                return 0;
        }
}

/* How long the sandbox may take to start a member it made (no hooks). */
#define START_TIMEOUT_MS 60000

/* CTL_MEMBER to the sandbox; the connection stays open for the exit. A
 * pool VM's member joins its host cgroup and wires its NIC while the
 * guest makes the container (pool.h, pool-nic.h). */
static int hand_over(struct monitor_options *o, const char *sandbox, const int stdio[3], bool pool,
                     struct pool_nic_member *net, struct rv_error **err)
{
        _cleanup_free_ char *payload = NULL;
        struct state_dir sdir = STATE_DIR_INIT;
        int fds[CTL_MAX_FDS];
        size_t n = 0;
        int conn = -1;

        if (4 + o->plan->n_shares + o->plan->n_disks > CTL_MAX_FDS)
                return rv_error_setx(err, E2BIG, "%zu shares and %zu block devices: a pod's member brings at "
                                     "most %d files, directories and block devices", o->plan->n_shares,
                                     o->plan->n_disks, CTL_MAX_FDS - 4);
        if ((payload = member_payload(o, net->netconf, err)) == NULL)
                return -1;
        fds[n++] = o->dir->dirfd;
        for (int i = 0; i < 3; i++)
                fds[n++] = stdio[i];
        for (size_t i = 0; i < o->plan->n_shares; i++) {
                int tree = vm_share_clone(&o->plan->shares[i]);
                if (tree < 0) {
                        rv_error_set(err, errno, "clone the mounts of `%s`", o->plan->shares[i].source);
                        goto out;
                }
                fds[n++] = tree;
        }
        for (size_t i = 0; i < o->plan->n_disks; i++) {
                int fd = fcntl(o->plan->disks[i].fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0) {
                        rv_error_set(err, errno, "disk `%s`", o->plan->disks[i].source);
                        goto out;
                }
                fds[n++] = fd;
        }
        if (state_dir_open(o->ctx->root, sandbox, false, &sdir, err) < 0)
                goto out;
        conn = ctl_connect(sdir.dirfd, err);
        state_dir_close(&sdir);
        if (conn < 0)
                goto out;
        /* A pool VM's TAP is wired while the guest makes the container.
         * Its first frames must find the TAP where they are going, so
         * `run`'s start then waits for both and is asked for apart. */
        bool start_after = o->autostart && net->n_nics > 0;
        struct ctl_header h = { .command = CTL_MEMBER,
                                .flags = (o->autostart && !start_after ? CTL_FLAG_AUTOSTART : 0) |
                                         (o->tty != MONITOR_TTY_NONE ? CTL_FLAG_TERMINAL : 0),
                                .length = (uint32_t) strlen(payload) };
        struct ctl_header start = { .command = CTL_START };
        if (ctl_send_request(conn, &h, payload, fds, n, err) < 0 ||
            (pool && pool_member_join_cgroup(o, err) < 0) || pool_nic_wire(net, o, err) < 0 ||
            ctl_read_reply(conn, 120000, NULL, NULL, err) < 0 ||
            (start_after && ctl_call(o->dir->dirfd, &start, NULL, START_TIMEOUT_MS, NULL, NULL, err) < 0)) {
                close(conn);
                conn = -1;
                rv_error_wrap(err, pool ? "warm pool VM `%s`" : "the pod's sandbox `%s`", sandbox);
        }
out:
        for (size_t i = 4; i < n; i++)
                close(fds[i]);
        /* The sandbox's VM holds the disks now: this monitor, which lives
         * as long as the member, must not keep the host's devices open. */
        for (size_t i = 0; conn >= 0 && i < o->plan->n_disks; i++) {
                if (o->plan->disks[i].fd >= 0)
                        close(o->plan->disks[i].fd);
                o->plan->disks[i].fd = -1;
        }
        return conn;
}

/* The member's pid stands for it on the host, and host tools act on that
 * pid's namespaces (nsenter, podman inspect): its pod's, which the
 * sandbox's monitor holds. Recorded, so that joining them joins the pod. */
static int join_pod_namespaces(const struct monitor_options *o, const char *sandbox, struct rv_error **err)
{
        static const struct { const char *name; int flag; } kinds[] = {
                { "net", CLONE_NEWNET }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
        };
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        char path[64];

        if (state_dir_open(o->ctx->root, sandbox, false, &dir, err) < 0)
                return -1;
        int r = state_load(dir.dirfd, &s, err);
        state_dir_close(&dir);
        if (r < 0)
                return -1;
        int fds[3] = { -1, -1, -1 };
        /* /proc is the host's here: host pids. The fds first, then the
         * check that the pid is still the sandbox's monitor. */
        for (size_t i = 0; i < 3; i++) {
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) s->monitor_pid, kinds[i].name);
                fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        }
        r = fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0 && container_state_monitor_alive(s) ? 0 : -1;
        if (r < 0)
                rv_error_setx(err, ESRCH, "the pod's sandbox `%s` is not running", sandbox);
        for (size_t i = 0; r == 0 && i < 3; i++)
                if (setns(fds[i], kinds[i].flag) < 0)
                        r = rv_error_set(err, errno, "join the %s namespace of the pod's sandbox `%s`",
                                         kinds[i].name, sandbox);
        for (size_t i = 0; i < 3; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        if (r < 0)
                return -1;
        if (pod_record_namespaces(o->state, err) < 0 || state_save(o->dir->dirfd, o->state, err) < 0)
                return -1;
        return 0;
}

/* The member's own host cgroup, its cgroupsPath as the caller asked
 * (podman, conmon and CRI-O look for it): it holds this monitor only, the
 * VM being the sandbox's. Of the limits, what means anything for that
 * (docs/RESOURCES.md): cpu, cpuset, blkio and pids as a standalone
 * container's; no memory limit, which would bound this monitor and not
 * the member (its guest cgroup does). Removed by delete (teardown.c). */
static int enter_member_cgroup(struct monitor_options *o, struct rv_error **err)
{
        struct host_cgroup_limits limits;
        char **dirs = NULL;

        host_cgroup_limits_from(&o->guest_spec->linux_.resources, 0, 0, 1, &limits);
        if (host_cgroup_enter(o->guest_spec->linux_.cgroups_path, o->state->id, o->ctx->systemd_cgroup,
                              getpid(), &limits, &dirs, err) < 0)
                return -1;
        rv_strv_free(o->state->cgroup_dirs);
        o->state->cgroup_dirs = dirs;
        if (dirs && state_save(o->dir->dirfd, o->state, err) < 0)
                return rv_error_wrap(err, "record the host cgroup");
        return 0;
}

/* The sandbox's monitor went without an exit: its VM is gone. */
_Noreturn static void sandbox_gone(const struct monitor_options *o, const char *sandbox)
{
        struct container_state *s = NULL;
        struct rv_error *tmp_err = NULL;
        char reason[256];

        snprintf(reason, sizeof(reason), "the pod's sandbox VM (`%s`) exited", sandbox);
        rv_log(RV_LOG_ERROR, "%s", reason);
        if (state_load(o->dir->dirfd, &s, &tmp_err) == 0) {
                s->status = CONTAINER_STOPPED;
                s->exited = true;
                s->exit_code = 0;
                s->exit_signal = SIGKILL;
                state_set_reason(s, reason);
                if (state_save(o->dir->dirfd, s, &tmp_err) < 0)
                        rv_log(RV_LOG_WARNING, "save state: %s", tmp_err->msg);
                container_state_free(s);
        }
        rv_error_release(&tmp_err);
        rv_exit_like(0, SIGKILL);
}

/* A change of a warm pool VM's container's namespace, which a served VM
 * cannot follow (no rebuild, no hot-plug): in this log, and to the pool
 * monitor for the container's `network` event (monitor-pod.c). */
static void report_net_change(void *data, const char *interface, const char *change)
{
        int conn = *(const int *) data;
        struct ctl_header h = { .command = CTL_NET_CHANGED };
        char msg[sizeof(h) + CTL_NET_CHANGED_MAX];
        int n = snprintf(msg + sizeof(h), sizeof(msg) - sizeof(h), "%s%c%s", interface, '\0', change);

        rv_log(RV_LOG_WARNING, "network: `%s` %s in the container's network namespace after its create: the warm "
               "VM keeps the network it was served with (restart the container to pick this up)", interface, change);
        if (n < 0 || (size_t) n + 1 > sizeof(msg) - sizeof(h))
                return;
        h.length = (uint32_t) n + 1;
        memcpy(msg, &h, sizeof(h));
        if (send(conn, msg, sizeof(h) + h.length, MSG_NOSIGNAL) < 0)
                rv_debug("network: report the change: %s", strerror(errno));
}

_Noreturn void pod_member_main(struct monitor_options *o, const char *sandbox)
{
        struct rv_error *err = NULL;
        sigset_t set;
        int conn, sigfd, stdio[3], tty = -1;

        if (o->dir->lockfd >= 0)
                close(o->dir->lockfd);
        o->dir->lockfd = -1;
        setsid();
        prctl(PR_SET_NAME, "runvm-member");
        int logfd = openat(o->dir->dirfd, "monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd >= 0) {
                rv_log_set_fd(logfd);
                close(logfd);
        }
        /* create recorded this pid and start time before it let us go. */
        o->state->monitor_pid = rv_proc_self_pid();
        rv_proc_start_time(o->state->monitor_pid, &o->state->monitor_start_time);
        monitor_signal_set(&set);
        signal(SIGPIPE, SIG_IGN);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0)
                rv_error_set(&err, errno, "signalfd");
        /* runc's order: prestart and createRuntime, createContainer
         * (the VM runs already), the container created, poststart; the
         * guest runs startContainer. poststop is delete's. */
        const struct spec_hooks *hooks = &o->guest_spec->hooks;
        /* A warm pool VM's container: its stand-in as a cold one's, in the
         * host cgroup create made for its VM (pool-member.h), which it
         * joins in hand_over. */
        struct pool_member pm = POOL_MEMBER_INIT;
        bool pool = pool_is_sandbox(sandbox);
        conn = -1;
        if (err != NULL || (pool && pool_member_prepare(&pm, o, sandbox, &err) < 0) ||
            (!pool && enter_member_cgroup(o, &err) < 0) ||
            join_pod_namespaces(o, sandbox, &err) < 0 ||
            (pool && o->plan->netns_path && pool_nic_scan(&pm.net, o, &err) < 0) ||
            pod_hooks_save_poststop(o, &err) < 0 ||
            pod_hooks_run(o, &hooks->prestart, "prestart", CONTAINER_CREATING, &err) < 0 ||
            pod_hooks_run(o, &hooks->create_runtime, "createRuntime", CONTAINER_CREATING, &err) < 0 ||
            pod_hooks_run(o, &hooks->create_container, "createContainer", CONTAINER_CREATING, &err) < 0 ||
            member_stdio(o, stdio, &tty, &err) < 0 || (conn = hand_over(o, sandbox, stdio, pool, &pm.net, &err)) < 0 ||
            pod_hooks_run(o, &hooks->poststart, "poststart", CONTAINER_CREATED, &err) < 0 ||
            (pool && pool_member_enter_view(&pm, o, &err) < 0)) {
                rv_log(RV_LOG_ERROR, "%s", err->msg);
                /* Our connection's end kills the member in the guest. */
                if (conn >= 0)
                        close(conn);
                monitor_sync_report(o->sync_fd, err->status > 0 ? err->status : EIO, err->msg);
                /* As runc after a failed create. */
                struct rv_error *tmp_err = NULL;
                if (hooks_poststop_run_saved(o->dir->dirfd, o->state->bundle, &tmp_err) < 0)
                        rv_log(RV_LOG_WARNING, "%s", tmp_err->msg);
                rv_error_release(&tmp_err);
                pool_nic_release(&pm.net, o);
                _exit(1);
        }
        if (monitor_sync_report(o->sync_fd, 0, NULL) < 0) {
                pool_nic_release(&pm.net, o);
                _exit(1);       /* create is gone: our connection's end kills the member */
        }
        close(o->sync_fd);
        /* The sandbox's monitor holds the member's stdio now. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; null >= 0 && i < 3; i++)
                dup2(null, i);
        if (null > 2)
                close(null);
        /* The namespace the engine made, joined by pool_nic_scan. */
        struct netns_watch *watch = NULL;
        if (pool && pm.net.netconf != NULL && netns_watch_open(pm.net.netconf, &watch, &err) < 0) {
                rv_warn("network: watching the namespace failed: %s; later changes go unreported", err->msg);
                rv_error_release(&err);
        }

        for (;;) {
                struct pollfd p[3] = { { sigfd, POLLIN, 0 }, { conn, POLLIN, 0 },
                                       { watch ? netns_watch_fd(watch) : -1, POLLIN, 0 } };
                if (poll(p, 3, -1) < 0)
                        continue;
                if ((p[2].revents & POLLIN) && netns_watch_read(watch, report_net_change, &conn) < 0) {
                        rv_warn("network: watching the namespace failed; later changes go unreported");
                        netns_watch_free(watch);
                        watch = NULL;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                                struct ctl_header h = { .command = CTL_KILL, .arg = (int32_t) si.ssi_signo };
                                uint16_t rows, cols;
                                /* Its terminal changed size: the sandbox's
                                 * monitor reads the new one from its end. */
                                if (si.ssi_signo == SIGWINCH && o->tty != MONITOR_TTY_NONE) {
                                        if (tty < 0 || tty_get_size(tty, &rows, &cols) < 0)
                                                continue;
                                        h = (struct ctl_header) { .command = CTL_RESIZE,
                                                                  .arg = (int32_t) ((uint32_t) rows << 16 | cols) };
                                }
                                if (send(conn, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t) sizeof(h))
                                        sandbox_gone(o, sandbox);
                        }
                }
                if (!(p[1].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                _cleanup_free_ char *reply = NULL;
                _cleanup_(json_value_freep) struct json_value *v = NULL;
                size_t len = 0;
                int64_t code = 0, sig = 0;
                if (ctl_read_reply(conn, 5000, &reply, &len, &err) < 0 || reply == NULL ||
                    json_parse(reply, len, &v, &err) < 0) {
                        rv_error_release(&err);
                        sandbox_gone(o, sandbox);
                }
                if (json_get(v, "signal"))
                        json_read_int64(json_get(v, "signal"), "signal", &sig, NULL);
                else
                        json_read_int64(json_get(v, "exit_code"), "exit_code", &code, NULL);
                pool_member_wait_vm(&pm);
                pool_nic_release(&pm.net, o);
                rv_exit_like((int) code, (int) sig);
        }
}
