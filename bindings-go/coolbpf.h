/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coolbpf.h: the C ABI of a coolbpf bpf.so.
 *
 * A bpf.so embeds one compiled BPF object and libbpf (linked statically,
 * hidden). Language wrappers load it with dlopen/ctypes/cgo/FFI and call
 * only these functions; nothing in the ABI calls back into the caller.
 *
 * Conventions: functions returning int return 0 (or a non-negative value)
 * on success and a negative errno on failure; functions returning pointers
 * return NULL on failure. After any failure coolbpf_last_error() describes
 * it (thread-local, valid until the next coolbpf call on that thread).
 */
#ifndef COOLBPF_H
#define COOLBPF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change; wrappers refuse a bpf.so with another. */
#define COOLBPF_ABI_VERSION 1

struct coolbpf;        /* one opened (and later loaded) object */
struct coolbpf_events; /* a ring buffer or perf event array reader */

/* ---- identity ---------------------------------------------------------- */

uint32_t coolbpf_abi_version(void);
/* SHA-256 of the embedded object, 64 lowercase hex digits. */
const char *coolbpf_object_sha256(void);
/* The embedded object itself. */
const void *coolbpf_object_data(size_t *size);

/* ---- errors -------------------------------------------------------------- */

/* What the last failing call on this thread did wrong, naming the program or
 * map, the errno and the reason; for verifier rejections the tail of the
 * verifier log follows on further lines. "" if nothing failed yet. */
const char *coolbpf_last_error(void);
/* The errno of that failure (positive), 0 if none. */
int coolbpf_last_errno(void);

/* ---- lifecycle ----------------------------------------------------------- */

struct coolbpf_open_opts {
	/* sizeof(struct coolbpf_open_opts), for forward compatibility */
	size_t sz;
	/* kernel BTF to use instead of /sys/kernel/btf/vmlinux; NULL: default
	 * (or the minimal BTF embedded in bpf.so when vmlinux BTF is absent) */
	const char *btf_path;
	/* libbpf messages up to this level are logged: 0 warnings, 1 info, 2 debug */
	int log_level;
	/* where libbpf's log goes: an fd (2 for stderr); 0, the zero-initialized
	 * default, or -1: nowhere (failures are reported by coolbpf_last_error) */
	int log_fd;
};

/* Opens the embedded object (nothing is loaded into the kernel yet). */
struct coolbpf *coolbpf_open(const struct coolbpf_open_opts *opts);
/* Before load: write `size` bytes at `offset` into the initial contents of a
 * data section (".rodata", ".data", ".bss", ".data.foo", ...). */
int coolbpf_set_initial(struct coolbpf *c, const char *section, size_t offset, const void *data, size_t size);
/* Before load: whether a program is loaded at all (SEC("?...") defaults to no). */
int coolbpf_set_autoload(struct coolbpf *c, const char *program, int autoload);
/* Loads every program and creates every map (the verifier runs here). */
int coolbpf_load(struct coolbpf *c);
/* Attaches every auto-attachable program (the ones whose SEC() names a target). */
int coolbpf_attach(struct coolbpf *c);
/* open + load + attach; on failure nothing stays loaded. */
struct coolbpf *coolbpf_init(const struct coolbpf_open_opts *opts);
/* Detaches and unloads everything, frees c. NULL is ignored. */
void coolbpf_destroy(struct coolbpf *c);

/* ---- explicit attach ------------------------------------------------------
 * Each returns a link id (>= 0) for coolbpf_detach, or a negative errno.
 * Links are also released by coolbpf_destroy. */

/* uprobe/uretprobe: `symbol` in `binary` (NULL: use `offset` alone) plus
 * `offset`; pid -1 for every process. */
int coolbpf_attach_uprobe(struct coolbpf *c, const char *program, const char *binary, const char *symbol,
			  uint64_t offset, int pid, int retprobe);
int coolbpf_attach_kprobe(struct coolbpf *c, const char *program, const char *function, uint64_t offset, int retprobe);
int coolbpf_attach_tracepoint(struct coolbpf *c, const char *program, const char *category, const char *name);
int coolbpf_attach_raw_tracepoint(struct coolbpf *c, const char *program, const char *name);
/* XDP on an interface (XDP_FLAGS_* in flags). */
int coolbpf_attach_xdp(struct coolbpf *c, const char *program, int ifindex, uint32_t flags);
/* tc (tcx) ingress or egress on an interface. */
int coolbpf_attach_tc(struct coolbpf *c, const char *program, int ifindex, int egress);
/* A cgroup program on the cgroup at `cgroup_path` (a cgroup v2 directory). */
int coolbpf_attach_cgroup(struct coolbpf *c, const char *program, const char *cgroup_path);
/* A perf_event program on an open perf event fd. */
int coolbpf_attach_perf_event(struct coolbpf *c, const char *program, int perf_event_fd);
int coolbpf_detach(struct coolbpf *c, int link_id);

