/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The layout scenario's types, apart so that the test can compile them on
 * the host too (with <linux/types.h>) and compare the C compiler's layout of
 * the source types with the generated code's. No includes: the includer
 * provides __u8 … __s64.
 */
#ifndef LAYOUT_TYPES_H
#define LAYOUT_TYPES_H

enum lt_mode { LT_OFF = 0, LT_ON = 1, LT_AUTO = 5 };
enum lt_signed { LT_NEG = -2, LT_POS = 1 };
enum lt_wide { LT_WIDE_LOW = 1, LT_WIDE_HIGH = 0xfedcba9876543210ULL };
enum lt_wide_neg { LT_WN_MIN = -0x7fffffffffffffffLL - 1, LT_WN_ONE = 1 };

struct lt_bits {
	unsigned int a : 1;		/* bit 0 */
	unsigned int b : 3;		/* bits 1..3 */
	unsigned int c : 5;		/* bits 4..8: straddles a byte boundary */
	signed int d : 7;
	unsigned int e : 20;		/* does not fit the first int: moves to bit 32 */
	unsigned int : 0;		/* next field starts a new int */
	unsigned char f : 2;
	unsigned short g : 9;		/* straddles a byte boundary */
	signed char h : 4;
	signed short i : 11;
	unsigned long long j : 40;	/* straddles a 32-bit boundary */
	signed long long k : 33;
	unsigned long long l : 64;
	enum lt_mode mode : 3;
	enum lt_signed smode : 2;
	_Bool flag : 1;
	__u8 after;			/* plain member following bitfields */
};

/* Every width 1..64 in one storage unit type; some must skip ahead. */
#define LADDER(X)								\
	X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)	\
	X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24)	\
	X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32) X(33) X(34) X(35)	\
	X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46)	\
	X(47) X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57)	\
	X(58) X(59) X(60) X(61) X(62) X(63) X(64)

#define U_BITS(w) unsigned long long u##w : w;
#define S_BITS(w) signed long long s##w : w;
#define U_PLAIN(w) __u64 u##w;
#define S_PLAIN(w) __s64 s##w;

struct lt_ladder_u { LADDER(U_BITS) };
struct lt_ladder_s { LADDER(S_BITS) };

/* Packed bitfields may cross any boundary, including a 64-bit one. */
struct lt_packed_bits {
	__u8 head;
	unsigned long long wide : 60;	/* bits 8..67 */
	unsigned int tail : 4;
} __attribute__((packed));

struct lt_packed {
	__u8 tag;
	__u64 value;			/* offset 1 */
	__u16 port;			/* offset 9 */
} __attribute__((packed));

struct lt_contains_packed {
	__u8 kind;
	struct lt_packed p;		/* offset 1: packed => alignment 1 */
	__u32 after;			/* offset 12 */
};

struct lt_aligned {
	__u8 a;
	__u32 b __attribute__((aligned(8)));	/* offset 8, not 4 */
	__u8 c;
};

union lt_named {
	__u64 raw;
	__u32 halves[2];
	__u8 bytes[8];
};

struct lt_anon {
	__u32 family;
	union {
		__u32 ipv4;
		__u8 ipv6[16];
		struct {
			__u16 lo;
			__u16 hi;
		};
	};
	struct {
		__u8 x;
		__u8 y;
	};
	union lt_named named;
};

struct lt_point {
	__s16 x;
	__u8 y;
};

struct lt_arrays {
	__u32 m[2][3][4];
	char comm[16];
	char names[2][8];
	__s16 grid[2][5];
	__u8 raw[2][3];
	struct lt_point pts[3];
};

struct lt_floats {
	float f;
	double d;
	float fa[2];
};

struct lt_enums {
	enum lt_mode mode;
	enum lt_signed smode;
	enum lt_wide wide;
	enum lt_wide_neg wneg;
};

struct lt_all {
	struct lt_bits bits;
	struct lt_packed_bits packed_bits;
	struct lt_contains_packed contains_packed;
	struct lt_aligned aligned;
	struct lt_anon anon;
	struct {
		struct lt_point deep[2];
		__u32 n;
	} mid;
	struct lt_arrays arrays;
	struct lt_floats floats;
	struct lt_enums enums;
	__u8 last;
};

/* Every bitfield kind, to be read and written from both sides. */
struct lt_bitset {
	struct lt_bits bits;
	struct lt_packed_bits packed;
	struct lt_ladder_u lu;
	struct lt_ladder_s ls;
};

/* The same fields as plain integers. */
struct lt_bits_plain {
	__u32 a, b, c;
	__s32 d;
	__u32 e;
	__u8 f;
	__u16 g;
	__s8 h;
	__s16 i;
	__u64 j;
	__s64 k;
	__u64 l;
	__u32 mode;
	__s32 smode;
	__u8 flag;
	__u8 after;
};

struct lt_packed_plain {
	__u8 head;
	__u64 wide;
	__u32 tail;
};

struct lt_ladder_u_plain { LADDER(U_PLAIN) };
struct lt_ladder_s_plain { LADDER(S_PLAIN) };

struct lt_plainset {
	struct lt_bits_plain bits;
	struct lt_packed_plain packed;
	struct lt_ladder_u_plain lu;
	struct lt_ladder_s_plain ls;
};

#endif
