/* SPDX-License-Identifier: Apache-2.0 */
/* The warm pool's slots: claims, fills, drains (pool.h; shapes: pool-shape.c). The pool
 * monitor that owns each VM is pool-monitor.c. */
#include "libcontainer-vm/pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/accel.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/pod-join.h"
#include "libcontainer-vm/pod-slots.h"
#include "libcontainer-vm/pool-monitor.h"
#include "libcontainer-vm/sizing.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/teardown.h"
#include "libcontainer-vm/translate.h"
#include "spec/config.h"

/* A background refill's niceness until its VM is claimed. */
#define POOL_BACKGROUND_NICE 10

/* A claim whose create never connected (it died) is given up after this
 * by the pool monitor; drain and status treat it as serving until then. */
#define POOL_WAIT_MS 10000

bool pool_eligible(const struct spec_config *guest, const struct vm_plan *plan,
                   const struct runvm_config *cfg, bool pod_member)
{
        const struct spec_hooks *h = &guest->hooks;

        if (cfg->warm_pool == 0 || pod_member)
                return false;
        if (h->prestart.n || h->create_runtime.n || h->create_container.n || h->start_container.n ||
            h->poststart.n || h->poststop.n)
                return false;
        /* A user namespace's monitor enters it on the host (its keeper,
         * monitor-userns.c), which a pod member's does not. */
        if (spec_config_namespace(guest, "user") != NULL)
                return false;
        /* A network namespace path is served when its interfaces fit the
         * pool VM's NIC, which the caller counts (pool_nic_count). */
        if (guest->process.terminal || plan->n_disks > 0 || plan->ipcns_path != NULL || plan->utsns_path != NULL || (plan->cpus && *plan->cpus))
                return false;
        /* A CRI sandbox will hold members: its VM is the pod's. (podman
         * puts other io.kubernetes.cri-o.* keys on every container.) */
        static const char *const pod_keys[] = { POD_CRIO_TYPE, POD_CRIO_SANDBOX, POD_CRI_TYPE, POD_CRI_SANDBOX };
        for (size_t i = 0; i < guest->n_annotations; i++)
                for (size_t k = 0; k < sizeof(pod_keys) / sizeof(pod_keys[0]); k++)
                        if (strcmp(guest->annotations[i].key, pod_keys[k]) == 0)
                                return false;
        /* podman's infra (no such key): its VM becomes the pod's, with the
         * hot-plug slots its members' disks need (pod-slots.h). */
        return !pod_is_sandbox(guest);
}

bool pool_is_sandbox(const char *sandbox)
{
        return sandbox && strncmp(sandbox, POOL_SANDBOX_PREFIX, strlen(POOL_SANDBOX_PREFIX)) == 0;
}

/* --- slots -------------------------------------------------------------------- */

static char *pool_root(const char *root)
{
        char *p = NULL;
        return asprintf(&p, "%s/" POOL_DIR, root) < 0 ? NULL : p;
}

enum slot_kind { SLOT_DEAD, SLOT_BOOTING, SLOT_READY, SLOT_SERVING };

static bool procs_alive(const struct container_state *s)
{
        for (size_t i = 0; i < s->n_procs; i++)
                if (!rv_proc_alive(s->procs[i].pid, s->procs[i].start_time))
                        return false;
        return true;
}

static enum slot_kind slot_kind(int dirfd, const struct container_state *s)
{
        if (!container_state_monitor_alive(s))
                return SLOT_DEAD;
        if (faccessat(dirfd, POOL_CLAIM_FILE, F_OK, 0) == 0)
                return SLOT_SERVING;
        if (s->status == CONTAINER_CREATED)
                return procs_alive(s) ? SLOT_READY : SLOT_DEAD;
        return s->status == CONTAINER_CREATING ? SLOT_BOOTING : SLOT_DEAD;
}

/* Kills what a slot's state records and removes it (pid and start time
 * must match: nothing else is ever signalled). */
static void slot_remove(const char *proot, const char *name)
{
        struct state_dir dir = STATE_DIR_INIT;
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        struct rv_error *tmp_err = NULL;

        if (state_dir_open(proot, name, false, &dir, &tmp_err) == 0) {
                if (state_load(dir.dirfd, &s, &tmp_err) == 0 && container_teardown(s, &tmp_err) < 0) {
                        rv_warn("warm pool: %s: %s", name, tmp_err->msg);
                        rv_error_release(&tmp_err);
                        state_dir_close(&dir);
                        return;
                }
                rv_error_release(&tmp_err);
                state_dir_close(&dir);
        }
        rv_error_release(&tmp_err);
        if (state_dir_remove(proot, name, &tmp_err) < 0)
                rv_warn("warm pool: remove %s: %s", name, tmp_err->msg);
        rv_error_release(&tmp_err);
}

