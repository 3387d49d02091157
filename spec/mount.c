/* SPDX-License-Identifier: Apache-2.0 */
#include "spec/mount.h"

#include <string.h>

#include "spec/config.h"

bool spec_mount_is_bind(const struct spec_mount *m)
{
        if (m->type && strcmp(m->type, "bind") == 0)
                return true;
        for (char **o = m->options; o && *o; o++)
                if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
                        return true;
        return false;
}

bool spec_mount_is_readonly(const struct spec_mount *m)
{
        bool ro = false;
        for (char **o = m->options; o && *o; o++) {
                if (strcmp(*o, "ro") == 0 || strcmp(*o, "rro") == 0)
                        ro = true;
                else if (strcmp(*o, "rw") == 0)
                        ro = false;
        }
        return ro;
}
