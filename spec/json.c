/* SPDX-License-Identifier: Apache-2.0 */
/* spec/json.h's parsing on top of yajl_tree: the tree, its typed,
 * path-carrying reads, and the spec's error and path helpers. The
 * generator is json-write.c. */
#include "spec/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/json-yajl.h"
#include "spec/spec-internal.h"

int spec_error_invalid(struct rv_error **err, const char *fmt, ...)
{
        va_list ap;

        if (err == NULL || *err != NULL)
                return -1;
        va_start(ap, fmt);
        rv_error_setv(err, 0, fmt, ap);
        va_end(ap);
        if (*err != NULL)
                (*err)->status = EINVAL;
        return -1;
}

char *spec_path_key(const char *prefix, const char *key)
{
        char *s = NULL;

        if (prefix == NULL || prefix[0] == '\0')
                return strdup(key);
        if (asprintf(&s, "%s.%s", prefix, key) < 0)
                return NULL;
        return s;
}

char *spec_path_index(const char *prefix, size_t i)
{
        char *s = NULL;

        if (asprintf(&s, "%s[%zu]", prefix ? prefix : "", i) < 0)
                return NULL;
        return s;
}

/* ---- parsing ----------------------------------------------------------- */

/* Nesting depth of a JSON text, ignoring brackets inside strings and
 * inside the comments yajl_tree accepts. */
static bool json_depth_ok(const char *text, size_t len)
{
        bool in_str = false, esc = false;
        size_t depth = 0;

        for (size_t i = 0; i < len; i++) {
                char c = text[i];
                if (!in_str && c == '/' && i + 1 < len && text[i + 1] == '*') {
                        const char *end = memmem(text + i + 2, len - i - 2, "*/", 2);
                        if (end == NULL)
                                return true;    /* yajl refuses it */
                        i = (size_t) (end - text) + 1;
                        continue;
                }
                if (!in_str && c == '/' && i + 1 < len && text[i + 1] == '/') {
                        const char *end = memchr(text + i, '\n', len - i);
                        if (end == NULL)
                                return true;
                        i = (size_t) (end - text);
                        continue;
                }
                if (in_str) {
                        if (esc)
                                esc = false;
                        else if (c == '\\')
                                esc = true;
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                if (c == '"')
                        in_str = true;
                else if (c == '[' || c == '{') {
                        if (++depth > JSON_MAX_DEPTH)
                                return false;
                } else if ((c == ']' || c == '}') && depth > 0)
                        depth--;
        }
        return true;
}

/* Where the first string holding an escaped NUL (\u0000) is, as a JSON
 * path ("process.args[1]"): yajl_tree hands strings over NUL-terminated,
 * so such a string would be cut short silently. The text is valid JSON
 * (yajl parsed it) with at most JSON_MAX_DEPTH levels. */
struct nul_frame {
        bool object;
        size_t index;
        char key[128];
};

static void nul_path(const struct nul_frame *st, size_t depth, bool in_key, char *out, size_t size)
{
        size_t n = 0;

        out[0] = '\0';
        for (size_t i = 0; i < depth && n < size; i++) {
                if (st[i].object && (i + 1 < depth || !in_key))
                        n += (size_t) snprintf(out + n, size - n, "%s%s", n ? "." : "", st[i].key);
                else if (!st[i].object)
                        n += (size_t) snprintf(out + n, size - n, "[%zu]", st[i].index);
        }
}

bool json_find_nul(const char *text, size_t len, char *path, size_t path_size)
{
        struct nul_frame st[JSON_MAX_DEPTH + 1];
        size_t depth = 0;
        bool want_key = false;

        if (memmem(text, len, "\\u0000", 6) == NULL)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = text[i];
                if (c == '/' && i + 1 < len && (text[i + 1] == '*' || text[i + 1] == '/')) {
                        const char *end = text[i + 1] == '*' ? memmem(text + i + 2, len - i - 2, "*/", 2)
                                                            : memchr(text + i, '\n', len - i);
                        if (end == NULL)
                                return false;
                        i = (size_t) (end - text) + (text[i + 1] == '*');
                        continue;
                }
                switch (c) {
                case '{':
                case '[':
                        if (depth == JSON_MAX_DEPTH)
                                return false;
                        st[depth++] = (struct nul_frame) { .object = c == '{' };
                        want_key = c == '{';
                        break;
                case '}':
                case ']':
                        if (depth > 0)
                                depth--;
                        want_key = false;
                        break;
                case ',':
                        if (depth > 0 && st[depth - 1].object)
                                want_key = true;
                        else if (depth > 0)
                                st[depth - 1].index++;
                        break;
                case '"': {
                        bool nul = false, is_key = want_key && depth > 0;
                        size_t k = 0, j = i + 1;
                        for (; j < len && text[j] != '"'; j++) {
                                if (text[j] == '\\' && j + 1 < len) {
                                        if (text[j + 1] == 'u' && j + 5 < len && memcmp(text + j + 2, "0000", 4) == 0)
                                                nul = true;
                                        if (is_key && k + 2 < sizeof(st[0].key))
                                                st[depth - 1].key[k++] = text[j];
                                        j++;
                                }
                                if (is_key && k + 1 < sizeof(st[0].key))
                                        st[depth - 1].key[k++] = text[j];
                        }
                        if (is_key) {
                                st[depth - 1].key[k] = '\0';
                                want_key = false;
                        }
                        if (nul) {
                                nul_path(st, depth, is_key, path, path_size);
                                return true;
                        }
                        i = j;
                        break;
                }
                default:
                        break;
                }
        }
        return false;
}

