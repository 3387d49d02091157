/* SPDX-License-Identifier: Apache-2.0 */
#include "spec/mount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "spec/config.h"

bool spec_mount_is_bind(const struct spec_mount *m)
{
        if (m->type && strcmp(m->type, "bind") == 0)
                return true;
        for (char **o = m->options; o && *o; o++)
                if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
                        return true;
        return false;
}

bool spec_mount_is_readonly(const struct spec_mount *m)
{
        bool ro = false;
        for (char **o = m->options; o && *o; o++) {
                if (strcmp(*o, "ro") == 0 || strcmp(*o, "rro") == 0)
                        ro = true;
                else if (strcmp(*o, "rw") == 0)
                        ro = false;
        }
        return ro;
}

bool spec_mount_destination_is(const struct spec_mount *m, const char *path)
{
        const char *d = m->destination;

        if (d == NULL)
                return false;
        for (const char *p = path;;) {
                while (*d == '/')
                        d++;
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        return *d == '\0';
                size_t n = strcspn(p, "/");
                if (strncmp(d, p, n) != 0 || (d[n] != '/' && d[n] != '\0'))
                        return false;
                d += n;
                p += n;
        }
}

int spec_mount_replace(struct spec_mount *m, const char *type, const char *source, bool (*drop)(const char *option),
                       const char *const *add)
{
        size_t n = 0, n_add = 0, k = 0;

        while (m->options && m->options[n])
                n++;
        while (add && add[n_add])
                n_add++;
        _cleanup_free_ char **options = calloc(n + n_add + 1, sizeof(char *));
        _cleanup_free_ char *new_type = strdup(type);
        _cleanup_free_ char *new_source = strdup(source);
        if (options == NULL || new_type == NULL || new_source == NULL)
                return -ENOMEM;
        for (size_t j = 0; j < n_add; j++)
                if ((options[n + j] = strdup(add[j])) == NULL) {
                        for (size_t i = 0; i < j; i++)
                                free(options[n + i]);
                        return -ENOMEM;
                }
        /* The kept options first, the added after them. */
        for (size_t j = 0; j < n; j++)
                if (drop(m->options[j]))
                        free(m->options[j]);
                else
                        options[k++] = m->options[j];
        memmove(&options[k], &options[n], n_add * sizeof(char *));
        options[k + n_add] = NULL;
        free(m->options);
        m->options = TAKE_PTR(options);
        free(m->type);
        m->type = TAKE_PTR(new_type);
        free(m->source);
        m->source = TAKE_PTR(new_source);
        return 0;
}

