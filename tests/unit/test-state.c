/* SPDX-License-Identifier: Apache-2.0 */
/* The state store: directories, locking, atomic state.json, status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/state.h"

static char root[256];

#define STATE_DIR_CREATE(r, id, d, e) state_dir_create(r, id, NULL, d, e)
#define STATE_DIR_CREATE_WITH(r, id, st, d, e) state_dir_create(r, id, st, d, e)
#define STATE_SAVE_AFTER_CREATE 0

static int setup(void **state)
{
        snprintf(root, sizeof(root), "/tmp/runvm-test-state-XXXXXX");
        assert_non_null(mkdtemp(root));
        return 0;
}

static int teardown(void **state)
{
        struct rv_error *err = NULL;
        rv_rm_rf_at(AT_FDCWD, root, &err);
        rv_error_release(&err);
        return 0;
}

static void test_create_twice_fails(void **unused)
{
        struct state_dir a = STATE_DIR_INIT, b = STATE_DIR_INIT;
        struct rv_error *err = NULL;

        assert_int_equal(state_dir_create(root, "c1", NULL, &a, &err), 0);
        assert_null(err);
        assert_int_equal(state_dir_create(root, "c1", NULL, &b, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->status, EEXIST);
        assert_string_equal(err->msg, "container with id exists: c1");
        rv_error_release(&err);
        state_dir_close(&a);
}

static void test_open_missing(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;

        assert_int_equal(state_dir_open(root, "nope", false, &d, &err), -1);
        assert_int_equal(err->status, ENOENT);
        assert_string_equal(err->msg, "container does not exist");
        rv_error_release(&err);
}

static void test_dir_is_private(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        struct stat st;

        assert_int_equal(state_dir_create(root, "priv", NULL, &d, &err), 0);
        assert_int_equal(fstat(d.dirfd, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        state_dir_close(&d);
}

static void test_lock_is_exclusive(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        char path[512];

        assert_int_equal(state_dir_create(root, "locked", NULL, &d, &err), 0);
        snprintf(path, sizeof(path), "%s/locked/lock", root);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        /* Another open file description cannot take the lock meanwhile. */
        assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
        assert_int_equal(errno, EWOULDBLOCK);
        state_dir_close(&d);
        assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
        close(fd);
}

static void test_save_load_round_trip(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        struct container_state *got = NULL;
        char *ann[] = { "a.b", "1", "org.runvm.vm.memory_mib", "512", NULL };
        struct container_state st = {
                .id = "rt", .bundle = "/b", .rootfs = "/b/rootfs",
                .created = "2026-11-23T16:18:34.123456789Z", .owner = "", .status = CONTAINER_CREATED,
                .monitor_pid = 1234, .monitor_start_time = 99,
                .pidns_init_pid = 1233, .pidns_init_start_time = 98,
                .annotations = ann, .exited = true, .exit_signal = 9, .kvm = false,
                .memory_mib = 256, .vcpus = 2,
        };

        assert_int_equal(state_dir_create(root, "rt", NULL, &d, &err), 0);
        assert_int_equal(state_save(d.dirfd, &st, &err), 0);
        /* The write went through a temp file and a rename. */
        assert_int_equal(faccessat(d.dirfd, "state.json.tmp", F_OK, 0), -1);
        assert_int_equal(state_load(d.dirfd, &got, &err), 0);
        assert_string_equal(got->id, "rt");
        assert_string_equal(got->bundle, "/b");
        assert_string_equal(got->rootfs, "/b/rootfs");
        assert_string_equal(got->created, st.created);
        assert_int_equal(got->status, CONTAINER_CREATED);
        assert_int_equal(got->monitor_pid, 1234);
        assert_int_equal(got->monitor_start_time, 99);
        assert_int_equal(got->pidns_init_pid, 1233);
        assert_int_equal(got->pidns_init_start_time, 98);
        assert_true(got->exited);
        assert_int_equal(got->exit_signal, 9);
        assert_int_equal(got->memory_mib, 256);
        assert_int_equal(got->vcpus, 2);
        assert_string_equal(got->annotations[0], "a.b");
        assert_string_equal(got->annotations[1], "1");
        assert_string_equal(got->annotations[2], "org.runvm.vm.memory_mib");
        assert_string_equal(got->annotations[3], "512");
        assert_null(got->annotations[4]);
        container_state_free(got);
        state_dir_close(&d);
}

