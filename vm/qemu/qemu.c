/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU microvm + virtiofsd: the VM a container runs in. */
#include "vm/qemu/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/spawn.h"
#include "vm/qemu/qmp.h"
#include "vm/qemu/virtiofsd-filter.h"

#define SHARED_DIR "shared"
#define MAX_ARGS (64 + 4 * VM_MAX_NICS)
/* MiB; docs/RESOURCES.md counts it in overhead_memory_mib. */
#define VM_TCG_TB_MIB "128"
#define MAX_PASS_FDS (6 + 2 * VM_MAX_NICS)

/* An fd that can never collide with stdio numbers in a child. */
static int fd_above_stdio(int fd)
{
        if (fd < 0 || fd > 2)
                return fd;
        int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return nfd;
}

int vm_kernel_cmdline(const struct vm_params *p, char **ret, struct rv_error **err)
{
        _cleanup_free_ char *tsc = NULL;
        char *line = NULL;

        /* Each trim is measured in shared/guest-kernel/README.md. Under TCG
         * microvm needs tsc_early_khz or its TSC calibration can hang. */
        if (!p->kvm && p->tsc_khz > 0 && asprintf(&tsc, " tsc_early_khz=%u", p->tsc_khz) < 0)
                return rv_error_set(err, ENOMEM, "kernel command line");
        if (asprintf(&line, "console=ttyS0 %s panic=-1 cryptomgr.notests no_timer_check pci=off "
                     "nokaslr lsm=capability,landlock secretmem.enable=1 8250.nr_uarts=1 random.trust_cpu=on%s%s%s%s",
                     p->debug ? "runvm.debug=1" : "quiet", tsc ? tsc : "",
                     p->extra_cmdline && *p->extra_cmdline ? " " : "",
                     p->extra_cmdline ? p->extra_cmdline : "", "") < 0)
                return rv_error_set(err, ENOMEM, "kernel command line");
        *ret = line;
        return 0;
}

struct virtiofsd_setup {
        const char *shared_dir;
        const struct vm_share *shares;
        size_t n_shares;
        int *trees;                     /* vm_share_clone() of each share */
};

static int make_target(const char *path, bool is_dir)
{
        if (is_dir)
                return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
        /* Read-only: the file may be in a parent share already read-only. */
        int fd = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        close(fd);
        return 0;
}

/* A detached copy of the share's tree, taken from its fd (never its
 * path) while still in the monitor's mount namespace, with the
 * share's attributes: read-only recursively (submounts included) when
 * asked, never a device node the host would honour. */
int vm_share_clone(const struct vm_share *sh)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID };

        if (sh->fd < 0) {
                errno = EBADF;
                return -1;
        }
        if (sh->recursive)
                flags |= AT_RECURSIVE;
        int tree = open_tree(sh->fd, "", flags);
        if (tree < 0)
                return -1;
        if (sh->readonly)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
                int saved = errno;
                close(tree);
                errno = saved;
                return -1;
        }
        return tree;
}

/* Runs in virtiofsd's child before exec: the shared dir is a tmpfs in a
 * private mount namespace holding one mount per share, so exactly the
 * shares are visible to the guest and every mount vanishes with the
 * process: nothing can leak on the host. */
