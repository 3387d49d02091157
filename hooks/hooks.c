/* SPDX-License-Identifier: Apache-2.0 */
/* The hooks' state document and the poststop hooks kept for delete. */
#include "hooks/hooks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"

#define POSTSTOP_FILE_MAX (4 << 20)

int hooks_state_json(const struct spec_state *s, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);

        spec_state_write_hook(w, s);
        if (json_writer_finish(w, ret, NULL, err) < 0)
                return rv_error_wrap(err, "hook state");
        return 0;
}

/* --- poststop hooks kept for delete -------------------------------------- */

static void write_strv(struct json_writer *w, const char *key, char **v)
{
        if (v == NULL)
                return;
        json_write_key(w, key);
        json_write_array_begin(w);
        for (char **p = v; *p; p++)
                json_write_string(w, *p);
        json_write_array_end(w);
}

int hooks_poststop_save(int dirfd, const struct spec_hook_list *poststop,
                        const struct spec_state *s, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_free_ char *state = NULL, *text = NULL;
        size_t len = 0;

        if (poststop == NULL || poststop->n == 0)
                return 0;
        if (hooks_state_json(s, &state, err) < 0)
                return -1;
        json_write_object_begin(w);
        json_write_key(w, "state");
        json_write_string(w, state);
        json_write_key(w, "hooks");
        json_write_array_begin(w);
        for (size_t i = 0; i < poststop->n; i++) {
                const struct spec_hook *h = &poststop->hooks[i];
                json_write_object_begin(w);
                json_write_key(w, "path");
                json_write_string(w, h->path);
                write_strv(w, "args", h->args);
                write_strv(w, "env", h->env);
                if (h->has_timeout) {
                        json_write_key(w, "timeout");
                        json_write_int64(w, h->timeout);
                }
                json_write_object_end(w);
        }
        json_write_array_end(w);
        json_write_object_end(w);
        if (json_writer_finish(w, &text, &len, err) < 0 ||
            rv_write_file_atomic(dirfd, HOOKS_POSTSTOP_FILE, text, len, 0600, err) < 0)
                return rv_error_wrap(err, "save poststop hooks");
        return 0;
}

static void hook_list_clear(struct spec_hook_list *l)
{
        for (size_t i = 0; l->hooks && i < l->n; i++) {
                free(l->hooks[i].path);
                rv_strv_free(l->hooks[i].args);
                rv_strv_free(l->hooks[i].env);
        }
        free(l->hooks);
        l->hooks = NULL;
        l->n = 0;
}

static int read_hook(const struct json_value *v, size_t i, struct spec_hook *h, struct rv_error **err)
{
        const struct json_value *x;
        const char *path;
        char where[64];

        snprintf(where, sizeof(where), "hooks[%zu]", i);
        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`%s`: expected an object", where);
        if (json_read_string(json_get(v, "path"), where, &path, err) < 0)
                return -1;
        if ((h->path = strdup(path)) == NULL)
                return rv_error_set(err, ENOMEM, "%s", where);
        if ((x = json_get(v, "args")) && json_read_strv(x, where, &h->args, err) < 0)
                return -1;
        if ((x = json_get(v, "env")) && json_read_strv(x, where, &h->env, err) < 0)
                return -1;
        if ((x = json_get(v, "timeout"))) {
                if (json_read_int32(x, where, &h->timeout, err) < 0)
                        return -1;
                h->has_timeout = h->timeout > 0;
        }
        return 0;
}

int hooks_poststop_run_saved(int dirfd, const char *cwd, struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_value_freep) struct json_value *root = NULL;
        struct spec_hook_list list = { 0 };
        const struct json_value *hooks;
        const char *state;
        size_t len = 0;
        int r = -1;

        if (rv_read_file_at(dirfd, HOOKS_POSTSTOP_FILE, POSTSTOP_FILE_MAX, &text, &len, err) < 0) {
                if ((*err)->status == ENOENT) {
                        rv_error_release(err);
                        return 0;
                }
                return rv_error_wrap(err, "poststop hooks");
        }
        /* Whatever happens next, they are not run twice. */
        unlinkat(dirfd, HOOKS_POSTSTOP_FILE, 0);
        if (json_parse(text, len, &root, err) < 0 ||
            json_read_string(json_get(root, "state"), "state", &state, err) < 0)
                return rv_error_wrap(err, "poststop hooks");
        hooks = json_get(root, "hooks");
        if (!json_is_array(hooks))
                return rv_error_setx(err, EINVAL, "poststop hooks: `hooks`: expected an array");
        list.n = json_array_size(hooks);
        list.hooks = calloc(list.n ? list.n : 1, sizeof(*list.hooks));
        if (list.hooks == NULL)
                return rv_error_set(err, ENOMEM, "poststop hooks");
        for (size_t i = 0; i < list.n; i++) {
                if (read_hook(json_array_get(hooks, i), i, &list.hooks[i], err) < 0) {
                        rv_error_wrap(err, "poststop hooks");
                        goto out;
                }
        }
        r = hooks_run(&list, "poststop", state, cwd, err);
out:
        hook_list_clear(&list);
        return r;
}
