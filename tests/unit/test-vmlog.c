/* SPDX-License-Identifier: Apache-2.0 */
/* Guest output on the host: control characters stripped, logs bounded. */
#include <errno.h>
#include <fcntl.h>
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
#include "base/text.h"
#include "vm/qemu/vmlog.h"

static void sanitized(const char *in, const char *want)
{
        char *s = strdup(in);
        assert_non_null(s);
        assert_string_equal(rv_text_sanitize(s), want);
        free(s);
}

static void test_sanitize(void **state)
{
        sanitized("plain text", "plain text");
        sanitized("a\nb\tc\rd", "a b c d");
        sanitized("\033]0;title\007\033[2Jx", "?]0;title??[2Jx");
        sanitized("del\x7f", "del?");
        /* UTF-8 text stays; C1 controls in UTF-8 and lone C1 bytes go. */
        sanitized("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");
        sanitized("\xc2\x9b" "31m", "??31m");
        sanitized("\x9b" "31m", "?31m");
        sanitized("\xc3", "\xc3");        /* a cut sequence is no control */
        sanitized("\xe2\x82", "\xe2\x82");
}

static void test_bounded(void **state)
{
        char dir[] = "/tmp/runvm-test-vmlog-XXXXXX";
        struct vmlog l;
        struct rv_error *err = NULL;
        int p[2];
        char buf[4096];
        struct stat a, b;

        assert_non_null(mkdtemp(dir));
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dirfd >= 0);
        assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
        assert_int_equal(vmlog_open(&l, dirfd, "console.log", 10000, p[0], &err), 0);
        memset(buf, 'x', sizeof(buf));
        for (int i = 0; i < 100; i++) {
                assert_int_equal(write(p[1], buf, sizeof(buf)), (ssize_t) sizeof(buf));
                vmlog_pump(&l);
        }
        assert_int_equal(write(p[1], "\033[2Jlast line\n", 14), 14);
        close(p[1]);
        vmlog_pump(&l);
        assert_int_equal(l.fd, -1);             /* EOF seen */
        vmlog_close(&l);
        assert_int_equal(fstatat(dirfd, "console.log", &a, 0), 0);
        assert_int_equal(fstatat(dirfd, "console.log.1", &b, 0), 0);
        assert_true(a.st_size <= 10000 && b.st_size == 10000);
        char *tail = vmlog_tail(dirfd, "console.log", 20);
        assert_non_null(tail);
        assert_string_equal(tail, "xxxxxxx?[2Jlast line");
        free(tail);
        assert_int_equal(rv_rm_rf_at(AT_FDCWD, dir, &err), 0);
        close(dirfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sanitize),
                cmocka_unit_test(test_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
