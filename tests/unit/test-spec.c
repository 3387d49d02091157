/* SPDX-License-Identifier: Apache-2.0 */
/* spec/config, spec/state, spec/default. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "spec/config.h"
#include "spec/mount.h"
#include "spec/json.h"
#include "spec/spec-internal.h"
#include "spec/state.h"

/* Every field of the runtime-spec, in the order spec_config_write uses
 * (tests/fuzz/corpus/fuzz-spec/rich.json). */
static const char rich_config[] =
        "{\n"
        "  \"ociVersion\": \"1.1.0\",\n"
        "  \"process\": {\n"
        "    \"terminal\": true,\n"
        "    \"consoleSize\": {\"height\": 24, \"width\": 80},\n"
        "    \"user\": {\"uid\": 1000, \"gid\": 1001, \"umask\": 18, \"additionalGids\": [5, 4294967295], \"username\": \"bob\"},\n"
        "    \"args\": [\"sh\", \"-c\", \"echo hi\"],\n"
        "    \"commandLine\": \"sh -c 'echo hi'\",\n"
        "    \"env\": [\"PATH=/bin\", \"TERM=xterm\"],\n"
        "    \"cwd\": \"/work\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [\"CAP_KILL\"],\n"
        "      \"effective\": [\"CAP_KILL\", \"CAP_CHOWN\"],\n"
        "      \"inheritable\": [],\n"
        "      \"permitted\": [\"CAP_KILL\"],\n"
        "      \"ambient\": [\"CAP_NET_RAW\"]\n"
        "    },\n"
        "    \"rlimits\": [\n"
        "      {\"type\": \"RLIMIT_NOFILE\", \"hard\": 18446744073709551615, \"soft\": 1024},\n"
        "      {\"type\": \"RLIMIT_CORE\", \"hard\": 0, \"soft\": 0}\n"
        "    ],\n"
        "    \"noNewPrivileges\": true,\n"
        "    \"apparmorProfile\": \"runvm-default\",\n"
        "    \"oomScoreAdj\": -1000,\n"
        "    \"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"nice\": -5, \"priority\": 10, \"flags\": [\"SCHED_FLAG_RESET_ON_FORK\"], \"runtime\": 1000, \"deadline\": 2000, \"period\": 3000},\n"
        "    \"selinuxLabel\": \"system_u:system_r:container_t:s0\",\n"
        "    \"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 4}\n"
        "  },\n"
        "  \"root\": {\"path\": \"/var/lib/rootfs\", \"readonly\": true},\n"
        "  \"hostname\": \"web\",\n"
        "  \"domainname\": \"example.org\",\n"
        "  \"mounts\": [\n"
        "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "    {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\", \"options\": [\"rbind\", \"ro\"],\n"
        "     \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],\n"
        "     \"gidMappings\": [{\"containerID\": 0, \"hostID\": 200000, \"size\": 65536}]},\n"
        "    {\"destination\": \"/empty-opts\", \"options\": []}\n"
        "  ],\n"
        "  \"hooks\": {\n"
        "    \"prestart\": [{\"path\": \"/usr/bin/setup\", \"args\": [\"setup\", \"--net\"], \"env\": [\"A=1\"], \"timeout\": 5}],\n"
        "    \"createRuntime\": [{\"path\": \"/bin/cr\"}],\n"
        "    \"createContainer\": [{\"path\": \"/bin/cc\", \"args\": []}],\n"
        "    \"startContainer\": [{\"path\": \"/bin/sc\"}],\n"
        "    \"poststart\": [{\"path\": \"/bin/ps1\"}, {\"path\": \"/bin/ps2\", \"timeout\": 1}],\n"
        "    \"poststop\": [{\"path\": \"/bin/cleanup\"}]\n"
        "  },\n"
        "  \"annotations\": {\"org.runvm.vm.memory_mib\": \"512\", \"com.example/x\": \"y\\u00e9\\u2028\"},\n"
        "  \"linux\": {\n"
        "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],\n"
        "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}, {\"containerID\": 1, \"hostID\": 100000, \"size\": 65536}],\n"
        "    \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shm_rmid_forced\": \"1\"},\n"
        "    \"resources\": {\n"
        "      \"devices\": [\n"
        "        {\"allow\": false, \"access\": \"rwm\"},\n"
        "        {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"},\n"
        "        {\"allow\": true, \"type\": \"b\", \"major\": -1, \"minor\": -1, \"access\": \"m\"}\n"
        "      ],\n"
        "      \"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": -1, \"kernel\": 0, \"kernelTCP\": 0, \"swappiness\": 60, \"disableOOMKiller\": false, \"useHierarchy\": true, \"checkBeforeUpdate\": true},\n"
        "      \"cpu\": {\"shares\": 1024, \"quota\": 150000, \"burst\": 10000, \"period\": 100000, \"realtimeRuntime\": -1, \"realtimePeriod\": 1000000, \"cpus\": \"0-1\", \"mems\": \"0\", \"idle\": 0},\n"
        "      \"pids\": {\"limit\": 100},\n"
        "      \"blockIO\": {\n"
        "        \"weight\": 500,\n"
        "        \"leafWeight\": 300,\n"
        "        \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 600, \"leafWeight\": 65535}, {\"major\": 8, \"minor\": 16}],\n"
        "        \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],\n"
        "        \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 18446744073709551615}],\n"
        "        \"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1000}],\n"
        "        \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 2000}]\n"
        "      },\n"
        "      \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],\n"
        "      \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\", \"priority\": 500}]},\n"
        "      \"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}},\n"
        "      \"unified\": {\"memory.high\": \"max\", \"io.weight\": \"default 100\"}\n"
        "    },\n"
        "    \"cgroupsPath\": \"/runvm/web\",\n"
        "    \"namespaces\": [\n"
        "      {\"type\": \"pid\"},\n"
        "      {\"type\": \"network\", \"path\": \"/var/run/netns/web\"},\n"
        "      {\"type\": \"ipc\"},\n"
        "      {\"type\": \"uts\"},\n"
        "      {\"type\": \"mount\"},\n"
        "      {\"type\": \"user\"},\n"
        "      {\"type\": \"cgroup\"},\n"
        "      {\"type\": \"time\"}\n"
        "    ],\n"
        "    \"devices\": [\n"
        "      {\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438, \"uid\": 0, \"gid\": 0},\n"
        "      {\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 0},\n"
        "      {\"path\": \"/dev/fifo\", \"type\": \"p\", \"major\": 0, \"minor\": 0}\n"
        "    ],\n"
        "    \"seccomp\": {\n"
        "      \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
        "      \"defaultErrnoRet\": 1,\n"
        "      \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
        "      \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
        "      \"listenerPath\": \"/run/seccomp.sock\",\n"
        "      \"listenerMetadata\": \"meta\",\n"
        "      \"syscalls\": [\n"
        "        {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
        "        {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38,\n"
        "         \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 18446744073709551615, \"valueTwo\": 4, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}\n"
        "      ]\n"
        "    },\n"
        "    \"rootfsPropagation\": \"rslave\",\n"
        "    \"maskedPaths\": [\"/proc/kcore\", \"/sys/firmware\"],\n"
        "    \"readonlyPaths\": [\"/proc/sys\"],\n"
        "    \"mountLabel\": \"system_u:object_r:container_file_t:s0\",\n"
        "    \"intelRdt\": {\"closID\": \"guaranteed_group\", \"l3CacheSchema\": \"L3:0=7f0\"},\n"
        "    \"personality\": {\"domain\": \"LINUX32\", \"flags\": []},\n"
        "    \"timeOffsets\": {\"monotonic\": {\"secs\": 1, \"nanosecs\": 2}}\n"
        "  }\n"
        "}\n";