int json_parse(const char *text, size_t len, struct json_value **ret, struct rv_error **err)
{
        _cleanup_free_ char *buf = NULL;
        char errbuf[1024] = "";
        yajl_val v;

        if (memchr(text, '\0', len) != NULL)
                return spec_error_invalid(err, "unexpected NUL byte in JSON text");
        if (!json_depth_ok(text, len))
                return spec_error_invalid(err, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
        buf = malloc(len + 1);
        if (buf == NULL)
                return rv_error_set(err, ENOMEM, "parse JSON");
        memcpy(buf, text, len);
        buf[len] = '\0';
        v = yajl_tree_parse(buf, errbuf, sizeof(errbuf));
        if (v == NULL) {
                /* yajl's verbose message spans lines (a text excerpt and a
                 * caret): keep the first line. */
                size_t n;

                errbuf[strcspn(errbuf, "\n")] = '\0';
                n = strlen(errbuf);
                if (n > 0 && errbuf[n - 1] == '.')      /* messages end without a period */
                        errbuf[n - 1] = '\0';
                if (errbuf[0] == '\0')
                        snprintf(errbuf, sizeof(errbuf), "invalid JSON");
                return spec_error_invalid(err, "%s", errbuf);
        }
        *ret = (struct json_value *) v;
        return 0;
}

void json_value_map_strings(struct json_value *v, void (*fn)(char *s))
{
        yajl_val y = Y(v);

        if (y == NULL)
                return;
        if (YAJL_IS_STRING(y)) {
                fn(y->u.string);
        } else if (YAJL_IS_OBJECT(y)) {
                for (size_t i = 0; i < y->u.object.len; i++) {
                        fn((char *) y->u.object.keys[i]);
                        json_value_map_strings((struct json_value *) y->u.object.values[i], fn);
                }
        } else if (YAJL_IS_ARRAY(y)) {
                for (size_t i = 0; i < y->u.array.len; i++)
                        json_value_map_strings((struct json_value *) y->u.array.values[i], fn);
        }
}

void json_value_free(struct json_value *root)
{
        if (root)
                yajl_tree_free(Y(root));
}

bool json_is_object(const struct json_value *v) { return YAJL_IS_OBJECT(Y(v)); }
bool json_is_array(const struct json_value *v) { return YAJL_IS_ARRAY(Y(v)); }
bool json_is_string(const struct json_value *v) { return YAJL_IS_STRING(Y(v)); }
bool json_is_integer(const struct json_value *v) { return YAJL_IS_INTEGER(Y(v)); }
bool json_is_number(const struct json_value *v) { return YAJL_IS_NUMBER(Y(v)); }
bool json_is_bool(const struct json_value *v) { return YAJL_IS_TRUE(Y(v)) || YAJL_IS_FALSE(Y(v)); }
bool json_is_null(const struct json_value *v) { return YAJL_IS_NULL(Y(v)); }

/* The last member with that key wins, as with Go's encoding/json. */
const struct json_value *json_get(const struct json_value *v, const char *key)
{
        yajl_val o = Y(v);

        if (!YAJL_IS_OBJECT(o) || key == NULL)
                return NULL;
        for (size_t i = o->u.object.len; i > 0; i--)
                if (strcmp(o->u.object.keys[i - 1], key) == 0)
                        return J(o->u.object.values[i - 1]);
        return NULL;
}

size_t json_object_size(const struct json_value *v)
{
        return YAJL_IS_OBJECT(Y(v)) ? Y(v)->u.object.len : 0;
}

const char *json_object_key(const struct json_value *v, size_t i)
{
        if (i >= json_object_size(v))
                return NULL;
        return Y(v)->u.object.keys[i];
}

const struct json_value *json_object_value(const struct json_value *v, size_t i)
{
        if (i >= json_object_size(v))
                return NULL;
        return J(Y(v)->u.object.values[i]);
}

size_t json_array_size(const struct json_value *v)
{
        return YAJL_IS_ARRAY(Y(v)) ? Y(v)->u.array.len : 0;
}

const struct json_value *json_array_get(const struct json_value *v, size_t i)
{
        if (i >= json_array_size(v))
                return NULL;
        return J(Y(v)->u.array.values[i]);
}

static const char *P(const char *path) { return path ? path : ""; }

int json_read_string(const struct json_value *v, const char *path, const char **ret, struct rv_error **err)
{
        if (!YAJL_IS_STRING(Y(v)))
                return spec_error_invalid(err, "`%s`: expected a string", P(path));
        *ret = Y(v)->u.string;
        return 0;
}

/* Parses the number's own text: -?[0-9]+ only (no fraction, no exponent),
 * checked for overflow. */
static int json_integer_text(const struct json_value *v, const char *path,
                             bool *ret_neg, uint64_t *ret_mag, struct rv_error **err)
{
        const char *s;
        uint64_t mag = 0;
        bool neg = false;

        if (!YAJL_IS_NUMBER(Y(v)) || Y(v)->u.number.r == NULL)
                return spec_error_invalid(err, "`%s`: expected an integer", P(path));
        s = Y(v)->u.number.r;
        if (*s == '-') {
                neg = true;
                s++;
        }
        if (*s < '0' || *s > '9')
                return spec_error_invalid(err, "`%s`: expected an integer", P(path));
        for (; *s; s++) {
                unsigned d;
                if (*s < '0' || *s > '9')
                        return spec_error_invalid(err, "`%s`: expected an integer, got %s",
                                                  P(path), Y(v)->u.number.r);
                d = (unsigned) (*s - '0');
                if (mag > (UINT64_MAX - d) / 10)
                        return spec_error_invalid(err, "`%s`: integer %s out of range",
                                                  P(path), Y(v)->u.number.r);
                mag = mag * 10 + d;
        }
        if (neg && mag == 0)
                neg = false;
        *ret_neg = neg;
        *ret_mag = mag;
        return 0;
}

static int json_read_unsigned(const struct json_value *v, const char *path, uint64_t max,
                              uint64_t *ret, struct rv_error **err)
{
        uint64_t mag = 0;
        bool neg = false;

        if (json_integer_text(v, path, &neg, &mag, err) < 0)
                return -1;
        if (neg || mag > max)
                return spec_error_invalid(err, "`%s`: integer %s out of range [0, %" PRIu64 "]",
                                          P(path), Y(v)->u.number.r, max);
        *ret = mag;
        return 0;
}

static int json_read_signed(const struct json_value *v, const char *path, int64_t min, int64_t max,
                            int64_t *ret, struct rv_error **err)
{
        uint64_t mag = 0;
        int64_t val;
        bool neg = false;

        if (json_integer_text(v, path, &neg, &mag, err) < 0)
                return -1;
        if (neg) {
                if (mag > (uint64_t) INT64_MAX + 1)
                        goto range;
                val = mag == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) mag;
        } else {
                if (mag > (uint64_t) INT64_MAX)
                        goto range;
                val = (int64_t) mag;
        }
        if (val < min || val > max)
                goto range;
        *ret = val;
        return 0;
range:
        return spec_error_invalid(err, "`%s`: integer %s out of range [%" PRId64 ", %" PRId64 "]",
                                  P(path), Y(v)->u.number.r, min, max);
}

