// SPDX-License-Identifier: GPL-2.0
// net-observe: an application's TCP conversations seen through its syscalls,
// without touching the application. Connections are keyed by (pid, fd) and
// learnt at accept/connect, or, for sockets made before we attached, from the
// fd's struct file -> struct socket -> struct sock. Per connection: the
// 5-tuple, pid and comm, bytes and calls in each direction, requests (a
// request is the data in the request direction until the first data back)
// and a histogram of their latencies, and the protocol seen in the first
// bytes (HTTP/1.x, Redis RESP). Counters live in the `conns` map; the ring
// buffer `events` carries connection open/close. Latencies are counted in
// the map too, not sent one by one: a record per request through a ring
// buffer, and the reader decoding it, cost the watched server more than all
// the rest of the tracing (docs/BENCHMARKS.md).
//
// Only the exits of the data syscalls are traced: a syscall's arguments are
// still in the registers it was entered with (the task's pt_regs) when it
// returns, so one program per syscall reads both the arguments and the
// result, and nothing is kept per thread between enter and exit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <coolbpf.bpf.h>

#define NO_AF_INET 2
#define NO_AF_INET6 10
#define NO_TCP 6
#define NO_SOCK_STREAM 1
#define NO_S_IFMT 0170000
#define NO_S_IFSOCK 0140000
#define NO_EINPROGRESS 115
#define SNIFF_LEN 16
/* latency histogram: 4 slots per power of two of the latency in units of
 * 1024 ns (1.024 us), the last one open-ended: see lat_slot() */
#define LAT_SLOTS 104

/* direction of data, as the observed process sees it */
enum no_dir { DIR_NONE = 0, DIR_IN = 1, DIR_OUT = 2 };
/* which end of the connection the observed process is */
enum no_role { ROLE_UNKNOWN = 0, ROLE_SERVER = 1, ROLE_CLIENT = 2 };
enum no_proto { PROTO_UNKNOWN = 0, PROTO_HTTP = 1, PROTO_REDIS = 2 };
enum no_kind { EV_OPEN = 1, EV_CLOSE = 3 };
/* where the data buffer of a syscall is */
enum no_buf_kind { BUF_PLAIN = 0, BUF_IOVEC = 1, BUF_MSGHDR = 2 };

struct conn_key {
	__u32 pid;
	__u32 fd;
};

struct conn {
	__u8 saddr[16];	/* local address (IPv4: the first 4 bytes) */
	__u8 daddr[16];	/* peer address */
	__u16 sport;	/* local port */
	__u16 dport;	/* peer port */
	__u16 family;	/* AF_INET or AF_INET6 */
	__u8 role;	/* enum role */
	__u8 proto;	/* enum proto */
	__u32 pid;
	__u32 fd;
	char comm[16];
	__u64 bytes_in;
	__u64 bytes_out;
	__u64 calls_in;
	__u64 calls_out;
	__u64 requests;
	__u64 latency_sum_ns;
	__u32 latency_hist[LAT_SLOTS];	/* requests by latency: lat_slot() */
	/* pairing state */
	__u64 req_start_ns;
	__u8 last_dir;
	__u8 req_dir;
	__u8 pending;
	__u8 sniffed;
	__u8 ignored;	/* not a TCP socket, or filtered out by port */
	__u8 pad[3];
};

/* a connection opened or closed (ring buffer `events`) */
struct event {
	__u32 kind;	/* EV_OPEN or EV_CLOSE */
	__u32 pad;
	__u64 ts_ns;
	struct conn conn;	/* the connection's counters after this event */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

COOLBPF_EVENT(events, struct event);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, struct conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} scratch SEC(".maps");

/* 0: every process */
const volatile __u32 target_pid = 0;
/* 0: every port; else only connections with this local or peer port */
const volatile __u16 target_port = 0;

__u64 dropped = 0;

static __always_inline bool wanted(__u64 id)
{
	return !target_pid || (__u32)(id >> 32) == target_pid;
}

static __always_inline void emit(struct conn *c, __u32 kind, __u64 now)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return;
	}
	e->kind = kind;
	e->pad = 0;
	e->ts_ns = now;
	__builtin_memcpy(&e->conn, c, sizeof(e->conn));
	bpf_ringbuf_submit(e, 0);
}

