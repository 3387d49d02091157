/* SPDX-License-Identifier: Apache-2.0 */
/* ps, pause, resume, update, events: one ctl round trip each (events
 * keeps its connection for OOM notices). */
#include "libcontainer-vm/container.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/proc.h"
#include "libcontainer-vm/cgroup-limits.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/state.h"
#include "spec/json.h"

#define OPS_TIMEOUT_MS 30000

/* runc's words when a command finds the container not running. */
enum not_running_text { NOT_RUNNING, NOT_PAUSED, ID_NOT_RUNNING };

static int not_running(const char *id, enum not_running_text t, struct rv_error **err)
{
        if (t == NOT_PAUSED)
                return rv_error_setx(err, ESRCH, "container not paused");
        if (t == ID_NOT_RUNNING)
                return rv_error_setx(err, ESRCH, "container with id %s is not running", id);
        return rv_error_setx(err, ESRCH, "container not running");
}

/* Opens the container and checks that its monitor is there to ask. */
static int open_live_as(const struct runvm_context *ctx, const char *id, bool lock, enum not_running_text t,
                        struct state_dir *dir, struct container_state **ret_state, struct rv_error **err)
{
        if (!container_id_is_valid(id))
                return rv_error_setx(err, EINVAL, "invalid container ID format");
        if (state_dir_open(ctx->root, id, lock, dir, err) < 0)
                return -1;
        if (state_load(dir->dirfd, ret_state, err) < 0) {
                state_dir_close(dir);
                return -1;
        }
        if (!container_status_allows(container_state_status(*ret_state), CONTAINER_OP_SIGNAL)) {
                state_dir_close(dir);
                return not_running(id, t, err);
        }
        return 0;
}

static int call_as(const struct runvm_context *ctx, const char *id, bool lock, enum not_running_text t,
                   uint32_t command, const char *payload, char **ret, struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct ctl_header h = { .command = command, .length = payload ? (uint32_t) strlen(payload) : 0 };
        int r;

        if (open_live_as(ctx, id, lock, t, &dir, &st, err) < 0)
                return -1;
        r = ctl_call(dir.dirfd, &h, payload, OPS_TIMEOUT_MS, ret, NULL, err);
        state_dir_close(&dir);
        return r;
}

static int call(const struct runvm_context *ctx, const char *id, bool lock, uint32_t command,
                const char *payload, char **ret, struct rv_error **err)
{
        return call_as(ctx, id, lock, NOT_RUNNING, command, payload, ret, err);
}

/* *ret stays NULL for a stopped container: runc lists its (empty) cgroup
 * and succeeds. */
static int ps_query(const struct runvm_context *ctx, const char *id, struct json_value **ret,
                    struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        _cleanup_free_ char *text = NULL;
        struct state_dir dir = STATE_DIR_INIT;

        *ret = NULL;
        if (!container_id_is_valid(id))
                return rv_error_setx(err, EINVAL, "invalid container ID format");
        if (state_dir_open(ctx->root, id, false, &dir, err) < 0)
                return -1;
        if (state_load(dir.dirfd, &st, err) < 0) {
                state_dir_close(&dir);
                return -1;
        }
        bool stopped = container_state_status(st) == CONTAINER_STOPPED;
        state_dir_close(&dir);
        if (stopped)
                return 0;
        if (call(ctx, id, false, CTL_PS, NULL, &text, err) < 0)
                return -1;
        return json_parse(text, strlen(text), ret, err);
}

/* procps sizes the PID columns for the host's pid_max (5 digits for
 * 32768, 7 for 4194304): runc's table is the host's ps -ef. */
static int pid_width(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
        unsigned long max = 0;
        int w = 0;

        if (f == NULL || fscanf(f, "%lu", &max) != 1 || max == 0)
                return 7;
        for (max -= 1; max > 0; max /= 10)
                w++;
        return w < 5 ? 5 : w;
}

