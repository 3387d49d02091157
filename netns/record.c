/* SPDX-License-Identifier: Apache-2.0 */
/* What state.json keeps of the wiring, cleanup from `delete`, and the
 * host report for `runvm check`. */
#include "netns/netns.h"
#include "netns/netns-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "spec/json.h"
#include "vm/channel/netconf.h"

void netns_record_free(struct netns_record *rec)
{
        if (rec == NULL)
                return;
        free(rec->netns_path);
        netns_nics_free(rec->nics, rec->n_nics);
        free(rec);
}

void netns_nic_write_fields(struct json_writer *w, const struct netns_nic *n)
{
        char mac[18];

        json_write_key(w, "name");
        json_write_string(w, n->name);
        json_write_key(w, "tap");
        json_write_string(w, n->tap);
        json_write_key(w, "mac");
        json_write_string(w, netconf_mac_str(n->mac, mac, sizeof(mac)));
        json_write_key(w, "mtu");
        json_write_uint64(w, n->mtu);
}

void netns_record_write(struct json_writer *w, const struct netns_record *rec)
{
        json_write_object_begin(w);
        json_write_key(w, "netns");
        json_write_string(w, rec->netns_path);
        json_write_key(w, "nics");
        json_write_array_begin(w);
        for (size_t i = 0; i < rec->n_nics; i++) {
                const struct netns_nic *n = &rec->nics[i];
                json_write_object_begin(w);
                netns_nic_write_fields(w, n);
                json_write_key(w, "ingress_created");
                json_write_bool(w, n->ingress_created);
                json_write_object_end(w);
        }
        json_write_array_end(w);
        json_write_object_end(w);
}

static int read_name(const struct json_value *v, const char *key, char ret[IFNAMSIZ], struct rv_error **err)
{
        const struct json_value *m = json_get(v, key);
        const char *s;

        if (m == NULL || json_read_string(m, key, &s, err) < 0 || !netconf_ifname_valid(s))
                return rv_error_setx(err, EINVAL, "`network.nics`: invalid `%s`", key);
        snprintf(ret, IFNAMSIZ, "%s", s);
        return 0;
}

int netns_record_parse(const struct json_value *v, struct netns_record **ret, struct rv_error **err)
{
        _cleanup_(netns_record_freep) struct netns_record *rec = calloc(1, sizeof(*rec));
        const struct json_value *path = json_get(v, "netns"), *nics = json_get(v, "nics");
        const char *s;

        if (rec == NULL)
                return rv_error_set(err, ENOMEM, "network state");
        if (path && !json_is_null(path)) {
                if (json_read_string(path, "network.netns", &s, err) < 0)
                        return -1;
                if ((rec->netns_path = strdup(s)) == NULL)
                        return rv_error_set(err, ENOMEM, "network state");
        }
        if (nics && !json_is_array(nics))
                return rv_error_setx(err, EINVAL, "`network.nics`: expected an array");
        size_t n = nics ? json_array_size(nics) : 0;
        if (n > NETCONF_MAX_IFACES)
                return rv_error_setx(err, E2BIG, "`network.nics`: more than %d", NETCONF_MAX_IFACES);
        rec->nics = calloc(n ? n : 1, sizeof(*rec->nics));
        if (rec->nics == NULL)
                return rv_error_set(err, ENOMEM, "network state");
        for (size_t i = 0; i < n; i++) {
                const struct json_value *e = json_array_get(nics, i), *m;
                struct netns_nic *nic = &rec->nics[i];
                uint64_t mtu = 0;
                nic->tap_fd = -1;
                rec->n_nics++;
                if (read_name(e, "name", nic->name, err) < 0 || read_name(e, "tap", nic->tap, err) < 0)
                        return -1;
                if ((m = json_get(e, "mac")) && (json_read_string(m, "network.nics.mac", &s, err) < 0 ||
                                                 netconf_mac_parse(s, nic->mac) < 0))
                        return rv_error_setx(err, EINVAL, "`network.nics`: invalid `mac`");
                if ((m = json_get(e, "mtu")) && json_read_uint64(m, "network.nics.mtu", &mtu, err) < 0)
                        return -1;
                nic->mtu = (uint32_t) mtu;
                if ((m = json_get(e, "ingress_created")) &&
                    json_read_bool(m, "network.nics.ingress_created", &nic->ingress_created, err) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(rec);
        return 0;
}

struct netns_record *netns_record_new(const char *netns_path, const struct netns_nic *nics, size_t n)
{
        struct netns_record *rec = calloc(1, sizeof(*rec));

        if (rec == NULL || (n > 0 && (rec->nics = calloc(n, sizeof(*rec->nics))) == NULL) ||
            (netns_path && (rec->netns_path = strdup(netns_path)) == NULL)) {
                netns_record_free(rec);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                rec->nics[i] = nics[i];
                rec->nics[i].tap_fd = -1;
        }
        rec->n_nics = n;
        return rec;
}

int netns_record_cleanup(const struct netns_record *rec, struct rv_error **err)
{
        _cleanup_close_ int self = -EBADF, target = -EBADF;

        if (rec == NULL || rec->n_nics == 0)
                return 0;
        /* A namespace nobody holds died with the monitor, and all in it. */
        if (rec->netns_path == NULL)
                return 0;
        target = open(rec->netns_path, O_RDONLY | O_CLOEXEC);
        if (target < 0)
                return errno == ENOENT ? 0 : rv_error_set(err, errno, "open network namespace `%s`", rec->netns_path);
        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return rv_error_set(err, errno, "open /proc/self/ns/net");
        if (setns(target, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join network namespace `%s`", rec->netns_path);
        netns_unwire(rec->nics, rec->n_nics);
        if (setns(self, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "return to the runtime's network namespace");
        return 0;
}

/* --- runvm check ---------------------------------------------------------- */

/* In a child in a new namespace: a TAP, an ingress qdisc and a mirred
 * redirect onto itself, exactly what a container needs. */
static int probe_child(int fd)
{
        struct rv_error *err = NULL;
        struct netns_nic nic = { .name = "", .tap = "tap0_runvm", .mtu = 1500, .tap_fd = -1 };
        char msg[256] = "ok";

        if (unshare(CLONE_NEWNET) < 0) {
                snprintf(msg, sizeof(msg), "cannot create a network namespace: %s", strerror(errno));
        } else {
                /* The TAP mirrors itself: the probe needs no second device. */
                snprintf(nic.name, sizeof(nic.name), "%s", "lo");
                nic.ingress_created = true;
                if (netns_wire(&nic, 1, &err) < 0)
                        snprintf(msg, sizeof(msg), "%s", err->msg);
                rv_error_release(&err);
        }
        if (write(fd, msg, strlen(msg)) < 0)
                return 1;
        return 0;
}

bool netns_host_probe(char *msg, size_t size)
{
        int p[2];

        snprintf(msg, size, "probe failed");
        if (pipe2(p, O_CLOEXEC) < 0) {
                snprintf(msg, size, "cannot probe: %s", strerror(errno));
                return false;
        }
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                _exit(probe_child(p[1]));
        }
        close(p[1]);
        if (pid > 0) {
                ssize_t n = read(p[0], msg, size - 1);
                msg[n > 0 ? n : 0] = '\0';
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        close(p[0]);
        if (msg[0] == '\0')
                snprintf(msg, size, "probe failed");
        return strcmp(msg, "ok") == 0;
}