typedef int (*slot_fn)(const char *proot, const char *name, int dirfd, const struct container_state *s,
                       enum slot_kind kind, void *data);

/* Each slot of the root (of the shape, when key is given). A slot being
 * made has no state yet: skipped. fn returning 1 stops the walk. */
static int for_each_slot(const char *root, const char *key, slot_fn fn, void *data, struct rv_error **err)
{
        _cleanup_free_ char *proot = pool_root(root);
        size_t klen = key ? strlen(key) : 0;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (proot == NULL)
                return rv_error_set(err, ENOMEM, "warm pool");
        if ((d = opendir(proot)) == NULL)
                return errno == ENOENT ? 0 : rv_error_set(err, errno, "open `%s`", proot);
        while (r == 0 && (de = readdir(d)) != NULL) {
                struct state_dir dir = STATE_DIR_INIT;
                struct container_state *s = NULL;
                struct rv_error *tmp_err = NULL;

                if (!container_id_is_valid(de->d_name) || de->d_name[0] == '.')
                        continue;
                if (key && (strncmp(de->d_name, key, klen) != 0 || de->d_name[klen] != '-'))
                        continue;
                if (state_dir_open(proot, de->d_name, false, &dir, &tmp_err) < 0 ||
                    state_load(dir.dirfd, &s, &tmp_err) < 0) {
                        rv_error_release(&tmp_err);
                        state_dir_close(&dir);
                        continue;
                }
                r = fn(proot, de->d_name, dir.dirfd, s, slot_kind(dir.dirfd, s), data);
                container_state_free(s);
                state_dir_close(&dir);
        }
        closedir(d);
        return r < 0 ? -1 : 0;
}

struct claim_walk {
        char *name;
};

static int claim_one(const char *proot, const char *name, int dirfd, const struct container_state *s,
                     enum slot_kind kind, void *data)
{
        struct claim_walk *c = data;

        if (kind == SLOT_DEAD) {
                /* Only the one that claims a dead slot removes it. */
                int fd = openat(dirfd, POOL_CLAIM_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        close(fd);
                        rv_debug("warm pool: %s is dead: removed", name);
                        slot_remove(proot, name);
                }
                return 0;
        }
        if (kind != SLOT_READY)
                return 0;
        int fd = openat(dirfd, POOL_CLAIM_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return 0;               /* another create was first */
        close(fd);
        /* Claimed: still alive? It could have died since it was read. */
        if (!container_state_monitor_alive(s) || !procs_alive(s)) {
                slot_remove(proot, name);
                return 0;
        }
        c->name = strdup(name);
        return 1;
}

int pool_claim(const char *root, const struct pool_shape *shape, char **ret_sandbox, struct rv_error **err)
{
        struct claim_walk c = { 0 };

        *ret_sandbox = NULL;
        if (for_each_slot(root, shape->key, claim_one, &c, err) < 0)
                return -1;
        if (c.name && asprintf(ret_sandbox, POOL_SANDBOX_PREFIX "%s", c.name) < 0)
                *ret_sandbox = NULL;
        free(c.name);
        return 0;
}

void pool_discard(const char *root, const char *sandbox)
{
        _cleanup_free_ char *proot = pool_root(root);

        if (proot && pool_is_sandbox(sandbox))
                slot_remove(proot, sandbox + strlen(POOL_SANDBOX_PREFIX));
}

static int load_slot(const char *root, const char *sandbox, struct container_state **ret, struct rv_error **err)
{
        struct state_dir dir = STATE_DIR_INIT;

        if (state_dir_open(root, sandbox, false, &dir, err) < 0)
                return rv_error_wrap(err, "warm pool VM `%s`", sandbox);
        int r = state_load(dir.dirfd, ret, err);
        state_dir_close(&dir);
        return r;
}

static int write_pid(const char *dir, pid_t pid, struct rv_error **err)
{
        _cleanup_free_ char *path = NULL;
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int) pid);

        if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
                return rv_error_set(err, ENOMEM, "cgroup");
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, buf, (size_t) n) != n)
                return rv_error_set(err, errno, "move pid %d into `%s`", (int) pid, dir);
        return 0;
}

/* Every thread of pid back to the default niceness (it is per thread:
 * QEMU's vCPU threads were made at the pool monitor's). */
static void renice_all(pid_t pid)
{
        char path[64];
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
        if ((d = opendir(path)) == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                int tid = atoi(de->d_name);
                if (tid > 0)
                        setpriority(PRIO_PROCESS, (id_t) tid, 0);
        }
        closedir(d);
}

