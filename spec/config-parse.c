/* SPDX-License-Identifier: Apache-2.0 */
/* config.json -> struct spec_config. Type errors name the JSON path.
 *
 * Go's encoding/json semantics where runc relies on them: unknown keys are
 * ignored, `null` is the same as an absent member, the last of duplicate
 * keys wins. Numbers must be integers in range for their field (runc
 * refuses 1.0 or -1 for an unsigned field, so do we). Members the structs
 * cannot represent as absent (mount destination, namespace type, ...) are
 * required here; the rest is checked by spec_config_validate.
 *
 * Over 600 lines: one recursive-descent parser of one document. Each
 * function is the schema of one object, in config.json's order, and all
 * of them share ~20 static readers that carry the JSON path into errors
 * (member, opt_string, opt_array, DEFINE_OPT_NUM, ...). Split by section,
 * those readers would become a cross-file API with this file as its only
 * user, and the schema would no longer read top to bottom. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/spec-internal.h"

typedef const struct json_value jv;


/* Member `key`, or NULL when absent or null. */
static jv *member(jv *obj, const char *key)
{
        jv *v = json_get(obj, key);

        return v != NULL && !json_is_null(v) ? v : NULL;
}

static int oom(struct rv_error **err, const char *path)
{
        return rv_error_set(err, ENOMEM, "`%s`", path ? path : "");
}

/* Declares `var` = "path.key", freed at scope end (NULL on ENOMEM). */
#define FIELD_PATH(path, key, var)                                      \
        _cleanup_free_ char *var = spec_path_key(path, key)

static int expect_object(jv *v, const char *path, struct rv_error **err)
{
        if (!json_is_object(v))
                return spec_error_invalid(err, "`%s`: expected an object", path);
        return 0;
}

static int expect_array(jv *v, const char *path, struct rv_error **err)
{
        if (!json_is_array(v))
                return spec_error_invalid(err, "`%s`: expected an array", path);
        return 0;
}

static int opt_string(jv *obj, const char *path, const char *key, char **out, struct rv_error **err)
{
        jv *v = member(obj, key);
        const char *s;

        if (v == NULL)
                return 0;
        FIELD_PATH(path, key, p);
        if (p == NULL)
                return oom(err, path);
        if (json_read_string(v, p, &s, err) < 0)
                return -1;
        free(*out);
        *out = strdup(s);
        return *out ? 0 : oom(err, p);
}

static int req_string(jv *obj, const char *path, const char *key, char **out, struct rv_error **err)
{
        if (member(obj, key) == NULL) {
                FIELD_PATH(path, key, p);
                return spec_error_invalid(err, "`%s`: missing", p ? p : key);
        }
        return opt_string(obj, path, key, out, err);
}

static int opt_strv(jv *obj, const char *path, const char *key, char ***out, struct rv_error **err)
{
        jv *v = member(obj, key);

        if (v == NULL)
                return 0;
        FIELD_PATH(path, key, p);
        if (p == NULL)
                return oom(err, path);
        return json_read_strv(v, p, out, err);
}

static int opt_bool(jv *obj, const char *path, const char *key, bool *out, bool *has, struct rv_error **err)
{
        jv *v = member(obj, key);

        if (v == NULL)
                return 0;
        FIELD_PATH(path, key, p);
        if (p == NULL)
                return oom(err, path);
        if (json_read_bool(v, p, out, err) < 0)
                return -1;
        if (has)
                *has = true;
        return 0;
}

#define DEFINE_OPT_NUM(name, type, reader)                                              \
        static int name(jv *obj, const char *path, const char *key, type *out, bool *has, \
                        struct rv_error **err)                                          \
        {                                                                               \
                jv *v = member(obj, key);                                               \
                if (v == NULL)                                                          \
                        return 0;                                                       \
                FIELD_PATH(path, key, p);                                               \
                if (p == NULL)                                                          \
                        return oom(err, path);                                          \
                if (reader(v, p, out, err) < 0)                                         \
                        return -1;                                                      \
                if (has)                                                                \
                        *has = true;                                                    \
                return 0;                                                               \
        }

DEFINE_OPT_NUM(opt_u64, uint64_t, json_read_uint64)
DEFINE_OPT_NUM(opt_i64, int64_t, json_read_int64)
DEFINE_OPT_NUM(opt_u32, uint32_t, json_read_uint32)
DEFINE_OPT_NUM(opt_i32, int32_t, json_read_int32)
DEFINE_OPT_NUM(opt_u16, uint16_t, json_read_uint16)

