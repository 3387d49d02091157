/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's shared state: the event loop, the channel and the
 * containers. Internal to vm/agent/ (the agent has no outside users). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"

struct agent;
struct channel;
struct json_value;
struct json_writer;
struct rv_error;

/* An fd in the event loop (base/loop.h). The handler finds its owner
 * with container_of; events is what is registered now (0: not in the
 * loop). */
struct agent_watch {
        int fd;
        uint32_t events;
        void (*handler)(struct agent *a, struct agent_watch *w, uint32_t revents);
};

struct agent_container;

struct agent {
        struct loop loop;
        struct channel *channel;
        struct agent_watch port;        /* the channel's fd (edge-triggered) */
        struct agent_watch sigchld;     /* signalfd */
        struct agent_watch inotify;     /* memory.events of the containers (OOM kills) */
        bool connected;                 /* the host end is open */
        bool cgroups_ready;             /* controllers enabled in the root's subtree_control */
        uint32_t request_id;            /* the request being handled */
        bool debug;
        int64_t ready_ms;               /* uptime when the agent was ready */
        struct agent_container *containers;
        struct agent_bpf_cache *progs;  /* device programs loaded this boot */
        struct agent_pool_netns *pool_netns; /* a pool VM's namespaces (network-pool.h) */
        struct agent_ram *ram;          /* RAM not added yet (ram.h) */
};

#define agent_container_of(ptr, type, member) \
        ((type *) ((char *) (ptr) - __builtin_offsetof(type, member)))

/* Registers, changes or removes (events 0) w in the loop. */
void agent_watch_set(struct agent *a, struct agent_watch *w, uint32_t events);
/* Removes w from the loop and closes its fd. */
void agent_watch_close(struct agent *a, struct agent_watch *w);

/* A handler returning AGENT_REPLY_LATER answers later: it keeps
 * agent_request_id() and sends the answer with agent_reply_begin/end or
 * agent_reply_error, never blocking the loop on a process. */
#define AGENT_REPLY_LATER 1
uint32_t agent_request_id(struct agent *a);
/* A response envelope for id, to which the caller writes the result
 * value; NULL when out of memory (nothing can be answered then). */
struct json_writer *agent_reply_begin(uint32_t id);
/* Ends, sends and frees w. */
void agent_reply_end(struct agent *a, struct json_writer *w);
void agent_reply_error(struct agent *a, uint32_t id, const struct rv_error *e);

/* The channel every module sends on. */
struct channel *agent_channel(struct agent *a);

/* Logs a failure to send (the host is gone or broke the protocol). */
void agent_channel_failed(struct agent *a, struct rv_error **err);
