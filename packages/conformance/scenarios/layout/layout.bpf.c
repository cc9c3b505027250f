// SPDX-License-Identifier: GPL-2.0
// layout: the types whose memory layout is easy to get wrong (after
// packages/fixtures/bpf/layout.bpf.c): bitfields of every width, signed,
// straddling byte and 32-bit boundaries, 64-bit and in packed structs;
// packed structs; unions, named and anonymous; anonymous struct members;
// multi-dimensional arrays; char arrays; floats; enums, negative and 64-bit.
//
// On every getppid(2) of the test process, lt_echo
// - copies the C-initialized .data global lt_all_data into lt_all_map[0];
// - reads every bitfield of lt_bits_in[0] and writes it as a plain integer
//   into lt_plain_out[0];
// - reads every plain integer of lt_plain_in[0] and writes it into the
//   matching bitfield of lt_bits_out[0];
// so the test can check the wrapper's bitfields against the C compiler's
// in both directions.
#include "../include/conformance.bpf.h"
#include "layout.types.h"

#define ARRAY_OF(name, T)				\
	struct {					\
		__uint(type, BPF_MAP_TYPE_ARRAY);	\
		__uint(max_entries, 1);			\
		__type(key, __u32);			\
		__type(value, T);			\
	} name SEC(".maps")

ARRAY_OF(lt_all_map, struct lt_all);
ARRAY_OF(lt_bits_in, struct lt_bitset);
ARRAY_OF(lt_plain_out, struct lt_plainset);
ARRAY_OF(lt_plain_in, struct lt_plainset);
ARRAY_OF(lt_bits_out, struct lt_bitset);

/* Initialized in C: the test decodes it and compares with expect.json. */
struct lt_all lt_all_data = {
	.bits = { .a = 1, .b = 5, .c = 17, .d = -60, .e = 0xabcde, .f = 2, .g = 301, .h = -7, .i = -1000,
		  .j = 0xfedcba9876ULL, .k = -4294967296LL, .l = 0x8877665544332211ULL, .mode = LT_AUTO,
		  .smode = LT_NEG, .flag = 1, .after = 0xa5 },
	.packed_bits = { .head = 0x5a, .wide = 0xf0e0d0c0b0a0908ULL, .tail = 9 },
	.contains_packed = { .kind = 3, .p = { .tag = 1, .value = 0x1122334455667788ULL, .port = 80 }, .after = 0xdeadbeef },
	.aligned = { .a = 1, .b = 2, .c = 3 },
	.anon = { .family = 10, .ipv6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		  .x = 7, .y = 9, .named = { .raw = 0x0102030405060708ULL } },
	.mid = { .deep = { { .x = -1, .y = 2 }, { .x = 300, .y = 255 } }, .n = 42 },
	.arrays = {
		.m = { { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10, 11, 12 } },
		       { { 13, 14, 15, 16 }, { 17, 18, 19, 20 }, { 21, 22, 23, 0xffffffff } } },
		.comm = "layout",
		.names = { "first", "second" },
		.grid = { { -1, -2, -3, -4, -5 }, { 32767, -32768, 0, 1, 2 } },
		.raw = { { 1, 2, 3 }, { 253, 254, 255 } },
		.pts = { { -3, 1 }, { 0, 0 }, { 3, 200 } },
	},
	.floats = { .f = 1.5f, .d = -2.25, .fa = { 0.5f, -0.125f } },
	.enums = { .mode = LT_ON, .smode = LT_NEG, .wide = LT_WIDE_HIGH, .wneg = LT_WN_MIN },
	.last = 0xee,
};

/* The ladders initialized near their limits (top bit and bit 0 set; signed ones negative). */
#define U_FULL(w) .u##w = (1ULL << (w - 1)) | 1ULL,
#define S_FULL(w) .s##w = w == 1 ? -1LL : -(1LL << (w - 2)) - 1,
struct lt_ladder_u lt_ladder_u_data = { LADDER(U_FULL) };
struct lt_ladder_s lt_ladder_s_data = { LADDER(S_FULL) };

#define B_TO_P(f) p->bits.f = b->bits.f;
#define PK_TO_P(f) p->packed.f = b->packed.f;
#define U_TO_P(w) p->lu.u##w = b->lu.u##w;
#define S_TO_P(w) p->ls.s##w = b->ls.s##w;
#define P_TO_B(f) o->bits.f = q->bits.f;
#define P_TO_PK(f) o->packed.f = q->packed.f;
#define P_TO_U(w) o->lu.u##w = q->lu.u##w;
#define P_TO_S(w) o->ls.s##w = q->ls.s##w;
#define BITS_FIELDS(X) X(a) X(b) X(c) X(d) X(e) X(f) X(g) X(h) X(i) X(j) X(k) X(l) X(mode) X(smode) X(flag) X(after)
#define PACKED_FIELDS(X) X(head) X(wide) X(tail)

SEC(TRIGGER)
int lt_echo(void *ctx)
{
	__u32 zero = 0;
	struct lt_all *all;
	struct lt_bitset *b, *o;
	struct lt_plainset *p, *q;

	if (!mine())
		return 0;
	all = bpf_map_lookup_elem(&lt_all_map, &zero);
	if (all)
		__builtin_memcpy(all, &lt_all_data, sizeof(*all));

	b = bpf_map_lookup_elem(&lt_bits_in, &zero);
	p = bpf_map_lookup_elem(&lt_plain_out, &zero);
	if (b && p) {
		BITS_FIELDS(B_TO_P)
		PACKED_FIELDS(PK_TO_P)
		LADDER(U_TO_P)
		LADDER(S_TO_P)
	}
	q = bpf_map_lookup_elem(&lt_plain_in, &zero);
	o = bpf_map_lookup_elem(&lt_bits_out, &zero);
	if (q && o) {
		BITS_FIELDS(P_TO_B)
		PACKED_FIELDS(P_TO_PK)
		LADDER(P_TO_U)
		LADDER(P_TO_S)
	}
	return 0;
}