static void test_corrupt_state_is_an_error(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        struct container_state *got = NULL;

        assert_int_equal(state_dir_create(root, "bad", NULL, &d, &err), 0);
        assert_int_equal(rv_write_file_atomic(d.dirfd, "state.json", "{\"id\": 3", 8, 0600, &err), 0);
        assert_int_equal(state_load(d.dirfd, &got, &err), -1);
        assert_non_null(err);
        rv_error_release(&err);
        assert_int_equal(rv_write_file_atomic(d.dirfd, "state.json", "{\"id\": 3}", 9, 0600, &err), 0);
        assert_int_equal(state_load(d.dirfd, &got, &err), -1);
        assert_non_null(strstr(err->msg, "`id`"));
        rv_error_release(&err);
        state_dir_close(&d);
}

/* A state.json of the layout before state_version (qemu_pid and
 * virtiofsd_pid by name) is refused in words, never half-read. */
static void test_old_state_version_is_an_error(void **unused)
{
        static const char old[] = "{\"id\": \"old\", \"status\": \"running\", \"monitor_pid\": 1, "
                                  "\"qemu_pid\": 5, \"virtiofsd_pid\": 6}";
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        struct container_state *got = NULL;

        assert_int_equal(state_dir_create(root, "old", NULL, &d, &err), 0);
        assert_int_equal(rv_write_file_atomic(d.dirfd, "state.json", old, sizeof(old) - 1, 0600, &err), 0);
        assert_int_equal(state_load(d.dirfd, &got, &err), -1);
        assert_null(got);
        assert_non_null(err);
        assert_string_equal(err->msg, "load state: `state.json` was written by an older runvm (state version 1, this one "
                                      "reads 2): stop and delete the container with that runvm");
        rv_error_release(&err);
        state_dir_close(&d);
}

static void test_status_follows_monitor(void **unused)
{
        uint64_t start;
        struct container_state st = { .status = CONTAINER_RUNNING };
        pid_t child = fork();

        if (child == 0) {
                pause();
                _exit(0);
        }
        assert_int_equal(rv_proc_start_time(child, &start), 0);
        st.monitor_pid = child;
        st.monitor_start_time = start;
        assert_int_equal(container_state_status(&st), CONTAINER_RUNNING);
        /* Same pid, other start time: a recycled pid is not our monitor. */
        st.monitor_start_time = start + 1;
        assert_int_equal(container_state_status(&st), CONTAINER_STOPPED);
        st.monitor_start_time = start;
        kill(child, SIGKILL);
        /* A zombie has exited already. */
        usleep(100000);
        assert_int_equal(container_state_status(&st), CONTAINER_STOPPED);
        waitpid(child, NULL, 0);
        assert_int_equal(container_state_status(&st), CONTAINER_STOPPED);
        st.status = CONTAINER_STOPPED;
        assert_int_equal(container_state_status(&st), CONTAINER_STOPPED);
}

/* Field 22 of /proc/PID/stat, counted independently of the code under test. */
static void test_start_time_is_field_22(void **unused)
{
        char buf[1024];
        uint64_t got, want = 0;
        FILE *f = fopen("/proc/self/stat", "r");

        assert_non_null(f);
        assert_non_null(fgets(buf, sizeof(buf), f));
        fclose(f);
        char *p = strrchr(buf, ')') + 2;        /* field 3 */
        for (int field = 3; field <= 22; field++) {
                if (field == 22)
                        want = strtoull(p, NULL, 10);
                p = strchr(p, ' ') + 1;
        }
        assert_int_equal(rv_proc_start_time(getpid(), &got), 0);
        assert_int_equal(got, want);
        /* vsize (field 23) changes as memory is mapped; the start time must not. */
        void *big = malloc(64 << 20);
        assert_non_null(big);
        uint64_t again;
        assert_int_equal(rv_proc_start_time(getpid(), &again), 0);
        assert_int_equal(again, got);
        free(big);
}

