/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to json.c and json-write.c: struct json_value is yajl's node
 * under another name. */
#pragma once

#include <yajl/yajl_tree.h>

struct json_value;

static inline yajl_val Y(const struct json_value *v) { return (yajl_val) v; }
static inline const struct json_value *J(yajl_val v) { return (const struct json_value *) v; }
