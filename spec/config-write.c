/* SPDX-License-Identifier: Apache-2.0 */
/* struct spec_config -> JSON. Members are written in the order of the
 * runtime-spec's Go structs (what `runc spec` prints); absent ones are
 * omitted, so parse(write(c)) gives c back. */
#include <errno.h>
#include <stdlib.h>

#include "base/error.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/spec-internal.h"

static void kv_string(struct json_writer *w, const char *key, const char *s)
{
        if (s == NULL)
                return;
        json_write_key(w, key);
        json_write_string(w, s);
}

static void write_strv(struct json_writer *w, char *const *v)
{
        json_write_array_begin(w);
        for (size_t i = 0; v[i]; i++)
                json_write_string(w, v[i]);
        json_write_array_end(w);
}

static void kv_strv(struct json_writer *w, const char *key, char *const *v)
{
        if (v == NULL)
                return;
        json_write_key(w, key);
        write_strv(w, v);
}

static void kv_u64(struct json_writer *w, const char *key, bool has, uint64_t v)
{
        if (!has)
                return;
        json_write_key(w, key);
        json_write_uint64(w, v);
}

static void kv_i64(struct json_writer *w, const char *key, bool has, int64_t v)
{
        if (!has)
                return;
        json_write_key(w, key);
        json_write_int64(w, v);
}

static void kv_bool(struct json_writer *w, const char *key, bool has, bool v)
{
        if (!has)
                return;
        json_write_key(w, key);
        json_write_bool(w, v);
}

static void kv_string_map(struct json_writer *w, const char *key, const struct spec_string_pair *p,
                          size_t n, bool raw)
{
        if (n == 0)
                return;
        json_write_key(w, key);
        json_write_object_begin(w);
        for (size_t i = 0; i < n; i++) {
                json_write_key(w, p[i].key);
                if (raw)
                        json_write_raw(w, p[i].value);
                else
                        json_write_string(w, p[i].value);
        }
        json_write_object_end(w);
}

static void kv_id_mappings(struct json_writer *w, const char *key, const struct spec_id_mapping *m,
                           size_t n)
{
        if (n == 0)
                return;
        json_write_key(w, key);
        json_write_array_begin(w);
        for (size_t i = 0; i < n; i++) {
                json_write_object_begin(w);
                kv_u64(w, "containerID", true, m[i].container_id);
                kv_u64(w, "hostID", true, m[i].host_id);
                kv_u64(w, "size", true, m[i].size);
                json_write_object_end(w);
        }
        json_write_array_end(w);
}

