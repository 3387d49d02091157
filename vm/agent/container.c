/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/container.h"
#include "vm/agent/pod.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/agent/blockdev.h"
#include "vm/agent/cgroup.h"
#include "vm/agent/child.h"
#include "vm/agent/init.h"
#include "vm/agent/rootfs.h"
#include "vm/agent/shm.h"
#include "vm/agent/network-pool.h"
#include "vm/agent/ram.h"
#include "vm/agent/timing.h"
#include "vm/agent/userns.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"

#define SETUP_TIMEOUT_MS 30000          /* slow TCG guests, virtio-fs lookups */
#define EXEC_TIMEOUT_MS 10000
#define REAP_TIMEOUT_MS 2000

struct agent_container *agent_container_find(struct agent *a, const char *id)
{
        for (struct agent_container *c = a->containers; c != NULL; c = c->next)
                if (strcmp(c->id, id) == 0)
                        return c;
        return NULL;
}

int agent_container_lookup(struct agent *a, const struct json_value *params,
                           struct agent_container **ret, struct rv_error **err)
{
        const char *id;
        struct agent_container *c;

        if (json_read_string(json_get(params, "id"), "id", &id, err) < 0)
                return -1;
        c = agent_container_find(a, id);
        if (c == NULL)
                return rv_error_setx(err, ENOENT, "container `%s` does not exist", id);
        *ret = c;
        return 0;
}

/* What the guest accepts but does not enforce yet (docs/GUEST.md). */
static void log_unenforced(const struct spec_config *c)
{
        const struct spec_linux *l = &c->linux_;

        if (!rv_log_debug_enabled())
                return;
        (void) l;
}

static int read_stream_id(const struct json_value *stdio, const char *key, uint32_t *ret,
                          struct rv_error **err)
{
        const struct json_value *v = json_get(stdio, key);
        char path[32];

        *ret = 0;
        if (v == NULL || json_is_null(v))
                return 0;
        snprintf(path, sizeof(path), "stdio.%s", key);
        return json_read_uint32(v, path, ret, err);
}

static int parse_stdio(const struct json_value *params, struct agent_stdio_streams *ret,
                       struct rv_error **err)
{
        const struct json_value *stdio = json_get(params, "stdio");

        memset(ret, 0, sizeof(*ret));
        if (stdio == NULL || json_is_null(stdio))
                return 0;
        if (!json_is_object(stdio))
                return rv_error_setx(err, EINVAL, "`stdio`: expected an object");
        if (json_get(stdio, "terminal") != NULL) {
                if (read_stream_id(stdio, "terminal", &ret->terminal, err) < 0)
                        return -1;
                return 0;
        }
        if (read_stream_id(stdio, "stdin", &ret->in, err) < 0 ||
            read_stream_id(stdio, "stdout", &ret->out, err) < 0 ||
            read_stream_id(stdio, "stderr", &ret->err, err) < 0)
                return -1;
        return 0;
}

/* Kills a half-made container's init and reaps it, bounded. */
static void child_kill(pid_t pid)
{
        int64_t deadline = rv_now_ms() + REAP_TIMEOUT_MS;

        kill(pid, SIGKILL);
        while (rv_now_ms() < deadline) {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                if (r == pid || (r < 0 && errno != EINTR))
                        return;
                usleep(1000);
        }
        rv_warn("container init %d did not die in time", (int) pid);
}

/* The init's message is the whole error, its errno the status. */
static int error_from_report(const struct agent_sync_msg *msg, struct rv_error **err)
{
        return rv_error_setx(err, msg->errnum, "%s", msg->msg);
}

/* Frees a container that create gave up on: it never joined the list,
 * so nothing was exec'ed in it (exec_process finds listed ones only). */
static void container_free(struct agent *a, struct agent_container *c)
{
        if (c == NULL)
                return;
        if (c->oom_wd >= 0 && a->inotify.fd >= 0)
                inotify_rm_watch(a->inotify.fd, c->oom_wd);
        agent_cgroup_destroy(&c->cgroup);
        spec_config_free(c->spec);
        agent_stdio_abort(a, &c->stdio);
        if (c->start_fd >= 0)
                close(c->start_fd);
        if (c->sync_fd >= 0)
                close(c->sync_fd);
        free(c->id);
        free(c);
}

void agent_container_free(struct agent *a, struct agent_container *c)
{
        container_free(a, c);
}

static void close_pair(int fds[2])
{
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        fds[0] = fds[1] = -1;
}

/* The container's own cgroup, with linux.resources, before its init
 * exists: the init is cloned straight into it. */