/* runc's table is the host's ps -ef: user names from the host's passwd. */
static const char *user_name(const struct json_value *p, char *buf, size_t size)
{
        const struct json_value *v = json_get(p, "uid");
        struct passwd pw, *res = NULL;
        char pwbuf[1024];
        int64_t uid;

        if (!v || !json_is_integer(v) || json_read_int64(v, "uid", &uid, NULL) < 0)
                return "?";
        if (getpwuid_r((uid_t) uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL &&
            strlen(res->pw_name) <= 8)
                snprintf(buf, size, "%s", res->pw_name);
        else
                snprintf(buf, size, "%lld", (long long) uid);
        return buf;
}

int container_ps_json(const struct runvm_context *ctx, const char *id, char **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        const struct json_value *pids;

        if (ps_query(ctx, id, &v, err) < 0)
                return -1;
        pids = v ? json_get(v, "host_pids") : NULL;
        if (pids)
                json_write_value(w, pids);
        else
                json_write_null(w);
        return json_writer_finish(w, ret, NULL, err);
}

static const char *field(const struct json_value *p, const char *key, char *buf, size_t size)
{
        const struct json_value *v = json_get(p, key);
        const char *s;
        int64_t n;

        if (v && json_is_string(v) && json_read_string(v, key, &s, NULL) == 0)
                return s;
        if (v && json_is_integer(v) && json_read_int64(v, key, &n, NULL) == 0) {
                snprintf(buf, size, "%lld", (long long) n);
                return buf;
        }
        return "?";
}

int container_ps_table(const struct runvm_context *ctx, const char *id, char **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        const struct json_value *procs;
        char *text = NULL;
        size_t len = 0;
        FILE *out;

        if (ps_query(ctx, id, &v, err) < 0)
                return -1;
        procs = v ? json_get(v, "processes") : NULL;
        out = open_memstream(&text, &len);
        if (out == NULL)
                return rv_error_set(err, ENOMEM, "ps");
        int pw = pid_width();
        fprintf(out, "%-8s %*s %*s %2s %5s %-8s %8s %s\n", "UID", pw, "PID", pw, "PPID", "C", "STIME", "TTY", "TIME",
                "CMD");
        for (size_t i = 0; procs && i < json_array_size(procs); i++) {
                const struct json_value *p = json_array_get(procs, i);
                char b[6][32];
                fprintf(out, "%-8s %*s %*s %2s %5s %-8s %8s %s\n", user_name(p, b[0], 32), pw,
                        field(p, "pid", b[1], 32), pw, field(p, "ppid", b[2], 32), "0",
                        field(p, "stime", b[3], 32), field(p, "tty", b[4], 32), field(p, "time", b[5], 32),
                        field(p, "cmd", b[5], 32));
        }
        fclose(out);
        *ret = text;
        return 0;
}

int container_pause(const struct runvm_context *ctx, const char *id, struct rv_error **err)
{
        return call(ctx, id, true, CTL_PAUSE, NULL, NULL, err);
}

int container_resume(const struct runvm_context *ctx, const char *id, struct rv_error **err)
{
        return call_as(ctx, id, true, NOT_PAUSED, CTL_RESUME, NULL, NULL, err);
}

/* The guest first (it refuses what the VM cannot honour), then the host
 * cgroup with the same values mapped (cgroup-limits.h; the VM's memory,
 * hence the host's memory limit, does not change while it runs). */
int container_update(const struct runvm_context *ctx, const char *id, const char *resources_json,
                     struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct ctl_header h = { .command = CTL_UPDATE, .length = (uint32_t) strlen(resources_json) };
        int r;

        if (open_live_as(ctx, id, true, NOT_RUNNING, &dir, &st, err) < 0)
                return -1;
        r = ctl_call(dir.dirfd, &h, resources_json, OPS_TIMEOUT_MS, NULL, NULL, err);
        state_dir_close(&dir);
        if (r < 0)
                return -1;
        return host_cgroup_update(st->cgroup_dirs, resources_json, st->vcpus, err);
}

static int stats_line(const char *id, const char *data, char **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);

        if (json_parse(data, strlen(data), &v, err) < 0)
                return -1;
        json_write_object_begin(w);
        json_write_key(w, "type");
        json_write_string(w, "stats");
        json_write_key(w, "id");
        json_write_string(w, id);
        json_write_key(w, "data");
        json_write_value(w, v);
        json_write_object_end(w);
        return json_writer_finish(w, ret, NULL, err);
}

int container_stats_event(const struct runvm_context *ctx, const char *id, char **ret,
                          struct rv_error **err)
{
        _cleanup_free_ char *data = NULL;

        if (call_as(ctx, id, false, ID_NOT_RUNNING, CTL_STATS, NULL, &data, err) < 0)
                return -1;
        return stats_line(id, data, ret, err);
}

int container_events(const struct runvm_context *ctx, const char *id, int interval_ms,
                     int (*on_event)(const char *line, void *data), void *data,
                     struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct ctl_header h = { .command = CTL_EVENTS };
        _cleanup_close_ int fd = -EBADF;
        int64_t next = rv_now_ms();

        if (open_live_as(ctx, id, false, ID_NOT_RUNNING, &dir, &st, err) < 0)
                return -1;
        fd = ctl_connect(dir.dirfd, err);
        if (fd < 0 || ctl_send_request(fd, &h, NULL, NULL, 0, err) < 0 ||
            ctl_read_reply(fd, OPS_TIMEOUT_MS, NULL, NULL, err) < 0) {
                state_dir_close(&dir);
                return -1;
        }
        state_dir_close(&dir);
        for (;;) {
                int64_t wait = next - rv_now_ms();
                struct pollfd pfd = { fd, POLLIN, 0 };
                int r = poll(&pfd, 1, wait < 0 ? 0 : (int) wait);
                if (r < 0 && errno != EINTR)
                        return rv_error_set(err, errno, "poll");
                if (r > 0) {
                        _cleanup_free_ char *line = NULL;
                        struct rv_error *tmp_err = NULL;
                        /* The monitor closes the connection when the container stops. */
                        if (ctl_read_reply(fd, 5000, &line, NULL, &tmp_err) < 0) {
                                rv_error_release(&tmp_err);
                                return 0;
                        }
                        if (on_event(line, data) < 0)
                                return rv_error_set(err, errno, "write event");
                        continue;
                }
                if (rv_now_ms() >= next) {
                        _cleanup_free_ char *line = NULL;
                        struct rv_error *tmp_err = NULL;
                        if (container_stats_event(ctx, id, &line, &tmp_err) < 0) {
                                int gone = tmp_err->status == ESRCH || tmp_err->status == ENOENT ||
                                           tmp_err->status == ECONNREFUSED;
                                if (gone) {
                                        rv_error_release(&tmp_err);
                                        return 0;
                                }
                                *err = tmp_err;
                                return -1;
                        }
                        if (on_event(line, data) < 0)
                                return rv_error_set(err, errno, "write event");
                        next += interval_ms;
                }
        }
}
