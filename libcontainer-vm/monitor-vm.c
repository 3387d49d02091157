/* SPDX-License-Identifier: Apache-2.0 */
/* VM assembly: the VM built from the plan through the driver interface
 * (vm/vm.h), booted until the agent answers `hello`, the container made
 * in it, rebuilt when the network changed before start, stopped. Every
 * call into vm/vm.h from the monitor is here or in the loop's watches. */
#include "libcontainer-vm/monitor-vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/proc.h"
#include "libcontainer-vm/accel.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/console.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-state.h"
#include "libcontainer-vm/monitor-sync.h"
#include "libcontainer-vm/monitor-userns.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/translate.h"
#include "libcontainer-vm/pod-slots.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/channel/protocol.h"
#include "vm/vm.h"

/* The VM's processes are on disk the moment they run, so delete finds
 * them in any phase. */
static int monitor_record_vm(struct monitor *m, struct rv_error **err)
{
        struct container_state *st = m->o->state;
        struct vm_proc procs[VM_MAX_PROCS];
        size_t n = vm_procs(m->vm, procs, VM_MAX_PROCS);

        state_clear_procs(st);
        for (size_t i = 0; i < n; i++) {
                if (procs[i].pid <= 0)
                        return rv_error_setx(err, ESRCH, "boot: the VM's %s is gone", procs[i].name);
                if (state_add_proc(st, procs[i].name, procs[i].pid, err) < 0)
                        return rv_error_wrap(err, "record the VM");
        }
        if (state_save(m->o->dir->dirfd, st, err) < 0)
                return rv_error_wrap(err, "record the VM");
        return 0;
}

/* The console line that explains a failure, if one does (console.h). */
char *monitor_vm_console_line(struct monitor *m)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct rv_error *tmp_err = NULL;

        vm_pump_logs(m->vm);            /* what is in flight first */
        if (rv_read_file_at(m->o->dir->dirfd, "console.log", 8 << 20, &text, &len, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                return NULL;
        }
        return console_explaining_line(text, len);
}

#define FAILED_BOOT_LOG "failed-boot.log"

/* A boot that failed in the guest: the error stays one line (why, in
 * words), and QEMU's and the console's logs are kept in the host cache,
 * since a failed create removes the state dir they were in. */
