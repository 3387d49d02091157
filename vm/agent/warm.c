/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/warm.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "vm/agent/cgroup.h"
#include "vm/agent/devices-bpf.h"
#include "vm/agent/init.h"
#include "spec/config.h"

/* Not a valid container id (the host allows [A-Za-z0-9_+.-]), so it never
 * meets a container's cgroup. */
#define WARM_CGROUP AGENT_CGROUP_ROOT "/runvm:warm"

/* In new pid, mount, ipc, uts and network namespaces, the kernel
 * filesystems a default spec mounts, on a tmpfs over /tmp that only this
 * mount namespace sees: the first pid namespace of its level makes the pid
 * cache the containers' then use, the first instances of proc, devpts and
 * mqueue set up what later ones reuse, and the first network namespace
 * after the boot costs the container's clone and namespaces steps ~17 ms
 * more than a later one under TCG (docs/PERFORMANCE.md, "The fixed cost").
 * Everything goes with the namespaces. */
static int warm_namespaces_child(void)
{
        static const char *const dirs[] = { "/tmp/proc", "/tmp/pts", "/tmp/mqueue" };

        if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") < 0)
                return 1;
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                if (mkdir(dirs[i], 0755) < 0)
                        return 1;
        mount("proc", dirs[0], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        mount("devpts", dirs[1], "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666");
        mount("mqueue", dirs[2], "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        return 0;
}

static void warm_namespaces(void)
{
        struct clone_args args = { .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
                                            CLONE_NEWNET,
                                   .exit_signal = SIGCHLD };
        long pid = syscall(SYS_clone3, &args, sizeof(args));

        if (pid < 0) {
                rv_debug("warm: clone3: %s", strerror(errno));
                return;
        }
        if (pid == 0)
                _exit(warm_namespaces_child());
        while (waitpid((pid_t) pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static void warm(void)
{
        _cleanup_error_ struct rv_error *err = NULL;

        /* What create_container does first: the root's subtree_control. */
        if (agent_cgroup_enable_controllers(&err) < 0)
                rv_debug("warm: %s", err->msg);
        /* The first cgroup made with every controller enabled allocates
         * what the next ones reuse (~25 ms under TCG). */
        if (mkdir(WARM_CGROUP, 0755) == 0)
                rmdir(WARM_CGROUP);
        warm_namespaces();
        rv_debug("warm: done at %lld ms", (long long) agent_uptime_ms());
}

void agent_warm_run(struct agent_bpf_cache *progs)
{
        /* The device rules of `runvm spec`'s and podman's specs (deny all,
         * then runc's defaults): in the agent itself, where the cache is. */
        static char rwm[] = "rwm";
        const struct spec_device_rule deny_all = { .allow = false, .access = rwm };
        _cleanup_error_ struct rv_error *err = NULL;

        if (agent_devices_bpf_preload(progs, &deny_all, 1, &err) < 0)
                rv_debug("warm: %s", err->msg);
        pid_t pid = fork();

        if (pid < 0) {
                rv_debug("warm: fork: %s", strerror(errno));
                return;
        }
        if (pid == 0) {
                warm();
                _exit(0);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
