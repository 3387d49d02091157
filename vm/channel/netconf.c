/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/channel/netconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/json.h"

struct netconf *netconf_new(void)
{
        return calloc(1, sizeof(struct netconf));
}

void netconf_free(struct netconf *c)
{
        if (c == NULL)
                return;
        free(c->routes);
        free(c);
}

int netconf_add_route(struct netconf *c, const struct netconf_route *r, struct rv_error **err)
{
        if (c->n_routes == NETCONF_MAX_ROUTES)
                return rv_error_setx(err, E2BIG, "more than %d routes", NETCONF_MAX_ROUTES);
        struct netconf_route *v = realloc(c->routes, (c->n_routes + 1) * sizeof(*v));
        if (v == NULL)
                return rv_error_set(err, ENOMEM, "routes");
        c->routes = v;
        c->routes[c->n_routes++] = *r;
        return 0;
}

const struct netconf_iface *netconf_find_iface(const struct netconf *c, const char *name)
{
        for (size_t i = 0; i < c->n_ifaces; i++)
                if (strcmp(c->ifaces[i].name, name) == 0)
                        return &c->ifaces[i];
        return NULL;
}

const char *netconf_ip_str(const struct netconf_ip *ip, char *buf, size_t size)
{
        if (inet_ntop(ip->family, ip->addr, buf, (socklen_t) size) == NULL)
                snprintf(buf, size, "?");
        return buf;
}

int netconf_ip_parse(const char *s, struct netconf_ip *ret)
{
        struct netconf_ip ip = { 0 };

        if (inet_pton(AF_INET, s, ip.addr) == 1)
                ip.family = AF_INET;
        else if (inet_pton(AF_INET6, s, ip.addr) == 1)
                ip.family = AF_INET6;
        else
                return -1;
        *ret = ip;
        return 0;
}

const char *netconf_mac_str(const uint8_t mac[6], char *buf, size_t size)
{
        snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}

int netconf_mac_parse(const char *s, uint8_t ret[6])
{
        unsigned b[6];
        char end;

        if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                                      &b[5], &end) != 6)
                return -1;
        for (int i = 0; i < 6; i++)
                ret[i] = (uint8_t) b[i];
        return 0;
}

bool netconf_ifname_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static int max_prefix(int family)
{
        return family == AF_INET ? 32 : 128;
}

/* --- writing ----------------------------------------------------------- */

static void write_ip(struct json_writer *w, const char *key, const struct netconf_ip *ip)
{
        char buf[INET6_ADDRSTRLEN];

        if (ip->family == 0)
                return;
        json_write_key(w, key);
        json_write_string(w, netconf_ip_str(ip, buf, sizeof(buf)));
}

static void write_prefix(struct json_writer *w, const char *key, const struct netconf_ip *ip, uint8_t len)
{
        char buf[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 5];

        if (ip->family == 0)
                return;
        snprintf(text, sizeof(text), "%s/%u", netconf_ip_str(ip, buf, sizeof(buf)), len);
        json_write_key(w, key);
        json_write_string(w, text);
}

static void write_uint(struct json_writer *w, const char *key, uint64_t v)
{
        json_write_key(w, key);
        json_write_uint64(w, v);
}

static void write_name(struct json_writer *w, const char *key, const char *name)
{
        if (name[0] == '\0')
                return;
        json_write_key(w, key);
        json_write_string(w, name);
}

static void write_iface(struct json_writer *w, const struct netconf_iface *i)
{
        char mac[18];

        json_write_object_begin(w);
        write_name(w, "name", i->name);
        json_write_key(w, "mac");
        json_write_string(w, netconf_mac_str(i->mac, mac, sizeof(mac)));
        write_uint(w, "mtu", i->mtu);
        json_write_key(w, "up");
        json_write_bool(w, i->up);
        json_write_key(w, "addresses");
        json_write_array_begin(w);
        for (size_t k = 0; k < i->n_addrs; k++) {
                char buf[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 5];
                snprintf(text, sizeof(text), "%s/%u", netconf_ip_str(&i->addrs[k].ip, buf, sizeof(buf)),
                         i->addrs[k].prefixlen);
                json_write_string(w, text);
        }
        json_write_array_end(w);
        json_write_object_end(w);
}