static int virtiofsd_setup(void *data, char *msg, size_t size)
{
        const struct virtiofsd_setup *s = data;
        char path[4096];
        int *trees = s->trees;

        if (unshare(CLONE_NEWNS) < 0) {
                snprintf(msg, size, "unshare mount namespace");
                return -1;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                snprintf(msg, size, "make mounts private");
                return -1;
        }
        if (mount("runvm-shared", s->shared_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                snprintf(msg, size, "mount tmpfs on `%s`", s->shared_dir);
                return -1;
        }
        for (size_t i = 0; i < s->n_shares; i++) {
                const struct vm_share *sh = &s->shares[i];
                /* A name is the source's path in its filesystem
                 * ("tmp/data", see translate.c): make its parents. Shares
                 * come parents first; a parent share holds the path. */
                for (const char *slash = strchr(sh->name, '/'); slash; slash = strchr(slash + 1, '/')) {
                        snprintf(path, sizeof(path), "%s/%.*s", s->shared_dir,
                                 (int) (slash - sh->name), sh->name);
                        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                                snprintf(msg, size, "mkdir `%s`", path);
                                return -1;
                        }
                }
                snprintf(path, sizeof(path), "%s/%s", s->shared_dir, sh->name);
                if (make_target(path, sh->is_dir) < 0) {
                        snprintf(msg, size, "create `%s`", path);
                        return -1;
                }
                if (move_mount(trees[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        snprintf(msg, size, "mount `%s`", sh->source);
                        return -1;
                }
                close(trees[i]);
                trees[i] = -1;
        }
        /* Last: from here to virtiofsd's end, no file it makes is setuid. */
        if (virtiofsd_filter_install() < 0) {
                snprintf(msg, size, "install the virtiofsd filter");
                return -1;
        }
        return 0;
}

/* A listening socket with a kernel-chosen abstract name and a client
 * already connected to it: virtiofsd accepts on the one, QEMU gets the
 * other, and no socket path exists anywhere. */
static int vhost_user_socket_pair(int *ret_listen, int *ret_client, struct rv_error **err)
{
        _cleanup_close_ int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_close_ int cfd = -EBADF;
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        socklen_t len = sizeof(addr);

        if (lfd < 0)
                return rv_error_set(err, errno, "socket");
        if (bind(lfd, (struct sockaddr *) &addr, sizeof(sa_family_t)) < 0 || listen(lfd, 1) < 0 ||
            getsockname(lfd, (struct sockaddr *) &addr, &len) < 0)
                return rv_error_set(err, errno, "listen for virtiofsd");
        cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cfd < 0 || connect(cfd, (struct sockaddr *) &addr, len) < 0)
                return rv_error_set(err, errno, "connect to virtiofsd socket");
        *ret_listen = fd_above_stdio(TAKE_FD(lfd));
        *ret_client = fd_above_stdio(TAKE_FD(cfd));
        return 0;
}

/* A pipe for a helper's stdout and stderr: the helper gets the write end,
 * the VM's bounded log the non-blocking read end. A file the helper wrote
 * itself would grow without bound with whatever a guest makes it log. */
static int log_pipe(struct vm *vm, int which, const char *name, int *ret_write, struct rv_error **err)
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
        *ret_write = fd_above_stdio(fds[1]);
        return vmlog_open(&vm->logs[which], vm->log_dirfd, name, VMLOG_HELPER_MAX,
                          fd_above_stdio(fds[0]), err);
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
                return fd_above_stdio(TAKE_FD(fd));
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
        return fd_above_stdio(TAKE_FD(mfd));
}

static int start_virtiofsd(const struct vm_params *p, const char *shared_dir, int listen_fd,
                           struct vm *vm, struct rv_error **err)
{
        _cleanup_close_ int logfd = -EBADF;
        _cleanup_free_ char *fdopt = NULL, *src = NULL;
        struct virtiofsd_setup setup = { shared_dir, p->shares, p->n_shares, p->share_trees };

        if (log_pipe(vm, VM_LOG_VIRTIOFSD, "virtiofsd.log", &logfd, err) < 0)
                return -1;
        if (asprintf(&fdopt, "--fd=%d", listen_fd) < 0 ||
            asprintf(&src, "source=%s", shared_dir) < 0)
                return rv_error_set(err, ENOMEM, "virtiofsd arguments");
        /* Its namespace sandbox (pivot_root into the shared dir, its own
         * seccomp filter); no CAP_MKNOD (a guest cannot make host device
         * nodes) nor CAP_SETFCAP; every guest xattr lives under
         * user.virtiofs. on the host, so the guest can neither set nor see
         * the host's security.*, trusted.* or system.* attributes.
         * No announce_submounts: the guest would then show a share as a
         * mount of its own with root "/" (and only once it happened to be
         * looked up twice), where runc's mountinfo shows the source's path
         * in its filesystem, which the share layout gives (translate.c). */
        char *argv[] = {
                (char *) p->virtiofsd_path, fdopt, "-o", src, "-o", "cache=auto",
                "-o", "sandbox=namespace", "-o", "modcaps=-mknod:-setfcap",
                "-o", "xattrmap=:prefix:all::user.virtiofs.::bad:all:::", "-o",
                p->debug ? "log_level=debug" : "log_level=warn", NULL,
        };
        struct rv_spawn s = {
                .argv = argv, .stdin_fd = -1, .stdout_fd = logfd, .stderr_fd = logfd,
                .pass_fds = &listen_fd, .n_pass_fds = 1, .pdeathsig = true,
                .setup = virtiofsd_setup, .setup_data = &setup,
        };
        if (rv_spawn_start(&s, &vm->virtiofsd_pid, &vm->virtiofsd_pidfd, err) < 0)
                return rv_error_wrap(err, "start virtiofsd");
        return 0;
}

/* The option strings of the NICs, freed together. */
struct nic_strs {
        char *s[2 * VM_MAX_NICS];
};

static void nic_strs_free(struct nic_strs *ns)
{
        for (size_t i = 0; i < ARRAY_SIZE(ns->s); i++)
                free(ns->s[i]);
}

