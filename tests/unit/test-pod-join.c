/* SPDX-License-Identifier: Apache-2.0 */
/* pod-join: which runvm container's VM a container joins, from its
 * namespace paths and the CRI annotations, and the errors when they
 * disagree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "libcontainer-vm/pod-join.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"

static struct spec_config *spec_with(const char *namespaces, const char *annotations)
{
        char text[4096];
        struct spec_config *sc = NULL;
        struct rv_error *err = NULL;

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}, \"annotations\": %s,"
                 " \"linux\": {\"namespaces\": %s}}", annotations, namespaces);
        assert_int_equal(spec_config_parse(text, strlen(text), &sc, &err), 0);
        return sc;
}

/* Two sandboxes: "infra" holds net 10, ipc 11, uts 12; "other" 20, 21, 22. */
static struct container_state infra = { .id = "infra", .ns = { { 4, 10 }, { 4, 11 }, { 4, 12 } } };
static struct container_state other = { .id = "other", .ns = { { 4, 20 }, { 4, 21 }, { 4, 22 } } };
/* A member of infra's pod: its monitor holds the pod's namespaces too. */
static struct container_state member = { .id = "m1", .sandbox = "infra", .ns = { { 4, 10 }, { 4, 11 }, { 4, 12 } } };
static struct container_state *const cands[] = { &infra, &other };
static struct container_state *const with_member[] = { &member, &other };

#define NS "[{\"type\": \"network\", \"path\": \"/x\"}, {\"type\": \"ipc\", \"path\": \"/y\"}, {\"type\": \"mount\"}]"

static int decide(const struct pod_ns_ref *refs, size_t n, const char *annotations, const char **ret,
                  struct rv_error **err)
{
        struct spec_config *sc = spec_with(NS, annotations);
        int r = pod_join_decide(sc, refs, n, cands, 2, ret, err);
        spec_config_free(sc);
        return r;
}

static void test_by_namespace(void **unused)
{
        struct rv_error *err = NULL;
        const char *s = (const char *) 1;
        struct pod_ns_ref refs[] = {
                { STATE_NS_NET, 0, { 4, 10 } }, { STATE_NS_IPC, 1, { 4, 11 } },
        };

        assert_int_equal(decide(refs, 2, "{}", &s, &err), 0);
        assert_string_equal(s, "infra");
        /* One namespace is enough: a network namespace of a sandbox. */
        assert_int_equal(decide(refs, 1, "{}", &s, &err), 0);
        assert_string_equal(s, "infra");
        /* The same inode in another type, or another device: no match. */
        struct pod_ns_ref wrong[] = { { STATE_NS_UTS, 0, { 4, 10 } }, { STATE_NS_NET, 1, { 5, 10 } } };
        assert_int_equal(decide(wrong, 2, "{}", &s, &err), 0);
        assert_null(s);
        /* Through a member's pid: its pod. */
        struct spec_config *sc = spec_with(NS, "{}");
        assert_int_equal(pod_join_decide(sc, refs, 2, with_member, 2, &s, &err), 0);
        assert_string_equal(s, "infra");
        spec_config_free(sc);
        /* Nothing joined: a VM of its own. */
        assert_int_equal(decide(NULL, 0, "{}", &s, &err), 0);
        assert_null(s);
}

static void test_two_sandboxes(void **unused)
{
        struct rv_error *err = NULL;
        const char *s;
        struct pod_ns_ref refs[] = { { STATE_NS_NET, 0, { 4, 10 } }, { STATE_NS_IPC, 1, { 4, 21 } } };

        assert_int_equal(decide(refs, 2, "{}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "`linux.namespaces[1]`: the ipc namespace is runvm container `other`'s, "
                                         "but `linux.namespaces[0]`'s is `infra`'s"));
        rv_error_release(&err);
}

