/* SPDX-License-Identifier: Apache-2.0 */
/* Identity and lifecycle: open the embedded object, configure, load, attach,
 * destroy. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "internal.h"

static int make_skeleton(struct coolbpf *c);

API uint32_t coolbpf_abi_version(void) { return COOLBPF_ABI_VERSION; }
API const char *coolbpf_object_sha256(void) { return coolbpf__object_sha256; }

API const void *coolbpf_object_data(size_t *size)
{
	if (size)
		*size = (size_t)(coolbpf__object_end - coolbpf__object);
	return coolbpf__object;
}

/* The object and a name, both given; what is "map" or "program". */
static bool named(struct coolbpf *c, const char *name, const char *op, const char *what)
{
	if (c && name)
		return true;
	cb_fail_plain(EINVAL, "%s: %s is NULL", op, c ? what : "object");
	return false;
}

struct bpf_map *cb_find_map(struct coolbpf *c, const char *name, const char *op)
{
	struct bpf_map *m = named(c, name, op, "map name") ? bpf_object__find_map_by_name(c->obj, name) : NULL;
	if (!m && c && name)
		cb_fail_plain(ENOENT, "%s: map '%s': the object has no map of that name", op, name);
	return m;
}

struct bpf_program *cb_find_program(struct coolbpf *c, const char *name, const char *op)
{
	struct bpf_program *p = named(c, name, op, "program name") ? bpf_object__find_program_by_name(c->obj, name) : NULL;
	if (!p && c && name)
		cb_fail_plain(ENOENT, "%s: program '%s': the object has no program of that name", op, name);
	return p;
}

/* A kernel without /sys/kernel/btf/vmlinux gets the minimal BTF coolbpf-gen
 * embedded (--min-btf), through a memfd libbpf can open by path. */
static int embedded_btf_fd(void)
{
	size_t size = (size_t)(coolbpf__min_btf_end - coolbpf__min_btf);
	if (size == 0 || access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return -1;
	int fd = memfd_create("coolbpf-min-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	const unsigned char *p = coolbpf__min_btf;
	while (size > 0) {
		ssize_t w = write(fd, p, size);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		size -= (size_t)w;
	}
	return fd;
}

API struct coolbpf *coolbpf_open(const struct coolbpf_open_opts *opts)
{
	cb_clear_error();
	struct coolbpf_open_opts o = {.sz = sizeof(o)};
	if (opts) {
		if (opts->sz < offsetof(struct coolbpf_open_opts, log_fd) + sizeof(int)) {
			cb_fail_plain(EINVAL, "open: opts.sz is %zu, expected at least %zu", opts->sz,
				      offsetof(struct coolbpf_open_opts, log_fd) + sizeof(int));
			return NULL;
		}
		memcpy(&o, opts, sizeof(o));
	}
	struct coolbpf *c = calloc(1, sizeof(*c));
	if (!c) {
		cb_fail_plain(ENOMEM, "open");
		return NULL;
	}
	c->log_level = o.log_level;
	c->log_fd = o.log_fd > 0 ? o.log_fd : -1;
	c->min_btf_fd = -1;
	cb_begin(c);

	char btf_path[64];
	const char *btf = o.btf_path;
	if (btf && access(btf, R_OK) != 0) {
		cb_fail_plain(errno, "open: BTF file '%s'", btf);
		free(c);
		return NULL;
	}
	if (!btf && (c->min_btf_fd = embedded_btf_fd()) >= 0) {
		snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d", c->min_btf_fd);
		btf = btf_path;
	}
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = coolbpf__object_name, .btf_custom_path = btf);
	c->obj = bpf_object__open_mem(coolbpf__object, (size_t)(coolbpf__object_end - coolbpf__object), &oo);
	if (!c->obj) {
		cb_fail(errno, "open: object '%s'", coolbpf__object_name);
		if (c->min_btf_fd >= 0)
			close(c->min_btf_fd);
		free(c);
		return NULL;
	}
	if (make_skeleton(c)) {
		coolbpf_destroy(c);
		cb_fail_plain(ENOMEM, "open");
		return NULL;
	}
	return c;
}

/* libbpf names .rodata/.data/.bss/.kconfig maps "<object prefix>.rodata" and
 * custom sections by the section name itself. */
static struct bpf_map *find_section_map(struct coolbpf *c, const char *section)
{
	static const char *const standard[] = {".rodata", ".data", ".bss", ".kconfig"};
	struct bpf_map *m;
	bpf_object__for_each_map(m, c->obj) {
		if (!bpf_map__is_internal(m))
			continue;
		const char *name = bpf_map__name(m);
		if (strcmp(name, section) == 0)
			return m;
		for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++) {
			size_t nl = strlen(name), sl = strlen(standard[i]);
			if (strcmp(section, standard[i]) == 0 && nl > sl && strcmp(name + nl - sl, standard[i]) == 0 &&
			    strchr(name, '.') == name + nl - sl)
				return m;
		}
	}
	return NULL;
}

