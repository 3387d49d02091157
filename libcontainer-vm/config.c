/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "libcontainer-vm/pod-slots.h"
#include "vm/vm.h"

#define SYSTEM_CONFIG "/etc/runvm/runvm.conf"

/* The guest files: next to the binary when run from the build tree
 * (build/bin/runvm -> build/guest), else PREFIX/share/runvm. */
static char *guest_file(const char *name)
{
        char exe[PATH_MAX], *path = NULL;
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

        if (n > 0) {
                exe[n] = '\0';
                char *dir = dirname(exe);
                if (asprintf(&path, "%s/../guest/%s", dir, name) >= 0) {
                        if (access(path, R_OK) == 0) {
                                char *real = realpath(path, NULL);
                                if (real) {
                                        free(path);
                                        return real;
                                }
                        }
                        free(path);
                        path = NULL;
                }
        }
        if (asprintf(&path, "%s/share/runvm/%s", RUNVM_PREFIX, name) < 0)
                return NULL;
        return path;
}

static int set_string(char **field, const char *value)
{
        char *s = strdup(value);
        if (s == NULL)
                return -1;
        free(*field);
        *field = s;
        return 0;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *ret)
{
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || end == v || *end || n < min || n > max)
                return -1;
        *ret = (unsigned) n;
        return 0;
}

static int apply_key(struct runvm_config *c, const char *key, const char *value)
{
        unsigned u;

        if (strcmp(key, "hypervisor") == 0) {
                const struct vm_driver *d = vm_driver_find(value);
                if (d == NULL)
                        return -1;
                c->driver = d;
                return 0;
        }
        if (strcmp(key, "qemu") == 0)
                return set_string(&c->qemu_path, value);
        if (strcmp(key, "virtiofsd") == 0)
                return set_string(&c->virtiofsd_path, value);
        if (strcmp(key, "kernel") == 0)
                return set_string(&c->kernel, value);
        if (strcmp(key, "initrd") == 0)
                return set_string(&c->initrd, value);
        if (strcmp(key, "kernel_params") == 0)
                return set_string(&c->kernel_params, value);
        if (strcmp(key, "privileged_host_devices") == 0) {
                if (strcmp(value, "true") == 0)
                        c->privileged_host_devices = true;
                else if (strcmp(value, "false") == 0)
                        c->privileged_host_devices = false;
                else
                        return -1;
                return 0;
        }
        if (strcmp(key, "accel") == 0) {
                if (strcmp(value, "auto") == 0)
                        c->accel = RUNVM_ACCEL_AUTO;
                else if (strcmp(value, "kvm") == 0)
                        c->accel = RUNVM_ACCEL_KVM;
                else if (strcmp(value, "tcg") == 0)
                        c->accel = RUNVM_ACCEL_TCG;
                else
                        return -1;
                return 0;
        }
        /* memory_mib: the key's name before default_vcpus had a sibling. */
        if (strcmp(key, "default_memory_mib") == 0 || strcmp(key, "memory_mib") == 0)
                return parse_uint(value, VM_MIN_MEMORY_MIB, 1u << 22, &c->default_memory_mib);
        if (strcmp(key, "boot_memory_mib") == 0)
                return parse_uint(value, 0, 1u << 22, &c->boot_memory_mib);
        if (strcmp(key, "base_memory_mib") == 0)
                return parse_uint(value, 0, 1u << 20, &c->base_memory_mib);
        if (strcmp(key, "overhead_memory_mib") == 0)
                return parse_uint(value, 0, 1u << 20, &c->overhead_memory_mib);
        if (strcmp(key, "default_vcpus") == 0)
                return parse_uint(value, 0, 512, &c->default_vcpus);
        if (strcmp(key, "max_vcpus") == 0)
                return parse_uint(value, 1, 512, &c->max_vcpus);
        if (strcmp(key, "boot_timeout_ms") == 0) {
                if (parse_uint(value, 100, 3600000, &u) < 0)
                        return -1;
                c->boot_timeout_ms = (int) u;
                return 0;
        }
        if (strcmp(key, "kvm_probe_timeout_ms") == 0) {
                if (parse_uint(value, 100, 600000, &u) < 0)
                        return -1;
                c->kvm_probe_timeout_ms = (int) u;
                return 0;
        }
        /* Checked but unused: the VM is killed after the exit (README). */
        if (strcmp(key, "shutdown_timeout_ms") == 0)
                return parse_uint(value, 0, 600000, &u);
        /* Each idle VM costs its QEMU's memory: bounded, and off by default. */
        if (strcmp(key, "warm_pool") == 0)
                return parse_uint(value, 0, 64, &c->warm_pool);
        /* Each a container's memory limit in MiB: "256 512" or "256,512". */
        if (strcmp(key, "warm_pool_limits_mib") == 0) {
                _cleanup_free_ char *copy = strdup(value);
                char *save = NULL;
                if (copy == NULL)
                        return -1;
                c->n_warm_pool_limits = 0;
                for (char *t = strtok_r(copy, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
                        if (c->n_warm_pool_limits == RUNVM_POOL_MAX_LIMITS ||
                            parse_uint(t, 1, 1u << 22, &c->warm_pool_limits_mib[c->n_warm_pool_limits]) < 0)
                                return -1;
                        c->n_warm_pool_limits++;
                }
                return 0;
        }
        if (strcmp(key, "pod_disk_slots") == 0)
                return parse_uint(value, 0, VM_MAX_HOTPLUG_SLOTS, &c->pod_disk_slots);
        if (strcmp(key, "tcg_tb_size_mib") == 0)
                /* Never QEMU's unbounded default: overhead_memory_mib must cover it. */
                return parse_uint(value, 1, 1024, &c->tcg_tb_size_mib);
        errno = ENOENT;
        return -1;
}

static char *trim(char *s)
{
        while (isspace((unsigned char) *s))
                s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = '\0';
        return s;
}

#define BOOT_MEMORY_UNSET UINT_MAX

static int load_file(struct runvm_config *c, const char *path, bool must_exist, struct rv_error **err)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[4096];
        int lineno = 0;

        if (f == NULL) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                return rv_error_set(err, errno, "open `%s`", path);
        }
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                char *s = trim(line);
                if (*s == '\0' || *s == '#')
                        continue;
                char *eq = strchr(s, '=');
                if (eq == NULL)
                        return rv_error_setx(err, EINVAL, "`%s` line %d: expected key = value", path, lineno);
                *eq = '\0';
                char *key = trim(s), *value = trim(eq + 1);
                errno = 0;
                if (apply_key(c, key, value) < 0) {
                        char names[256];
                        vm_driver_names(names, sizeof(names));
                        if (strcmp(key, "hypervisor") == 0)
                                return rv_error_setx(err, EINVAL, "`%s` line %d: unknown hypervisor `%s` for "
                                                     "key `hypervisor` (this runvm has: %s)", path, lineno,
                                                     value, names);
                        return rv_error_setx(err, EINVAL, "`%s` line %d: %s `%s`", path, lineno,
                                            errno == ENOENT ? "unknown key" : "invalid value for",
                                            key);
                }
        }
        return 0;
}