/* -netdev tap,fd=N + -device virtio-net-device per NIC; the fds QEMU needs
 * are appended to fds. */
static int nic_args(const struct vm_params *p, const char **argv, size_t *n, int *fds, size_t *n_fds,
                    struct nic_strs *ns, struct rv_error **err)
{
        size_t k = 0;

        if (p->n_nics > VM_MAX_NICS)
                return rv_error_setx(err, E2BIG, "more than %d NICs", VM_MAX_NICS);
        for (size_t i = 0; i < p->n_nics; i++) {
                const struct vm_nic *nic = &p->nics[i];
                char vhost[64] = "vhost=off";
                if (nic->vhost_fd >= 0) {
                        snprintf(vhost, sizeof(vhost), "vhost=on,vhostfd=%d", nic->vhost_fd);
                        fds[(*n_fds)++] = nic->vhost_fd;
                }
                fds[(*n_fds)++] = nic->tap_fd;
                if (asprintf(&ns->s[k++], "tap,id=net%zu,fd=%d,%s", i, nic->tap_fd, vhost) < 0 ||
                    asprintf(&ns->s[k++], "virtio-net-device,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x,"
                             "host_mtu=%u", i, nic->mac[0], nic->mac[1], nic->mac[2], nic->mac[3],
                             nic->mac[4], nic->mac[5], nic->mtu) < 0)
                        return rv_error_set(err, ENOMEM, "qemu arguments");
                argv[(*n)++] = "-netdev";
                argv[(*n)++] = ns->s[k - 2];
                argv[(*n)++] = "-device";
                argv[(*n)++] = ns->s[k - 1];
        }
        return 0;
}

static int start_qemu(const struct vm_params *p, int vfs_fd, int agent_fd, int qmp_fd,
                      struct vm *vm, struct rv_error **err)
{
        _cleanup_(nic_strs_free) struct nic_strs nic_strs = { { NULL } };
        _cleanup_close_ int logfd = -EBADF, console = -EBADF, kernel_fd = -EBADF, initrd_fd = -EBADF;
        _cleanup_free_ char *cmdline = NULL, *mem = NULL, *memobj = NULL, *smp = NULL,
                            *kernel = NULL, *initrd = NULL, *console_chr = NULL,
                            *agent_chr = NULL, *vfs_chr = NULL, *qmp_chr = NULL;
        const char *argv[MAX_ARGS];
        size_t n = 0;
        int con_pair[2];

