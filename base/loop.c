/* SPDX-License-Identifier: Apache-2.0 */
#include "base/loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/error.h"

int loop_init(struct loop *l, struct rv_error **err)
{
        *l = (struct loop) LOOP_INIT;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0)
                return rv_error_set(err, errno, "epoll_create1");
        return 0;
}

void loop_fini(struct loop *l)
{
        if (l->epfd >= 0)
                close(l->epfd);
        *l = (struct loop) LOOP_INIT;
}

/* A handler of this turn may remove a watch whose event is still to be
 * handled: it is not called then. */
static void batch_forget(struct loop *l, const void *ptr)
{
        for (int i = 0; i < l->n_batch; i++)
                if (l->batch[i] == ptr)
                        l->batch[i] = NULL;
}

int loop_fd_set(struct loop *l, int fd, uint32_t *registered, uint32_t events, void *ptr,
                struct rv_error **err)
{
        struct epoll_event ev = { .events = events, .data.ptr = ptr };

        if (events == *registered)
                return 0;
        if (events == 0) {
                if (fd >= 0)
                        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
                *registered = 0;
                batch_forget(l, ptr);
                return 0;
        }
        if (fd < 0)
                return rv_error_setx(err, EBADF, "watch: no fd");
        int op = *registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        int r = epoll_ctl(l->epfd, op, fd, &ev);
        /* A registration that outlived a closed fd of the same number
         * (another process holds the file; see loop_watch_forget). */
        if (r < 0 && errno == EEXIST && op == EPOLL_CTL_ADD)
                r = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
        if (r < 0)
                return rv_error_set(err, errno, "watch fd %d", fd);
        *registered = events;
        return 0;
}

int loop_wait(struct loop *l, int timeout_ms, loop_dispatch_fn dispatch, void *ctx, struct rv_error **err)
{
        struct epoll_event events[LOOP_BATCH];
        int n = epoll_wait(l->epfd, events, LOOP_BATCH, timeout_ms);

        if (n < 0)
                return errno == EINTR ? 0 : rv_error_set(err, errno, "epoll_wait");
        l->n_batch = n;
        for (int i = 0; i < n; i++)
                l->batch[i] = events[i].data.ptr;
        for (int i = 0; i < n; i++) {
                void *ptr = l->batch[i];
                if (ptr && dispatch(ctx, ptr, events[i].events, err) < 0) {
                        l->n_batch = 0;
                        return -1;
                }
        }
        l->n_batch = 0;
        return n;
}

static void ready_unlink(struct loop *l, struct loop_watch *w)
{
        for (struct loop_watch **p = &l->ready; *p; p = &(*p)->next_ready) {
                if (*p == w) {
                        *p = w->next_ready;
                        break;
                }
        }
        if (l->ready_next == w)
                l->ready_next = w->next_ready;
        w->next_ready = NULL;
        w->always_ready = false;
}

int loop_watch_set(struct loop *l, struct loop_watch *w, uint32_t events, struct rv_error **err)
{
        if (events == w->events)
                return 0;
        if (w->always_ready) {
                w->events = events;
                if (events == 0)
                        ready_unlink(l, w);
                return 0;
        }
        uint32_t was = w->events;
        struct rv_error *tmp_err = NULL;
        if (loop_fd_set(l, w->fd, &w->events, events, w, &tmp_err) == 0)
                return 0;
        if (tmp_err->status != EPERM || was != 0) {
                if (err)
                        *err = tmp_err;
                else
                        rv_error_free(tmp_err);
                return -1;
        }
        /* A file: poll(2) would say it is ready, always. */
        rv_error_release(&tmp_err);
        w->always_ready = true;
        w->events = events;
        w->next_ready = l->ready;
        l->ready = w;
        return 0;
}

void loop_watch_remove(struct loop *l, struct loop_watch *w)
{
        loop_watch_set(l, w, 0, NULL);
}

void loop_watch_forget(struct loop *l, struct loop_watch *w)
{
        if (w->always_ready)
                ready_unlink(l, w);
        w->events = 0;
        batch_forget(l, w);
}

static int watch_dispatch(void *ctx, void *ptr, uint32_t revents, struct rv_error **err)
{
        struct loop_watch *w = ptr;
        return w->fn(ctx, w, revents, err);
}

int loop_run_once(struct loop *l, int timeout_ms, void *ctx, struct rv_error **err)
{
        if (l->ready)
                timeout_ms = 0;
        if (loop_wait(l, timeout_ms, watch_dispatch, ctx, err) < 0)
                return -1;
        /* A handler may remove the next one: ready_unlink moves the cursor. */
        for (struct loop_watch *w = l->ready; w; w = l->ready_next) {
                l->ready_next = w->next_ready;
                uint32_t rev = w->events & (EPOLLIN | EPOLLOUT);
                if (rev && w->fn(ctx, w, rev, err) < 0) {
                        l->ready_next = NULL;
                        return -1;
                }
        }
        l->ready_next = NULL;
        return 0;
}
