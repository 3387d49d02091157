/* SPDX-License-Identifier: Apache-2.0 */
/* Scope-bound ownership: cleanup attributes instead of goto ladders. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void rv_freep(void *p) { free(*(void **) p); }
static inline void rv_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
        *fd = -EBADF;
}
static inline void rv_fclosep(FILE **f) { if (*f) fclose(*f); *f = NULL; }
static inline void rv_closedirp(DIR **d) { if (*d) closedir(*d); *d = NULL; }
static inline void rv_strv_free(char **v)
{
        if (v == NULL)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}
static inline void rv_strv_freep(char ***v) { rv_strv_free(*v); *v = NULL; }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(rv_freep)
#define _cleanup_close_ _cleanup_(rv_closep)
#define _cleanup_fclose_ _cleanup_(rv_fclosep)
#define _cleanup_closedir_ _cleanup_(rv_closedirp)
#define _cleanup_strv_ _cleanup_(rv_strv_freep)

/* Generates `name##p(type *)` calling func on a non-NULL value, for module
 * types: DEFINE_CLEANUP_FUNC(yajl_val, yajl_tree_free) gives yajl_tree_freep. */
#define DEFINE_CLEANUP_FUNC(type, func)                         \
        static inline void func##p(type *p)                     \
        {                                                       \
                if (*p)                                         \
                        func(*p);                               \
        }

/* Move ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                             \
        ({                                                      \
                __typeof__(p) _tp = (p);                        \
                (p) = NULL;                                     \
                _tp;                                            \
        })
#define TAKE_FD(fd)                                             \
        ({                                                      \
                int _tf = (fd);                                 \
                (fd) = -EBADF;                                  \
                _tf;                                            \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
