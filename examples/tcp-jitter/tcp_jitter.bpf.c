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
#include <coolbpf.bpf.h>

#define COMM_LEN 16
#define HIST_SLOTS 32
#define AF_INET 2
#define AF_INET6 10

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

/* per socket (see SOCKET_KEY); LRU, so closed sockets' entries age out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

/* slot i > 0 counts delays of 2^i to 2^(i+1)-1 microseconds, slot 0 those under 2 us */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
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

static __always_inline __u32 log2_slot(__u64 us)
{
	__u32 slot = 0;
	/* floor(log2(us)) for us >= 1, bounded for the verifier */
	for (int i = 0; i < HIST_SLOTS - 1; i++) {
		if (us <= 1)
			break;
		us >>= 1;
		slot++;
	}
	return slot;
}

/* The socket's cookie (unique, never reused, so an entry left by a socket
 * that closed unread can never be taken for a new one's); its address on
 * kernels whose tracepoints have no cookie. */
#define SOCKET_KEY(ctx) \
	(bpf_core_field_exists((ctx)->sock_cookie) ? (ctx)->sock_cookie : (__u64)(ctx)->skaddr)

SEC("tp/tcp/tcp_probe")
int on_tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	if (ctx->data_len == 0)
		return 0;
	if (!port_ok(ctx->sport, ctx->dport))
		return 0;
	__u64 key = SOCKET_KEY(ctx);
	__u64 now = bpf_ktime_get_ns();
	__u32 cpu = bpf_get_smp_processor_id();
	/* An entry stays for the socket's life (until LRU eviction), 0 when
	 * nothing is unread: a segment costs a lookup, not an insert. */
	struct pending *p = bpf_map_lookup_elem(&pending, &key);
	if (!p) {
		struct pending first = { .queued_ns = now, .cpu = cpu };
		bpf_map_update_elem(&pending, &key, &first, BPF_NOEXIST);
		return 0;
	}
	/* older data still unread: keep its time */
	if (p->queued_ns == 0 && __sync_val_compare_and_swap(&p->queued_ns, 0, now) == 0)
		p->cpu = cpu;
	return 0;
}

SEC("tp/tcp/tcp_rcv_space_adjust")
int on_rcv_space_adjust(struct trace_event_raw_tcp_event_sk *ctx)
{
	__u64 key = SOCKET_KEY(ctx);
	struct pending *p = bpf_map_lookup_elem(&pending, &key);
	if (!p || p->queued_ns == 0)
		return 0;
	__u32 queue_cpu = p->cpu;
	/* take the time, leaving 0: the next segment starts a new wait */
	__u64 queued = __sync_lock_test_and_set(&p->queued_ns, 0);
	if (queued == 0)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 delay = now > queued ? now - queued : 0;

	__u32 slot = log2_slot(delay / 1000);
	__u64 *count = bpf_map_lookup_elem(&delay_hist, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);

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
	e->family = ctx->family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	/* addresses from the socket itself (the tracepoint's copies sit at
	 * offsets a tracepoint context cannot be read at in one access) */
	struct sock *s = (struct sock *)ctx->skaddr;
	if (ctx->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, s, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->daddr, s, __sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, s, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, s, __sk_common.skc_daddr);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
