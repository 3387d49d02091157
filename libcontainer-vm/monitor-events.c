/* SPDX-License-Identifier: Apache-2.0 */
/* `runvm events` clients: each gets one line per event (oom, network)
 * until the container is gone. A client that cannot take a line at once
 * is dropped rather than allowed to stall the monitor. */
#include "libcontainer-vm/monitor-events.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/loop.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-shared.h"

struct subscriber {
        int fd;                         /* an `events` client */
        struct loop_watch w;
        struct subscriber *next;
};

struct monitor_events {
        struct subscriber *list;
};

struct monitor_events *monitor_events_new(void)
{
        return calloc(1, sizeof(struct monitor_events));
}

int monitor_events_add(struct monitor_events *ev, int fd)
{
        struct subscriber *s = calloc(1, sizeof(*s));

        if (s == NULL)
                return -1;
        s->fd = fd;
        s->next = ev->list;
        ev->list = s;
        return 0;
}

int monitor_events_subscribe(struct monitor *m, int fd)
{
        return monitor_events_add(m->events, fd);
}

static void drop(struct monitor *m, struct subscriber *s)
{
        loop_watch_remove(&m->loop, &s->w);
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

void monitor_events_send(struct monitor *m, struct monitor_events *ev, const char *event_json)
{
        for (struct subscriber *s = ev->list; s; s = s->next)
                if (s->fd >= 0 && ctl_send_reply(s->fd, 0, event_json, strlen(event_json)) < 0)
                        drop(m, s);
}

void monitor_events_publish(struct monitor *m, const char *event_json)
{
        monitor_events_send(m, m->events, event_json);
}

static int on_subscriber(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        struct subscriber *s = w->data;
        char c;

        /* An events client never writes: readable means gone. */
        if (read(s->fd, &c, 1) <= 0)
                drop(ctx, s);
        return 0;
}

int monitor_events_watch_list(struct monitor *m, struct monitor_events *ev, struct rv_error **err)
{
        for (struct subscriber *s = ev->list; s; s = s->next) {
                if (s->fd < 0 || s->w.events)
                        continue;
                s->w = (struct loop_watch) LOOP_WATCH_INIT(on_subscriber, s);
                s->w.fd = s->fd;
                if (loop_watch_set(&m->loop, &s->w, EPOLLIN, err) < 0)
                        return -1;
        }
        return 0;
}

int monitor_events_watch(struct monitor *m, struct rv_error **err)
{
        return monitor_events_watch_list(m, m->events, err);
}

void monitor_events_reap(struct monitor_events *ev)
{
        for (struct subscriber **p = &ev->list; *p;) {
                if ((*p)->fd < 0) {
                        struct subscriber *dead = *p;
                        *p = dead->next;
                        free(dead);
                } else {
                        p = &(*p)->next;
                }
        }
}

void monitor_events_after_turn(struct monitor *m)
{
        monitor_events_reap(m->events);
}

void monitor_events_close_list(struct monitor *m, struct monitor_events *ev)
{
        while (ev->list) {
                struct subscriber *s = ev->list;
                ev->list = s->next;
                drop(m, s);
                free(s);
        }
}

void monitor_events_close(struct monitor *m)
{
        monitor_events_close_list(m, m->events);
}
