/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's shared state: the event loop, the channel and the
 * containers. Internal to vm/agent/ (the agent has no outside users). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct agent;
struct channel;
struct json_value;
struct json_writer;
struct rv_error;

/* An fd in the event loop. The handler finds its owner with container_of;
 * events is what is registered now (0: not in the epoll set). */
struct agent_watch {
        int fd;
        uint32_t events;
        void (*handler)(struct agent *a, struct agent_watch *w, uint32_t revents);
};

struct agent_container;

struct agent {
        int epfd;
        struct channel *channel;
        struct agent_watch port;        /* the channel's fd (edge-triggered) */
        struct agent_watch sigchld;     /* signalfd */
        bool connected;                 /* the host end is open */
        bool debug;
        int64_t ready_ms;               /* uptime when the agent was ready */
        struct agent_container *containers;
};

#define agent_container_of(ptr, type, member) \
        ((type *) ((char *) (ptr) - __builtin_offsetof(type, member)))

/* Registers, changes or removes (events 0) w in the loop. */
void agent_watch_set(struct agent *a, struct agent_watch *w, uint32_t events);
/* Removes w from the loop and closes its fd. */
void agent_watch_close(struct agent *a, struct agent_watch *w);

/* The channel every module sends on. */
struct channel *agent_channel(struct agent *a);

/* Logs a failure to send (the host is gone or broke the protocol). */
void agent_channel_failed(struct agent *a, struct rv_error **err);
