/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/modules.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "vm/agent/init.h"

static int module_load(const char *path, struct rv_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return rv_error_set(err, errno, "open `%s`", path);
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "load module `%s`", path);
        return 0;
}

int agent_modules_load(const char *order_path, struct rv_error **err)
{
        _cleanup_free_ char *list = NULL;
        char *line, *save = NULL;

        if (access(order_path, F_OK) < 0 && errno == ENOENT)
                return 0;
        if (rv_read_file_at(AT_FDCWD, order_path, 1 << 20, &list, NULL, err) < 0)
                return -1;
        for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] != '/')
                        continue;
                if (module_load(line, err) < 0)
                        return -1;
                rv_debug("module `%s` loaded at %lld ms", line, (long long) agent_uptime_ms());
        }
        return 0;
}
