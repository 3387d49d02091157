/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/translate-check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "spec/config.h"
#include "spec/features.h"
#include "spec/json.h"
#include "vm/channel/channel.h"

/* Room in a control message for what surrounds the spec (stdio, hook state). */
#define GUEST_SPEC_MAX (CHANNEL_MAX_CONTROL_PAYLOAD - (64u << 10))

/* filepath.Clean: one slash between components, no "." , ".." resolved
 * lexically, no trailing slash. path is absolute. */
static void clean_path(char *path)
{
        char *out = path, *p = path;

        while (*p) {
                while (*p == '/')
                        p++;
                char *end = strchrnul(p, '/');
                size_t n = (size_t) (end - p);
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (out > path && *--out != '/')
                                ;
                } else {
                        *out++ = '/';
                        memmove(out, p, n);
                        out += n;
                }
                p = end;
        }
        if (out == path)
                *out++ = '/';
        *out = '\0';
}

/* runc's rule (libcontainer/configs/validate): the rootfs path, made
 * absolute and cleaned, must be its own real path. */
static int check_rootfs(const struct spec_config *c, const char *bundle, struct rv_error **err)
{
        _cleanup_free_ char *abs = NULL, *real = NULL;

        if (!c->has_root || c->root.path == NULL)
                return 0;               /* validate's error */
        if (c->root.path[0] == '/' ? asprintf(&abs, "%s", c->root.path) < 0
                                   : asprintf(&abs, "%s/%s", bundle, c->root.path) < 0)
                return rv_error_set(err, ENOMEM, "rootfs");
        clean_path(abs);
        real = realpath(abs, NULL);
        if (real == NULL)
                return rv_error_set(err, errno, "rootfs `%s`", abs);
        if (strcmp(real, abs) != 0)
                return rv_error_setx(err, EINVAL, "invalid rootfs: not an absolute path, or a symlink");
        return 0;
}

static bool path_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* runc makes a missing cwd and fails on one that is not a directory; only
 * the rootfs is known here, so a cwd under a mount is left to the guest. */
static int check_cwd(const struct spec_config *c, const char *bundle, struct rv_error **err)
{
        _cleanup_free_ char *root = NULL;
        struct stat st;

        if (!c->has_process || c->process.cwd == NULL || c->process.cwd[0] != '/' || !c->has_root)
                return 0;
        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].destination && path_under(c->process.cwd, c->mounts[i].destination))
                        return 0;
        if (c->root.path[0] == '/' ? asprintf(&root, "%s", c->root.path) < 0
                                   : asprintf(&root, "%s/%s", bundle, c->root.path) < 0)
                return rv_error_set(err, ENOMEM, "cwd");
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return 0;               /* the rootfs check says why */
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, rootfd, c->process.cwd, &how, sizeof(how));
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;               /* missing: the guest makes it */
        if (!S_ISDIR(st.st_mode))
                return rv_error_setx(err, ENOTDIR, "`process.cwd`: `%s` is not a directory in the rootfs",
                                     c->process.cwd);
        return 0;
}

/* One warning for every unknown name in every set, as runc prints it. */
static void warn_unknown_caps(const struct spec_capabilities *caps)
{
        char *const *sets[] = { caps->bounding, caps->effective, caps->inheritable, caps->permitted,
                                caps->ambient };
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);
        size_t n = 0;

        if (f == NULL)
                return;
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                for (char *const *p = sets[s]; p && *p; p++) {
                        bool seen = spec_capability_known(*p);
                        for (size_t t = 0; t <= s && !seen; t++)
                                for (char *const *q = sets[t]; q && *q && q != p && !seen; q++)
                                        seen = strcmp(*q, *p) == 0;
                        if (!seen)
                                fprintf(f, "%s%s", n++ ? " " : "", *p);
                }
        }
        fclose(f);
        if (n > 0)
                rv_log_tee(RV_LOG_WARNING, "ignoring unknown or unavailable capabilities: [%s]", list);
}

static int check_annotations(const struct spec_config *c, struct rv_error **err)
{
        size_t total = 0;

        for (size_t i = 0; i < c->n_annotations; i++)
                total += strlen(c->annotations[i].key) +
                         (c->annotations[i].value ? strlen(c->annotations[i].value) : 0);
        if (total > ANNOTATIONS_MAX)
                return rv_error_setx(err, EFBIG, "`annotations`: %zu bytes, more than the %u accepted",
                                     total, ANNOTATIONS_MAX);
        return 0;
}

int translate_check_host(const struct spec_config *c, const char *bundle, struct rv_error **err)
{
        /* runc's words. */
        if (!c->has_process)
                return rv_error_setx(err, EINVAL, "process property must not be empty");
        if (check_rootfs(c, bundle, err) < 0 || check_cwd(c, bundle, err) < 0 ||
            check_annotations(c, err) < 0)
                return -1;
        warn_unknown_caps(&c->process.capabilities);
        return 0;
}

int translate_check_guest_spec(const struct spec_config *guest, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "guest spec");
        spec_config_write(w, guest);
        if (json_writer_finish(w, &text, &len, err) < 0)
                return rv_error_wrap(err, "guest spec");
        if (len > GUEST_SPEC_MAX)
                return rv_error_setx(err, EFBIG, "%zu bytes once translated, more than the %u a VM's spec "
                                     "may hold", len, GUEST_SPEC_MAX);
        return 0;
}