int runvm_config_load(struct runvm_config *ret, struct rv_error **err)
{
        struct runvm_config c = {
                .accel = RUNVM_ACCEL_AUTO,
                /* Untouched guest memory costs the host nothing, and freed
                 * pages go back (free page reporting): big enough that an
                 * ordinary program does not fail, as Kata's 2048. The
                 * guest's memmap for it is 32 MiB. */
                .default_memory_mib = 2048,
                .base_memory_mib = 64,
                /* QEMU, virtiofsd and the monitor besides the guest's RAM,
                 * measured under TCG (docs/RESOURCES.md): the host cgroup's
                 * memory limit is the VM's size plus this. */
                .overhead_memory_mib = 256,
                /* 0: the host's online CPUs, what a runc container sees. */
                .default_vcpus = 0,
                .max_vcpus = (unsigned) sysconf(_SC_NPROCESSORS_ONLN),
                /* A TCG guest on a loaded 2-core host can take several
                 * seconds to boot; a hung one must still fail in bounded time. */
                .boot_timeout_ms = 60000,
                /* A working KVM boots the guest in well under a second,
                 * even on a loaded host; the verdict is cached. */
                .kvm_probe_timeout_ms = 10000,
                .tcg_tb_size_mib = RUNVM_TCG_TB_SIZE_MIB,
                .pod_disk_slots = POD_HOTPLUG_SLOTS,
                .boot_memory_mib = BOOT_MEMORY_UNSET,
        };
        _cleanup_free_ char *own_kernel = guest_file("vmlinux-runvm");
        const char *env = getenv("RUNVM_CONFIG");

        c.driver = vm_driver_find("qemu");
        c.qemu_path = strdup("/usr/bin/qemu-system-x86_64");
        c.virtiofsd_path = strdup("/usr/lib/qemu/virtiofsd");
        /* The purpose-built kernel (everything built in, boots ~3x faster)
         * with its module-less initramfs when both were built; otherwise
         * Debian's kernel with the initramfs that carries its modules. */
        c.kernel = guest_file("vmlinux-runvm");
        c.initrd = guest_file("initrd-runvm.img");
        if (!c.kernel || !c.initrd || access(c.kernel, R_OK) < 0 || access(c.initrd, R_OK) < 0) {
                free(c.kernel);
                free(c.initrd);
                c.kernel = guest_file("vmlinuz");
                c.initrd = guest_file("initrd.img");
        }
        if (!c.qemu_path || !c.virtiofsd_path || !c.kernel || !c.initrd || !own_kernel) {
                runvm_config_clear(&c);
                return rv_error_set(err, ENOMEM, "load configuration");
        }
        if (load_file(&c, env && *env ? env : SYSTEM_CONFIG, env && *env, err) < 0) {
                runvm_config_clear(&c);
                return -1;
        }
        c.own_kernel = strcmp(c.kernel, own_kernel) == 0;
        /* Only runvm's kernel is known to add RAM after boot. */
        if (c.boot_memory_mib == BOOT_MEMORY_UNSET)
                c.boot_memory_mib = c.own_kernel ? RUNVM_BOOT_MEMORY_MIB : 0;
        *ret = c;
        return 0;
}

void runvm_config_clear(struct runvm_config *c)
{
        free(c->qemu_path);
        free(c->virtiofsd_path);
        free(c->kernel);
        free(c->initrd);
        free(c->kernel_params);
        memset(c, 0, sizeof(*c));
}