static int wrap_guest_error(struct monitor *m, struct rv_error **err)
{
        _cleanup_free_ char *cache = NULL, *why = NULL, *title = NULL;
        _cleanup_close_ int dfd = -EBADF;
        struct rv_error *tmp_err = NULL;

        /* create died: nothing went wrong in the guest. */
        if ((*err)->status == ECANCELED)
                return -1;
        if ((*err)->status == ETIMEDOUT && (why = vm_stuck_reason(m->vm)))
                rv_error_wrap(err, "%s", why);
        if (runvm_host_cache_dir(m->o->ctx->root, &cache, &tmp_err) < 0 ||
            (dfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                rv_error_release(&tmp_err);
                return -1;
        }
        if (asprintf(&title, "container %s: %s", m->o->state->id, (*err)->msg) < 0)
                return -1;
        vm_save_failure_logs(m->vm, dfd, FAILED_BOOT_LOG, title);
        /* The reason reads first: "hello: the guest ...; guest logs: PATH". */
        struct rv_error *e = *err;
        *err = NULL;
        rv_error_setx(err, e->status, "%s; guest logs: %s/" FAILED_BOOT_LOG, e->msg, cache);
        rv_error_free(e);
        return -1;
}

/* The loop registers the VM's fds and the channel's; they leave it
 * before they close. */
static void unwatch_vm(struct monitor *m)
{
        for (size_t i = 0; i < VM_WATCH_MAX; i++)
                loop_watch_remove(&m->loop, &m->w_vm[i]);
}

void monitor_vm_close_channel(struct monitor *m)
{
        loop_watch_remove(&m->loop, &m->w_channel);
        agent_client_set_channel(m->agent, NULL);
        channel_free(m->ch);
        m->ch = NULL;
        m->init.ch = NULL;
}

static void fill_create(struct json_writer *w, const void *data)
{
        const struct monitor *m = data;
        json_write_key(w, "spec");
        spec_config_write(w, m->o->guest_spec);
        json_write_key(w, "stdio");
        proc_io_write_stdio(w, &m->init);
        /* For startContainer hooks, which the agent runs in the container. */
        if (m->o->guest_spec->hooks.start_container.n > 0) {
                struct spec_state s = monitor_hook_state(m, CONTAINER_CREATED);
                json_write_key(w, "hook_state");
                spec_state_write_hook(w, &s);
        }
}

/* hello's answer: the protocol's checks, then where the boot's
 * initramfs was left (freed later: monitor_vm_free_leftovers). */
static int hello_answered(const struct json_value *result, void *ctx, struct rv_error **err)
{
        struct monitor *m = ctx;

        if (proto_hello_check(result, err) < 0)
                return -1;
        if (!proto_hello_initrd_moved_from(result, &m->initrd_moved_from))
                m->initrd_moved_from = 0;
        return 0;
}

void monitor_vm_free_leftovers(struct monitor *m)
{
        struct rv_error *tmp_err = NULL;

        /* Keeping them only costs memory. */
        if (m->initrd_moved_from != 0 && m->vm != NULL && !m->vm_gone &&
            vm_free_moved_initrd(m->vm, m->initrd_moved_from, &tmp_err) < 0) {
                rv_debug("guest RAM: the boot's initramfs copy is kept: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        m->initrd_moved_from = 0;
}

int monitor_vm_boot(struct monitor *m, struct rv_error **err)
{
        const struct runvm_config *cfg = m->o->cfg;
        const struct vm_plan *plan = m->o->plan;
        _cleanup_free_ char *cache = NULL;
        struct runvm_accel_choice accel;
        struct vm_config p = {
                .vmm_path = cfg->qemu_path, .virtiofsd_path = cfg->virtiofsd_path,
                .kernel = cfg->kernel, .initrd = cfg->initrd,
                .memory_mib = plan->memory_mib, .vcpus = plan->vcpus,
                .state_dir = m->o->dir->path, .cpus = plan->cpus, .pin_timeout_ms = cfg->boot_timeout_ms,
                .extra_cmdline = cfg->kernel_params, .debug = m->o->ctx->debug,
                .tcg_tb_size_mib = cfg->tcg_tb_size_mib, .boot_memory_mib = cfg->boot_memory_mib,
                /* Debian's kernel lacks VIRTIO_MMIO_CMDLINE_DEVICES. */
                .mmio_cmdline = cfg->own_kernel,
                /* A pod's sandbox: for its members' block devices. */
                .hotplug_slots = pod_hotplug_slots(m->o->guest_spec, cfg->pod_disk_slots),
        };

        if (access(cfg->kernel, R_OK) < 0)
                return rv_error_set(err, errno, "guest kernel `%s`", cfg->kernel);
        if (access(cfg->initrd, R_OK) < 0)
                return rv_error_set(err, errno, "guest initrd `%s`", cfg->initrd);
        if (runvm_accel_choose(cfg, m->o->ctx->root, false, &accel, err) < 0)
                return -1;
        if (accel.refused)
                return rv_error_setx(err, ENODEV, "accel = kvm, but KVM cannot run the guest: %s", accel.reason);
        p.kvm = accel.kvm;
        if (!p.kvm && plan->vcpus_follow_accel)
                p.vcpus = 1;
        if (!p.kvm) {
                if (runvm_host_cache_dir(m->o->ctx->root, &cache, err) < 0)
                        return -1;
                if (vm_host_tsc_khz(cache, &p.tsc_khz, err) < 0)
                        return -1;
        }
        rv_debug("booting with %s (%s%s), %u MiB, %u vcpus", p.kvm ? "KVM" : "TCG", accel.reason,
                 accel.cached ? ", cached" : "", p.memory_mib, p.vcpus);
        /* The monitor's pid is unique among running VMs, and so is this id. */
        p.uid = p.gid = VM_ID_BASE + (unsigned) m->ns.host_pid;
        if (vm_new(cfg->driver, &p, &m->vm, err) < 0)
                return -1;
        for (size_t i = 0; i < plan->n_shares; i++) {
                /* The VM owns the tree from here. */
                int tree = m->ns.vfs_trees[i];
                m->ns.vfs_trees[i] = -1;
                if (vm_add_share(m->vm, &plan->shares[i], tree, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < m->n_vm_nics; i++)
                if (vm_add_nic(m->vm, &m->vm_nics[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < plan->n_disks; i++)
                if (vm_add_disk(m->vm, &plan->disks[i], err) < 0)
                        return -1;
        if (vm_start(m->vm, err) < 0)
                return -1;
        monitor_net_vm_started(m);
        m->o->state->kvm = p.kvm;
        m->o->state->memory_mib = p.memory_mib;
        m->o->state->vcpus = p.vcpus;
        if (monitor_record_vm(m, err) < 0)
                return -1;
        _cleanup_close_ int agent_fd = vm_take_agent_fd(m->vm);
        m->ch = channel_new(agent_fd);
        if (m->ch == NULL)
                return rv_error_set(err, ENOMEM, "channel");
        agent_fd = -EBADF;              /* the channel owns it now */
        agent_client_set_channel(m->agent, m->ch);
        if (monitor_call_checked(m, PROTO_HELLO, proto_write_hello, NULL, cfg->boot_timeout_ms, hello_answered, m,
                                 err) < 0)
                return wrap_guest_error(m, err);
        return 0;
}

int monitor_vm_create_container(struct monitor *m, struct rv_error **err)
{
        return monitor_call(m, PROTO_CREATE_CONTAINER, fill_create, m, REQUEST_TIMEOUT_MS, err);
}

/* The container's namespace changed between create and start (ctr --cni
 * runs CNI then): nothing has run in the guest yet, so a new VM with the
 * namespace as it is now takes the old one's place, under the same
 * monitor and with the same stdio streams. */
int monitor_reboot(struct monitor *m, struct rv_error **err)
{
        monitor_vm_close_channel(m);
        unwatch_vm(m);
        vm_destroy(&m->vm);
        m->vm_gone = false;
        monitor_net_teardown(m);
        /* QEMU and virtiofsd start from the host's view of the files. */
        if (monitor_ns_rearm(&m->ns, err) < 0 || monitor_ns_to_host(&m->ns, err) < 0)
                return -1;
        int r = monitor_net_setup(m, err) < 0 || monitor_vm_boot(m, err) < 0 ? -1 : 0;
        struct rv_error *ns_err = NULL;
        if (monitor_ns_to_view(&m->ns, &ns_err) < 0) {
                if (r == 0) {
                        *err = ns_err;
                        return -1;
                }
                rv_error_release(&ns_err);
        }
        if (r < 0 || monitor_net_configure(m, err) < 0)
                return -1;
        if (proc_io_reopen(&m->init, m->ch, err) < 0)
                return -1;
        if (monitor_vm_create_container(m, err) < 0)
                return -1;
        monitor_save_state(m, m->o->state->status);
        return 0;
}

/* After the container's exit the guest holds nothing to save: the agent
 * synced before it reported the exit, and the container's pid namespace
 * took every process of the container with its init, so nothing wrote
 * since. The VM is killed rather than powered off (a guest power-off
 * under TCG took ~60 ms, docs/PERFORMANCE.md). */
void monitor_vm_destroy(struct monitor *m)
{
        monitor_vm_close_channel(m);
        unwatch_vm(m);
        /* In the container's user namespace the monitor may not signal
         * QEMU's uid: vm_destroy then only reaps. */
        monitor_userns_kill_vm(m);
        vm_destroy(&m->vm);
}
