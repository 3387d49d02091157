/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/containers.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/json.h"
#include "vm/agent/container.h"
#include "vm/agent/container-cgroup.h"
#include "vm/agent/exec.h"
#include "vm/agent/blockdev.h"
#include "vm/agent/pod.h"
#include "vm/agent/tty.h"

#define DRAIN_TIMEOUT_MS 2000

/* kill --all with a PID namespace: every process whose namespace is the
 * container's. */
static void signal_pidns(ino_t pidns, int sig)
{
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *de;

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                char path[64];
                struct stat st;
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (*end != '\0' || pid <= 1)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
                if (stat(path, &st) == 0 && st.st_ino == pidns)
                        kill((pid_t) pid, sig);
        }
}

int agent_container_signal(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err)
{
        struct agent_container *c;
        const struct json_value *v;
        int32_t sig;
        bool all = false;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (json_read_int32(json_get(params, "signal"), "signal", &sig, err) < 0)
                return -1;
        if (sig < 0 || sig >= NSIG)
                return rv_error_setx(err, EINVAL, "invalid signal %d", sig);
        v = json_get(params, "all");
        if (v != NULL && json_read_bool(v, "all", &all, err) < 0)
                return -1;
        /* A process started by exec_process, not the init. */
        v = json_get(params, "exec_id");
        if (v != NULL && !json_is_null(v)) {
                const char *exec_id;
                struct agent_exec_proc *e;

                if (json_read_string(v, "exec_id", &exec_id, err) < 0)
                        return -1;
                e = agent_exec_find(c, exec_id);
                if (e == NULL || e->exited || e->pid <= 0)
                        return rv_error_setx(err, ESRCH, "process `%s` not running", exec_id);
                if (kill(e->pid, sig) < 0)
                        return rv_error_set(err, errno, "kill %d", (int) e->pid);
                json_write_object_begin(w);
                json_write_object_end(w);
                return 0;
        }
        if (c->state == AGENT_CONTAINER_EXITED)
                return rv_error_setx(err, ESRCH, "container not running");
        if (all && sig != SIGKILL && sig != 0) {
                if (c->pidns != 0)
                        signal_pidns(c->pidns, sig);
                else
                        kill(-c->pid, sig);     /* its session / process group */
        }
        if (kill(c->pid, sig) < 0) {
                if (errno == ESRCH)
                        return rv_error_setx(err, ESRCH, "container not running");
                return rv_error_set(err, errno, "kill %d", (int) c->pid);
        }
        if (all && sig == SIGKILL && c->pidns == 0)
                kill(-c->pid, SIGKILL);
        json_write_object_begin(w);
        json_write_object_end(w);
        return 0;
}

bool agent_container_reaped(struct agent *a, pid_t pid, int status)
{
        for (struct agent_container *c = a->containers; c != NULL; c = c->next) {
                if (agent_exec_reaped(c, pid, status))
                        return true;
                if (c->pid != pid || c->state == AGENT_CONTAINER_EXITED)
                        continue;
                c->state = AGENT_CONTAINER_EXITED;
                c->status = status;
                c->drain_deadline = rv_now_ms() + DRAIN_TIMEOUT_MS;
                if (c->start_fd >= 0) {
                        close(c->start_fd);
                        c->start_fd = -1;
                }
                rv_debug("container `%s` init %d exited (status 0x%x)", c->id, (int) pid, status);
                return true;
        }
        return false;
}

static void report_exit(struct agent *a, struct agent_container *c)
{
        agent_stdio_finish(a, &c->stdio);
        /* Closed before the event (docs/PROTOCOL.md §2): the host may
         * reuse the ids once it has it. */
        agent_stdio_release(a, &c->stdio);
        /* The host may power the VM off as soon as it has the event. */
        sync();
        /* An OOM kill before the exit, whichever the agent noticed first:
         * the host reflects it before it hears the container is gone. */
        agent_container_oom_check(a, c);
        agent_send_process_exited(a, c->id, NULL, c->pid, c->status);
        c->reported = true;
}

