/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pool-nic.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-options.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/pod-join.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/translate.h"
#include "netns/netns.h"
#include "spec/json.h"
#include "vm/channel/netconf.h"

/* Runs in the namespace at path and comes back; failing to come back is
 * the caller's error too (it would go on in the wrong namespace). */
static int in_netns(const char *path, int (*fn)(void *data, struct rv_error **err), void *data,
                    struct rv_error **err)
{
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int target = open(path, O_RDONLY | O_CLOEXEC);

        if (self < 0)
                return rv_error_set(err, errno, "open /proc/self/ns/net");
        if (target < 0)
                return rv_error_set(err, errno, "open network namespace `%s`", path);
        if (setns(target, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join network namespace `%s`", path);
        int r = fn(data, err);
        if (setns(self, CLONE_NEWNET) < 0) {
                rv_error_release(err);
                return rv_error_set(err, errno, "return to the runtime's network namespace");
        }
        return r;
}

static int count_here(void *data, struct rv_error **err)
{
        return netns_count(data, err);
}

int pool_nic_count(const char *path, size_t *ret, struct rv_error **err)
{
        *ret = 0;
        return in_netns(path, count_here, ret, err);
}

/* --- the pool monitor ------------------------------------------------------ */

int pool_nic_open(struct monitor *m, struct rv_error **err)
{
        struct vm_nic nic = { .tap_fd = -1, .vhost_fd = -1 };

        /* Locally administered, unicast: it never leaves the VM under this
         * address (the guest takes its container's interface's). */
        if (getrandom(nic.mac, sizeof(nic.mac), 0) != (ssize_t) sizeof(nic.mac))
                return rv_error_set(err, errno, "a MAC for the pool VM's NIC");
        nic.mac[0] = (uint8_t) ((nic.mac[0] & 0xfe) | 0x02);
        if ((m->vm_nics = calloc(1, sizeof(*m->vm_nics))) == NULL)
                return rv_error_set(err, ENOMEM, "the pool VM's NIC");
        /* The MTU is the container's interface's, set when it is known;
         * until then the TAP has the kernel's default and the guest is
         * told none (it may then take any). */
        nic.tap_fd = netns_tap_open(POOL_NIC_TAP, 1500, err);
        if (nic.tap_fd < 0)
                return rv_error_wrap(err, "the pool VM's NIC");
        if (netns_tap_set_persist(nic.tap_fd, true, err) < 0) {
                close(nic.tap_fd);
                return rv_error_wrap(err, "the pool VM's NIC");
        }
        nic.vhost_fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
        m->vm_nics[0] = nic;
        m->n_vm_nics = 1;
        m->nic_for_member = true;
        return 0;
}

void pool_nic_vm_started(struct monitor *m)
{
        for (size_t i = 0; i < m->n_vm_nics; i++) {
                /* Kept: only an fd of it can make it go with its last fd. */
                if (i == 0 && m->vm_nics[i].tap_fd >= 0 && m->pool_tap_fd < 0)
                        m->pool_tap_fd = m->vm_nics[i].tap_fd;
                else if (m->vm_nics[i].tap_fd >= 0)
                        close(m->vm_nics[i].tap_fd);
                if (m->vm_nics[i].vhost_fd >= 0)
                        close(m->vm_nics[i].vhost_fd);
                m->vm_nics[i].tap_fd = m->vm_nics[i].vhost_fd = -1;
        }
}

/* The monitor's fd of the TAP goes; unless keep_persistent, the TAP then
 * goes with QEMU's. */
static void tap_release(struct monitor *m, bool keep_persistent)
{
        struct rv_error *tmp_err = NULL;

        if (m->pool_tap_fd < 0)
                return;
        if (!keep_persistent && netns_tap_set_persist(m->pool_tap_fd, false, &tmp_err) < 0) {
                rv_log(RV_LOG_WARNING, "the pool VM's NIC: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        close(m->pool_tap_fd);
        m->pool_tap_fd = -1;
}

struct configure_params {
        const struct json_value *network;
        const uint8_t *mac;
};

static void fill_configure(struct json_writer *w, const void *data)
{
        const struct configure_params *p = data;
        char mac[18];

        json_write_key(w, "network");
        json_write_value(w, p->network);
        json_write_key(w, "vm_macs");
        json_write_array_begin(w);
        json_write_string(w, netconf_mac_str(p->mac, mac, sizeof(mac)));
        json_write_array_end(w);
}

int pool_nic_configure(struct monitor *m, const struct json_value *network, struct rv_error **err)
{
        const struct json_value *ifaces = json_get(network, "interfaces");

        if (!m->nic_for_member || m->n_vm_nics != POOL_NICS)
                return rv_error_setx(err, EINVAL, "`network`: this VM has no NIC waiting for a container's "
                                     "interface");
        if (ifaces != NULL && (!json_is_array(ifaces) || json_array_size(ifaces) > POOL_NICS))
                return rv_error_setx(err, E2BIG, "`network`: a warm pool VM has %d NIC", POOL_NICS);
        struct configure_params p = { network, m->vm_nics[0].mac };
        /* The agent applies the whole namespace; the NIC is taken once. */
        m->nic_for_member = false;
        /* The member moves the TAP into the container's namespace (now, or
         * moved it): there it must not outlive the VM. */
        tap_release(m, false);
        if (monitor_call(m, PROTO_CONFIGURE_NETWORK, fill_configure, &p, REQUEST_TIMEOUT_MS, err) < 0)
                return rv_error_wrap(err, "configure the guest's network");
        return 0;
}

void pool_nic_end(struct monitor *m)
{
        /* Still in this namespace, it goes with it, after this monitor. */
        tap_release(m, if_nametoindex(POOL_NIC_TAP) != 0);
}

/* --- the member's monitor -------------------------------------------------- */

/* state.json's record of what is wired, before it is: delete finishes
 * the job after a kill (netns_record_cleanup). */
static int record(const struct pool_nic_member *pn, struct monitor_options *o, struct rv_error **err)
{
        struct netns_record *rec = netns_record_new(o->plan->netns_path, pn->nics, pn->n_nics);

        if (rec == NULL)
                return rv_error_set(err, ENOMEM, "network state");
        netns_record_free(o->state->network);
        o->state->network = rec;
        return state_save(o->dir->dirfd, o->state, err);
}

int pool_nic_scan(struct pool_nic_member *pn, struct monitor_options *o, struct rv_error **err)
{
        _cleanup_close_ int target = open(o->plan->netns_path, O_RDONLY | O_CLOEXEC);

        pn->pool_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (pn->pool_netns < 0)
                return rv_error_set(err, errno, "open /proc/self/ns/net");
        if (target < 0)
                return rv_error_set(err, errno, "open network namespace `%s`", o->plan->netns_path);
        /* The container's pid is in the engine's namespace, as a cold
         * monitor is: what the engine and `nsenter -n` see. */
        if (setns(target, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join network namespace `%s`", o->plan->netns_path);
        if (netns_scan(&pn->netconf, err) < 0 || netns_plan(pn->netconf, &pn->nics, &pn->n_nics, err) < 0)
                return rv_error_wrap(err, "network");
        if (pn->n_nics > POOL_NICS)
                return rv_error_setx(err, E2BIG, "network: %zu interfaces in `%s` since create; a warm pool VM "
                                     "has %d NIC", pn->n_nics, o->plan->netns_path, POOL_NICS);
        if (pn->n_nics > 0 && record(pn, o, err) < 0)
                return rv_error_wrap(err, "network");
        /* Joining this container's namespaces is joining its network. */
        if (pod_record_namespaces(o->state, err) < 0 || state_save(o->dir->dirfd, o->state, err) < 0)
                return -1;
        return 0;
}

int pool_nic_wire(struct pool_nic_member *pn, struct monitor_options *o, struct rv_error **err)
{
        _cleanup_close_ int target = -EBADF;
        _cleanup_close_ int pool_netns = TAKE_FD(pn->pool_netns);

        if (pn->n_nics == 0 || pool_netns < 0)
                return 0;               /* nothing to move, or moved already */
        if ((target = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
                return rv_error_set(err, errno, "open /proc/self/ns/net");
        /* Moved from the pool monitor's namespace, where it was made: only
         * from there can it be named. */
        if (setns(pool_netns, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join the pool VM's network namespace");
        int r = netns_link_move(POOL_NIC_TAP, target, pn->nics[0].tap, err);
        if (setns(target, CLONE_NEWNET) < 0) {
                rv_error_release(err);
                return rv_error_set(err, errno, "join network namespace `%s`", o->plan->netns_path);
        }
        if (r < 0 || netns_wire_moved(pn->nics, pn->n_nics, err) < 0)
                return rv_error_wrap(err, "network");
        return 0;
}

void pool_nic_release(struct pool_nic_member *pn, struct monitor_options *o)
{
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        struct rv_error *tmp_err = NULL;

        if (pn->n_nics > 0) {
                netns_unwire(pn->nics, pn->n_nics);
                /* The pool monitor wrote the state since (the exit): this
                 * monitor's copy is old. */
                if (state_load(o->dir->dirfd, &s, &tmp_err) == 0) {
                        netns_record_free(s->network);
                        s->network = NULL;
                        if (state_save(o->dir->dirfd, s, &tmp_err) < 0)
                                rv_log(RV_LOG_WARNING, "network: %s", tmp_err->msg);
                } else {
                        rv_log(RV_LOG_WARNING, "network: %s", tmp_err->msg);
                }
                rv_error_release(&tmp_err);
        }
        if (pn->pool_netns >= 0)
                close(pn->pool_netns);
        pn->pool_netns = -1;
        netns_nics_free(pn->nics, pn->n_nics);
        pn->nics = NULL;
        pn->n_nics = 0;
        netconf_free(pn->netconf);
        pn->netconf = NULL;
}