static int container_cgroup_setup(struct agent *a, struct agent_container *c, const char *id,
                                  const struct spec_config *spec, struct agent_timer *timer,
                                  struct rv_error **err)
{
        if (!a->cgroups_ready) {
                if (agent_cgroup_enable_controllers(err) < 0)
                        return -1;
                a->cgroups_ready = true;
                agent_ram_watch(a, a->ram);
                agent_timer_step(timer, "cgroup controllers");
        }
        if (agent_cgroup_create(id, &c->cgroup, err) < 0)
                return -1;
        agent_timer_step(timer, "cgroup mkdir");
        if (agent_cgroup_apply(&c->cgroup, &spec->linux_.resources, a->progs, err) < 0)
                return rv_error_wrap(err, "linux.resources");
        return 0;
}

/* OOM kills: inotify on memory.events (the kernel notifies changes of
 * it), one watch per container, read only when it changed. */
static void oom_watch(struct agent *a, struct agent_container *c)
{
        _cleanup_error_ struct rv_error *tmp = NULL;
        char path[PATH_MAX];

        if (c->cgroup.name == NULL)
                return;
        if (a->inotify.fd < 0) {
                a->inotify.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (a->inotify.fd < 0) {
                        rv_warn("inotify: %s: no OOM events", strerror(errno));
                        return;
                }
                agent_watch_set(a, &a->inotify, EPOLLIN);
        }
        snprintf(path, sizeof(path), AGENT_CGROUP_CONTAINERS "/%s/memory.events", c->cgroup.name);
        c->oom_wd = inotify_add_watch(a->inotify.fd, path, IN_MODIFY);
        if (c->oom_wd < 0)
                rv_warn("container `%s`: watch memory.events: %s: no OOM events", c->id, strerror(errno));
        if (agent_cgroup_read_key(&c->cgroup, "memory.events", "oom_kill", &c->oom_kills, &tmp) < 0)
                c->oom_kills = 0;
}

static void send_oom(struct agent *a, struct agent_container *c)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct json_writer *w = json_writer_new(NULL);

        if (w == NULL)
                return;
        channel_message_begin_event(w, "oom");
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, c->id);
        json_write_object_end(w);
        channel_message_end(w);
        if (channel_send_message(agent_channel(a), CHANNEL_EVENT, w, &err) < 0)
                agent_channel_failed(a, &err);
        json_writer_free(w);
}

void agent_container_oom_check(struct agent *a, struct agent_container *c)
{
        _cleanup_error_ struct rv_error *tmp = NULL;
        uint64_t kills;

        if (c->cgroup.name == NULL ||
            agent_cgroup_read_key(&c->cgroup, "memory.events", "oom_kill", &kills, &tmp) < 0)
                return;
        if (kills > c->oom_kills) {
                rv_debug("container `%s`: oom_kill %llu", c->id, (unsigned long long) kills);
                send_oom(a, c);
        }
        c->oom_kills = kills;
}

void agent_containers_oom_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;

        while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *) p;

                        p += sizeof(*ev) + ev->len;
                        for (struct agent_container *c = a->containers; c != NULL; c = c->next) {
                                if (c->oom_wd != ev->wd)
                                        continue;
                                agent_container_oom_check(a, c);
                                break;
                        }
                }
        }
}

/* Copies the pty master the init holds as fd `fd` (it keeps it open
 * until execve) and relays it as the container's terminal. */
/* create_container's "hook_state" object as JSON text (*ret NULL when v
 * is absent): startContainer hooks read it on stdin. */
static int hook_state_text(const struct json_value *v, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = NULL;

        *ret = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`hook_state`: expected an object");
        w = json_writer_new(NULL);
        json_write_value(w, v);
        return json_writer_finish(w, ret, NULL, err);
}

static int take_console(struct agent *a, struct agent_container *c, pid_t pid, int fd, struct rv_error **err)
{
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int master;

        if (pidfd < 0)
                return rv_error_set(err, errno, "pidfd of the container init");
        master = (int) syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        if (master < 0)
                return rv_error_set(err, errno, "take the terminal from the container init");
        if (agent_stdio_attach_tty(a, &c->stdio, master, err) < 0) {
                close(master);
                return -1;
        }
        return 0;
}

