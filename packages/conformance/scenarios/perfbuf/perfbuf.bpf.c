// SPDX-License-Identifier: GPL-2.0
// perfbuf: on every getppid(2) of the test process, pb_emit sends one
// struct pb_event through a perf event array, into the buffer of the CPU
// it runs on. Its fields are computed from the event's sequence number
// (0, 1, 2, … per load), so the test knows every field's exact value; pid,
// tid, comm and cpu come from the kernel.
#include "../include/conformance.bpf.h"

enum pb_kind { PB_BEGIN = 1, PB_MIDDLE = 2, PB_NEG = -5 };

struct pb_point {
	__s16 x;
	__u16 y;
};

struct pb_event {
	__u64 seq;
	__u8 u8;
	__s8 s8;
	__u16 u16;
	__s16 s16;
	__u32 u32;
	__s32 s32;
	__u64 u64;
	__s64 s64;
	bool flag;
	char comm[16];
	enum pb_kind kind;
	__u32 arr[3];
	struct pb_point pt;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb_events SEC(".maps");
COOLBPF_EVENT(pb_events, struct pb_event);

/* events sent, and events the full perf buffer refused */
__u64 sent = 0;
__u64 dropped = 0;

SEC(TRIGGER)
int pb_emit(void *ctx)
{
	struct pb_event ev, *e = &ev;
	__u64 n, id;

	if (!mine())
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	n = __sync_fetch_and_add(&sent, 1);
	id = bpf_get_current_pid_tgid();
	e->seq = n;
	e->u8 = 200 + n;
	e->s8 = -100 - (__s64)n;
	e->u16 = 60000 + n;
	e->s16 = -30000 - (__s64)n;
	e->u32 = 4000000000U + n;
	e->s32 = -2000000000 - (__s64)n;
	e->u64 = 0xfedcba9876543210ULL + n;
	e->s64 = -(1LL << 40) - (__s64)n;
	e->flag = n & 1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->kind = n % 3 == 0 ? PB_BEGIN : n % 3 == 1 ? PB_MIDDLE : PB_NEG;
	e->arr[0] = n;
	e->arr[1] = n * 2;
	e->arr[2] = n * 3;
	e->pt.x = -(__s64)n;
	e->pt.y = n + 1;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->cpu = bpf_get_smp_processor_id();
	if (bpf_perf_event_output(ctx, &pb_events, BPF_F_CURRENT_CPU, e, sizeof(*e)))
		__sync_fetch_and_add(&dropped, 1);
	return 0;
}