static struct spec_config *parse_ok(const char *text)
{
        struct spec_config *c = NULL;
        struct rv_error *err = NULL;

        if (spec_config_parse(text, strlen(text), &c, &err) < 0)
                fail_msg("parse failed: %s", err->msg);
        assert_non_null(c);
        return c;
}

static char *to_json(const struct spec_config *c, const char *indent)
{
        struct rv_error *err = NULL;
        char *out = NULL;

        if (spec_config_to_json(c, indent, &out, &err) < 0)
                fail_msg("to_json failed: %s", err->msg);
        return out;
}

/* The text as compact JSON, members in their given order. */
static char *canonical(const char *text)
{
        struct json_value *v = NULL;
        struct rv_error *err = NULL;
        char *out = NULL;

        assert_int_equal(json_parse(text, strlen(text), &v, &err), 0);
        assert_int_equal(json_value_to_text(v, &out, &err), 0);
        json_value_free(v);
        return out;
}

static void test_rich_round_trip(void **state)
{
        struct spec_config *c = parse_ok(rich_config), *c2;
        struct rv_error *err = NULL;
        char *out, *out2, *canon, *pretty, *pretty2;

        assert_int_equal(spec_config_validate(c, &err), 0);
        assert_null(err);

        /* Nothing was lost: the regenerated JSON is the input itself. */
        out = to_json(c, NULL);
        canon = canonical(rich_config);
        assert_string_equal(out, canon);

        /* parse(write(c)) == c, compact and pretty */
        c2 = parse_ok(out);
        out2 = to_json(c2, NULL);
        assert_string_equal(out, out2);
        pretty = to_json(c2, "\t");
        assert_null(strchr(out, '\n'));
        assert_true(pretty[strlen(pretty) - 1] == '}');
        spec_config_free(c2);
        c2 = parse_ok(pretty);
        pretty2 = to_json(c2, "\t");
        assert_string_equal(pretty, pretty2);

        /* spot checks on the structs */
        assert_string_equal(c->oci_version, "1.1.0");
        assert_true(c->has_root && c->root.readonly);
        assert_int_equal(c->n_mounts, 3);
        assert_non_null(c->mounts[2].options);
        assert_null(c->mounts[2].options[0]);
        assert_null(c->mounts[2].type);
        assert_int_equal(c->mounts[1].uid_mappings[0].host_id, 100000);
        assert_true(c->process.terminal);
        assert_int_equal(c->process.console_size.width, 80);
        assert_int_equal(c->process.user.n_additional_gids, 2);
        assert_true(c->process.user.additional_gids[1] == UINT32_MAX);
        assert_true(c->process.user.has_umask);
        assert_int_equal(c->process.user.umask, 18);
        assert_true(c->process.rlimits[0].hard == UINT64_MAX);
        assert_true(c->process.has_oom_score_adj);
        assert_int_equal(c->process.oom_score_adj, -1000);
        assert_null(c->process.capabilities.inheritable[0]);
        assert_string_equal(c->process.io_priority.class_, "IOPRIO_CLASS_BE");
        assert_int_equal(c->process.scheduler.nice, -5);
        assert_int_equal(c->hooks.prestart.hooks[0].timeout, 5);
        assert_int_equal(c->hooks.poststart.n, 2);
        assert_false(c->hooks.poststart.hooks[0].has_timeout);
        assert_true(c->linux_.resources.memory.swap == -1);
        assert_true(c->linux_.resources.cpu.quota == 150000);
        assert_true(c->linux_.resources.block_io.throttle_write_bps_device[0].rate == UINT64_MAX);
        assert_int_equal(c->linux_.resources.block_io.weight_device[0].leaf_weight, 65535);
        assert_false(c->linux_.resources.block_io.weight_device[1].has_weight);
        assert_true(c->linux_.resources.devices[2].major == -1);
        assert_string_equal(c->linux_.resources.rdma_raw[0].key, "mlx5_1");
        assert_string_equal(c->linux_.resources.rdma_raw[0].value, "{\"hcaHandles\":3,\"hcaObjects\":10000}");
        assert_int_equal(c->linux_.n_other, 3);
        assert_string_equal(c->linux_.other[2].key, "timeOffsets");
        assert_true(c->linux_.seccomp.syscalls[1].args[1].value == UINT64_MAX);
        assert_true(c->linux_.seccomp.syscalls[1].args[1].has_value_two);
        assert_false(c->linux_.seccomp.syscalls[1].args[0].has_value_two);
        assert_string_equal(spec_config_namespace(c, "network")->path, "/var/run/netns/web");
        assert_null(spec_config_namespace(c, "nope"));
        assert_string_equal(spec_config_annotation(c, "org.runvm.vm.memory_mib"), "512");
        assert_null(spec_config_annotation(c, "nope"));

        free(out);
        free(out2);
        free(canon);
        free(pretty);
        free(pretty2);
        spec_config_free(c2);
        spec_config_free(c);
        spec_config_free(NULL);
}