int json_read_int64(const struct json_value *v, const char *path, int64_t *ret, struct rv_error **err)
{
        return json_read_signed(v, path, INT64_MIN, INT64_MAX, ret, err);
}

int json_read_int32(const struct json_value *v, const char *path, int32_t *ret, struct rv_error **err)
{
        int64_t x = 0;

        if (json_read_signed(v, path, INT32_MIN, INT32_MAX, &x, err) < 0)
                return -1;
        *ret = (int32_t) x;
        return 0;
}

int json_read_uint64(const struct json_value *v, const char *path, uint64_t *ret, struct rv_error **err)
{
        return json_read_unsigned(v, path, UINT64_MAX, ret, err);
}

int json_read_uint32(const struct json_value *v, const char *path, uint32_t *ret, struct rv_error **err)
{
        uint64_t x = 0;

        if (json_read_unsigned(v, path, UINT32_MAX, &x, err) < 0)
                return -1;
        *ret = (uint32_t) x;
        return 0;
}

int json_read_uint16(const struct json_value *v, const char *path, uint16_t *ret, struct rv_error **err)
{
        uint64_t x = 0;

        if (json_read_unsigned(v, path, UINT16_MAX, &x, err) < 0)
                return -1;
        *ret = (uint16_t) x;
        return 0;
}

