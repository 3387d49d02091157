/* SPDX-License-Identifier: Apache-2.0 */
/* `runvm features` (CONTRACT.md §4). Every list names only what works:
 * - hooks: all six (five on the host, startContainer in the guest);
 * - mountOptions: exactly what vm/agent/mounts.c accepts;
 * - namespaces: what vm/agent creates (the VM itself is the network
 *   namespace; the guest kernel has time namespaces);
 * - capabilities: every capability the agent's libcap (2.66) and the guest
 *   kernel (6.1) know;
 * - seccomp: the agent's libseccomp (2.5.4): its actions but NOTIFY
 *   (listenerPath is refused), all operators, every arch it resolves, the
 *   three flags it applies;
 * - cgroup v2 only, in the guest; no AppArmor, SELinux, Intel RDT or
 *   idmapped mounts. */
#include "spec/features.h"

#include <stdbool.h>
#include <string.h>
#include <stddef.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"
#include "spec/json.h"

#if __has_include(<seccomp.h>)
#include <seccomp.h>
#define FEATURES_STR_(x) #x
#define FEATURES_STR(x) FEATURES_STR_(x)
#define FEATURES_LIBSECCOMP_VERSION \
        FEATURES_STR(SCMP_VER_MAJOR) "." FEATURES_STR(SCMP_VER_MINOR) "." FEATURES_STR(SCMP_VER_MICRO)
#else
#define FEATURES_LIBSECCOMP_VERSION NULL
#endif

#ifndef RUNVM_VERSION
#define RUNVM_VERSION "unknown"
#endif
#ifndef RUNVM_COMMIT
#define RUNVM_COMMIT "unknown"
#endif

static const char *const hooks[] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* vm/agent/mounts.c: mount_flags, propagation_flags, recursive_attrs and
 * tmpcopyup; sorted as runc sorts them. */
static const char *const mount_options[] = {
        "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand",
        "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime",
        "nosuid", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount",
        "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime",
        "rnosuid", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave",
        "rstrictatime", "rsuid", "runbindable", "rw", "shared", "slave", "strictatime", "suid",
        "sync", "tmpcopyup", "unbindable",
};

static const char *const namespaces[] = {
        "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
};

/* In capability number order, as runc lists them. */
static const char *const capabilities[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

bool spec_capability_known(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(capabilities); i++)
                if (strcmp(name, capabilities[i]) == 0)
                        return true;
        return false;
}

static const char *const seccomp_actions[] = {
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};

static const char *const seccomp_operators[] = {
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
        "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

/* Every arch libseccomp 2.5.4's seccomp_arch_resolve_name() knows. */
static const char *const seccomp_archs[] = {
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
        "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
};

/* vm/agent/seccomp.c flags_apply; the guest kernel (6.1) has all three. */
static const char *const seccomp_flags[] = {
        "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
};

static void write_strings(struct json_writer *w, const char *key, const char *const *v, size_t n)
{
        json_write_key(w, key);
        json_write_array_begin(w);
        for (size_t i = 0; i < n; i++)
                json_write_string(w, v[i]);
        json_write_array_end(w);
}

#define WRITE_STRINGS(w, key, v) write_strings(w, key, v, ARRAY_SIZE(v))

static void write_enabled(struct json_writer *w, const char *key, bool enabled)
{
        json_write_key(w, key);
        json_write_object_begin(w);
        json_write_key(w, "enabled");
        json_write_bool(w, enabled);
        json_write_object_end(w);
}

static void write_bool(struct json_writer *w, const char *key, bool v)
{
        json_write_key(w, key);
        json_write_bool(w, v);
}

static void write_linux(struct json_writer *w)
{
        json_write_key(w, "linux");
        json_write_object_begin(w);
        WRITE_STRINGS(w, "namespaces", namespaces);
        WRITE_STRINGS(w, "capabilities", capabilities);

        json_write_key(w, "cgroup");
        json_write_object_begin(w);
        write_bool(w, "v1", false);
        write_bool(w, "v2", true);
        write_bool(w, "systemd", false);
        write_bool(w, "systemdUser", false);
        write_bool(w, "rdma", false);
        json_write_object_end(w);

        json_write_key(w, "seccomp");
        json_write_object_begin(w);
        write_bool(w, "enabled", true);
        WRITE_STRINGS(w, "actions", seccomp_actions);
        WRITE_STRINGS(w, "operators", seccomp_operators);
        WRITE_STRINGS(w, "archs", seccomp_archs);
        WRITE_STRINGS(w, "knownFlags", seccomp_flags);
        WRITE_STRINGS(w, "supportedFlags", seccomp_flags);
        json_write_object_end(w);

        write_enabled(w, "apparmor", false);
        write_enabled(w, "selinux", false);
        write_enabled(w, "intelRdt", false);

        json_write_key(w, "mountExtensions");
        json_write_object_begin(w);
        write_enabled(w, "idmap", false);
        json_write_object_end(w);
        json_write_object_end(w);
}

static void write_annotations(struct json_writer *w)
{
        json_write_key(w, "annotations");
        json_write_object_begin(w);
        if (FEATURES_LIBSECCOMP_VERSION != NULL) {
                json_write_key(w, "io.github.seccomp.libseccomp.version");
                json_write_string(w, FEATURES_LIBSECCOMP_VERSION);
        }
        json_write_key(w, "org.runvm.commit");
        json_write_string(w, RUNVM_COMMIT);
        json_write_key(w, "org.runvm.version");
        json_write_string(w, RUNVM_VERSION);
        json_write_object_end(w);
}

int spec_features_json(char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new("    ");

        json_write_object_begin(w);
        json_write_key(w, "ociVersionMin");
        json_write_string(w, "1.0.0");
        json_write_key(w, "ociVersionMax");
        json_write_string(w, SPEC_OCI_VERSION);
        WRITE_STRINGS(w, "hooks", hooks);
        WRITE_STRINGS(w, "mountOptions", mount_options);
        write_linux(w);
        write_annotations(w);
        json_write_object_end(w);
        if (json_writer_finish(w, ret, NULL, err) < 0)
                return rv_error_wrap(err, "features");
        return 0;
}