/* Member `key` as an object: *ret NULL when absent. */
static int opt_object(jv *obj, const char *path, const char *key, jv **ret, char **ret_path,
                      struct rv_error **err)
{
        jv *v = member(obj, key);
        char *p;

        *ret = NULL;
        *ret_path = NULL;
        if (v == NULL)
                return 0;
        p = spec_path_key(path, key);
        if (p == NULL)
                return oom(err, path);
        if (expect_object(v, p, err) < 0) {
                free(p);
                return -1;
        }
        *ret = v;
        *ret_path = p;
        return 0;
}

/* An array member of objects, each parsed by fn into a calloc'ed array
 * published at once (so a failure half-way is freed by the owner). */
typedef int (*elem_fn)(jv *v, const char *path, void *elem, struct rv_error **err);

static int opt_array(jv *obj, const char *path, const char *key, size_t elem_size, elem_fn fn,
                     void **out, size_t *n_out, struct rv_error **err)
{
        jv *v = member(obj, key);
        size_t n;
        char *arr;

        if (v == NULL)
                return 0;
        FIELD_PATH(path, key, p);
        if (p == NULL)
                return oom(err, path);
        if (expect_array(v, p, err) < 0)
                return -1;
        n = json_array_size(v);
        if (n == 0)
                return 0;
        arr = calloc(n, elem_size);
        if (arr == NULL)
                return oom(err, p);
        *out = arr;
        *n_out = n;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = spec_path_index(p, i);
                if (ep == NULL)
                        return oom(err, p);
                if (fn(json_array_get(v, i), ep, arr + i * elem_size, err) < 0)
                        return -1;
        }
        return 0;
}

static int elem_object(jv *v, const char *path, struct rv_error **err)
{
        return expect_object(v, path, err);
}

/* A JSON object of strings (annotations, sysctl, unified). */
static int opt_string_map(jv *obj, const char *path, const char *key,
                          struct spec_string_pair **out, size_t *n_out, struct rv_error **err)
{
        jv *v = member(obj, key);
        struct spec_string_pair *pairs;
        size_t n;

        if (v == NULL)
                return 0;
        FIELD_PATH(path, key, p);
        if (p == NULL)
                return oom(err, path);
        if (expect_object(v, p, err) < 0)
                return -1;
        n = json_object_size(v);
        if (n == 0)
                return 0;
        pairs = calloc(n, sizeof(*pairs));
        if (pairs == NULL)
                return oom(err, p);
        *out = pairs;
        *n_out = n;
        for (size_t i = 0; i < n; i++) {
                const char *s;
                _cleanup_free_ char *kp = spec_path_key(p, json_object_key(v, i));
                if (kp == NULL)
                        return oom(err, p);
                if (json_read_string(json_object_value(v, i), kp, &s, err) < 0)
                        return -1;
                pairs[i].key = strdup(json_object_key(v, i));
                pairs[i].value = strdup(s);
                if (pairs[i].key == NULL || pairs[i].value == NULL)
                        return oom(err, kp);
        }
        return 0;
}

/* A JSON object whose values are kept as compact JSON text. With
 * want_object, each value must be an object (rdma). */
static int raw_pair(const char *path, const char *key, jv *v, bool want_object,
                    struct spec_string_pair *out, struct rv_error **err)
{
        _cleanup_free_ char *kp = spec_path_key(path, key);

        if (kp == NULL)
                return oom(err, path);
        if (want_object && expect_object(v, kp, err) < 0)
                return -1;
        out->key = strdup(key);
        if (out->key == NULL)
                return oom(err, kp);
        if (json_value_to_text(v, &out->value, err) < 0)
                return rv_error_wrap(err, "`%s`", kp);
        return 0;
}

static int id_mapping(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_id_mapping *m = elem;

        if (elem_object(v, path, err) < 0 ||
            opt_u32(v, path, "containerID", &m->container_id, NULL, err) < 0 ||
            opt_u32(v, path, "hostID", &m->host_id, NULL, err) < 0 ||
            opt_u32(v, path, "size", &m->size, NULL, err) < 0)
                return -1;
        return 0;
}

