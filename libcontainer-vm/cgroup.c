/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "libcontainer-vm/cgroup-limits.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* This process's cgroup in the hierarchy whose /proc/self/cgroup
 * controller field matches `controllers` ("" for v2). */
static char *own_cgroup(const char *controllers)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        char line[4096];

        while (f && fgets(line, sizeof(line), f)) {
                char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
                if (b == NULL)
                        continue;
                *b = '\0';
                b[strcspn(b + 1, "\n") + 1] = '\0';
                if (strcmp(a + 1, controllers) == 0)
                        return strdup(b + 1);
        }
        return strdup("/");
}

static int write_string(const char *dir, const char *file, const char *value)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = rv_write_all(fd, value, strlen(value));
        close(fd);
        return r;
}

/* A new cpuset has no cpus or mems: give it its parent's, or it takes no tasks. */
static void cpuset_inherit(const char *dir)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        _cleanup_free_ char *parent = strdup(dir);
        char path[4096], buf[4096];

        if (parent == NULL || strrchr(parent, '/') == NULL)
                return;
        *strrchr(parent, '/') = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (fd >= 0)
                        close(fd);
                if (n > 1)
                        continue;
                cpuset_inherit(parent);
                snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (fd >= 0)
                        close(fd);
                if (n > 0) {
                        buf[n] = '\0';
                        write_string(dir, files[i], buf);
                }
        }
}

static int dirs_add(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (nv == NULL)
                return -1;
        *v = nv;
        nv[*n] = strdup(s);
        nv[*n + 1] = NULL;
        return nv[(*n)++] ? 0 : -1;
}

/* The hierarchy's controller field in /proc/self/cgroup, from its mount
 * options ("cpu,cpuacct", "name=systemd", "" for v2). */
static char *hierarchy_controllers(const char *mountpoint)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        while (f && fgets(line, sizeof(line), f)) {
                char mnt[1024], *sep = strstr(line, " - ");
                if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 || strcmp(mnt, mountpoint) != 0)
                        continue;
                char type[64], source[256], opts[1024];
                if (sscanf(sep + 3, "%63s %255s %1023s", type, source, opts) != 3)
                        continue;
                if (strcmp(type, "cgroup2") == 0)
                        return strdup("");
                if (strcmp(type, "cgroup") != 0)
                        continue;
                /* keep the controller and name= options, in mount order */
                char out[1024] = "", *save = NULL;
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        if (strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0 || strncmp(o, "no", 2) == 0 ||
                            strcmp(o, "relatime") == 0 || strncmp(o, "release_agent", 13) == 0 ||
                            strcmp(o, "clone_children") == 0 || strcmp(o, "xattr") == 0)
                                continue;
                        if (out[0])
                                strncat(out, ",", sizeof(out) - strlen(out) - 1);
                        strncat(out, o, sizeof(out) - strlen(out) - 1);
                }
                return strdup(out);
        }
        return NULL;
}

/* v2: a cgroup has the controllers its parent's subtree_control lists.
 * Enabled from the top down to dir's parent, each alone: one the parent
 * lacks (or a populated, non-root ancestor refusing) leaves the others;
 * what is missing shows as missing files (cgroup-limits.c warns). */
static void enable_controllers(const char *mountpoint, const char *dir)
{
        static const char *const controllers[] = { "+cpu", "+cpuset", "+memory", "+pids", "+io" };
        _cleanup_free_ char *path = strdup(dir);
        size_t root = strlen(mountpoint);

        if (path == NULL || strlen(path) <= root || path[root] != '/')
                return;
        char *parent_end = strrchr(path, '/');
        for (char *p = path + root; p != NULL; p = strchr(p + 1, '/')) {
                char saved = *p;
                *p = '\0';
                for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
                        write_string(path, "cgroup.subtree_control", controllers[i]);
                *p = saved;
                if (p == parent_end)
                        break;
        }
}

/* A systemd scope (unit) the process is in already: its dirs get the
 * limits, systemd made them and moved it. */
static int enter_scope(const char *mountpoint, const char *controllers, const char *unit,
                       const struct host_cgroup_limits *limits, unsigned *found, char ***dirs, size_t *n,
                       struct rv_error **err)
{
        _cleanup_free_ char *own = own_cgroup(controllers), *dir = NULL;

        if (own == NULL || strstr(own, unit) == NULL)
                return 0;
        if (asprintf(&dir, "%s%s", mountpoint, own) < 0 || dirs_add(dirs, n, dir) < 0)
                return rv_error_set(err, ENOMEM, "host cgroup");
        if (limits != NULL && host_cgroup_apply_dir(dir, limits, found, err) < 0)
                return -1;
        return 0;
}