int json_read_bool(const struct json_value *v, const char *path, bool *ret, struct rv_error **err)
{
        if (YAJL_IS_TRUE(Y(v)))
                *ret = true;
        else if (YAJL_IS_FALSE(Y(v)))
                *ret = false;
        else
                return spec_error_invalid(err, "`%s`: expected a boolean", P(path));
        return 0;
}

int json_read_double(const struct json_value *v, const char *path, double *ret, struct rv_error **err)
{
        if (!YAJL_IS_DOUBLE(Y(v)))
                return spec_error_invalid(err, "`%s`: expected a number", P(path));
        *ret = Y(v)->u.number.d;
        return 0;
}

int json_read_strv(const struct json_value *v, const char *path, char ***ret, struct rv_error **err)
{
        _cleanup_strv_ char **out = NULL;
        size_t n;

        if (!YAJL_IS_ARRAY(Y(v)))
                return spec_error_invalid(err, "`%s`: expected an array of strings", P(path));
        n = Y(v)->u.array.len;
        out = calloc(n + 1, sizeof(char *));
        if (out == NULL)
                return rv_error_set(err, ENOMEM, "`%s`", P(path));
        for (size_t i = 0; i < n; i++) {
                yajl_val e = Y(v)->u.array.values[i];
                if (!YAJL_IS_STRING(e))
                        return spec_error_invalid(err, "`%s[%zu]`: expected a string", P(path), i);
                out[i] = strdup(e->u.string);
                if (out[i] == NULL)
                        return rv_error_set(err, ENOMEM, "`%s[%zu]`", P(path), i);
        }
        *ret = TAKE_PTR(out);
        return 0;
}
