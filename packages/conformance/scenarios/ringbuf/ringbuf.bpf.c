// SPDX-License-Identifier: GPL-2.0
// ringbuf: on every getppid(2) of the test process, rb_emit sends one
// struct rb_event through a ring buffer. Its fields are computed from the
// event's sequence number (0, 1, 2, … per load), so the test knows every
// field's exact value; pid, tid, comm and cpu come from the kernel.
#include "../include/conformance.bpf.h"

enum rb_kind { RB_BEGIN = 1, RB_MIDDLE = 2, RB_NEG = -5 };

struct rb_point {
	__s16 x;
	__u16 y;
};

struct rb_event {
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
	enum rb_kind kind;
	__u32 arr[3];
	struct rb_point pt;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb_events SEC(".maps");
COOLBPF_EVENT(rb_events, struct rb_event);

/* events sent, and events the full ring buffer refused */
__u64 sent = 0;
__u64 dropped = 0;

SEC(TRIGGER)
int rb_emit(void *ctx)
{
	struct rb_event *e;
	__u64 n, id;

	if (!mine())
		return 0;
	e = bpf_ringbuf_reserve(&rb_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
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
	e->kind = n % 3 == 0 ? RB_BEGIN : n % 3 == 1 ? RB_MIDDLE : RB_NEG;
	e->arr[0] = n;
	e->arr[1] = n * 2;
	e->arr[2] = n * 3;
	e->pt.x = -(__s64)n;
	e->pt.y = n + 1;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->cpu = bpf_get_smp_processor_id();
	bpf_ringbuf_submit(e, 0);
	return 0;
}
