/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's part of networking: the container's namespace mirrored
 * before the VM boots (netns/), the guest configured before the container
 * is created, changes after that reported, everything undone at the end. */
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-userns.h"
#include "libcontainer-vm/monitor-state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/translate.h"
#include "netns/netns.h"
#include "netns/watch.h"
#include "spec/json.h"
#include "vm/channel/netconf.h"

static int record_nics(struct monitor *m, struct rv_error **err)
{
        struct netns_record *rec = netns_record_new(m->o->plan->netns_path, m->nics, m->n_nics);

        if (rec == NULL)
                return rv_error_set(err, ENOMEM, "network state");
        netns_record_free(m->o->state->network);
        m->o->state->network = rec;
        monitor_save_state(m, m->o->state->status);
        return 0;
}

int monitor_net_setup(struct monitor *m, struct rv_error **err)
{
        if (netns_scan(&m->netconf, err) < 0 ||
            netns_plan(m->netconf, &m->nics, &m->n_nics, err) < 0)
                return rv_error_wrap(err, "network");
        /* Before boot: what changes later is compared with this scan. */
        if (netns_watch_open(m->netconf, &m->net_watch, err) < 0)
                return rv_error_wrap(err, "network");
        if (m->n_nics == 0)
                return 0;
        /* Recorded before anything is made: a monitor killed half-way
         * leaves delete what it needs to finish the job. */
        if (record_nics(m, err) < 0 || netns_wire(m->nics, m->n_nics, err) < 0)
                return rv_error_wrap(err, "network");
        m->vm_nics = calloc(m->n_nics, sizeof(*m->vm_nics));
        if (m->vm_nics == NULL)
                return rv_error_set(err, ENOMEM, "network");
        for (size_t i = 0; i < m->n_nics; i++) {
                /* vhost-net moves packets in the host kernel when it exists;
                 * opened here so that a confined QEMU needs no access to it. */
                int vhost = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
                m->vm_nics[i] = (struct vm_nic) { .tap_fd = m->nics[i].tap_fd, .vhost_fd = vhost,
                                                  .mtu = m->nics[i].mtu };
                memcpy(m->vm_nics[i].mac, m->nics[i].mac, 6);
                m->n_vm_nics++;
        }
        return 0;
}

/* QEMU has its own copies now; the TAPs go away when it exits. */
void monitor_net_vm_started(struct monitor *m)
{
        for (size_t i = 0; i < m->n_nics; i++) {
                if (m->vm_nics[i].vhost_fd >= 0)
                        close(m->vm_nics[i].vhost_fd);
                m->vm_nics[i].vhost_fd = -1;
                if (m->nics[i].tap_fd >= 0)
                        close(m->nics[i].tap_fd);
                m->nics[i].tap_fd = m->vm_nics[i].tap_fd = -1;
        }
}

static void fill_network(struct json_writer *w, const void *data)
{
        const struct netconf *c = data;
        json_write_key(w, "network");
        netconf_write(w, c);
}

int monitor_net_configure(struct monitor *m, struct rv_error **err)
{
        if (m->netconf == NULL)
                return rv_error_setx(err, EINVAL, "configure the guest's network: the namespace was not scanned");
        if (monitor_call(m, PROTO_CONFIGURE_NETWORK, fill_network, m->netconf, REQUEST_TIMEOUT_MS, err) < 0)
                return rv_error_wrap(err, "configure the guest's network");
        return 0;
}

char *monitor_net_event(const char *id, const char *interface, const char *change, bool mirrored)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        struct rv_error *tmp_err = NULL;
        char *line = NULL;

        if (w == NULL)
                return NULL;
        json_write_object_begin(w);
        json_write_key(w, "type");
        json_write_string(w, "network");
        json_write_key(w, "id");
        json_write_string(w, id);
        json_write_key(w, "data");
        json_write_object_begin(w);
        json_write_key(w, "interface");
        json_write_string(w, interface);
        json_write_key(w, "change");
        json_write_string(w, change);
        json_write_key(w, "mirrored");
        json_write_bool(w, mirrored);
        json_write_object_end(w);
        json_write_object_end(w);
        if (json_writer_finish(w, &line, NULL, &tmp_err) < 0)
                line = NULL;
        rv_error_release(&tmp_err);
        return line;
}

static void report_change(void *data, const char *interface, const char *change)
{
        struct monitor *m = data;
        _cleanup_free_ char *line = NULL;
        /* Before start nothing has run: the change is followed at start. */
        bool follow = m->o->state->status == CONTAINER_CREATED && !monitor_exec_any(m);

        if (follow) {
                m->net_changed = true;
                rv_log(RV_LOG_INFO, "network: `%s` %s in the container's network namespace before start: "
                       "the VM is rebuilt with it at start", interface, change);
        } else {
                rv_log(RV_LOG_WARNING, "network: `%s` %s in the container's network namespace after start: the "
                       "VM keeps the network it started with (restart the container to pick this up)",
                       interface, change);
        }
        if ((line = monitor_net_event(m->o->state->id, interface, change, follow)) != NULL)
                monitor_events_publish(m, line);
}

int monitor_net_watch_fd(const struct monitor *m)
{
        return netns_watch_fd(m->net_watch);
}

void monitor_net_watch_event(struct monitor *m)
{
        int r = netns_watch_read(m->net_watch, report_change, m);

        if (r < 0) {
                rv_warn("network: watching the namespace failed: %s; later changes go unreported", strerror(-r));
                loop_watch_remove(&m->loop, &m->w_netns);
                netns_watch_free(m->net_watch);
                m->net_watch = NULL;
        }
}

int monitor_net_before_start(struct monitor *m, struct rv_error **err)
{
        /* What the engine did just before start has not been read yet. */
        if (m->net_watch)
                monitor_net_watch_event(m);
        if (!m->net_changed)
                return 0;
        m->net_changed = false;
        if (monitor_exec_any(m))
                return rv_error_setx(err, EBUSY, "the container's network namespace changed after create and "
                                     "processes run in it: the VM cannot be rebuilt with the new network");
        rv_debug("network: the namespace changed since create: rebuilding the VM");
        return 1;
}

void monitor_net_teardown(struct monitor *m)
{
        loop_watch_remove(&m->loop, &m->w_netns);
        netns_watch_free(m->net_watch);
        m->net_watch = NULL;
        if (m->n_nics > 0) {
                monitor_userns_unwire(m);
                /* Done: a later delete must not touch the namespace, which
                 * the engine may already have given to someone else. */
                netns_record_free(m->o->state->network);
                m->o->state->network = NULL;
                monitor_save_state(m, m->o->state->status);
        }
        if (m->vm_nics) {
                for (size_t i = 0; i < m->n_vm_nics; i++)
                        if (m->vm_nics[i].vhost_fd >= 0)
                                close(m->vm_nics[i].vhost_fd);
                free(m->vm_nics);
                m->vm_nics = NULL;
        }
        netns_nics_free(m->nics, m->n_nics);
        m->nics = NULL;
        m->n_nics = m->n_vm_nics = 0;
        netconf_free(m->netconf);
        m->netconf = NULL;
}
