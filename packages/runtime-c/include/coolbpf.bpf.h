/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * coolbpf.bpf.h: annotations for BPF C programs built with coolbpf-gen.
 * `coolbpf-gen build` puts this directory on the include path.
 */
#ifndef COOLBPF_BPF_H
#define COOLBPF_BPF_H

/*
 * Names the type of the records a ring buffer or perf event array carries,
 * so the generated wrappers deliver typed events:
 *
 *     struct { __uint(type, BPF_MAP_TYPE_RINGBUF); ... } events SEC(".maps");
 *     COOLBPF_EVENT(events, struct event);
 *
 * (libbpf rejects __type(value, ...) on ring buffers, and a perf event
 * array's value is the perf event fd.) It declares a static pointer that
 * keeps the type in the object's BTF; wrappers do not expose it.
 */
#define COOLBPF_EVENT(map, type) \
	static type *__coolbpf_event__##map __attribute__((used))

#endif /* COOLBPF_BPF_H */