static void test_remove(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        char path[512];

        assert_int_equal(state_dir_create(root, "gone", NULL, &d, &err), 0);
        assert_int_equal(mkdirat(d.dirfd, "shared", 0700), 0);
        state_dir_close(&d);
        assert_int_equal(state_dir_remove(root, "gone", &err), 0);
        snprintf(path, sizeof(path), "%s/gone", root);
        assert_int_equal(access(path, F_OK), -1);
        /* Missing is success: teardown is idempotent. */
        assert_int_equal(state_dir_remove(root, "gone", &err), 0);
        assert_null(err);
}

/* Running out of fds at each step of create (the lock file last) must not
 * leave the new directory, or a temporary one, behind. */
static void test_create_lock_failure_leaves_nothing(void **unused)
{
        struct rv_error *err = NULL;
        struct rlimit old, low;
        int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);

        assert_true(probe >= 0);
        close(probe);
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        for (int extra = 1; extra <= 3; extra++) {
                struct state_dir d = STATE_DIR_INIT;
                low = old;
                low.rlim_cur = (rlim_t) probe + (rlim_t) extra;
                assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
                int r = STATE_DIR_CREATE(root, "nolock", &d, &err);
                assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
                if (r == 0) {
                        state_dir_close(&d);
                        break;          /* enough fds: every failure point was tried */
                }
                assert_non_null(err);
                rv_error_release(&err);
                DIR *dir = opendir(root);
                struct dirent *e;
                assert_non_null(dir);
                while ((e = readdir(dir)) != NULL)
                        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                                fail_msg("left behind after %d fds: %s", extra, e->d_name);
                closedir(dir);
        }
}

/* delete's way to tell a create that died half-way: a dir with no state. */
static void delete_half_made(const char *id)
{
        struct state_dir d = STATE_DIR_INIT;
        struct container_state *st = NULL;
        struct rv_error *err = NULL;

        if (state_dir_open(root, id, true, &d, &err) < 0) {
                rv_error_release(&err);
                return;
        }
        if (state_load(d.dirfd, &st, &err) < 0 && err->status == ENOENT) {
                rv_error_release(&err);
                state_dir_remove(root, id, &err);
        }
        rv_error_release(&err);
        container_state_free(st);
        state_dir_close(&d);
}

/* A concurrent `delete ID` can never remove the directory a create just
 * made: it appears with its state and its lock taken. */
static void test_create_races_delete(void **unused)
{
        struct rv_error *err = NULL;
        int lost = 0;
        pid_t deleter = fork();

        assert_true(deleter >= 0);
        if (deleter == 0) {
                for (;;)
                        delete_half_made("race");
        }
        for (int i = 0; i < 3000 && lost == 0; i++) {
                struct state_dir d = STATE_DIR_INIT;
                struct container_state st = { .id = "race", .bundle = "/b", .rootfs = "/r",
                                              .created = "t", .owner = "", .status = CONTAINER_CREATING };
                struct stat sb;
                if (STATE_DIR_CREATE_WITH(root, "race", &st, &d, &err) < 0) {
                        rv_error_release(&err);
                        continue;
                }
                if (STATE_SAVE_AFTER_CREATE && state_save(d.dirfd, &st, &err) < 0)
                        rv_error_release(&err);
                if (fstat(d.dirfd, &sb) < 0 || sb.st_nlink == 0 ||
                    faccessat(d.dirfd, "state.json", F_OK, 0) < 0)
                        lost++;
                state_dir_close(&d);
                state_dir_remove(root, "race", &err);
                rv_error_release(&err);
        }
        kill(deleter, SIGKILL);
        waitpid(deleter, NULL, 0);
        assert_int_equal(lost, 0);
}

