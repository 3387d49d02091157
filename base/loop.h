/* SPDX-License-Identifier: Apache-2.0 */
/* The event loop both the monitor and the guest agent run: an epoll set
 * of watches, level-triggered unless a watch asks otherwise, with no cap
 * on how many. A watch is an fd, the events it is registered for, and a
 * handler; its owner keeps the struct (embedded where the fd lives) and
 * removes it before closing the fd: epoll keys on the open file, which
 * may outlive the fd when another process shares it.
 *
 * An fd epoll refuses (a regular file, /dev/null: EPERM) is ready every
 * turn for what it is watched for, as poll(2) reports such files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct rv_error;
struct loop_watch;

/* revents: EPOLL* bits. -1 (with err) ends the turn with that error. */
typedef int (*loop_fn)(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err);

struct loop_watch {
        int fd;
        uint32_t events;                /* registered now; 0: not in the loop */
        loop_fn fn;
        void *data;                     /* the owner's */
        bool always_ready;              /* epoll refused the fd */
        struct loop_watch *next_ready;  /* in the loop's always-ready list */
};

#define LOOP_WATCH_INIT(handler, owner) { .fd = -1, .fn = (handler), .data = (owner) }

/* The events epoll_wait reported and not yet handled, so that a watch
 * removed by an earlier handler of the same turn is not called. */
#define LOOP_BATCH 64

struct loop {
        int epfd;
        struct loop_watch *ready;       /* always-ready watches */
        struct loop_watch *ready_next;  /* the walk's next one this turn */
        void *batch[LOOP_BATCH];
        int n_batch;
};

#define LOOP_INIT { .epfd = -1 }

int loop_init(struct loop *l, struct rv_error **err);
/* Closes the set (the watches' fds are their owners'). */
void loop_fini(struct loop *l);

/* Watches w->fd for events (EPOLLIN, EPOLLOUT, EPOLLET...); 0 removes
 * it. Setting what is registered already costs nothing. */
int loop_watch_set(struct loop *l, struct loop_watch *w, uint32_t events, struct rv_error **err);
/* Same as events 0; never fails. Call it before closing w->fd. */
void loop_watch_remove(struct loop *l, struct loop_watch *w);
/* For an fd someone else closed already: forgets the registration
 * without asking epoll (the number may be another file's by now). */
void loop_watch_forget(struct loop *l, struct loop_watch *w);

/* Waits up to timeout_ms (-1: no limit) and calls each ready watch's
 * handler with ctx. 0 after a turn (also on timeout or EINTR); -1 when
 * epoll failed or a handler did. */
int loop_run_once(struct loop *l, int timeout_ms, void *ctx, struct rv_error **err);

/* The layer watches are made of, for an owner whose watch type is its
 * own (the agent's struct agent_watch): *registered is what fd is in the
 * set for, ptr what comes back to dispatch. Same rules as above, except
 * that an fd epoll refuses fails (EPERM). */
int loop_fd_set(struct loop *l, int fd, uint32_t *registered, uint32_t events, void *ptr,
                struct rv_error **err);
typedef int (*loop_dispatch_fn)(void *ctx, void *ptr, uint32_t revents, struct rv_error **err);
/* Returns how many fds were ready (0: timeout or EINTR), -1 on error. */
int loop_wait(struct loop *l, int timeout_ms, loop_dispatch_fn dispatch, void *ctx, struct rv_error **err);
