/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/warm.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/agent/cgroup.h"
#include "vm/agent/child.h"
#include "vm/agent/devices-bpf.h"
#include "vm/agent/init.h"
#include "vm/agent/userns.h"

/* Not a valid container id (the host allows [A-Za-z0-9_+.-]), so it never
 * meets a container's cgroup. */
#define REHEARSAL_CGROUP "runvm:rehearsal"

/* The throw-away container's root: a tmpfs in the rehearsal's own mount
 * namespace, with the mount points the default spec needs and a copy of
 * the agent as its program. */
#define REHEARSAL_ROOT "/run/runvm-rehearsal"
#define REHEARSAL_TIMEOUT_MS 10000

static int rehearsal_rootfs(struct rv_error **err)
{
        static const char *const dirs[] = { REHEARSAL_ROOT, REHEARSAL_ROOT "/proc", REHEARSAL_ROOT "/dev",
                                            REHEARSAL_ROOT "/sys", REHEARSAL_ROOT "/tmp" };

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return rv_error_set(err, errno, "a mount namespace");
        if (mkdir(dirs[0], 0755) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "mkdir `%s`", dirs[0]);
        if (mount("tmpfs", REHEARSAL_ROOT, "tmpfs", MS_NOSUID, "size=8m,mode=0755") < 0)
                return rv_error_set(err, errno, "mount a tmpfs on `%s`", REHEARSAL_ROOT);
        for (size_t i = 1; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                if (mkdir(dirs[i], 0755) < 0)
                        return rv_error_set(err, errno, "mkdir `%s`", dirs[i]);
        /* A copy: the agent's own file is on the initramfs, outside this
         * namespace's mounts (it cannot be bound). */
        _cleanup_close_ int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(REHEARSAL_ROOT "/noop", O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        struct stat st;
        if (in < 0 || out < 0 || fstat(in, &st) < 0)
                return rv_error_set(err, errno, "copy the agent to `%s/noop`", REHEARSAL_ROOT);
        for (off_t left = st.st_size; left > 0;) {
                ssize_t n = sendfile(out, in, NULL, (size_t) left);
                if (n <= 0)
                        return rv_error_set(err, n < 0 ? errno : EIO, "copy the agent to `%s/noop`", REHEARSAL_ROOT);
                left -= n;
        }
        return 0;
}

static int rehearsal_spec(struct spec_config **ret, struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        struct spec_config *spec = NULL;

        if (spec_default_config_json(false, &text, err) < 0 || json_parse(text, strlen(text), &v, err) < 0 ||
            spec_config_from_json(v, &spec, err) < 0)
                return -1;
        char *root = strdup(REHEARSAL_ROOT);
        char **args = calloc(3, sizeof(char *));
        if (root == NULL || args == NULL || (args[0] = strdup("/noop")) == NULL ||
            (args[1] = strdup(AGENT_REHEARSAL_ARG)) == NULL) {
                free(root);
                if (args)
                        free(args[0]);
                free(args);
                spec_config_free(spec);
                return rv_error_set(err, ENOMEM, "rehearsal spec");
        }
        free(spec->root.path);
        spec->root.path = root;
        for (char **a = spec->process.args; a && *a; a++)
                free(*a);
        free(spec->process.args);
        spec->process.args = args;
        spec->process.terminal = false;
        *ret = spec;
        return 0;
}

/* What create_container, start_container and the exit do for a container
 * of the default spec, once, in a throw-away container: under TCG code
 * runs slowly until it has been translated, so the claimed container's
 * set-up then runs at the speed of a pod's later members (about half the
 * time: docs/PERFORMANCE.md, "A rehearsal container"). Its cgroup, its
 * namespaces and its root go with it. */
static int rehearse(struct agent_bpf_cache *progs, struct rv_error **err)
{
        _cleanup_(spec_config_freep) struct spec_config *spec = NULL;
        struct agent_cgroup cg = { .name = NULL, .fd = -1, .bpf_fd = -1 };
        int sync_pipe[2] = { -1, -1 }, start_pipe[2] = { -1, -1 };
        struct agent_sync_msg msg;
        unsigned long flags = 0;
        int r = -1;

        if (rehearsal_rootfs(err) < 0 || rehearsal_spec(&spec, err) < 0)
                return -1;
        if (agent_cgroup_create(REHEARSAL_CGROUP, &cg, err) < 0)
                return -1;
        if (agent_cgroup_apply(&cg, &spec->linux_.resources, progs, err) < 0 ||
            agent_ns_clone_flags(spec, &flags, err) < 0)
                goto out;
        if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(start_pipe, O_CLOEXEC) < 0) {
                rv_error_set(err, errno, "pipe");
                goto out;
        }
        pid_t pid = agent_cgroup_clone(&cg, flags, err);
        if (pid < 0)
                goto out;
        if (pid == 0) {
                struct agent_child_args args = {
                        .spec = spec, .sync_fd = sync_pipe[1], .start_fd = start_pipe[0],
                        .stdio = { -1, -1, -1 },
                };
                agent_child_run(&args);
        }
        close(sync_pipe[1]);
        close(start_pipe[0]);
        sync_pipe[1] = start_pipe[0] = -1;
        char go = 1;
        if (agent_ns_after_clone(pid, spec, start_pipe[1], err) == 0 &&
            agent_sync_read(sync_pipe[0], REHEARSAL_TIMEOUT_MS, &msg, err) == 1 && msg.kind == AGENT_SYNC_READY &&
            rv_write_all(start_pipe[1], &go, 1) == 0 &&
            agent_sync_read(sync_pipe[0], REHEARSAL_TIMEOUT_MS, &msg, err) == 0)
                r = 0;
        else if (*err == NULL)
                rv_error_setx(err, EPROTO, "the init did not get to its execve: %s",
                              msg.kind == AGENT_SYNC_ERROR ? msg.msg : "no report");
        if (r < 0)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                r = rv_error_setx(err, ECHILD, "its process ended with status %d", status);
out:
        for (int i = 0; i < 2; i++) {
                if (sync_pipe[i] >= 0)
                        close(sync_pipe[i]);
                if (start_pipe[i] >= 0)
                        close(start_pipe[i]);
        }
        agent_cgroup_destroy(&cg);
        return r;
}

static void warm(struct agent_bpf_cache *progs)
{
        _cleanup_error_ struct rv_error *err = NULL;

        /* What create_container does first: the root's subtree_control. */
        if (agent_cgroup_enable_controllers(&err) < 0)
                rv_debug("warm: %s", err->msg);
        /* The rehearsal also pays the kernel's once-per-boot costs: the
         * first cgroup with every controller, the first pid namespace of
         * its level, the first proc, devpts and mqueue instances. */
        if (rehearse(progs, &err) < 0) {
                rv_debug("warm: the rehearsal container: %s", err->msg);
                rv_error_release(&err);
        }
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
                warm(progs);
                _exit(0);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
