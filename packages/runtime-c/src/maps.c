/* SPDX-License-Identifier: Apache-2.0 */
/* Maps by name: information, element operations, batch lookup. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"

/* The kernel's "operation not supported by this map type" (not in libc). */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

API int coolbpf_num_possible_cpus(void)
{
	cb_clear_error();
	int n = libbpf_num_possible_cpus();
	return n < 0 ? cb_fail_plain(n, "num_possible_cpus: reading /sys/devices/system/cpu/possible") : n;
}

static bool is_per_cpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* The kernel copies per-CPU values in 8-byte aligned slots. */
static size_t value_buffer_size(const struct bpf_map *m)
{
	size_t v = bpf_map__value_size(m);
	if (!is_per_cpu(bpf_map__type(m)))
		return v;
	int cpus = libbpf_num_possible_cpus();
	return cpus > 0 ? ((v + 7) & ~(size_t)7) * (size_t)cpus : 0;
}

API int coolbpf_map_info(struct coolbpf *c, const char *map, struct coolbpf_map_info *info)
{
	cb_clear_error();
	struct bpf_map *m = cb_find_map(c, map, "map_info");
	if (!m)
		return -coolbpf_last_errno();
	if (!info)
		return cb_fail_plain(EINVAL, "map_info: map '%s': info is NULL", map);
	memset(info, 0, sizeof(*info));
	info->type = bpf_map__type(m);
	info->key_size = bpf_map__key_size(m);
	info->value_size = bpf_map__value_size(m);
	info->max_entries = bpf_map__max_entries(m);
	info->flags = bpf_map__map_flags(m);
	info->fd = c->loaded ? bpf_map__fd(m) : -1;
	info->per_cpu = is_per_cpu(bpf_map__type(m));
	info->value_buffer_size = (uint32_t)value_buffer_size(m);
	return 0;
}

API int coolbpf_map_fd(struct coolbpf *c, const char *map)
{
	cb_clear_error();
	struct bpf_map *m = cb_find_map(c, map, "map_fd");
	if (!m)
		return -coolbpf_last_errno();
	int fd = bpf_map__fd(m);
	if (!c->loaded || fd < 0)
		return cb_fail_plain(EBADF, "map_fd: map '%s': the object is not loaded yet", map);
	return fd;
}

/* The loaded map's fd, after checking the caller's value buffer size. */
static int checked_fd(struct coolbpf *c, const char *map, const char *op, const void *key, size_t value_size,
		      bool check_value)
{
	cb_clear_error();
	struct bpf_map *m = cb_find_map(c, map, op);
	if (!m)
		return -coolbpf_last_errno();
	if (!c->loaded || bpf_map__fd(m) < 0)
		return cb_fail_plain(EBADF, "%s: map '%s': the object is not loaded yet", op, map);
	if (!key && bpf_map__key_size(m) > 0)
		return cb_fail_plain(EINVAL, "%s: map '%s': key is NULL", op, map);
	if (check_value && value_size != value_buffer_size(m))
		return cb_fail_plain(EINVAL, "%s: map '%s': the value buffer is %zu bytes, the map needs %zu%s", op, map,
				     value_size, value_buffer_size(m),
				     is_per_cpu(bpf_map__type(m)) ? " (8-aligned values, one per possible CPU)" : "");
	return bpf_map__fd(m);
}

API int coolbpf_map_lookup(struct coolbpf *c, const char *map, const void *key, void *value, size_t value_size,
			   uint64_t flags)
{
	int fd = checked_fd(c, map, "map_lookup", key, value_size, true);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem_flags(fd, key, value, flags))
		return cb_fail_plain(errno, "map_lookup: map '%s'%s", map, errno == ENOENT ? ": no such key" : "");
	return 0;
}

API int coolbpf_map_update(struct coolbpf *c, const char *map, const void *key, const void *value,
			   size_t value_size, uint64_t flags)
{
	int fd = checked_fd(c, map, "map_update", key, value_size, true);
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, key, value, flags)) {
		int err = errno;
		const char *why = err == EEXIST ? " (BPF_NOEXIST: the key exists)"
				  : err == ENOENT ? " (BPF_EXIST: the key does not exist)"
				  : err == E2BIG  ? " (the map is full)"
						  : "";
		return cb_fail_plain(err, "map_update: map '%s'%s", map, why);
	}
	return 0;
}

API int coolbpf_map_delete(struct coolbpf *c, const char *map, const void *key)
{
	int fd = checked_fd(c, map, "map_delete", key, 0, false);
	if (fd < 0)
		return fd;
	if (bpf_map_delete_elem(fd, key))
		return cb_fail_plain(errno, "map_delete: map '%s'%s", map, errno == ENOENT ? ": no such key" : "");
	return 0;
}

API int coolbpf_map_next_key(struct coolbpf *c, const char *map, const void *key, void *next_key)
{
	/* key may be NULL here: it asks for the first key */
	cb_clear_error();
	struct bpf_map *m = cb_find_map(c, map, "map_next_key");
	if (!m)
		return -coolbpf_last_errno();
	if (!c->loaded || bpf_map__fd(m) < 0)
		return cb_fail_plain(EBADF, "map_next_key: map '%s': the object is not loaded yet", map);
	if (bpf_map_get_next_key(bpf_map__fd(m), key, next_key))
		return cb_fail_plain(errno, "map_next_key: map '%s'%s", map, errno == ENOENT ? ": no more keys" : "");
	return 0;
}

API int coolbpf_map_lookup_batch(struct coolbpf *c, const char *map, const void *in_batch, void *out_batch,
				 void *keys, void *values, uint32_t *count)
{
	int fd = checked_fd(c, map, "map_lookup_batch", "", 0, false);
	if (fd < 0)
		return fd;
	if (!out_batch || !keys || !values || !count)
		return cb_fail_plain(EINVAL, "map_lookup_batch: map '%s': NULL argument", map);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	/* ENOENT means "this was the last batch", possibly with entries */
	if (bpf_map_lookup_batch(fd, (void *)in_batch, out_batch, keys, values, count, &opts) == 0)
		return 0;
	int err = errno;
	if (err == ENOENT)
		return 1;
	*count = 0;
	if (err == ENOTSUPP || err == EOPNOTSUPP)
		return cb_fail_plain(EOPNOTSUPP, "map_lookup_batch: map '%s': batch lookup is not supported here", map);
	return cb_fail_plain(err, "map_lookup_batch: map '%s'", map);
}
