/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pod-join.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "libcontainer-vm/container.h"
#include "spec/config.h"

static const int clone_flags[STATE_NS_COUNT] = {
        [STATE_NS_NET] = CLONE_NEWNET, [STATE_NS_IPC] = CLONE_NEWIPC, [STATE_NS_UTS] = CLONE_NEWUTS,
};
static const char *const proc_names[STATE_NS_COUNT] = {
        [STATE_NS_NET] = "net", [STATE_NS_IPC] = "ipc", [STATE_NS_UTS] = "uts",
};

static int ns_from_name(const char *type)
{
        for (int i = 0; i < STATE_NS_COUNT; i++)
                if (type && strcmp(type, state_ns_name(i)) == 0)
                        return i;
        return -1;
}

/* What one pair of CRI annotations says: NULL when nothing; "" when the
 * container is a sandbox; else the sandbox it belongs to. */
static int cri_claim(const struct spec_config *spec, const char *type_key, const char *sandbox_key,
                     const char **ret, struct rv_error **err)
{
        const char *type = spec_config_annotation(spec, type_key);
        const char *sandbox = spec_config_annotation(spec, sandbox_key);

        *ret = NULL;
        if (type == NULL)
                return 0;
        if (strcmp(type, "sandbox") == 0) {
                *ret = "";
                return 0;
        }
        if (strcmp(type, "container") != 0)
                return 0;
        if (sandbox == NULL || sandbox[0] == '\0')
                return rv_error_setx(err, EINVAL, "`annotations`: `%s` is `container` but `%s` is %s: "
                                     "which pod the container belongs to is unknown",
                                     type_key, sandbox_key, sandbox ? "empty" : "missing");
        *ret = sandbox;
        return 0;
}

static const struct container_state *find_id(struct container_state *const *c, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(c[i]->id, id) == 0)
                        return c[i];
        return NULL;
}

static const struct container_state *find_ns(struct container_state *const *c, size_t n,
                                             const struct pod_ns_ref *r)
{
        for (size_t i = 0; i < n; i++) {
                const struct state_nsid *h = &c[i]->ns[r->type];
                if (h->ino != 0 && h->ino == r->id.ino && h->dev == r->id.dev)
                        return c[i];
        }
        return NULL;
}

/* A member's monitor holds its pod's namespaces: joining them is joining
 * that pod. */
static const char *pod_of(const struct container_state *s)
{
        return s->sandbox ? s->sandbox : s->id;
}

int pod_join_decide(const struct spec_config *spec, const struct pod_ns_ref *refs, size_t n_refs,
                    struct container_state *const *candidates, size_t n_candidates,
                    const char **ret_sandbox, struct rv_error **err)
{
        const struct container_state *by_ns = NULL;
        const struct pod_ns_ref *by_ref = NULL;
        const char *crio = NULL, *cri = NULL, *claim, *claim_key;

        *ret_sandbox = NULL;
        for (size_t i = 0; i < n_refs; i++) {
                const struct container_state *c = find_ns(candidates, n_candidates, &refs[i]);

                if (c == NULL)
                        continue;
                if (by_ns && strcmp(pod_of(by_ns), pod_of(c)) != 0)
                        return rv_error_setx(err, EINVAL, "`linux.namespaces[%zu]`: the %s namespace is runvm "
                                             "container `%s`'s, but `linux.namespaces[%zu]`'s is `%s`'s: "
                                             "a container joins one pod's VM",
                                             refs[i].index, state_ns_name(refs[i].type), pod_of(c),
                                             by_ref->index, pod_of(by_ns));
                by_ns = c;
                by_ref = &refs[i];
        }
        if (cri_claim(spec, POD_CRIO_TYPE, POD_CRIO_SANDBOX, &crio, err) < 0 ||
            cri_claim(spec, POD_CRI_TYPE, POD_CRI_SANDBOX, &cri, err) < 0)
                return -1;
        if (crio && cri && strcmp(crio, cri) != 0)
                return rv_error_setx(err, EINVAL, "`annotations`: CRI-O's (`%s`) and containerd's (`%s`) "
                                     "disagree on the pod: %s%s%s vs %s%s%s", POD_CRIO_SANDBOX, POD_CRI_SANDBOX,
                                     *crio ? "`" : "", *crio ? crio : "a sandbox", *crio ? "`" : "",
                                     *cri ? "`" : "", *cri ? cri : "a sandbox", *cri ? "`" : "");
        claim = crio ? crio : cri;
        claim_key = crio ? POD_CRIO_SANDBOX : POD_CRI_SANDBOX;
        if (claim == NULL) {
                *ret_sandbox = by_ns ? pod_of(by_ns) : NULL;
                return 0;
        }
        if (claim[0] == '\0') {
                if (by_ns)
                        return rv_error_setx(err, EINVAL, "`annotations`: `%s` says the container is a sandbox, "
                                             "but `linux.namespaces[%zu]` joins the %s namespace of runvm "
                                             "container `%s`, another pod's", crio ? POD_CRIO_TYPE : POD_CRI_TYPE,
                                             by_ref->index, state_ns_name(by_ref->type), pod_of(by_ns));
                return 0;
        }
        if (find_id(candidates, n_candidates, claim) == NULL)
                return rv_error_setx(err, ENOENT, "`annotations`: `%s` names sandbox `%s`, which is no running "
                                     "runvm container in this --root", claim_key, claim);
        if (by_ns == NULL)
                return rv_error_setx(err, EINVAL, "`annotations`: `%s` puts the container in sandbox `%s`, "
                                     "but `linux.namespaces` joins none of `%s`'s network, ipc or uts "
                                     "namespaces by path", claim_key, claim, claim);
        if (strcmp(pod_of(by_ns), claim) != 0)
                return rv_error_setx(err, EINVAL, "`annotations`: `%s` puts the container in sandbox `%s`, "
                                     "but `linux.namespaces[%zu]` joins the %s namespace of runvm container "
                                     "`%s`", claim_key, claim, by_ref->index, state_ns_name(by_ref->type),
                                     pod_of(by_ns));
        *ret_sandbox = pod_of(by_ns);
        return 0;
}