static void test_minimal_and_nulls(void **state)
{
        /* null is absent, unknown keys are ignored, process/root optional */
        struct spec_config *c = parse_ok(
                "{\"ociVersion\": \"1.0.2\", \"hostname\": null, \"process\": null, \"root\": null,"
                " \"unknown\": {\"deep\": [1]}, \"linux\": {\"namespaces\": null, \"whatever\": 1}}");
        char *out;

        assert_null(c->hostname);
        assert_false(c->has_process);
        assert_false(c->has_root);
        assert_true(c->linux_.has);
        assert_int_equal(c->linux_.n_namespaces, 0);
        out = to_json(c, NULL);
        assert_string_equal(out, "{\"ociVersion\":\"1.0.2\",\"linux\":{}}");
        free(out);
        spec_config_free(c);
}

struct error_case {
        const char *json;
        const char *msg;
};

static void test_type_errors(void **state)
{
        static const struct error_case cases[] = {
                { "[]", "expected a JSON object" },
                { "{}", "`ociVersion`: missing" },
                { "{\"ociVersion\": 1}", "`ociVersion`: expected a string" },
                { "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"a\", \"b\", 3]}}",
                  "`process.args[2]`: expected a string" },
                { "{\"ociVersion\": \"1\", \"process\": 3}", "`process`: expected an object" },
                { "{\"ociVersion\": \"1\", \"process\": {\"terminal\": \"yes\"}}",
                  "`process.terminal`: expected a boolean" },
                { "{\"ociVersion\": \"1\", \"process\": {\"user\": {\"uid\": -1}}}",
                  "`process.user.uid`: integer -1 out of range [0, 4294967295]" },
                { "{\"ociVersion\": \"1\", \"process\": {\"user\": {\"additionalGids\": [1, \"x\"]}}}",
                  "`process.user.additionalGids[1]`: expected an integer" },
                { "{\"ociVersion\": \"1\", \"process\": {\"rlimits\": [{\"type\": \"RLIMIT_CPU\", \"hard\": 1.5}]}}",
                  "`process.rlimits[0].hard`: expected an integer, got 1.5" },
                { "{\"ociVersion\": \"1\", \"process\": {\"rlimits\": [{\"hard\": 1}]}}",
                  "`process.rlimits[0].type`: missing" },
                { "{\"ociVersion\": \"1\", \"process\": {\"capabilities\": {\"ambient\": \"CAP_KILL\"}}}",
                  "`process.capabilities.ambient`: expected an array of strings" },
                { "{\"ociVersion\": \"1\", \"process\": {\"oomScoreAdj\": 2147483648}}",
                  "`process.oomScoreAdj`: integer 2147483648 out of range [-2147483648, 2147483647]" },
                { "{\"ociVersion\": \"1\", \"process\": {\"scheduler\": {\"nice\": 1}}}",
                  "`process.scheduler.policy`: missing" },
                { "{\"ociVersion\": \"1\", \"root\": {\"readonly\": true}}", "`root.path`: missing" },
                { "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\", \"readonly\": 1}}",
                  "`root.readonly`: expected a boolean" },
                { "{\"ociVersion\": \"1\", \"mounts\": {}}", "`mounts`: expected an array" },
                { "{\"ociVersion\": \"1\", \"mounts\": [\"x\"]}", "`mounts[0]`: expected an object" },
                { "{\"ociVersion\": \"1\", \"mounts\": [{\"destination\": \"/a\"}, {\"destination\": \"/b\", \"options\": [\"ro\", 1]}]}",
                  "`mounts[1].options[1]`: expected a string" },
                { "{\"ociVersion\": \"1\", \"mounts\": [{\"destination\": \"/a\"}, {\"destination\": \"/b\", \"options\": [false]}]}",
                  "`mounts[1].options[0]`: expected a string" },
                { "{\"ociVersion\": \"1\", \"mounts\": [{\"type\": \"bind\"}]}", "`mounts[0].destination`: missing" },
                { "{\"ociVersion\": \"1\", \"mounts\": [{\"destination\": \"/a\", \"uidMappings\": [{\"size\": \"1\"}]}]}",
                  "`mounts[0].uidMappings[0].size`: expected an integer" },
                { "{\"ociVersion\": \"1\", \"hooks\": {\"prestart\": [{\"path\": \"/x\", \"timeout\": \"5\"}]}}",
                  "`hooks.prestart[0].timeout`: expected an integer" },
                { "{\"ociVersion\": \"1\", \"hooks\": {\"poststop\": [{\"args\": []}]}}",
                  "`hooks.poststop[0].path`: missing" },
                { "{\"ociVersion\": \"1\", \"annotations\": {\"a\": 1}}", "`annotations.a`: expected a string" },
                { "{\"ociVersion\": \"1\", \"annotations\": []}", "`annotations`: expected an object" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": 4}]}}",
                  "`linux.namespaces[3].type`: expected a string" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
                  "`linux.resources.memory.limit`: expected an integer" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"memory\": {\"swappiness\": -1}}}}",
                  "`linux.resources.memory.swappiness`: integer -1 out of range [0, 18446744073709551615]" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"cpu\": {\"cpus\": 1}}}}",
                  "`linux.resources.cpu.cpus`: expected a string" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"blockIO\": {\"weight\": 65536}}}}",
                  "`linux.resources.blockIO.weight`: integer 65536 out of range [0, 65535]" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"blockIO\": {\"throttleReadBpsDevice\": [{\"rate\": -5}]}}}}",
                  "`linux.resources.blockIO.throttleReadBpsDevice[0].rate`: integer -5 out of range [0, 18446744073709551615]" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"devices\": [{\"allow\": \"no\"}]}}}",
                  "`linux.resources.devices[0].allow`: expected a boolean" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"hugepageLimits\": [{\"limit\": 1}]}}}",
                  "`linux.resources.hugepageLimits[0].pageSize`: missing" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"network\": {\"priorities\": [{\"name\": \"e\", \"priority\": -1}]}}}}",
                  "`linux.resources.network.priorities[0].priority`: integer -1 out of range [0, 4294967295]" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"rdma\": {\"mlx\": 1}}}}",
                  "`linux.resources.rdma.mlx`: expected an object" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"unified\": {\"memory.max\": 5}}}}",
                  "`linux.resources.unified.memory.max`: expected a string" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"devices\": [{\"path\": \"/dev/x\"}]}}",
                  "`linux.devices[0].type`: missing" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"fileMode\": -1}]}}",
                  "`linux.devices[0].fileMode`: integer -1 out of range [0, 4294967295]" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"seccomp\": {\"syscalls\": []}}}",
                  "`linux.seccomp.defaultAction`: missing" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1.5, \"op\": \"SCMP_CMP_EQ\"}]}]}}}",
                  "`linux.seccomp.syscalls[0].args[0].value`: expected an integer, got 1.5" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"sysctl\": {\"a\": true}}}", "`linux.sysctl.a`: expected a string" },
                { "{\"ociVersion\": \"1\", \"linux\": {\"maskedPaths\": [\"/a\", null]}}",
                  "`linux.maskedPaths[1]`: expected a string" },
                { "{\"ociVersion\": \"1\", \"linux\": 0}", "`linux`: expected an object" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct spec_config *c = NULL;
                struct rv_error *err = NULL;

                if (spec_config_parse(cases[i].json, strlen(cases[i].json), &c, &err) == 0)
                        fail_msg("case %zu parsed: %s", i, cases[i].json);
                assert_null(c);
                assert_non_null(err);
                if (strcmp(err->msg, cases[i].msg) != 0)
                        fail_msg("case %zu: got \"%s\", want \"%s\"", i, err->msg, cases[i].msg);
                assert_int_equal(err->status, EINVAL);
                rv_error_free(err);
        }
}

static void test_parse_file(void **state)
{
        char path[] = "/tmp/test-spec-XXXXXX";
        struct spec_config *c = NULL;
        struct spec_process p;
        struct rv_error *err = NULL;
        char *expect = NULL;
        int fd;

        assert_int_equal(spec_config_parse_file("/nonexistent-runvm/config.json", &c, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->status, ENOENT);
        assert_string_equal(err->msg, "open `/nonexistent-runvm/config.json`: no such file or directory");
        rv_error_release(&err);

        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "{\"ociVersion\": ", 15), 15);
        close(fd);
        assert_int_equal(spec_config_parse_file(path, &c, &err), -1);
        assert_int_equal(err->status, EINVAL);
        assert_true(asprintf(&expect, "parse `%s`: ", path) > 0);
        assert_memory_equal(err->msg, expect, strlen(expect));
        assert_null(strchr(err->msg, '\n'));
        rv_error_release(&err);

        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, rich_config, strlen(rich_config)), (ssize_t) strlen(rich_config));
        close(fd);
        assert_int_equal(spec_config_parse_file(path, &c, &err), 0);
        assert_string_equal(c->hostname, "web");
        spec_config_free(c);

        /* a process.json for exec */
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        dprintf(fd, "{\"args\": [\"ls\", 5], \"cwd\": \"/\"}");
        close(fd);
        memset(&p, 0x5a, sizeof(p));
        assert_int_equal(spec_process_parse_file(path, &p, &err), -1);
        free(expect);
        assert_true(asprintf(&expect, "parse `%s`: `args[1]`: expected a string", path) > 0);
        assert_string_equal(err->msg, expect);
        rv_error_release(&err);

        fd = open(path, O_WRONLY | O_TRUNC);
        dprintf(fd, "{\"terminal\": true, \"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", \"env\": [\"A=b\"],"
                    " \"user\": {\"uid\": 5, \"gid\": 6}, \"capabilities\": {\"bounding\": [\"CAP_KILL\"]}}");
        close(fd);
        assert_int_equal(spec_process_parse_file(path, &p, &err), 0);
        assert_true(p.terminal);
        assert_string_equal(p.args[1], "-l");
        assert_int_equal(p.user.uid, 5);
        assert_int_equal(spec_process_validate(&p, &err), 0);
        {
                struct json_writer *w = json_writer_new(NULL);
                char *out = NULL;
                spec_process_write(w, &p);
                assert_int_equal(json_writer_finish(w, &out, NULL, &err), 0);
                assert_string_equal(out,
                        "{\"terminal\":true,\"user\":{\"uid\":5,\"gid\":6},\"args\":[\"ls\",\"-l\"],"
                        "\"env\":[\"A=b\"],\"cwd\":\"/tmp\",\"capabilities\":{\"bounding\":[\"CAP_KILL\"]}}");
                free(out);
                json_writer_free(w);
        }
        free(p.cwd);
        p.cwd = strdup("tmp");
        assert_int_equal(spec_process_validate(&p, &err), -1);
        assert_string_equal(err->msg, "`cwd`: `tmp` is not an absolute path");
        rv_error_release(&err);
        spec_process_clear(&p);
        spec_process_clear(&p);
        unlink(path);
        free(expect);
}

