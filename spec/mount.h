/* SPDX-License-Identifier: Apache-2.0 */
/* What a spec mount's options say, read runc's way (host and guest). */
#pragma once

#include <stdbool.h>

struct spec_mount;

/* type "bind", or a bind/rbind option. */
bool spec_mount_is_bind(const struct spec_mount *m);
/* ro or rro, not undone by a later rw. */
bool spec_mount_is_readonly(const struct spec_mount *m);
