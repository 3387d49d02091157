/* SPDX-License-Identifier: Apache-2.0 */
/* hooks/: exit status, timeout, output capture, env, stdin, cwd, argv,
 * poststop hooks kept for delete. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks/hooks.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "spec/config.h"
#include "spec/state.h"

static char dir[256];
static int tmp_dirfd = -1;

static const char state_json[] =
        "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42,"
        "\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}";

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/runvm-test-hooks-XXXXXX");
        assert_non_null(mkdtemp(dir));
        tmp_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(tmp_dirfd >= 0);
        return 0;
}

static int teardown(void **state)
{
        struct rv_error *err = NULL;
        char parent[] = "/tmp";
        int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        close(tmp_dirfd);
        rv_rm_rf_at(pfd, dir + strlen("/tmp/"), &err);
        rv_error_release(&err);
        close(pfd);
        return 0;
}

/* A hook running `sh -c script`, with $D the test's directory. */
static struct spec_hook sh_hook(const char *script, char **env, int timeout)
{
        char **args = calloc(6, sizeof(char *));
        args[0] = strdup("sh");
        args[1] = strdup("-c");
        args[2] = strdup(script);
        args[3] = strdup("sh");
        args[4] = strdup(dir);
        return (struct spec_hook) { .path = strdup("/bin/sh"), .args = args, .env = env,
                                    .has_timeout = timeout > 0, .timeout = timeout };
}

static void hook_clear(struct spec_hook *h)
{
        free(h->path);
        for (char **p = h->args; p && *p; p++)
                free(*p);
        free(h->args);
}

