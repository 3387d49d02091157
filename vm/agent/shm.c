/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/shm.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"
#include "spec/mount.h"
#include "vm/agent/mount-opts.h"
#include "vm/channel/shm.h"

static bool valid_key(const char *key)
{
        size_t n = strlen(key);

        if (n != GUEST_SHM_KEY_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) key[i]))
                        return false;
        return true;
}

/* The VM's tmpfs of the key, mounted once. */
static int ensure_tmpfs(const char *path, char *const *options, struct rv_error **err)
{
        struct agent_mount_opts o;

        if (mkdir(GUEST_SHM_DIR, 0700) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "mkdir `%s`", GUEST_SHM_DIR);
        if (mkdir(path, 0700) < 0) {
                if (errno == EEXIST)
                        return 0;       /* an earlier container's: shared */
                return rv_error_set(err, errno, "mkdir `%s`", path);
        }
        if (agent_mount_opts_parse(options, &o, err) < 0) {
                rmdir(path);
                return -1;
        }
        int r = mount("shm", path, "tmpfs", o.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC), o.data);
        int saved = errno;
        agent_mount_opts_clear(&o);
        if (r < 0) {
                rmdir(path);
                return rv_error_set(err, saved, "mount the /dev/shm tmpfs at `%s`", path);
        }
        return 0;
}

/* What made the tmpfs goes from the mount that becomes its bind; the
 * flags stay for the bind. */
static bool tmpfs_only_option(const char *o)
{
        return strncmp(o, "size=", 5) == 0 || strncmp(o, "mode=", 5) == 0;
}

int agent_shm_prepare(struct spec_config *c, struct rv_error **err)
{
        const size_t prefix = strlen(GUEST_SHM_PREFIX);

        for (size_t i = 0; i < c->n_mounts; i++) {
                struct spec_mount *m = &c->mounts[i];
                char path[sizeof(GUEST_SHM_DIR) + GUEST_SHM_KEY_LEN + 2];

                if (m->type == NULL || strcmp(m->type, "tmpfs") != 0 || m->source == NULL ||
                    strncmp(m->source, GUEST_SHM_PREFIX, prefix) != 0)
                        continue;
                if (!valid_key(m->source + prefix))
                        return rv_error_setx(err, EINVAL, "`mounts[%zu].source` `%s`: not a /dev/shm key", i,
                                             m->source);
                snprintf(path, sizeof(path), GUEST_SHM_DIR "/%s", m->source + prefix);
                if (ensure_tmpfs(path, m->options, err) < 0)
                        return rv_error_wrap(err, "`mounts[%zu]`", i);
                if (spec_mount_replace(m, "bind", path, tmpfs_only_option, (const char *const[]) { "bind", NULL }) < 0)
                        return rv_error_set(err, ENOMEM, "`mounts[%zu]`", i);
        }
        return 0;
}