static void test_annotations(void **unused)
{
        struct rv_error *err = NULL;
        const char *s;
        struct pod_ns_ref refs[] = { { STATE_NS_NET, 0, { 4, 10 } } };

        /* Both rules agree, CRI-O's and containerd's words. */
        assert_int_equal(decide(refs, 1, "{\"" POD_CRIO_TYPE "\": \"container\", \"" POD_CRIO_SANDBOX
                                "\": \"infra\"}", &s, &err), 0);
        assert_string_equal(s, "infra");
        assert_int_equal(decide(refs, 1, "{\"" POD_CRI_TYPE "\": \"container\", \"" POD_CRI_SANDBOX
                                "\": \"infra\"}", &s, &err), 0);
        assert_string_equal(s, "infra");
        /* A sandbox joining nothing of a runvm container's. */
        assert_int_equal(decide(NULL, 0, "{\"" POD_CRIO_TYPE "\": \"sandbox\", \"" POD_CRIO_SANDBOX
                                "\": \"me\"}", &s, &err), 0);
        assert_null(s);

        /* The annotations name another sandbox than the namespaces. */
        assert_int_equal(decide(refs, 1, "{\"" POD_CRIO_TYPE "\": \"container\", \"" POD_CRIO_SANDBOX
                                "\": \"other\"}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "`io.kubernetes.cri-o.SandboxID` puts the container in sandbox `other`, "
                                         "but `linux.namespaces[0]` joins the network namespace of runvm "
                                         "container `infra`"));
        rv_error_release(&err);
        /* A sandbox no runvm container is. */
        assert_int_equal(decide(refs, 1, "{\"" POD_CRI_TYPE "\": \"container\", \"" POD_CRI_SANDBOX
                                "\": \"gone\"}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "`io.kubernetes.cri.sandbox-id` names sandbox `gone`, which is no "
                                         "running runvm container in this --root"));
        rv_error_release(&err);
        /* The annotations say pod, the namespaces say nothing. */
        assert_int_equal(decide(NULL, 0, "{\"" POD_CRIO_TYPE "\": \"container\", \"" POD_CRIO_SANDBOX
                                "\": \"infra\"}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "joins none of `infra`'s network, ipc or uts namespaces"));
        rv_error_release(&err);
        /* A sandbox that joins another's namespaces. */
        assert_int_equal(decide(refs, 1, "{\"" POD_CRI_TYPE "\": \"sandbox\"}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "says the container is a sandbox, but `linux.namespaces[0]` joins the "
                                         "network namespace of runvm container `infra`"));
        rv_error_release(&err);
        /* A container without its sandbox's id. */
        assert_int_equal(decide(refs, 1, "{\"" POD_CRIO_TYPE "\": \"container\"}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "`io.kubernetes.cri-o.SandboxID` is missing"));
        rv_error_release(&err);
        /* CRI-O's and containerd's disagree. */
        assert_int_equal(decide(refs, 1, "{\"" POD_CRIO_TYPE "\": \"container\", \"" POD_CRIO_SANDBOX
                                "\": \"infra\", \"" POD_CRI_TYPE "\": \"sandbox\"}", &s, &err), -1);
        assert_non_null(strstr(err->msg, "disagree on the pod: `infra` vs a sandbox"));
        rv_error_release(&err);
}

/* The resolver on a real root: this process plays the live monitor of
 * "infra", whose recorded namespaces are its own. */
static void test_resolve(void **unused)
{
        char root[] = "/tmp/test-pod-join.XXXXXX";
        struct container_state st = { .id = "infra", .bundle = "/b", .rootfs = "/b/rootfs", .created = "t",
                                      .owner = "", .status = CONTAINER_RUNNING };
        struct state_dir dir = STATE_DIR_INIT;
        struct rv_error *err = NULL;
        char *sandbox = NULL;
        unsigned joined = 0;
        struct spec_config *sc;

        assert_non_null(mkdtemp(root));
        st.monitor_pid = getpid();
        assert_int_equal(rv_proc_start_time(st.monitor_pid, &st.monitor_start_time), 0);
        assert_int_equal(pod_record_namespaces(&st, &err), 0);
        assert_int_equal(state_dir_create(root, "infra", &st, &dir, &err), 0);
        state_dir_close(&dir);

        sc = spec_with("[{\"type\": \"ipc\", \"path\": \"/proc/self/ns/ipc\"},"
                       " {\"type\": \"uts\", \"path\": \"/proc/self/ns/uts\"}]", "{}");
        assert_int_equal(pod_join_resolve(root, sc, &sandbox, &joined, &err), 0);
        assert_string_equal(sandbox, "infra");
        assert_int_equal(joined, (1u << STATE_NS_IPC) | (1u << STATE_NS_UTS));
        free(sandbox);
        spec_config_free(sc);

        /* A path of another namespace type. */
        sc = spec_with("[{\"type\": \"ipc\", \"path\": \"/proc/self/ns/uts\"}]", "{}");
        assert_int_equal(pod_join_resolve(root, sc, &sandbox, &joined, &err), -1);
        assert_non_null(strstr(err->msg, "`linux.namespaces[0]`: `/proc/self/ns/uts` is not an ipc namespace"));
        rv_error_release(&err);
        spec_config_free(sc);

        /* A path that is no namespace: left to the later checks. */
        sc = spec_with("[{\"type\": \"ipc\", \"path\": \"/etc/hostname\"}]", "{}");
        assert_int_equal(pod_join_resolve(root, sc, &sandbox, &joined, &err), 0);
        assert_null(sandbox);
        spec_config_free(sc);

        /* A dead monitor's namespaces are nobody's. */
        assert_int_equal(state_dir_open(root, "infra", true, &dir, &err), 0);
        st.monitor_start_time++;
        assert_int_equal(state_save(dir.dirfd, &st, &err), 0);
        state_dir_close(&dir);
        sc = spec_with("[{\"type\": \"ipc\", \"path\": \"/proc/self/ns/ipc\"}]", "{}");
        assert_int_equal(pod_join_resolve(root, sc, &sandbox, &joined, &err), 0);
        assert_null(sandbox);
        spec_config_free(sc);

        assert_int_equal(state_dir_remove(root, "infra", &err), 0);
        assert_int_equal(rmdir(root), 0);
}

/* state.json keeps the namespaces. */
static void test_state_roundtrip(void **unused)
{
        char root[] = "/tmp/test-pod-join.XXXXXX";
        struct container_state st = { .id = "c1", .bundle = "/b", .rootfs = "/b/rootfs", .created = "t",
                                      .owner = "", .status = CONTAINER_CREATED,
                                      .ns = { { 3, 4026531992ULL }, { 0, 0 }, { 3, 4026532001ULL } } };
        struct state_dir dir = STATE_DIR_INIT;
        struct container_state *back = NULL;
        struct rv_error *err = NULL;

        assert_non_null(mkdtemp(root));
        assert_int_equal(state_dir_create(root, "c1", &st, &dir, &err), 0);
        assert_int_equal(state_load(dir.dirfd, &back, &err), 0);
        assert_int_equal(back->ns[STATE_NS_NET].ino, 4026531992ULL);
        assert_int_equal(back->ns[STATE_NS_NET].dev, 3);
        assert_int_equal(back->ns[STATE_NS_IPC].ino, 0);
        assert_int_equal(back->ns[STATE_NS_UTS].ino, 4026532001ULL);
        container_state_free(back);
        state_dir_close(&dir);
        assert_int_equal(state_dir_remove(root, "c1", &err), 0);
        assert_int_equal(rmdir(root), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_by_namespace),
                cmocka_unit_test(test_two_sandboxes),
                cmocka_unit_test(test_annotations),
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_state_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
