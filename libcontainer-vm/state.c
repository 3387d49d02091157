/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "netns/netns.h"
#include "spec/json.h"

#define STATE_FILE "state.json"
#define LOCK_FILE "lock"
#define STATE_MAX STATE_FILE_MAX

static int lock_dir(struct state_dir *d, struct rv_error **err)
{
        d->lockfd = openat(d->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (d->lockfd < 0)
                return rv_error_set(err, errno, "open lock");
        while (flock(d->lockfd, LOCK_EX) < 0) {
                if (errno != EINTR)
                        return rv_error_set(err, errno, "lock `%s`", d->path);
        }
        return 0;
}

/* A create killed between its temp dir and the rename leaves "@new.*":
 * removed by the next create or delete once nobody can still be making it
 * (older than a minute, lock free). */
#define TEMP_PREFIX "@new."
#define TEMP_STALE_SECONDS 60

static void sweep_stale_temps(int rootfd)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *e;
        int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        time_t now = time(NULL);

        if (fd < 0 || (d = fdopendir(fd)) == NULL) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((e = readdir(d)) != NULL) {
                struct stat st;
                if (strncmp(e->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0 ||
                    fstatat(rootfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
                    now - st.st_mtime < TEMP_STALE_SECONDS)
                        continue;
                _cleanup_close_ int dfd = openat(rootfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                _cleanup_close_ int lfd = dfd >= 0 ? openat(dfd, LOCK_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW) : -EBADF;
                if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                struct rv_error *tmp_err = NULL;
                rv_rm_rf_at(rootfd, e->d_name, &tmp_err);
                rv_error_release(&tmp_err);
        }
}

void state_sweep_temps(const char *root)
{
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0)
                sweep_stale_temps(rootfd);
}

/* The directory is made under a temporary name, locked and given its first
 * state, then renamed into place: nobody can see (and a concurrent delete
 * cannot remove) a container directory without state or lock. */
int state_dir_create(const char *root, const char *id, const struct container_state *initial,
                     struct state_dir *ret, struct rv_error **err)
{
        struct state_dir d = STATE_DIR_INIT;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        const char *tmp_name;

        if (rv_mkdir_p(root, 0700, err) < 0)
                return rv_error_wrap(err, "create state root");
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return rv_error_set(err, errno, "open `%s`", root);
        sweep_stale_temps(rootfd);
        if (faccessat(rootfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return rv_error_setx(err, EEXIST, "container with id exists: %s", id);
        if (asprintf(&tmp, "%s/" TEMP_PREFIX "XXXXXX", root) < 0 || asprintf(&d.path, "%s/%s", root, id) < 0)
                return rv_error_set(err, ENOMEM, "create state dir");
        if (mkdtemp(tmp) == NULL) {
                int saved = errno;
                state_dir_close(&d);
                return rv_error_set(err, saved, "mkdir in `%s`", root);
        }
        tmp_name = strrchr(tmp, '/') + 1;
        d.dirfd = openat(rootfd, tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (d.dirfd < 0)
                rv_error_set(err, errno, "open `%s`", tmp);
        if (d.dirfd < 0 || lock_dir(&d, err) < 0 || (initial && state_save(d.dirfd, initial, err) < 0))
                goto fail;
        if (renameat2(rootfd, tmp_name, rootfd, id, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        rv_error_setx(err, EEXIST, "container with id exists: %s", id);
                else
                        rv_error_set(err, errno, "rename `%s` to `%s`", tmp, d.path);
                goto fail;
        }
        *ret = d;
        return 0;
fail:
        state_dir_close(&d);
        /* Out of fds the empty dir still goes: rmdir needs none. */
        if (unlinkat(rootfd, tmp_name, AT_REMOVEDIR) < 0) {
                struct rv_error *tmp_err = NULL;
                rv_rm_rf_at(rootfd, tmp_name, &tmp_err);
                rv_error_release(&tmp_err);
        }
        return -1;
}

int state_dir_open(const char *root, const char *id, bool lock, struct state_dir *ret,
                   struct rv_error **err)
{
        struct state_dir d = STATE_DIR_INIT;

        if (asprintf(&d.path, "%s/%s", root, id) < 0)
                return rv_error_set(err, ENOMEM, "open state dir");
        d.dirfd = open(d.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (d.dirfd < 0) {
                int saved = errno;
                free(d.path);
                if (saved == ENOENT || saved == ENOTDIR)
                        return rv_error_setx(err, ENOENT, "container does not exist");
                return rv_error_set(err, saved, "open `%s/%s`", root, id);
        }
        if (lock && lock_dir(&d, err) < 0) {
                state_dir_close(&d);
                return -1;
        }
        /* Deleted while we waited for the lock. */
        if (lock && faccessat(d.dirfd, STATE_FILE, F_OK, 0) < 0 && errno == ENOENT) {
                struct stat st;
                if (fstat(d.dirfd, &st) == 0 && st.st_nlink == 0) {
                        state_dir_close(&d);
                        return rv_error_setx(err, ENOENT, "container does not exist");
                }
        }
        *ret = d;
        return 0;
}

void state_dir_close(struct state_dir *d)
{
        if (d->lockfd >= 0)
                close(d->lockfd);
        if (d->dirfd >= 0)
                close(d->dirfd);
        free(d->path);
        d->lockfd = d->dirfd = -1;
        d->path = NULL;
}

int state_dir_remove(const char *root, const char *id, struct rv_error **err)
{
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (rootfd < 0)
                return errno == ENOENT ? 0 : rv_error_set(err, errno, "open `%s`", root);
        return rv_rm_rf_at(rootfd, id, err);
}

static const char *const ns_names[STATE_NS_COUNT] = {
        [STATE_NS_NET] = "network", [STATE_NS_IPC] = "ipc", [STATE_NS_UTS] = "uts",
};

const char *state_ns_name(enum state_ns ns)
{
        return ns < STATE_NS_COUNT ? ns_names[ns] : NULL;
}

/* "namespaces": {"network": {"dev": D, "ino": I}, ...}, only those recorded. */
static void write_namespaces(struct json_writer *w, const struct container_state *s)
{
        bool any = false;

        for (size_t i = 0; i < STATE_NS_COUNT; i++)
                any |= s->ns[i].ino != 0;
        if (!any)
                return;
        json_write_key(w, "namespaces");
        json_write_object_begin(w);
        for (size_t i = 0; i < STATE_NS_COUNT; i++) {
                if (s->ns[i].ino == 0)
                        continue;
                json_write_key(w, ns_names[i]);
                json_write_object_begin(w);
                json_write_key(w, "dev"); json_write_uint64(w, s->ns[i].dev);
                json_write_key(w, "ino"); json_write_uint64(w, s->ns[i].ino);
                json_write_object_end(w);
        }
        json_write_object_end(w);
}

static int read_namespaces(const struct json_value *v, struct container_state *s, struct rv_error **err)
{
        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`namespaces`: not an object");
        for (size_t i = 0; i < STATE_NS_COUNT; i++) {
                const struct json_value *n = json_get(v, ns_names[i]);

                if (n == NULL)
                        continue;
                if (json_read_uint64(json_get(n, "dev"), "namespaces.dev", &s->ns[i].dev, err) < 0 ||
                    json_read_uint64(json_get(n, "ino"), "namespaces.ino", &s->ns[i].ino, err) < 0)
                        return -1;
        }
        return 0;
}

int state_save(int dirfd, const struct container_state *s, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "save state");
        json_write_object_begin(w);
        json_write_key(w, "state_version"); json_write_uint64(w, STATE_VERSION);
        json_write_key(w, "id"); json_write_string(w, s->id);
        json_write_key(w, "bundle"); json_write_string(w, s->bundle);
        json_write_key(w, "rootfs"); json_write_string(w, s->rootfs);
        json_write_key(w, "created"); json_write_string(w, s->created);
        json_write_key(w, "owner"); json_write_string(w, s->owner ? s->owner : "");
        json_write_key(w, "status"); json_write_string(w, container_status_name(s->status));
        json_write_key(w, "monitor_pid"); json_write_int64(w, s->monitor_pid);
        json_write_key(w, "monitor_start_time"); json_write_uint64(w, s->monitor_start_time);
        if (s->pidns_init_pid > 0) {
                json_write_key(w, "pidns_init_pid"); json_write_int64(w, s->pidns_init_pid);
                json_write_key(w, "pidns_init_start_time"); json_write_uint64(w, s->pidns_init_start_time);
        }
        json_write_key(w, "kvm"); json_write_bool(w, s->kvm);
        json_write_key(w, "memory_mib"); json_write_uint64(w, s->memory_mib);
        json_write_key(w, "vcpus"); json_write_uint64(w, s->vcpus);
        if (s->exited) {
                json_write_key(w, "exit");
                json_write_object_begin(w);
                if (s->exit_signal) {
                        json_write_key(w, "signal"); json_write_int64(w, s->exit_signal);
                } else {
                        json_write_key(w, "code"); json_write_int64(w, s->exit_code);
                }
                json_write_object_end(w);
        }
        if (s->cgroup_dirs) {
                json_write_key(w, "cgroup_dirs");
                json_write_array_begin(w);
                for (char **d = s->cgroup_dirs; *d; d++)
                        json_write_string(w, *d);
                json_write_array_end(w);
        }
        json_write_key(w, "processes");
        json_write_array_begin(w);
        for (size_t i = 0; i < s->n_procs; i++) {
                json_write_object_begin(w);
                json_write_key(w, "name"); json_write_string(w, s->procs[i].name);
                json_write_key(w, "pid"); json_write_int64(w, s->procs[i].pid);
                json_write_key(w, "start_time"); json_write_uint64(w, s->procs[i].start_time);
                json_write_object_end(w);
        }
        json_write_array_end(w);
        if (s->n_resources) {
                json_write_key(w, "resources");
                json_write_array_begin(w);
                for (size_t i = 0; i < s->n_resources; i++) {
                        json_write_object_begin(w);
                        json_write_key(w, "kind"); json_write_string(w, s->resources[i].kind);
                        json_write_key(w, "name"); json_write_string(w, s->resources[i].name);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        if (s->reason) {
                json_write_key(w, "reason"); json_write_string(w, s->reason);
        }
        if (s->network && s->network->n_nics > 0) {
                json_write_key(w, "network");
                netns_record_write(w, s->network);
        }
        write_namespaces(w, s);
        if (s->sandbox) {
                json_write_key(w, "sandbox"); json_write_string(w, s->sandbox);
        }
        json_write_key(w, "annotations");
        json_write_object_begin(w);
        for (char **a = s->annotations; a && a[0] && a[1]; a += 2) {
                json_write_key(w, a[0]);
                json_write_string(w, a[1]);
        }
        json_write_object_end(w);
        json_write_object_end(w);
        if (json_writer_finish(w, &text, &len, err) < 0)
                return rv_error_wrap(err, "save state");
        /* Never write what state_load would refuse to read back. */
        if (len > STATE_MAX)
                return rv_error_setx(err, EFBIG, "save state: %zu bytes, more than the %u a state may hold",
                                     len, STATE_MAX);
        return rv_write_file_atomic(dirfd, STATE_FILE, text, len, 0600, err);
}

static int dup_string(const struct json_value *root, const char *key, char **ret, struct rv_error **err)
{
        const char *s;
        const struct json_value *v = json_get(root, key);
        if (v == NULL) {
                *ret = NULL;
                return 0;
        }
        if (json_read_string(v, key, &s, err) < 0)
                return -1;
        *ret = strdup(s);
        return *ret ? 0 : rv_error_set(err, ENOMEM, "load state");
}

static int read_int(const struct json_value *root, const char *key, int64_t *ret, struct rv_error **err)
{
        const struct json_value *v = json_get(root, key);
        *ret = 0;
        return v ? json_read_int64(v, key, ret, err) : 0;
}

static int read_annotations(const struct json_value *v, char ***ret, struct rv_error **err)
{
        size_t count = json_object_size(v);
        _cleanup_strv_ char **a = calloc(count * 2 + 1, sizeof(char *));

        if (a == NULL)
                return rv_error_set(err, ENOMEM, "annotations");
        for (size_t i = 0; i < count; i++) {
                const char *val;
                if (json_read_string(json_object_value(v, i), "annotations", &val, err) < 0)
                        return -1;
                a[2 * i] = strdup(json_object_key(v, i));
                a[2 * i + 1] = strdup(val);
                if (a[2 * i] == NULL || a[2 * i + 1] == NULL)
                        return rv_error_set(err, ENOMEM, "annotations");
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int read_procs(const struct json_value *v, struct container_state *s, struct rv_error **err)
{
        for (size_t i = 0; i < json_array_size(v); i++) {
                const struct json_value *p = json_array_get(v, i), *f;
                const char *name = "";
                int64_t pid = 0;
                uint64_t start = 0;
                if (s->n_procs == STATE_MAX_PROCS)
                        return rv_error_setx(err, EINVAL, "`processes`: more than %d", STATE_MAX_PROCS);
                if (((f = json_get(p, "name")) && json_read_string(f, "processes[].name", &name, err) < 0) ||
                    ((f = json_get(p, "pid")) && json_read_int64(f, "processes[].pid", &pid, err) < 0) ||
                    ((f = json_get(p, "start_time")) &&
                     json_read_uint64(f, "processes[].start_time", &start, err) < 0))
                        return -1;
                struct state_proc *sp = &s->procs[s->n_procs++];
                snprintf(sp->name, sizeof(sp->name), "%s", name);
                sp->pid = (pid_t) pid;
                sp->start_time = start;
        }
        return 0;
}

static int read_resources(const struct json_value *v, struct container_state *s, struct rv_error **err)
{
        size_t n = json_array_size(v);

        s->resources = calloc(n ? n : 1, sizeof(*s->resources));
        if (s->resources == NULL)
                return rv_error_set(err, ENOMEM, "load state");
        for (size_t i = 0; i < n; i++) {
                const struct json_value *r = json_array_get(v, i);
                struct state_resource *sr = &s->resources[s->n_resources++];
                if (dup_string(r, "kind", &sr->kind, err) < 0 || dup_string(r, "name", &sr->name, err) < 0)
                        return -1;
                if (sr->kind == NULL || sr->name == NULL)
                        return rv_error_setx(err, EINVAL, "`resources[%zu]`: lacks kind or name", i);
        }
        return 0;
}

static int read_state(const struct json_value *root, struct container_state *s, struct rv_error **err)
{
        const struct json_value *v;
        _cleanup_free_ char *status = NULL;
        int64_t n;

        if (dup_string(root, "id", &s->id, err) < 0 || dup_string(root, "bundle", &s->bundle, err) < 0 ||
            dup_string(root, "rootfs", &s->rootfs, err) < 0 ||
            dup_string(root, "created", &s->created, err) < 0 ||
            dup_string(root, "owner", &s->owner, err) < 0 ||
            dup_string(root, "status", &status, err) < 0)
                return -1;
        if (status && container_status_from_name(status, &s->status) < 0)
                return rv_error_setx(err, EINVAL, "`state.json`: unknown status `%s`", status);
        /* Another version's record may name processes differently: never
         * guess which of them delete should stop. */
        if (read_int(root, "state_version", &n, err) < 0)
                return -1;
        if (n != STATE_VERSION)
                return rv_error_setx(err, EPROTO, "`state.json` was written by %s runvm (state version %lld, "
                                     "this one reads %d): stop and delete the container with that runvm",
                                     n < STATE_VERSION ? "an older" : "a newer", (long long) (n ? n : 1),
                                     STATE_VERSION);
        if (read_int(root, "monitor_pid", &n, err) < 0)
                return -1;
        s->monitor_pid = (pid_t) n;
        v = json_get(root, "monitor_start_time");
        if (v && json_read_uint64(v, "monitor_start_time", &s->monitor_start_time, err) < 0)
                return -1;
        if (read_int(root, "pidns_init_pid", &n, err) < 0)
                return -1;
        s->pidns_init_pid = (pid_t) n;
        v = json_get(root, "pidns_init_start_time");
        if (v && json_read_uint64(v, "pidns_init_start_time", &s->pidns_init_start_time, err) < 0)
                return -1;
        if ((v = json_get(root, "kvm")) && json_read_bool(v, "kvm", &s->kvm, err) < 0)
                return -1;
        if (read_int(root, "memory_mib", &n, err) < 0)
                return -1;
        s->memory_mib = (unsigned) n;
        if (read_int(root, "vcpus", &n, err) < 0)
                return -1;
        s->vcpus = (unsigned) n;
        if ((v = json_get(root, "exit"))) {
                s->exited = true;
                if (read_int(v, "code", &n, err) < 0)
                        return -1;
                s->exit_code = (int) n;
                if (read_int(v, "signal", &n, err) < 0)
                        return -1;
                s->exit_signal = (int) n;
        }
        if ((v = json_get(root, "annotations")) && json_is_object(v) &&
            read_annotations(v, &s->annotations, err) < 0)
                return -1;
        if ((v = json_get(root, "cgroup_dirs")) && json_read_strv(v, "cgroup_dirs", &s->cgroup_dirs, err) < 0)
                return -1;
        if ((v = json_get(root, "processes")) && json_is_array(v) && read_procs(v, s, err) < 0)
                return -1;
        if ((v = json_get(root, "resources")) && json_is_array(v) && read_resources(v, s, err) < 0)
                return -1;
        if (dup_string(root, "reason", &s->reason, err) < 0)
                return -1;
        if ((v = json_get(root, "network")) && netns_record_parse(v, &s->network, err) < 0)
                return -1;
        if ((v = json_get(root, "namespaces")) && read_namespaces(v, s, err) < 0)
                return -1;
        if (dup_string(root, "sandbox", &s->sandbox, err) < 0)
                return -1;
        if (s->id == NULL || status == NULL)
                return rv_error_setx(err, EINVAL, "`state.json` lacks id or status");
        return 0;
}

int state_load(int dirfd, struct container_state **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *root = NULL;
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (rv_read_file_at(dirfd, STATE_FILE, STATE_MAX, &text, &len, err) < 0) {
                if ((*err)->status == ENOENT) {
                        rv_error_release(err);
                        return rv_error_setx(err, ENOENT, "container does not exist");
                }
                return -1;
        }
        if (json_parse(text, len, &root, err) < 0)
                return rv_error_wrap(err, "load state");
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                return rv_error_set(err, ENOMEM, "load state");
        if (read_state(root, s, err) < 0)
                return rv_error_wrap(err, "load state");
        *ret = TAKE_PTR(s);
        return 0;
}

void container_state_free(struct container_state *s)
{
        if (s == NULL)
                return;
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->owner);
        rv_strv_free(s->annotations);
        rv_strv_free(s->cgroup_dirs);
        for (size_t i = 0; i < s->n_resources; i++) {
                free(s->resources[i].kind);
                free(s->resources[i].name);
        }
        free(s->resources);
        free(s->reason);
        free(s->sandbox);
        netns_record_free(s->network);
        free(s);
}

int state_add_proc(struct container_state *s, const char *name, pid_t pid, struct rv_error **err)
{
        if (pid <= 0)
                return 0;
        if (s->n_procs == STATE_MAX_PROCS)
                return rv_error_setx(err, ENOSPC, "record process %s: more than %d", name, STATE_MAX_PROCS);
        struct state_proc *p = &s->procs[s->n_procs];
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->pid = pid;
        if (rv_proc_start_time(pid, &p->start_time) < 0)
                return rv_error_setx(err, ESRCH, "record process %s: %d is gone", name, (int) pid);
        s->n_procs++;
        return 0;
}

void state_clear_procs(struct container_state *s)
{
        s->n_procs = 0;
}

int state_add_resource(struct container_state *s, const char *kind, const char *name, struct rv_error **err)
{
        struct state_resource *n = realloc(s->resources, (s->n_resources + 1) * sizeof(*n));
        if (n == NULL)
                return rv_error_set(err, ENOMEM, "record %s", kind);
        s->resources = n;
        n[s->n_resources].kind = strdup(kind);
        n[s->n_resources].name = strdup(name);
        if (n[s->n_resources].kind == NULL || n[s->n_resources].name == NULL) {
                free(n[s->n_resources].kind);
                free(n[s->n_resources].name);
                return rv_error_set(err, ENOMEM, "record %s", kind);
        }
        s->n_resources++;
        return 0;
}

void state_set_reason(struct container_state *s, const char *reason)
{
        free(s->reason);
        s->reason = reason ? strdup(reason) : NULL;
}

bool container_state_monitor_alive(const struct container_state *s)
{
        return s->monitor_pid > 0 && rv_proc_alive(s->monitor_pid, s->monitor_start_time);
}

enum container_status container_state_status(const struct container_state *s)
{
        if (s->status == CONTAINER_STOPPED || !container_state_monitor_alive(s))
                return CONTAINER_STOPPED;
        return s->status;
}
