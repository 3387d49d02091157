/* SPDX-License-Identifier: Apache-2.0 */
/* Why a guest is gone: the one-line reasons read off QEMU's log, the
 * console and the run state (vm/qemu/diagnose.c), and vm_check against a
 * fake QEMU that pauses itself the way KVM's internal errors do. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/proc.h"
#include "vm/qemu/diagnose.h"
#include "vm/qemu/qemu-vm.h"
#include "tests/unit/fake-qemu.h"

static const char kvm_dump[] =
        "KVM internal error. Suberror: 1\n"
        "extra data[0]: 0x0000000000000000\n"
        "emulation failure\n"
        "RAX=0000000000000000 RBX=ffffffff82a03e48 RCX=0000000000000000\n";

static void assert_reason(const struct vm_failure *f, const char *want)
{
        char *got = vm_failure_reason(f);
        if (want == NULL) {
                assert_null(got);
                return;
        }
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
}

static void test_kvm_internal_error(void **unused)
{
        struct vm_failure f = { .qemu_log = kvm_dump, .run_state = "internal-error" };
        assert_reason(&f, "the guest stopped with a KVM internal error (emulation failure)");
        /* The run state alone is enough; the register dump never is the reason. */
        struct vm_failure g = { .run_state = "internal-error" };
        assert_reason(&g, "the guest stopped with a KVM internal error");
}

static void test_kernel_panic_from_console(void **unused)
{
        const char *console =
                "[    0.120000] PCI: Fatal: No config space access function found\n"
                "[    0.310000] Kernel panic - not syncing: No working init found.  Try passing init= option\n"
                "[    0.310001] CPU: 0 PID: 1 Comm: swapper/0\n";
        struct vm_failure f = { .console_log = console, .exited = true };
        assert_reason(&f, "the guest kernel panicked: No working init found.  Try passing init= option");
}

static void test_console_explanation_skips_noise(void **unused)
{
        assert_null(vm_console_explanation("[    0.1] PCI: Fatal: No config space access function found\n"));
        assert_null(vm_console_explanation(NULL));
        char *s = vm_console_explanation("time=\"x\" level=error msg=\"runvm-agent: fatal: mount /proc: busy\"\n");
        assert_non_null(s);
        assert_string_equal(s, "runvm-agent: fatal: mount /proc: busy");
        free(s);
}

static void test_qemu_own_message(void **unused)
{
        const char *log = "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
                          "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed.\n";
        struct vm_failure f = { .qemu_log = log, .exited = true, .wait_status = 134 /* SIGABRT */ };
        assert_reason(&f, "qemu: failed to set MSR 0x10a to 0x69");
}

static void test_exit_status_when_nothing_else(void **unused)
{
        struct vm_failure killed = { .exited = true, .wait_status = SIGKILL };
        assert_reason(&killed, "qemu was killed by signal 9");
        struct vm_failure exited = { .exited = true, .wait_status = 3 << 8 };
        assert_reason(&exited, "qemu exited with status 3");
        struct vm_failure running = { .run_state = "running" };
        assert_reason(&running, NULL);
        struct vm_failure nothing = { 0 };
        assert_reason(&nothing, NULL);
}

static void test_control_characters_replaced(void **unused)
{
        const char *console = "Kernel panic - not syncing: \x1b]0;owned\x07 evil\n";
        struct vm_failure f = { .console_log = console };
        char *got = vm_failure_reason(&f);
        assert_non_null(got);
        for (const char *p = got; *p; p++)
                assert_true((unsigned char) *p >= 0x20 && (unsigned char) *p != 0x7f);
        free(got);
}

/* A QEMU that pauses itself: STOP after capabilities, then query-status
 * answers `state`; it stays alive until killed. */
static pid_t fake_paused_qemu(int fd, const char *state)
{
        char status[256];
        snprintf(status, sizeof(status),
                 "{\"return\": {\"status\": \"%s\", \"running\": false}, \"id\": %%d}\r\n", state);
        const char *replies[] = {
                "{\"return\": {}, \"id\": %d}\r\n{\"event\": \"STOP\", \"timestamp\": {}}\r\n", status,
        };
        return fake_qemu_start(fd, replies, 2, true);
}

static void test_vm_check_sees_an_internal_error(void **unused)
{
        char dir[] = "/tmp/test-vm-health.XXXXXX";
        char path[256];
        int sv[2];
        struct qemu_vm *q = malloc(sizeof(*q));
        struct rv_error *err = NULL;

        assert_non_null(q);
        qemu_vm_init(q);
        struct vm *vm = &q->base;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/qemu.log", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(kvm_dump, f);
        fclose(f);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        q->qemu_pid = fake_paused_qemu(sv[1], "internal-error");
        q->qemu_pidfd = rv_pidfd_open(q->qemu_pid);
        assert_true(q->qemu_pidfd >= 0);
        q->qmp_fd = sv[0];
        qmp_init(&q->qmp, sv[0]);
        q->log_dir = strdup(dir);

        /* Poll the way the monitor does, until vm_check has a verdict. */
        int r = 0;
        int64_t deadline = rv_now_ms() + 5000;
        while (r == 0 && rv_now_ms() < deadline) {
                usleep(10000);
                r = vm_check(vm, &err);
        }
        assert_int_equal(r, -1);
        assert_string_equal(err->msg, "the guest stopped with a KVM internal error (emulation failure)");
        assert_null(strstr(err->msg, "RAX"));
        rv_error_release(&err);
        /* It paused, it did not exit: destroying is still the caller's job. */
        assert_true(q->qemu_pid > 0);
        assert_true(vm_alive(vm));
        vm_destroy(&vm);
        assert_null(vm);
        close(sv[1]);
        unlink(path);
        rmdir(dir);
}

static void test_vm_check_quiet_while_running(void **unused)
{
        int sv[2];
        struct qemu_vm *q = malloc(sizeof(*q));
        struct rv_error *err = NULL;

        assert_non_null(q);
        qemu_vm_init(q);
        struct vm *vm = &q->base;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid_t pid = fake_qemu_start(sv[1], NULL, 0, true);
        q->qemu_pid = pid;
        q->qemu_pidfd = rv_pidfd_open(pid);
        q->qmp_fd = sv[0];
        qmp_init(&q->qmp, sv[0]);
        usleep(50000);
        assert_int_equal(vm_check(vm, &err), 0);
        assert_int_equal(vm_exit_fd(vm), q->qemu_pidfd);
        assert_null(err);
        /* Killed: now it is gone, and says so. */
        kill(pid, SIGKILL);
        assert_int_equal(rv_pidfd_wait(q->qemu_pidfd, 2000), 0);
        assert_int_equal(vm_check(vm, &err), -1);
        assert_non_null(err);
        assert_string_equal(err->msg, "qemu was killed by signal 9");
        assert_int_equal(q->qemu_pid, 0);
        assert_false(vm_alive(vm));
        rv_error_release(&err);
        vm_destroy(&vm);
        close(sv[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kvm_internal_error),
                cmocka_unit_test(test_kernel_panic_from_console),
                cmocka_unit_test(test_console_explanation_skips_noise),
                cmocka_unit_test(test_qemu_own_message),
                cmocka_unit_test(test_exit_status_when_nothing_else),
                cmocka_unit_test(test_control_characters_replaced),
                cmocka_unit_test(test_vm_check_sees_an_internal_error),
                cmocka_unit_test(test_vm_check_quiet_while_running),
        };
        return cmocka_run_group_tests_name("vm-health", tests, NULL, NULL);
}