        /* The caller's host pid is unique while it runs: so is this id. */
        pid_t self = rv_proc_self_pid();
        uid_t uid = p->qemu_uid ? p->qemu_uid : VM_QEMU_ID_BASE + (uid_t) (self > 0 ? self : getpid());
        gid_t gid = p->qemu_gid ? p->qemu_gid : (gid_t) uid;
        if (vm_kernel_cmdline(p, &cmdline, err) < 0)
                return -1;
        if ((kernel_fd = open_boot_file(p->kernel, err)) < 0 ||
            (initrd_fd = open_boot_file(p->initrd, err)) < 0)
                return rv_error_wrap(err, "start qemu");
        if (log_pipe(vm, VM_LOG_QEMU, "qemu.log", &logfd, err) < 0)
                return -1;
        /* The console reaches the caller, who bounds what is kept. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con_pair) < 0)
                return rv_error_set(err, errno, "console socketpair");
        int con = fd_above_stdio(con_pair[0]);
        console = fd_above_stdio(con_pair[1]);
        if (con < 0 || console < 0 || fcntl(con, F_SETFL, O_NONBLOCK) < 0) {
                if (con >= 0)
                        close(con);
                return rv_error_set(err, errno, "console socketpair");
        }
        if (vmlog_open(&vm->logs[VM_LOG_CONSOLE], vm->log_dirfd, "console.log", VMLOG_CONSOLE_MAX,
                       con, err) < 0)
                return -1;
        if (asprintf(&kernel, "/proc/self/fd/%d", kernel_fd) < 0 ||
            asprintf(&initrd, "/proc/self/fd/%d", initrd_fd) < 0 ||
            asprintf(&mem, "%uM", p->memory_mib) < 0 ||
            asprintf(&memobj, "memory-backend-memfd,id=mem,size=%uM,share=on", p->memory_mib) < 0 ||
            asprintf(&smp, "%u", p->vcpus) < 0 ||
            asprintf(&console_chr, "socket,id=console,fd=%d", console) < 0 ||
            asprintf(&agent_chr, "socket,id=agent,fd=%d", agent_fd) < 0 ||
            asprintf(&vfs_chr, "socket,id=vfs,fd=%d", vfs_fd) < 0 ||
            asprintf(&qmp_chr, "socket,id=qmp,fd=%d", qmp_fd) < 0)
                return rv_error_set(err, ENOMEM, "qemu arguments");

#define ARG(x) argv[n++] = (x)
        ARG(p->qemu_path);
        ARG("-M"); ARG("microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem");
        /* TCG's translation cache is anonymous memory the host cgroup
         * counts (1 GiB by default): bounded, as the VM's overhead is. */
        ARG("-accel"); ARG(p->kvm ? "kvm" : "tcg,tb-size=" VM_TCG_TB_MIB);
        ARG("-cpu"); ARG(p->kvm ? "host" : "max");
        ARG("-smp"); ARG(smp);
        /* vCPU threads named "CPU N/..." (affinity.c pins them). */
        ARG("-name"); ARG("runvm,debug-threads=on");
        ARG("-m"); ARG(mem);
        ARG("-object"); ARG(memobj);
        ARG("-nodefaults"); ARG("-no-user-config"); ARG("-nographic"); ARG("-no-reboot");
        /* virtiofsd refuses legacy virtio devices. */
        ARG("-global"); ARG("virtio-mmio.force-legacy=false");
        ARG("-kernel"); ARG(kernel);
        ARG("-initrd"); ARG(initrd);
        ARG("-append"); ARG(cmdline);
        ARG("-chardev"); ARG(console_chr);
        ARG("-serial"); ARG("chardev:console");
        ARG("-device"); ARG("virtio-serial-device,max_ports=2");
        ARG("-chardev"); ARG(agent_chr);
        ARG("-device"); ARG("virtserialport,chardev=agent,name=runvm.agent");
        if (vfs_fd >= 0) {
                ARG("-chardev"); ARG(vfs_chr);
                ARG("-device"); ARG("vhost-user-fs-device,chardev=vfs,queue-size=1024,tag=runvm");
        }
        ARG("-device"); ARG("virtio-rng-device");
        /* Pages the guest frees go back to the host (free page reporting;
         * the memfd's holes are punched): a VM sized for a big default
         * costs what it uses. deflate-on-oom: a guest under OOM gets back
         * what an inflated balloon holds before it kills. */
        ARG("-device"); ARG("virtio-balloon-device,free-page-reporting=on,deflate-on-oom=on");
        ARG("-chardev"); ARG(qmp_chr);
        ARG("-mon"); ARG("chardev=qmp,mode=control");
        /* Everything QEMU needs is open by now: what an escape from device
         * emulation could still do is what this filter and an unprivileged
         * uid without capabilities allow. */
        ARG("-sandbox"); ARG("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        int fds[MAX_PASS_FDS] = { agent_fd, qmp_fd, console, kernel_fd, initrd_fd };
        size_t n_fds = 5;
        /* No virtiofsd (vfs_fd -1) for a probe boot. */
        if (vfs_fd >= 0)
                fds[n_fds++] = vfs_fd;
        if (nic_args(p, argv, &n, fds, &n_fds, &nic_strs, err) < 0)
                return -1;
        ARG(NULL);
#undef ARG

        if (rv_log_debug_enabled()) {
                _cleanup_free_ char *line = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&line, &len);
                if (f) {
                        for (size_t i = 0; argv[i]; i++)
                                fprintf(f, "%s'%s'", i ? " " : "", argv[i]);
                        fclose(f);
                        rv_debug("qemu: %s", line);
                }
        }
        /* /dev/kvm is the one file QEMU opens itself: through its group. */
        gid_t groups[1];
        size_t n_groups = 0;
        struct stat kvm;
        if (p->kvm && stat("/dev/kvm", &kvm) == 0 && kvm.st_gid != 0)
                groups[n_groups++] = kvm.st_gid;
        struct rv_spawn s = {
                .argv = (char *const *) argv, .stdin_fd = -1, .stdout_fd = logfd,
                .stderr_fd = logfd, .pass_fds = fds, .n_pass_fds = n_fds,
                .pdeathsig = true, .uid = uid, .gid = gid,
                .groups = groups, .n_groups = n_groups,
        };
        if (rv_spawn_start(&s, &vm->qemu_pid, &vm->qemu_pidfd, err) < 0)
                return rv_error_wrap(err, "start qemu");
        return 0;
}

