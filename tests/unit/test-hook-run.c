/* SPDX-License-Identifier: Apache-2.0 */
/* hooks/run.c, the runner the host and the guest share: which fds cross
 * exec, which environment a hook gets, and the same results where the
 * guest's seccomp filter denies close_range and pidfd_open. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks/run.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "spec/config.h"

static char dir[256];
static int tmp_dirfd = -1;

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/runvm-test-hook-run-XXXXXX");
        assert_non_null(mkdtemp(dir));
        tmp_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(tmp_dirfd >= 0);
        return 0;
}

static int teardown(void **state)
{
        struct rv_error *err = NULL;
        int pfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        close(tmp_dirfd);
        rv_rm_rf_at(pfd, dir + strlen("/tmp/"), &err);
        rv_error_release(&err);
        close(pfd);
        return 0;
}

/* `sh -c script sh DIR` with env (NULL: none of its own). */
static int run_sh(const char *script, char **env, char **default_env, int timeout, struct rv_error **err)
{
        char *args[] = { "sh", "-c", (char *) script, "sh", dir, NULL };
        struct spec_hook h = { .path = "/bin/sh", .args = args, .env = env,
                               .has_timeout = timeout > 0, .timeout = timeout };

        return hooks_run_one(&h, "{}", NULL, default_env, err);
}

static char *read_back(const char *name)
{
        struct rv_error *err = NULL;
        char *text = NULL;
        size_t len;

        if (rv_read_file_at(tmp_dirfd, name, 1 << 20, &text, &len, &err) < 0) {
                rv_error_release(&err);
                return NULL;
        }
        return text;
}

/* The highest fd number in a listing of /proc/self/fd, one a line. */
static long max_fd(const char *listing)
{
        long max = -1;

        for (const char *p = listing; *p != '\0';) {
                char *end;
                long fd = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (fd > max)
                        max = fd;
                p = *end == '\n' ? end + 1 : end;
        }
        return max;
}

/* fds 47 (inheritable) and 48 (O_CLOEXEC) are open in the caller; ls
 * lists what it got plus the one it opens itself (3). */
static int list_fds(const char *name, struct rv_error **err)
{
        char script[128];
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int r;

        assert_true(null >= 0);
        assert_int_equal(dup2(null, 47), 47);           /* no O_CLOEXEC */
        assert_int_equal(dup3(null, 48, O_CLOEXEC), 48);
        close(null);
        snprintf(script, sizeof(script), "exec ls /proc/self/fd > $1/%s", name);
        r = run_sh(script, NULL, NULL, 10, err);
        close(47);
        close(48);
        return r;
}

static void test_only_stdio_crosses_exec(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(list_fds("fds", &err), 0);
        char *text = read_back("fds");
        assert_non_null(text);
        assert_non_null(strstr(text, "0\n1\n2\n"));
        assert_true(max_fd(text) <= 3);
        free(text);
}

static void test_env_own(void **state)
{
        struct rv_error *err = NULL;
        char *env[] = { "FOO=bar", NULL }, *def[] = { "DEF=1", NULL };

        setenv("RUNVM_TEST_INHERITED", "yes", 1);
        /* Its own env wins over the default and the caller's. */
        assert_int_equal(run_sh("env > $1/env-own", env, def, 10, &err), 0);
        char *text = read_back("env-own");
        assert_non_null(text);
        assert_non_null(strstr(text, "FOO=bar\n"));
        assert_null(strstr(text, "DEF=1"));
        assert_null(strstr(text, "RUNVM_TEST_INHERITED"));
        free(text);
        unsetenv("RUNVM_TEST_INHERITED");
}

static void test_env_empty_is_empty(void **state)
{
        struct rv_error *err = NULL;
        char *env[] = { NULL }, *def[] = { "DEF=1", NULL };

        /* `"env": []` is an env of its own: empty, not the default. */
        setenv("RUNVM_TEST_INHERITED", "yes", 1);
        assert_int_equal(run_sh("env > $1/env-empty", env, def, 10, &err), 0);
        char *text = read_back("env-empty");
        assert_non_null(text);
        assert_null(strstr(text, "DEF=1"));
        assert_null(strstr(text, "RUNVM_TEST_INHERITED"));
        free(text);
        unsetenv("RUNVM_TEST_INHERITED");
}

