/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/accel.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/json.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/channel/protocol.h"
#include "vm/qemu/qemu-vm.h"

#define KVM_GET_API_VERSION 0xAE00
#define KVM_CREATE_VM 0xAE01
#define KVM_API_VERSION 12
#define PROBE_MEMORY_MIB 128
#define LOCK_FILE "kvm-verdict.lock"
#define PROBE_DIR_PREFIX "kvm-probe."

/* Sets the verdict; returns 0 so a probe step can end with it. */
static int verdict(struct vm_probe_verdict *v, bool usable, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int verdict(struct vm_probe_verdict *v, bool usable, const char *fmt, ...)
{
        va_list ap;
        v->usable = usable;
        va_start(ap, fmt);
        vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
        va_end(ap);
        return 0;
}

/* What can be told without booting anything; false with the verdict set. */
static bool device_ok(struct vm_probe_verdict *v)
{
        _cleanup_close_ int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int vmfd = -EBADF;
        int version;

        if (fd < 0) {
                if (errno == ENOENT)
                        verdict(v, false, "no /dev/kvm");
                else
                        verdict(v, false, "/dev/kvm cannot be opened: %s", strerror(errno));
                return false;
        }
        version = ioctl(fd, KVM_GET_API_VERSION, 0);
        if (version != KVM_API_VERSION) {
                verdict(v, false, "/dev/kvm speaks KVM API %d, not %d", version, KVM_API_VERSION);
                return false;
        }
        vmfd = ioctl(fd, KVM_CREATE_VM, 0);
        if (vmfd < 0) {
                verdict(v, false, "/dev/kvm cannot create a VM: %s", strerror(errno));
                return false;
        }
        return true;
}

static int file_key(FILE *out, const char *what, const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        fprintf(out, " %s=%s:%llu:%llu:%lld:%lld.%09ld", what, path, (unsigned long long) st.st_dev,
                (unsigned long long) st.st_ino, (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                st.st_mtim.tv_nsec);
        return 0;
}

/* Everything that could change the verdict, as one line. */
static int cache_key(const struct vm_probe *p, const struct stat *kvm, char **ret,
                     struct vm_probe_verdict *v)
{
        _cleanup_free_ char *boot_id = NULL;
        char *text = NULL;
        size_t len = 0;
        struct rv_error *tmp_err = NULL;
        FILE *out;

        if (rv_read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 128, &boot_id, NULL, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                boot_id = strdup("unknown");
        }
        if (boot_id)
                boot_id[strcspn(boot_id, "\n")] = '\0';
        out = open_memstream(&text, &len);
        if (out == NULL)
                return -ENOMEM;
        fprintf(out, "v1 runvm=%s boot=%s kvm=%u:%u:%o:%u:%u acpi=%s", RUNVM_VERSION,
                boot_id ? boot_id : "unknown", major(kvm->st_rdev), minor(kvm->st_rdev), (unsigned) kvm->st_mode,
                (unsigned) kvm->st_uid, (unsigned) kvm->st_gid, p->mmio_cmdline ? "optional" : "on");
        const char *paths[][2] = { { "qemu", p->vmm_path }, { "kernel", p->kernel }, { "initrd", p->initrd } };
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                int r = file_key(out, paths[i][0], paths[i][1]);
                if (r < 0) {
                        fclose(out);
                        free(text);
                        verdict(v, false, "cannot probe KVM: %s `%s`: %s", paths[i][0], paths[i][1], strerror(-r));
                        return r;
                }
        }
        fclose(out);
        *ret = text;
        return 0;
}

/* The cache: the key line, then "1" or "0", then the reason. */
static bool cache_read(int dirfd, const char *key, struct vm_probe_verdict *v)
{
        _cleanup_free_ char *text = NULL;
        struct rv_error *tmp_err = NULL;

        if (rv_read_file_at(dirfd, VM_KVM_VERDICT_FILE, 4096, &text, NULL, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                return false;
        }
        char *nl1 = strchr(text, '\n');
        if (nl1 == NULL)
                return false;
        *nl1 = '\0';
        if (strcmp(text, key) != 0)
                return false;
        char *usable = nl1 + 1, *nl2 = strchr(usable, '\n');
        if (nl2 == NULL || (strncmp(usable, "1\n", 2) != 0 && strncmp(usable, "0\n", 2) != 0))
                return false;
        char *reason = nl2 + 1;
        reason[strcspn(reason, "\n")] = '\0';
        verdict(v, usable[0] == '1', "%s", reason);
        v->cached = true;
        v->booted = true;
        return true;
}

static void cache_write(int dirfd, const char *key, const struct vm_probe_verdict *v)
{
        _cleanup_free_ char *text = NULL;
        struct rv_error *tmp_err = NULL;
        int n = asprintf(&text, "%s\n%d\n%s\n", key, v->usable ? 1 : 0, v->reason);

        /* A cache that cannot be written costs a probe next time, nothing else. */
        if (n < 0 || rv_write_file_atomic(dirfd, VM_KVM_VERDICT_FILE, text, (size_t) n, 0644, &tmp_err) < 0)
                rv_debug("kvm probe: cache not written: %s", tmp_err ? tmp_err->msg : "out of memory");
        rv_error_release(&tmp_err);
}

static int send_hello(struct channel *ch, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "hello");
        channel_message_begin_request(w, 1, proto_method_name(PROTO_HELLO));
        json_write_object_begin(w);
        json_write_key(w, "version");
        json_write_int64(w, CHANNEL_PROTOCOL_VERSION);
        json_write_object_end(w);
        channel_message_end(w);
        return channel_send_message(ch, CHANNEL_REQUEST, w, err);
}

/* 1: the agent answered; 0: not yet; -1: the channel failed. */
static int hello_answered(struct channel *ch, struct rv_error **err)
{
        struct channel_frame f;
        int r;

        while ((r = channel_next(ch, &f, err)) > 0) {
                struct channel_message msg;
                if (f.stream != CHANNEL_STREAM_CONTROL)
                        continue;
                if (channel_message_parse(&f, &msg, err) < 0)
                        return -1;
                bool answer = msg.type == CHANNEL_RESPONSE && msg.id == 1;
                channel_message_clear(&msg);
                if (answer)
                        return 1;
        }
        return r < 0 ? -1 : 0;
}

/* The channel failed or closed: QEMU is most likely on its way out, and
 * its exit (or run state) says why better than the socket does. */
static int channel_lost(struct vm *vm, struct vm_probe_verdict *v, const char *what)
{
        _cleanup_error_ struct rv_error *e = NULL;

        if (vm_exit_fd(vm) >= 0)
                rv_pidfd_wait(vm_exit_fd(vm), 1000);
        if (vm_check(vm, &e) < 0)
                return verdict(v, false, "%s", e->msg);
        return verdict(v, false, "the guest's channel failed under KVM: %s", what);
}

/* Waits for the agent's answer to hello while watching QEMU: the verdict
 * is whether it came before the deadline. */
static int await_hello(struct vm *vm, struct channel *ch, int timeout_ms, struct vm_probe_verdict *v)
{
        _cleanup_error_ struct rv_error *e = NULL;
        int64_t start = rv_now_ms(), deadline = start + timeout_ms;

        for (;;) {
                struct pollfd pfd[1 + VM_WATCH_MAX] = { { channel_fd(ch), POLLIN, 0 } };
                int vmfds[VM_WATCH_MAX];
                size_t n = vm_watch_fds(vm, vmfds);

                if (channel_flush(ch, &e) < 0)
                        return channel_lost(vm, v, e->msg);
                pfd[0].events |= channel_want_write(ch) ? POLLOUT : 0;
                for (size_t i = 0; i < n; i++)
                        pfd[1 + i] = (struct pollfd) { vmfds[i], POLLIN, 0 };
                int64_t left = deadline - rv_now_ms();
                if (left <= 0) {
                        _cleanup_free_ char *why = vm_stuck_reason(vm);
                        return verdict(v, false, "the guest did not answer within %d ms under KVM%s%s",
                                       timeout_ms, why ? ": " : "", why ? why : "");
                }
                if (poll(pfd, 1 + n, (int) left) < 0 && errno != EINTR)
                        return verdict(v, false, "cannot probe KVM: poll: %s", strerror(errno));
                if (pfd[0].revents) {
                        int r = channel_receive(ch, &e);
                        if (r >= 0 && hello_answered(ch, &e) == 1)
                                return verdict(v, true, "the guest booted under KVM and answered in %lld ms",
                                               (long long) (rv_now_ms() - start));
                        if (r != 0)
                                return channel_lost(vm, v, e ? e->msg : "closed");
                }
                for (size_t i = 0; i < n; i++)
                        if (pfd[1 + i].revents && vm_check(vm, &e) < 0)
                                return verdict(v, false, "%s", e->msg);
        }
}

/* Boots the guest under KVM in dir, with the agent in probe mode. */
static int probe_boot(const struct vm_probe *p, const char *dir, struct vm_probe_verdict *v)
{
        struct vm_config c = {
                .vmm_path = p->vmm_path, .kernel = p->kernel, .initrd = p->initrd,
                .memory_mib = PROBE_MEMORY_MIB, .vcpus = 1, .kvm = true, .state_dir = dir,
                .extra_cmdline = "runvm.probe=1", .mmio_cmdline = p->mmio_cmdline,
        };
        _cleanup_(vm_destroy) struct vm *vm = NULL;
        _cleanup_(channel_freep) struct channel *ch = NULL;
        _cleanup_error_ struct rv_error *e = NULL;

        /* The same path as a container's boot, but no virtio-fs. */
        if (vm_new(&vm_driver_qemu, &c, &vm, &e) < 0 || vm_start(vm, &e) < 0)
                return verdict(v, false, "QEMU did not start under KVM: %s", e->msg);
        _cleanup_close_ int agent_fd = vm_take_agent_fd(vm);
        ch = channel_new(agent_fd);
        if (ch == NULL)
                return verdict(v, false, "cannot probe KVM: out of memory");
        agent_fd = -EBADF;              /* the channel owns it */
        if (send_hello(ch, &e) < 0)
                return channel_lost(vm, v, e->msg);
        return await_hello(vm, ch, p->timeout_ms, v);
}

static void remove_stale_probes(int dirfd)
{
        _cleanup_close_ int fd = dup(dirfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *e;

        if (d == NULL)
                return;
        fd = -EBADF;            /* the DIR owns it */
        while ((e = readdir(d)) != NULL) {
                if (strncmp(e->d_name, PROBE_DIR_PREFIX, strlen(PROBE_DIR_PREFIX)) != 0)
                        continue;
                struct rv_error *tmp_err = NULL;
                if (rv_rm_rf_at(dirfd, e->d_name, &tmp_err) < 0)
                        rv_debug("kvm probe: remove `%s`: %s", e->d_name, tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        closedir(d);
}

int qemu_probe(const struct vm_probe *p, struct vm_probe_verdict *ret, struct rv_error **err)
{
        _cleanup_free_ char *key = NULL, *dir = NULL;
        _cleanup_close_ int dirfd = -EBADF, lockfd = -EBADF;
        struct vm_probe_verdict v = { 0 };
        struct stat kvm;

        /* The device's identity is part of the key, so a cached verdict
         * needs no open and no KVM_CREATE_VM on the create path. */
        if (stat("/dev/kvm", &kvm) < 0) {
                verdict(&v, false, errno == ENOENT ? "no /dev/kvm" : "/dev/kvm: %s", strerror(errno));
                *ret = v;
                return 0;
        }
        int r = cache_key(p, &kvm, &key, &v);
        if (r == -ENOMEM)
                return rv_error_set(err, ENOMEM, "probe KVM");
        if (r < 0) {
                *ret = v;
                return 0;
        }
        if (p->cache_dir) {
                dirfd = open(p->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return rv_error_set(err, errno, "open `%s`", p->cache_dir);
                if (!p->reprobe && cache_read(dirfd, key, &v)) {
                        *ret = v;
                        return 0;
                }
                /* One probe at a time: the others wait for its verdict. */
                lockfd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                int64_t lock_deadline = rv_now_ms() + p->timeout_ms + 10000;
                while (lockfd >= 0 && flock(lockfd, LOCK_EX | LOCK_NB) < 0 && rv_now_ms() < lock_deadline)
                        usleep(20 * 1000);
                if (!p->reprobe && cache_read(dirfd, key, &v)) {
                        *ret = v;
                        return 0;
                }
        }
        /* Device failures are cheap to find again: never cached. */
        if (!device_ok(&v)) {
                *ret = v;
                return 0;
        }
        /* Under the lock, a probe dir is a killed probe's: its QEMU died
         * with it (PR_SET_PDEATHSIG); the dir is all that is left. */
        if (dirfd >= 0)
                remove_stale_probes(dirfd);
        if (asprintf(&dir, "%s/" PROBE_DIR_PREFIX "XXXXXX", p->cache_dir ? p->cache_dir : "/tmp") < 0)
                return rv_error_set(err, ENOMEM, "probe KVM");
        if (mkdtemp(dir) == NULL)
                return rv_error_set(err, errno, "probe KVM: mkdtemp `%s`", dir);
        /* QEMU may be gone before hello is written: EPIPE, not death. */
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        sigaction(SIGPIPE, &ign, &old);
        probe_boot(p, dir, &v);
        sigaction(SIGPIPE, &old, NULL);
        v.booted = true;
        struct rv_error *tmp_err = NULL;
        if (rv_rm_rf_at(AT_FDCWD, dir, &tmp_err) < 0) {
                rv_warn("kvm probe: remove `%s`: %s", dir, tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        rv_debug("kvm probe: %s: %s", v.usable ? "usable" : "unusable", v.reason);
        if (dirfd >= 0)
                cache_write(dirfd, key, &v);
        *ret = v;
        return 0;
}