int agent_container_create(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err)
{
        _cleanup_(spec_config_freep) struct spec_config *spec = NULL;
        _cleanup_free_ char *hook_state = NULL;
        struct agent_stdio_streams streams;
        struct agent_container *c;
        struct agent_sync_msg msg;
        struct agent_timer timer;
        unsigned long flags = 0;
        int sync_pipe[2] = { -1, -1 }, start_pipe[2] = { -1, -1 }, child_stdio[3] = { -1, -1, -1 };
        const char *id;
        pid_t pid;
        int r;

        /* The streams named are opened first, so that they are open even
         * when the request fails (docs/PROTOCOL.md §2); a failure closes
         * them again. */
        c = calloc(1, sizeof(*c));
        if (c == NULL)
                return rv_error_set(err, ENOMEM, "create");
        c->start_fd = c->sync_fd = -1;
        c->oom_wd = -1;
        c->cgroup.fd = c->cgroup.bpf_fd = -1;
        agent_stdio_init(&c->stdio);
        if (parse_stdio(params, &streams, err) < 0 ||
            agent_stdio_open(a, &c->stdio, &streams, child_stdio, err) < 0)
                goto fail;
        if (json_read_string(json_get(params, "id"), "id", &id, err) < 0)
                goto fail;
        if (agent_container_find(a, id) != NULL) {
                rv_error_setx(err, EEXIST, "container `%s` already exists", id);
                goto fail;
        }
        c->id = strdup(id);
        if (c->id == NULL) {
                rv_error_set(err, ENOMEM, "create");
                goto fail;
        }
        agent_timer_start(&timer);
        if (json_get(params, "spec") == NULL) {
                rv_error_setx(err, EINVAL, "`spec`: missing");
                goto fail;
        }
        if (spec_config_from_json(json_get(params, "spec"), &spec, err) < 0) {
                rv_error_wrap(err, "spec");
                goto fail;
        }
        if (!spec->has_process || spec->process.args == NULL || spec->process.args[0] == NULL) {
                rv_error_setx(err, EINVAL, "`process.args`: must not be empty");
                goto fail;
        }
        if (spec->process.terminal != (streams.terminal != 0)) {
                rv_error_setx(err, EINVAL, spec->process.terminal ? "`process.terminal` needs a terminal stream"
                                                                  : "a terminal stream needs `process.terminal`");
                goto fail;
        }
        agent_timer_step(&timer, "spec");
        if (agent_blockdev_prepare(spec, id, err) < 0 || agent_ram_fit_tmpfs(a->ram, spec, err) < 0 ||
            agent_shm_prepare(spec, err) < 0)
                goto fail;
        agent_timer_step(&timer, "block devices");
        if (container_cgroup_setup(a, c, id, spec, &timer, err) < 0)
                goto fail;
        agent_timer_step(&timer, "cgroup resources");
        if (agent_ns_clone_flags(spec, &flags, err) < 0)
                goto fail;
        log_unenforced(spec);
        if (hook_state_text(json_get(params, "hook_state"), &hook_state, err) < 0)
                goto fail;
        if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(start_pipe, O_CLOEXEC) < 0) {
                rv_error_set(err, errno, "pipe");
                goto fail;
        }

        /* fork() with namespaces: the child continues here as the
         * container's init (PID 1 of its namespace). */
        agent_timer_step(&timer, "pipes");
        int restore_pidns, restore_netns;
        if (agent_network_enter(a, &restore_netns, err) < 0)
                goto fail;
        if (agent_rootfs_net_sysctls(spec, err) < 0 || agent_pod_pid_enter(spec, &restore_pidns, err) < 0) {
                agent_network_leave(restore_netns);
                goto fail;
        }
        pid = agent_cgroup_clone(&c->cgroup, flags, err);
        if (pid != 0) {
                agent_pod_pid_leave(restore_pidns);
                agent_network_leave(restore_netns);
        } else if (restore_pidns >= 0)
                close(restore_pidns);
        if (pid < 0)
                goto fail;
        if (pid == 0) {
                struct agent_child_args args = {
                        .spec = spec,
                        .sync_fd = sync_pipe[1],
                        .start_fd = start_pipe[0],
                        .stdio = { child_stdio[0], child_stdio[1], child_stdio[2] },
                        .terminal = streams.terminal != 0,
                        .hook_state = hook_state,
                        .timer = &timer,
                };
                agent_child_run(&args);
        }
        c->pid = pid;
        /* id maps, then the release of the child (vm/agent/userns.h). */
        if (agent_ns_after_clone(pid, spec, start_pipe[1], err) < 0) {
                child_kill(pid);
                goto fail;
        }
        for (int i = 0; i < 3; i++)
                if (child_stdio[i] >= 0)
                        close(child_stdio[i]);
        close(sync_pipe[1]);
        close(start_pipe[0]);
        c->sync_fd = sync_pipe[0];
        c->start_fd = start_pipe[1];
        agent_timer_step(&timer, "clone+id maps");

        r = agent_sync_read(c->sync_fd, SETUP_TIMEOUT_MS, &msg, err);
        /* A terminal: the init made it in the container's devpts, as runc
         * does (`tty` names /dev/pts/N there); take the master. */
        if (r > 0 && msg.kind == AGENT_SYNC_CONSOLE) {
                if (take_console(a, c, pid, msg.errnum, err) < 0) {
                        child_kill(pid);
                        container_free(a, c);
                        return -1;
                }
                r = agent_sync_read(c->sync_fd, SETUP_TIMEOUT_MS, &msg, err);
        }
        if (r == 0)
                rv_error_setx(err, ECHILD, "container init exited during setup");
        else if (r > 0 && msg.kind != AGENT_SYNC_READY)
                error_from_report(&msg, err);
        if (r <= 0 || msg.kind != AGENT_SYNC_READY) {
                child_kill(pid);
                container_free(a, c);
                return -1;
        }
        /* Its ipc and uts, for the pod's other containers to join. */
        if (agent_pod_publish(pid, c->id, err) < 0) {
                child_kill(pid);
                container_free(a, c);
                return -1;
        }
        if (flags & CLONE_NEWPID) {
                char path[64];
                struct stat st;

                snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
                if (stat(path, &st) == 0)
                        c->pidns = st.st_ino;
        }
        agent_timer_step(&timer, "init set-up");
        if (timer.on) {
                char steps[1024];

                agent_timer_format(&timer, steps, sizeof(steps));
                rv_log(RV_LOG_INFO, "timing: create `%s`: %.1f ms (done at %lld ms): %s; in the init: %s", c->id,
                         agent_timer_total_ms(&timer), (long long) agent_uptime_ms(), steps, msg.msg);
        }
        c->state = AGENT_CONTAINER_CREATED;
        c->spec = TAKE_PTR(spec);
        oom_watch(a, c);
        c->next = a->containers;
        a->containers = c;
        rv_debug("container `%s` created, init pid %d", c->id, (int) pid);

        json_write_object_begin(w);
        json_write_key(w, "pid");
        json_write_int64(w, pid);
        json_write_object_end(w);
        return 0;
