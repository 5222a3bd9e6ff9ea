// SPDX-License-Identifier: Apache-2.0
/*
 * Atomic instructions on arena memory, on the stack and on a map value
 * (a .bss global).
 *
 * On arena memory the x86-64 JIT has no fetching and/or/xor, and the
 * verifier refuses them there ("BPF_ATOMIC stores into R1 arena is not
 * allowed"), so arena_ops uses the non-fetching and/or/xor and every other
 * form; stack_ops and map_ops use every form, fetching and/or/xor included.
 * Each program starts from the same value, so results do not depend on how
 * often it ran:
 *
 *   v = 100
 *   add 5             (no fetch)          v = 105
 *   fetch_add 10      old1 = 105          v = 115
 *   and 0xff          (no fetch)          v = 115
 *   or 0x100          (no fetch)          v = 371
 *   xor 3             (no fetch)          v = 368
 *   xchg 1000         old2 = 368          v = 1000
 *   cmpxchg 1000->2000  old3 = 1000       v = 2000
 *   cmpxchg 1->3000     old4 = 2000       v = 2000 (no exchange)
 *   result = v + old1 + old2 + old3 + old4 = 5473
 * and on a 32-bit word w = 7:
 *   fetch_add 3 (old 7) -> 10, xchg 20 (old 10) -> 20, cmpxchg 20->30 (old 20) -> 30
 *   result32 = w + olds = 30 + 7 + 10 + 20 = 67
 * stack_ops and map_ops then also do, on u = 0xf0:
 *   fetch_and 0x3c (old 0xf0) -> 0x30, fetch_or 0x03 (old 0x30) -> 0x33,
 *   fetch_xor 0xff (old 0x33) -> 0xcc;  extra = u + olds = 204 + 240 + 48 + 51 = 543
 *
 * Returns: arena_ops 5473 + 67 = 5540; stack_ops and map_ops 5540 + 543 = 6083.
 * The final values stay in the globals (arena64 = 2000, arena32 = 30,
 * map64 = 2000, map32 = 30, mapbits = 0xcc).
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
} arena SEC(".maps");

__u64 __arena_global arena64;
__u32 __arena_global arena32;
__u64 map64;
__u32 map32;
__u64 mapbits;

#define OPS64(p)                                                        \
	({                                                              \
		__u64 __o = 0;                                          \
		*(p) = 100;                                             \
		__sync_fetch_and_add((p), 5);                           \
		__o += __sync_fetch_and_add((p), 10);                   \
		__sync_fetch_and_and((p), 0xff);                        \
		__sync_fetch_and_or((p), 0x100);                        \
		__sync_fetch_and_xor((p), 3);                           \
		__o += __atomic_exchange_n((p), 1000, __ATOMIC_SEQ_CST); \
		__o += __sync_val_compare_and_swap((p), 1000, 2000);    \
		__o += __sync_val_compare_and_swap((p), 1, 3000);       \
		__o + *(p);                                             \
	})

#define OPS32(p)                                                        \
	({                                                              \
		__u32 __o = 0;                                          \
		*(p) = 7;                                               \
		__o += __sync_fetch_and_add((p), 3);                    \
		__o += __atomic_exchange_n((p), 20, __ATOMIC_SEQ_CST);  \
		__o += __sync_val_compare_and_swap((p), 20, 30);        \
		__o + *(p);                                             \
	})

#define OPSBITS(p)                                                      \
	({                                                              \
		__u64 __o = 0;                                          \
		*(p) = 0xf0;                                            \
		__o += __sync_fetch_and_and((p), 0x3c);                 \
		__o += __sync_fetch_and_or((p), 0x03);                  \
		__o += __sync_fetch_and_xor((p), 0xff);                 \
		__o + *(p);                                             \
	})

SEC("syscall")
int arena_ops(void *ctx)
{
	return OPS64(&arena64) + OPS32(&arena32);
}

SEC("syscall")
int stack_ops(void *ctx)
{
	volatile __u64 s64;
	volatile __u32 s32;
	volatile __u64 bits;

	return OPS64(&s64) + OPS32(&s32) + OPSBITS(&bits);
}

SEC("syscall")
int map_ops(void *ctx)
{
	return OPS64(&map64) + OPS32(&map32) + OPSBITS(&mapbits);
}

char _license[] SEC("license") = "GPL";
