/* SPDX-License-Identifier: Apache-2.0 */
/* The Go runtime's C side: the coolbpf_* functions of one bpf.so resolved
 * with dlopen/dlsym, and one small wrapper per call that copies the
 * thread-local error of a failed call in the same cgo call (the goroutine
 * may run on another thread for the next one). Included by every Go file
 * that calls C; everything is static inline. */
#ifndef CBGO_H
#define CBGO_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coolbpf.h"

// The functions of one bpf.so, resolved with dlsym. Their types come from
// coolbpf.h, so a signature that changes there fails to compile here.
#define CBGO_FUNCTIONS(X) \
	X(abi_version) X(object_sha256) X(last_error) X(last_errno) X(open) X(set_initial) X(set_autoload) \
	X(load) X(attach) X(destroy) X(attach_uprobe) X(attach_kprobe) X(attach_tracepoint) \
	X(attach_raw_tracepoint) X(attach_xdp) X(attach_tc) X(attach_cgroup) X(attach_perf_event) X(detach) \
	X(num_possible_cpus) X(map_info) X(map_lookup) X(map_update) X(map_delete) X(map_next_key) \
	X(map_lookup_batch) X(data) X(events_open) X(events_fd) X(events_read) X(events_stats) X(events_close)

typedef struct cbgo_lib {
	void *handle;
#define CBGO_FIELD(name) __typeof__(&coolbpf_##name) name;
	CBGO_FUNCTIONS(CBGO_FIELD)
#undef CBGO_FIELD
} cbgo_lib;

// What a call returned, and when it failed (r < 0) what it left in the
// bpf.so's thread-local error, copied in the same cgo call (the goroutine
// may run on another thread for the next one). Returned by value, so a call
// passes no Go pointer for it.
typedef struct cbgo_ret {
	int64_t r;
	int errnum;
	char *msg;
} cbgo_ret;

static inline cbgo_ret cbgo_result(const cbgo_lib *l, int64_t r)
{
	cbgo_ret out = {.r = r, .errnum = 0, .msg = NULL};
	if (r < 0) {
		const char *m = l->last_error();
		out.errnum = l->last_errno();
		out.msg = strdup(m ? m : "");
	}
	return out;
}

// dlopen + dlsym of every function. On failure *why says what (malloc'd) and
// *missing is 1 when the file loaded but is not a coolbpf bpf.so.
static inline cbgo_lib *cbgo_load(const char *path, char **why, int *missing)
{
	*why = NULL;
	*missing = 0;
	dlerror();
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		*why = strdup(e ? e : "dlopen failed");
		return NULL;
	}
	cbgo_lib *l = calloc(1, sizeof(*l));
	if (!l) {
		*why = strdup("out of memory");
		return NULL;
	}
	l->handle = h;