static void write_route(struct json_writer *w, const struct netconf_route *r)
{
        json_write_object_begin(w);
        write_uint(w, "family", r->family == AF_INET ? 4 : 6);
        if (r->dst.family)
                write_prefix(w, "dst", &r->dst, r->dst_len);
        write_ip(w, "gateway", &r->gateway);
        write_ip(w, "src", &r->src);
        write_name(w, "dev", r->dev);
        write_uint(w, "table", r->table);
        write_uint(w, "type", r->type);
        write_uint(w, "scope", r->scope);
        write_uint(w, "protocol", r->protocol);
        write_uint(w, "metric", r->metric);
        if (r->mtu)
                write_uint(w, "mtu", r->mtu);
        if (r->onlink) {
                json_write_key(w, "onlink");
                json_write_bool(w, true);
        }
        json_write_object_end(w);
}

static void write_rule(struct json_writer *w, const struct netconf_rule *r)
{
        json_write_object_begin(w);
        write_uint(w, "family", r->family == AF_INET ? 4 : 6);
        write_uint(w, "priority", r->priority);
        write_uint(w, "table", r->table);
        write_prefix(w, "src", &r->src, r->src_len);
        write_prefix(w, "dst", &r->dst, r->dst_len);
        write_name(w, "iif", r->iif);
        write_name(w, "oif", r->oif);
        if (r->fwmark || r->fwmask) {
                write_uint(w, "fwmark", r->fwmark);
                write_uint(w, "fwmask", r->fwmask);
        }
        if (r->invert) {
                json_write_key(w, "invert");
                json_write_bool(w, true);
        }
        json_write_object_end(w);
}

void netconf_write(struct json_writer *w, const struct netconf *c)
{
        char mac[18];

        json_write_object_begin(w);
        json_write_key(w, "interfaces");
        json_write_array_begin(w);
        for (size_t i = 0; i < c->n_ifaces; i++)
                write_iface(w, &c->ifaces[i]);
        json_write_array_end(w);
        json_write_key(w, "routes");
        json_write_array_begin(w);
        for (size_t i = 0; i < c->n_routes; i++)
                write_route(w, &c->routes[i]);
        json_write_array_end(w);
        json_write_key(w, "rules");
        json_write_array_begin(w);
        for (size_t i = 0; i < c->n_rules; i++)
                write_rule(w, &c->rules[i]);
        json_write_array_end(w);
        json_write_key(w, "neighbours");
        json_write_array_begin(w);
        for (size_t i = 0; i < c->n_neighs; i++) {
                const struct netconf_neigh *n = &c->neighs[i];
                json_write_object_begin(w);
                write_name(w, "dev", n->dev);
                write_ip(w, "ip", &n->ip);
                json_write_key(w, "mac");
                json_write_string(w, netconf_mac_str(n->mac, mac, sizeof(mac)));
                if (n->permanent) {
                        json_write_key(w, "permanent");
                        json_write_bool(w, true);
                }
                json_write_object_end(w);
        }
        json_write_array_end(w);
        json_write_object_end(w);
}

/* --- parsing ----------------------------------------------------------- */

/* Reads key of object v at path; absent leaves *ret alone unless required. */
static int get_string(const struct json_value *v, const char *path, const char *key, bool required,
                      const char **ret, struct rv_error **err)
{
        char where[128];
        const struct json_value *m = json_get(v, key);

        snprintf(where, sizeof(where), "%s.%s", path, key);
        if (m == NULL)
                return required ? rv_error_setx(err, EINVAL, "`%s`: missing", where) : 0;
        return json_read_string(m, where, ret, err);
}

static int get_uint(const struct json_value *v, const char *path, const char *key, uint64_t max,
                    uint64_t *ret, struct rv_error **err)
{
        char where[128];
        const struct json_value *m = json_get(v, key);
        uint64_t n;

        snprintf(where, sizeof(where), "%s.%s", path, key);
        if (m == NULL)
                return 0;
        if (json_read_uint64(m, where, &n, err) < 0)
                return -1;
        if (n > max)
                return rv_error_setx(err, ERANGE, "`%s`: %llu is out of range", where, (unsigned long long) n);
        *ret = n;
        return 0;
}

