/* The coolbpf ABI resolved with dlopen/dlsym, the way language wrappers
 * reach it, so the tests exercise exactly what they will. */
#ifndef RT_ABI_H
#define RT_ABI_H
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "coolbpf.h"

#define RT_ABI_FUNCS(X)                                                                                        \
	X(abi_version) X(object_sha256) X(object_data) X(last_error) X(last_errno) X(open) X(set_initial)      \
	X(set_autoload) X(load) X(attach) X(init) X(destroy) X(attach_uprobe) X(attach_kprobe)                 \
	X(attach_tracepoint) X(attach_raw_tracepoint) X(attach_xdp) X(attach_tc) X(attach_cgroup)              \
	X(attach_perf_event) X(detach) X(num_possible_cpus) X(map_info) X(map_fd) X(map_lookup) X(map_update) \
	X(map_delete) X(map_next_key) X(map_lookup_batch) X(data) X(events_open) X(events_fd) X(events_read)  \
	X(events_stats) X(events_close)

struct rt_abi {
#define RT_FIELD(name) __typeof__(coolbpf_##name) *name;
	RT_ABI_FUNCS(RT_FIELD)
#undef RT_FIELD
};

static inline void rt_abi_load(struct rt_abi *abi, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		exit(2);
	}
#define RT_SYM(name)                                                                   \
	if (!(abi->name = (__typeof__(abi->name))dlsym(h, "coolbpf_" #name))) {        \
		fprintf(stderr, "%s: no symbol coolbpf_%s\n", path, #name);             \
		exit(2);                                                               \
	}
	RT_ABI_FUNCS(RT_SYM)
#undef RT_SYM
}
#endif