static int parse_mount(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_mount *m = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "destination", &m->destination, err) < 0 ||
            opt_string(v, path, "type", &m->type, err) < 0 ||
            opt_string(v, path, "source", &m->source, err) < 0 ||
            opt_strv(v, path, "options", &m->options, err) < 0 ||
            opt_array(v, path, "uidMappings", sizeof(struct spec_id_mapping), id_mapping,
                      (void **) &m->uid_mappings, &m->n_uid_mappings, err) < 0 ||
            opt_array(v, path, "gidMappings", sizeof(struct spec_id_mapping), id_mapping,
                      (void **) &m->gid_mappings, &m->n_gid_mappings, err) < 0)
                return -1;
        return 0;
}

static int parse_rlimit(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_rlimit *r = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "type", &r->type, err) < 0 ||
            opt_u64(v, path, "hard", &r->hard, NULL, err) < 0 ||
            opt_u64(v, path, "soft", &r->soft, NULL, err) < 0)
                return -1;
        return 0;
}

static int parse_u32_array(jv *obj, const char *path, const char *key, uint32_t **out, size_t *n_out,
                           struct rv_error **err)
{
        jv *v = member(obj, key);
        size_t n;

        if (v == NULL)
                return 0;
        FIELD_PATH(path, key, p);
        if (p == NULL)
                return oom(err, path);
        if (expect_array(v, p, err) < 0)
                return -1;
        n = json_array_size(v);
        if (n == 0)
                return 0;
        *out = calloc(n, sizeof(uint32_t));
        if (*out == NULL)
                return oom(err, p);
        *n_out = n;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = spec_path_index(p, i);
                if (ep == NULL)
                        return oom(err, p);
                if (json_read_uint32(json_array_get(v, i), ep, &(*out)[i], err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_process(jv *v, const char *path, struct spec_process *p, struct rv_error **err)
{
        _cleanup_free_ char *box_path = NULL, *user_path = NULL, *caps_path = NULL,
                *io_path = NULL, *sched_path = NULL;
        jv *box, *user, *caps, *io, *sched;

        if (expect_object(v, path && *path ? path : "(root)", err) < 0)
                return -1;
        if (opt_bool(v, path, "terminal", &p->terminal, NULL, err) < 0)
                return -1;

        if (opt_object(v, path, "consoleSize", &box, &box_path, err) < 0)
                return -1;
        if (box != NULL) {
                p->console_size.has = true;
                if (opt_u32(box, box_path, "height", &p->console_size.height, NULL, err) < 0 ||
                    opt_u32(box, box_path, "width", &p->console_size.width, NULL, err) < 0)
                        return -1;
        }

        if (opt_object(v, path, "user", &user, &user_path, err) < 0)
                return -1;
        if (user != NULL) {
                if (opt_u32(user, user_path, "uid", &p->user.uid, NULL, err) < 0 ||
                    opt_u32(user, user_path, "gid", &p->user.gid, NULL, err) < 0 ||
                    opt_u32(user, user_path, "umask", &p->user.umask, &p->user.has_umask, err) < 0 ||
                    parse_u32_array(user, user_path, "additionalGids", &p->user.additional_gids,
                                    &p->user.n_additional_gids, err) < 0 ||
                    opt_string(user, user_path, "username", &p->user.username, err) < 0)
                        return -1;
        }

        if (opt_strv(v, path, "args", &p->args, err) < 0 ||
            opt_string(v, path, "commandLine", &p->command_line, err) < 0 ||
            opt_strv(v, path, "env", &p->env, err) < 0 ||
            opt_string(v, path, "cwd", &p->cwd, err) < 0)
                return -1;

        if (opt_object(v, path, "capabilities", &caps, &caps_path, err) < 0)
                return -1;
        if (caps != NULL) {
                p->capabilities.has = true;
                if (opt_strv(caps, caps_path, "bounding", &p->capabilities.bounding, err) < 0 ||
                    opt_strv(caps, caps_path, "effective", &p->capabilities.effective, err) < 0 ||
                    opt_strv(caps, caps_path, "inheritable", &p->capabilities.inheritable, err) < 0 ||
                    opt_strv(caps, caps_path, "permitted", &p->capabilities.permitted, err) < 0 ||
                    opt_strv(caps, caps_path, "ambient", &p->capabilities.ambient, err) < 0)
                        return -1;
        }

        if (opt_array(v, path, "rlimits", sizeof(struct spec_rlimit), parse_rlimit,
                      (void **) &p->rlimits, &p->n_rlimits, err) < 0 ||
            opt_bool(v, path, "noNewPrivileges", &p->no_new_privileges, NULL, err) < 0 ||
            opt_string(v, path, "apparmorProfile", &p->apparmor_profile, err) < 0 ||
            opt_i32(v, path, "oomScoreAdj", &p->oom_score_adj, &p->has_oom_score_adj, err) < 0 ||
            opt_string(v, path, "selinuxLabel", &p->selinux_label, err) < 0)
                return -1;

        if (opt_object(v, path, "ioPriority", &io, &io_path, err) < 0)
                return -1;
        if (io != NULL) {
                p->io_priority.has = true;
                if (req_string(io, io_path, "class", &p->io_priority.class_, err) < 0 ||
                    opt_i32(io, io_path, "priority", &p->io_priority.priority, NULL, err) < 0)
                        return -1;
        }

        if (opt_object(v, path, "scheduler", &sched, &sched_path, err) < 0)
                return -1;
        if (sched != NULL) {
                struct spec_scheduler *s = &p->scheduler;
                s->has = true;
                if (req_string(sched, sched_path, "policy", &s->policy, err) < 0 ||
                    opt_i32(sched, sched_path, "nice", &s->nice, &s->has_nice, err) < 0 ||
                    opt_i32(sched, sched_path, "priority", &s->priority, &s->has_priority, err) < 0 ||
                    opt_strv(sched, sched_path, "flags", &s->flags, err) < 0 ||
                    opt_u64(sched, sched_path, "runtime", &s->runtime, &s->has_runtime, err) < 0 ||
                    opt_u64(sched, sched_path, "deadline", &s->deadline, &s->has_deadline, err) < 0 ||
                    opt_u64(sched, sched_path, "period", &s->period, &s->has_period, err) < 0)
                        return -1;
        }
        return 0;
}

int spec_process_from_json(const struct json_value *v, const char *path, struct spec_process *ret,
                           struct rv_error **err)
{
        struct spec_process p = {};

        if (parse_process(v, path, &p, err) < 0) {
                spec_process_clear(&p);
                return -1;
        }
        *ret = p;
        return 0;
}

static int parse_hook(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_hook *h = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "path", &h->path, err) < 0 ||
            opt_strv(v, path, "args", &h->args, err) < 0 ||
            opt_strv(v, path, "env", &h->env, err) < 0 ||
            opt_i32(v, path, "timeout", &h->timeout, &h->has_timeout, err) < 0)
                return -1;
        return 0;
}

static int parse_hooks(jv *v, const char *path, struct spec_hooks *h, struct rv_error **err)
{
        static const struct { const char *key; size_t off; } lists[] = {
                { "prestart", offsetof(struct spec_hooks, prestart) },
                { "createRuntime", offsetof(struct spec_hooks, create_runtime) },
                { "createContainer", offsetof(struct spec_hooks, create_container) },
                { "startContainer", offsetof(struct spec_hooks, start_container) },
                { "poststart", offsetof(struct spec_hooks, poststart) },
                { "poststop", offsetof(struct spec_hooks, poststop) },
        };

        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                struct spec_hook_list *l = (struct spec_hook_list *) ((char *) h + lists[i].off);
                if (opt_array(v, path, lists[i].key, sizeof(struct spec_hook), parse_hook,
                              (void **) &l->hooks, &l->n, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_namespace(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_namespace *ns = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "type", &ns->type, err) < 0 ||
            opt_string(v, path, "path", &ns->path, err) < 0)
                return -1;
        return 0;
}

static int parse_device(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_device *d = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "path", &d->path, err) < 0 ||
            req_string(v, path, "type", &d->type, err) < 0 ||
            opt_i64(v, path, "major", &d->major, NULL, err) < 0 ||
            opt_i64(v, path, "minor", &d->minor, NULL, err) < 0 ||
            opt_u32(v, path, "fileMode", &d->file_mode, &d->has_file_mode, err) < 0 ||
            opt_u32(v, path, "uid", &d->uid, &d->has_uid, err) < 0 ||
            opt_u32(v, path, "gid", &d->gid, &d->has_gid, err) < 0)
                return -1;
        return 0;
}