API void *coolbpf_data(struct coolbpf *c, const char *section, size_t *size)
{
	cb_clear_error();
	if (!c || !section) {
		cb_fail_plain(EINVAL, "data: %s is NULL", c ? "section" : "object");
		return NULL;
	}
	struct bpf_map *m = find_section_map(c, section);
	if (!m) {
		cb_fail_plain(ENOENT, "data: section '%s': the object has no such data section", section);
		return NULL;
	}
	size_t sz = 0;
	void *p = (void *)bpf_map__initial_value(m, &sz);
	if (!p) {
		cb_fail_plain(EOPNOTSUPP, "data: section '%s': not memory-mapped (kernel without BPF_F_MMAPABLE?)",
			      section);
		return NULL;
	}
	if (size)
		*size = sz;
	return p;
}

API int coolbpf_set_initial(struct coolbpf *c, const char *section, size_t offset, const void *data, size_t size)
{
	cb_clear_error();
	if (!c || !section || (!data && size))
		return cb_fail_plain(EINVAL, "set_initial: NULL argument");
	if (c->loaded)
		return cb_fail_plain(EBUSY, "set_initial: section '%s': the object is already loaded", section);
	size_t sz;
	unsigned char *p = coolbpf_data(c, section, &sz);
	if (!p)
		return -coolbpf_last_errno();
	if (offset > sz || size > sz - offset)
		return cb_fail_plain(ERANGE, "set_initial: section '%s': %zu bytes at offset %zu do not fit in its %zu bytes",
				     section, size, offset, sz);
	memcpy(p + offset, data, size);
	return 0;
}

API int coolbpf_set_autoload(struct coolbpf *c, const char *program, int autoload)
{
	cb_clear_error();
	struct bpf_program *p = cb_find_program(c, program, "set_autoload");
	if (!p)
		return -coolbpf_last_errno();
	if (c->loaded)
		return cb_fail_plain(EBUSY, "set_autoload: program '%s': the object is already loaded", program);
	int err = bpf_program__set_autoload(p, autoload != 0);
	return err ? cb_fail(err, "set_autoload: program '%s'", program) : 0;
}

API int coolbpf_load(struct coolbpf *c)
{
	cb_clear_error();
	if (!c)
		return cb_fail_plain(EINVAL, "load: object is NULL");
	if (c->loaded)
		return cb_fail_plain(EBUSY, "load: object '%s' is already loaded", coolbpf__object_name);
	cb_begin(c);
	int err = bpf_object__load_skeleton(c->skel);
	if (err) {
		char subject[256];
		const char *s = cb_warned_subject(subject, sizeof(subject));
		if (!s) {
			snprintf(subject, sizeof(subject), "object '%s'", coolbpf__object_name);
			s = subject;
		}
		return cb_fail(err, "load: %s", s);
	}
	c->loaded = true;
	return 0;
}

/* tracepoint attach goes through tracefs; mount it where the kernel
 * documents it when neither it nor the debugfs path is there. Failure is
 * fine: attach then reports the missing tracepoint itself. */
static void ensure_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0 || access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return;
	(void)mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
}

/* A skeleton made at run time gives libbpf's own rules without restating
 * them: which SEC() names attach themselves and which need a target, and (in
 * libbpf 1.1 only bpf_object__load_skeleton does this) mapping .bss, .data
 * and custom sections onto the loaded maps, so writes reach the kernel. */
