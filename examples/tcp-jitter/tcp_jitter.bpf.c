// SPDX-License-Identifier: GPL-2.0
// tcp-jitter: finds applications that read TCP data late.
//
// Receiving has two phases: the kernel queues a segment on the socket
// (tcp/tcp_probe, in tcp_rcv_established), then the application copies it out
// (tcp/tcp_rcv_space_adjust, from tcp_recvmsg). Per socket we remember when
// unread data was first queued and on which CPU; when the application reads,
// the time since then goes into a log2 histogram (microseconds) and, at or
// above the threshold, becomes an event naming the reader.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <coolbpf.bpf.h>

#define COMM_LEN 16
#define HIST_SLOTS 32
#define AF_INET 2
#define AF_INET6 10
#define TCPHDR_FIN 0x01

struct event {
	__u64 ts_ns;      /* bpf_ktime_get_ns() at the read */
	__u64 delay_ns;   /* from the first unread segment queued to the read */
	__u32 pid;        /* the reader's process */
	__u32 queue_cpu;  /* CPU that queued the first unread segment */
	__u32 read_cpu;   /* CPU the application read on */
	__u16 family;     /* AF_INET or AF_INET6 */
	__u16 sport;      /* local port (the reader's side) */
	__u16 dport;      /* remote port */
	__u8 saddr[16];   /* local address: 4 bytes for AF_INET */
	__u8 daddr[16];   /* remote address */
	char comm[COMM_LEN];
};

/* when a socket's unread data was first queued (0: nothing unread) */
struct pending {
	__u64 queued_ns;
	__u32 cpu;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* per socket, in the socket itself (socket local storage): found through the
 * socket's own pointer, no hash lookup, and gone with the socket */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pending SEC(".maps");

/* slot i > 0 counts delays of 2^i to 2^(i+1)-1 microseconds, slot 0 those
 * under 2 us; per CPU, so counting is a plain increment (readers add the CPUs
 * up) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} delay_hist SEC(".maps");

COOLBPF_EVENT(events, struct event);

/* report reads this late or later */
const volatile __u64 threshold_ns = 100ULL * 1000 * 1000;
/* 0: every socket; else only sockets with this local or remote port */
const volatile __u16 filter_port = 0;

__u64 dropped = 0;

static __always_inline bool port_ok(__u16 sport, __u16 dport)
{
	return filter_port == 0 || sport == filter_port || dport == filter_port;
}

/* floor(log2(us)) (0 for us < 2), capped at the last slot: five halvings
 * of the range instead of a loop of up to 31 shifts */
static __always_inline __u32 log2_slot(__u64 us)
{
	__u32 slot = 0, s;
	s = (us >= (1ULL << 32)) << 5; us >>= s; slot |= s;
	s = (us >= (1ULL << 16)) << 4; us >>= s; slot |= s;
	s = (us >= (1ULL << 8)) << 3; us >>= s; slot |= s;
	s = (us >= (1ULL << 4)) << 2; us >>= s; slot |= s;
	s = (us >= (1ULL << 2)) << 1; us >>= s; slot |= s;
	slot |= us >= 2;
	return slot < HIST_SLOTS ? slot : HIST_SLOTS - 1;
}

/* Both tracepoints are attached as BTF tracepoints (tp_btf): the program
 * gets the kernel's own arguments (the socket, the segment) and the kernel
 * skips building the tracepoint's record, which for tcp_probe (a dozen
 * fields, two socket addresses) cost more than the program on every
 * segment. */
static __always_inline bool ports_ok(const struct sock *sk)
{
	return filter_port == 0 || port_ok(sk->__sk_common.skc_num, bpf_ntohs(sk->__sk_common.skc_dport));
}

/* Payload bytes of a segment in tcp_rcv_established, from the control block
 * TCP filled in on receipt (struct tcp_skb_cb in skb->cb): end_seq - seq is
 * the payload, plus one for a FIN. Loaded straight from the skb, which the
 * verifier knows by its BTF: no probe_read of the header. tcp_flags is a u16
 * in newer kernels, a u8 in older ones. */
static __always_inline __u32 payload_len(const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = (const void *)skb->cb;
	const void *fl = (const void *)skb->cb + bpf_core_field_offset(struct tcp_skb_cb, tcp_flags);
	__u16 flags = bpf_core_field_size(struct tcp_skb_cb, tcp_flags) == 2 ? *(const __u16 *)fl : *(const __u8 *)fl;
	return cb->end_seq - cb->seq - (flags & TCPHDR_FIN);
}

/* The two programs never run at once for one socket: tcp_rcv_established
 * runs in softirq under the socket's spinlock only while no task owns the
 * socket (otherwise the segment waits on the backlog until release_sock),
 * and the reads that reach tcp_rcv_space_adjust own it. So the pending
 * state needs plain loads and stores, no atomics. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(on_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	if (payload_len(skb) == 0)
		return 0;
	if (!ports_ok(sk))
		return 0;
	/* made zeroed on the socket's first data segment, then kept for its
	 * life, 0 when nothing is unread */
	struct pending *p = bpf_sk_storage_get(&pending, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!p || p->queued_ns != 0)
		return 0; /* older data still unread: keep its time */
	p->queued_ns = bpf_ktime_get_ns();
	p->cpu = bpf_get_smp_processor_id();
	return 0;
}

SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(on_rcv_space_adjust, struct sock *sk)
{
	struct pending *p = bpf_sk_storage_get(&pending, sk, 0, 0);
	if (!p || p->queued_ns == 0)
		return 0;
	__u64 queued = p->queued_ns;
	__u32 queue_cpu = p->cpu;
	p->queued_ns = 0; /* the next segment starts a new wait */
	__u64 now = bpf_ktime_get_ns();
	__u64 delay = now > queued ? now - queued : 0;
	__u32 slot = log2_slot(delay / 1000);
	__u64 *count = bpf_map_lookup_elem(&delay_hist, &slot);
	if (count)
		(*count)++;
	if (delay < threshold_ns)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->delay_ns = delay;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->queue_cpu = queue_cpu;
	e->read_cpu = bpf_get_smp_processor_id();
	e->family = sk->__sk_common.skc_family;
	e->sport = sk->__sk_common.skc_num;
	e->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sk, __sk_common.skc_daddr);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
