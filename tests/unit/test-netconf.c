/* SPDX-License-Identifier: Apache-2.0 */
/* The network description the host sends the guest: what netconf_write
 * produces parses back the same; bad names, addresses, prefixes and
 * dangling references are refused with the JSON path; the netns record in
 * state.json round-trips. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "base/error.h"
#include "netns/netns.h"
#include "spec/json.h"
#include "vm/channel/netconf.h"

static struct netconf *sample(void)
{
        struct netconf *c = netconf_new();
        struct netconf_iface *i = &c->ifaces[c->n_ifaces++];
        struct rv_error *err = NULL;

        snprintf(i->name, sizeof(i->name), "eth0");
        memcpy(i->mac, "\x02\x42\xac\x11\x00\x02", 6);
        i->mtu = 9000;
        i->up = true;
        assert_int_equal(netconf_ip_parse("10.88.0.2", &i->addrs[0].ip), 0);
        i->addrs[0].prefixlen = 16;
        assert_int_equal(netconf_ip_parse("fe80::42:acff:fe11:2", &i->addrs[1].ip), 0);
        i->addrs[1].prefixlen = 64;
        i->n_addrs = 2;

        struct netconf_route r = { .family = AF_INET, .table = 254, .type = 1, .protocol = 3 };
        snprintf(r.dev, sizeof(r.dev), "eth0");
        assert_int_equal(netconf_ip_parse("10.88.0.1", &r.gateway), 0);
        assert_int_equal(netconf_add_route(c, &r, &err), 0);
        struct netconf_route r2 = { .family = AF_INET6, .table = 100, .type = 1, .metric = 1024, .dst_len = 48 };
        snprintf(r2.dev, sizeof(r2.dev), "eth0");
        assert_int_equal(netconf_ip_parse("fd00:1::", &r2.dst), 0);
        r2.onlink = true;
        r2.mtu = 1400;
        assert_int_equal(netconf_add_route(c, &r2, &err), 0);

        struct netconf_rule *ru = &c->rules[c->n_rules++];
        *ru = (struct netconf_rule) { .family = AF_INET, .priority = 100, .table = 100, .src_len = 32 };
        assert_int_equal(netconf_ip_parse("10.88.0.2", &ru->src), 0);
        snprintf(ru->iif, sizeof(ru->iif), "eth0");

        struct netconf_neigh *n = &c->neighs[c->n_neighs++];
        snprintf(n->dev, sizeof(n->dev), "eth0");
        assert_int_equal(netconf_ip_parse("10.88.0.1", &n->ip), 0);
        memcpy(n->mac, "\x0a\x0b\x0c\x0d\x0e\x0f", 6);
        return c;
}

static char *to_json(const struct netconf *c)
{
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;
        char *text = NULL;

        netconf_write(w, c);
        assert_int_equal(json_writer_finish(w, &text, NULL, &err), 0);
        json_writer_free(w);
        return text;
}

static int parse_text(const char *text, struct netconf **ret, struct rv_error **err)
{
        struct json_value *v = NULL;
        int r;

        assert_int_equal(json_parse(text, strlen(text), &v, err), 0);
        r = netconf_parse(v, ret, err);
        json_value_free(v);
        return r;
}

static void test_round_trip(void **state)
{
        struct netconf *c = sample(), *back = NULL;
        struct rv_error *err = NULL;
        char *text = to_json(c);

        assert_int_equal(parse_text(text, &back, &err), 0);
        assert_int_equal(back->n_ifaces, 1);
        assert_string_equal(back->ifaces[0].name, "eth0");
        assert_memory_equal(back->ifaces[0].mac, c->ifaces[0].mac, 6);
        assert_int_equal(back->ifaces[0].mtu, 9000);
        assert_true(back->ifaces[0].up);
        assert_int_equal(back->ifaces[0].n_addrs, 2);
        assert_memory_equal(&back->ifaces[0].addrs[1], &c->ifaces[0].addrs[1], sizeof(struct netconf_addr));
        assert_int_equal(back->n_routes, 2);
        assert_memory_equal(&back->routes[0], &c->routes[0], sizeof(struct netconf_route));
        assert_memory_equal(&back->routes[1], &c->routes[1], sizeof(struct netconf_route));
        assert_int_equal(back->n_rules, 1);
        assert_memory_equal(&back->rules[0], &c->rules[0], sizeof(struct netconf_rule));
        assert_int_equal(back->n_neighs, 1);
        assert_memory_equal(&back->neighs[0], &c->neighs[0], sizeof(struct netconf_neigh));
        /* And written again, the same text. */
        char *again = to_json(back);
        assert_string_equal(text, again);
        free(again);
        free(text);
        netconf_free(c);
        netconf_free(back);
}

static void test_empty_is_loopback_only(void **state)
{
        struct netconf *c = NULL;
        struct rv_error *err = NULL;

        assert_int_equal(netconf_parse(NULL, &c, &err), 0);
        assert_int_equal(c->n_ifaces + c->n_routes + c->n_rules + c->n_neighs, 0);
        netconf_free(c);
        assert_int_equal(parse_text("{}", &c, &err), 0);
        netconf_free(c);
}

static void expect_refused(const char *text, const char *message)
{
        struct netconf *c = NULL;
        struct rv_error *err = NULL;

        assert_int_equal(parse_text(text, &c, &err), -1);
        assert_null(c);
        assert_non_null(err);
        if (strstr(err->msg, message) == NULL)
                fail_msg("`%s`: got \"%s\", expected \"%s\"", text, err->msg, message);
        rv_error_free(err);
}