static int make_skeleton(struct coolbpf *c)
{
	int np = 0, nm = 0;
	struct bpf_program *p;
	struct bpf_map *m;
	bpf_object__for_each_program(p, c->obj) np++;
	bpf_object__for_each_map(m, c->obj) nm += bpf_map__is_internal(m);
	c->skel = calloc(1, sizeof(*c->skel));
	c->skel_progs = calloc((size_t)np + 1, sizeof(*c->skel_progs));
	c->skel_links = calloc((size_t)np + 1, sizeof(*c->skel_links));
	c->skel_maps = calloc((size_t)nm + 1, sizeof(*c->skel_maps));
	c->skel_mmaped = calloc((size_t)nm + 1, sizeof(*c->skel_mmaped));
	struct bpf_prog_skeleton *ps = calloc((size_t)np + 1, sizeof(*ps));
	struct bpf_map_skeleton *ms = calloc((size_t)nm + 1, sizeof(*ms));
	if (c->skel) {
		c->skel->progs = ps;
		c->skel->maps = ms;
	}
	if (!c->skel || !c->skel_progs || !c->skel_links || !c->skel_maps || !c->skel_mmaped || !ps || !ms)
		return -ENOMEM;
	int i = 0;
	bpf_object__for_each_program(p, c->obj) {
		c->skel_progs[i] = p;
		ps[i].name = bpf_program__name(p);
		ps[i].prog = &c->skel_progs[i];
		ps[i].link = &c->skel_links[i];
		i++;
	}
	i = 0;
	bpf_object__for_each_map(m, c->obj) {
		if (!bpf_map__is_internal(m))
			continue;
		c->skel_maps[i] = m;
		ms[i].name = bpf_map__name(m);
		ms[i].map = &c->skel_maps[i];
		ms[i].mmaped = &c->skel_mmaped[i];
		i++;
	}
	c->skel->sz = sizeof(*c->skel);
	c->skel->name = coolbpf__object_name;
	c->skel->obj = &c->obj;
	c->skel->prog_cnt = np;
	c->skel->prog_skel_sz = sizeof(*ps);
	c->skel->map_cnt = nm;
	c->skel->map_skel_sz = sizeof(*ms);
	return 0;
}

static void detach_auto(struct coolbpf *c)
{
	if (!c->skel)
		return;
	for (int i = 0; i < c->skel->prog_cnt; i++) {
		bpf_link__destroy(c->skel_links[i]);
		c->skel_links[i] = NULL;
	}
}

API int coolbpf_attach(struct coolbpf *c)
{
	cb_clear_error();
	if (!c)
		return cb_fail_plain(EINVAL, "attach: object is NULL");
	if (!c->loaded)
		return cb_fail_plain(EINVAL, "attach: object '%s' is not loaded yet", coolbpf__object_name);
	cb_begin(c);
	ensure_tracefs();
	int err = bpf_object__attach_skeleton(c->skel);
	if (err) {
		char subject[256];
		const char *s = cb_warned_subject(subject, sizeof(subject));
		if (!s) {
			snprintf(subject, sizeof(subject), "object '%s'", coolbpf__object_name);
			s = subject;
		}
		cb_fail(err, "attach: %s", s);
		detach_auto(c);
		return -coolbpf_last_errno();
	}
	return 0;
}

API void coolbpf_destroy(struct coolbpf *c)
{
	if (!c)
		return;
	int saved = errno;
	cb_close_all_events(c);
	detach_auto(c);
	for (int i = 0; i < c->links_len; i++)
		cb_release_link(&c->links[i]);
	bpf_object__close(c->obj);
	if (c->skel) {
		free(c->skel->progs);
		free(c->skel->maps);
	}
	free(c->skel);
	free(c->skel_progs);
	free(c->skel_links);
	free(c->skel_maps);
	free(c->skel_mmaped);
	free(c->links);
	if (c->min_btf_fd >= 0)
		close(c->min_btf_fd);
	free(c);
	errno = saved;
}

API struct coolbpf *coolbpf_init(const struct coolbpf_open_opts *opts)
{
	struct coolbpf *c = coolbpf_open(opts);
	if (!c)
		return NULL;
	if (coolbpf_load(c) || coolbpf_attach(c)) {
		coolbpf_destroy(c); /* leaves the failing step's error in place */
		return NULL;
	}
	return c;
}