/* 1: *ret filled; 0: the path is no namespace file (what it is, the
 * monitor's join or translate's refusal will say). */
static int resolve_ref(const struct spec_namespace *ns, size_t index, enum state_ns type,
                       struct pod_ns_ref *ret, struct rv_error **err)
{
        _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        int kind;

        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;
        kind = ioctl(fd, NS_GET_NSTYPE);
        if (kind < 0)
                return 0;
        if (kind != clone_flags[type])
                return rv_error_setx(err, EINVAL, "`linux.namespaces[%zu]`: `%s` is not %s %s namespace",
                                     index, ns->path, type == STATE_NS_IPC ? "an" : "a", state_ns_name(type));
        *ret = (struct pod_ns_ref) { .type = type, .index = index,
                                     .id = { .dev = (uint64_t) st.st_dev, .ino = (uint64_t) st.st_ino } };
        return 1;
}

struct candidates {
        struct container_state **v;
        size_t n;
};

static void candidates_clear(struct candidates *c)
{
        for (size_t i = 0; i < c->n; i++)
                container_state_free(c->v[i]);
        free(c->v);
}

static bool holds_namespaces(const struct container_state *s)
{
        for (size_t i = 0; i < STATE_NS_COUNT; i++)
                if (s->ns[i].ino != 0)
                        return true;
        return false;
}

static bool is_member(const struct container_state *s)
{
        return s->sandbox != NULL;
}

static bool keep_candidate(const struct container_state *s, bool members)
{
        return members ? is_member(s) : holds_namespaces(s);
}


/* The root's containers whose monitor lives (a dead one's inodes may be
 * reused by new namespaces). Entries that vanish or cannot be read are
 * being created or deleted: not a pod to join. */
static int load_candidates(const char *root, bool members, struct candidates *ret, struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = opendir(root);
        struct dirent *de;

        if (d == NULL)
                return errno == ENOENT ? 0 : rv_error_set(err, errno, "open `%s`", root);
        while ((de = readdir(d)) != NULL) {
                struct state_dir dir = STATE_DIR_INIT;
                struct container_state *s = NULL;
                struct rv_error *tmp_err = NULL;

                if (!container_id_is_valid(de->d_name))
                        continue;
                if (state_dir_open(root, de->d_name, false, &dir, &tmp_err) < 0 ||
                    state_load(dir.dirfd, &s, &tmp_err) < 0) {
                        rv_error_release(&tmp_err);
                        state_dir_close(&dir);
                        continue;
                }
                state_dir_close(&dir);
                if (!keep_candidate(s, members) || !container_state_monitor_alive(s)) {
                        container_state_free(s);
                        continue;
                }
                struct container_state **nv = realloc(ret->v, (ret->n + 1) * sizeof(*nv));
                if (nv == NULL) {
                        container_state_free(s);
                        return rv_error_set(err, ENOMEM, "read the containers of `%s`", root);
                }
                ret->v = nv;
                ret->v[ret->n++] = s;
        }
        return 0;
}

