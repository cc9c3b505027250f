// SPDX-License-Identifier: GPL-2.0
// errors: programs that fail on purpose, off unless the test turns their
// autoload on (SEC("?…")): one the verifier rejects, one whose tracepoint
// does not exist, an fentry program (refused by some kernels). er_ok and a
// hash map keep the object usable for the map errors, and er_manual is
// there to be attached explicitly to a tracepoint that does not exist.
#include "../include/conformance.bpf.h"
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} er_kv SEC(".maps");

__u64 ok_hits = 0;
__u64 fentry_hits = 0;

SEC(TRIGGER)
int er_ok(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&ok_hits, 1);
	return 0;
}

SEC("tracepoint")
int er_manual(void *ctx)
{
	return 0;
}

/* the verifier rejects it: the lookup's result may be NULL */
SEC("?" TRIGGER)
int er_bad(void *ctx)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&er_kv, &key);

	*v += 1;
	return 0;
}

/* loads, but attaching fails: there is no such tracepoint */
SEC("?tp/syscalls/sys_enter_no_such_syscall")
int er_no_tp(void *ctx)
{
	return 0;
}

/* getppid(2) calls __task_pid_nr_ns() (so do other calls: at least one per getppid) */
SEC("?fentry/__task_pid_nr_ns")
int BPF_PROG(er_fentry)
{
	if (mine())
		__sync_fetch_and_add(&fentry_hits, 1);
	return 0;
}
