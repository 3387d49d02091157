/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/monitor-sync.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "hooks/hooks.h"
#include "spec/config.h"

/* On the sync socket (SOCK_SEQPACKET: one message per send): the
 * monitor's final verdict, or a request to run hooks answered with a
 * sync_msg of its own. */
enum sync_kind { SYNC_VERDICT = 0, SYNC_HOOKS = 1 };

struct sync_msg {
        int32_t kind;
        int32_t status;
        char message[4096];
};

struct sync_hooks_request {
        int32_t kind;                   /* SYNC_HOOKS */
        char phase[32];
        char state_json[];              /* the rest of the message, NUL-terminated */
};

#define SYNC_MAX (256u << 10)

/* Fails when create is gone (EPIPE: SIGPIPE is ignored). */
int monitor_sync_report(int fd, int status, const char *message)
{
        struct sync_msg m = { .kind = SYNC_VERDICT, .status = status };
        if (fd < 0)
                return 0;
        if (message)
                snprintf(m.message, sizeof(m.message), "%s", message);
        return rv_write_all(fd, &m, sizeof(m));
}

/* The sync socket reports POLLHUP (or POLLERR) once create, its peer,
 * is gone. */
int monitor_sync_check(int fd, struct rv_error **err)
{
        struct pollfd pfd = { fd, 0, 0 };

        if (fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
                return rv_error_setx(err, ECANCELED, MONITOR_SYNC_GONE_MSG);
        return 0;
}

static const struct spec_hook_list *hooks_for(const struct spec_hooks *h, const char *phase)
{
        if (strcmp(phase, "prestart") == 0)
                return &h->prestart;
        if (strcmp(phase, "createRuntime") == 0)
                return &h->create_runtime;
        if (strcmp(phase, "createContainer") == 0)
                return &h->create_container;
        if (strcmp(phase, "poststart") == 0)
                return &h->poststart;
        return NULL;
}

static void answer_hooks(int fd, const struct spec_hooks *hooks, const char *bundle,
                         const struct sync_hooks_request *req)
{
        struct sync_msg reply = { .kind = SYNC_HOOKS };
        const struct spec_hook_list *l = hooks_for(hooks, req->phase);
        struct rv_error *tmp_err = NULL;

        if (l == NULL) {
                reply.status = EINVAL;
                snprintf(reply.message, sizeof(reply.message), "unknown hook phase `%.31s`", req->phase);
        } else if (hooks_run(l, req->phase, req->state_json, bundle, &tmp_err) < 0) {
                reply.status = tmp_err->status > 0 ? tmp_err->status : EIO;
                snprintf(reply.message, sizeof(reply.message), "%s", tmp_err->msg);
        }
        rv_error_release(&tmp_err);
        send(fd, &reply, sizeof(reply), MSG_NOSIGNAL);
}

int monitor_wait_created(int sync_fd, const struct spec_hooks *hooks, const char *bundle,
                         struct rv_error **err)
{
        _cleanup_free_ char *buf = malloc(SYNC_MAX + 1);

        if (buf == NULL)
                return rv_error_set(err, ENOMEM, "wait for the monitor");
        for (;;) {
                ssize_t n = recv(sync_fd, buf, SYNC_MAX, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == (ssize_t) sizeof(struct sync_msg) && ((struct sync_msg *) buf)->kind == SYNC_VERDICT) {
                        struct sync_msg *m = (struct sync_msg *) buf;
                        m->message[sizeof(m->message) - 1] = '\0';
                        if (m->status != 0)
                                return rv_error_setx(err, m->status > 0 ? m->status : EIO, "%s", m->message);
                        return 0;
                }
                if (n > (ssize_t) sizeof(struct sync_hooks_request) &&
                    ((struct sync_hooks_request *) buf)->kind == SYNC_HOOKS) {
                        struct sync_hooks_request *req = (struct sync_hooks_request *) buf;
                        buf[n] = '\0';
                        req->phase[sizeof(req->phase) - 1] = '\0';
                        answer_hooks(sync_fd, hooks, bundle, req);
                        continue;
                }
                return rv_error_setx(err, EIO, "the monitor exited before the container was created");
        }
}

/* Runs hooks through create (monitor_wait_created), in the caller's pid,
 * mount and network namespaces: the monitor's are the container's. */
int monitor_sync_run_hooks(int fd, const char *phase, const char *json, struct rv_error **err)
{
        size_t len = strlen(json);
        size_t size = sizeof(struct sync_hooks_request) + len + 1;
        _cleanup_free_ struct sync_hooks_request *req = calloc(1, size);
        struct sync_msg reply;

        if (req == NULL || size > SYNC_MAX)
                return rv_error_set(err, req ? E2BIG : ENOMEM, "%s hooks", phase);
        req->kind = SYNC_HOOKS;
        snprintf(req->phase, sizeof(req->phase), "%s", phase);
        memcpy(req->state_json, json, len + 1);
        if (send(fd, req, size, MSG_NOSIGNAL) != (ssize_t) size)
                return rv_error_set(err, errno, "%s hooks: ask the runtime", phase);
        ssize_t n;
        do
                n = recv(fd, &reply, sizeof(reply), 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof(reply))
                return rv_error_setx(err, EIO, "%s hooks: the runtime went away", phase);
        reply.message[sizeof(reply.message) - 1] = '\0';
        if (reply.status != 0)
                return rv_error_setx(err, reply.status, "%s", reply.message);
        return 0;
}
