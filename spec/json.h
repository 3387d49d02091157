/* SPDX-License-Identifier: Apache-2.0 */
/* The only door to yajl: a parsed tree with typed, path-carrying getters,
 * and a generator. Everything outside spec/ uses this, never yajl. */
#pragma once

#include "base/cleanup.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;
struct json_value;                      /* a node of a parsed tree */
struct json_writer;

/* Parses text (need not be NUL-terminated). Errors carry yajl's message. */
/* True when a string of the JSON text holds an escaped NUL; its JSON path
 * ("process.args[1]", "" for the top level) goes to path. */
bool json_find_nul(const char *text, size_t len, char *path, size_t path_size);
int json_parse(const char *text, size_t len, struct json_value **ret, struct rv_error **err);
void json_value_free(struct json_value *root);     /* the root only */
DEFINE_CLEANUP_FUNC(struct json_value *, json_value_free)
/* Calls fn on every string and object key of the tree, in place: fn may
 * rewrite bytes but never lengthen a string. */
void json_value_map_strings(struct json_value *v, void (*fn)(char *s));

bool json_is_object(const struct json_value *v);
bool json_is_array(const struct json_value *v);
bool json_is_string(const struct json_value *v);
bool json_is_integer(const struct json_value *v);
bool json_is_number(const struct json_value *v);
bool json_is_bool(const struct json_value *v);
bool json_is_null(const struct json_value *v);

/* Member of an object; NULL when v is not an object or has no such key. */
const struct json_value *json_get(const struct json_value *v, const char *key);
size_t json_object_size(const struct json_value *v);
const char *json_object_key(const struct json_value *v, size_t i);
const struct json_value *json_object_value(const struct json_value *v, size_t i);
size_t json_array_size(const struct json_value *v);
const struct json_value *json_array_get(const struct json_value *v, size_t i);

/* Typed reads of a node. `path` names it in errors: "`process.args[0]`:
 * expected a string". Integers are range-checked (u64 above INT64_MAX
 * is parsed from the number's text). */
int json_read_string(const struct json_value *v, const char *path, const char **ret, struct rv_error **err);
int json_read_int64(const struct json_value *v, const char *path, int64_t *ret, struct rv_error **err);
int json_read_uint64(const struct json_value *v, const char *path, uint64_t *ret, struct rv_error **err);
int json_read_uint32(const struct json_value *v, const char *path, uint32_t *ret, struct rv_error **err);
int json_read_int32(const struct json_value *v, const char *path, int32_t *ret, struct rv_error **err);
int json_read_bool(const struct json_value *v, const char *path, bool *ret, struct rv_error **err);
int json_read_double(const struct json_value *v, const char *path, double *ret, struct rv_error **err);
/* NULL-terminated copy of an array of strings. */
int json_read_strv(const struct json_value *v, const char *path, char ***ret, struct rv_error **err);

/* Generator. pretty: indent with `indent` ("\t" or "  "), else compact. */
/* Writes to a NULL writer (json_writer_new out of memory) are ignored and
 * json_writer_finish(NULL, ...) fails with ENOMEM, so callers check once. */
struct json_writer *json_writer_new(const char *indent);
void json_writer_free(struct json_writer *w);
DEFINE_CLEANUP_FUNC(struct json_writer *, json_writer_free)
void json_write_object_begin(struct json_writer *w);
void json_write_object_end(struct json_writer *w);
void json_write_array_begin(struct json_writer *w);
void json_write_array_end(struct json_writer *w);
void json_write_key(struct json_writer *w, const char *key);
void json_write_string(struct json_writer *w, const char *s);        /* NULL writes null */
void json_write_int64(struct json_writer *w, int64_t v);
void json_write_uint64(struct json_writer *w, uint64_t v);
void json_write_double(struct json_writer *w, double v);
void json_write_bool(struct json_writer *w, bool v);
void json_write_null(struct json_writer *w);
/* Copies a parsed subtree into the output. */
void json_write_value(struct json_writer *w, const struct json_value *v);
/* Takes the output (NUL-terminated). Fails if any write failed (bad UTF-8,
 * unbalanced nesting). */
int json_writer_finish(struct json_writer *w, char **ret, size_t *ret_len, struct rv_error **err);