static void test_resources_alone(void **state)
{
        static const char text[] = "{\"memory\": {\"limit\": 1073741824, \"swap\": -1}, \"cpu\": {\"quota\": 50000,"
                                   " \"period\": 100000}, \"pids\": {\"limit\": 10}, \"unknown\": 1}";
        struct spec_resources r;
        struct json_value *v = NULL;
        struct json_writer *w;
        struct rv_error *err = NULL;
        char *out = NULL;

        assert_int_equal(json_parse(text, strlen(text), &v, &err), 0);
        assert_int_equal(spec_resources_from_json(v, NULL, &r, &err), 0);
        json_value_free(v);
        assert_true(r.has && r.memory.has_limit && r.cpu.has_quota && r.has_pids);
        assert_true(r.memory.limit == 1073741824);
        w = json_writer_new(NULL);
        spec_resources_write(w, &r);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), 0);
        assert_string_equal(out, "{\"memory\":{\"limit\":1073741824,\"swap\":-1},"
                                 "\"cpu\":{\"quota\":50000,\"period\":100000},\"pids\":{\"limit\":10}}");
        free(out);
        json_writer_free(w);
        spec_resources_clear(&r);
        spec_resources_clear(&r);

        assert_int_equal(json_parse("{\"memory\": {\"limit\": \"1G\"}}", 27, &v, &err), 0);
        memset(&r, 0x5a, sizeof(r));
        assert_int_equal(spec_resources_from_json(v, NULL, &r, &err), -1);
        assert_string_equal(err->msg, "`memory.limit`: expected an integer");
        rv_error_release(&err);
        json_value_free(v);
        assert_int_equal(json_parse("[]", 2, &v, &err), 0);
        assert_int_equal(spec_resources_from_json(v, "resources", &r, &err), -1);
        assert_string_equal(err->msg, "`resources`: expected an object");
        rv_error_release(&err);
        json_value_free(v);
}

