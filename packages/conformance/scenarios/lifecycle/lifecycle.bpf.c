// SPDX-License-Identifier: GPL-2.0
// lifecycle: open → set .rodata → load → attach, step by step or all at
// once; programs left out before load; a program attached explicitly and
// detached again; destroy. Every program counts the test process's
// getppid(2) calls in a .bss counter of its own, so the test sees which
// programs ran and how often.
#include "../include/conformance.bpf.h"

/* lc_count: the program attach() attaches (SEC names its tracepoint) */
__u64 count = 0;
/* lc_count also counts here: a map to use after destroy */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lc_hits SEC(".maps");
/* lc_manual: SEC("tracepoint") names no tracepoint: attached only explicitly */
__u64 manual_count = 0;
/* lc_optional: SEC("?…"): loaded only when the test turns autoload on */
__u64 optional_count = 0;

SEC(TRIGGER)
int lc_count(void *ctx)
{
	__u32 zero = 0;
	__u64 *hits;

	if (!mine())
		return 0;
	__sync_fetch_and_add(&count, 1);
	hits = bpf_map_lookup_elem(&lc_hits, &zero);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	return 0;
}

SEC("tracepoint")
int lc_manual(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&manual_count, 1);
	return 0;
}

SEC("?" TRIGGER)
int lc_optional(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&optional_count, 1);
	return 0;
}
