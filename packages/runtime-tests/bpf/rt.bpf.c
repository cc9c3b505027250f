// SPDX-License-Identifier: GPL-2.0
// The bpf.so runtime's test object: one program per attach kind the test
// machine supports, each reporting through a ring buffer (and the tracepoint
// also through a perf buffer), a hash map for CRUD, a per-CPU counter, a
// read-only config and live counters. Programs marked "?" are off unless a
// test turns them on: they fail on purpose (verifier, attach, fentry).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <coolbpf.bpf.h>

/* x86-64 syscall numbers, the ones the test process triggers */
#define NR_GETPGID 121
#define NR_GETSID 124

enum kind { KIND_TP = 1, KIND_TP_BTF = 2, KIND_RAW_TP = 3, KIND_UPROBE = 4, KIND_FENTRY = 5 };

struct rt_event {
	__u32 kind;
	__u32 tag;
	__u32 pid;
	__u32 cpu;
	__u64 value;
	__u64 flag;
};

struct kv_value {
	__u64 a;
	__u32 b;
	char name[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rt_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} rt_pevents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct kv_value);
} rt_kv SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rt_pcpu SEC(".maps");

COOLBPF_EVENT(rt_events, struct rt_event);
COOLBPF_EVENT(rt_pevents, struct rt_event);

/* set before load: only this process is reported; events carry the tag */
const volatile __u32 target_tgid = 0;
const volatile __u32 tag = 0;
/* in .data (initialized); written live by the test, copied into events */
__u64 flag = 0x100;
/* read live by the test */
__u64 hits_tp = 0;
__u64 hits_uprobe = 0;

static __always_inline bool mine(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void fill(struct rt_event *e, __u32 kind, __u64 value)
{
	e->kind = kind;
	e->tag = tag;
	e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	e->cpu = bpf_get_smp_processor_id();
	e->value = value;
	e->flag = flag;
}

static __always_inline void emit(__u32 kind, __u64 value)
{
	struct rt_event *e = bpf_ringbuf_reserve(&rt_events, sizeof(*e), 0);
	if (!e)
		return;
	fill(e, kind, value);
	bpf_ringbuf_submit(e, 0);
}

SEC("tp/syscalls/sys_enter_getppid")
int on_tp(void *ctx)
{
	if (!mine())
		return 0;
	__sync_fetch_and_add(&hits_tp, 1);
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&rt_pcpu, &zero);
	if (n)
		*n += 1;
	emit(KIND_TP, 0);
	struct rt_event e = {};
	fill(&e, KIND_TP, 0);
	bpf_perf_event_output(ctx, &rt_pevents, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_tp_btf, struct pt_regs *regs, long id)
{
	if (mine() && id == NR_GETPGID)
		emit(KIND_TP_BTF, id);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine() && ctx->args[1] == NR_GETSID)
		emit(KIND_RAW_TP, ctx->args[1]);
	return 0;
}

/* attached by the test to a function of its own */
SEC("uprobe")
int BPF_KPROBE(on_uprobe, int x)
{
	if (!mine())
		return 0;
	__sync_fetch_and_add(&hits_uprobe, 1);
	emit(KIND_UPROBE, x);
	return 0;
}

SEC("?fentry/__x64_sys_getpgid")
int BPF_PROG(on_fentry)
{
	if (mine())
		emit(KIND_FENTRY, 0);
	return 0;
}

/* rejected by the verifier: the lookup's result may be NULL */
SEC("?tp/syscalls/sys_enter_getppid")
int bad_prog(void *ctx)
{
	__u32 k = 1;
	struct kv_value *v = bpf_map_lookup_elem(&rt_kv, &k);
	return (int)v->a;
}

/* attaches to a tracepoint no kernel has */
SEC("?tp/syscalls/sys_enter_coolbpf_nope")
int missing_tp(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