#define BASE "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"}, " \
             "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"

static void test_validate(void **state)
{
        static const struct error_case cases[] = {
                { "{\"ociVersion\": \"\"}", "`ociVersion`: missing" },
                { "{\"ociVersion\": \"1.1.0\"}", "`root.path`: missing" },
                { "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"\"}}", "`root.path`: must not be empty" },
                { BASE ", \"mounts\": [{\"destination\": \"/ok\"}, {\"destination\": \"rel/x\"}]}",
                  "`mounts[1].destination`: `rel/x` is not an absolute path" },
                { BASE ", \"process\": {\"cwd\": \"/\"}}", "`process.args`: must not be empty" },
                { BASE ", \"process\": {\"args\": [], \"cwd\": \"/\"}}", "`process.args`: must not be empty" },
                { BASE ", \"process\": {\"args\": [\"sh\"]}}", "`process.cwd`: missing" },
                { BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"tmp\"}}",
                  "`process.cwd`: `tmp` is not an absolute path" },
                { BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_FOO\"}]}}",
                  "`process.rlimits[0].type`: unknown rlimit `RLIMIT_FOO`" },
                { BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\"}, {\"type\": \"RLIMIT_NOFILE\"}]}}",
                  "`process.rlimits[1].type`: duplicate `RLIMIT_NOFILE`" },
                { BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_X\"}}}",
                  "`process.ioPriority.class`: unknown class `IOPRIO_CLASS_X`" },
                { BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"scheduler\": {\"policy\": \"SCHED_X\"}}}",
                  "`process.scheduler.policy`: unknown policy `SCHED_X`" },
                { BASE ", \"hooks\": {\"prestart\": [{\"path\": \"hook\"}]}}",
                  "`hooks.prestart[0].path`: `hook` is not an absolute path" },
                { BASE ", \"hooks\": {\"poststop\": [{\"path\": \"/a\"}, {\"path\": \"/hook\", \"timeout\": 0}]}}",
                  "`hooks.poststop[1].timeout`: must be greater than zero" },
                { BASE ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"net\"}]}}",
                  "`linux.namespaces[1].type`: unknown namespace type `net`" },
                { BASE ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"pid\"}]}}",
                  "`linux.namespaces[2].type`: duplicate namespace `pid`" },
                { BASE ", \"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"netns\"}]}}",
                  "`linux.namespaces[0].path`: `netns` is not an absolute path" },
                { BASE ", \"linux\": {\"devices\": [{\"path\": \"/dev/a\", \"type\": \"x\"}]}}",
                  "`linux.devices[0].type`: unknown device type `x`" },
                { BASE ", \"linux\": {\"devices\": [{\"path\": \"/dev/a\", \"type\": \"c\"}, {\"path\": \"dev/b\", \"type\": \"b\"}]}}",
                  "`linux.devices[1].path`: `dev/b` is not an absolute path" },
                { BASE ", \"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"z\"}]}}}",
                  "`linux.resources.devices[0].type`: unknown device type `z`" },
                { BASE ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOPE\"}}}",
                  "`linux.seccomp.defaultAction`: unknown action `SCMP_ACT_NOPE`" },
                { BASE ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"action\": \"ALLOW\"}]}}}",
                  "`linux.seccomp.syscalls[0].action`: unknown action `ALLOW`" },
                { BASE ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_LOG\"}]}}}",
                  "`linux.seccomp.syscalls[0].names`: must not be empty" },
                { BASE ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"action\": \"SCMP_ACT_KILL\", \"args\": [{\"op\": \"SCMP_CMP_EQ\"}, {\"op\": \"EQ\"}]}]}}}",
                  "`linux.seccomp.syscalls[0].args[1].op`: unknown operator `EQ`" },
                { BASE ", \"linux\": {\"rootfsPropagation\": \"sideways\"}}",
                  "`linux.rootfsPropagation`: unknown propagation `sideways`" },
                { BASE ", \"linux\": {\"maskedPaths\": [\"/a\", \"b\"]}}",
                  "`linux.maskedPaths[1]`: `b` is not an absolute path" },
                { BASE ", \"linux\": {\"readonlyPaths\": [\"c\"]}}",
                  "`linux.readonlyPaths[0]`: `c` is not an absolute path" },
        };
        static const char *const ok[] = {
                BASE "}",
                "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"}}",
                BASE ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
                     " {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}, {\"type\": \"cgroup\"},"
                     " {\"type\": \"time\"}], \"devices\": [{\"path\": \"/dev/u\", \"type\": \"u\"},"
                     " {\"path\": \"/dev/p\", \"type\": \"p\"}], \"rootfsPropagation\": \"\"}}",
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct spec_config *c = parse_ok(cases[i].json);
                struct rv_error *err = NULL;

                if (spec_config_validate(c, &err) == 0)
                        fail_msg("case %zu validated: %s", i, cases[i].json);
                if (strcmp(err->msg, cases[i].msg) != 0)
                        fail_msg("case %zu: got \"%s\", want \"%s\"", i, err->msg, cases[i].msg);
                assert_int_equal(err->status, EINVAL);
                rv_error_free(err);
                spec_config_free(c);
        }
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                struct spec_config *c = parse_ok(ok[i]);
                struct rv_error *err = NULL;

                if (spec_config_validate(c, &err) < 0)
                        fail_msg("ok case %zu: %s", i, err->msg);
                spec_config_free(c);
        }
}