static int get_bool(const struct json_value *v, const char *path, const char *key, bool *ret,
                    struct rv_error **err)
{
        char where[128];
        const struct json_value *m = json_get(v, key);

        snprintf(where, sizeof(where), "%s.%s", path, key);
        return m ? json_read_bool(m, where, ret, err) : 0;
}

static int get_name(const struct json_value *v, const char *path, const char *key, bool required,
                    char ret[IFNAMSIZ], struct rv_error **err)
{
        const char *s = NULL;

        if (get_string(v, path, key, required, &s, err) < 0)
                return -1;
        if (s == NULL)
                return 0;
        if (!netconf_ifname_valid(s))
                return rv_error_setx(err, EINVAL, "`%s.%s`: invalid interface name", path, key);
        snprintf(ret, IFNAMSIZ, "%s", s);
        return 0;
}

static int parse_ip(const char *s, const char *path, int family, struct netconf_ip *ret, struct rv_error **err)
{
        if (netconf_ip_parse(s, ret) < 0)
                return rv_error_setx(err, EINVAL, "`%s`: invalid IP address `%s`", path, s);
        if (family && ret->family != family)
                return rv_error_setx(err, EINVAL, "`%s`: `%s` is not an IPv%d address", path, s,
                                     family == AF_INET ? 4 : 6);
        return 0;
}

static int get_ip(const struct json_value *v, const char *path, const char *key, int family,
                  struct netconf_ip *ret, struct rv_error **err)
{
        char where[128];
        const char *s = NULL;

        snprintf(where, sizeof(where), "%s.%s", path, key);
        if (get_string(v, path, key, false, &s, err) < 0)
                return -1;
        return s ? parse_ip(s, where, family, ret, err) : 0;
}

/* "ADDR/LEN" */
static int parse_prefix(const char *s, const char *path, int family, struct netconf_ip *ret,
                        uint8_t *ret_len, struct rv_error **err)
{
        char buf[INET6_ADDRSTRLEN + 8], *slash, *end;

        if (strlen(s) >= sizeof(buf) || (slash = strchr(strcpy(buf, s), '/')) == NULL)
                return rv_error_setx(err, EINVAL, "`%s`: `%s` is not ADDRESS/PREFIX", path, s);
        *slash = '\0';
        if (parse_ip(buf, path, family, ret, err) < 0)
                return -1;
        errno = 0;
        unsigned long len = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || errno || len > (unsigned long) max_prefix(ret->family))
                return rv_error_setx(err, EINVAL, "`%s`: invalid prefix length in `%s`", path, s);
        *ret_len = (uint8_t) len;
        return 0;
}

static int get_prefix(const struct json_value *v, const char *path, const char *key, int family,
                      struct netconf_ip *ret, uint8_t *ret_len, struct rv_error **err)
{
        char where[128];
        const char *s = NULL;

        snprintf(where, sizeof(where), "%s.%s", path, key);
        if (get_string(v, path, key, false, &s, err) < 0)
                return -1;
        return s ? parse_prefix(s, where, family, ret, ret_len, err) : 0;
}

static int get_family(const struct json_value *v, const char *path, int *ret, struct rv_error **err)
{
        uint64_t f = 0;

        if (get_uint(v, path, "family", 6, &f, err) < 0)
                return -1;
        if (f != 4 && f != 6)
                return rv_error_setx(err, EINVAL, "`%s.family`: expected 4 or 6", path);
        *ret = f == 4 ? AF_INET : AF_INET6;
        return 0;
}