void spec_process_write(struct json_writer *w, const struct spec_process *p)
{
        const struct spec_capabilities *caps = &p->capabilities;

        json_write_object_begin(w);
        kv_bool(w, "terminal", p->terminal, true);
        if (p->console_size.has) {
                json_write_key(w, "consoleSize");
                json_write_object_begin(w);
                kv_u64(w, "height", true, p->console_size.height);
                kv_u64(w, "width", true, p->console_size.width);
                json_write_object_end(w);
        }
        json_write_key(w, "user");
        json_write_object_begin(w);
        kv_u64(w, "uid", true, p->user.uid);
        kv_u64(w, "gid", true, p->user.gid);
        kv_u64(w, "umask", p->user.has_umask, p->user.umask);
        if (p->user.n_additional_gids > 0) {
                json_write_key(w, "additionalGids");
                json_write_array_begin(w);
                for (size_t i = 0; i < p->user.n_additional_gids; i++)
                        json_write_uint64(w, p->user.additional_gids[i]);
                json_write_array_end(w);
        }
        kv_string(w, "username", p->user.username);
        json_write_object_end(w);
        kv_strv(w, "args", p->args);
        kv_string(w, "commandLine", p->command_line);
        kv_strv(w, "env", p->env);
        kv_string(w, "cwd", p->cwd);
        if (caps->has) {
                json_write_key(w, "capabilities");
                json_write_object_begin(w);
                kv_strv(w, "bounding", caps->bounding);
                kv_strv(w, "effective", caps->effective);
                kv_strv(w, "inheritable", caps->inheritable);
                kv_strv(w, "permitted", caps->permitted);
                kv_strv(w, "ambient", caps->ambient);
                json_write_object_end(w);
        }
        if (p->n_rlimits > 0) {
                json_write_key(w, "rlimits");
                json_write_array_begin(w);
                for (size_t i = 0; i < p->n_rlimits; i++) {
                        json_write_object_begin(w);
                        kv_string(w, "type", p->rlimits[i].type);
                        kv_u64(w, "hard", true, p->rlimits[i].hard);
                        kv_u64(w, "soft", true, p->rlimits[i].soft);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        kv_bool(w, "noNewPrivileges", p->no_new_privileges, true);
        kv_string(w, "apparmorProfile", p->apparmor_profile);
        kv_i64(w, "oomScoreAdj", p->has_oom_score_adj, p->oom_score_adj);
        if (p->scheduler.has) {
                const struct spec_scheduler *s = &p->scheduler;
                json_write_key(w, "scheduler");
                json_write_object_begin(w);
                kv_string(w, "policy", s->policy);
                kv_i64(w, "nice", s->has_nice, s->nice);
                kv_i64(w, "priority", s->has_priority, s->priority);
                kv_strv(w, "flags", s->flags);
                kv_u64(w, "runtime", s->has_runtime, s->runtime);
                kv_u64(w, "deadline", s->has_deadline, s->deadline);
                kv_u64(w, "period", s->has_period, s->period);
                json_write_object_end(w);
        }
        kv_string(w, "selinuxLabel", p->selinux_label);
        if (p->io_priority.has) {
                json_write_key(w, "ioPriority");
                json_write_object_begin(w);
                kv_string(w, "class", p->io_priority.class_);
                kv_i64(w, "priority", true, p->io_priority.priority);
                json_write_object_end(w);
        }
        json_write_object_end(w);
}

static void write_mount(struct json_writer *w, const struct spec_mount *m)
{
        json_write_object_begin(w);
        kv_string(w, "destination", m->destination);
        kv_string(w, "type", m->type);
        kv_string(w, "source", m->source);
        kv_strv(w, "options", m->options);
        kv_id_mappings(w, "uidMappings", m->uid_mappings, m->n_uid_mappings);
        kv_id_mappings(w, "gidMappings", m->gid_mappings, m->n_gid_mappings);
        json_write_object_end(w);
}

static void kv_hooks(struct json_writer *w, const char *key, const struct spec_hook_list *l)
{
        if (l->n == 0)
                return;
        json_write_key(w, key);
        json_write_array_begin(w);
        for (size_t i = 0; i < l->n; i++) {
                const struct spec_hook *h = &l->hooks[i];
                json_write_object_begin(w);
                kv_string(w, "path", h->path);
                kv_strv(w, "args", h->args);
                kv_strv(w, "env", h->env);
                kv_i64(w, "timeout", h->has_timeout, h->timeout);
                json_write_object_end(w);
        }
        json_write_array_end(w);
}

static bool hooks_present(const struct spec_hooks *h)
{
        return h->prestart.n || h->create_runtime.n || h->create_container.n ||
               h->start_container.n || h->poststart.n || h->poststop.n;
}

static void write_hooks(struct json_writer *w, const struct spec_hooks *h)
{
        json_write_object_begin(w);
        kv_hooks(w, "prestart", &h->prestart);
        kv_hooks(w, "createRuntime", &h->create_runtime);
        kv_hooks(w, "createContainer", &h->create_container);
        kv_hooks(w, "startContainer", &h->start_container);
        kv_hooks(w, "poststart", &h->poststart);
        kv_hooks(w, "poststop", &h->poststop);
        json_write_object_end(w);
}

static void kv_throttle(struct json_writer *w, const char *key, const struct spec_throttle_device *d,
                        size_t n)
{
        if (n == 0)
                return;
        json_write_key(w, key);
        json_write_array_begin(w);
        for (size_t i = 0; i < n; i++) {
                json_write_object_begin(w);
                kv_i64(w, "major", true, d[i].major);
                kv_i64(w, "minor", true, d[i].minor);
                kv_u64(w, "rate", true, d[i].rate);
                json_write_object_end(w);
        }
        json_write_array_end(w);
}

static void write_block_io(struct json_writer *w, const struct spec_block_io *b)
{
        json_write_object_begin(w);
        kv_u64(w, "weight", b->has_weight, b->weight);
        kv_u64(w, "leafWeight", b->has_leaf_weight, b->leaf_weight);
        if (b->n_weight_device > 0) {
                json_write_key(w, "weightDevice");
                json_write_array_begin(w);
                for (size_t i = 0; i < b->n_weight_device; i++) {
                        const struct spec_weight_device *d = &b->weight_device[i];
                        json_write_object_begin(w);
                        kv_i64(w, "major", true, d->major);
                        kv_i64(w, "minor", true, d->minor);
                        kv_u64(w, "weight", d->has_weight, d->weight);
                        kv_u64(w, "leafWeight", d->has_leaf_weight, d->leaf_weight);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        kv_throttle(w, "throttleReadBpsDevice", b->throttle_read_bps_device, b->n_throttle_read_bps_device);
        kv_throttle(w, "throttleWriteBpsDevice", b->throttle_write_bps_device, b->n_throttle_write_bps_device);
        kv_throttle(w, "throttleReadIOPSDevice", b->throttle_read_iops_device, b->n_throttle_read_iops_device);
        kv_throttle(w, "throttleWriteIOPSDevice", b->throttle_write_iops_device,
                    b->n_throttle_write_iops_device);
        json_write_object_end(w);
}

void spec_resources_write(struct json_writer *w, const struct spec_resources *r)
{
        json_write_object_begin(w);
        if (r->n_devices > 0) {
                json_write_key(w, "devices");
                json_write_array_begin(w);
                for (size_t i = 0; i < r->n_devices; i++) {
                        const struct spec_device_rule *d = &r->devices[i];
                        json_write_object_begin(w);
                        kv_bool(w, "allow", true, d->allow);
                        kv_string(w, "type", d->type);
                        kv_i64(w, "major", d->has_major, d->major);
                        kv_i64(w, "minor", d->has_minor, d->minor);
                        kv_string(w, "access", d->access);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        if (r->memory.has) {
                const struct spec_memory *m = &r->memory;
                json_write_key(w, "memory");
                json_write_object_begin(w);
                kv_i64(w, "limit", m->has_limit, m->limit);
                kv_i64(w, "reservation", m->has_reservation, m->reservation);
                kv_i64(w, "swap", m->has_swap, m->swap);
                kv_i64(w, "kernel", m->has_kernel, m->kernel);
                kv_i64(w, "kernelTCP", m->has_kernel_tcp, m->kernel_tcp);
                kv_u64(w, "swappiness", m->has_swappiness, m->swappiness);
                kv_bool(w, "disableOOMKiller", m->has_disable_oom_killer, m->disable_oom_killer);
                kv_bool(w, "useHierarchy", m->has_use_hierarchy, m->use_hierarchy);
                kv_bool(w, "checkBeforeUpdate", m->has_check_before_update, m->check_before_update);
                json_write_object_end(w);
        }
        if (r->cpu.has) {
                const struct spec_cpu *c = &r->cpu;
                json_write_key(w, "cpu");
                json_write_object_begin(w);
                kv_u64(w, "shares", c->has_shares, c->shares);
                kv_i64(w, "quota", c->has_quota, c->quota);
                kv_u64(w, "burst", c->has_burst, c->burst);
                kv_u64(w, "period", c->has_period, c->period);
                kv_i64(w, "realtimeRuntime", c->has_realtime_runtime, c->realtime_runtime);
                kv_u64(w, "realtimePeriod", c->has_realtime_period, c->realtime_period);
                kv_string(w, "cpus", c->cpus);
                kv_string(w, "mems", c->mems);
                kv_i64(w, "idle", c->has_idle, c->idle);
                json_write_object_end(w);
        }
        if (r->has_pids) {
                json_write_key(w, "pids");
                json_write_object_begin(w);
                kv_i64(w, "limit", true, r->pids_limit);
                json_write_object_end(w);
        }
        if (r->block_io.has) {
                json_write_key(w, "blockIO");
                write_block_io(w, &r->block_io);
        }
        if (r->n_hugepage_limits > 0) {
                json_write_key(w, "hugepageLimits");
                json_write_array_begin(w);
                for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                        json_write_object_begin(w);
                        kv_string(w, "pageSize", r->hugepage_limits[i].page_size);
                        kv_u64(w, "limit", true, r->hugepage_limits[i].limit);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        if (r->has_network) {
                json_write_key(w, "network");
                json_write_object_begin(w);
                kv_u64(w, "classID", r->has_class_id, r->class_id);
                if (r->n_net_priorities > 0) {
                        json_write_key(w, "priorities");
                        json_write_array_begin(w);
                        for (size_t i = 0; i < r->n_net_priorities; i++) {
                                json_write_object_begin(w);
                                kv_string(w, "name", r->net_priorities[i].name);
                                kv_u64(w, "priority", true, r->net_priorities[i].priority);
                                json_write_object_end(w);
                        }
                        json_write_array_end(w);
                }
                json_write_object_end(w);
        }
        kv_string_map(w, "rdma", r->rdma_raw, r->n_rdma_raw, true);
        kv_string_map(w, "unified", r->unified, r->n_unified, false);
        json_write_object_end(w);
}

static void write_seccomp(struct json_writer *w, const struct spec_seccomp *s)
{
        json_write_object_begin(w);
        kv_string(w, "defaultAction", s->default_action);
        kv_u64(w, "defaultErrnoRet", s->has_default_errno_ret, s->default_errno_ret);
        kv_strv(w, "architectures", s->architectures);
        kv_strv(w, "flags", s->flags);
        kv_string(w, "listenerPath", s->listener_path);
        kv_string(w, "listenerMetadata", s->listener_metadata);
        if (s->n_syscalls > 0) {
                json_write_key(w, "syscalls");
                json_write_array_begin(w);
                for (size_t i = 0; i < s->n_syscalls; i++) {
                        const struct spec_seccomp_syscall *sc = &s->syscalls[i];
                        json_write_object_begin(w);
                        kv_strv(w, "names", sc->names);
                        kv_string(w, "action", sc->action);
                        kv_u64(w, "errnoRet", sc->has_errno_ret, sc->errno_ret);
                        if (sc->n_args > 0) {
                                json_write_key(w, "args");
                                json_write_array_begin(w);
                                for (size_t j = 0; j < sc->n_args; j++) {
                                        const struct spec_seccomp_arg *a = &sc->args[j];
                                        json_write_object_begin(w);
                                        kv_u64(w, "index", true, a->index);
                                        kv_u64(w, "value", true, a->value);
                                        kv_u64(w, "valueTwo", a->has_value_two, a->value_two);
                                        kv_string(w, "op", a->op);
                                        json_write_object_end(w);
                                }
                                json_write_array_end(w);
                        }
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        json_write_object_end(w);
}

static void write_linux(struct json_writer *w, const struct spec_linux *l)
{
        json_write_object_begin(w);
        kv_id_mappings(w, "uidMappings", l->uid_mappings, l->n_uid_mappings);
        kv_id_mappings(w, "gidMappings", l->gid_mappings, l->n_gid_mappings);
        kv_string_map(w, "sysctl", l->sysctl, l->n_sysctl, false);
        if (l->resources.has) {
                json_write_key(w, "resources");
                spec_resources_write(w, &l->resources);
        }
        kv_string(w, "cgroupsPath", l->cgroups_path);
        if (l->n_namespaces > 0) {
                json_write_key(w, "namespaces");
                json_write_array_begin(w);
                for (size_t i = 0; i < l->n_namespaces; i++) {
                        json_write_object_begin(w);
                        kv_string(w, "type", l->namespaces[i].type);
                        kv_string(w, "path", l->namespaces[i].path);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        if (l->n_devices > 0) {
                json_write_key(w, "devices");
                json_write_array_begin(w);
                for (size_t i = 0; i < l->n_devices; i++) {
                        const struct spec_device *d = &l->devices[i];
                        json_write_object_begin(w);
                        kv_string(w, "path", d->path);
                        kv_string(w, "type", d->type);
                        kv_i64(w, "major", true, d->major);
                        kv_i64(w, "minor", true, d->minor);
                        kv_u64(w, "fileMode", d->has_file_mode, d->file_mode);
                        kv_u64(w, "uid", d->has_uid, d->uid);
                        kv_u64(w, "gid", d->has_gid, d->gid);
                        json_write_object_end(w);
                }
                json_write_array_end(w);
        }
        if (l->seccomp.has) {
                json_write_key(w, "seccomp");
                write_seccomp(w, &l->seccomp);
        }
        kv_string(w, "rootfsPropagation", l->rootfs_propagation);
        kv_strv(w, "maskedPaths", l->masked_paths);
        kv_strv(w, "readonlyPaths", l->readonly_paths);
        kv_string(w, "mountLabel", l->mount_label);
        for (size_t i = 0; i < l->n_other; i++) {
                json_write_key(w, l->other[i].key);
                json_write_raw(w, l->other[i].value);
        }
        json_write_object_end(w);
}

void spec_config_write(struct json_writer *w, const struct spec_config *c)
{
        json_write_object_begin(w);
        kv_string(w, "ociVersion", c->oci_version);
        if (c->has_process) {
                json_write_key(w, "process");
                spec_process_write(w, &c->process);
        }
        if (c->has_root) {
                json_write_key(w, "root");
                json_write_object_begin(w);
                kv_string(w, "path", c->root.path);
                kv_bool(w, "readonly", c->root.readonly, true);
                json_write_object_end(w);
        }
        kv_string(w, "hostname", c->hostname);
        kv_string(w, "domainname", c->domainname);
        if (c->n_mounts > 0) {
                json_write_key(w, "mounts");
                json_write_array_begin(w);
                for (size_t i = 0; i < c->n_mounts; i++)
                        write_mount(w, &c->mounts[i]);
                json_write_array_end(w);
        }
        if (hooks_present(&c->hooks)) {
                json_write_key(w, "hooks");
                write_hooks(w, &c->hooks);
        }
        kv_string_map(w, "annotations", c->annotations, c->n_annotations, false);
        if (c->linux_.has) {
                json_write_key(w, "linux");
                write_linux(w, &c->linux_);
        }
        json_write_object_end(w);
}

int spec_config_to_json(const struct spec_config *c, const char *indent, char **ret, struct rv_error **err)
{
        struct json_writer *w = json_writer_new(indent);
        int r;

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "generate config");
        spec_config_write(w, c);
        r = json_writer_finish(w, ret, NULL, err);
        json_writer_free(w);
        if (r < 0)
                return rv_error_wrap(err, "generate config");
        return 0;
}