/* Every action and operator of the runtime-spec is accepted. */
static void test_validate_seccomp_sets(void **state)
{
        static const char *const actions[] = {
                "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
        };
        static const char *const ops[] = {
                "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
        };

        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
                for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
                        char *json = NULL;
                        struct spec_config *c;
                        struct rv_error *err = NULL;

                        assert_true(asprintf(&json, BASE ", \"linux\": {\"seccomp\": {\"defaultAction\": \"%s\","
                                             " \"syscalls\": [{\"names\": [\"x\"], \"action\": \"%s\","
                                             " \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"%s\"}]}]}}}",
                                             actions[i], actions[i], ops[j]) > 0);
                        c = parse_ok(json);
                        if (spec_config_validate(c, &err) < 0)
                                fail_msg("%s: %s", json, err->msg);
                        spec_config_free(c);
                        free(json);
                }
}

static void test_default_config(void **state)
{
        struct rv_error *err = NULL;
        struct spec_config *c;
        char *text = NULL, *again;

        assert_int_equal(spec_default_config_json(false, &text, &err), 0);
        assert_true(strncmp(text, "{\n\t\"ociVersion\": \"" SPEC_OCI_VERSION "\",\n\t\"process\": {\n", 37) == 0);
        assert_true(text[strlen(text) - 1] == '}');
        c = parse_ok(text);
        assert_int_equal(spec_config_validate(c, &err), 0);
        assert_true(c->process.terminal);
        assert_string_equal(c->process.args[0], "sh");
        assert_null(c->process.args[1]);
        assert_string_equal(c->process.env[1], "TERM=xterm");
        assert_string_equal(c->process.capabilities.ambient[2], "CAP_NET_BIND_SERVICE");
        assert_null(c->process.capabilities.inheritable);
        assert_int_equal(c->process.rlimits[0].hard, 1024);
        assert_true(c->process.no_new_privileges);
        assert_string_equal(c->root.path, "rootfs");
        assert_true(c->root.readonly);
        assert_string_equal(c->hostname, "runvm");
        assert_int_equal(c->n_mounts, 7);
        assert_string_equal(c->mounts[6].destination, "/sys/fs/cgroup");
        assert_string_equal(c->mounts[2].options[5], "gid=5");
        assert_int_equal(c->linux_.n_namespaces, 5);
        assert_non_null(spec_config_namespace(c, "network"));
        assert_null(spec_config_namespace(c, "user"));
        assert_int_equal(c->linux_.resources.n_devices, 1);
        assert_false(c->linux_.resources.devices[0].allow);
        assert_string_equal(c->linux_.resources.devices[0].access, "rwm");
        assert_string_equal(c->linux_.masked_paths[9], "/proc/scsi");
        assert_string_equal(c->linux_.readonly_paths[4], "/proc/sysrq-trigger");
        again = to_json(c, "\t");
        assert_string_equal(text, again);
        /* runc's exact shape for a mount and the device rule */
        assert_non_null(strstr(text, "\t\t{\n\t\t\t\"destination\": \"/proc\",\n\t\t\t\"type\": \"proc\",\n"
                                     "\t\t\t\"source\": \"proc\"\n\t\t},\n"));
        assert_non_null(strstr(text, "\"devices\": [\n\t\t\t\t{\n\t\t\t\t\t\"allow\": false,\n"
                                     "\t\t\t\t\t\"access\": \"rwm\"\n\t\t\t\t}\n\t\t\t]"));
        free(again);
        free(text);
        spec_config_free(c);

        assert_int_equal(spec_default_config_json(true, &text, &err), 0);
        c = parse_ok(text);
        assert_int_equal(spec_config_validate(c, &err), 0);
        assert_non_null(spec_config_namespace(c, "user"));
        assert_null(spec_config_namespace(c, "network"));
        assert_int_equal(c->linux_.n_uid_mappings, 1);
        assert_int_equal(c->linux_.uid_mappings[0].host_id, geteuid());
        assert_int_equal(c->linux_.gid_mappings[0].host_id, getegid());
        assert_false(c->linux_.resources.has);
        assert_string_equal(c->mounts[5].type, "none");
        assert_string_equal(c->mounts[5].options[0], "rbind");
        assert_null(c->mounts[2].options[5]);
        free(text);
        spec_config_free(c);
}