int vm_start(const struct vm_params *p, struct vm *ret, struct rv_error **err)
{
        _cleanup_close_ int vfs_listen = -EBADF, vfs_client = -EBADF;
        _cleanup_free_ char *shared_dir = NULL;
        struct vm vm = VM_INIT;
        int pair[2], qmp_pair[2];

        vm.log_dir = strdup(p->state_dir);
        if (vm.log_dir == NULL)
                return rv_error_set(err, ENOMEM, "start vm");
        vm.log_dirfd = open(p->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (vm.log_dirfd < 0) {
                int saved = errno;
                vm_destroy(&vm);
                return rv_error_set(err, saved, "open `%s`", p->state_dir);
        }
        if (p->virtiofsd_path) {
                int r = 0;
                for (size_t i = 0; r == 0 && i < p->n_shares; i++)
                        if (p->share_trees == NULL || p->share_trees[i] < 0)
                                r = rv_error_setx(err, EINVAL, "start vm: share `%s` has no mount to export",
                                                  p->shares[i].source);
                if (r == 0 && asprintf(&shared_dir, "%s/" SHARED_DIR, p->state_dir) < 0)
                        r = rv_error_set(err, ENOMEM, "start vm");
                if (r == 0 && mkdir(shared_dir, 0700) < 0 && errno != EEXIST)
                        r = rv_error_set(err, errno, "mkdir `%s`", shared_dir);
                if (r == 0)
                        r = vhost_user_socket_pair(&vfs_listen, &vfs_client, err);
                if (r == 0)
                        r = start_virtiofsd(p, shared_dir, vfs_listen, &vm, err);
                /* virtiofsd has them (or failed): the caller's copies go. */
                for (size_t i = 0; p->share_trees && i < p->n_shares; i++) {
                        if (p->share_trees[i] >= 0)
                                close(p->share_trees[i]);
                        p->share_trees[i] = -1;
                }
                if (r < 0) {
                        vm_destroy(&vm);
                        return -1;
                }
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                int saved = errno;
                vm_destroy(&vm);
                return rv_error_set(err, saved, "socketpair");
        }
        vm.agent_fd = fd_above_stdio(pair[0]);
        _cleanup_close_ int guest_end = fd_above_stdio(pair[1]);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp_pair) < 0) {
                int saved = errno;
                vm_destroy(&vm);
                return rv_error_set(err, saved, "socketpair");
        }
        vm.qmp_fd = fd_above_stdio(qmp_pair[0]);
        qmp_init(&vm.qmp, vm.qmp_fd);
        _cleanup_close_ int qmp_qemu_end = fd_above_stdio(qmp_pair[1]);
        if (start_qemu(p, vfs_client, guest_end, qmp_qemu_end, &vm, err) < 0) {
                vm_destroy(&vm);
                return -1;
        }
        *ret = vm;
        return 0;
}

void vm_destroy(struct vm *vm)
{
        rv_spawn_kill(vm->qemu_pid, &vm->qemu_pidfd);
        vm->qemu_pid = 0;
        rv_spawn_kill(vm->virtiofsd_pid, &vm->virtiofsd_pidfd);
        vm->virtiofsd_pid = 0;
        if (vm->agent_fd >= 0)
                close(vm->agent_fd);
        vm->agent_fd = -1;
        if (vm->qmp_fd >= 0)
                close(vm->qmp_fd);
        vm->qmp_fd = -1;
        qmp_clear(&vm->qmp);
        vm->qmp.fd = -1;
        /* The writers are gone: what they wrote last ends at EOF. */
        for (size_t i = 0; i < VM_N_LOGS; i++) {
                for (int turns = 0; vm->logs[i].fd >= 0 && turns < 64; turns++)
                        vmlog_pump(&vm->logs[i]);
                vmlog_close(&vm->logs[i]);
        }
        if (vm->log_dirfd >= 0)
                close(vm->log_dirfd);
        vm->log_dirfd = -1;
        free(vm->log_dir);
        vm->log_dir = NULL;
}

static bool reaped(struct vm *vm, int timeout_ms)
{
        if (vm->qemu_pid <= 0 || rv_spawn_wait(vm->qemu_pid, vm->qemu_pidfd, timeout_ms) < 0)
                return vm->qemu_pid <= 0;
        close(vm->qemu_pidfd);
        vm->qemu_pidfd = -1;
        vm->qemu_pid = 0;
        return true;
}

void vm_stop(struct vm *vm, int timeout_ms)
{
        if (!reaped(vm, timeout_ms) && vm->qmp.fd >= 0) {
                struct rv_error *tmp_err = NULL;

                /* The guest did not power off: ask QEMU itself, then force. */
                if (qmp_execute(&vm->qmp, "quit", 1000, &tmp_err) < 0)
                        rv_debug("qemu quit: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
                reaped(vm, 1000);
        }
        vm_destroy(vm);
}
