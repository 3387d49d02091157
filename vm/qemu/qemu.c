/* SPDX-License-Identifier: Apache-2.0 */
/* The QEMU driver: QEMU microvm plus virtiofsd (virtiofsd.c), the VM a
 * container runs in. */
#include "vm/qemu/qemu-vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/spawn.h"
#include "vm/qemu/affinity.h"
#include "vm/qemu/argv.h"
#include "vm/qemu/guest-ram.h"
#include "vm/qemu/qmp.h"

#define SHARED_DIR "shared"

int qemu_fd_above_stdio(int fd)
{
        if (fd < 0 || fd > 2)
                return fd;
        int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return nfd;
}

void qemu_vm_init(struct qemu_vm *q)
{
        *q = (struct qemu_vm) {
                .base = { .driver = &vm_driver_qemu }, .vfs = VIRTIOFSD_INIT, .qemu_pidfd = -1,
                .qemu_procfd = -1, .initrd_fd = -1,
                .agent_fd = -1, .qmp_fd = -1, .qmp = { .fd = -1 }, .log_dirfd = -1,
                .logs = { VMLOG_INIT, VMLOG_INIT, VMLOG_INIT },
        };
}

/* A pipe for a helper's stdout and stderr: the helper gets the write end,
 * the VM's bounded log the non-blocking read end. A file the helper wrote
 * itself would grow without bound with whatever a guest makes it log. */
int qemu_log_pipe(struct qemu_vm *q, int which, const char *name, int *ret_write, struct rv_error **err)
{
        int fds[2];

        if (pipe2(fds, O_CLOEXEC) < 0)
                return rv_error_set(err, errno, "log pipe");
        if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
                int saved = errno;
                close(fds[0]);
                close(fds[1]);
                return rv_error_set(err, saved, "log pipe");
        }
        *ret_write = qemu_fd_above_stdio(fds[1]);
        return vmlog_open(&q->logs[which], q->log_dirfd, name, VMLOG_HELPER_MAX,
                          qemu_fd_above_stdio(fds[0]), err);
}

/* QEMU opens -kernel and -initrd by name after it lost every privilege:
 * it gets /proc/self/fd/N of a file the monitor opened. Reopening a
 * magic link still checks the file's mode, so a file only root can read
 * is handed over as a sealed in-memory copy. */