fail:
        for (int i = 0; i < 3; i++)
                if (child_stdio[i] >= 0)
                        close(child_stdio[i]);
        close_pair(sync_pipe);
        close_pair(start_pipe);
        container_free(a, c);
        return -1;
}

int agent_container_start(struct agent *a, const struct json_value *params, struct json_writer *w,
                          struct rv_error **err)
{
        struct agent_container *c;
        struct agent_sync_msg msg;
        char go = 1;
        int r;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (c->state == AGENT_CONTAINER_EXITED)
                return rv_error_setx(err, ESRCH, "cannot start a container that has stopped");
        if (c->state == AGENT_CONTAINER_RUNNING)
                return rv_error_setx(err, EBUSY, "cannot start an already running container");
        if (rv_write_all(c->start_fd, &go, 1) < 0)
                return rv_error_setx(err, ESRCH, "cannot start a container that has stopped");
        close(c->start_fd);
        c->start_fd = -1;
        c->state = AGENT_CONTAINER_RUNNING;
        /* The report pipe closes on a successful execve, which comes after
         * the startContainer hooks: their timeouts add to the wait. */
        int timeout_ms = EXEC_TIMEOUT_MS + (int) spec_hooks_max_ms(&c->spec->hooks.start_container);
        r = agent_sync_read(c->sync_fd, timeout_ms, &msg, err);
        close(c->sync_fd);
        c->sync_fd = -1;
        if (r < 0)
                return -1;
        if (r > 0)
                return error_from_report(&msg, err);
        json_write_object_begin(w);
        json_write_object_end(w);
        return 0;
}

void agent_write_empty(struct json_writer *w)
{
        json_write_object_begin(w);
        json_write_object_end(w);
}

void agent_send_process_exited(struct agent *a, const char *id, const char *exec_id, pid_t pid,
                               int status)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct json_writer *w = json_writer_new(NULL);

        if (w == NULL)
                return;
        channel_message_begin_event(w, "process_exited");
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, id);
        if (exec_id) {
                json_write_key(w, "exec_id");
                json_write_string(w, exec_id);
        }
        json_write_key(w, "pid");
        json_write_int64(w, pid);
        if (WIFSIGNALED(status)) {
                json_write_key(w, "signal");
                json_write_int64(w, WTERMSIG(status));
        } else {
                json_write_key(w, "exit_code");
                json_write_int64(w, WEXITSTATUS(status));
        }
        json_write_object_end(w);
        channel_message_end(w);
        if (channel_send_message(agent_channel(a), CHANNEL_EVENT, w, &err) < 0)
                agent_channel_failed(a, &err);
        json_writer_free(w);
}
