/* SPDX-License-Identifier: Apache-2.0 */
/* Changes to the container's network namespace after the VM started.
 * microvm's virtio-mmio devices cannot be hot-plugged, and a guest
 * reconfigured under a running workload would be half-configured while it
 * happens; so runvm does not follow changes: it reports each one (the
 * monitor's log and `runvm events`), and the guest keeps the network it
 * started with. */
#include "netns/watch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "netns/netns.h"
#include "vm/channel/netconf.h"

#define MAX_REPORTED 64

struct netns_watch {
        int fd;
        int mirrored[NETCONF_MAX_IFACES];       /* ifindex of each mirrored interface */
        struct netconf_iface ifaces[NETCONF_MAX_IFACES];  /* as the guest got them */
        size_t n;
        int reported[MAX_REPORTED];             /* new interfaces already reported */
        size_t n_reported;
};

int netns_watch_open(const struct netconf *c, struct netns_watch **ret, struct rv_error **err)
{
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
        };
        struct netns_watch *w = calloc(1, sizeof(*w));

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "watch the network namespace");
        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (w->fd < 0 || bind(w->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                rv_error_set(err, errno, "watch the network namespace");
                netns_watch_free(w);
                return -1;
        }
        for (size_t i = 0; i < c->n_ifaces; i++) {
                w->mirrored[w->n] = (int) if_nametoindex(c->ifaces[i].name);
                w->ifaces[w->n++] = c->ifaces[i];
        }
        *ret = w;
        return 0;
}

void netns_watch_free(struct netns_watch *w)
{
        if (w == NULL)
                return;
        if (w->fd >= 0)
                close(w->fd);
        free(w);
}

int netns_watch_fd(const struct netns_watch *w)
{
        return w ? w->fd : -1;
}

static const struct netconf_iface *mirrored(const struct netns_watch *w, int ifindex)
{
        for (size_t i = 0; i < w->n; i++)
                if (w->mirrored[i] == ifindex)
                        return &w->ifaces[i];
        return NULL;
}

/* Whether the address in h is one the guest got (a DAD state change of
 * one of them is not a change of the network). */
static bool address_known(const struct netconf_iface *f, const struct nlmsghdr *h, const struct ifaddrmsg *ifa)
{
        int len = (int) IFA_PAYLOAD(h);
        size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;

        for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if ((a->rta_type != IFA_LOCAL && a->rta_type != IFA_ADDRESS) || RTA_PAYLOAD(a) != alen)
                        continue;
                if (ifa->ifa_family == AF_INET && a->rta_type != IFA_LOCAL)
                        continue;
                for (size_t k = 0; k < f->n_addrs; k++)
                        if (f->addrs[k].ip.family == ifa->ifa_family && f->addrs[k].prefixlen == ifa->ifa_prefixlen &&
                            memcmp(f->addrs[k].ip.addr, RTA_DATA(a), alen) == 0)
                                return true;
        }
        return false;
}

static bool reported(struct netns_watch *w, int ifindex)
{
        for (size_t i = 0; i < w->n_reported; i++)
                if (w->reported[i] == ifindex)
                        return true;
        if (w->n_reported < MAX_REPORTED)
                w->reported[w->n_reported++] = ifindex;
        return false;
}

static void link_name(const struct nlmsghdr *h, const struct ifinfomsg *ifi, char name[IFNAMSIZ])
{
        int len = (int) IFLA_PAYLOAD(h);

        snprintf(name, IFNAMSIZ, "#%d", ifi->ifi_index);
        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0) {
                        size_t n = RTA_PAYLOAD(a) < IFNAMSIZ ? RTA_PAYLOAD(a) : IFNAMSIZ - 1;
                        memcpy(name, RTA_DATA(a), n);
                        name[n] = '\0';
                        name[strnlen(name, IFNAMSIZ - 1)] = '\0';
                }
        }
}

static void handle(struct netns_watch *w, const struct nlmsghdr *h, netns_watch_report_fn report, void *data)
{
        char name[IFNAMSIZ];

        if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
                const struct ifinfomsg *ifi = NLMSG_DATA(h);
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
                        return;
                link_name(h, ifi, name);
                const struct netconf_iface *known = mirrored(w, ifi->ifi_index);
                if (h->nlmsg_type == RTM_DELLINK && known)
                        report(data, known->name, "removed");
                else if (h->nlmsg_type == RTM_NEWLINK && !known && !(ifi->ifi_flags & IFF_LOOPBACK) &&
                         !netns_is_runvm_tap(name) && !reported(w, ifi->ifi_index))
                        report(data, name, "added");
        } else if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
                const struct ifaddrmsg *ifa = NLMSG_DATA(h);
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
                        return;
                const struct netconf_iface *known = mirrored(w, (int) ifa->ifa_index);
                if (known == NULL || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                        return;
                bool in_guest = address_known(known, h, ifa);
                if (h->nlmsg_type == RTM_NEWADDR && !in_guest)
                        report(data, known->name, "address added");
                else if (h->nlmsg_type == RTM_DELADDR && in_guest)
                        report(data, known->name, "address removed");
        }
}

int netns_watch_read(struct netns_watch *w, netns_watch_report_fn report, void *data)
{
        char buf[16384] __attribute__((aligned(__alignof__(struct nlmsghdr))));

        for (;;) {
                ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        /* ENOBUFS: events were lost; say so rather than guess. */
                        if (errno == ENOBUFS) {
                                report(data, "", "changes lost");
                                continue;
                        }
                        return errno == EAGAIN ? 0 : -errno;
                }
                if (n == 0)
                        return 0;
                int len = (int) n;
                for (const struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
                        handle(w, h, report, data);
        }
}