static int open_boot_file(const char *path, struct rv_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return rv_error_set(err, errno, "open `%s`", path);
        if (!S_ISREG(st.st_mode))
                return rv_error_setx(err, EINVAL, "`%s`: not a regular file", path);
        if (st.st_mode & S_IROTH)
                return qemu_fd_above_stdio(TAKE_FD(fd));
        _cleanup_close_ int mfd = memfd_create("runvm-boot-file", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return rv_error_set(err, errno, "copy `%s`", path);
        for (off_t off = 0; off < st.st_size;) {
                ssize_t n = sendfile(mfd, fd, &off, (size_t) (st.st_size - off));
                if (n <= 0)
                        return rv_error_set(err, n < 0 ? errno : EIO, "copy `%s`", path);
        }
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return rv_error_set(err, errno, "seal the copy of `%s`", path);
        return qemu_fd_above_stdio(TAKE_FD(mfd));
}

static int qemu_create(const struct vm_config *c, struct vm **ret, struct rv_error **err)
{
        struct qemu_vm *q = malloc(sizeof(*q));

        if (q == NULL)
                return rv_error_set(err, ENOMEM, "vm");
        qemu_vm_init(q);
        q->cfg = *c;
        *ret = &q->base;
        return 0;
}

static int qemu_add_share(struct vm *vm, const struct vm_share *sh, int tree, struct rv_error **err)
{
        struct qemu_vm *q = qemu_vm(vm);

        if (q->cfg.virtiofsd_path == NULL) {
                if (tree >= 0)
                        close(tree);
                return rv_error_setx(err, EINVAL, "share `%s`: this VM has no virtio-fs", sh->source);
        }
        /* microvm has no hot-plug bus, but the one virtio-fs export can
         * gain directories while it runs (a pod's next container). */
        if (vm->started)
                return virtiofsd_add_running(&q->vfs, sh, tree, err);
        return virtiofsd_add(&q->vfs, sh, tree, err);
}

static int qemu_remove_shares(struct vm *vm, const char *prefix, struct rv_error **err)
{
        struct qemu_vm *q = qemu_vm(vm);

        if (q->cfg.virtiofsd_path == NULL || !vm->started)
                return 0;
        return virtiofsd_remove_running(&q->vfs, prefix, err);
}

static int qemu_add_disk(struct vm *vm, const struct vm_disk *d, struct rv_error **err)
{
        struct qemu_vm *q = qemu_vm(vm);

        /* microvm's virtio-mmio slots are fixed at boot: a running VM
         * takes a disk in a PCIe root port it was started with. */
        if (vm->started)
                return qemu_hotplug_add(q, d, err);
        if (q->n_disks == VM_MAX_DISKS)
                return rv_error_setx(err, E2BIG, "disk `%s`: more than %d disks", d->source, VM_MAX_DISKS);
        struct vm_disk *n = realloc(q->disks, (q->n_disks + 1) * sizeof(*n));
        if (n == NULL)
                return rv_error_set(err, ENOMEM, "disk `%s`", d->source);
        q->disks = n;
        int fd = qemu_fd_above_stdio(fcntl(d->fd, F_DUPFD_CLOEXEC, 3));
        if (fd < 0)
                return rv_error_set(err, errno, "disk `%s`", d->source);
        n[q->n_disks] = *d;
        n[q->n_disks++].fd = fd;
        return 0;
}

static int qemu_remove_disk(struct vm *vm, const char *id, struct rv_error **err)
{
        struct qemu_vm *q = qemu_vm(vm);

        if (!vm->started)
                return rv_error_setx(err, EINVAL, "disk `%s`: the VM is not running", id);
        return qemu_hotplug_remove(q, id, err);
}

static int dup_or_none(int fd)
{
        return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static int qemu_add_nic(struct vm *vm, const struct vm_nic *nic, struct rv_error **err)
{
        struct qemu_vm *q = qemu_vm(vm);

        if (vm->started)
                return rv_error_setx(err, EOPNOTSUPP, "NIC: the VM is running and QEMU microvm "
                                     "cannot add a device to it");
        if (q->n_nics == VM_MAX_NICS)
                return rv_error_setx(err, E2BIG, "more than %d NICs", VM_MAX_NICS);
        struct vm_nic *n = realloc(q->nics, (q->n_nics + 1) * sizeof(*n));
        if (n == NULL)
                return rv_error_set(err, ENOMEM, "NIC");
        q->nics = n;
        struct vm_nic copy = *nic;
        copy.tap_fd = dup_or_none(nic->tap_fd);
        copy.vhost_fd = dup_or_none(nic->vhost_fd);
        if ((nic->tap_fd >= 0 && copy.tap_fd < 0) || (nic->vhost_fd >= 0 && copy.vhost_fd < 0)) {
                int saved = errno;
                if (copy.tap_fd >= 0)
                        close(copy.tap_fd);
                return rv_error_set(err, saved, "NIC");
        }
        n[q->n_nics++] = copy;
        return 0;
}

static void debug_argv(char *const *argv)
{
        _cleanup_free_ char *line = NULL;
        size_t len = 0;

        if (!rv_log_debug_enabled())
                return;
        FILE *f = open_memstream(&line, &len);
        if (f == NULL)
                return;
        for (size_t i = 0; argv[i]; i++)
                fprintf(f, "%s'%s'", i ? " " : "", argv[i]);
        fclose(f);
        rv_debug("qemu: %s", line);
}

static int start_qemu(struct qemu_vm *q, int vfs_fd, int agent_fd, int qmp_fd, struct rv_error **err)
{
        const struct vm_config *c = &q->cfg;
        _cleanup_(qemu_argv_clear) struct qemu_argv a = { 0 };
        _cleanup_close_ int logfd = -EBADF, console = -EBADF, kernel_fd = -EBADF, initrd_fd = -EBADF;
        int con_pair[2];

        /* The caller's host pid is unique while it runs: so is this id. */
        pid_t self = rv_proc_self_pid();
        uid_t uid = c->uid ? c->uid : VM_ID_BASE + (uid_t) (self > 0 ? self : getpid());
        gid_t gid = c->gid ? c->gid : (gid_t) uid;
        if ((kernel_fd = open_boot_file(c->kernel, err)) < 0 ||
            (initrd_fd = open_boot_file(c->initrd, err)) < 0)
                return rv_error_wrap(err, "start qemu");
        if (qemu_log_pipe(q, VM_LOG_QEMU, "qemu.log", &logfd, err) < 0)
                return -1;
        /* The console reaches the caller, who bounds what is kept. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con_pair) < 0)
                return rv_error_set(err, errno, "console socketpair");
        int con = qemu_fd_above_stdio(con_pair[0]);
        console = qemu_fd_above_stdio(con_pair[1]);
        if (con < 0 || console < 0 || fcntl(con, F_SETFL, O_NONBLOCK) < 0) {
                if (con >= 0)
                        close(con);
                return rv_error_set(err, errno, "console socketpair");
        }
        if (vmlog_open(&q->logs[VM_LOG_CONSOLE], q->log_dirfd, "console.log", VMLOG_CONSOLE_MAX,
                       con, err) < 0)
                return -1;
        struct qemu_fds fds = {
                .console = console, .agent = agent_fd, .qmp = qmp_fd, .vfs = vfs_fd,
                .kernel = kernel_fd, .initrd = initrd_fd,
        };
        struct qemu_devices devs = { q->nics, q->n_nics, q->disks, q->n_disks };
        if (qemu_argv_build(c, &devs, &fds, &a, err) < 0)
                return -1;
        debug_argv(a.argv);
        /* /dev/kvm is the one file QEMU opens itself: through its group. */
        gid_t groups[1];
        size_t n_groups = 0;
        struct stat kvm;
        if (c->kvm && stat("/dev/kvm", &kvm) == 0 && kvm.st_gid != 0)
                groups[n_groups++] = kvm.st_gid;
        struct rv_spawn s = {
                .argv = a.argv, .stdin_fd = -1, .stdout_fd = logfd,
                .stderr_fd = logfd, .pass_fds = a.fds, .n_pass_fds = a.n_fds,
                .pdeathsig = true, .uid = uid, .gid = gid,
                .groups = groups, .n_groups = n_groups,
        };
        if (rv_spawn_start(&s, &q->qemu_pid, &q->qemu_pidfd, err) < 0)
                return rv_error_wrap(err, "start qemu");
        /* The caller has a pid namespace of its own; /proc is the host's. */
        pid_t host_pid = rv_pidfd_proc_pid(q->qemu_pidfd);
        char proc[32];
        snprintf(proc, sizeof(proc), "/proc/%d", (int) host_pid);
        if (host_pid > 0)
                q->qemu_procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        q->initrd_fd = TAKE_FD(initrd_fd);
        return 0;
}

static int start_virtiofsd(struct qemu_vm *q, int *ret_client, struct rv_error **err)
{
        _cleanup_close_ int vfs_listen = -EBADF, logfd = -EBADF;
        _cleanup_free_ char *shared_dir = NULL;

        if (asprintf(&shared_dir, "%s/" SHARED_DIR, q->cfg.state_dir) < 0)
                return rv_error_set(err, ENOMEM, "start vm");
        if (virtiofsd_socket_pair(&vfs_listen, ret_client, err) < 0 ||
            qemu_log_pipe(q, VM_LOG_VIRTIOFSD, "virtiofsd.log", &logfd, err) < 0)
                return -1;
        return virtiofsd_start(&q->vfs, q->cfg.virtiofsd_path, shared_dir, vfs_listen, logfd,
                               q->cfg.debug, err);
}

static int start_all(struct qemu_vm *q, struct rv_error **err)
{
        _cleanup_close_ int vfs_client = -EBADF, guest_end = -EBADF, qmp_qemu_end = -EBADF;
        int pair[2], qmp_pair[2];

        q->log_dir = strdup(q->cfg.state_dir);
        if (q->log_dir == NULL)
                return rv_error_set(err, ENOMEM, "start vm");
        q->log_dirfd = open(q->cfg.state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (q->log_dirfd < 0)
                return rv_error_set(err, errno, "open `%s`", q->cfg.state_dir);
        if (q->cfg.virtiofsd_path && start_virtiofsd(q, &vfs_client, err) < 0)
                return -1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return rv_error_set(err, errno, "socketpair");
        q->agent_fd = qemu_fd_above_stdio(pair[0]);
        guest_end = qemu_fd_above_stdio(pair[1]);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp_pair) < 0)
                return rv_error_set(err, errno, "socketpair");
        q->qmp_fd = qemu_fd_above_stdio(qmp_pair[0]);
        qmp_init(&q->qmp, q->qmp_fd);
        qmp_qemu_end = qemu_fd_above_stdio(qmp_pair[1]);
        if (start_qemu(q, vfs_client, guest_end, qmp_qemu_end, err) < 0)
                return -1;
        /* QEMU has its copies of the devices' fds. */
        for (size_t i = 0; i < q->n_nics; i++) {
                if (q->nics[i].tap_fd >= 0)
                        close(q->nics[i].tap_fd);
                if (q->nics[i].vhost_fd >= 0)
                        close(q->nics[i].vhost_fd);
                q->nics[i].tap_fd = q->nics[i].vhost_fd = -1;
        }
        for (size_t i = 0; i < q->n_disks; i++) {
                if (q->disks[i].fd >= 0)
                        close(q->disks[i].fd);
                q->disks[i].fd = -1;
        }
        if (q->cfg.cpus) {
                /* vm_start's caller has a pid namespace of its own; /proc is the host's. */
                pid_t pid = rv_pidfd_proc_pid(q->qemu_pidfd);
                if (pid < 0)
                        return rv_error_set(err, -pid, "find qemu in /proc");
                if (vm_pin_vcpus(pid, q->cfg.cpus, q->cfg.vcpus, q->cfg.pin_timeout_ms, err) < 0)
                        return -1;
        }
        return 0;
}

static int qemu_start(struct vm *vm, struct rv_error **err)
{
        struct qemu_vm *q = qemu_vm(vm);

        if (start_all(q, err) == 0)
                return 0;
        /* Both killed before either is waited for: their exits (the
         * guest's memory unmapped in each) overlap instead of adding up. */
        if (q->qemu_pid > 0)
                kill(q->qemu_pid, SIGKILL);
        if (q->vfs.pid > 0)
                kill(q->vfs.pid, SIGKILL);
        rv_spawn_kill(q->qemu_pid, &q->qemu_pidfd);
        q->qemu_pid = 0;
        if (q->qemu_procfd >= 0)
                close(q->qemu_procfd);
        if (q->initrd_fd >= 0)
                close(q->initrd_fd);
        virtiofsd_clear(&q->vfs);
        return -1;
}

static int qemu_take_agent_fd(struct vm *vm)
{
        struct qemu_vm *q = qemu_vm(vm);
        return TAKE_FD(q->agent_fd);
}

static void add_proc(struct vm_proc *ret, size_t max, size_t *n, const char *name, int pidfd)
{
        if (*n >= max || pidfd < 0)
                return;
        struct vm_proc *p = &ret[(*n)++];
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->pidfd = pidfd;
        /* As the host numbers it: the caller's pid namespace is not. */
        p->pid = rv_pidfd_proc_pid(pidfd);
        if (p->pid <= 0 || rv_proc_start_time(p->pid, &p->start_time) < 0) {
                p->pid = 0;
                p->start_time = 0;
        }
}

static size_t qemu_procs(const struct vm *vm, struct vm_proc *ret, size_t max)
{
        const struct qemu_vm *q = qemu_vm_const(vm);
        size_t n = 0;

        add_proc(ret, max, &n, "virtiofsd", q->vfs.pidfd);
        add_proc(ret, max, &n, "qemu", q->qemu_pidfd);
        return n;
}

static int qemu_exit_fd(const struct vm *vm)
{
        return qemu_vm_const(vm)->qemu_pidfd;
}

static void qemu_destroy(struct vm *vm)
{
        struct qemu_vm *q = qemu_vm(vm);

        /* Both killed before either is waited for: their exits (the
         * guest's memory unmapped in each) overlap instead of adding up. */
        if (q->qemu_pid > 0)
                kill(q->qemu_pid, SIGKILL);
        if (q->vfs.pid > 0)
                kill(q->vfs.pid, SIGKILL);
        rv_spawn_kill(q->qemu_pid, &q->qemu_pidfd);
        q->qemu_pid = 0;
        if (q->qemu_procfd >= 0)
                close(q->qemu_procfd);
        if (q->initrd_fd >= 0)
                close(q->initrd_fd);
        virtiofsd_clear(&q->vfs);
        if (q->agent_fd >= 0)
                close(q->agent_fd);
        if (q->qmp_fd >= 0)
                close(q->qmp_fd);
        qmp_clear(&q->qmp);
        for (size_t i = 0; i < q->n_nics; i++) {
                if (q->nics[i].tap_fd >= 0)
                        close(q->nics[i].tap_fd);
                if (q->nics[i].vhost_fd >= 0)
                        close(q->nics[i].vhost_fd);
        }
        free(q->nics);
        for (size_t i = 0; i < q->n_disks; i++)
                if (q->disks[i].fd >= 0)
                        close(q->disks[i].fd);
        free(q->disks);
        /* The writers are gone: what they wrote last ends at EOF. */
        for (size_t i = 0; i < VM_N_LOGS; i++) {
                for (int turns = 0; q->logs[i].fd >= 0 && turns < 64; turns++)
                        vmlog_pump(&q->logs[i]);
                vmlog_close(&q->logs[i]);
        }
        if (q->log_dirfd >= 0)
                close(q->log_dirfd);
        free(q->log_dir);
        free(q);
}

static int qemu_free_moved_initrd(struct vm *vm, uint64_t addr, struct rv_error **err)
{
        return qemu_guest_ram_free_initrd(qemu_vm(vm), addr, err);
}

const struct vm_driver vm_driver_qemu = {
        .name = "qemu",
        .probe = qemu_probe,
        .create = qemu_create,
        .add_share = qemu_add_share,
        .remove_shares = qemu_remove_shares,
        .add_disk = qemu_add_disk,
        .remove_disk = qemu_remove_disk,
        .add_nic = qemu_add_nic,
        .start = qemu_start,
        .free_moved_initrd = qemu_free_moved_initrd,
        .take_agent_fd = qemu_take_agent_fd,
        .procs = qemu_procs,
        .exit_fd = qemu_exit_fd,
        .watch_fds = qemu_watch_fds,
        .check = qemu_check,
        .alive = qemu_alive,
        .pump_logs = qemu_pump_logs,
        .stuck_reason = qemu_stuck_reason,
        .save_failure_logs = qemu_save_failure_logs,
        .destroy = qemu_destroy,
};
