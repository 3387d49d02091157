/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/qemu-hotplug.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "spec/json.h"
#include "vm/qemu/argv.h"
#include "vm/qemu/qemu-vm.h"

/* QMP answers while the guest runs are quick; a guest under TCG on a
 * loaded host takes seconds to see a slot change, and Linux's pciehp
 * waits 5 s after the attention button before it lets a device go. */
#define QMP_TIMEOUT_MS 10000
#define UNPLUG_TIMEOUT_MS 30000
/* Far above the cold disks' fdsets (1..VM_MAX_DISKS). */
#define FDSET_BASE 1000
/* 20 ms apart: 5 s. */
#define FDSET_CLOSE_TRIES 250

/* A command's arguments as one JSON object (escaped by the writer). */
static char *args_json(void (*fill)(struct json_writer *w, const void *data), const void *data)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        char *text = NULL;
        size_t len;
        struct rv_error *tmp_err = NULL;

        json_write_object_begin(w);
        fill(w, data);
        json_write_object_end(w);
        if (json_writer_finish(w, &text, &len, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        return text;
}

struct plug {
        unsigned slot;
        const struct vm_disk *d;
};

static void fill_fdset(struct json_writer *w, const void *data)
{
        const struct plug *p = data;
        json_write_key(w, "fdset-id");
        json_write_int64(w, FDSET_BASE + p->slot);
}

static void fill_blockdev(struct json_writer *w, const void *data)
{
        const struct plug *p = data;
        char buf[64];

        json_write_key(w, "driver");
        json_write_string(w, p->d->is_block ? "host_device" : "file");
        snprintf(buf, sizeof(buf), "runvm-hpdisk%u", p->slot);
        json_write_key(w, "node-name");
        json_write_string(w, buf);
        snprintf(buf, sizeof(buf), "/dev/fdset/%u", FDSET_BASE + p->slot);
        json_write_key(w, "filename");
        json_write_string(w, buf);
        json_write_key(w, "read-only");
        json_write_bool(w, p->d->readonly);
        /* As disk_args (argv.c): a read-only disk takes no lock and shares. */
        if (p->d->readonly) {
                json_write_key(w, "force-share");
                json_write_bool(w, true);
                json_write_key(w, "locking");
                json_write_string(w, "off");
        }
}

static void fill_device(struct json_writer *w, const void *data)
{
        const struct plug *p = data;
        char buf[64];

        json_write_key(w, "driver");
        json_write_string(w, "virtio-blk-pci");
        snprintf(buf, sizeof(buf), "runvm-hpdev%u", p->slot);
        json_write_key(w, "id");
        json_write_string(w, buf);
        snprintf(buf, sizeof(buf), "runvm-hpdisk%u", p->slot);
        json_write_key(w, "drive");
        json_write_string(w, buf);
        snprintf(buf, sizeof(buf), QEMU_HOTPLUG_PORT "%u", p->slot);
        json_write_key(w, "bus");
        json_write_string(w, buf);
        json_write_key(w, "serial");
        json_write_string(w, p->d->id);
}

static void fill_node(struct json_writer *w, const void *data)
{
        char buf[64];
        snprintf(buf, sizeof(buf), "runvm-hpdisk%u", *(const unsigned *) data);
        json_write_key(w, "node-name");
        json_write_string(w, buf);
}

static void fill_dev_id(struct json_writer *w, const void *data)
{
        char buf[64];
        snprintf(buf, sizeof(buf), "runvm-hpdev%u", *(const unsigned *) data);
        json_write_key(w, "id");
        json_write_string(w, buf);
}

static int call(struct qemu_vm *q, const char *command, void (*fill)(struct json_writer *, const void *),
                const void *data, int fd, int timeout_ms, struct rv_error **err)
{
        _cleanup_free_ char *args = args_json(fill, data);
        if (args == NULL)
                return rv_error_set(err, ENOMEM, "qmp `%s`", command);
        return qmp_execute_args(&q->qmp, command, args, fd, timeout_ms, NULL, err);
}

/* Whether QEMU still lists the slot's fdset: it does while any fd of it
 * is open, the block node's own copy included. */
static bool fdset_listed(struct qemu_vm *q, unsigned slot)
{
        _cleanup_(json_value_freep) struct json_value *ret = NULL;
        struct rv_error *tmp_err = NULL;

        if (qmp_execute_return(&q->qmp, "query-fdsets", QMP_TIMEOUT_MS, &ret, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                return false;
        }
        const struct json_value *sets = json_get(ret, "return");
        for (size_t i = 0; sets && i < json_array_size(sets); i++) {
                int64_t id = -1;
                const struct json_value *v = json_get(json_array_get(sets, i), "fdset-id");
                if (v && json_read_int64(v, "fdset-id", &id, &tmp_err) < 0)
                        rv_error_release(&tmp_err);
                if (id == FDSET_BASE + slot)
                        return true;
        }
        return false;
}

/* What is left of a half-plugged slot goes, best effort. */
static void undo(struct qemu_vm *q, unsigned slot, bool blockdev)
{
        struct rv_error *tmp_err = NULL;
        struct plug p = { .slot = slot };

        if (blockdev && call(q, "blockdev-del", fill_node, &slot, -1, QMP_TIMEOUT_MS, &tmp_err) < 0) {
                rv_log(RV_LOG_WARNING, "hot-plug slot %u: %s", slot, tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        if (call(q, "remove-fd", fill_fdset, &p, -1, QMP_TIMEOUT_MS, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        /* QEMU keeps an fdset while any copy of its fd is open: the host's
         * device is known free only once the fdset is gone (after a
         * failed blockdev-del, the node's copy stays). Bounded. */
        for (int i = 0; i < FDSET_CLOSE_TRIES && fdset_listed(q, slot); i++) {
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

static bool in_vm(const struct qemu_vm *q, const char *id)
{
        for (size_t i = 0; i < q->n_disks; i++)
                if (strcmp(q->disks[i].id, id) == 0)
                        return true;
        for (unsigned i = 0; i < q->cfg.hotplug_slots; i++)
                if (q->hotplug[i].used && strcmp(q->hotplug[i].id, id) == 0)
                        return true;
        return false;
}

int qemu_hotplug_add(struct qemu_vm *q, const struct vm_disk *d, struct rv_error **err)
{
        unsigned slot = 0;

        if (q->cfg.hotplug_slots == 0)
                return rv_error_setx(err, EOPNOTSUPP, "disk `%s`: the VM is running and was started without "
                                     "hot-plug slots (only a VM known as a pod's sandbox when it booted has "
                                     "them: CRI annotations, podman's infra; `pod_disk_slots` > 0)", d->source);
        if (in_vm(q, d->id))
                return rv_error_setx(err, EBUSY, "disk `%s`: it is in the pod's VM already (another container "
                                     "of the pod has it)", d->source);
        while (slot < q->cfg.hotplug_slots && q->hotplug[slot].used)
                slot++;
        if (slot == q->cfg.hotplug_slots)
                return rv_error_setx(err, ENOSPC, "disk `%s`: all %u hot-plug slots of the pod's VM are taken",
                                     d->source, q->cfg.hotplug_slots);
        struct plug p = { .slot = slot, .d = d };
        /* QEMU takes its own copy of the fd (SCM_RIGHTS). */
        if (call(q, "add-fd", fill_fdset, &p, d->fd, QMP_TIMEOUT_MS, err) < 0)
                return rv_error_wrap(err, "disk `%s`", d->source);
        if (call(q, "blockdev-add", fill_blockdev, &p, -1, QMP_TIMEOUT_MS, err) < 0) {
                undo(q, slot, false);
                return rv_error_wrap(err, "disk `%s`", d->source);
        }
        if (call(q, "device_add", fill_device, &p, -1, QMP_TIMEOUT_MS, err) < 0) {
                undo(q, slot, true);
                return rv_error_wrap(err, "disk `%s`", d->source);
        }
        struct qemu_hotplug_slot *s = &q->hotplug[slot];
        s->used = true;
        s->since = q->qmp.n_deleted;
        snprintf(s->id, sizeof(s->id), "%s", d->id);
        snprintf(s->source, sizeof(s->source), "%s", d->source);
        return 0;
}

int qemu_hotplug_remove(struct qemu_vm *q, const char *id, struct rv_error **err)
{
        char dev[64];
        unsigned slot = 0;

        while (slot < q->cfg.hotplug_slots && !(q->hotplug[slot].used && strcmp(q->hotplug[slot].id, id) == 0))
                slot++;
        if (slot == q->cfg.hotplug_slots)
                return rv_error_setx(err, ENOENT, "disk `%s`: not hot-plugged into this VM", id);
        struct qemu_hotplug_slot *s = &q->hotplug[slot];
        snprintf(dev, sizeof(dev), "runvm-hpdev%u", slot);
        /* The agent powered its slot off when the container went
         * (vm/agent/blockdev-slot.c): then it is out already. */
        struct rv_error *tmp_err = NULL;
        if (qmp_pump(&q->qmp, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        /* A device the guest let go of leaves QEMU's tree at once, but is
         * freed, and sends DEVICE_DELETED and closes its drive, only once
         * QEMU's RCU thread drops the last reference to its memory
         * regions: under TCG on a loaded host that is later. So "not
         * found" means "on its way out", and the wait below is for it. */
        if (!qmp_device_deleted(&q->qmp, dev, s->since)) {
                if (call(q, "device_del", fill_dev_id, &slot, -1, QMP_TIMEOUT_MS, &tmp_err) == 0) {
                        /* It was still there: the wait below is pciehp's
                         * 5 s, holding the VM's monitor. Said, as it is
                         * the slow way out. */
                        rv_log(RV_LOG_INFO, "disk `%s`: still in its slot: device_del", s->source);
                } else if (tmp_err->status != ENODEV && !qmp_device_deleted(&q->qmp, dev, s->since)) {
                        *err = tmp_err;
                        return rv_error_wrap(err, "disk `%s`", s->source);
                }
        }
        rv_error_release(&tmp_err);
        if (qmp_wait_device_deleted(&q->qmp, dev, s->since, UNPLUG_TIMEOUT_MS, err) < 0)
                /* The slot stays taken: the device may still come out later,
                 * and the host's device is held until the VM ends. */
                return rv_error_wrap(err, "disk `%s`", s->source);
        undo(q, slot, true);
        s->used = false;
        return 0;
}
