/* SPDX-License-Identifier: Apache-2.0 */
/* runvm update [-r FILE|-] [--memory ...] [--cpu-quota ...] ... ID */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "main/cli.h"
#include "spec/config.h"
#include "spec/json.h"

static const struct cli_flag flags[] = {
        { "resources", "r", CLI_FLAG_STRING,
          "path to a file containing the resources to update or '-' to read from the standard input", NULL },
        { "blkio-weight", NULL, CLI_FLAG_STRING, "Specifies per cgroup weight, range is from 10 to 1000", NULL },
        { "cpu-period", NULL, CLI_FLAG_STRING, "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default", NULL },
        { "cpu-quota", NULL, CLI_FLAG_STRING, "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period", NULL },
        { "cpu-share", NULL, CLI_FLAG_STRING, "CPU shares (relative weight vs. other containers)", NULL },
        { "cpu-rt-period", NULL, CLI_FLAG_STRING, "CPU realtime period to be used for hardcapping (in usecs)", NULL },
        { "cpu-rt-runtime", NULL, CLI_FLAG_STRING, "CPU realtime hardcap limit (in usecs)", NULL },
        { "cpuset-cpus", NULL, CLI_FLAG_STRING, "CPU(s) to use", NULL },
        { "cpuset-mems", NULL, CLI_FLAG_STRING, "Memory node(s) to use", NULL },
        { "kernel-memory", NULL, CLI_FLAG_STRING, "(obsoleted; do not use)", NULL },
        { "kernel-memory-tcp", NULL, CLI_FLAG_STRING, "(obsoleted; do not use)", NULL },
        { "memory", NULL, CLI_FLAG_STRING, "Memory limit (in bytes)", NULL },
        { "memory-reservation", NULL, CLI_FLAG_STRING, "Memory reservation or soft_limit (in bytes)", NULL },
        { "memory-swap", NULL, CLI_FLAG_STRING, "Total memory usage (memory + swap); set '-1' to enable unlimited swap", NULL },
        { "pids-limit", NULL, CLI_FLAG_STRING, "Maximum number of pids allowed in the container", NULL },
        { "l3-cache-schema", NULL, CLI_FLAG_STRING, "The string of Intel RDT/CAT L3 cache schema (not supported)", NULL },
        { "mem-bw-schema", NULL, CLI_FLAG_STRING, "The string of Intel RDT/MBA memory bandwidth schema (not supported)", NULL },
};

const struct cli_flag_set cmd_update_flags = CLI_FLAG_SET(flags);

/* Docker's RAMInBytes: 512, 512k, 512m, 1g (case-insensitive, b optional);
 * -1 for unlimited. */
static int parse_bytes(const char *name, const char *s, int64_t *ret, struct rv_error **err)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        int64_t mult = 1;

        if (errno || end == s)
                goto bad;
        switch (tolower((unsigned char) *end)) {
        case 'k': mult = 1ll << 10; end++; break;
        case 'm': mult = 1ll << 20; end++; break;
        case 'g': mult = 1ll << 30; end++; break;
        case 't': mult = 1ll << 40; end++; break;
        default: break;
        }
        if (tolower((unsigned char) *end) == 'b')
                end++;
        if (*end != '\0' || (v < 0 && v != -1))
                goto bad;
        *ret = (int64_t) (v * (double) mult);
        return 0;
bad:
        return rv_error_setx(err, EINVAL, "invalid value for %s: %s", name, s);
}

static int parse_int(const char *name, const char *s, int64_t *ret, struct rv_error **err)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end)
                return rv_error_setx(err, EINVAL, "invalid value for %s: %s", name, s);
        *ret = v;
        return 0;
}

struct numeric { const char *flag, *group, *key; bool bytes; };

static const struct numeric numerics[] = {
        { "memory", "memory", "limit", true },
        { "memory-reservation", "memory", "reservation", true },
        { "memory-swap", "memory", "swap", true },
        { "kernel-memory", "memory", "kernel", true },
        { "kernel-memory-tcp", "memory", "kernelTCP", true },
        { "cpu-period", "cpu", "period", false },
        { "cpu-quota", "cpu", "quota", false },
        { "cpu-share", "cpu", "shares", false },
        { "cpu-rt-period", "cpu", "realtimePeriod", false },
        { "cpu-rt-runtime", "cpu", "realtimeRuntime", false },
        { "pids-limit", "pids", "limit", false },
        { "blkio-weight", "blockIO", "weight", false },
};

static int resources_from_flags(const struct cli_flags_result *f, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        static const char *const groups[] = { "memory", "cpu", "pids", "blockIO" };

        if (cli_flags_is_set(f, "l3-cache-schema") || cli_flags_is_set(f, "mem-bw-schema"))
                return rv_error_setx(err, ENOTSUP, "Intel RDT is not available inside a VM");
        json_write_object_begin(w);
        for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
                bool open = false;
                for (size_t i = 0; i < sizeof(numerics) / sizeof(numerics[0]); i++) {
                        const struct numeric *n = &numerics[i];
                        const char *v = cli_flags_string(f, n->flag);
                        int64_t x = 0;
                        if (strcmp(n->group, groups[g]) != 0 || v == NULL)
                                continue;
                        if ((n->bytes ? parse_bytes(n->flag, v, &x, err) : parse_int(n->flag, v, &x, err)) < 0)
                                return -1;
                        if (!open) {
                                json_write_key(w, groups[g]);
                                json_write_object_begin(w);
                                open = true;
                        }
                        json_write_key(w, n->key);
                        json_write_int64(w, x);
                }
                if (strcmp(groups[g], "cpu") == 0) {
                        const char *cpus = cli_flags_string(f, "cpuset-cpus");
                        const char *mems = cli_flags_string(f, "cpuset-mems");
                        if ((cpus || mems) && !open) {
                                json_write_key(w, "cpu");
                                json_write_object_begin(w);
                                open = true;
                        }
                        if (cpus) {
                                json_write_key(w, "cpus");
                                json_write_string(w, cpus);
                        }
                        if (mems) {
                                json_write_key(w, "mems");
                                json_write_string(w, mems);
                        }
                }
                if (open)
                        json_write_object_end(w);
        }
        json_write_object_end(w);
        return json_writer_finish(w, ret, NULL, err);
}

int cmd_update(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *json = NULL;
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        struct spec_resources r = { 0 };
        const char *file = cli_flags_string(f, "resources");
        const char *id;
        size_t len;

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (file) {
                if (rv_read_file_at(AT_FDCWD, strcmp(file, "-") == 0 ? "/dev/stdin" : file, 1 << 20,
                                    &json, &len, err) < 0)
                        return -1;
        } else if (resources_from_flags(f, &json, err) < 0) {
                return -1;
        }
        /* Refuse a malformed document here, with its JSON path. */
        if (json_parse(json, strlen(json), &v, err) < 0 ||
            spec_resources_from_json(v, "resources", &r, err) < 0)
                return -1;
        spec_resources_clear(&r);
        if (container_update(ctx, id, json, err) < 0)
                return -1;
        return 0;
}
