/* SPDX-License-Identifier: Apache-2.0 */
/* spec/json.h's generator on top of yajl_gen (compact, UTF-8 validated),
 * re-indented like Go's MarshalIndent. */
#include "spec/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/json-yajl.h"
#include "spec/spec-internal.h"


/* ---- generation -------------------------------------------------------- */

struct json_writer {
        yajl_gen gen;
        char *indent;           /* NULL: compact */
        int depth;
        bool wrote;             /* a top-level value was started */
        bool failed;
        char *failure;          /* first failure, reported by finish */
};

struct json_writer *json_writer_new(const char *indent)
{
        struct json_writer *w = calloc(1, sizeof(*w));

        if (w == NULL)
                return NULL;
        w->gen = yajl_gen_alloc(NULL);
        if (w->gen == NULL) {
                free(w);
                return NULL;
        }
        yajl_gen_config(w->gen, yajl_gen_validate_utf8, 1);
        if (indent != NULL) {
                w->indent = strdup(indent);
                if (w->indent == NULL) {
                        json_writer_free(w);
                        return NULL;
                }
        }
        return w;
}

void json_writer_free(struct json_writer *w)
{
        if (w == NULL)
                return;
        if (w->gen)
                yajl_gen_free(w->gen);
        free(w->indent);
        free(w->failure);
        free(w);
}

void json_writer_fail(struct json_writer *w, const char *msg)
{
        if (w == NULL || w->failed)
                return;
        w->failed = true;
        w->failure = strdup(msg);       /* NULL: reported as ENOMEM */
}

static void check(struct json_writer *w, yajl_gen_status s)
{
        switch (s) {
        case yajl_gen_status_ok:
                return;
        case yajl_gen_invalid_string:
                json_writer_fail(w, "invalid UTF-8 in string");
                return;
        case yajl_gen_keys_must_be_strings:
                json_writer_fail(w, "object member without a key");
                return;
        case yajl_max_depth_exceeded:
                json_writer_fail(w, "nesting too deep");
                return;
        case yajl_gen_generation_complete:
                json_writer_fail(w, "more than one top-level value");
                return;
        case yajl_gen_in_error_state:
                json_writer_fail(w, "writer in error state");
                return;
        default:
                json_writer_fail(w, "invalid JSON generation");
                return;
        }
}

void json_write_object_begin(struct json_writer *w)
{
        if (w == NULL)
                return;
        w->wrote = true;
        w->depth++;
        check(w, yajl_gen_map_open(w->gen));
}

void json_write_object_end(struct json_writer *w)
{
        if (w == NULL)
                return;
        w->depth--;
        check(w, yajl_gen_map_close(w->gen));
}

void json_write_array_begin(struct json_writer *w)
{
        if (w == NULL)
                return;
        w->wrote = true;
        w->depth++;
        check(w, yajl_gen_array_open(w->gen));
}

void json_write_array_end(struct json_writer *w)
{
        if (w == NULL)
                return;
        w->depth--;
        check(w, yajl_gen_array_close(w->gen));
}

void json_write_key(struct json_writer *w, const char *key)
{
        if (w == NULL)
                return;
        if (key == NULL) {
                json_writer_fail(w, "NULL object key");
                return;
        }
        check(w, yajl_gen_string(w->gen, (const unsigned char *) key, strlen(key)));
}

void json_write_string(struct json_writer *w, const char *s)
{
        if (w == NULL)
                return;
        w->wrote = true;
        if (s == NULL)
                check(w, yajl_gen_null(w->gen));
        else
                check(w, yajl_gen_string(w->gen, (const unsigned char *) s, strlen(s)));
}

void json_write_int64(struct json_writer *w, int64_t v)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

        if (w == NULL)
                return;
        w->wrote = true;
        check(w, yajl_gen_number(w->gen, buf, (size_t) n));
}

void json_write_uint64(struct json_writer *w, uint64_t v)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

        if (w == NULL)
                return;
        w->wrote = true;
        check(w, yajl_gen_number(w->gen, buf, (size_t) n));
}

void json_write_double(struct json_writer *w, double v)
{
        if (w == NULL)
                return;
        w->wrote = true;
        check(w, yajl_gen_double(w->gen, v));
}

void json_write_bool(struct json_writer *w, bool v)
{
        if (w == NULL)
                return;
        w->wrote = true;
        check(w, yajl_gen_bool(w->gen, v));
}

void json_write_null(struct json_writer *w)
{
        if (w == NULL)
                return;
        w->wrote = true;
        check(w, yajl_gen_null(w->gen));
}

