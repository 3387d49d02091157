/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/teardown.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/state.h"
#include "netns/netns.h"

#define TEARDOWN_WAIT_MS 5000

/* Removers of recorded resources, by kind. Another part that records a
 * resource (a TAP, say) adds its remover here. */
static const struct teardown_kind kinds[] = {
        { NULL, NULL },
};

static const struct teardown_kind *find_kind(const char *kind)
{
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if (kinds[i].kind && strcmp(kinds[i].kind, kind) == 0)
                        return &kinds[i];
        return NULL;
}

struct victim {
        const char *name;
        pid_t pid;
        uint64_t start_time;
        int pidfd;
};

/* A pidfd is opened before the identity check, so a pid reused after the
 * check cannot be signalled by mistake. */
static void victim_kill(struct victim *v)
{
        v->pidfd = -1;
        /* A create that failed before it recorded the monitor is still
         * the recorded one. */
        if (v->pid <= 0 || v->pid == getpid())
                return;
        int fd = rv_pidfd_open(v->pid);
        if (fd < 0)
                return;
        if (!rv_proc_alive(v->pid, v->start_time)) {
                close(fd);
                return;
        }
        if (rv_pidfd_send_signal(fd, SIGKILL) < 0 && errno != ESRCH)
                rv_warn("kill %s %d: %s", v->name, (int) v->pid, strerror(errno));
        v->pidfd = fd;
}

int container_teardown(const struct container_state *st, struct rv_error **err)
{
        struct victim v[STATE_MAX_PROCS + 2];
        size_t n = 0;
        int r = 0;

        v[n++] = (struct victim) { "monitor", st->monitor_pid, st->monitor_start_time, -1 };
        for (size_t i = 0; i < st->n_procs && i < STATE_MAX_PROCS; i++)
                v[n++] = (struct victim) { st->procs[i].name, st->procs[i].pid, st->procs[i].start_time, -1 };
        /* Last: its end is the end of everything in the monitor's pid
         * namespace (what no list names included), and the host cgroup
         * is empty only then. */
        v[n++] = (struct victim) { "pidns init", st->pidns_init_pid, st->pidns_init_start_time, -1 };
        for (size_t i = 0; i < n; i++)
                victim_kill(&v[i]);
        int64_t deadline = rv_now_ms() + TEARDOWN_WAIT_MS;
        for (size_t i = 0; i < n; i++) {
                if (v[i].pidfd < 0)
                        continue;
                int64_t left = deadline - rv_now_ms();
                if (rv_pidfd_wait(v[i].pidfd, left > 0 ? (int) left : 0) < 0 &&
                    rv_proc_alive(v[i].pid, v[i].start_time) && r == 0)
                        r = rv_error_setx(err, EBUSY, "%s (pid %d) did not exit after SIGKILL",
                                          v[i].name, (int) v[i].pid);
                close(v[i].pidfd);
        }
        if (r < 0)
                return r;
        struct rv_error *tmp_err = NULL;
        if (host_cgroup_remove(st->cgroup_dirs, &tmp_err) < 0)
                rv_warn("%s", tmp_err->msg);
        rv_error_release(&tmp_err);
        for (size_t i = 0; i < st->n_resources; i++) {
                const struct state_resource *res = &st->resources[i];
                const struct teardown_kind *k = find_kind(res->kind);
                if (k == NULL) {
                        rv_warn("%s `%s`: no remover for this kind of resource", res->kind, res->name);
                        continue;
                }
                if (k->remove(res->name, &tmp_err) < 0)
                        rv_warn("remove %s `%s`: %s", res->kind, res->name, tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        /* A monitor that was killed left its TAPs and redirects behind. */
        if (netns_record_cleanup(st->network, &tmp_err) < 0)
                rv_warn("network teardown: %s", tmp_err->msg);
        rv_error_release(&tmp_err);
        return 0;
}