/* ---- maps ---------------------------------------------------------------- */

struct coolbpf_map_info {
	uint32_t type;        /* BPF_MAP_TYPE_* */
	uint32_t key_size;
	uint32_t value_size;  /* one value (one CPU's, for per-CPU maps) */
	uint32_t max_entries;
	uint32_t flags;
	int32_t fd;           /* -1 before load */
	uint32_t per_cpu;     /* 1: a per-CPU map */
	/* bytes of the value buffer lookup/update take: value_size, or for
	 * per-CPU maps value_size rounded up to 8, times the possible CPUs */
	uint32_t value_buffer_size;
};

int coolbpf_num_possible_cpus(void);
int coolbpf_map_info(struct coolbpf *c, const char *map, struct coolbpf_map_info *info);
int coolbpf_map_fd(struct coolbpf *c, const char *map);
/* value_size is the caller's buffer size; it must be the map's
 * value_buffer_size (per-CPU maps: one 8-aligned slot per possible CPU).
 * -ENOENT when the key is absent. */
int coolbpf_map_lookup(struct coolbpf *c, const char *map, const void *key, void *value, size_t value_size, uint64_t flags);
/* flags: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2, BPF_F_LOCK 4 */
int coolbpf_map_update(struct coolbpf *c, const char *map, const void *key, const void *value, size_t value_size, uint64_t flags);
int coolbpf_map_delete(struct coolbpf *c, const char *map, const void *key);
/* key NULL: the first key. -ENOENT after the last. */
int coolbpf_map_next_key(struct coolbpf *c, const char *map, const void *key, void *next_key);
/* Batch lookup (BPF_MAP_LOOKUP_BATCH). *count: in, room in keys/values;
 * out, entries returned. in_batch NULL starts from the beginning; out_batch
 * receives the cursor (key_size bytes, or 8 for hash maps: pass a buffer of
 * max(key_size, 8)). Returns 1 when this was the last batch, 0 when more
 * remain, -EOPNOTSUPP where the kernel or map type lacks batch ops. */
int coolbpf_map_lookup_batch(struct coolbpf *c, const char *map, const void *in_batch, void *out_batch, void *keys,
			     void *values, uint32_t *count);

/* ---- data sections ---------------------------------------------------------- */

/* The contents of a data section: before load, its initial image (writable);
 * after load, the memory-mapped map itself (.bss, .data and custom ones live;
 * .rodata is frozen and mapped read-only). NULL if there is no such section
 * or it is not mappable. */
void *coolbpf_data(struct coolbpf *c, const char *section, size_t *size);

/* ---- events ----------------------------------------------------------------- */

/* Each record in a batch: this header, then `size` bytes of data, then
 * padding to a multiple of 8 bytes. */
struct coolbpf_record {
	uint32_t size;
	uint32_t cpu;         /* perf buffers: the CPU it came from; ring buffers: 0 */
};

/* A reader for a ringbuf map or a perf_event_array map (perf_pages per CPU,
 * a power of two; 0 for the default of 64). After load. */
struct coolbpf_events *coolbpf_events_open(struct coolbpf *c, const char *map, size_t perf_pages);
/* An fd that becomes readable (epoll, poll, select) when records are waiting. */
int coolbpf_events_fd(struct coolbpf_events *e);
/* Copies whole records into buf until it is full or none are left; waits up
 * to timeout_ms (0: do not wait, -1: forever) when none are waiting. Returns
 * the bytes written (0 on timeout) or a negative errno. A record larger than
 * `size` returns -ENOSPC and stays queued. */
int64_t coolbpf_events_read(struct coolbpf_events *e, void *buf, size_t size, int timeout_ms);
/* Records delivered so far, and (perf buffers) samples the kernel dropped. */
void coolbpf_events_stats(struct coolbpf_events *e, uint64_t *records, uint64_t *lost);
void coolbpf_events_close(struct coolbpf_events *e);

#ifdef __cplusplus
}
#endif

#endif /* COOLBPF_H */
