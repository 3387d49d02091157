/* SPDX-License-Identifier: Apache-2.0 */
/* A main() for libFuzzer targets so `make check` replays their corpora
 * with the ordinary compiler (no clang, no sanitizers needed): every file
 * named, or every regular file in a directory named, goes through
 * LLVMFuzzerTestOneInput once. Without arguments the target's own corpus,
 * tests/fuzz/corpus/<program name>, is replayed. A crash is the failure;
 * exit 1 means an input could not be read. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's own default -max_len is far below this; it only keeps a
 * stray huge file from eating memory. */
#define REPLAY_MAX_INPUT (16u << 20)

static int replay_file(int dirfd, const char *name, const char *shown)
{
        struct stat st;
        uint8_t *buf;
        size_t len = 0;
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: %s\n", shown, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        if (st.st_size > REPLAY_MAX_INPUT) {
                fprintf(stderr, "%s: larger than %u bytes\n", shown, REPLAY_MAX_INPUT);
                close(fd);
                return -1;
        }
        /* Exactly the input's size, so ASan/valgrind catch any read past it. */
        buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);
        if (buf == NULL) {
                close(fd);
                return -1;
        }
        while (len < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t) st.st_size - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 0;
}

/* Replays one argument; adds to *count. */
static int replay_path(const char *path, unsigned long *count)
{
        struct stat st;
        struct dirent **names = NULL;
        int n, fd, r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                if (replay_file(AT_FDCWD, path, path) < 0)
                        return -1;
                (*count)++;
                return 0;
        }

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        /* Sorted, so a crash reproduces in the same order every run. */
        n = scandir(path, &names, NULL, alphasort);
        if (n < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                close(fd);
                return -1;
        }
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                struct stat est;

                if (name[0] != '.' && fstatat(fd, name, &est, 0) == 0 && S_ISREG(est.st_mode)) {
                        char shown[4096];

                        snprintf(shown, sizeof(shown), "%s/%s", path, name);
                        if (replay_file(fd, name, shown) < 0)
                                r = -1;
                        else
                                (*count)++;
                }
                free(names[i]);
        }
        free(names);
        close(fd);
        return r;
}

int main(int argc, char **argv)
{
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        unsigned long count = 0;
        int r = 0;

        if (argc < 2) {
                char dflt[4096];

                snprintf(dflt, sizeof(dflt), "tests/fuzz/corpus/%s", prog);
                r = replay_path(dflt, &count);
        }
        for (int i = 1; i < argc; i++) {
                /* libFuzzer-style flags (-runs=..., -max_len=...) mean nothing here. */
                if (argv[i][0] == '-')
                        continue;
                if (replay_path(argv[i], &count) < 0)
                        r = -1;
        }
        printf("%s: replayed %lu inputs\n", prog, count);
        return r < 0 ? 1 : 0;
}
