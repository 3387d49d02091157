/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup-limits: the container's resources mapped to what its VM needs
 * on the host, and written into cgroup files (a fake hierarchy in /tmp). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/fs.h"
#include "spec/cgroup-v2.h"
#include "libcontainer-vm/cgroup-limits.h"
#include "spec/config.h"
#include "spec/json.h"

static void resources(const char *json, struct spec_resources *r)
{
        struct json_value *v = NULL;
        struct rv_error *err = NULL;

        memset(r, 0, sizeof(*r));
        assert_int_equal(json_parse(json, strlen(json), &v, &err), 0);
        assert_int_equal(spec_resources_from_json(v, "resources", r, &err), 0);
        json_value_free(v);
}

static void test_mapping(void **unused)
{
        struct spec_resources r;
        struct host_cgroup_limits l;

        resources("{\"memory\": {\"limit\": 67108864}, \"cpu\": {\"quota\": 150000, \"period\": 100000,"
                  " \"shares\": 512, \"cpus\": \"0,1\"}, \"pids\": {\"limit\": 50}, \"blockIO\": {\"weight\": 300}}", &r);
        host_cgroup_limits_from(&r, 128, 256, 2, &l);
        /* The VM and its overhead, not the container's limit. */
        assert_int_equal(l.memory_bytes, (128ull + 256) << 20);
        assert_true(l.has_cpu_quota);
        assert_int_equal(l.cpu_quota, 150000);
        assert_int_equal(l.cpu_period, 100000);
        assert_int_equal(l.cpu_shares, 512);
        assert_string_equal(l.cpus, "0,1");
        /* Never below what the VM's threads need. */
        assert_int_equal(l.pids_max, HOST_CGROUP_VM_PIDS + 2);
        assert_int_equal(l.blkio_weight, 300);
        /* update: the VM does not grow, the memory limit stays. */
        host_cgroup_limits_from(&r, 0, 256, 2, &l);
        assert_int_equal(l.memory_bytes, 0);
        spec_resources_clear(&r);

        resources("{\"pids\": {\"limit\": 4096}, \"cpu\": {\"quota\": -1}}", &r);
        host_cgroup_limits_from(&r, 2048, 256, 2, &l);
        assert_int_equal(l.memory_bytes, 0);    /* no limit: none on the host either */
        assert_int_equal(l.pids_max, 4096);
        assert_int_equal(l.cpu_quota, -1);
        spec_resources_clear(&r);
}

static void test_conversions(void **unused)
{
        /* runc's: 1024 shares are weight 39, the extremes map to 1 and 10000. */
        assert_int_equal(spec_cpu_shares_to_weight(1024), 39);
        assert_int_equal(spec_cpu_shares_to_weight(2), 1);
        assert_int_equal(spec_cpu_shares_to_weight(262144), 10000);
        assert_int_equal(spec_blkio_to_io_weight(10), 1);
        assert_int_equal(spec_blkio_to_io_weight(1000), 10000);
}

static char dir[64];

static void touch(const char *name)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

static char *content(const char *name)
{
        char path[128], *text = NULL;
        size_t len;
        struct rv_error *err = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(rv_read_file_at(AT_FDCWD, path, 4096, &text, &len, &err), 0);
        return text;
}

static void test_apply_v1(void **unused)
{
        struct spec_resources r;
        struct host_cgroup_limits l;
        struct rv_error *err = NULL;

        snprintf(dir, sizeof(dir), "/tmp/runvm-test-cglimits-XXXXXX");
        assert_non_null(mkdtemp(dir));
        touch("memory.limit_in_bytes");
        touch("cpu.cfs_quota_us");
        touch("cpu.cfs_period_us");
        touch("cpu.shares");
        touch("pids.max");
        resources("{\"memory\": {\"limit\": 67108864}, \"cpu\": {\"quota\": 50000, \"period\": 200000,"
                  " \"shares\": 256}, \"pids\": {\"limit\": -1}}", &r);
        host_cgroup_limits_from(&r, 128, 256, 1, &l);
        char *dirs[] = { dir, NULL };
        assert_int_equal(host_cgroup_apply(dirs, &l, &err), 0);
        char *s;
        assert_string_equal((s = content("memory.limit_in_bytes")), "402653184"); free(s);
        assert_string_equal((s = content("cpu.cfs_quota_us")), "50000"); free(s);
        assert_string_equal((s = content("cpu.cfs_period_us")), "200000"); free(s);
        assert_string_equal((s = content("cpu.shares")), "256"); free(s);
        assert_string_equal((s = content("pids.max")), "max"); free(s);
        spec_resources_clear(&r);
        rv_rm_rf_at(AT_FDCWD, dir, &err);
        rv_error_release(&err);
}

static void test_apply_v2(void **unused)
{
        struct spec_resources r;
        struct host_cgroup_limits l;
        struct rv_error *err = NULL;

        snprintf(dir, sizeof(dir), "/tmp/runvm-test-cglimits-XXXXXX");
        assert_non_null(mkdtemp(dir));
        touch("cgroup.controllers");
        touch("memory.max");
        touch("cpu.max");
        touch("cpu.weight");
        touch("pids.max");
        resources("{\"memory\": {\"limit\": 67108864}, \"cpu\": {\"quota\": 150000, \"period\": 100000,"
                  " \"shares\": 1024}, \"pids\": {\"limit\": 500}}", &r);
        host_cgroup_limits_from(&r, 128, 256, 2, &l);
        char *dirs[] = { dir, NULL };
        assert_int_equal(host_cgroup_apply(dirs, &l, &err), 0);
        char *s;
        assert_string_equal((s = content("memory.max")), "402653184"); free(s);
        assert_string_equal((s = content("cpu.max")), "150000 100000"); free(s);
        assert_string_equal((s = content("cpu.weight")), "39"); free(s);
        assert_string_equal((s = content("pids.max")), "500"); free(s);
        spec_resources_clear(&r);
        rv_rm_rf_at(AT_FDCWD, dir, &err);
        rv_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mapping),
                cmocka_unit_test(test_conversions),
                cmocka_unit_test(test_apply_v1),
                cmocka_unit_test(test_apply_v2),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
