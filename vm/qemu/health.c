/* SPDX-License-Identifier: Apache-2.0 */
/* Is the VM still alive while it boots, and if not, why: QEMU's exit, its
 * run state over QMP, and what QEMU and the guest's console wrote. */
#include "vm/qemu/qemu-vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/spawn.h"
#include "vm/qemu/diagnose.h"

#define LOG_HEAD_MAX (64u << 10)        /* QEMU's own errors come first */
#define CONSOLE_TAIL_MAX (64u << 10)    /* a panic is at the end */
#define STATUS_TIMEOUT_MS 1000

/* At most max bytes of dir/name: its head, or its tail. NULL when absent. */
static char *read_part(const char *dir, const char *name, size_t max, bool tail)
{
        char path[4096];
        struct stat st;

        if (dir == NULL || snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int) sizeof(path))
                return NULL;
        /* Logs the guest can write into: never block, never follow a link. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return NULL;
        off_t start = tail && st.st_size > (off_t) max ? st.st_size - (off_t) max : 0;
        char *buf = malloc(max + 1);
        if (buf == NULL)
                return NULL;
        ssize_t n = pread(fd, buf, max, start);
        if (n < 0)
                n = 0;
        buf[n] = '\0';
        /* A NUL inside would hide the rest from the string functions. */
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        return buf;
}

size_t qemu_watch_fds(const struct vm *v, int fds[VM_WATCH_MAX])
{
        const struct qemu_vm *vm = qemu_vm_const(v);
        size_t n = 0;
        if (vm->qemu_pidfd >= 0)
                fds[n++] = vm->qemu_pidfd;
        if (vm->qmp.fd >= 0)
                fds[n++] = vm->qmp.fd;
        for (size_t i = 0; i < VM_N_LOGS; i++)
                if (vm->logs[i].fd >= 0)
                        fds[n++] = vm->logs[i].fd;
        /* The VM cannot work without its files: virtiofsd's exit is its death. */
        if (vm->vfs.pidfd >= 0)
                fds[n++] = vm->vfs.pidfd;
        return n;
}

static void pump_logs(struct qemu_vm *vm)
{
        for (size_t i = 0; i < VM_N_LOGS; i++)
                vmlog_pump(&vm->logs[i]);
}

void qemu_pump_logs(struct vm *vm)
{
        pump_logs(qemu_vm(vm));
}

static int failed(struct qemu_vm *vm, const char *run_state, struct rv_error **err)
{
        _cleanup_free_ char *qlog = read_part(vm->log_dir, "qemu.log", LOG_HEAD_MAX, false);
        _cleanup_free_ char *console = read_part(vm->log_dir, "console.log", CONSOLE_TAIL_MAX, true);
        struct vm_failure f = {
                .qemu_log = qlog, .console_log = console, .run_state = run_state,
                .exited = vm->qemu_pid == 0, .wait_status = vm->qemu_status,
        };
        _cleanup_free_ char *reason = vm_failure_reason(&f);

        if (qlog && *qlog)
                rv_debug("qemu.log: %s", qlog);
        return rv_error_setx(err, EIO, "%s", reason ? reason : "the VM exited");
}

static bool reap_if_exited(struct qemu_vm *vm, int timeout_ms)
{
        if (vm->qemu_pid <= 0)
                return true;
        if (vm->qemu_pidfd < 0)
                return false;   /* not ours to wait on without blocking */
        int status = rv_spawn_wait(vm->qemu_pid, vm->qemu_pidfd, timeout_ms);
        if (status == -ETIMEDOUT)
                return false;
        vm->qemu_status = status < 0 ? 0 : status;
        if (vm->qemu_pidfd >= 0)
                close(vm->qemu_pidfd);
        vm->qemu_pidfd = -1;
        vm->qemu_pid = 0;
        return true;
}

int qemu_check(struct vm *v, struct rv_error **err)
{
        struct qemu_vm *vm = qemu_vm(v);
        _cleanup_free_ char *state = NULL;
        struct rv_error *tmp_err = NULL;

        pump_logs(vm);
        if (reap_if_exited(vm, 0))
                return failed(vm, NULL, err);
        if (virtiofsd_exited(&vm->vfs))
                return rv_error_setx(err, EIO, "virtiofsd exited");
        if (vm->qmp.fd < 0)
                return 0;
        if (qmp_pump(&vm->qmp, &tmp_err) < 0) {
                /* QEMU closed its monitor: it is on its way out. */
                rv_error_release(&tmp_err);
                reap_if_exited(vm, STATUS_TIMEOUT_MS);
                return failed(vm, NULL, err);
        }
        if (!(vm->qmp.events & (QMP_EVENT_STOP | QMP_EVENT_GUEST_PANICKED | QMP_EVENT_SHUTDOWN)))
                return 0;
        if (qmp_query_status(&vm->qmp, STATUS_TIMEOUT_MS, &state, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                reap_if_exited(vm, STATUS_TIMEOUT_MS);
                return failed(vm, NULL, err);
        }
        if (strcmp(state, "running") == 0) {
                vm->qmp.events = 0;
                return 0;
        }
        return failed(vm, state, err);
}

bool qemu_alive(const struct vm *v)
{
        const struct qemu_vm *vm = qemu_vm_const(v);
        return vm->qemu_pid > 0 && !virtiofsd_exited(&vm->vfs);
}

char *qemu_stuck_reason(struct vm *v)
{
        struct qemu_vm *vm = qemu_vm(v);
        _cleanup_free_ char *state = NULL, *qlog = NULL, *console = NULL;
        struct rv_error *tmp_err = NULL;

        pump_logs(vm);
        if (vm->qmp.fd >= 0 && vm->qemu_pid > 0 &&
            qmp_query_status(&vm->qmp, STATUS_TIMEOUT_MS, &state, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        qlog = read_part(vm->log_dir, "qemu.log", LOG_HEAD_MAX, false);
        console = read_part(vm->log_dir, "console.log", CONSOLE_TAIL_MAX, true);
        struct vm_failure f = {
                .qemu_log = qlog, .console_log = console,
                .run_state = state && strcmp(state, "running") != 0 ? state : NULL,
                .exited = vm->qemu_pid == 0, .wait_status = vm->qemu_status,
        };
        return vm_failure_reason(&f);
}

void qemu_save_failure_logs(const struct vm *v, int dirfd, const char *name, const char *title)
{
        const struct qemu_vm *vm = qemu_vm_const(v);
        _cleanup_free_ char *qlog = read_part(vm->log_dir, "qemu.log", LOG_HEAD_MAX, false);
        _cleanup_free_ char *console = read_part(vm->log_dir, "console.log", CONSOLE_TAIL_MAX, true);
        _cleanup_free_ char *text = NULL;
        struct rv_error *tmp_err = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (f == NULL)
                return;
        fprintf(f, "# %s\n# qemu.log\n%s\n# console.log (last %u KiB)\n%s\n", title,
                qlog ? qlog : "", CONSOLE_TAIL_MAX >> 10, console ? console : "");
        fclose(f);
        if (rv_write_file_atomic(dirfd, name, text, len, 0600, &tmp_err) < 0)
                rv_debug("save %s: %s", name, tmp_err->msg);
        rv_error_release(&tmp_err);
}
