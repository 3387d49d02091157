/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the spec/ sources (and the unit tests). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/config.h"

struct json_value;
struct json_writer;
struct rv_error;

/* Largest config.json / process.json accepted. */
#define SPEC_FILE_MAX (16u << 20)
/* Deepest nesting json_parse accepts: yajl_tree frees recursively and
 * yajl_gen stops at 128 levels. */
#define JSON_MAX_DEPTH 100

/* Sets an input error: the message as given (no strerror suffix) with
 * status EINVAL. Returns -1. First error wins. */
int spec_error_invalid(struct rv_error **err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* "prefix.key", or "key" when prefix is NULL or empty. NULL on ENOMEM. */
char *spec_path_key(const char *prefix, const char *key);
/* "prefix[i]". NULL on ENOMEM. */
char *spec_path_index(const char *prefix, size_t i);

/* uint16 reader (blockIO weights), same error shapes as json_read_uint32. */
int json_read_uint16(const struct json_value *v, const char *path, uint16_t *ret, struct rv_error **err);
/* A compact JSON text of a parsed subtree. */
int json_value_to_text(const struct json_value *v, char **ret, struct rv_error **err);
/* Writes JSON text (parsed, then copied) as a value; marks the writer
 * failed when the text does not parse. */
void json_write_raw(struct json_writer *w, const char *text);
/* Marks the writer failed (json_writer_finish reports msg). */
void json_writer_fail(struct json_writer *w, const char *msg);
/* Re-indents compact JSON the way Go's json.MarshalIndent does. */
char *json_reindent(const char *compact, size_t len, const char *indent, size_t *ret_len);

/* Frees an array of key/value pairs. */
void spec_pairs_free(struct spec_string_pair *p, size_t n);