/* Iterates the array at key (absent: empty), at most max entries. */
static int get_array(const struct json_value *v, const char *key, size_t max, const struct json_value **ret,
                     size_t *ret_n, struct rv_error **err)
{
        const struct json_value *a = json_get(v, key);

        *ret = a;
        *ret_n = 0;
        if (a == NULL)
                return 0;
        if (!json_is_array(a))
                return rv_error_setx(err, EINVAL, "`%s`: expected an array", key);
        if (json_array_size(a) > max)
                return rv_error_setx(err, E2BIG, "`%s`: more than %zu entries", key, max);
        *ret_n = json_array_size(a);
        return 0;
}

static bool dev_known(const struct netconf *c, const char *dev)
{
        return dev[0] == '\0' || netconf_find_iface(c, dev) != NULL;
}

static int parse_iface(const struct json_value *v, const char *path, struct netconf *c,
                       struct netconf_iface *i, struct rv_error **err)
{
        const char *mac = NULL;
        uint64_t mtu = 1500;
        const struct json_value *a;
        size_t n;

        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`%s`: expected an object", path);
        if (get_name(v, path, "name", true, i->name, err) < 0 ||
            get_string(v, path, "mac", true, &mac, err) < 0 ||
            get_uint(v, path, "mtu", 65535, &mtu, err) < 0 || get_bool(v, path, "up", &i->up, err) < 0)
                return -1;
        if (netconf_mac_parse(mac, i->mac) < 0)
                return rv_error_setx(err, EINVAL, "`%s.mac`: invalid MAC address `%s`", path, mac);
        if (mtu < 68)
                return rv_error_setx(err, ERANGE, "`%s.mtu`: %llu is below 68", path, (unsigned long long) mtu);
        i->mtu = (uint32_t) mtu;
        if (netconf_find_iface(c, i->name) != NULL)
                return rv_error_setx(err, EINVAL, "`%s.name`: `%s` appears twice", path, i->name);
        for (size_t k = 0; k < c->n_ifaces; k++)
                if (memcmp(c->ifaces[k].mac, i->mac, 6) == 0)
                        return rv_error_setx(err, EINVAL, "`%s.mac`: `%s` appears twice", path, mac);
        if (get_array(v, "addresses", NETCONF_MAX_ADDRS, &a, &n, err) < 0)
                return rv_error_wrap(err, "`%s`", path);
        for (size_t k = 0; k < n; k++) {
                char where[128];
                const char *s;
                snprintf(where, sizeof(where), "%s.addresses[%zu]", path, k);
                if (json_read_string(json_array_get(a, k), where, &s, err) < 0 ||
                    parse_prefix(s, where, 0, &i->addrs[k].ip, &i->addrs[k].prefixlen, err) < 0)
                        return -1;
        }
        i->n_addrs = n;
        return 0;
}

static int parse_route(const struct json_value *v, const char *path, const struct netconf *c,
                       struct netconf_route *r, struct rv_error **err)
{
        uint64_t table = 254, type = 1, scope = 0, protocol = 3, metric = 0, mtu = 0;

        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`%s`: expected an object", path);
        if (get_family(v, path, &r->family, err) < 0 ||
            get_prefix(v, path, "dst", r->family, &r->dst, &r->dst_len, err) < 0 ||
            get_ip(v, path, "gateway", r->family, &r->gateway, err) < 0 ||
            get_ip(v, path, "src", r->family, &r->src, err) < 0 ||
            get_name(v, path, "dev", false, r->dev, err) < 0 ||
            get_uint(v, path, "table", UINT32_MAX, &table, err) < 0 ||
            get_uint(v, path, "type", 255, &type, err) < 0 || get_uint(v, path, "scope", 255, &scope, err) < 0 ||
            get_uint(v, path, "protocol", 255, &protocol, err) < 0 ||
            get_uint(v, path, "metric", UINT32_MAX, &metric, err) < 0 ||
            get_uint(v, path, "mtu", 65535, &mtu, err) < 0 || get_bool(v, path, "onlink", &r->onlink, err) < 0)
                return -1;
        if (!dev_known(c, r->dev))
                return rv_error_setx(err, EINVAL, "`%s.dev`: no interface `%s`", path, r->dev);
        r->table = (uint32_t) table;
        r->type = (uint8_t) type;
        r->scope = (uint8_t) scope;
        r->protocol = (uint8_t) protocol;
        r->metric = (uint32_t) metric;
        r->mtu = (uint32_t) mtu;
        return 0;
}