static int enter_hierarchy(const char *mountpoint, const char *cgroups_path, const char *unit, pid_t pid,
                           const struct host_cgroup_limits *limits, unsigned *found, char ***dirs,
                           size_t *n, struct rv_error **err)
{
        _cleanup_free_ char *controllers = hierarchy_controllers(mountpoint);
        _cleanup_free_ char *own = NULL, *dir = NULL;
        char pidbuf[32];

        if (controllers == NULL)
                return 0;               /* not a cgroup mount */
        if (unit != NULL)
                return enter_scope(mountpoint, controllers, unit, limits, found, dirs, n, err);
        if (cgroups_path[0] == '/')
                own = strdup("");
        else if ((own = own_cgroup(controllers)) && strcmp(own, "/") == 0)
                own[0] = '\0';
        /* runc's fs2 on a pure v2 host: relative to the parent of its own
         * cgroup, which (unlike a populated leaf) can have children with
         * controllers. */
        if (own != NULL && own[0] != '\0' && cgroups_path[0] != '/' && strcmp(mountpoint, CGROUP_ROOT) == 0 &&
            strcmp(controllers, "") == 0) {
                char *slash = strrchr(own, '/');
                if (slash != NULL)
                        *slash = '\0';
        }
        if (own == NULL || asprintf(&dir, "%s%s%s%s", mountpoint, own, cgroups_path[0] == '/' ? "" : "/",
                                    cgroups_path) < 0)
                return rv_error_set(err, ENOMEM, "host cgroup");
        if (rv_mkdir_p(dir, 0755, err) < 0)
                return rv_error_wrap(err, "host cgroup");
        /* Recorded even when it existed: containers sharing a cgroupsPath
         * each remove it, and the last one's delete succeeds (as runc's). */
        if (dirs_add(dirs, n, dir) < 0)
                return rv_error_set(err, ENOMEM, "host cgroup");
        if (strcmp(controllers, "") == 0)
                enable_controllers(mountpoint, dir);
        if (strstr(controllers, "cpuset"))
                cpuset_inherit(dir);
        /* Before the first task: the monitor is bounded from its start. */
        if (limits != NULL && host_cgroup_apply_dir(dir, limits, found, err) < 0)
                return -1;
        if (pid == 0)
                return 0;
        snprintf(pidbuf, sizeof(pidbuf), "%d", (int) pid);
        int r = write_string(dir, "cgroup.procs", pidbuf);
        if (r < 0)
                return rv_error_set(err, -r, "join host cgroup `%s`", dir);
        return 0;
}

int host_cgroup_enter(const char *cgroups_path, const char *id, bool systemd, pid_t pid,
                      const struct host_cgroup_limits *limits, char ***ret_dirs, struct rv_error **err)
{
        _cleanup_free_ char *unit = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        char **dirs = NULL;
        size_t n = 0;
        unsigned found = 0;
        struct statfs fs;
        struct dirent *de;

        *ret_dirs = NULL;
        if (systemd && host_cgroup_systemd_enter(cgroups_path, id, pid, &unit, err) < 0)
                return -1;
        /* runc's cgroupfs default: a cgroup named after the container,
         * relative to runc's own. */
        if (!systemd && (cgroups_path == NULL || cgroups_path[0] == '\0'))
                cgroups_path = id;
        if (cgroups_path == NULL || cgroups_path[0] == '\0')
                return 0;
        if (!systemd && (strstr(cgroups_path, "..") || strchr(cgroups_path, ':')))
                return rv_error_setx(err, EINVAL, "`linux.cgroupsPath` `%s`: expected a cgroupfs path "
                                     "(slice:prefix:name is the systemd driver's: --systemd-cgroup)",
                                     cgroups_path);
        if (statfs(CGROUP_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
                if (enter_hierarchy(CGROUP_ROOT, cgroups_path, unit, pid, limits, &found, &dirs, &n, err) < 0)
                        goto fail;
                if (limits != NULL)
                        host_cgroup_warn_missing(limits, found);
                *ret_dirs = dirs;
                return 0;
        }
        d = opendir(CGROUP_ROOT);
        if (d == NULL)
                return rv_error_set(err, errno, "open `" CGROUP_ROOT "`");
        while ((de = readdir(d)) != NULL) {
                char mnt[512];
                struct stat st;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(mnt, sizeof(mnt), CGROUP_ROOT "/%s", de->d_name);
                /* cpu -> cpu,cpuacct style links name the same hierarchy */
                if (lstat(mnt, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (enter_hierarchy(mnt, cgroups_path, unit, pid, limits, &found, &dirs, &n, err) < 0)
                        goto fail;
        }
        if (limits != NULL)
                host_cgroup_warn_missing(limits, found);
        *ret_dirs = dirs;
        return 0;
fail:
        host_cgroup_remove(dirs, NULL);
        rv_strv_free(dirs);
        return -1;
}

/* A live (non-zombie) process is in dir: it belongs to another container
 * or to whoever made the cgroup; waiting for it would be pointless. */
static bool cgroup_in_use(const char *dir)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        int pid;

        while (f && fscanf(f, "%d", &pid) == 1)
                if (rv_proc_alive(pid, 0))
                        return true;
        return false;
}

int host_cgroup_remove(char *const *dirs, struct rv_error **err)
{
        int r = 0;
        bool shared = false;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                /* The last tasks may still be leaving (a reaped zombie is gone
                 * at once, an exiting helper in a moment; a killed QEMU frees
                 * its guest's memory first, which on a loaded host takes more
                 * than a second). One still alive after that is another
                 * container's: the cgroup is shared, the last container's
                 * delete removes it. Bounded: 5 s. */
                for (int tries = 0; rmdir(dirs[i]) < 0; tries++) {
                        if (errno == ENOENT)
                                break;
                        if (errno == EBUSY && (shared || tries >= 10) && cgroup_in_use(dirs[i])) {
                                shared = true;
                                break;
                        }
                        if (errno != EBUSY || tries == 250) {
                                r = rv_error_set(err, errno, "remove host cgroup `%s`", dirs[i]);
                                break;
                        }
                        struct timespec ts = { 0, 20 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
        }
        return r;
}
