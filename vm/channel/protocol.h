/* SPDX-License-Identifier: Apache-2.0 */
/* The protocol's vocabulary, from protocol.def: method and event ids and
 * their names, and the `hello` handshake both sides check. Only this
 * module spells a method or event name. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vm/channel/channel.h"

struct json_value;
struct json_writer;
struct rv_error;

/* The version `hello` carries both ways; the peers must agree. */
#define PROTO_VERSION CHANNEL_PROTOCOL_VERSION

enum proto_method {
#define PROTO_METHOD(id, name, handler) PROTO_##id,
#include "vm/channel/protocol.def"
        _PROTO_METHOD_MAX,
};

enum proto_event {
#define PROTO_EVENT(id, name) PROTO_EVENT_##id,
#include "vm/channel/protocol.def"
        _PROTO_EVENT_MAX,
};

const char *proto_method_name(enum proto_method m);
/* -1 when name is none of the table's. */
int proto_method_lookup(const char *name);
const char *proto_event_name(enum proto_event e);
int proto_event_lookup(const char *name);

/* The agent's `hello` result: {"version", "capabilities": [every method
 * it serves], ...}. */
void proto_hello_write_capabilities(struct json_writer *w);
/* The host's check of that result: the same version, and every method of
 * the table served. One error naming what differs. */
int proto_hello_check(const struct json_value *result, struct rv_error **err);
/* hello's initrd_moved_from: true with *ret set when present and valid. */
bool proto_hello_initrd_moved_from(const struct json_value *result, uint64_t *ret);

/* Parameters the host writes in more than one place, one writer each
 * (shaped like the host's fill functions: params is the struct). They
 * write into the params object, after the container's "id". */
struct proto_signal {                   /* signal_process */
        const char *exec_id;            /* NULL: the container's init */
        int signal;
        bool all;                       /* every process of the container */
};
void proto_write_signal(struct json_writer *w, const void *params);

struct proto_resize {                   /* resize_tty */
        const char *exec_id;            /* NULL: the container's init */
        uint16_t height, width;
};
void proto_write_resize(struct json_writer *w, const void *params);

/* hello's params: the version this side speaks (params unused). */
void proto_write_hello(struct json_writer *w, const void *params);