void json_write_value(struct json_writer *w, const struct json_value *jv)
{
        yajl_val v = Y(jv);

        if (w == NULL)
                return;
        if (v == NULL) {
                json_write_null(w);
                return;
        }
        switch (v->type) {
        case yajl_t_string:
                json_write_string(w, v->u.string);
                break;
        case yajl_t_number:
                w->wrote = true;
                if (v->u.number.r)
                        check(w, yajl_gen_number(w->gen, v->u.number.r, strlen(v->u.number.r)));
                else
                        json_writer_fail(w, "number without text");
                break;
        case yajl_t_object:
                json_write_object_begin(w);
                for (size_t i = 0; i < v->u.object.len; i++) {
                        json_write_key(w, v->u.object.keys[i]);
                        json_write_value(w, J(v->u.object.values[i]));
                }
                json_write_object_end(w);
                break;
        case yajl_t_array:
                json_write_array_begin(w);
                for (size_t i = 0; i < v->u.array.len; i++)
                        json_write_value(w, J(v->u.array.values[i]));
                json_write_array_end(w);
                break;
        case yajl_t_true:
                json_write_bool(w, true);
                break;
        case yajl_t_false:
                json_write_bool(w, false);
                break;
        default:
                json_write_null(w);
                break;
        }
}

void json_write_raw(struct json_writer *w, const char *text)
{
        struct json_value *v = NULL;
        _cleanup_error_ struct rv_error *tmp_err = NULL;

        if (w == NULL)
                return;
        if (text == NULL) {
                json_write_null(w);
                return;
        }
        if (json_parse(text, strlen(text), &v, &tmp_err) < 0) {
                json_writer_fail(w, "invalid raw JSON text");
                return;
        }
        json_write_value(w, v);
        json_value_free(v);
}

char *json_reindent(const char *in, size_t len, const char *indent, size_t *ret_len)
{
        size_t ilen = strlen(indent), cap = len * 2 + 64, n = 0, depth = 0;
        bool in_str = false, esc = false;
        char *out = malloc(cap);

#define PUT(c) do {                                                     \
                if (n + 1 >= cap) {                                     \
                        char *o_ = realloc(out, cap *= 2);              \
                        if (o_ == NULL) { free(out); return NULL; }     \
                        out = o_;                                       \
                }                                                       \
                out[n++] = (c);                                         \
        } while (0)
#define NEWLINE() do {                                                  \
                PUT('\n');                                              \
                for (size_t d_ = 0; d_ < depth; d_++)                   \
                        for (size_t k_ = 0; k_ < ilen; k_++)            \
                                PUT(indent[k_]);                        \
        } while (0)

        if (out == NULL)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (in_str) {
                        PUT(c);
                        if (esc)
                                esc = false;
                        else if (c == '\\')
                                esc = true;
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                switch (c) {
                case '"':
                        in_str = true;
                        PUT(c);
                        break;
                case '{':
                case '[':
                        PUT(c);
                        if (i + 1 < len && (in[i + 1] == '}' || in[i + 1] == ']')) {
                                PUT(in[++i]);
                                break;
                        }
                        depth++;
                        NEWLINE();
                        break;
                case '}':
                case ']':
                        if (depth > 0)
                                depth--;
                        NEWLINE();
                        PUT(c);
                        break;
                case ',':
                        PUT(c);
                        NEWLINE();
                        break;
                case ':':
                        PUT(c);
                        PUT(' ');
                        break;
                case ' ':
                case '\n':
                case '\t':
                case '\r':
                        break;
                default:
                        PUT(c);
                        break;
                }
        }
        out[n] = '\0';
#undef PUT
#undef NEWLINE
        if (ret_len)
                *ret_len = n;
        return out;
}

int json_writer_finish(struct json_writer *w, char **ret, size_t *ret_len, struct rv_error **err)
{
        const unsigned char *buf = NULL;
        size_t len = 0;
        char *out;

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "generate JSON");
        if (w->failed && w->failure == NULL)
                return rv_error_set(err, ENOMEM, "generate JSON");
        if (w->failed)
                return spec_error_invalid(err, "generate JSON: %s", w->failure);
        if (w->depth != 0)
                return spec_error_invalid(err, "generate JSON: unbalanced nesting");
        if (!w->wrote)
                return spec_error_invalid(err, "generate JSON: nothing written");
        if (yajl_gen_get_buf(w->gen, &buf, &len) != yajl_gen_status_ok)
                return spec_error_invalid(err, "generate JSON: incomplete document");
        if (w->indent != NULL) {
                out = json_reindent((const char *) buf, len, w->indent, &len);
                if (out == NULL)
                        return rv_error_set(err, ENOMEM, "generate JSON");
        } else {
                out = malloc(len + 1);
                if (out == NULL)
                        return rv_error_set(err, ENOMEM, "generate JSON");
                memcpy(out, buf, len);
                out[len] = '\0';
        }
        /* callers own newlines */
        while (len > 0 && out[len - 1] == '\n')
                out[--len] = '\0';
        *ret = out;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int json_value_to_text(const struct json_value *v, char **ret, struct rv_error **err)
{
        struct json_writer *w = json_writer_new(NULL);
        int r;

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "generate JSON");
        json_write_value(w, v);
        r = json_writer_finish(w, ret, NULL, err);
        json_writer_free(w);
        return r;
}
