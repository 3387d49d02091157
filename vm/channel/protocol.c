/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/channel/protocol.h"

#include <errno.h>
#include <string.h>

#include "base/error.h"
#include "spec/json.h"

static const char *const method_names[_PROTO_METHOD_MAX] = {
#define PROTO_METHOD(id, name, handler) [PROTO_##id] = name,
#include "vm/channel/protocol.def"
};

static const char *const event_names[_PROTO_EVENT_MAX] = {
#define PROTO_EVENT(id, name) [PROTO_EVENT_##id] = name,
#include "vm/channel/protocol.def"
};

const char *proto_method_name(enum proto_method m)
{
        return (unsigned) m < _PROTO_METHOD_MAX ? method_names[m] : "?";
}

int proto_method_lookup(const char *name)
{
        for (int i = 0; name && i < _PROTO_METHOD_MAX; i++)
                if (strcmp(method_names[i], name) == 0)
                        return i;
        return -1;
}

const char *proto_event_name(enum proto_event e)
{
        return (unsigned) e < _PROTO_EVENT_MAX ? event_names[e] : "?";
}

int proto_event_lookup(const char *name)
{
        for (int i = 0; name && i < _PROTO_EVENT_MAX; i++)
                if (strcmp(event_names[i], name) == 0)
                        return i;
        return -1;
}

void proto_hello_write_capabilities(struct json_writer *w)
{
        json_write_key(w, "capabilities");
        json_write_array_begin(w);
        for (int i = 0; i < _PROTO_METHOD_MAX; i++)
                json_write_string(w, method_names[i]);
        json_write_array_end(w);
}

static bool listed(const struct json_value *caps, const char *name)
{
        size_t n = json_array_size(caps);

        for (size_t i = 0; i < n; i++) {
                const struct json_value *v = json_array_get(caps, i);
                const char *s = NULL;
                if (json_is_string(v) && json_read_string(v, "capabilities[]", &s, NULL) == 0 &&
                    strcmp(s, name) == 0)
                        return true;
        }
        return false;
}

int proto_hello_check(const struct json_value *result, struct rv_error **err)
{
        const struct json_value *v = json_get(result, "version");
        const struct json_value *caps = json_get(result, "capabilities");
        int64_t version, unreachable;

        if (v == NULL || !json_is_integer(v) || json_read_int64(v, "version", &version, NULL) < 0)
                return rv_error_setx(err, EPROTO, "hello: the agent's answer has no protocol version");
        if (version != PROTO_VERSION)
                return rv_error_setx(err, EPROTONOSUPPORT,
                                     "hello: the agent speaks protocol %lld, this runvm %d: the guest "
                                     "image does not match this runvm", (long long) version, PROTO_VERSION);
        if (caps == NULL || !json_is_array(caps))
                return rv_error_setx(err, EPROTO, "hello: the agent's answer lists no capabilities: the "
                                     "guest image does not match this runvm");
        for (int i = 0; i < _PROTO_METHOD_MAX; i++)
                if (!listed(caps, method_names[i]))
                        return rv_error_setx(err, EPROTONOSUPPORT,
                                             "hello: the agent does not serve `%s`: the guest image does "
                                             "not match this runvm", method_names[i]);
        /* The VM would run with its boot RAM only: a container given 2 GiB
         * would meet the OOM killer at 256 MiB. */
        v = json_get(result, "ram_unreachable_mib");
        if (v != NULL && json_read_int64(v, "ram_unreachable_mib", &unreachable, NULL) == 0 && unreachable > 0)
                return rv_error_setx(err, EOPNOTSUPP,
                                     "boot_memory_mib: the guest kernel cannot add the %lld MiB of RAM left "
                                     "out at boot (no /sys/devices/system/memory/probe): set "
                                     "boot_memory_mib = 0 for this kernel", (long long) unreachable);
        return 0;
}

bool proto_hello_initrd_moved_from(const struct json_value *result, uint64_t *ret)
{
        const struct json_value *v = json_get(result, "initrd_moved_from");
        int64_t addr;

        if (v == NULL || json_read_int64(v, "initrd_moved_from", &addr, NULL) < 0 || addr <= 0)
                return false;
        *ret = (uint64_t) addr;
        return true;
}

void proto_write_signal(struct json_writer *w, const void *params)
{
        const struct proto_signal *s = params;

        if (s->exec_id) {
                json_write_key(w, "exec_id");
                json_write_string(w, s->exec_id);
        }
        json_write_key(w, "signal");
        json_write_int64(w, s->signal);
        json_write_key(w, "all");
        json_write_bool(w, s->all);
}

void proto_write_resize(struct json_writer *w, const void *params)
{
        const struct proto_resize *r = params;

        if (r->exec_id) {
                json_write_key(w, "exec_id");
                json_write_string(w, r->exec_id);
        }
        json_write_key(w, "height");
        json_write_int64(w, r->height);
        json_write_key(w, "width");
        json_write_int64(w, r->width);
}

void proto_write_hello(struct json_writer *w, const void *params)
{
        json_write_key(w, "version");
        json_write_int64(w, PROTO_VERSION);
}