/* A state.json the runtime could not read back is never written. */
static void test_save_refuses_unreadable_size(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        struct container_state *got = NULL;
        size_t big = 2u << 20;
        char *value = malloc(big + 1);
        char *ann[] = { "big", value, NULL };
        struct container_state st = {
                .id = "big", .bundle = "/b", .rootfs = "/r", .created = "t", .owner = "",
                .status = CONTAINER_CREATED,
        };

        assert_non_null(value);
        memset(value, 'x', big);
        value[big] = '\0';
        assert_int_equal(STATE_DIR_CREATE_WITH(root, "big", &st, &d, &err), 0);
        if (STATE_SAVE_AFTER_CREATE)
                assert_int_equal(state_save(d.dirfd, &st, &err), 0);
        st.annotations = ann;
        assert_int_equal(state_save(d.dirfd, &st, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->status, EFBIG);
        rv_error_release(&err);
        /* What was there stays readable. */
        assert_int_equal(state_load(d.dirfd, &got, &err), 0);
        assert_int_equal(got->status, CONTAINER_CREATED);
        container_state_free(got);
        state_dir_close(&d);
        free(value);
}

/* What delete needs to find everything: processes, resources, reason. */
static void test_records_round_trip(void **unused)
{
        struct state_dir d = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        struct container_state *got = NULL;
        struct container_state st = {
                .id = "rec", .bundle = "/b", .rootfs = "/r", .created = "t", .owner = "", .status = CONTAINER_STOPPED,
        };

        assert_int_equal(state_add_proc(&st, "qemu", getpid(), &err), 0);
        assert_int_equal(state_add_resource(&st, "tap", "tap-rec0", &err), 0);
        state_set_reason(&st, "virtiofsd exited");
        assert_int_equal(STATE_DIR_CREATE_WITH(root, "rec", &st, &d, &err), 0);
        assert_int_equal(state_load(d.dirfd, &got, &err), 0);
        assert_int_equal(got->n_procs, 1);
        assert_string_equal(got->procs[0].name, "qemu");
        assert_int_equal(got->procs[0].pid, getpid());
        assert_int_equal(got->procs[0].start_time, st.procs[0].start_time);
        assert_int_equal(got->n_resources, 1);
        assert_string_equal(got->resources[0].kind, "tap");
        assert_string_equal(got->resources[0].name, "tap-rec0");
        assert_string_equal(got->reason, "virtiofsd exited");
        container_state_free(got);
        state_dir_close(&d);
        free(st.resources[0].kind);
        free(st.resources[0].name);
        free(st.resources);
        free(st.reason);
}

static void test_id_validation(void **unused)
{
        assert_true(container_id_is_valid("abc"));
        assert_true(container_id_is_valid("a.b_c+d-E9"));
        assert_false(container_id_is_valid(""));
        assert_false(container_id_is_valid("."));
        assert_false(container_id_is_valid(".."));
        assert_false(container_id_is_valid("a/b"));
        assert_false(container_id_is_valid("a b"));
        assert_false(container_id_is_valid("@host"));
        assert_false(container_id_is_valid(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_twice_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_is_private, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock_is_exclusive, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupt_state_is_an_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_old_state_version_is_an_error, setup, teardown),
                cmocka_unit_test(test_status_follows_monitor),
                cmocka_unit_test(test_start_time_is_field_22),
                cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
                cmocka_unit_test(test_id_validation),
                cmocka_unit_test_setup_teardown(test_create_lock_failure_leaves_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_races_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_refuses_unreadable_size, setup, teardown),
                cmocka_unit_test_setup_teardown(test_records_round_trip, setup, teardown),
        };
        return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
