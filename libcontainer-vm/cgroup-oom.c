/* SPDX-License-Identifier: Apache-2.0 */
/* A guest OOM kill, told where podman looks for one. The guest's
 * memory.events is not the host's: conmon watches the container's host
 * cgroup (memory.oom_control's eventfd on v1, memory.events on v2) and,
 * when it reports an OOM, creates the file `oom` in its working directory
 * (the bundle), which podman reads for OOMKilled. The host cgroup saw
 * nothing: the guest's kernel killed, not the host's. And it cannot be
 * made to see one safely: v1 notifies only the memcg that ran out, v2
 * counts a child's OOM in its ancestors but a cgroup holding processes
 * (the monitor, QEMU) cannot give a child a memory limit, and an OOM in
 * the container's own memcg would be decided among QEMU's processes. So
 * runvm creates the bundle's `oom` file itself, what conmon would have. */
#include "libcontainer-vm/cgroup-oom.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"

int host_cgroup_reflect_oom(const char *bundle, struct rv_error **err)
{
        if (bundle == NULL || bundle[0] == '\0')
                return 0;
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rv_error_set(err, errno, "reflect the OOM: bundle `%s`", bundle);
        _cleanup_close_ int fd = openat(dfd, "oom", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return rv_error_set(err, errno, "reflect the OOM: `%s/oom`", bundle);
        return 0;
}