int agent_container_resize_tty(struct agent *a, const struct json_value *params, struct json_writer *w,
                               struct rv_error **err)
{
        const struct json_value *v = json_get(params, "exec_id");
        struct agent_container *c;
        const struct agent_stdio *s;
        uint32_t height, width;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (json_read_uint32(json_get(params, "height"), "height", &height, err) < 0 ||
            json_read_uint32(json_get(params, "width"), "width", &width, err) < 0)
                return -1;
        s = &c->stdio;
        if (v != NULL && !json_is_null(v)) {
                const char *exec_id;
                struct agent_exec_proc *e;

                if (json_read_string(v, "exec_id", &exec_id, err) < 0)
                        return -1;
                e = agent_exec_find(c, exec_id);
                if (e == NULL)
                        return rv_error_setx(err, ESRCH, "exec `%s` does not exist", exec_id);
                s = &e->stdio;
        }
        if (s->terminal == 0)
                return rv_error_setx(err, ENOTTY, "the process has no terminal");
        if (agent_stdio_tty_fd(s) < 0)
                return rv_error_setx(err, ESRCH, "the process has exited");
        if (agent_tty_resize(agent_stdio_tty_fd(s), height, width, err) < 0)
                return -1;
        agent_write_empty(w);
        return 0;
}

void agent_containers_tick(struct agent *a, int *timeout_ms)
{
        int64_t now = rv_now_ms();

        for (struct agent_container *c = a->containers; c != NULL; c = c->next) {
                agent_execs_tick(a, c, timeout_ms);
                agent_container_freeze_tick(a, c, now, timeout_ms);
                if (c->state != AGENT_CONTAINER_EXITED || c->reported)
                        continue;
                if (agent_stdio_drained(&c->stdio) || now >= c->drain_deadline) {
                        report_exit(a, c);
                        continue;
                }
                int64_t left = c->drain_deadline - now;
                if (*timeout_ms < 0 || left < *timeout_ms)
                        *timeout_ms = (int) left;
        }
}

void agent_containers_refresh(struct agent *a)
{
        for (struct agent_container *c = a->containers; c != NULL; c = c->next) {
                agent_stdio_refresh(a, &c->stdio);
                for (struct agent_exec_proc *e = c->execs; e != NULL; e = e->next)
                        agent_stdio_refresh(a, &e->stdio);
        }
}

void agent_containers_stream_data(struct agent *a, uint32_t stream, const void *data, size_t len)
{
        for (struct agent_container *c = a->containers; c != NULL; c = c->next) {
                if (agent_stdio_in_data(a, &c->stdio, stream, data, len))
                        return;
                for (struct agent_exec_proc *e = c->execs; e != NULL; e = e->next)
                        if (agent_stdio_in_data(a, &e->stdio, stream, data, len))
                                return;
        }
}

void agent_containers_stream_eof(struct agent *a, uint32_t stream)
{
        for (struct agent_container *c = a->containers; c != NULL; c = c->next) {
                if (agent_stdio_in_eof(a, &c->stdio, stream))
                        return;
                for (struct agent_exec_proc *e = c->execs; e != NULL; e = e->next)
                        if (agent_stdio_in_eof(a, &e->stdio, stream))
                                return;
        }
}

int agent_container_remove(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err)
{
        struct agent_container *c;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (c->state != AGENT_CONTAINER_EXITED || !c->reported)
                return rv_error_setx(err, EBUSY, "container `%s` is still running", c->id);
        for (struct agent_container **p = &a->containers; *p; p = &(*p)->next) {
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        }
        agent_pod_unpublish(c->id);
        agent_blockdev_release(c->id);
        agent_execs_free(a, c);
        agent_container_free(a, c);
        agent_write_empty(w);
        return 0;
}