int pool_adopt(const char *root, const char *sandbox, const char *cgroups_path, const char *id, bool systemd,
               const struct host_cgroup_limits *limits, char ***ret_dirs, struct pool_procs *ret,
               struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        size_t first;

        ret->n = 0;
        if (load_slot(root, sandbox, &s, err) < 0)
                return -1;
        if (s->n_procs == 0)
                return rv_error_setx(err, ESRCH, "warm pool VM `%s` has no processes", sandbox);
        /* Checked alive at the claim: pid and start time were the VM's. */
        renice_all(s->monitor_pid);
        for (size_t i = 0; i < s->n_procs; i++)
                renice_all(s->procs[i].pid);
        /* systemd makes the scope around a process. */
        first = systemd ? 1 : 0;
        if (host_cgroup_enter(cgroups_path, id, systemd, systemd ? s->procs[0].pid : 0, limits, ret_dirs, err) < 0)
                return -1;
        for (size_t i = first; i < s->n_procs; i++)
                ret->pid[ret->n++] = s->procs[i].pid;
        return 0;
}

int pool_adopt_procs(const struct pool_procs *procs, char *const *dirs, struct rv_error **err)
{
        for (size_t i = 0; i < procs->n; i++)
                for (size_t k = 0; dirs && dirs[k]; k++)
                        if (write_pid(dirs[k], procs->pid[i], err) < 0)
                                return -1;
        return 0;
}

/* --- fill, drain, status ------------------------------------------------------ */

struct counts {
        struct pool_status st;
        unsigned removed;
        bool drain;
};

static int count_one(const char *proot, const char *name, int dirfd, const struct container_state *s,
                     enum slot_kind kind, void *data)
{
        struct counts *c = data;

        switch (kind) {
        case SLOT_READY: c->st.ready++; break;
        case SLOT_BOOTING: c->st.booting++; break;
        case SLOT_SERVING: c->st.serving++; break;
        case SLOT_DEAD: break;
        }
        if (!c->drain || kind == SLOT_SERVING)
                return 0;
        /* Ours to remove only once the claim file is ours. */
        int fd = openat(dirfd, POOL_CLAIM_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return 0;
        close(fd);
        slot_remove(proot, name);
        c->removed++;
        return 0;
}

int pool_status(const char *root, struct pool_status *ret, struct rv_error **err)
{
        struct counts c = { 0 };

        if (for_each_slot(root, NULL, count_one, &c, err) < 0)
                return -1;
        *ret = c.st;
        return 0;
}

static int lock_pool(const char *proot, struct rv_error **err);

/* An empty pool leaves nothing under the root. */
static void remove_if_empty(const char *proot)
{
        _cleanup_free_ char *lock = NULL;
        DIR *d = opendir(proot);
        struct dirent *de;
        bool empty = true;

        if (d == NULL)
                return;
        while (empty && (de = readdir(d)) != NULL)
                empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                        strcmp(de->d_name, ".lock") == 0;
        closedir(d);
        if (empty && asprintf(&lock, "%s/.lock", proot) >= 0) {
                unlink(lock);
                rmdir(proot);
        }
}

int pool_drain(const char *root, unsigned *ret_removed, unsigned *ret_serving, struct rv_error **err)
{
        _cleanup_free_ char *proot = pool_root(root);
        struct counts c = { .drain = true };
        struct stat sb;

        *ret_removed = *ret_serving = 0;
        if (proot == NULL)
                return rv_error_set(err, ENOMEM, "warm pool");
        if (stat(proot, &sb) < 0)
                return 0;
        /* Under the fill lock: no slot is being made meanwhile. */
        int lock = lock_pool(proot, err);
        if (lock < 0)
                return -1;
        int r = for_each_slot(root, NULL, count_one, &c, err);
        if (r == 0)
                remove_if_empty(proot);
        close(lock);
        *ret_removed = c.removed;
        *ret_serving = c.st.serving;
        return r;
}

static int lock_pool(const char *proot, struct rv_error **err)
{
        _cleanup_free_ char *path = NULL;

        if (rv_mkdir_p(proot, 0700, err) < 0)
                return -1;
        if (asprintf(&path, "%s/.lock", proot) < 0)
                return rv_error_set(err, ENOMEM, "warm pool");
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return rv_error_set(err, errno, "open `%s`", path);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        rv_error_set(err, errno, "lock `%s`", path);
                        close(fd);
                        return -1;
                }
        }
        return fd;
}

/* A detached pool monitor: its own session, nothing of the caller's open
 * (conmon and containerd's shim wait for their pipes to close), not the
 * caller's child. It starts once its slot records its pid. */
