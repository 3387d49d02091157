/* SPDX-License-Identifier: Apache-2.0 */
/* create, start, run, kill, delete.
 * Over 600 lines: the five verbs share the locked state-dir load, the
 * monitor's launch and the waits on it; apart, each would reach into the
 * others' helpers. */
#include "libcontainer-vm/container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor.h"
#include "libcontainer-vm/monitor-sync.h"
#include "libcontainer-vm/pod-join.h"
#include "libcontainer-vm/pod-member.h"
#include "libcontainer-vm/pool.h"
#include "libcontainer-vm/pool-nic.h"
#include "libcontainer-vm/cgroup-limits.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/teardown.h"
#include "libcontainer-vm/translate.h"
#include "libcontainer-vm/tty.h"
#include "spec/config.h"

#define CTL_TIMEOUT_MS 30000
#define MONITOR_EXIT_TIMEOUT_MS 15000
/* How long the monitor's pid namespace may take to end after the monitor. */
#define PIDNS_EXIT_TIMEOUT_MS 10000

bool container_id_is_valid(const char *id)
{
        if (id == NULL || *id == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return false;
        for (const char *p = id; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '+' || c == '.' || c == '-'))
                        return false;
        }
        return true;
}

static int check_id(const char *id, struct rv_error **err)
{
        if (!container_id_is_valid(id))
                return rv_error_setx(err, EINVAL, "invalid container ID format");
        return 0;
}

/* Everything a launch needs, checked before anything is created. */
struct prepared {
        struct runvm_config cfg;
        struct spec_config *spec;       /* rewritten into the guest spec */
        struct vm_plan plan;
        char *sandbox;                  /* a pod member: its sandbox container (pod-join.h) */
        bool pool_shape_ok;             /* served from the warm pool's shape (pool.h) */
        bool pool;                      /* ... by the pool VM `sandbox`, claimed */
        struct pool_shape shape;
};

static void prepared_clear(struct prepared *p)
{
        runvm_config_clear(&p->cfg);
        spec_config_free(p->spec);
        p->spec = NULL;
        vm_plan_clear(&p->plan);
        free(p->sandbox);
        p->sandbox = NULL;
}

/* A container of the pool's shape takes a ready pool VM as its sandbox;
 * anything amiss (none ready, a dead one, a pool error) boots cold. */