static int parse_device_rule(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_device_rule *d = elem;

        if (elem_object(v, path, err) < 0 ||
            opt_bool(v, path, "allow", &d->allow, NULL, err) < 0 ||
            opt_string(v, path, "type", &d->type, err) < 0 ||
            opt_i64(v, path, "major", &d->major, &d->has_major, err) < 0 ||
            opt_i64(v, path, "minor", &d->minor, &d->has_minor, err) < 0 ||
            opt_string(v, path, "access", &d->access, err) < 0)
                return -1;
        return 0;
}

static int parse_weight_device(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_weight_device *d = elem;

        if (elem_object(v, path, err) < 0 ||
            opt_i64(v, path, "major", &d->major, NULL, err) < 0 ||
            opt_i64(v, path, "minor", &d->minor, NULL, err) < 0 ||
            opt_u16(v, path, "weight", &d->weight, &d->has_weight, err) < 0 ||
            opt_u16(v, path, "leafWeight", &d->leaf_weight, &d->has_leaf_weight, err) < 0)
                return -1;
        return 0;
}

static int parse_throttle_device(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_throttle_device *d = elem;

        if (elem_object(v, path, err) < 0 ||
            opt_i64(v, path, "major", &d->major, NULL, err) < 0 ||
            opt_i64(v, path, "minor", &d->minor, NULL, err) < 0 ||
            opt_u64(v, path, "rate", &d->rate, NULL, err) < 0)
                return -1;
        return 0;
}