static void test_refusals(void **state)
{
        expect_refused("[]", "expected an object");
        expect_refused("{\"interfaces\":[{\"mac\":\"02:00:00:00:00:01\"}]}", "`interfaces[0].name`: missing");
        expect_refused("{\"interfaces\":[{\"name\":\"a/b\",\"mac\":\"02:00:00:00:00:01\"}]}",
                       "`interfaces[0].name`: invalid interface name");
        expect_refused("{\"interfaces\":[{\"name\":\"0123456789abcdef\",\"mac\":\"02:00:00:00:00:01\"}]}",
                       "invalid interface name");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00\"}]}",
                       "`interfaces[0].mac`: invalid MAC address");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":67}]}",
                       "below 68");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":70000}]}",
                       "out of range");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\"},"
                       "{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:02\"}]}", "appears twice");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.1\"]}]}",
                       "is not ADDRESS/PREFIX");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.1/33\"]}]}",
                       "invalid prefix length");
        expect_refused("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.x/24\"]}]}",
                       "invalid IP address");
        expect_refused("{\"routes\":[{\"family\":4,\"dev\":\"eth9\"}]}", "`routes[0].dev`: no interface `eth9`");
        expect_refused("{\"routes\":[{\"family\":5}]}", "`routes[0].family`: expected 4 or 6");
        expect_refused("{\"routes\":[{\"family\":4,\"gateway\":\"fd00::1\"}]}", "is not an IPv4 address");
        expect_refused("{\"routes\":[{\"family\":6,\"dst\":\"fd00::/129\"}]}", "invalid prefix length");
        expect_refused("{\"neighbours\":[{\"dev\":\"eth0\",\"ip\":\"10.0.0.1\",\"mac\":\"0a:0b:0c:0d:0e:0f\"}]}",
                       "no interface `eth0`");
        expect_refused("{\"neighbours\":[{\"dev\":\"eth0\",\"mac\":\"0a:0b:0c:0d:0e:0f\"}]}", "`neighbours[0].ip`: missing");
        expect_refused("{\"rules\":[{\"family\":4,\"table\":4294967296}]}", "out of range");
        expect_refused("{\"interfaces\":{}}", "`interfaces`: expected an array");
}

static void test_helpers(void **state)
{
        uint8_t mac[6];
        char buf[INET6_ADDRSTRLEN];
        struct netconf_ip ip;

        assert_int_equal(netconf_mac_parse("02:42:AC:11:00:02", mac), 0);
        assert_string_equal(netconf_mac_str(mac, buf, sizeof(buf)), "02:42:ac:11:00:02");
        assert_int_equal(netconf_mac_parse("02:42:ac:11:00:02:", mac), -1);
        assert_int_equal(netconf_mac_parse("0g:42:ac:11:00:02", mac), -1);
        assert_int_equal(netconf_ip_parse("fd00::1", &ip), 0);
        assert_int_equal(ip.family, AF_INET6);
        assert_string_equal(netconf_ip_str(&ip, buf, sizeof(buf)), "fd00::1");
        assert_int_equal(netconf_ip_parse("256.0.0.1", &ip), -1);
        assert_true(netconf_ifname_valid("eth0"));
        assert_false(netconf_ifname_valid(""));
        assert_false(netconf_ifname_valid("a b"));
        assert_false(netconf_ifname_valid(".."));
}

static void test_record_round_trip(void **state)
{
        struct netns_nic nics[2] = {
                { .name = "eth0", .tap = "tap0_runvm", .mac = { 2, 0x42, 0xac, 0x11, 0, 2 }, .mtu = 1500,
                  .ingress_created = true, .tap_fd = -1 },
                { .name = "eth1", .tap = "tap1_runvm", .mac = { 2, 0, 0, 0, 0, 9 }, .mtu = 9000, .tap_fd = -1 },
        };
        struct netns_record rec = { .netns_path = "/run/netns/x", .nics = nics, .n_nics = 2 }, *back = NULL;
        struct json_writer *w = json_writer_new(NULL);
        struct json_value *v = NULL;
        struct rv_error *err = NULL;
        char *text = NULL;

        netns_record_write(w, &rec);
        assert_int_equal(json_writer_finish(w, &text, NULL, &err), 0);
        json_writer_free(w);
        assert_int_equal(json_parse(text, strlen(text), &v, &err), 0);
        assert_int_equal(netns_record_parse(v, &back, &err), 0);
        assert_string_equal(back->netns_path, "/run/netns/x");
        assert_int_equal(back->n_nics, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_string_equal(back->nics[i].name, nics[i].name);
                assert_string_equal(back->nics[i].tap, nics[i].tap);
                assert_memory_equal(back->nics[i].mac, nics[i].mac, 6);
                assert_int_equal(back->nics[i].mtu, nics[i].mtu);
                assert_int_equal(back->nics[i].ingress_created, nics[i].ingress_created);
                assert_int_equal(back->nics[i].tap_fd, -1);
        }
        netns_record_free(back);
        json_value_free(v);
        free(text);

        /* A record that names no valid interface is refused, not acted on. */
        const char *bad = "{\"netns\":null,\"nics\":[{\"name\":\"../x\",\"tap\":\"tap0_runvm\"}]}";
        assert_int_equal(json_parse(bad, strlen(bad), &v, &err), 0);
        assert_int_equal(netns_record_parse(v, &back, &err), -1);
        assert_non_null(err);
        rv_error_release(&err);
        json_value_free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_empty_is_loopback_only),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_helpers),
                cmocka_unit_test(test_record_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
