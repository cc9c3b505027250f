// SPDX-License-Identifier: GPL-2.0
// Ring buffer benchmark: one 64-byte record per getppid() of one process.
//
// The producer (a child of the consumer) calls syscall(SYS_getppid) N times;
// every call by that tgid reserves a record {seq, payload}, so the consumer
// can check it saw every record once (sum of seq = N(N-1)/2). Reserve
// failures are counted in .bss, so a lost record is never silent.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <coolbpf.bpf.h>

#define PAYLOAD 56

struct record {
	__u64 seq;
	__u8 payload[PAYLOAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

/* the ring buffer's records, for the typed wrappers (consumer-node.mjs) */
COOLBPF_EVENT(events, struct record);

/* set before load: the producer's pid */
const volatile __u32 producer_tgid = 0;
__u64 produced = 0; /* records submitted */
__u64 dropped = 0;  /* bpf_ringbuf_reserve failures */

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != producer_tgid)
		return 0;
	struct record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	/* one producer thread: plain increments are enough */
	__u64 seq = produced++;
	r->seq = seq;
	for (int i = 0; i < PAYLOAD; i += 8)
		*(__u64 *)&r->payload[i] = seq ^ (__u64)i;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