static int parse_hugepage(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_hugepage_limit *h = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "pageSize", &h->page_size, err) < 0 ||
            opt_u64(v, path, "limit", &h->limit, NULL, err) < 0)
                return -1;
        return 0;
}

static int parse_net_priority(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_net_priority *n = elem;

        if (elem_object(v, path, err) < 0 ||
            req_string(v, path, "name", &n->name, err) < 0 ||
            opt_u32(v, path, "priority", &n->priority, NULL, err) < 0)
                return -1;
        return 0;
}

static int parse_block_io(jv *v, const char *path, struct spec_block_io *b, struct rv_error **err)
{
        b->has = true;
        if (opt_u16(v, path, "weight", &b->weight, &b->has_weight, err) < 0 ||
            opt_u16(v, path, "leafWeight", &b->leaf_weight, &b->has_leaf_weight, err) < 0 ||
            opt_array(v, path, "weightDevice", sizeof(struct spec_weight_device), parse_weight_device,
                      (void **) &b->weight_device, &b->n_weight_device, err) < 0 ||
            opt_array(v, path, "throttleReadBpsDevice", sizeof(struct spec_throttle_device),
                      parse_throttle_device, (void **) &b->throttle_read_bps_device,
                      &b->n_throttle_read_bps_device, err) < 0 ||
            opt_array(v, path, "throttleWriteBpsDevice", sizeof(struct spec_throttle_device),
                      parse_throttle_device, (void **) &b->throttle_write_bps_device,
                      &b->n_throttle_write_bps_device, err) < 0 ||
            opt_array(v, path, "throttleReadIOPSDevice", sizeof(struct spec_throttle_device),
                      parse_throttle_device, (void **) &b->throttle_read_iops_device,
                      &b->n_throttle_read_iops_device, err) < 0 ||
            opt_array(v, path, "throttleWriteIOPSDevice", sizeof(struct spec_throttle_device),
                      parse_throttle_device, (void **) &b->throttle_write_iops_device,
                      &b->n_throttle_write_iops_device, err) < 0)
                return -1;
        return 0;
}

