// SPDX-License-Identifier: Apache-2.0
/*
 * Arena addressing with a fixed start: map_extra = 0x100100000000, 16 pages,
 * no arena globals. Covers the full user addresses the kfuncs return, the
 * fact that only the low 32 bits of an arena pointer select memory, the
 * guard areas around the 4 GiB kernel window (no wrap-around of the
 * instruction offset), both address-space casts, 32-bit arithmetic on arena
 * pointers, spilling them, and sign-extending loads from the arena.
 * The user-space start's high word is 0x1001 = 4097 and its low word 0, so
 * page k has the user address 0x100100000000 + k * 4096.
 * Every test frees the arena's pages before returning.
 */
#include "bpfarena.h"

#define ARENA_BASE 0x100100000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, ARENA_BASE);
} arena SEC(".maps");

#define NPAGES 16
#define PG(base, k) ((char __arena *)(base) + (k) * PAGE_SIZE)
#define VU64(p) (*(volatile __u64 __arena *)(p))

volatile __u64 out;

static __always_inline void __arena *alloc(void __arena *at, __u32 cnt)
{
	return bpf_arena_alloc_pages(&arena, at, cnt, NUMA_NO_NODE, 0);
}

/*
 * A program is tied to the arena only if it refers to the map; tests that
 * use casts but no kfunc or global refer to it with this.
 */
#define USE_ARENA() asm volatile("" :: "r"(&arena))

static __always_inline void release(void)
{
	bpf_arena_free_pages(&arena, (void __arena *)ARENA_BASE, NPAGES);
}

/* --- addresses --- */

