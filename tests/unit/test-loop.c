/* SPDX-License-Identifier: Apache-2.0 */
/* The event loop: add, modify, remove; no cap on watches; files that
 * epoll refuses are always ready; a watch removed by an earlier handler
 * of the same turn is not called. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/loop.h"

struct counts {
        int calls;
        uint32_t last;
        struct loop *l;
};

static int count(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        struct counts *c = ctx;

        c->calls++;
        c->last = revents;
        (*(int *) w->data)++;
        return 0;
}

static int failing(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        return rv_error_setx(err, EIO, "handler failed");
}

static void test_add_modify_remove(void **state)
{
        struct loop l;
        struct rv_error *err = NULL;
        struct counts c = { .l = &l };
        int fds[2], hits = 0;

        assert_int_equal(loop_init(&l, &err), 0);
        assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        struct loop_watch r = LOOP_WATCH_INIT(count, &hits), w = LOOP_WATCH_INIT(count, &hits);
        r.fd = fds[0];
        w.fd = fds[1];

        /* Nothing to read: a timeout. */
        assert_int_equal(loop_watch_set(&l, &r, EPOLLIN, &err), 0);
        assert_int_equal(loop_run_once(&l, 0, &c, &err), 0);
        assert_int_equal(c.calls, 0);
        /* Readable, level-triggered: every turn until read. */
        assert_int_equal(write(fds[1], "x", 1), 1);
        assert_int_equal(loop_run_once(&l, 1000, &c, &err), 0);
        assert_int_equal(loop_run_once(&l, 1000, &c, &err), 0);
        assert_int_equal(c.calls, 2);
        assert_true(c.last & EPOLLIN);
        /* Modified to nothing it waits for... */
        assert_int_equal(loop_watch_set(&l, &r, EPOLLOUT, &err), 0);
        assert_int_equal(loop_run_once(&l, 0, &c, &err), 0);
        assert_int_equal(c.calls, 2);
        /* ...and removed, even though readable. */
        assert_int_equal(loop_watch_set(&l, &r, EPOLLIN, &err), 0);
        loop_watch_remove(&l, &r);
        assert_int_equal(r.events, 0);
        assert_int_equal(loop_run_once(&l, 0, &c, &err), 0);
        assert_int_equal(c.calls, 2);
        /* The write end is writable. */
        assert_int_equal(loop_watch_set(&l, &w, EPOLLOUT, &err), 0);
        assert_int_equal(loop_run_once(&l, 1000, &c, &err), 0);
        assert_int_equal(c.calls, 3);
        assert_true(c.last & EPOLLOUT);
        /* A handler's error ends the turn with it. */
        w.fn = failing;
        assert_int_equal(loop_run_once(&l, 1000, &c, &err), -1);
        assert_string_equal(err->msg, "handler failed");
        rv_error_release(&err);
        loop_watch_remove(&l, &w);
        close(fds[0]);
        close(fds[1]);
        loop_fini(&l);
}

/* More watches than the old poll array held (512), all delivered. */
#define MANY 700

static void test_no_cap(void **state)
{
        struct loop l;
        struct rv_error *err = NULL;
        struct counts c = { .l = &l };
        struct loop_watch *w = calloc(MANY, sizeof(*w));
        int *hits = calloc(MANY, sizeof(int));

        assert_int_equal(loop_init(&l, &err), 0);
        for (int i = 0; i < MANY; i++) {
                w[i] = (struct loop_watch) LOOP_WATCH_INIT(count, &hits[i]);
                w[i].fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
                assert_true(w[i].fd >= 0);
                assert_int_equal(loop_watch_set(&l, &w[i], EPOLLIN, &err), 0);
        }
        /* LOOP_BATCH a turn: every one within a bounded number of turns. */
        for (int turn = 0; turn < MANY; turn++) {
                assert_int_equal(loop_run_once(&l, 0, &c, &err), 0);
                for (int i = 0; i < MANY; i++)
                        if (hits[i])
                                loop_watch_remove(&l, &w[i]);
        }
        for (int i = 0; i < MANY; i++) {
                assert_int_equal(hits[i], 1);
                close(w[i].fd);
        }
        loop_fini(&l);
        free(w);
        free(hits);
}

/* epoll refuses regular files; poll says they are always ready. */
static void test_file_always_ready(void **state)
{
        struct loop l;
        struct rv_error *err = NULL;
        struct counts c = { .l = &l };
        char path[] = "/tmp/monitor-test-loop-XXXXXX";
        int hits = 0;
        struct loop_watch f = LOOP_WATCH_INIT(count, &hits);

        assert_int_equal(loop_init(&l, &err), 0);
        f.fd = mkstemp(path);
        assert_true(f.fd >= 0);
        unlink(path);
        assert_int_equal(loop_watch_set(&l, &f, EPOLLOUT, &err), 0);
        assert_true(f.always_ready);
        /* Ready at once, even with no timeout given. */
        assert_int_equal(loop_run_once(&l, -1, &c, &err), 0);
        assert_int_equal(hits, 1);
        assert_int_equal(c.last, EPOLLOUT);
        assert_int_equal(loop_watch_set(&l, &f, EPOLLIN | EPOLLOUT, &err), 0);
        assert_int_equal(loop_run_once(&l, -1, &c, &err), 0);
        assert_int_equal(c.last, EPOLLIN | EPOLLOUT);
        loop_watch_remove(&l, &f);
        assert_false(f.always_ready);
        assert_int_equal(loop_run_once(&l, 0, &c, &err), 0);
        assert_int_equal(hits, 2);
        close(f.fd);
        loop_fini(&l);
}

/* Two ready watches; whichever runs first removes the other, which is
 * then not called although epoll reported it in the same turn. */
struct pair_side {
        struct loop *l;
        struct loop_watch *other;
        int hits;
};

static int remove_other(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        struct pair_side *me = w->data;

        me->hits++;
        loop_watch_remove(me->l, me->other);
        return 0;
}

static void test_removed_in_turn_not_called(void **state)
{
        struct loop l;
        struct rv_error *err = NULL;
        struct loop_watch a, b;
        struct pair_side sa = { &l, &b, 0 }, sb = { &l, &a, 0 };

        assert_int_equal(loop_init(&l, &err), 0);
        a = (struct loop_watch) LOOP_WATCH_INIT(remove_other, &sa);
        b = (struct loop_watch) LOOP_WATCH_INIT(remove_other, &sb);
        a.fd = eventfd(1, EFD_CLOEXEC);
        b.fd = eventfd(1, EFD_CLOEXEC);
        assert_int_equal(loop_watch_set(&l, &a, EPOLLIN, &err), 0);
        assert_int_equal(loop_watch_set(&l, &b, EPOLLIN, &err), 0);
        /* Both are readable before the turn starts. */
        assert_int_equal(loop_run_once(&l, 1000, NULL, &err), 0);
        assert_int_equal(sa.hits + sb.hits, 1);
        loop_watch_remove(&l, &a);
        loop_watch_remove(&l, &b);
        close(a.fd);
        close(b.fd);
        loop_fini(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_modify_remove),
                cmocka_unit_test(test_no_cap),
                cmocka_unit_test(test_file_always_ready),
                cmocka_unit_test(test_removed_in_turn_not_called),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
