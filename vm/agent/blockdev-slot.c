/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/blockdev-slot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

/* The PCI function a block device hangs off, as DOMAIN:BUS:DEV (the
 * form of /sys/bus/pci/slots/N/address): .../0000:01:00.0/virtioN. */
static int disk_pci_address(const char *block, char *ret, size_t size)
{
        char path[PATH_MAX], *real, *slash;

        snprintf(path, sizeof(path), "/sys/block/%s/device", block);
        if ((real = realpath(path, NULL)) == NULL)
                return -1;
        if ((slash = strrchr(real, '/')) != NULL)
                *slash = '\0';          /* the virtio device's parent */
        const char *fn = strrchr(real, '/');
        char *dot = fn ? strrchr(fn, '.') : NULL;
        int r = -1;
        if (fn && dot && strncmp(real, "/sys/devices/pci", 16) == 0) {
                *dot = '\0';
                snprintf(ret, size, "%s", fn + 1);
                r = 0;
        }
        free(real);
        return r;
}

static int find_disk(const char *serial, char *ret, size_t size)
{
        _cleanup_closedir_ DIR *dir = opendir("/sys/block");
        struct dirent *e;
        char path[PATH_MAX], got[64];

        while (dir && (e = readdir(dir)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
                if (rv_read_line(path, got, sizeof(got)) == 0 && strcmp(got, serial) == 0)
                        return disk_pci_address(e->d_name, ret, size);
        }
        return -1;
}

void agent_blockdev_slot_power_off(const char *serial)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *e;
        char want[64], path[PATH_MAX], got[64];

        if (find_disk(serial, want, sizeof(want)) < 0) {
                rv_debug("disk `%s`: in no hot-plug slot", serial);
                return;
        }
        rv_debug("disk `%s`: powering off the slot at %s", serial, want);
        dir = opendir("/sys/bus/pci/slots");
        while (dir && (e = readdir(dir)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/bus/pci/slots/%s/address", e->d_name);
                if (rv_read_line(path, got, sizeof(got)) < 0 || strcmp(got, want) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/bus/pci/slots/%s/power", e->d_name);
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
                /* Returns once the guest let go of the device. */
                if (fd < 0 || write(fd, "0", 1) != 1)
                        rv_log(RV_LOG_WARNING, "disk `%s`: power off slot %s: %s", serial, e->d_name,
                               strerror(errno));
                return;
        }
}