static int parse_resources(jv *v, const char *path, struct spec_resources *r, struct rv_error **err)
{
        _cleanup_free_ char *mem_path = NULL, *cpu_path = NULL, *pids_path = NULL,
                *bio_path = NULL, *net_path = NULL, *rdma_path = NULL;
        jv *mem, *cpu, *pids, *bio, *net, *rdma;

        r->has = true;
        if (opt_array(v, path, "devices", sizeof(struct spec_device_rule), parse_device_rule,
                      (void **) &r->devices, &r->n_devices, err) < 0)
                return -1;

        if (opt_object(v, path, "memory", &mem, &mem_path, err) < 0)
                return -1;
        if (mem != NULL) {
                struct spec_memory *m = &r->memory;
                m->has = true;
                if (opt_i64(mem, mem_path, "limit", &m->limit, &m->has_limit, err) < 0 ||
                    opt_i64(mem, mem_path, "reservation", &m->reservation, &m->has_reservation, err) < 0 ||
                    opt_i64(mem, mem_path, "swap", &m->swap, &m->has_swap, err) < 0 ||
                    opt_i64(mem, mem_path, "kernel", &m->kernel, &m->has_kernel, err) < 0 ||
                    opt_i64(mem, mem_path, "kernelTCP", &m->kernel_tcp, &m->has_kernel_tcp, err) < 0 ||
                    opt_u64(mem, mem_path, "swappiness", &m->swappiness, &m->has_swappiness, err) < 0 ||
                    opt_bool(mem, mem_path, "disableOOMKiller", &m->disable_oom_killer,
                             &m->has_disable_oom_killer, err) < 0 ||
                    opt_bool(mem, mem_path, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy, err) < 0 ||
                    opt_bool(mem, mem_path, "checkBeforeUpdate", &m->check_before_update,
                             &m->has_check_before_update, err) < 0)
                        return -1;
        }

        if (opt_object(v, path, "cpu", &cpu, &cpu_path, err) < 0)
                return -1;
        if (cpu != NULL) {
                struct spec_cpu *c = &r->cpu;
                c->has = true;
                if (opt_u64(cpu, cpu_path, "shares", &c->shares, &c->has_shares, err) < 0 ||
                    opt_i64(cpu, cpu_path, "quota", &c->quota, &c->has_quota, err) < 0 ||
                    opt_u64(cpu, cpu_path, "burst", &c->burst, &c->has_burst, err) < 0 ||
                    opt_u64(cpu, cpu_path, "period", &c->period, &c->has_period, err) < 0 ||
                    opt_i64(cpu, cpu_path, "realtimeRuntime", &c->realtime_runtime,
                            &c->has_realtime_runtime, err) < 0 ||
                    opt_u64(cpu, cpu_path, "realtimePeriod", &c->realtime_period,
                            &c->has_realtime_period, err) < 0 ||
                    opt_string(cpu, cpu_path, "cpus", &c->cpus, err) < 0 ||
                    opt_string(cpu, cpu_path, "mems", &c->mems, err) < 0 ||
                    opt_i64(cpu, cpu_path, "idle", &c->idle, &c->has_idle, err) < 0)
                        return -1;
        }

        if (opt_object(v, path, "pids", &pids, &pids_path, err) < 0)
                return -1;
        if (pids != NULL) {
                r->has_pids = true;
                if (opt_i64(pids, pids_path, "limit", &r->pids_limit, NULL, err) < 0)
                        return -1;
        }

        if (opt_object(v, path, "blockIO", &bio, &bio_path, err) < 0)
                return -1;
        if (bio != NULL && parse_block_io(bio, bio_path, &r->block_io, err) < 0)
                return -1;

        if (opt_array(v, path, "hugepageLimits", sizeof(struct spec_hugepage_limit), parse_hugepage,
                      (void **) &r->hugepage_limits, &r->n_hugepage_limits, err) < 0)
                return -1;

        if (opt_object(v, path, "network", &net, &net_path, err) < 0)
                return -1;
        if (net != NULL) {
                r->has_network = true;
                if (opt_u32(net, net_path, "classID", &r->class_id, &r->has_class_id, err) < 0 ||
                    opt_array(net, net_path, "priorities", sizeof(struct spec_net_priority),
                              parse_net_priority, (void **) &r->net_priorities,
                              &r->n_net_priorities, err) < 0)
                        return -1;
        }

        if (opt_object(v, path, "rdma", &rdma, &rdma_path, err) < 0)
                return -1;
        if (rdma != NULL && json_object_size(rdma) > 0) {
                size_t n = json_object_size(rdma);
                r->rdma_raw = calloc(n, sizeof(*r->rdma_raw));
                if (r->rdma_raw == NULL)
                        return oom(err, rdma_path);
                r->n_rdma_raw = n;
                for (size_t i = 0; i < n; i++)
                        if (raw_pair(rdma_path, json_object_key(rdma, i), json_object_value(rdma, i),
                                     true, &r->rdma_raw[i], err) < 0)
                                return -1;
        }

        return opt_string_map(v, path, "unified", &r->unified, &r->n_unified, err);
}

int spec_resources_from_json(const struct json_value *v, const char *path, struct spec_resources *ret,
                             struct rv_error **err)
{
        struct spec_resources r = {};

        if (expect_object(v, path && *path ? path : "(root)", err) < 0)
                return -1;
        if (parse_resources(v, path, &r, err) < 0) {
                spec_resources_clear(&r);
                return -1;
        }
        *ret = r;
        return 0;
}

