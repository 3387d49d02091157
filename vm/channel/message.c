/* SPDX-License-Identifier: Apache-2.0 */
/* Control message envelopes on stream 0. The body (params / result /
 * data) is left to the method's handler; the envelope is checked here
 * strictly, since on the host it comes from the guest. */
#include "vm/channel/message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/text.h"
#include "spec/json.h"

/* errno values travel as the Linux numbers: positive, below 4096 (the
 * kernel's MAX_ERRNO). */
#define MESSAGE_MAX_ERRNO 4095

static const char *message_kind(enum channel_frame_type type)
{
        switch (type) {
        case CHANNEL_REQUEST:
                return "request";
        case CHANNEL_RESPONSE:
                return "response";
        case CHANNEL_EVENT:
                return "event";
        default:
                return "message";
        }
}

/* The envelope keys each kind may carry. Anything else (including a key
 * of another kind, like "error" in a request, or a duplicate) is refused:
 * new envelope fields come with a new protocol version, not silently. */
static bool key_allowed(enum channel_frame_type type, const char *key)
{
        static const char *const request[] = { "id", "method", "params", NULL };
        static const char *const response[] = { "id", "result", "error", "errno", NULL };
        static const char *const event[] = { "event", "data", NULL };
        const char *const *keys = type == CHANNEL_REQUEST  ? request
                                : type == CHANNEL_RESPONSE ? response
                                                           : event;

        for (; *keys; keys++)
                if (strcmp(*keys, key) == 0)
                        return true;
        return false;
}

static int check_keys(const struct json_value *root, enum channel_frame_type type,
                      struct rv_error **err)
{
        size_t n = json_object_size(root);

        for (size_t i = 0; i < n; i++) {
                const char *key = json_object_key(root, i);

                if (key == NULL || !key_allowed(type, key))
                        return rv_error_set(err, EPROTO, "unexpected key \"%s\"",
                                            key ? key : "");
                for (size_t j = 0; j < i; j++)
                        if (strcmp(json_object_key(root, j), key) == 0)
                                return rv_error_set(err, EPROTO, "duplicate key \"%s\"", key);
        }
        return 0;
}

/* A name (method, event): a non-empty string. */
static int read_name(const struct json_value *root, const char *key, const char **ret,
                     struct rv_error **err)
{
        const struct json_value *v = json_get(root, key);
        const char *s;

        if (v == NULL)
                return rv_error_set(err, EPROTO, "missing \"%s\"", key);
        if (json_read_string(v, key, &s, err) < 0)
                return -1;
        if (s[0] == '\0')
                return rv_error_set(err, EPROTO, "`%s`: empty", key);
        *ret = s;
        return 0;
}

static int read_id(const struct json_value *root, uint32_t *ret, struct rv_error **err)
{
        const struct json_value *v = json_get(root, "id");

        if (v == NULL)
                return rv_error_set(err, EPROTO, "missing \"id\"");
        return json_read_uint32(v, "id", ret, err);
}

static int parse_envelope(const struct json_value *root, struct channel_message *m,
                          struct rv_error **err)
{
        const struct json_value *v;

        if (!json_is_object(root))
                return rv_error_set(err, EPROTO, "expected a JSON object");
        if (check_keys(root, m->type, err) < 0)
                return -1;