static int spawn_one(const struct runvm_context *ctx, const struct runvm_config *cfg,
                     const struct pool_shape *shape, const char *proot, bool background, struct rv_error **err)
{
        static unsigned seq;
        char name[160];
        int go[2], pp[2];
        pid_t pid = -1;

        snprintf(name, sizeof(name), "%s-%d-%u-%lld", shape->key, (int) getpid(), seq++,
                 (long long) (rv_now_ms() % 100000000));
        if (pipe2(go, O_CLOEXEC) < 0)
                return rv_error_set(err, errno, "pipe");
        if (pipe2(pp, O_CLOEXEC) < 0) {
                close(go[0]);
                close(go[1]);
                return rv_error_set(err, errno, "pipe");
        }
        pid_t mid = fork();
        if (mid == 0) {
                setsid();
                pid_t g = fork();
                if (g != 0) {
                        rv_write_all(pp[1], &g, sizeof(g));
                        _exit(0);
                }
                int keep = go[0];
                int null = open("/dev/null", O_RDWR);
                if (null >= 0) {
                        for (int fd = 0; fd <= 2; fd++)
                                dup2(null, fd);
                }
                /* go[0] > 2: stdio was open when the pipe was made. */
                close_range(3, (unsigned) keep - 1, 0);
                close_range((unsigned) keep + 1, ~0u, 0);
                char c;
                if (read(keep, &c, 1) != 1)
                        _exit(0);
                close(keep);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* A refill boots while the container that triggered it
                 * runs, on the same CPUs: it yields to it (and to
                 * everything else) until claimed (pool_adopt). */
                if (background)
                        setpriority(PRIO_PROCESS, 0, POOL_BACKGROUND_NICE);
                pool_monitor_main(ctx, cfg, shape->memory_mib, shape->vcpus, proot, name);
        }
        close(go[0]);
        close(pp[1]);
        if (mid > 0) {
                if (rv_read_all(pp[0], &pid, sizeof(pid)) != (ssize_t) sizeof(pid))
                        pid = -1;
                while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        close(pp[0]);
        if (pid <= 0) {
                close(go[1]);
                return rv_error_set(err, mid < 0 ? errno : ECHILD, "start a warm pool VM");
        }
        char created[64];
        struct container_state st = { .id = name, .bundle = "", .rootfs = "", .created = created, .owner = "",
                                      .status = CONTAINER_CREATING, .monitor_pid = pid,
                                      .memory_mib = shape->memory_mib, .vcpus = shape->vcpus,
                                      .kvm = shape->kvm };
        struct state_dir dir = STATE_DIR_INIT;
        rv_time_rfc3339(created, sizeof(created), true);
        int r = rv_proc_start_time(pid, &st.monitor_start_time) < 0 ? rv_error_set(err, ESRCH, "warm pool VM")
                : state_dir_create(proot, name, &st, &dir, err);
        state_dir_close(&dir);
        if (r == 0 && rv_write_all(go[1], "g", 1) < 0)
                r = rv_error_set(err, errno, "start a warm pool VM");
        close(go[1]);               /* without "g" it just goes */
        return r;
}

static int wait_ready(const char *root, const struct pool_shape *shape, int timeout_ms, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + timeout_ms;

        for (;;) {
                struct counts c = { 0 };
                _cleanup_free_ char *key = strdup(shape->key);
                if (key == NULL || for_each_slot(root, key, count_one, &c, err) < 0)
                        return key ? -1 : rv_error_set(err, ENOMEM, "warm pool");
                if (c.st.booting == 0)
                        return 0;
                if (rv_now_ms() > deadline)
                        return rv_error_setx(err, ETIMEDOUT, "warm pool: %u VM(s) still booting after %d ms",
                                             c.st.booting, timeout_ms);
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

int pool_fill(const struct runvm_context *ctx, const struct runvm_config *cfg, const struct pool_shape *shape,
              unsigned depth, bool wait, unsigned *ret_started, struct rv_error **err)
{
        _cleanup_free_ char *proot = pool_root(ctx->root);
        struct counts c = { 0 };
        unsigned started = 0;
        int r = 0;

        *ret_started = 0;
        if (proot == NULL)
                return rv_error_set(err, ENOMEM, "warm pool");
        int lock = lock_pool(proot, err);
        if (lock < 0)
                return -1;
        if (for_each_slot(ctx->root, shape->key, count_one, &c, err) < 0)
                r = -1;
        for (unsigned have = c.st.ready + c.st.booting; r == 0 && have + started < depth;)
                if ((r = spawn_one(ctx, cfg, shape, proot, !wait, err)) == 0)
                        started++;
        close(lock);
        *ret_started = started;
        if (r == 0 && wait)
                r = wait_ready(ctx->root, shape, cfg->boot_timeout_ms + 5000, err);
        return r;
}
