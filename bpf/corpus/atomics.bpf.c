// SPDX-License-Identifier: Apache-2.0
/*
 * Atomic instructions on arena memory, on the stack and on map values.
 * On arena memory the x86-64 JIT has no fetching and/or/xor: the verifier
 * refuses those (failure tests at the end); everything else works there.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

__u64 __arena_global a64;
__u32 __arena_global a32;
__u32 __arena_global a32_next;
__u64 m64;
__u32 m32;

/* --- arena --- */

SEC("syscall")
__success __retval(105)
int arena_add(void *ctx)
{
	a64 = 100;
	__sync_fetch_and_add(&a64, 5);
	return a64;
}

SEC("syscall")
__success __retval(100110)
int arena_fetch_add(void *ctx)
{
	__u64 old;

	a64 = 100;
	old = __sync_fetch_and_add(&a64, 10);
	return old * 1000 + a64;
}

/* 0xf0 & 0x3c = 0x30, | 0x03 = 0x33, ^ 0xff = 0xcc */
SEC("syscall")
__success __retval(204)
int arena_and_or_xor(void *ctx)
{
	a64 = 0xf0;
	__sync_fetch_and_and(&a64, 0x3c);
	__sync_fetch_and_or(&a64, 0x03);
	__sync_fetch_and_xor(&a64, 0xff);
	return a64;
}

SEC("syscall")
__success __retval(79)
int arena_xchg(void *ctx)
{
	__u64 old;

	a64 = 7;
	old = __atomic_exchange_n(&a64, 9, __ATOMIC_SEQ_CST);
	return old * 10 + a64;
}

/* 7 -> 8 succeeds (returns 7), 7 -> 9 fails (returns 8) */
SEC("syscall")
__success __retval(788)
int arena_cmpxchg(void *ctx)
{
	__u64 r1, r2;

	a64 = 7;
	r1 = __sync_val_compare_and_swap(&a64, 7, 8);
	r2 = __sync_val_compare_and_swap(&a64, 7, 9);
	return r1 * 100 + r2 * 10 + a64;
}

/* a 32-bit add wraps in 32 bits and leaves the next word alone */
SEC("syscall")
__success __retval(1005)
int arena_add32_wraps(void *ctx)
{
	a32 = 0xffffffff;
	a32_next = 5;
	__sync_fetch_and_add(&a32, 2);
	return a32 * 1000 + a32_next;
}

SEC("syscall")
__success __retval(788)
int arena_cmpxchg32(void *ctx)
{
	__u32 r1, r2;

	a32 = 7;
	r1 = __sync_val_compare_and_swap(&a32, 7, 8);
	r2 = __sync_val_compare_and_swap(&a32, 7, 9);
	return r1 * 100 + r2 * 10 + a32;
}

SEC("syscall")
__success __retval(79)
int arena_xchg32(void *ctx)
{
	__u32 old;

	a32 = 7;
	old = __atomic_exchange_n(&a32, 9, __ATOMIC_SEQ_CST);
	return old * 10 + a32;
}

SEC("syscall")
__success __retval(30)
int arena_fetch_add32(void *ctx)
{
	__u32 old;

	a32 = 10;
	old = __sync_fetch_and_add(&a32, 10);
	return old + a32;
}

/* --- stack and map values: every form --- */

/*
 * u = 0xf0: fetch_and 0x3c (old 0xf0), fetch_or 0x03 (old 0x30),
 * fetch_xor 0xff (old 0x33); u = 0xcc. 204 + 240 + 48 + 51 = 543.
 */
#define FETCH_BITS(p)                                                   \
	({                                                              \
		__u64 __o = 0;                                          \
		*(p) = 0xf0;                                            \
		__o += __sync_fetch_and_and((p), 0x3c);                 \
		__o += __sync_fetch_and_or((p), 0x03);                  \
		__o += __sync_fetch_and_xor((p), 0xff);                 \
		__o + *(p);                                             \
	})

SEC("syscall")
__success __retval(543)
int stack_fetch_bits(void *ctx)
{
	volatile __u64 v;

	return FETCH_BITS(&v);
}

SEC("syscall")
__success __retval(543)
int stack_fetch_bits32(void *ctx)
{
	volatile __u32 v;

	return FETCH_BITS(&v);
}

SEC("syscall")
__success __retval(543)
int map_fetch_bits(void *ctx)
{
	return FETCH_BITS(&m64);
}

SEC("syscall")
__success __retval(543)
int map_fetch_bits32(void *ctx)
{
	return FETCH_BITS(&m32);
}

SEC("syscall")
__success __retval(788)
int map_cmpxchg(void *ctx)
{
	__u64 r1, r2;

	m64 = 7;
	r1 = __sync_val_compare_and_swap(&m64, 7, 8);
	r2 = __sync_val_compare_and_swap(&m64, 7, 9);
	return r1 * 100 + r2 * 10 + m64;
}

SEC("syscall")
__success __retval(100110)
int stack_fetch_add(void *ctx)
{
	volatile __u64 v = 100;
	__u64 old;

	old = __sync_fetch_and_add(&v, 10);
	return old * 1000 + v;
}

SEC("syscall")
__success __retval(79)
int stack_xchg32(void *ctx)
{
	volatile __u32 v = 7;
	__u32 old;

	old = __atomic_exchange_n(&v, 9, __ATOMIC_SEQ_CST);
	return old * 10 + v;
}

/* --- refused on arena memory --- */

#define ARENA_ATOMIC_FAIL(name, insn)                                        \
	SEC("syscall")                                                       \
	__failure __msg("BPF_ATOMIC stores into R1 arena is not allowed")    \
	__naked int name(void)                                               \
	{                                                                    \
		asm volatile("r1 = %[g] ll\n"                                \
			     "r1 = addr_space_cast(r1, 0x0, 0x1)\n"          \
			     "r2 = 1\n"                                      \
			     insn "\n"                                       \
			     "r0 = 0\n"                                      \
			     "exit\n"                                        \
			     :: [g] "i"(&a64));                              \
	}

ARENA_ATOMIC_FAIL(arena_fetch_and_refused, "r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)")
ARENA_ATOMIC_FAIL(arena_fetch_or_refused, "r2 = atomic_fetch_or((u64 *)(r1 + 0), r2)")
ARENA_ATOMIC_FAIL(arena_fetch_xor_refused, "r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)")
ARENA_ATOMIC_FAIL(arena_fetch_and32_refused, "w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)")
ARENA_ATOMIC_FAIL(arena_fetch_or32_refused, "w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)")
ARENA_ATOMIC_FAIL(arena_fetch_xor32_refused, "w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)")

/* the same from C: the compiler picks the register */
SEC("syscall")
__failure __regex("BPF_ATOMIC stores into R[0-9] arena is not allowed")
int arena_fetch_and_from_c(void *ctx)
{
	return __sync_fetch_and_and(&a64, 3);
}

char _license[] SEC("license") = "GPL";
