// SPDX-License-Identifier: GPL-2.0
// hello: reports every exec with its pid and command, counts execs per
// command, and can be limited to one uid (a read-only setting).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <coolbpf.bpf.h>

#define COMM_LEN 16

struct event {
	__u64 ts_ns;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	char comm[COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[COMM_LEN]);
	__type(value, __u64);
} exec_counts SEC(".maps");

/* the ring buffer's records, for the typed wrappers */
COOLBPF_EVENT(events, struct event);

/* -1: every uid */
const volatile __s64 only_uid = -1;
__u64 dropped = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	if (only_uid >= 0 && uid != (__u32)only_uid)
		return 0;

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = uid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	__u64 one = 1, *n = bpf_map_lookup_elem(&exec_counts, e->comm);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&exec_counts, e->comm, &one, BPF_NOEXIST);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