static int parse_rule(const struct json_value *v, const char *path, const struct netconf *c,
                      struct netconf_rule *r, struct rv_error **err)
{
        uint64_t priority = 0, table = 254, fwmark = 0, fwmask = 0;

        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`%s`: expected an object", path);
        if (get_family(v, path, &r->family, err) < 0 ||
            get_uint(v, path, "priority", UINT32_MAX, &priority, err) < 0 ||
            get_uint(v, path, "table", UINT32_MAX, &table, err) < 0 ||
            get_prefix(v, path, "src", r->family, &r->src, &r->src_len, err) < 0 ||
            get_prefix(v, path, "dst", r->family, &r->dst, &r->dst_len, err) < 0 ||
            get_name(v, path, "iif", false, r->iif, err) < 0 || get_name(v, path, "oif", false, r->oif, err) < 0 ||
            get_uint(v, path, "fwmark", UINT32_MAX, &fwmark, err) < 0 ||
            get_uint(v, path, "fwmask", UINT32_MAX, &fwmask, err) < 0 ||
            get_bool(v, path, "invert", &r->invert, err) < 0)
                return -1;
        r->priority = (uint32_t) priority;
        r->table = (uint32_t) table;
        r->fwmark = (uint32_t) fwmark;
        r->fwmask = (uint32_t) fwmask;
        return 0;
}

static int parse_neigh(const struct json_value *v, const char *path, const struct netconf *c,
                       struct netconf_neigh *n, struct rv_error **err)
{
        const char *mac = NULL;

        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`%s`: expected an object", path);
        if (get_name(v, path, "dev", true, n->dev, err) < 0 || get_ip(v, path, "ip", 0, &n->ip, err) < 0 ||
            get_string(v, path, "mac", true, &mac, err) < 0 ||
            get_bool(v, path, "permanent", &n->permanent, err) < 0)
                return -1;
        if (n->ip.family == 0)
                return rv_error_setx(err, EINVAL, "`%s.ip`: missing", path);
        if (netconf_mac_parse(mac, n->mac) < 0)
                return rv_error_setx(err, EINVAL, "`%s.mac`: invalid MAC address `%s`", path, mac);
        if (!dev_known(c, n->dev))
                return rv_error_setx(err, EINVAL, "`%s.dev`: no interface `%s`", path, n->dev);
        return 0;
}

int netconf_parse(const struct json_value *v, struct netconf **ret, struct rv_error **err)
{
        _cleanup_(netconf_freep) struct netconf *c = netconf_new();
        const struct json_value *a;
        char path[64];
        size_t n;

        if (c == NULL)
                return rv_error_set(err, ENOMEM, "network");
        if (v != NULL && !json_is_object(v))
                return rv_error_setx(err, EINVAL, "network: expected an object");
        if (get_array(v, "interfaces", NETCONF_MAX_IFACES, &a, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "interfaces[%zu]", i);
                if (parse_iface(json_array_get(a, i), path, c, &c->ifaces[i], err) < 0)
                        return -1;
                c->n_ifaces++;
        }
        if (get_array(v, "routes", NETCONF_MAX_ROUTES, &a, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                struct netconf_route r = { 0 };
                snprintf(path, sizeof(path), "routes[%zu]", i);
                if (parse_route(json_array_get(a, i), path, c, &r, err) < 0 || netconf_add_route(c, &r, err) < 0)
                        return -1;
        }
        if (get_array(v, "rules", NETCONF_MAX_RULES, &a, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "rules[%zu]", i);
                if (parse_rule(json_array_get(a, i), path, c, &c->rules[i], err) < 0)
                        return -1;
                c->n_rules++;
        }
        if (get_array(v, "neighbours", NETCONF_MAX_NEIGHS, &a, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "neighbours[%zu]", i);
                if (parse_neigh(json_array_get(a, i), path, c, &c->neighs[i], err) < 0)
                        return -1;
                c->n_neighs++;
        }
        *ret = TAKE_PTR(c);
        return 0;
}