#define CBGO_SYM(name)                                                        \
	l->name = (__typeof__(&coolbpf_##name))dlsym(h, "coolbpf_" #name);    \
	if (!l->name) {                                                       \
		*why = strdup("coolbpf_" #name);                              \
		*missing = 1;                                                 \
		free(l);                                                      \
		return NULL;                                                  \
	}
	CBGO_FUNCTIONS(CBGO_SYM)
#undef CBGO_SYM
	return l;
}

static inline uint32_t cbgo_abi_version(const cbgo_lib *l) { return l->abi_version(); }
static inline const char *cbgo_object_sha256(const cbgo_lib *l) { return l->object_sha256(); }

// A memfd holding bytes (an embedded bpf.so), for dlopen by /proc/self/fd/N.
static inline int cbgo_memfd(const char *name, const void *data, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	const unsigned char *p = data;
	while (size > 0) {
		ssize_t w = write(fd, p, size);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : EIO;
			close(fd);
			return -err;
		}
		p += w;
		size -= (size_t)w;
	}
	return fd;
}

// The object comes back in *out (C memory the caller owns).
static inline cbgo_ret cbgo_open(const cbgo_lib *l, const char *btf, int log_level, int log_fd, struct coolbpf **out)
{
	struct coolbpf_open_opts o;
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.btf_path = btf;
	o.log_level = log_level;
	o.log_fd = log_fd;
	*out = l->open(&o);
	return cbgo_result(l, *out ? 0 : -1);
}

static inline cbgo_ret cbgo_set_initial(const cbgo_lib *l, struct coolbpf *c, const char *s, size_t off, const void *d, size_t n)
{ return cbgo_result(l, l->set_initial(c, s, off, d, n)); }
static inline cbgo_ret cbgo_set_autoload(const cbgo_lib *l, struct coolbpf *c, const char *p, int on)
{ return cbgo_result(l, l->set_autoload(c, p, on)); }
static inline cbgo_ret cbgo_load_obj(const cbgo_lib *l, struct coolbpf *c) { return cbgo_result(l, l->load(c)); }
static inline cbgo_ret cbgo_attach(const cbgo_lib *l, struct coolbpf *c) { return cbgo_result(l, l->attach(c)); }
static inline void cbgo_destroy(const cbgo_lib *l, struct coolbpf *c) { l->destroy(c); }
static inline cbgo_ret cbgo_attach_uprobe(const cbgo_lib *l, struct coolbpf *c, const char *p, const char *bin, const char *sym,
				   uint64_t off, int pid, int ret)
{ return cbgo_result(l, l->attach_uprobe(c, p, bin, sym, off, pid, ret)); }
static inline cbgo_ret cbgo_attach_kprobe(const cbgo_lib *l, struct coolbpf *c, const char *p, const char *fn, uint64_t off, int ret)
{ return cbgo_result(l, l->attach_kprobe(c, p, fn, off, ret)); }
static inline cbgo_ret cbgo_attach_tracepoint(const cbgo_lib *l, struct coolbpf *c, const char *p, const char *cat, const char *name)
{ return cbgo_result(l, l->attach_tracepoint(c, p, cat, name)); }
static inline cbgo_ret cbgo_attach_raw_tracepoint(const cbgo_lib *l, struct coolbpf *c, const char *p, const char *name)
{ return cbgo_result(l, l->attach_raw_tracepoint(c, p, name)); }
static inline cbgo_ret cbgo_attach_xdp(const cbgo_lib *l, struct coolbpf *c, const char *p, int ifindex, uint32_t flags)
{ return cbgo_result(l, l->attach_xdp(c, p, ifindex, flags)); }
static inline cbgo_ret cbgo_attach_tc(const cbgo_lib *l, struct coolbpf *c, const char *p, int ifindex, int egress)
{ return cbgo_result(l, l->attach_tc(c, p, ifindex, egress)); }
static inline cbgo_ret cbgo_attach_cgroup(const cbgo_lib *l, struct coolbpf *c, const char *p, const char *path)
{ return cbgo_result(l, l->attach_cgroup(c, p, path)); }
static inline cbgo_ret cbgo_attach_perf_event(const cbgo_lib *l, struct coolbpf *c, const char *p, int fd)
{ return cbgo_result(l, l->attach_perf_event(c, p, fd)); }
static inline cbgo_ret cbgo_detach(const cbgo_lib *l, struct coolbpf *c, int id) { return cbgo_result(l, l->detach(c, id)); }
static inline cbgo_ret cbgo_num_possible_cpus(const cbgo_lib *l) { return cbgo_result(l, l->num_possible_cpus()); }
static inline cbgo_ret cbgo_map_info(const cbgo_lib *l, struct coolbpf *c, const char *m, struct coolbpf_map_info *info)
{ return cbgo_result(l, l->map_info(c, m, info)); }

// Map element calls return 1 for "no such key" (ENOENT) instead of failing,
// so a missing key costs no error capture.
static inline cbgo_ret cbgo_absent_ok(const cbgo_lib *l, int r)
{
	return r == -ENOENT ? cbgo_result(l, 1) : cbgo_result(l, r);
}
static inline cbgo_ret cbgo_map_lookup(const cbgo_lib *l, struct coolbpf *c, const char *m, const void *k, void *v, size_t n,
				uint64_t flags)
{ return cbgo_absent_ok(l, l->map_lookup(c, m, k, v, n, flags)); }
static inline cbgo_ret cbgo_map_update(const cbgo_lib *l, struct coolbpf *c, const char *m, const void *k, const void *v, size_t n,
				uint64_t flags)
{ return cbgo_result(l, l->map_update(c, m, k, v, n, flags)); }
static inline cbgo_ret cbgo_map_delete(const cbgo_lib *l, struct coolbpf *c, const char *m, const void *k)
{ return cbgo_absent_ok(l, l->map_delete(c, m, k)); }
static inline cbgo_ret cbgo_map_next_key(const cbgo_lib *l, struct coolbpf *c, const char *m, const void *k, void *next)
{ return cbgo_absent_ok(l, l->map_next_key(c, m, k, next)); }
// r: the entries read times 2, plus 1 when this was the last batch.
static inline cbgo_ret cbgo_map_lookup_batch(const cbgo_lib *l, struct coolbpf *c, const char *m, const void *in, void *out,
				      void *keys, void *values, uint32_t count)
{
	int r = l->map_lookup_batch(c, m, in, out, keys, values, &count);
	if (r < 0)
		return cbgo_result(l, r);
	return cbgo_result(l, (int64_t)count * 2 + r);
}

static inline cbgo_ret cbgo_data(const cbgo_lib *l, struct coolbpf *c, const char *s, void **p, size_t *size)
{
	*p = l->data(c, s, size);
	return cbgo_result(l, *p ? 0 : -1);
}

static inline cbgo_ret cbgo_events_open(const cbgo_lib *l, struct coolbpf *c, const char *m, size_t pages, struct coolbpf_events **e)
{
	*e = l->events_open(c, m, pages);
	return cbgo_result(l, *e ? 0 : -1);
}
static inline int cbgo_events_fd(const cbgo_lib *l, struct coolbpf_events *e) { return l->events_fd(e); }
static inline void cbgo_events_stats(const cbgo_lib *l, struct coolbpf_events *e, uint64_t *records, uint64_t *lost)
{ l->events_stats(e, records, lost); }
static inline void cbgo_events_close(const cbgo_lib *l, struct coolbpf_events *e) { l->events_close(e); }

// Reads without waiting (a reader waits in Go's poller, not here). r: bytes
// read (0: none waiting), or a negative errno.
/* e as void *: cgo boxes a pointer to an incomplete struct type to check it,
 * an allocation on every read; an unsafe.Pointer is checked as it is */
static inline cbgo_ret cbgo_events_read(const cbgo_lib *l, void *e, void *buf, size_t n)
{
	return cbgo_result(l, l->events_read((struct coolbpf_events *)e, buf, n, 0));
}


#endif
