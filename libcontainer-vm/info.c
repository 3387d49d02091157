/* SPDX-License-Identifier: Apache-2.0 */
/* state and list: read files only, never wait on a VM. */
#include "libcontainer-vm/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "libcontainer-vm/state.h"
#include "netns/netns.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"

static char *dup_or_empty(const char *s)
{
        return strdup(s ? s : "");
}

static int info_from_state(struct container_state *st, struct container_info **ret,
                           struct rv_error **err)
{
        struct container_info *i = calloc(1, sizeof(*i));
        size_t n = 0;

        if (i == NULL)
                return rv_error_set(err, ENOMEM, "container info");
        enum container_status status = container_state_status(st);
        i->id = dup_or_empty(st->id);
        i->status = dup_or_empty(container_status_name(status));
        i->bundle = dup_or_empty(st->bundle);
        i->rootfs = dup_or_empty(st->rootfs);
        i->created = dup_or_empty(st->created);
        i->owner = dup_or_empty(st->owner);
        i->pid = status == CONTAINER_STOPPED ? 0 : st->monitor_pid;
        if (status != CONTAINER_STOPPED)
                i->network = TAKE_PTR(st->network);
        i->memory_mib = st->memory_mib;
        i->vcpus = st->vcpus;
        for (char **a = st->annotations; a && *a; a++)
                n++;
        i->annotations = calloc(n + 1, sizeof(char *));
        for (size_t k = 0; i->annotations && k < n; k++)
                i->annotations[k] = strdup(st->annotations[k]);
        if (!i->id || !i->status || !i->bundle || !i->rootfs || !i->created || !i->owner || !i->annotations) {
                container_info_free(i);
                return rv_error_set(err, ENOMEM, "container info");
        }
        *ret = i;
        return 0;
}

int container_info_load(const struct runvm_context *ctx, const char *id,
                        struct container_info **ret, struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        int r;

        if (!container_id_is_valid(id))
                return rv_error_setx(err, EINVAL, "invalid container ID format");
        if (state_dir_open(ctx->root, id, false, &dir, err) < 0)
                return -1;
        r = state_load(dir.dirfd, &st, err);
        if (r == 0) {
                /* runc's list names the user owning the container's state. */
                struct stat sb;
                struct passwd pw, *res = NULL;
                char buf[1024], *name = NULL;
                if (fstat(dir.dirfd, &sb) == 0) {
                        if (getpwuid_r(sb.st_uid, &pw, buf, sizeof(buf), &res) == 0 && res)
                                name = strdup(res->pw_name);
                        else if (asprintf(&name, "#%u", (unsigned) sb.st_uid) < 0)
                                name = NULL;
                }
                if (name) {
                        free(st->owner);
                        st->owner = name;
                }
        }
        state_dir_close(&dir);
        if (r < 0)
                return -1;
        return info_from_state(st, ret, err);
}

static int compare_info(const void *a, const void *b)
{
        const struct container_info *x = *(struct container_info *const *) a;
        const struct container_info *y = *(struct container_info *const *) b;
        return strcmp(x->id, y->id);
}

int container_info_list(const struct runvm_context *ctx, struct container_info ***ret,
                        size_t *ret_n, struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = opendir(ctx->root);
        struct container_info **v = NULL;
        size_t n = 0;
        struct dirent *de;

        if (d == NULL) {
                if (errno != ENOENT)
                        return rv_error_set(err, errno, "open `%s`", ctx->root);
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while ((de = readdir(d)) != NULL) {
                struct container_info *i = NULL;
                struct rv_error *tmp_err = NULL;

                /* Skips ".", "..", and runvm's own entries ("@host"). */
                if (!container_id_is_valid(de->d_name))
                        continue;
                if (container_info_load(ctx, de->d_name, &i, &tmp_err) < 0) {
                        /* Deleted meanwhile, or still being created. */
                        rv_error_release(&tmp_err);
                        continue;
                }
                struct container_info **nv = realloc(v, (n + 1) * sizeof(*v));
                if (nv == NULL) {
                        container_info_free(i);
                        container_info_list_free(v, n);
                        return rv_error_set(err, ENOMEM, "list");
                }
                v = nv;
                v[n++] = i;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), compare_info);
        *ret = v;
        *ret_n = n;
        return 0;
}

void container_info_free(struct container_info *i)
{
        if (i == NULL)
                return;
        free(i->id);
        free(i->status);
        free(i->bundle);
        free(i->rootfs);
        free(i->created);
        free(i->owner);
        rv_strv_free(i->annotations);
        netns_record_free(i->network);
        free(i);
}

void container_info_list_free(struct container_info **v, size_t n)
{
        for (size_t k = 0; k < n; k++)
                container_info_free(v[k]);
        free(v);
}

/* "vm": {"memory_mib":2048,"vcpus":2} (docs/RESOURCES.md), then
 * "nics": [{"name":"eth0","tap":"tap0_runvm","mac":"...","mtu":1500}] */
static void write_extra(struct json_writer *w, const void *data)
{
        const struct container_info *i = data;
        const struct netns_record *rec = i->network;

        if (i->memory_mib > 0) {
                json_write_key(w, "vm");
                json_write_object_begin(w);
                json_write_key(w, "memory_mib");
                json_write_uint64(w, i->memory_mib);
                json_write_key(w, "vcpus");
                json_write_uint64(w, i->vcpus);
                json_write_object_end(w);
        }
        if (rec == NULL || rec->n_nics == 0)
                return;
        json_write_key(w, "nics");
        json_write_array_begin(w);
        for (size_t k = 0; k < rec->n_nics; k++) {
                json_write_object_begin(w);
                netns_nic_write_fields(w, &rec->nics[k]);
                json_write_object_end(w);
        }
        json_write_array_end(w);
}

static void write_state(struct json_writer *w, const struct container_info *i, bool with_owner)
{
        size_t n = 0;
        for (char **a = i->annotations; a && a[0] && a[1]; a += 2)
                n++;
        struct spec_string_pair pairs[n ? n : 1];
        for (size_t k = 0; k < n; k++)
                pairs[k] = (struct spec_string_pair) { i->annotations[2 * k], i->annotations[2 * k + 1] };
        struct spec_state s = {
                .oci_version = SPEC_OCI_VERSION, .id = i->id, .status = i->status, .pid = i->pid,
                .bundle = i->bundle, .rootfs = i->rootfs, .created = i->created, .owner = with_owner ? i->owner : "",
                .annotations = pairs, .n_annotations = n,
        };
        /* Only `state` shows them: list keeps runc's objects. */
        if (!with_owner && (i->memory_mib > 0 || (i->network && i->network->n_nics > 0))) {
                s.write_extra = write_extra;
                s.extra = i;
        }
        spec_state_write_full(w, &s);
}

int container_info_state_json(const struct container_info *i, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new("  ");

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "state");
        /* runc's state leaves the owner empty; only list fills it in. */
        write_state(w, i, false);
        return json_writer_finish(w, ret, NULL, err);
}

int container_info_list_json(struct container_info **v, size_t n, char **ret,
                             struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "list");
        if (n == 0) {
                json_write_null(w);
        } else {
                json_write_array_begin(w);
                for (size_t k = 0; k < n; k++)
                        write_state(w, v[k], true);
                json_write_array_end(w);
        }
        return json_writer_finish(w, ret, NULL, err);
}