/* The histogram slot of a latency: with u = ns / 1024, u itself below 4,
 * else 4 slots per power of two: slot 4(e-1) + the two bits after u's
 * leading one, e = floor(log2 u). A slot spans at most a quarter of its
 * lower bound; the last (u >= 7 * 2^24, ~120 s) takes everything above. */
static __always_inline __u32 lat_slot(__u64 ns)
{
	__u64 u = ns >> 10;
	if (u < 4)
		return u;
	if (u >= (7ULL << 24))
		return LAT_SLOTS - 1;
	__u32 e = 0, s;
	__u32 v = u;
	s = (v >= (1U << 16)) << 4; v >>= s; e |= s;
	s = (v >= (1U << 8)) << 3; v >>= s; e |= s;
	s = (v >= (1U << 4)) << 2; v >>= s; e |= s;
	s = (v >= (1U << 2)) << 1; v >>= s; e |= s;
	e |= v >= 2;
	return 4 * (e - 1) + ((u >> (e - 2)) & 3);
}

/* Fills c's addresses from the fd's socket; false when fd is not a TCP socket. */
static __always_inline bool resolve(struct conn *c, __u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return false;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return false;
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & NO_S_IFMT) != NO_S_IFSOCK)
		return false;
	struct socket *sock = (struct socket *)BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != NO_SOCK_STREAM)
		return false;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != NO_TCP)
		return false;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == NO_AF_INET) {
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(c->saddr, &s, 4);
		__builtin_memcpy(c->daddr, &d, 4);
	} else if (family == NO_AF_INET6) {
		BPF_CORE_READ_INTO(&c->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c->daddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return false;
	}
	c->family = family;
	c->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return true;
}

/* The connection of (pid, fd), made when unknown (or when fresh: at accept
 * and connect, whose fd may have been something else before). NULL when the
 * fd is not tracked. */
static struct conn *conn_of(__u64 id, __u32 fd, __u8 role, bool fresh, __u64 now)
{
	struct conn_key key = { .pid = id >> 32, .fd = fd };
	struct conn *c;
	if (!fresh) {
		c = bpf_map_lookup_elem(&conns, &key);
		if (c)
			return c->ignored ? NULL : c;
	}
	__u32 zero = 0;
	c = bpf_map_lookup_elem(&scratch, &zero);
	if (!c)
		return NULL;
	__builtin_memset(c, 0, sizeof(*c));
	c->pid = key.pid;
	c->fd = fd;
	c->role = role;
	if (!resolve(c, fd) ||
	    (target_port && c->sport != target_port && c->dport != target_port)) {
		c->ignored = 1;
		bpf_map_update_elem(&conns, &key, c, BPF_ANY);
		return NULL;
	}
	bpf_get_current_comm(c->comm, sizeof(c->comm));
	bpf_map_update_elem(&conns, &key, c, BPF_ANY);
	c = bpf_map_lookup_elem(&conns, &key);
	if (c)
		emit(c, EV_OPEN, now);
	return c;
}

static __always_inline __u8 classify(const char *b, long n)
{
	if (n >= 4 && (b[0] == 'G' && b[1] == 'E' && b[2] == 'T' && b[3] == ' '))
		return PROTO_HTTP;
	if (n >= 5 && (b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' '))
		return PROTO_HTTP;
	if (n >= 4 && (b[0] == 'P' && b[1] == 'U' && b[2] == 'T' && b[3] == ' '))
		return PROTO_HTTP;
	if (n >= 5 && (b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' '))
		return PROTO_HTTP;
	if (n >= 7 && (b[0] == 'D' && b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' &&
		       b[5] == 'E' && b[6] == ' '))
		return PROTO_HTTP;
	if (n >= 7 && (b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' &&
		       b[5] == '1' && b[6] == '.'))
		return PROTO_HTTP;
	if (n >= 2 && b[0] == '*' && b[1] >= '0' && b[1] <= '9')
		return PROTO_REDIS;
	if (n >= 2 && (b[0] == '+' || b[0] == '-' || b[0] == ':' || b[0] == '$'))
		return PROTO_REDIS;
	return PROTO_UNKNOWN;
}

