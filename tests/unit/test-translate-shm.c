/* SPDX-License-Identifier: Apache-2.0 */
/* translate-shm: which /dev/shm binds become a guest tmpfs, and how. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/translate-shm.h"
#include "spec/config.h"
#include "vm/channel/shm.h"

static char dir[64];
static bool mounted;

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/runvm-test-shm-XXXXXX");
        assert_non_null(mkdtemp(dir));
        /* Root, as the unit tests run; elsewhere the tmpfs cases skip. */
        mounted = mount("shm", dir, "tmpfs", 0, "size=4m,mode=1777") == 0;
        return 0;
}

static int teardown(void **state)
{
        char path[128];
        if (mounted)
                umount(dir);
        snprintf(path, sizeof(path), "%s/f", dir);
        unlink(path);
        rmdir(dir);
        return 0;
}

/* A config with one mount: destination, source, and `user` for a user
 * namespace. */
static struct spec_config *config(const char *destination, const char *source, bool user)
{
        char text[1024];
        struct spec_config *c = NULL;
        struct rv_error *err = NULL;

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"},"
                 " \"mounts\": [{\"destination\": \"%s\", \"type\": \"bind\", \"source\": \"%s\","
                 " \"options\": [\"bind\", \"rprivate\", \"nosuid\", \"noexec\", \"nodev\"]}],"
                 " \"linux\": {\"namespaces\": [{\"type\": \"network\"}%s]}}",
                 destination, source, user ? ", {\"type\": \"user\"}" : "");
        assert_int_equal(spec_config_parse(text, strlen(text), &c, &err), 0);
        return c;
}

static bool has_option(const struct spec_mount *m, const char *o)
{
        for (char **p = m->options; p && *p; p++)
                if (strcmp(*p, o) == 0)
                        return true;
        return false;
}

static void test_an_empty_tmpfs_becomes_the_guests(void **unused)
{
        struct rv_error *err = NULL;

        if (!mounted)
                skip();
        struct spec_config *c = config("//dev/shm/", dir, false);
        assert_int_equal(translate_shm(c, &err), 0);
        const struct spec_mount *m = &c->mounts[0];
        assert_string_equal(m->type, "tmpfs");
        assert_int_equal(strncmp(m->source, GUEST_SHM_PREFIX, strlen(GUEST_SHM_PREFIX)), 0);
        assert_int_equal(strlen(m->source), strlen(GUEST_SHM_PREFIX) + GUEST_SHM_KEY_LEN);
        assert_true(has_option(m, "size=4194304"));
        assert_true(has_option(m, "mode=1777"));
        assert_true(has_option(m, "nosuid") && has_option(m, "rprivate"));
        assert_false(has_option(m, "bind"));
        /* The same directory, the same key: a pod's members share it. */
        struct spec_config *again = config("/dev/shm", dir, false);
        assert_int_equal(translate_shm(again, &err), 0);
        assert_string_equal(again->mounts[0].source, m->source);
        spec_config_free(again);
        spec_config_free(c);
}

static void test_what_is_left_alone(void **unused)
{
        struct rv_error *err = NULL;
        char path[128];

        if (!mounted)
                skip();
        /* Another destination, a user namespace, a directory that is no
         * tmpfs's root, a tmpfs that holds a file. */
        struct spec_config *cases[4] = { config("/dev/shmx", dir, false), config("/dev/shm", dir, true),
                                         config("/dev/shm", "/tmp", false), NULL };
        snprintf(path, sizeof(path), "%s/f", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
        cases[3] = config("/dev/shm", dir, false);
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(translate_shm(cases[i], &err), 0);
                assert_string_equal(cases[i]->mounts[0].type, "bind");
                assert_true(has_option(&cases[i]->mounts[0], "bind"));
                spec_config_free(cases[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_an_empty_tmpfs_becomes_the_guests, setup, teardown),
                cmocka_unit_test_setup_teardown(test_what_is_left_alone, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