static void test_env_default_then_inherited(void **state)
{
        struct rv_error *err = NULL;
        char *def[] = { "DEF=1", NULL };

        setenv("RUNVM_TEST_INHERITED", "yes", 1);
        /* No env of its own: the default given (the guest's process.env)... */
        assert_int_equal(run_sh("env > $1/env-def", NULL, def, 10, &err), 0);
        char *text = read_back("env-def");
        assert_non_null(text);
        assert_non_null(strstr(text, "DEF=1\n"));
        assert_null(strstr(text, "RUNVM_TEST_INHERITED"));
        free(text);
        /* ... else the caller's (the host: runc's exec.Cmd with a nil Env). */
        assert_int_equal(run_sh("env > $1/env-inh", NULL, NULL, 10, &err), 0);
        text = read_back("env-inh");
        assert_non_null(text);
        assert_non_null(strstr(text, "RUNVM_TEST_INHERITED=yes\n"));
        free(text);
        unsetenv("RUNVM_TEST_INHERITED");
}

static void test_default_timeout_text(void **state)
{
        struct rv_error *err = NULL;
        char *args[] = { "sh", "-c", "exit 4", NULL };
        struct spec_hook h = { .path = "/bin/sh", .args = args };

        /* No timeout of its own: still bounded, and still the exit text. */
        assert_int_equal(hooks_run_one(&h, "{}", NULL, NULL, &err), -1);
        assert_string_equal(err->msg, "error running hook: exit status 4, stdout: , stderr: ");
        rv_error_release(&err);
}

#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef TEST_AUDIT_ARCH
/* What a container's filter may do to the guest's init: close_range and
 * pidfd_open fail with ENOSYS. */
static void deny_close_range_and_pidfd(void)
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pidfd_open, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        };
        struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                _exit(90);
        if (syscall(__NR_close_range, 100, 101, 0) == 0 || errno != ENOSYS)
                _exit(91);
}

/* In a child under that filter: the fd rule, the exit text and the
 * timeout hold without close_range and pidfds. */
static void test_without_close_range_and_pidfd(void **state)
{
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                struct rv_error *err = NULL;
                int64_t start;

                deny_close_range_and_pidfd();
                if (list_fds("fds-seccomp", &err) < 0)
                        _exit(92);
                if (run_sh("echo out; exit 3", NULL, NULL, 10, &err) != -1 ||
                    strcmp(err->msg, "error running hook: exit status 3, stdout: out\n, stderr: ") != 0)
                        _exit(93);
                rv_error_release(&err);
                start = rv_now_ms();
                if (run_sh("sleep 30", NULL, NULL, 1, &err) != -1 ||
                    strcmp(err->msg, "hook ran past specified timeout of 1.0s") != 0 ||
                    rv_now_ms() - start > 5000)
                        _exit(94);
                rv_error_release(&err);
                /* A quick hook is not held up by the polling. */
                start = rv_now_ms();
                if (run_sh("true", NULL, NULL, 10, &err) != 0 || rv_now_ms() - start > 1000)
                        _exit(95);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        char *text = read_back("fds-seccomp");
        assert_non_null(text);
        assert_non_null(strstr(text, "0\n1\n2\n"));
        assert_true(max_fd(text) <= 3);
        free(text);
}
#else
static void test_without_close_range_and_pidfd(void **state)
{
        skip();
}
#endif

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_only_stdio_crosses_exec),
                cmocka_unit_test(test_env_own),
                cmocka_unit_test(test_env_empty_is_empty),
                cmocka_unit_test(test_env_default_then_inherited),
                cmocka_unit_test(test_default_timeout_text),
                cmocka_unit_test(test_without_close_range_and_pidfd),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