SEC("syscall")
__success __retval(4097)
__description("the first page is at map_extra: high word 0x1001")
int addr_first_page_high(void *ctx)
{
	void __arena *p = alloc(NULL, 1);
	int ret = p ? (int)((__u64)p >> 32) : -1;

	release();
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("the first page is exactly at map_extra")
int addr_first_page_exact(void *ctx)
{
	void __arena *p = alloc(NULL, 1);
	int ret = (__u64)p == ARENA_BASE;

	release();
	return ret;
}

SEC("syscall")
__success __retval(4096)
__description("the second page's low word is 0x1000")
int addr_second_page_low(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b = alloc(NULL, 1);
	int ret = (a && b) ? (int)(__u32)(__u64)b : -1;

	release();
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("an exact placement given with other high bits lands on the page its low word names")
int addr_exact_low_word(void *ctx)
{
	void __arena *p = alloc((void __arena *)0x700000005000ULL, 1);
	int ret = (__u64)p == ARENA_BASE + 5 * PAGE_SIZE;

	release();
	return ret;
}

/* --- only the low 32 bits select memory --- */

SEC("syscall")
__success __retval(13980)
__description("pointers differing only in the high word reach the same memory")
int addr_high_word_ignored(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 s;

	if (!a)
		return -1;
	VU64(a) = 0x1234;
	s = VU64((__u64)a + (1ULL << 32));
	s += VU64((__u64)a - (1ULL << 32));
	s += VU64((__u64)a ^ (0xabcdULL << 32));
	release();
	return s;
}

SEC("syscall")
__success __retval(66)
__description("a store through a pointer with another high word is visible at the real address")
int addr_store_other_high_word(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	__u64 v;

	if (!a)
		return -1;
	VU64((__u64)PG(a, 1) + (5ULL << 32)) = 66;
	v = VU64(PG(a, 1));
	release();
	return v;
}

/* --- guards: the instruction offset is added after the 32-bit truncation --- */

SEC("syscall")
__success __retval(1000)
__description("offsets below the window's start land in the lower guard")
int guard_below(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 p = (__u64)a, v1, v2;

	if (!a)
		return -1;
	VU64(a) = 5;
	asm volatile("%[p] = addr_space_cast(%[p], 0x0, 0x1)\n"
		     "*(u64 *)(%[p] - 16) = 3\n"
		     "%[v1] = *(u64 *)(%[p] - 8)\n"
		     "%[v2] = *(u8 *)(%[p] - 32768)\n"
		     : [v1] "=&r"(v1), [v2] "=&r"(v2), [p] "+r"(p));
	release();
	return 1000 + v1 + v2;
}

SEC("syscall")
__success __retval(1000)
__description("a pointer at 0xfffffff8 plus offset 16 lands in the upper guard, not on page 0")
int guard_above_no_wrap(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 p, v1, v2;

	if (!a)
		return -1;
	VU64(PG(a, 0) + 8) = 0x77;
	p = (__u64)a - 8;		/* low word 0xfffffff8 */
	asm volatile("%[p] = addr_space_cast(%[p], 0x0, 0x1)\n"
		     "%[v1] = *(u64 *)(%[p] + 16)\n"
		     "*(u64 *)(%[p] + 32) = 9\n"
		     "%[v2] = *(u8 *)(%[p] + 32767)\n"
		     : [v1] "=&r"(v1), [v2] "=&r"(v2), [p] "+r"(p));
	v1 += VU64(PG(a, 0) + 24);	/* the store above did not wrap either */
	release();
	return 1000 + v1 + v2;
}

SEC("syscall")
__success __retval(119)
__description("arithmetic on an arena pointer (unlike the offset) wraps at 4 GiB: 0xfffffff8 + 16 is page 0 + 8")
int pointer_math_wraps(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 p, v;

	if (!a)
		return -1;
	VU64(PG(a, 0) + 8) = 0x77;
	p = (__u64)a - 8;		/* low word 0xfffffff8 */
	asm volatile("%[p] = addr_space_cast(%[p], 0x0, 0x1)\n"
		     "%[p] += 16\n"
		     "%[v] = *(u64 *)(%[p] + 0)\n"
		     : [v] "=&r"(v), [p] "+r"(p));
	release();
	return v;
}

/* --- casts --- */

SEC("syscall")
__success __retval(4101096)
__description("cast to address space 0 keeps the low word; back to 1 adds the start's high word")
int cast_round_trip(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	__u64 r;

	if (!a)
		return -1;
	r = (__u64)PG(a, 1);
	asm volatile("%[r] = addr_space_cast(%[r], 0x0, 0x1)\n"
		     "%[r] = addr_space_cast(%[r], 0x1, 0x0)\n"
		     : [r] "+r"(r));
	release();
	return (r >> 32) * 1000 + (__u32)r;
}

SEC("syscall")
__success __retval(4096)
__description("cast to address space 0 gives the low word only")
int cast_kern_low_word(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	__u64 r;

	if (!a)
		return -1;
	r = (__u64)PG(a, 1);
	asm volatile("%[r] = addr_space_cast(%[r], 0x0, 0x1)\n" : [r] "+r"(r));
	out = r;
	release();
	return (out >> 32) * 1000 + (__u32)out;
}

SEC("syscall")
__success __retval(7)
__description("cast of 0 to address space 1 stays 0")
int cast_user_zero(void *ctx)
{
	__u64 r = 0;
	USE_ARENA();

	asm volatile("%[r] = addr_space_cast(%[r], 0x1, 0x0)\n" : [r] "+r"(r));
	return r + 7;
}

SEC("syscall")
__success __retval(4101096)
__description("cast to address space 1 replaces the high word by the start's")
int cast_user_replaces_high_word(void *ctx)
{
	__u64 r = 0xdead00001000ULL;
	USE_ARENA();

	asm volatile("%[r] = addr_space_cast(%[r], 0x1, 0x0)\n" : [r] "+r"(r));
	return (r >> 32) * 1000 + (__u32)r;
}

/* --- arithmetic on arena pointers is 32-bit --- */

SEC("syscall")
__success __retval(4096)
__description("64-bit add on an arena pointer is done in 32 bits")
int arena_ptr_add_is_32bit(void *ctx)
{
	__u64 r = 0x1000, big = 1ULL << 32;
	USE_ARENA();

	asm volatile("%[r] = addr_space_cast(%[r], 0x0, 0x1)\n"
		     "%[r] += %[big]\n"
		     : [r] "+r"(r) : [big] "r"(big));
	out = r;
	return (out >> 32) * 1000 + (__u32)out;
}

SEC("syscall")
__success __retval(-4096)
__description("64-bit sub on an arena pointer wraps in 32 bits")
int arena_ptr_sub_wraps_32bit(void *ctx)
{
	__u64 r = 0x1000;
	USE_ARENA();

	asm volatile("%[r] = addr_space_cast(%[r], 0x0, 0x1)\n"
		     "%[r] -= 0x2000\n"
		     : [r] "+r"(r));
	out = r;
	return (out >> 32) * 1000 + (__u32)out;
}

/* --- spilling an arena pointer keeps it an arena pointer --- */

SEC("syscall")
__success __retval(55)
__description("an arena pointer spilled to the stack and filled back can be dereferenced")
__naked int arena_ptr_spill(void)
{
	asm volatile(
	"r1 = %[arena] ll\n"
	"r2 = 0\n"
	"r3 = 1\n"
	"r4 = -1\n"
	"r5 = 0\n"
	"call %[alloc]\n"
	"if r0 == 0 goto 1f\n"
	"r6 = r0\n"
	"r1 = addr_space_cast(r0, 0x0, 0x1)\n"
	"*(u64 *)(r1 + 0) = 55\n"
	"*(u64 *)(r10 - 8) = r1\n"
	"r1 = 0\n"
	"r2 = *(u64 *)(r10 - 8)\n"
	"r7 = *(u64 *)(r2 + 0)\n"
	"r1 = %[arena] ll\n"
	"r2 = r6\n"
	"r3 = 1\n"
	"call %[free]\n"
	"r0 = r7\n"
	"exit\n"
	"1:\n"
	"r0 = -1\n"
	"exit\n"
	:: [arena] "i"(&arena), [alloc] "i"(bpf_arena_alloc_pages),
	   [free] "i"(bpf_arena_free_pages));
}

/* --- sign-extending loads from the arena --- */

#define LDSX_TEST(name, ret, st, ld, post)                                    \
	SEC("syscall") __success __retval(ret) __kernel_min(6.18)            \
	int name(void *ctx)                                                  \
	{                                                                    \
		void __arena *a = alloc(NULL, 1);                            \
		__u64 p = (__u64)a;                                          \
		__s64 v;                                                     \
                                                                             \
		if (!a)                                                      \
			return -1000;                                        \
		asm volatile("%[p] = addr_space_cast(%[p], 0x0, 0x1)\n"      \
			     st "\n" ld "\n" post "\n"                       \
			     : [v] "=&r"(v), [p] "+r"(p));                   \
		release();                                                   \
		return v;                                                    \
	}

LDSX_TEST(arena_ldsx8, -128,
	  "*(u8 *)(%[p] + 0) = 128", "%[v] = *(s8 *)(%[p] + 0)", "")
LDSX_TEST(arena_ldsx16, -32768,
	  "*(u16 *)(%[p] + 2) = 32768", "%[v] = *(s16 *)(%[p] + 2)", "")
LDSX_TEST(arena_ldsx32_high_word, -1,
	  "*(u32 *)(%[p] + 4) = -2147483648", "%[v] = *(s32 *)(%[p] + 4)", "%[v] >>= 32")
LDSX_TEST(arena_ldsx8_positive, 127,
	  "*(u8 *)(%[p] + 0) = 127", "%[v] = *(s8 *)(%[p] + 0)", "")
/* a sign-extending load from an absent page gives 0 */
LDSX_TEST(arena_ldsx_absent, 0,
	  "", "%[v] = *(s8 *)(%[p] + 4096)", "")

/* Linux 6.12 refuses sign-extending loads from the arena after verifying */
SEC("syscall")
__failure __msg("sign extending loads from arena are not supported yet") __kernel_max(6.12)
int arena_ldsx_refused(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 p = (__u64)a;
	__s64 v;

	if (!a)
		return -1000;
	asm volatile("%[p] = addr_space_cast(%[p], 0x0, 0x1)\n"
		     "%[v] = *(s8 *)(%[p] + 0)\n"
		     : [v] "=&r"(v), [p] "+r"(p));
	release();
	return v;
}

char _license[] SEC("license") = "GPL";