        switch (m->type) {
        case CHANNEL_REQUEST:
                if (read_id(root, &m->id, err) < 0 || read_name(root, "method", &m->method, err) < 0)
                        return -1;
                m->body = json_get(root, "params");
                return 0;
        case CHANNEL_RESPONSE:
                if (read_id(root, &m->id, err) < 0)
                        return -1;
                m->body = json_get(root, "result");
                v = json_get(root, "error");
                if (v == NULL) {
                        if (json_get(root, "errno") != NULL)
                                return rv_error_set(err, EPROTO, "\"errno\" without \"error\"");
                        return 0;
                }
                if (m->body != NULL)
                        return rv_error_set(err, EPROTO, "both \"result\" and \"error\"");
                if (json_read_string(v, "error", &m->error, err) < 0)
                        return -1;
                v = json_get(root, "errno");
                if (v != NULL) {
                        int32_t e;

                        if (json_read_int32(v, "errno", &e, err) < 0)
                                return -1;
                        if (e <= 0 || e > MESSAGE_MAX_ERRNO)
                                return rv_error_set(err, EPROTO, "`errno`: %d out of range (1 to %d)",
                                                    e, MESSAGE_MAX_ERRNO);
                        m->error_errno = e;
                }
                return 0;
        case CHANNEL_EVENT:
                if (read_name(root, "event", &m->event, err) < 0)
                        return -1;
                m->body = json_get(root, "data");
                return 0;
        default:
                return rv_error_set(err, EPROTO, "frame type %u is not a control message", m->type);
        }
}

int channel_message_parse(const struct channel_frame *f, struct channel_message *ret,
                          struct rv_error **err)
{
        struct channel_message m = { .type = (enum channel_frame_type) f->type };
        struct json_value *root = NULL;

        if (f->stream != CHANNEL_STREAM_CONTROL ||
            (f->type != CHANNEL_REQUEST && f->type != CHANNEL_RESPONSE && f->type != CHANNEL_EVENT))
                return rv_error_set(err, EPROTO,
                                    "channel: message: frame type %u on stream %u is not a control message",
                                    f->type, f->stream);
        if (json_parse((const char *) f->payload, f->length, &root, err) < 0) {
                /* json_parse's errno is about the document, not the system. */
                if (err != NULL && *err != NULL)
                        (*err)->status = EPROTO;
                return rv_error_wrap(err, "channel: %s", message_kind(m.type));
        }
        if (parse_envelope(root, &m, err) < 0) {
                json_value_free(root);
                if (err != NULL && *err != NULL)
                        (*err)->status = EPROTO;
                return rv_error_wrap(err, "channel: %s", message_kind(m.type));
        }
        m.root = root;
        *ret = m;
        return 0;
}

static void sanitize_string(char *s)
{
        rv_text_sanitize(s);
}

void channel_message_sanitize(struct channel_message *m)
{
        /* method, event and error point into the tree: done with it. */
        json_value_map_strings(m->root, sanitize_string);
}

void channel_message_clear(struct channel_message *m)
{
        if (m == NULL)
                return;
        json_value_free(m->root);
        *m = (struct channel_message) { 0 };
}

void channel_message_begin_request(struct json_writer *w, uint32_t id, const char *method)
{
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_uint64(w, id);
        json_write_key(w, "method");
        json_write_string(w, method);
        json_write_key(w, "params");
}

void channel_message_begin_response(struct json_writer *w, uint32_t id)
{
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_uint64(w, id);
        json_write_key(w, "result");
}

void channel_message_begin_event(struct json_writer *w, const char *event)
{
        json_write_object_begin(w);
        json_write_key(w, "event");
        json_write_string(w, event);
        json_write_key(w, "data");
}

void channel_message_end(struct json_writer *w)
{
        json_write_object_end(w);
}

void channel_message_write_error(struct json_writer *w, uint32_t id, int errnum, const char *msg)
{
        /* Callers hold errors as rv_error.status (positive) or as -errno
         * from a libc-style wrapper: accept both, send the positive value. */
        if (errnum < 0)
                errnum = -errnum;
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_uint64(w, id);
        json_write_key(w, "error");
        json_write_string(w, msg != NULL && msg[0] != '\0' ? msg : "unknown error");
        if (errnum > 0 && errnum <= MESSAGE_MAX_ERRNO) {
                json_write_key(w, "errno");
                json_write_int64(w, errnum);
        }
        json_write_object_end(w);
}

int channel_send_message(struct channel *ch, enum channel_frame_type type, struct json_writer *w,
                         struct rv_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (json_writer_finish(w, &buf, &len, err) < 0)
                return rv_error_wrap(err, "channel: send %s", message_kind(type));
        /* channel_send_control's errors already say "channel: ...". */
        return channel_send_control(ch, type, buf, len, err);
}
