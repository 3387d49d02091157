/* SPDX-License-Identifier: Apache-2.0 */
/* What a pod member brings into the sandbox's running VM at its create:
 * its files (bind trees into virtiofsd's export, below the member's own
 * place in it) and its disks (hot-plugged). They leave with it
 * (monitor-pod.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-pod-member.h"
#include "libcontainer-vm/monitor-shared.h"
#include "spec/json.h"
#include "vm/vm.h"

int monitor_pod_add_shares(struct monitor *m, const struct json_value *shares, struct ctl_request *req,
                           struct rv_error **err)
{
        size_t n = json_array_size(shares);

        if (!json_is_array(shares) || MEMBER_FD_TREES + n > req->n_fds)
                return rv_error_setx(err, EINVAL, "`shares`: one tree per share expected");
        for (size_t i = 0; i < n; i++) {
                const struct json_value *s = json_array_get(shares, i);
                const char *name = NULL, *source = NULL;
                bool is_dir = true;
                int tree = req->fds[MEMBER_FD_TREES + i];

                if (json_read_string(json_get(s, "name"), "shares.name", &name, err) < 0 ||
                    json_read_string(json_get(s, "source"), "shares.source", &source, err) < 0 ||
                    json_read_bool(json_get(s, "is_dir"), "shares.is_dir", &is_dir, err) < 0)
                        return -1;
                /* Only below the member's own place in the export. */
                if (strncmp(name, ".runvm-pods/", 12) != 0 || strstr(name, "..") != NULL)
                        return rv_error_setx(err, EINVAL, "`shares`: `%s` is outside the pod's members", name);
                struct vm_share sh = { .source = source, .name = name, .is_dir = is_dir, .fd = -1 };
                req->fds[MEMBER_FD_TREES + i] = -1;
                if (vm_add_share(m->vm, &sh, tree, err) < 0)
                        return -1;
        }
        return 0;
}

/* The member's disks into the running VM (hot-plug), each remembered
 * for its unshare (monitor-pod.c) as soon as it is in. Their fds follow the trees. */
int monitor_pod_add_disks(struct monitor *m, struct pod_member *mb, const struct json_value *disks, size_t first,
                          struct ctl_request *req, struct rv_error **err)
{
        size_t n = disks ? json_array_size(disks) : 0;

        if ((disks && !json_is_array(disks)) || first + n != req->n_fds)
                return rv_error_setx(err, EINVAL, "`disks`: one fd per disk expected");
        if (n > 0 && (mb->disk_ids = calloc(n, sizeof(char *))) == NULL)
                return rv_error_set(err, ENOMEM, "member disks");
        for (size_t i = 0; i < n; i++) {
                const struct json_value *j = json_array_get(disks, i);
                struct vm_disk d = { .fd = req->fds[first + i] };
                if (json_read_string(json_get(j, "id"), "disks.id", &d.id, err) < 0 ||
                    json_read_string(json_get(j, "source"), "disks.source", &d.source, err) < 0 ||
                    json_read_bool(json_get(j, "is_block"), "disks.is_block", &d.is_block, err) < 0 ||
                    json_read_bool(json_get(j, "readonly"), "disks.readonly", &d.readonly, err) < 0)
                        return -1;
                if (vm_add_disk(m->vm, &d, err) < 0)
                        return rv_error_wrap(err, "`linux.devices`/`mounts`: block device `%s` into the pod's "
                                             "running VM", d.source);
                if ((mb->disk_ids[mb->n_disks] = strdup(d.id)) == NULL)
                        return rv_error_set(err, ENOMEM, "member disks");
                mb->n_disks++;
        }
        return 0;
}
