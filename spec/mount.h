/* SPDX-License-Identifier: Apache-2.0 */
/* What a spec mount's options say, read runc's way, and a mount rewritten
 * (host and guest). */
#pragma once

#include <stdbool.h>

struct spec_mount;

/* type "bind", or a bind/rbind option. */
bool spec_mount_is_bind(const struct spec_mount *m);
/* Whether the destination is path (absolute, clean) whatever its repeated
 * or trailing slashes: "//dev/shm/" is "/dev/shm". */
bool spec_mount_destination_is(const struct spec_mount *m, const char *path);
/* ro or rro, not undone by a later rw. */
bool spec_mount_is_readonly(const struct spec_mount *m);
/* Makes m a mount of type from source, without the options drop says yes
 * to, with add's (NULL-terminated) after the rest. -ENOMEM leaves m as it
 * was. */
int spec_mount_replace(struct spec_mount *m, const char *type, const char *source, bool (*drop)(const char *option),
                       const char *const *add);