static int parse_seccomp_arg(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_seccomp_arg *a = elem;

        if (elem_object(v, path, err) < 0 ||
            opt_u32(v, path, "index", &a->index, NULL, err) < 0 ||
            opt_u64(v, path, "value", &a->value, NULL, err) < 0 ||
            opt_u64(v, path, "valueTwo", &a->value_two, &a->has_value_two, err) < 0 ||
            req_string(v, path, "op", &a->op, err) < 0)
                return -1;
        return 0;
}

static int parse_syscall(jv *v, const char *path, void *elem, struct rv_error **err)
{
        struct spec_seccomp_syscall *s = elem;

        if (elem_object(v, path, err) < 0 ||
            opt_strv(v, path, "names", &s->names, err) < 0 ||
            req_string(v, path, "action", &s->action, err) < 0 ||
            opt_u32(v, path, "errnoRet", &s->errno_ret, &s->has_errno_ret, err) < 0 ||
            opt_array(v, path, "args", sizeof(struct spec_seccomp_arg), parse_seccomp_arg,
                      (void **) &s->args, &s->n_args, err) < 0)
                return -1;
        return 0;
}

static int parse_seccomp(jv *v, const char *path, struct spec_seccomp *s, struct rv_error **err)
{
        s->has = true;
        if (req_string(v, path, "defaultAction", &s->default_action, err) < 0 ||
            opt_u32(v, path, "defaultErrnoRet", &s->default_errno_ret, &s->has_default_errno_ret, err) < 0 ||
            opt_strv(v, path, "architectures", &s->architectures, err) < 0 ||
            opt_strv(v, path, "flags", &s->flags, err) < 0 ||
            opt_string(v, path, "listenerPath", &s->listener_path, err) < 0 ||
            opt_string(v, path, "listenerMetadata", &s->listener_metadata, err) < 0 ||
            opt_array(v, path, "syscalls", sizeof(struct spec_seccomp_syscall), parse_syscall,
                      (void **) &s->syscalls, &s->n_syscalls, err) < 0)
                return -1;
        return 0;
}

/* linux members kept whole as JSON text, in this order. */
static const char *const linux_other_keys[] = { "intelRdt", "personality", "timeOffsets" };

