// SPDX-License-Identifier: GPL-2.0
// maps: one map of each common kind, used from both sides. The test
// creates, reads, updates and deletes entries; on every getppid(2) of the
// test process, mp_count updates them from BPF, so the test can see that
// both sides agree on keys (struct keys with padding included) and values.
#include "../include/conformance.bpf.h"

/* 7 bytes of fields and one byte of tail padding */
struct mp_flow_key {
	__u32 addr;
	__u16 port;
	__u8 proto;
};

struct mp_flow_stats {
	__u64 packets;
	__u64 bytes;
	char label[8];
	__s32 delta;
};

struct mp_cpu_tally {
	__u64 count;
	__u32 cpu;
};

/* the LPM trie's key: a prefix length, then the address */
struct mp_lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mp_flow_key);
	__type(value, struct mp_flow_stats);
} mp_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} mp_small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} mp_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mp_pcpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct mp_cpu_tally);
} mp_pcpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u64);
	__type(value, __u64);
} mp_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mp_lpm_key);
	__type(value, __u32);
} mp_lpm SEC(".maps");

/* triggers seen, counted from 0 */
__u64 triggers = 0;

/* the entry of mp_flows the test creates and BPF updates */
#define FLOW_ADDR 0x0a000001
#define FLOW_PORT 8080
#define FLOW_PROTO 6
#define PCPU_HASH_KEY 7

SEC(TRIGGER)
int mp_count(void *ctx)
{
	struct mp_flow_key key;
	struct mp_flow_stats *st;
	struct mp_cpu_tally *t, first = {};
	__u64 n, *v, lru_value;
	__u32 idx, zero = 0, pkey = PCPU_HASH_KEY;

	if (!mine())
		return 0;
	n = __sync_fetch_and_add(&triggers, 1);

	/* the struct key, padding zeroed as the test's must be too */
	__builtin_memset(&key, 0, sizeof(key));
	key.addr = FLOW_ADDR;
	key.port = FLOW_PORT;
	key.proto = FLOW_PROTO;
	st = bpf_map_lookup_elem(&mp_flows, &key);
	if (st) {
		__sync_fetch_and_add(&st->packets, 1);
		__sync_fetch_and_add(&st->bytes, 100);
		st->delta -= 1;
	}

	/* array: trigger n counts in slot n % 4 */
	idx = n % 4;
	v = bpf_map_lookup_elem(&mp_array, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);

	/* per-CPU: each CPU counts the triggers it ran */
	v = bpf_map_lookup_elem(&mp_pcpu_array, &zero);
	if (v)
		*v += 1;
	t = bpf_map_lookup_elem(&mp_pcpu_hash, &pkey);
	if (t) {
		t->count += 1;
		t->cpu = bpf_get_smp_processor_id();
	} else {
		first.count = 1;
		first.cpu = bpf_get_smp_processor_id();
		bpf_map_update_elem(&mp_pcpu_hash, &pkey, &first, BPF_NOEXIST);
	}

	/* lru: key 1000 + n, value n * n */
	key.addr = 0;
	lru_value = n * n;
	n += 1000;
	bpf_map_update_elem(&mp_lru, &n, &lru_value, BPF_ANY);
	return 0;
}