static int run_script(const char *script, char **env, int timeout, struct rv_error **err)
{
        struct spec_hook h = sh_hook(script, env, timeout);
        struct spec_hook_list l = { &h, 1 };
        int r = hooks_run(&l, "prestart", state_json, dir, err);
        hook_clear(&h);
        return r;
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

static void test_success(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(run_script("echo hi; echo there >&2; exit 0", NULL, 0, &err), 0);
        assert_null(err);
}

static void test_exit_status_and_output(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(run_script("echo some out; echo some err >&2; exit 3", NULL, 0, &err), -1);
        assert_non_null(err);
        assert_string_equal(err->msg, "error running prestart hook #0: error running hook: "
                            "exit status 3, stdout: some out\n, stderr: some err\n");
        rv_error_release(&err);
}

static void test_signal(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(run_script("kill -9 $$", NULL, 0, &err), -1);
        assert_string_equal(err->msg, "error running prestart hook #0: error running hook: "
                            "signal: killed, stdout: , stderr: ");
        rv_error_release(&err);
}

static void test_output_bounded(void **state)
{
        struct rv_error *err = NULL;

        /* 1 MiB of output: read and dropped past the cap, never blocking. */
        assert_int_equal(run_script("head -c 1048576 /dev/zero | tr '\\0' x; exit 1", NULL, 5, &err), -1);
        assert_non_null(err);
        assert_true(strlen(err->msg) < 40 * 1024);
        assert_non_null(strstr(err->msg, "exit status 1, stdout: xxxx"));
        rv_error_release(&err);
}

/* Gone, or a zombie nobody reaps (PID 1 in a sandbox may not). */
static bool alive(pid_t pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        FILE *f = fopen(path, "r");
        if (f == NULL)
                return false;
        bool r = fgets(buf, sizeof(buf), f) != NULL && strstr(buf, ") Z ") == NULL;
        fclose(f);
        return r;
}

static void test_timeout(void **state)
{
        struct rv_error *err = NULL;
        int64_t start = rv_now_ms();

        /* The background sleep holds the pipes: it must die with the hook. */
        assert_int_equal(run_script("sleep 30 & echo $! > $1/bg; sleep 30", NULL, 1, &err), -1);
        assert_true(rv_now_ms() - start < 5000);
        assert_string_equal(err->msg, "error running prestart hook #0: hook ran past specified timeout of 1.0s");
        assert_int_equal(err->status, ETIMEDOUT);
        rv_error_release(&err);
        char *bg = read_back("bg");
        assert_non_null(bg);
        pid_t pid = atoi(bg);
        free(bg);
        assert_true(pid > 0);
        usleep(200 * 1000);
        assert_false(alive(pid));
}

static void test_leftover_child_does_not_hang(void **state)
{
        struct rv_error *err = NULL;
        int64_t start = rv_now_ms();

        /* Exits at once, but a child keeps stdout open: bounded drain. */
        assert_int_equal(run_script("sleep 3 & echo done", NULL, 0, &err), 0);
        assert_true(rv_now_ms() - start < 2500);
}

static void test_env(void **state)
{
        struct rv_error *err = NULL;
        char *env[] = { "FOO=bar", "BAZ=qux", NULL };

        assert_int_equal(run_script("env > $1/env", env, 0, &err), 0);
        char *text = read_back("env");
        assert_non_null(text);
        assert_non_null(strstr(text, "FOO=bar\n"));
        assert_non_null(strstr(text, "BAZ=qux\n"));
        assert_null(strstr(text, "RUNVM_TEST_INHERITED"));
        free(text);

        /* No env: the runtime's, as runc does. */
        setenv("RUNVM_TEST_INHERITED", "yes", 1);
        assert_int_equal(run_script("env > $1/env2", NULL, 0, &err), 0);
        text = read_back("env2");
        assert_non_null(strstr(text, "RUNVM_TEST_INHERITED=yes\n"));
        free(text);
        unsetenv("RUNVM_TEST_INHERITED");
}

static void test_stdin(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(run_script("cat > $1/stdin", NULL, 0, &err), 0);
        char *text = read_back("stdin");
        assert_non_null(text);
        assert_string_equal(text, state_json);
        free(text);
        /* A hook that never reads its stdin is fine too. */
        assert_int_equal(run_script("exec 0<&-; true", NULL, 0, &err), 0);
}

static void test_cwd(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(run_script("pwd > $1/cwd", NULL, 0, &err), 0);
        char *text = read_back("cwd");
        char want[300];
        snprintf(want, sizeof(want), "%s\n", dir);
        assert_string_equal(text, want);
        free(text);
}

static void test_argv(void **state)
{
        struct rv_error *err = NULL;
        char path[300];

        /* Without args, argv is [path]. */
        snprintf(path, sizeof(path), "%s/argv.sh", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "#!/bin/sh\necho \"$0 $#\" > %s/argv\n", dir);
        fclose(f);
        chmod(path, 0755);
        struct spec_hook h = { .path = path };
        struct spec_hook_list l = { &h, 1 };
        assert_int_equal(hooks_run(&l, "poststart", state_json, NULL, &err), 0);
        char *text = read_back("argv");
        char want[320];
        snprintf(want, sizeof(want), "%s 0\n", path);
        assert_string_equal(text, want);
        free(text);
}

static void test_missing_and_order(void **state)
{
        struct rv_error *err = NULL;
        struct spec_hook hs[3] = {
                sh_hook("echo one >> $1/order", NULL, 0),
                { .path = "/nonexistent/hook" },
                sh_hook("echo three >> $1/order", NULL, 0),
        };
        struct spec_hook_list l = { hs, 3 };

        assert_int_equal(hooks_run(&l, "createRuntime", state_json, dir, &err), -1);
        assert_string_equal(err->msg, "error running createRuntime hook #1: "
                            "exec `/nonexistent/hook`: No such file or directory");
        rv_error_release(&err);
        char *text = read_back("order");
        assert_string_equal(text, "one\n");     /* the first failure stops the phase */
        free(text);
        hook_clear(&hs[0]);
        hook_clear(&hs[2]);
}

static void test_poststop_saved(void **state)
{
        struct rv_error *err = NULL;
        struct spec_string_pair ann[] = { { "a.b", "c" } };
        struct spec_state s = { .id = "c1", .status = "stopped", .bundle = "/b",
                                .annotations = ann, .n_annotations = 1 };
        char *env[] = { "X=1", NULL };
        struct spec_hook h = sh_hook("cat > $1/poststop; echo $X >> $1/poststop", env, 10);
        struct spec_hook_list l = { &h, 1 }, empty = { NULL, 0 };

        /* Nothing saved: nothing to run. */
        assert_int_equal(hooks_poststop_save(tmp_dirfd, &empty, &s, &err), 0);
        assert_int_equal(faccessat(tmp_dirfd, HOOKS_POSTSTOP_FILE, F_OK, 0), -1);
        assert_int_equal(hooks_poststop_run_saved(tmp_dirfd, dir, &err), 0);

        assert_int_equal(hooks_poststop_save(tmp_dirfd, &l, &s, &err), 0);
        hook_clear(&h);
        assert_int_equal(hooks_poststop_run_saved(tmp_dirfd, dir, &err), 0);
        assert_null(err);
        char *text = read_back("poststop");
        assert_string_equal(text, "{\"ociVersion\":\"" SPEC_OCI_VERSION "\",\"id\":\"c1\","
                            "\"status\":\"stopped\",\"bundle\":\"/b\",\"annotations\":{\"a.b\":\"c\"}}1\n");
        free(text);
        /* Run once only. */
        assert_int_equal(faccessat(tmp_dirfd, HOOKS_POSTSTOP_FILE, F_OK, 0), -1);
        assert_int_equal(hooks_poststop_run_saved(tmp_dirfd, dir, &err), 0);
}

static void test_poststop_failure(void **state)
{
        struct rv_error *err = NULL;
        struct spec_state s = { .id = "c1", .status = "stopped", .bundle = "/b" };
        struct spec_hook h = sh_hook("exit 7", NULL, 0);
        struct spec_hook_list l = { &h, 1 };

        assert_int_equal(hooks_poststop_save(tmp_dirfd, &l, &s, &err), 0);
        hook_clear(&h);
        assert_int_equal(hooks_poststop_run_saved(tmp_dirfd, NULL, &err), -1);
        assert_string_equal(err->msg, "error running poststop hook #0: error running hook: "
                            "exit status 7, stdout: , stderr: ");
        rv_error_release(&err);
}

static void test_state_json(void **state)
{
        struct rv_error *err = NULL;
        struct spec_state s = { .oci_version = "1.0.2", .id = "x", .status = "creating",
                                .pid = 7, .bundle = "/bundle" };
        char *json = NULL;

        assert_int_equal(hooks_state_json(&s, &json, &err), 0);
        assert_string_equal(json, "{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"creating\","
                            "\"pid\":7,\"bundle\":\"/bundle\"}");
        free(json);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_success),
                cmocka_unit_test(test_exit_status_and_output),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_output_bounded),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_leftover_child_does_not_hang),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_stdin),
                cmocka_unit_test(test_cwd),
                cmocka_unit_test(test_argv),
                cmocka_unit_test(test_missing_and_order),
                cmocka_unit_test(test_poststop_saved),
                cmocka_unit_test(test_poststop_failure),
                cmocka_unit_test(test_state_json),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