static void pool_try_claim(const char *root, struct prepared *p)
{
        struct rv_error *tmp_err = NULL;
        struct pool_shape mine, shapes[POOL_MAX_SHAPES];
        size_t n_shapes = 0;

        if (!pool_eligible(p->spec, &p->plan, &p->cfg, false))
                return;
        if (pool_shapes(&p->cfg, root, shapes, &n_shapes, &tmp_err) < 0) {
                rv_debug("warm pool: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
                return;
        }
        pool_shape_make(&p->cfg, p->plan.memory_mib,
                        !shapes[0].kvm && p->plan.vcpus_follow_accel ? 1 : p->plan.vcpus, shapes[0].kvm, &mine);
        size_t k = 0;
        while (k < n_shapes && strcmp(mine.key, shapes[k].key) != 0)
                k++;
        if (k == n_shapes)
                return;                 /* a size nobody keeps warm: its own VM */
        p->shape = shapes[k];
        size_t nics = 0;
        if (p->plan.netns_path && pool_nic_count(p->plan.netns_path, &nics, &tmp_err) < 0) {
                /* The cold monitor's scan says what is wrong with it. */
                rv_debug("warm pool: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
                return;
        }
        if (nics > POOL_NICS) {
                rv_debug("warm pool: %zu interfaces in `%s`: a pool VM has %d NIC", nics, p->plan.netns_path,
                         POOL_NICS);
                return;
        }
        p->pool_shape_ok = true;
        if (pool_claim(root, &p->shape, &p->sandbox, &tmp_err) < 0) {
                rv_debug("warm pool: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        p->pool = p->sandbox != NULL;
        rv_debug("warm pool: %s", p->pool ? p->sandbox : "no VM ready: cold boot");
}

/* The pool keeps its depth: pool monitors start detached, never waited for. */
static void pool_refill(const struct runvm_context *ctx, const struct prepared *p)
{
        struct rv_error *tmp_err = NULL;
        unsigned n;

        if (p->pool_shape_ok && pool_fill(ctx, &p->cfg, &p->shape, p->cfg.warm_pool, false, &n, &tmp_err) < 0) {
                rv_warn("warm pool: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
}

static int prepare(const char *root, const struct container_create_options *o, struct prepared *p,
                   struct rv_error **err)
{
        _cleanup_free_ char *config_path = NULL;
        unsigned joined = 0;
        struct stat st;

        if (stat(o->bundle, &st) < 0)
                return rv_error_set(err, errno, "bundle `%s`", o->bundle);
        if (!S_ISDIR(st.st_mode))
                return rv_error_set(err, ENOTDIR, "bundle `%s`", o->bundle);
        if (runvm_config_load(&p->cfg, err) < 0)
                return -1;
        if (asprintf(&config_path, "%s/config.json", o->bundle) < 0)
                return rv_error_set(err, ENOMEM, "config");
        if (spec_config_parse_file(config_path, &p->spec, err) < 0)
                return -1;
        if (spec_config_validate(p->spec, err) < 0)
                return rv_error_wrap(err, "config.json");
        /* A pod's member runs in its sandbox's VM: a VM of its own would
         * mirror the same network namespace twice. */
        if (pod_join_resolve(root, p->spec, &p->sandbox, &joined, err) < 0)
                return rv_error_wrap(err, "config.json");
        _cleanup_free_ char *ipcns = NULL, *utsns = NULL;
        if (p->sandbox && pod_member_check(root, p->sandbox, p->spec, err) < 0)
                return rv_error_wrap(err, "config.json");
        if (p->sandbox && pod_member_take_pid(root, p->sandbox, p->spec, &joined, err) < 0)
                return rv_error_wrap(err, "config.json");
        if (p->sandbox)
                pod_member_strip_paths(p->spec, joined);
        else if (pod_sandbox_take_paths(p->spec, &ipcns, &utsns, err) < 0)
                return rv_error_wrap(err, "config.json");
        if (translate_spec(p->spec, o->bundle, &p->cfg, &p->plan, err) < 0)
                return rv_error_wrap(err, "config.json");
        p->plan.ipcns_path = TAKE_PTR(ipcns);
        p->plan.utsns_path = TAKE_PTR(utsns);
        if (!p->sandbox)
                pool_try_claim(root, p);
        if (p->sandbox && pod_member_guest_spec(p->spec, &p->plan, p->sandbox, o->id, joined, err) < 0)
                return rv_error_wrap(err, "config.json");
        return 0;
}

static char **annotations_copy(const struct spec_config *c)
{
        char **v = calloc(c->n_annotations * 2 + 1, sizeof(char *));
        if (v == NULL)
                return NULL;
        for (size_t i = 0; i < c->n_annotations; i++) {
                v[2 * i] = strdup(c->annotations[i].key);
                v[2 * i + 1] = strdup(c->annotations[i].value ? c->annotations[i].value : "");
        }
        return v;
}

/* Pid 1 of the monitor's pid namespace: it reaps orphans and lives until
 * the monitor lets go of keep (by exiting, however it exits). */
_Noreturn static void pidns_init(int keep)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        char c;

        prctl(PR_SET_NAME, "runvm-pidns");
        /* The caller's stdio (conmon's pipes) is not ours to hold. */
        if (null >= 0)
                for (int fd = 0; fd <= 2; fd++)
                        dup2(null, fd);
        if (keep > 3)
                close_range(3, (unsigned) keep - 1, 0);
        close_range((unsigned) keep + 1, ~0u, 0);
        signal(SIGCHLD, SIG_IGN);       /* orphans are reaped by the kernel */
        while (read(keep, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(0);
}

/* The monitor lives in a pid namespace of its own (monitor-ns.h), as its
 * pid 2: a tiny init holds the namespace (pid 1 could not die by the
 * container's signal), the monitor stays this process's child (run and
 * conmon wait for it), and this process's later children (poststop
 * hooks of a foreground run) stay in the caller's namespace. */
static pid_t fork_monitor(struct container_state *st)
{
        _cleanup_close_ int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        int keep[2];

        if (own < 0 || pipe2(keep, O_CLOEXEC) < 0)
                return -1;
        if (unshare(CLONE_NEWPID) < 0) {
                int saved = errno;
                close(keep[0]);
                close(keep[1]);
                errno = saved;
                return -1;
        }
        pid_t init = fork(), pid = -1;
        if (init == 0) {
                close(keep[1]);
                pidns_init(keep[0]);
        }
        if (init > 0) {
                /* Recorded before the monitor is forked: its copy of the
                 * state carries it into every state.json it writes. */
                st->pidns_init_pid = init;
                rv_proc_start_time(init, &st->pidns_init_start_time);
                pid = fork();
                if (pid == 0) {
                        close(keep[0]);
                        return 0;               /* the monitor holds keep[1] for life */
                }
        }
        int saved = errno;
        close(keep[0]);
        close(keep[1]);
        if (setns(own, CLONE_NEWPID) < 0 && pid > 0) {
                saved = errno;
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                pid = -1;
        }
        if (init > 0 && pid < 0) {
                waitpid(init, NULL, 0);         /* it saw EOF on keep */
                st->pidns_init_pid = 0;
        }
        errno = saved;
        return pid;
}

/* Validates, makes the state dir, forks the monitor and waits for its
 * verdict. On failure nothing is left: the monitor cleaned up its VM, and
 * the state dir is removed here. */
/* runc's rules for terminals and console sockets (CONTRACT.md §5). */
static int choose_tty(const struct spec_config *spec, const struct container_create_options *o,
                      bool detached, enum monitor_tty *ret, struct rv_error **err)
{
        bool terminal = spec->has_process && spec->process.terminal;

        if (o->console_socket && (!detached || !terminal))
                return rv_error_setx(err, EINVAL, "cannot use console socket if runvm will not detach or allocate tty");
        if (terminal && detached && o->console_socket == NULL)
                return rv_error_setx(err, EINVAL, "cannot allocate tty if runvm will detach without setting console socket");
        *ret = !terminal ? MONITOR_TTY_NONE : detached ? MONITOR_TTY_CONSOLE_SOCKET : MONITOR_TTY_STDIO;
        return 0;
}

static int launch(const struct runvm_context *ctx, const struct container_create_options *o,
                  bool autostart, bool detached, pid_t *ret_monitor, pid_t *ret_pidns_init,
                  bool *ret_terminal, struct rv_error **err)
{
        struct prepared p = { 0 };
        struct state_dir dir = STATE_DIR_INIT;
        struct container_state st = { 0 };
        enum monitor_tty tty;
        char created[64];
        int sync[2], go[2];
        pid_t pid;
        int r = -1;

        if (check_id(o->id, err) < 0)
                return -1;
        /* virtiofsd's namespaces and the VM's devices need root. */
        if (geteuid() != 0)
                return rv_error_setx(err, EPERM, "runvm needs root: rootless mode is not supported");
        /* Host fds cannot cross into a VM; socket activation needs them. */
        if (o->preserve_fds > 0)
                return rv_error_setx(err, ENOTSUP, "--preserve-fds: file descriptors cannot be passed into a VM");
        if (prepare(ctx->root, o, &p, err) < 0 || choose_tty(p.spec, o, detached, &tty, err) < 0) {
                prepared_clear(&p);
                return -1;
        }
        /* A foreground terminal starts at the size of the caller's. */
        if (tty == MONITOR_TTY_STDIO && !p.spec->process.console_size.has) {
                uint16_t h, w;
                if (tty_get_size(STDIN_FILENO, &h, &w) == 0 && h && w)
                        p.spec->process.console_size = (struct spec_box) { true, h, w };
        }
        rv_time_rfc3339(created, sizeof(created), true);
        st.id = (char *) o->id;
        st.bundle = (char *) o->bundle;
        st.rootfs = p.plan.rootfs;
        st.created = created;
        st.owner = "";
        st.status = CONTAINER_CREATING;
        /* Until the monitor is forked, the creating process answers for
         * the container: alive means "creating", gone means it died
         * half-way ("stopped", and delete finishes the job). */
        st.monitor_pid = getpid();
        rv_proc_start_time(st.monitor_pid, &st.monitor_start_time);
        st.annotations = annotations_copy(p.spec);
        st.sandbox = p.sandbox;
        if (st.annotations == NULL) {
                rv_strv_free(st.annotations);
                prepared_clear(&p);
                return rv_error_set(err, ENOMEM, "state");
        }
        if (state_dir_create(ctx->root, o->id, &st, &dir, err) < 0) {
                rv_strv_free(st.annotations);
                prepared_clear(&p);
                return -1;
        }
        /* A pool VM's processes join the container's host cgroup, as a
         * cold VM's start in it (moved once the member's monitor runs:
         * pool.h); the member's monitor joins it itself. */
        struct pool_procs vm_procs = { .n = 0 };
        if (p.pool) {
                struct host_cgroup_limits limits;
                /* The VM's size, as a cold monitor records it (state, update). */
                st.kvm = p.shape.kvm;
                st.memory_mib = p.shape.memory_mib;
                st.vcpus = p.shape.vcpus;
                host_cgroup_limits_from(&p.spec->linux_.resources, p.plan.memory_mib, p.cfg.overhead_memory_mib,
                                        p.plan.vcpus, &limits);
                if (pool_adopt(ctx->root, p.sandbox, p.spec->linux_.cgroups_path, o->id, ctx->systemd_cgroup,
                               &limits, &st.cgroup_dirs, &vm_procs, err) < 0 || state_save(dir.dirfd, &st, err) < 0)
                        goto out;
        }
        /* Messages both ways: the monitor asks this process to run the
         * runtime's hooks (in the caller's namespaces, as runc does). */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
                rv_error_set(err, errno, "socketpair");
                goto out;
        }
        if (pipe2(go, O_CLOEXEC) < 0) {
                rv_error_set(err, errno, "pipe");
                close(sync[0]);
                close(sync[1]);
                goto out;
        }
        pid = fork_monitor(&st);
        if (pid < 0) {
                rv_error_set(err, errno, "fork the monitor");
                close(sync[0]);
                close(sync[1]);
                close(go[0]);
                close(go[1]);
                goto out;
        }
        if (pid == 0) {
                char c;
                close(sync[0]);
                close(go[1]);
                /* The monitor starts nothing before its pid is on disk: if
                 * create dies before recording it, the monitor just goes. */
                if (read(go[0], &c, 1) != 1)
                        _exit(1);
                close(go[0]);
                struct monitor_options mo = {
                        .ctx = ctx, .cfg = &p.cfg, .guest_spec = p.spec, .plan = &p.plan,
                        .dir = &dir, .state = &st, .sync_fd = sync[1], .autostart = autostart,
                        .tty = tty, .console_socket = o->console_socket,
                };
                if (p.sandbox)
                        pod_member_main(&mo, p.sandbox);
                monitor_main(&mo);
        }
        close(sync[1]);
        close(go[0]);
        st.monitor_pid = pid;
        if (rv_proc_start_time(pid, &st.monitor_start_time) < 0 || state_save(dir.dirfd, &st, err) < 0 ||
            rv_write_all(go[1], "g", 1) < 0 || pool_adopt_procs(&vm_procs, st.cgroup_dirs, err) < 0) {
                if (*err == NULL)
                        rv_error_setx(err, EIO, "the monitor exited before it started");
                close(go[1]);
                close(sync[0]);
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                goto out;
        }
        close(go[1]);
        r = monitor_wait_created(sync[0], &p.spec->hooks, o->bundle, err);
        close(sync[0]);
        if (r < 0) {
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                goto out;
        }
        if (o->pid_file && rv_write_pid_file(o->pid_file, pid, err) < 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                r = -1;
                goto out;
        }
        *ret_monitor = pid;
        if (ret_pidns_init)
                *ret_pidns_init = st.pidns_init_pid;
        if (ret_terminal)
                *ret_terminal = tty != MONITOR_TTY_NONE;
out:
        /* A claimed VM that did not take the container serves nobody. */
        if (r < 0 && p.pool)
                pool_discard(ctx->root, p.sandbox);
        if (r == 0)
                pool_refill(ctx, &p);
        if (r < 0) {
                struct rv_error *tmp_err = NULL;
                struct container_state *left = NULL;
                /* The monitor reported and tore its VM down, or was killed
                 * here: stop whatever it recorded, then remove the dir. */
                if (state_load(dir.dirfd, &left, &tmp_err) < 0) {
                        rv_error_release(&tmp_err);
                        state_dir_remove(ctx->root, o->id, &tmp_err);
                } else if (container_teardown(left, &tmp_err) < 0) {
                        rv_warn("%s: %s; keeping its state for delete", o->id, tmp_err->msg);
                } else {
                        state_dir_remove(ctx->root, o->id, &tmp_err);
                }
                container_state_free(left);
                rv_error_release(&tmp_err);
        }
        rv_strv_free(st.annotations);
        rv_strv_free(st.cgroup_dirs);
        state_dir_close(&dir);
        prepared_clear(&p);
        return r;
}

int container_create(const struct runvm_context *ctx, const struct container_create_options *o,
                     struct rv_error **err)
{
        pid_t pid;
        return launch(ctx, o, false, true, &pid, NULL, NULL, err);
}

static int load_locked(const struct runvm_context *ctx, const char *id, struct state_dir *dir,
                       struct container_state **ret, struct rv_error **err)
{
        if (check_id(id, err) < 0 || state_dir_open(ctx->root, id, true, dir, err) < 0)
                return -1;
        if (state_load(dir->dirfd, ret, err) < 0) {
                state_dir_close(dir);
                return -1;
        }
        return 0;
}

/* How long start may take: the guest's own bound plus the startContainer
 * hooks' timeouts. */
static int start_timeout_ms(const char *bundle)
{
        _cleanup_free_ char *path = NULL;
        struct spec_config *c = NULL;
        struct rv_error *tmp_err = NULL;
        int ms = CTL_TIMEOUT_MS;

        if (bundle && asprintf(&path, "%s/config.json", bundle) >= 0 &&
            spec_config_parse_file(path, &c, &tmp_err) == 0)
                ms += (int) spec_hooks_max_ms(&c->hooks.start_container);
        rv_error_release(&tmp_err);
        spec_config_free(c);
        return ms;
}

int container_start(const struct runvm_context *ctx, const char *id, struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct ctl_header req = { .command = CTL_START };
        int r;

        if (load_locked(ctx, id, &dir, &st, err) < 0)
                return -1;
        if (container_status_check(container_state_status(st), CONTAINER_OP_START, err) < 0) {
                state_dir_close(&dir);
                return -1;
        }
        r = ctl_call(dir.dirfd, &req, NULL, start_timeout_ms(st->bundle), NULL, NULL, err);
        state_dir_close(&dir);
        return r;
}

int container_kill(const struct runvm_context *ctx, const char *id, int signal, bool all,
                   struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct ctl_header req = { .command = CTL_KILL, .arg = signal, .flags = all ? CTL_FLAG_ALL : 0 };
        int r;

        if (check_id(id, err) < 0 || state_dir_open(ctx->root, id, false, &dir, err) < 0)
                return -1;
        if (state_load(dir.dirfd, &st, err) < 0) {
                state_dir_close(&dir);
                return -1;
        }
        /* runc signals whatever is left in a stopped container's cgroup
         * with --all and succeeds: nothing runs in a stopped VM. */
        enum container_status status = container_state_status(st);
        if (all && status == CONTAINER_STOPPED) {
                state_dir_close(&dir);
                return 0;
        }
        if (container_status_check(status, CONTAINER_OP_SIGNAL, err) < 0) {
                state_dir_close(&dir);
                return -1;
        }
        /* Signal 0 asks whether the container is alive, as kill(2) does. */
        if (signal == 0) {
                state_dir_close(&dir);
                return 0;
        }
        r = ctl_call(dir.dirfd, &req, NULL, CTL_TIMEOUT_MS, NULL, NULL, err);
        if (r < 0 && (*err)->status != ESRCH && !container_state_monitor_alive(st)) {
                rv_error_release(err);
                r = rv_error_setx(err, ESRCH, "container not running");
        }
        state_dir_close(&dir);
        return r;
}

/* Gives a monitor that was asked to stop its container the time to do so
 * (it records `stopped` and the exit status); teardown forces the rest. */
static void wait_monitor(const struct container_state *st)
{
        if (!container_state_monitor_alive(st))
                return;
        _cleanup_close_ int pidfd = rv_pidfd_open(st->monitor_pid);
        if (pidfd >= 0 && rv_pidfd_wait(pidfd, MONITOR_EXIT_TIMEOUT_MS) < 0 &&
            container_state_monitor_alive(st))
                rv_warn("monitor %d did not exit in time: killing it", st->monitor_pid);
}

int container_delete(const struct runvm_context *ctx, const char *id, bool force,
                     struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        int r;

        if (check_id(id, err) < 0)
                return -1;
        state_sweep_temps(ctx->root);
        if (state_dir_open(ctx->root, id, true, &dir, err) < 0) {
                if (force && (*err)->status == ENOENT) {
                        rv_error_release(err);
                        return 0;
                }
                return -1;
        }
        if (state_load(dir.dirfd, &st, err) < 0) {
                /* A directory without state holds no process (create makes
                 * it with its state); one whose state cannot be read may:
                 * it stays until someone looks. */
                if ((*err)->status != ENOENT) {
                        rv_error_wrap(err, "delete %s: not removing a container whose processes may still "
                                      "run (see %s)", id, dir.path);
                        state_dir_close(&dir);
                        return -1;
                }
                rv_error_release(err);
        } else {
                enum container_status status = container_state_status(st);
                /* Its VM is its members' too; with --force they end with it
                 * (its monitor would wait for them: no waiting for it). */
                bool members = pod_check_no_members(ctx->root, id, err) < 0;
                if (members && !force) {
                        state_dir_close(&dir);
                        return -1;
                }
                if (members)
                        rv_error_release(err);
                if (status != CONTAINER_STOPPED) {
                        if (!force && !container_status_allows(status, CONTAINER_OP_DELETE)) {
                                state_dir_close(&dir);
                                return rv_error_setx(err, EBUSY, "cannot delete container %s that is not stopped: %s",
                                                    id, container_status_name(status));
                        }
                        /* A creating monitor has no ctl.sock yet and a create
                         * that died is tearing itself down: teardown kills it. */
                        if (status != CONTAINER_CREATING) {
                                struct ctl_header req = { .command = CTL_KILL, .arg = SIGKILL, .flags = CTL_FLAG_ALL };
                                struct rv_error *tmp_err = NULL;
                                if (ctl_call(dir.dirfd, &req, NULL, CTL_TIMEOUT_MS, NULL, NULL, &tmp_err) < 0)
                                        rv_debug("delete %s: kill: %s", id, tmp_err->msg);
                                else if (!members)
                                        wait_monitor(st);
                                rv_error_release(&tmp_err);
                        }
                }
                /* Everything it recorded is gone before its state is: callers
                 * may unmount the rootfs right after. */
                if (container_teardown(st, err) < 0) {
                        rv_error_wrap(err, "delete %s", id);
                        state_dir_close(&dir);
                        return -1;
                }
        }
        /* The VM is gone: poststop hooks, whose failures only warn (runc). */
        struct rv_error *hook_err = NULL;
        if (hooks_poststop_run_saved(dir.dirfd, NULL, &hook_err) < 0)
                rv_warn("%s", hook_err->msg);
        rv_error_release(&hook_err);
        r = state_dir_remove(ctx->root, id, err);
        state_dir_close(&dir);
        return r;
}

/* --- run ------------------------------------------------------------------ */

static int wait_foreground(pid_t monitor, bool terminal, int *ret_status, struct rv_error **err)
{
        sigset_t set;
        _cleanup_close_ int sigfd = -EBADF, pidfd = rv_pidfd_open(monitor);
        int status;

        if (pidfd < 0)
                return rv_error_set(err, -pidfd, "watch the monitor");
        monitor_signal_set(&set);
        sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0)
                return rv_error_set(err, errno, "signalfd");
        for (;;) {
                struct pollfd pfd[2] = { { sigfd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return rv_error_set(err, errno, "poll");
                }
                if (pfd[0].revents) {
                        struct signalfd_siginfo si;
                        while (read(sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                                if ((si.ssi_signo != SIGWINCH || terminal) && si.ssi_signo != SIGURG)
                                        kill(monitor, (int) si.ssi_signo);
                }
                if (pfd[1].revents)
                        break;
        }
        while (waitpid(monitor, &status, 0) < 0) {
                if (errno != EINTR)
                        return rv_error_set(err, errno, "wait for the monitor");
        }
        if (WIFEXITED(status))
                *ret_status = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                *ret_status = 128 + WTERMSIG(status);
        else
                *ret_status = 255;
        return 0;
}

/* The monitor's pid namespace outlives the monitor by a moment: its init
 * exits on the monitor's exit, and the kernel then kills and reaps what
 * was left in the namespace (the VM's processes, freeing the guest's
 * memory). Until then they are in the host cgroup, so delete waits for
 * the init, bounded. Woken by the init's pidfd the moment it exits: a
 * sleep-and-retry cost a period per run, and a SIGCHLD arriving mid-sleep
 * restarted the whole period (docs/PERFORMANCE.md, "The fixed cost"). */
static void wait_pidns_init(pid_t init)
{
        if (init <= 0)
                return;
        _cleanup_close_ int pidfd = rv_pidfd_open(init);
        int64_t deadline = rv_now_ms() + PIDNS_EXIT_TIMEOUT_MS;
        for (;;) {
                pid_t r = waitpid(init, NULL, WNOHANG);
                if (r == init || (r < 0 && errno != EINTR))
                        return;
                int64_t left = deadline - rv_now_ms();
                if (left <= 0) {
                        rv_debug("run: the monitor's pid namespace did not end in %d ms", PIDNS_EXIT_TIMEOUT_MS);
                        return;
                }
                if (pidfd >= 0) {
                        struct pollfd p = { .fd = pidfd, .events = POLLIN };
                        poll(&p, 1, (int) left);
                } else {
                        struct timespec ts = { 0, 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
        }
}

int container_run(const struct runvm_context *ctx, const struct container_create_options *o,
                  const struct container_run_options *r, int *ret_status, struct rv_error **err)
{
        sigset_t set, old;
        struct termios saved;
        bool raw = false;
        pid_t pid, init = -1;
        int ret;

        if (r->detach) {
                *ret_status = 0;
                return launch(ctx, o, true, true, &pid, NULL, NULL, err);
        }
        /* Orphans of the container's host side are reaped here, as runc does. */
        if (!r->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return rv_error_set(err, errno, "become a subreaper");
        /* Signals meant for the container are queued from now on and
         * forwarded once the monitor exists. */
        monitor_signal_set(&set);
        sigprocmask(SIG_BLOCK, &set, &old);
        bool terminal = false;
        if (launch(ctx, o, true, false, &pid, &init, &terminal, err) < 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                return -1;
        }
        /* With a terminal the guest's pty does the line discipline: the
         * caller's tty passes keystrokes through untouched meanwhile. A tty
         * that cannot be made raw still works, only echoes twice. */
        if (terminal) {
                struct rv_error *tmp_err = NULL;
                if (tty_set_raw(STDIN_FILENO, &saved, &raw, &tmp_err) < 0)
                        rv_warn("%s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        ret = wait_foreground(pid, terminal, ret_status, err);
        if (raw)
                tty_restore(STDIN_FILENO, &saved);
        wait_pidns_init(init);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (!r->keep) {
                struct rv_error *tmp_err = NULL;
                if (container_delete(ctx, o->id, true, &tmp_err) < 0 && ret == 0) {
                        *err = tmp_err;
                        return -1;
                }
                rv_error_release(&tmp_err);
        }
        return ret;
}
