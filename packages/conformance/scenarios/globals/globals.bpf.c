// SPDX-License-Identifier: GPL-2.0
// globals: .rodata of every scalar kind (set before load), .data written
// live by the test and read by BPF, a custom data section, and .bss. On
// every getppid(2) of the test process, gl_copy copies each .rodata value
// into its .bss mirror (m_*), and what it reads of .data and .data.custom
// into *_seen, so the test reads back what BPF saw.
#include "../include/conformance.bpf.h"

enum gl_color { GL_RED = 1, GL_GREEN = 2, GL_NEG = -7 };
enum gl_wide { GL_WIDE_SMALL = 1, GL_WIDE_BIG = 0x123456789ULL };

struct gl_point {
	__s32 x;
	__s32 y;
};

struct gl_config {
	__u16 id;
	struct gl_point origin;
	__u8 flags[3];
	char name[8];
	struct gl_point path[2];
	enum gl_color color;
};

/* read-only after load; the values here are the defaults */
const volatile __u8 r_u8 = 200;
const volatile __s8 r_s8 = -100;
const volatile __u16 r_u16 = 65000;
const volatile __s16 r_s16 = -30000;
const volatile __u32 r_u32 = 4000000000U;
const volatile __s32 r_s32 = -2000000000;
const volatile __u64 r_u64 = 0xfedcba9876543210ULL;
const volatile __s64 r_s64 = -81985529216486895LL;
const volatile bool r_bool = true;
const volatile char r_name[16] = "default";
const volatile enum gl_color r_color = GL_GREEN;
const volatile enum gl_wide r_wide = GL_WIDE_BIG;
const volatile float r_f32 = 1.5f;
const volatile double r_f64 = -2.25;
const volatile struct gl_config r_cfg = {
	.id = 7, .origin = { -1, 1 }, .flags = { 1, 2, 3 }, .name = "cfg",
	.path = { { 10, 20 }, { -30, -40 } }, .color = GL_NEG,
};
const volatile __u32 r_arr[4] = { 1, 2, 3, 4 };
const volatile __s16 r_grid[2][3] = { { -1, -2, -3 }, { 4, 5, 6 } };

/* .bss: what gl_copy saw */
__u8 m_u8;
__s8 m_s8;
__u16 m_u16;
__s16 m_s16;
__u32 m_u32;
__s32 m_s32;
__u64 m_u64;
__s64 m_s64;
bool m_bool;
char m_name[16];
enum gl_color m_color;
enum gl_wide m_wide;
float m_f32;
double m_f64;
struct gl_config m_cfg;
__u32 m_arr[4];
__s16 m_grid[2][3];
__u64 live_seen;
__u64 custom_seen;
__u64 copies;
/* set only through the options' initial .bss values */
__u64 b_initial;

/* .data: the test writes live_in while loaded; BPF counts in d_counter */
__u64 live_in = 5;
__u64 d_counter = 100;

/* a custom data section */
__u64 custom_in SEC(".data.custom") = 42;
__u32 custom_hits SEC(".data.custom") = 0;

/*
 * Copies a const volatile global byte by byte through a volatile pointer:
 * a plain memcpy from it would let clang fold in the C initializer, and BPF
 * would never see the value the test set before load.
 */
#define COPY(dst, src)							\
	do {								\
		const volatile __u8 *s_ = (const volatile __u8 *)&(src);	\
		__u8 *d_ = (__u8 *)&(dst);				\
		_Pragma("unroll")					\
		for (int i_ = 0; i_ < (int)sizeof(dst); i_++)		\
			d_[i_] = s_[i_];				\
	} while (0)

SEC(TRIGGER)
int gl_copy(void *ctx)
{
	if (!mine())
		return 0;
	m_u8 = r_u8;
	m_s8 = r_s8;
	m_u16 = r_u16;
	m_s16 = r_s16;
	m_u32 = r_u32;
	m_s32 = r_s32;
	m_u64 = r_u64;
	m_s64 = r_s64;
	m_bool = r_bool;
	COPY(m_name, r_name);
	m_color = r_color;
	m_wide = r_wide;
	COPY(m_f32, r_f32);
	COPY(m_f64, r_f64);
	COPY(m_cfg, r_cfg);
	COPY(m_arr, r_arr);
	COPY(m_grid, r_grid);
	live_seen = live_in;
	custom_seen = custom_in;
	__sync_fetch_and_add(&d_counter, 1);
	__sync_fetch_and_add(&custom_hits, 1);
	__sync_fetch_and_add(&copies, 1);
	return 0;
}