int pod_join_resolve(const char *root, const struct spec_config *spec, char **ret_sandbox,
                     unsigned *ret_joined, struct rv_error **err)
{
        const struct spec_linux *l = &spec->linux_;
        struct pod_ns_ref refs[STATE_NS_COUNT * 2];
        struct candidates c = { 0 };
        const char *sandbox = NULL;
        size_t n_refs = 0;
        int r;

        *ret_sandbox = NULL;
        *ret_joined = 0;
        for (size_t i = 0; i < l->n_namespaces && n_refs < sizeof(refs) / sizeof(refs[0]); i++) {
                const struct spec_namespace *ns = &l->namespaces[i];
                int type = ns_from_name(ns->type);

                if (type < 0 || ns->path == NULL || ns->path[0] == '\0')
                        continue;
                r = resolve_ref(ns, i, (enum state_ns) type, &refs[n_refs], err);
                if (r < 0)
                        return -1;
                n_refs += (size_t) r;
        }
        if (n_refs == 0 && spec_config_annotation(spec, POD_CRIO_TYPE) == NULL &&
            spec_config_annotation(spec, POD_CRI_TYPE) == NULL)
                return 0;
        if (load_candidates(root, false, &c, err) < 0) {
                candidates_clear(&c);
                return -1;
        }
        r = pod_join_decide(spec, refs, n_refs, c.v, c.n, &sandbox, err);
        if (r == 0 && sandbox && (*ret_sandbox = strdup(sandbox)) == NULL)
                r = rv_error_set(err, ENOMEM, "pod");
        for (size_t i = 0; r == 0 && sandbox && i < n_refs; i++) {
                const struct container_state *h = find_ns(c.v, c.n, &refs[i]);
                if (h && strcmp(pod_of(h), sandbox) == 0)
                        *ret_joined |= 1u << refs[i].type;
        }
        candidates_clear(&c);
        return r;
}

int pod_record_namespaces(struct container_state *s, struct rv_error **err)
{
        for (int i = 0; i < STATE_NS_COUNT; i++) {
                char path[32];
                struct stat st;

                snprintf(path, sizeof(path), "/proc/self/ns/%s", proc_names[i]);
                if (stat(path, &st) < 0)
                        return rv_error_set(err, errno, "the monitor's %s namespace", state_ns_name(i));
                s->ns[i] = (struct state_nsid) { .dev = (uint64_t) st.st_dev, .ino = (uint64_t) st.st_ino };
        }
        return 0;
}

static bool is_cri_sandbox(const struct spec_config *spec)
{
        const char *a = spec_config_annotation(spec, POD_CRIO_TYPE), *b = spec_config_annotation(spec, POD_CRI_TYPE);
        return (a && strcmp(a, "sandbox") == 0) || (b && strcmp(b, "sandbox") == 0);
}

int pod_sandbox_take_paths(struct spec_config *spec, char **ret_ipc, char **ret_uts, struct rv_error **err)
{
        *ret_ipc = *ret_uts = NULL;
        if (!is_cri_sandbox(spec))
                return 0;
        for (size_t i = 0; i < spec->linux_.n_namespaces; i++) {
                struct spec_namespace *ns = &spec->linux_.namespaces[i];
                int type = ns_from_name(ns->type);
                struct pod_ns_ref ref;

                if ((type != STATE_NS_IPC && type != STATE_NS_UTS) || ns->path == NULL || ns->path[0] == '\0')
                        continue;
                int r = resolve_ref(ns, i, (enum state_ns) type, &ref, err);
                if (r < 0)
                        return -1;
                if (r == 0)
                        continue;       /* not a namespace: translate refuses it */
                char **ret = type == STATE_NS_IPC ? ret_ipc : ret_uts;
                free(*ret);
                *ret = ns->path;
                ns->path = NULL;
        }
        return 0;
}

static int join_path(const char *path, int flag, const char *what, struct rv_error **err)
{
        if (path == NULL)
                return 0;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, flag) < 0)
                return rv_error_set(err, errno, "join the pod's %s namespace `%s`", what, path);
        return 0;
}

int pod_join_pinned(const char *ipc, const char *uts, struct rv_error **err)
{
        return join_path(ipc, CLONE_NEWIPC, "ipc", err) < 0 || join_path(uts, CLONE_NEWUTS, "uts", err) < 0 ? -1 : 0;
}

int pod_check_no_members(const char *root, const char *id, struct rv_error **err)
{
        struct candidates c = { 0 };
        char names[512] = "";
        size_t n = 0;

        if (load_candidates(root, true, &c, err) < 0) {
                candidates_clear(&c);
                return -1;
        }
        for (size_t i = 0; i < c.n; i++) {
                if (strcmp(c.v[i]->sandbox, id) != 0 || container_state_status(c.v[i]) == CONTAINER_STOPPED)
                        continue;
                size_t len = strlen(names);
                snprintf(names + len, sizeof(names) - len, "%s`%s`", n ? ", " : "", c.v[i]->id);
                n++;
        }
        candidates_clear(&c);
        if (n == 0)
                return 0;
        return rv_error_setx(err, EBUSY, "cannot delete container %s: it is the sandbox of the running %s %s, "
                             "whose VM it holds; delete %s first, or use --force", id,
                             n > 1 ? "containers" : "container", names, n > 1 ? "them" : "it");
}
