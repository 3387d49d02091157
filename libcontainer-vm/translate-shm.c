/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/translate-shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"
#include "spec/mount.h"
#include "vm/channel/shm.h"

/* FNV-1a: a name for the directory, the same for every container that
 * names it. */
static uint64_t key_of(const char *path)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const unsigned char *p = (const unsigned char *) path; *p; p++)
                h = (h ^ *p) * 0x100000001b3ULL;
        return h;
}

static bool dir_empty(int fd)
{
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
        struct dirent *de;
        bool empty = d != NULL;

        if (d == NULL && dup >= 0)
                close(dup);
        while (d != NULL && (de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        empty = false;
                        break;
                }
        if (d != NULL)
                closedir(d);
        return empty;
}

/* The root of an empty tmpfs mount: its size (bytes) and mode. */
static bool engine_tmpfs(const char *source, uint64_t *ret_size, mode_t *ret_mode)
{
        _cleanup_close_ int fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st, parent;
        struct statfs fs;

        if (fd < 0 || fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0 || fs.f_type != TMPFS_MAGIC ||
            fstatat(fd, "..", &parent, 0) < 0 || parent.st_dev == st.st_dev || !dir_empty(fd))
                return false;
        *ret_size = (uint64_t) fs.f_blocks * (uint64_t) fs.f_bsize;
        *ret_mode = st.st_mode & 07777;
        return *ret_size > 0;
}

static bool bind_only_option(const char *o)
{
        return strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0;
}

/* The mount as a tmpfs of the guest's (vm/channel/shm.h): bind and rbind
 * dropped, the host tmpfs's size and mode added; everything else as given. */
static int rewrite(struct spec_mount *m, uint64_t size, mode_t mode)
{
        char key[32], size_opt[32], mode_opt[16];

        snprintf(key, sizeof(key), GUEST_SHM_PREFIX "%016llx", (unsigned long long) key_of(m->source));
        snprintf(size_opt, sizeof(size_opt), "size=%llu", (unsigned long long) size);
        snprintf(mode_opt, sizeof(mode_opt), "mode=%o", (unsigned) mode);
        return spec_mount_replace(m, "tmpfs", key, bind_only_option,
                                  (const char *const[]) { size_opt, mode_opt, NULL });
}

int translate_shm(struct spec_config *c, struct rv_error **err)
{
        if (spec_config_namespace(c, "user") != NULL)
                return 0;
        for (size_t i = 0; i < c->n_mounts; i++) {
                struct spec_mount *m = &c->mounts[i];
                uint64_t size;
                mode_t mode;

                if (!spec_mount_is_bind(m) || !spec_mount_destination_is(m, "/dev/shm") || m->source == NULL ||
                    m->source[0] != '/' || !engine_tmpfs(m->source, &size, &mode))
                        continue;
                if (rewrite(m, size, mode) < 0)
                        return rv_error_set(err, ENOMEM, "`mounts[%zu]` (/dev/shm)", i);
        }
        return 0;
}