static __always_inline void sniff(struct conn *c, __u64 buf, __u32 buf_kind, long ret)
{
	__u64 ptr = buf;
	__u64 len = ret;
	if (buf_kind == BUF_MSGHDR) {
		struct user_msghdr m;
		if (bpf_probe_read_user(&m, sizeof(m), (void *)ptr))
			return;
		ptr = (__u64)m.msg_iov;
	}
	if (buf_kind != BUF_PLAIN) {
		struct iovec iov;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)ptr))
			return;
		ptr = (__u64)iov.iov_base;
		if (iov.iov_len < len)
			len = iov.iov_len;
	}
	char b[SNIFF_LEN] = {};
	__u32 n = len > SNIFF_LEN ? SNIFF_LEN : (__u32)len;
	if (n == 0 || n > SNIFF_LEN)
		return;
	if (bpf_probe_read_user(b, n, (void *)ptr))
		return;
	c->proto = classify(b, n);
}

static __always_inline void account(struct conn *c, __u64 buf, __u32 buf_kind, __u8 dir, long ret, __u64 now)
{
	if (!c->sniffed) {
		c->sniffed = 1;
		sniff(c, buf, buf_kind, ret);
	}
	if (!c->req_dir)
		c->req_dir = c->role == ROLE_SERVER ? DIR_IN : c->role == ROLE_CLIENT ? DIR_OUT : dir;
	if (dir == DIR_IN) {
		c->bytes_in += ret;
		c->calls_in++;
	} else {
		c->bytes_out += ret;
		c->calls_out++;
	}
	if (dir == c->req_dir) {
		if (c->last_dir != dir) {
			c->req_start_ns = now;
			c->pending = 1;
		}
	} else if (c->pending) {
		__u64 latency = now - c->req_start_ns;
		c->pending = 0;
		c->requests++;
		c->latency_sum_ns += latency;
		__u64 slot = lat_slot(latency);
		/* keeps clang from checking one copy of slot and indexing with
		 * another, which the verifier cannot follow */
		asm volatile("" : "+r"(slot));
		if (slot < LAT_SLOTS)
			c->latency_hist[slot]++;
	}
	c->last_dir = dir;
}

/* The registers the current task entered its syscall with. */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline int on_data_exit(long ret, __u8 dir, __u32 buf_kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!wanted(id) || ret <= 0)
		return 0;
	struct pt_regs *regs = syscall_regs();
	__u32 fd = PT_REGS_PARM1_SYSCALL(regs);
	__u64 buf = PT_REGS_PARM2_SYSCALL(regs);
	__u64 now = bpf_ktime_get_ns();
	struct conn *c = conn_of(id, fd, ROLE_UNKNOWN, false, now);
	if (c)
		account(c, buf, buf_kind, dir, ret, now);
	return 0;
}

#define DATA_SYSCALL(name, dir, buf_kind)                                \
	SEC("tp/syscalls/sys_exit_" #name)                               \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)            \
	{                                                                \
		return on_data_exit(ctx->ret, dir, buf_kind);            \
	}

DATA_SYSCALL(read, DIR_IN, BUF_PLAIN)
DATA_SYSCALL(write, DIR_OUT, BUF_PLAIN)
DATA_SYSCALL(readv, DIR_IN, BUF_IOVEC)
DATA_SYSCALL(writev, DIR_OUT, BUF_IOVEC)
DATA_SYSCALL(recvfrom, DIR_IN, BUF_PLAIN)
DATA_SYSCALL(sendto, DIR_OUT, BUF_PLAIN)
DATA_SYSCALL(recvmsg, DIR_IN, BUF_MSGHDR)
DATA_SYSCALL(sendmsg, DIR_OUT, BUF_MSGHDR)

SEC("tp/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (wanted(id) && (ctx->ret == 0 || ctx->ret == -NO_EINPROGRESS))
		conn_of(id, (__u32)PT_REGS_PARM1_SYSCALL(syscall_regs()), ROLE_CLIENT, true, bpf_ktime_get_ns());
	return 0;
}

static __always_inline int on_accept_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (wanted(id) && ret >= 0)
		conn_of(id, (__u32)ret, ROLE_SERVER, true, bpf_ktime_get_ns());
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!wanted(id))
		return 0;
	struct conn_key key = { .pid = id >> 32, .fd = (__u32)ctx->args[0] };
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	if (!c->ignored)
		emit(c, EV_CLOSE, bpf_ktime_get_ns());
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