static int parse_linux(jv *v, const char *path, struct spec_linux *l, struct rv_error **err)
{
        _cleanup_free_ char *res_path = NULL, *sec_path = NULL;
        jv *res, *sec;
        size_t n_other = 0;

        l->has = true;
        if (opt_array(v, path, "uidMappings", sizeof(struct spec_id_mapping), id_mapping,
                      (void **) &l->uid_mappings, &l->n_uid_mappings, err) < 0 ||
            opt_array(v, path, "gidMappings", sizeof(struct spec_id_mapping), id_mapping,
                      (void **) &l->gid_mappings, &l->n_gid_mappings, err) < 0 ||
            opt_string_map(v, path, "sysctl", &l->sysctl, &l->n_sysctl, err) < 0)
                return -1;

        if (opt_object(v, path, "resources", &res, &res_path, err) < 0)
                return -1;
        if (res != NULL && parse_resources(res, res_path, &l->resources, err) < 0)
                return -1;

        if (opt_string(v, path, "cgroupsPath", &l->cgroups_path, err) < 0 ||
            opt_array(v, path, "namespaces", sizeof(struct spec_namespace), parse_namespace,
                      (void **) &l->namespaces, &l->n_namespaces, err) < 0 ||
            opt_array(v, path, "devices", sizeof(struct spec_device), parse_device,
                      (void **) &l->devices, &l->n_devices, err) < 0)
                return -1;

        if (opt_object(v, path, "seccomp", &sec, &sec_path, err) < 0)
                return -1;
        if (sec != NULL && parse_seccomp(sec, sec_path, &l->seccomp, err) < 0)
                return -1;

        if (opt_string(v, path, "rootfsPropagation", &l->rootfs_propagation, err) < 0 ||
            opt_strv(v, path, "maskedPaths", &l->masked_paths, err) < 0 ||
            opt_strv(v, path, "readonlyPaths", &l->readonly_paths, err) < 0 ||
            opt_string(v, path, "mountLabel", &l->mount_label, err) < 0)
                return -1;

        for (size_t i = 0; i < ARRAY_SIZE(linux_other_keys); i++)
                if (member(v, linux_other_keys[i]) != NULL)
                        n_other++;
        if (n_other == 0)
                return 0;
        l->other = calloc(n_other, sizeof(*l->other));
        if (l->other == NULL)
                return oom(err, path);
        for (size_t i = 0; i < ARRAY_SIZE(linux_other_keys); i++) {
                jv *o = member(v, linux_other_keys[i]);
                if (o == NULL)
                        continue;
                if (raw_pair(path, linux_other_keys[i], o, false, &l->other[l->n_other++], err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_config(jv *v, struct spec_config *c, struct rv_error **err)
{
        _cleanup_free_ char *root_path = NULL, *proc_path = NULL, *hooks_path = NULL,
                *linux_path = NULL;
        jv *root, *proc, *hooks, *lnx;

        if (!json_is_object(v))
                return spec_error_invalid(err, "expected a JSON object");
        if (req_string(v, NULL, "ociVersion", &c->oci_version, err) < 0)
                return -1;

        if (opt_object(v, NULL, "root", &root, &root_path, err) < 0)
                return -1;
        if (root != NULL) {
                c->has_root = true;
                if (req_string(root, root_path, "path", &c->root.path, err) < 0 ||
                    opt_bool(root, root_path, "readonly", &c->root.readonly, NULL, err) < 0)
                        return -1;
        }

        if (opt_array(v, NULL, "mounts", sizeof(struct spec_mount), parse_mount,
                      (void **) &c->mounts, &c->n_mounts, err) < 0)
                return -1;

        if (opt_object(v, NULL, "process", &proc, &proc_path, err) < 0)
                return -1;
        if (proc != NULL) {
                c->has_process = true;
                if (parse_process(proc, proc_path, &c->process, err) < 0)
                        return -1;
        }

        if (opt_string(v, NULL, "hostname", &c->hostname, err) < 0 ||
            opt_string(v, NULL, "domainname", &c->domainname, err) < 0)
                return -1;

        if (opt_object(v, NULL, "hooks", &hooks, &hooks_path, err) < 0)
                return -1;
        if (hooks != NULL && parse_hooks(hooks, hooks_path, &c->hooks, err) < 0)
                return -1;

        if (opt_string_map(v, NULL, "annotations", &c->annotations, &c->n_annotations, err) < 0)
                return -1;

        if (opt_object(v, NULL, "linux", &lnx, &linux_path, err) < 0)
                return -1;
        if (lnx != NULL && parse_linux(lnx, linux_path, &c->linux_, err) < 0)
                return -1;
        return 0;
}

int spec_config_from_json(const struct json_value *v, struct spec_config **ret, struct rv_error **err)
{
        _cleanup_(spec_config_freep) struct spec_config *c = calloc(1, sizeof(*c));

        if (c == NULL)
                return rv_error_set(err, ENOMEM, "parse config");
        if (parse_config(v, c, err) < 0)
                return -1;
        *ret = TAKE_PTR(c);
        return 0;
}

int spec_config_parse(const char *text, size_t len, struct spec_config **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        char path[512];

        if (json_parse(text, len, &v, err) < 0)
                return -1;
        /* A C string cannot hold it: refused as runc's exec and env do. */
        if (json_find_nul(text, len, path, sizeof(path)))
                return spec_error_invalid(err, "`%s`: contains a NUL character", path[0] ? path : "(top)");
        return spec_config_from_json(v, ret, err);
}

int spec_config_parse_file(const char *path, struct spec_config **ret, struct rv_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (rv_read_file_at(AT_FDCWD, path, SPEC_FILE_MAX, &buf, &len, err) < 0)
                return -1;
        if (spec_config_parse(buf, len, ret, err) < 0)
                return rv_error_wrap(err, "parse `%s`", path);
        return 0;
}

int spec_process_parse_file(const char *path, struct spec_process *ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (rv_read_file_at(AT_FDCWD, path, SPEC_FILE_MAX, &buf, &len, err) < 0)
                return -1;
        char where[512];
        if (json_parse(buf, len, &v, err) < 0)
                return rv_error_wrap(err, "parse `%s`", path);
        if (json_find_nul(buf, len, where, sizeof(where))) {
                spec_error_invalid(err, "`%s`: contains a NUL character", where[0] ? where : "(top)");
                return rv_error_wrap(err, "parse `%s`", path);
        }
        if (spec_process_from_json(v, NULL, ret, err) < 0)
                return rv_error_wrap(err, "parse `%s`", path);
        return 0;
}