static char *write_state(bool full, const struct spec_state *s, const char *indent)
{
        struct json_writer *w = json_writer_new(indent);
        struct rv_error *err = NULL;
        char *out = NULL;

        if (full)
                spec_state_write_full(w, s);
        else
                spec_state_write_hook(w, s);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), 0);
        json_writer_free(w);
        return out;
}

static void test_state(void **state)
{
        struct spec_string_pair ann[] = { { .key = "a", .value = "b" } };
        struct spec_state s = {
                .oci_version = "1.1.0", .id = "web", .status = "running", .pid = 42,
                .bundle = "/b", .rootfs = "/b/rootfs", .created = "2026-11-23T16:18:34.123456789Z",
                .owner = "",
        };
        char *out;

        out = write_state(true, &s, "  ");
        assert_string_equal(out,
                "{\n  \"ociVersion\": \"1.1.0\",\n  \"id\": \"web\",\n  \"pid\": 42,\n"
                "  \"status\": \"running\",\n  \"bundle\": \"/b\",\n  \"rootfs\": \"/b/rootfs\",\n"
                "  \"created\": \"2026-11-23T16:18:34.123456789Z\",\n  \"owner\": \"\"\n}");
        free(out);
        out = write_state(false, &s, NULL);
        assert_string_equal(out,
                "{\"ociVersion\":\"1.1.0\",\"id\":\"web\",\"status\":\"running\",\"pid\":42,\"bundle\":\"/b\"}");
        free(out);

        s.pid = 0;
        s.status = "stopped";
        s.annotations = ann;
        s.n_annotations = 1;
        out = write_state(true, &s, "  ");
        assert_string_equal(out,
                "{\n  \"ociVersion\": \"1.1.0\",\n  \"id\": \"web\",\n  \"pid\": 0,\n"
                "  \"status\": \"stopped\",\n  \"bundle\": \"/b\",\n  \"rootfs\": \"/b/rootfs\",\n"
                "  \"created\": \"2026-11-23T16:18:34.123456789Z\",\n  \"annotations\": {\n"
                "    \"a\": \"b\"\n  },\n  \"owner\": \"\"\n}");
        free(out);
        out = write_state(false, &s, NULL);
        assert_string_equal(out,
                "{\"ociVersion\":\"1.1.0\",\"id\":\"web\",\"status\":\"stopped\",\"bundle\":\"/b\","
                "\"annotations\":{\"a\":\"b\"}}");
        free(out);
}

static void test_mount_destination_is(void **state)
{
        struct spec_mount m = { 0 };
        static const char *const yes[] = { "/dev/shm", "//dev/shm/", "/dev//shm", "dev/shm" };
        static const char *const no[] = { "/dev/shmx", "/dev", "/dev/shm/x", "/devx/shm", "" };

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                m.destination = (char *) yes[i];
                assert_true(spec_mount_destination_is(&m, "/dev/shm"));
        }
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
                m.destination = (char *) no[i];
                assert_false(spec_mount_destination_is(&m, "/dev/shm"));
        }
        m.destination = "/dev/";
        assert_true(spec_mount_destination_is(&m, "/dev"));
        m.destination = NULL;
        assert_false(spec_mount_destination_is(&m, "/dev"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rich_round_trip),
                cmocka_unit_test(test_minimal_and_nulls),
                cmocka_unit_test(test_type_errors),
                cmocka_unit_test(test_parse_file),
                cmocka_unit_test(test_resources_alone),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_validate_seccomp_sets),
                cmocka_unit_test(test_default_config),
                cmocka_unit_test(test_state),
                cmocka_unit_test(test_mount_destination_is),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
