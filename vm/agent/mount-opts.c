/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/mount-opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"

struct flag_name {
        const char *name;
        bool clear;
        unsigned long flag;
};

/* runc's libcontainer/specconv mountFlags. */
static const struct flag_name mount_flags[] = {
        { "async", true, MS_SYNCHRONOUS },
        { "atime", true, MS_NOATIME },
        { "bind", false, MS_BIND },
        { "defaults", false, 0 },
        { "dev", true, MS_NODEV },
        { "diratime", true, MS_NODIRATIME },
        { "dirsync", false, MS_DIRSYNC },
        { "exec", true, MS_NOEXEC },
        { "mand", false, MS_MANDLOCK },
        { "noatime", false, MS_NOATIME },
        { "nodev", false, MS_NODEV },
        { "nodiratime", false, MS_NODIRATIME },
        { "noexec", false, MS_NOEXEC },
        { "nomand", true, MS_MANDLOCK },
        { "norelatime", true, MS_RELATIME },
        { "nostrictatime", true, MS_STRICTATIME },
        { "nosuid", false, MS_NOSUID },
        { "rbind", false, MS_BIND | MS_REC },
        { "relatime", false, MS_RELATIME },
        { "remount", false, MS_REMOUNT },
        { "ro", false, MS_RDONLY },
        { "rw", true, MS_RDONLY },
        { "strictatime", false, MS_STRICTATIME },
        { "suid", true, MS_NOSUID },
        { "sync", false, MS_SYNCHRONOUS },
};

static const struct flag_name propagation_flags[] = {
        { "private", false, MS_PRIVATE },
        { "rprivate", false, MS_PRIVATE | MS_REC },
        { "shared", false, MS_SHARED },
        { "rshared", false, MS_SHARED | MS_REC },
        { "slave", false, MS_SLAVE },
        { "rslave", false, MS_SLAVE | MS_REC },
        { "unbindable", false, MS_UNBINDABLE },
        { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

/* runc's recAttrFlags: applied with mount_setattr(AT_RECURSIVE). */
static const struct flag_name recursive_attrs[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },
        { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },
        { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },
        { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },
        { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rrelatime", false, MOUNT_ATTR_RELATIME },
        { "rnorelatime", true, MOUNT_ATTR__ATIME },
        { "rnoatime", false, MOUNT_ATTR_NOATIME },
        { "ratime", true, MOUNT_ATTR__ATIME },
        { "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", true, MOUNT_ATTR__ATIME },
};

static const struct flag_name *flag_lookup(const struct flag_name *table, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(table[i].name, name) == 0)
                        return &table[i];
        return NULL;
}

void agent_mount_opts_clear(struct agent_mount_opts *o)
{
        free(o->data);
        o->data = NULL;
}

int agent_mount_opts_parse(char *const *options, struct agent_mount_opts *ret, struct rv_error **err)
{
        struct agent_mount_opts o = { 0 };
        _cleanup_free_ char *data = NULL;
        size_t data_len = 0;

        for (char *const *p = options; p != NULL && *p != NULL; p++) {
                const struct flag_name *f = flag_lookup(mount_flags, ARRAY_SIZE(mount_flags), *p);

                if (f != NULL) {
                        if (f->clear)
                                o.flags &= ~f->flag;
                        else
                                o.flags |= f->flag;
                        continue;
                }
                f = flag_lookup(recursive_attrs, ARRAY_SIZE(recursive_attrs), *p);
                if (f != NULL) {
                        if (f->clear)
                                o.attr_clr |= f->flag;
                        else
                                o.attr_set |= f->flag;
                        /* An atime mode replaces the whole atime field. */
                        if (!f->clear && (f->flag == MOUNT_ATTR_RELATIME || (f->flag & MOUNT_ATTR__ATIME)))
                                o.attr_clr |= MOUNT_ATTR__ATIME;
                        continue;
                }
                if (strcmp(*p, "tmpcopyup") == 0) {
                        o.tmpcopyup = true;
                        continue;
                }
                f = flag_lookup(propagation_flags, ARRAY_SIZE(propagation_flags), *p);
                if (f != NULL) {
                        if (o.n_propagation == ARRAY_SIZE(o.propagation))
                                return rv_error_setx(err, EINVAL, "too many propagation options");
                        o.propagation[o.n_propagation++] = f->flag;
                        continue;
                }
                size_t len = strlen(*p);
                char *nd = realloc(data, data_len + len + 2);
                if (nd == NULL)
                        return rv_error_set(err, ENOMEM, "mount options");
                data = nd;
                if (data_len > 0)
                        data[data_len++] = ',';
                memcpy(data + data_len, *p, len + 1);
                data_len += len;
        }
        o.data = TAKE_PTR(data);
        *ret = o;
        return 0;
}

unsigned long agent_rootfs_propagation(const struct spec_config *c, struct rv_error **err)
{
        const char *name = c->linux_.rootfs_propagation;
        const struct flag_name *f;

        if (name == NULL || name[0] == '\0')
                return MS_SLAVE | MS_REC;
        f = flag_lookup(propagation_flags, ARRAY_SIZE(propagation_flags), name);
        if (f == NULL) {
                rv_error_setx(err, EINVAL, "unknown rootfsPropagation `%s`", name);
                return 0;
        }
        return f->flag;
}
