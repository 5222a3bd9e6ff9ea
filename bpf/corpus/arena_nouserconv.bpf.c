// SPDX-License-Identifier: Apache-2.0
/*
 * An arena with BPF_F_NO_USER_CONV: casting to address space 1 keeps only
 * the low 32 bits (no user-space high word is added). Everything else is
 * as usual: the kfuncs return full user addresses and memory works.
 * map_extra = 0x100200000000 (high word 0x1002 = 4098), 16 pages, no globals.
 */
#include "bpfarena.h"

#define ARENA_BASE 0x100200000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_NO_USER_CONV);
	__uint(max_entries, 16);
	__ulong(map_extra, ARENA_BASE);
} arena SEC(".maps");

#define NPAGES 16
#define PG(base, k) ((char __arena *)(base) + (k) * PAGE_SIZE)

/*
 * A program is tied to the arena only if it refers to the map; tests that
 * use casts but no kfunc or global refer to it with this.
 */
#define USE_ARENA() asm volatile("" :: "r"(&arena))

static __always_inline void release(void)
{
	bpf_arena_free_pages(&arena, (void __arena *)ARENA_BASE, NPAGES);
}

SEC("syscall")
__success __retval(4096)
__description("round trip through both casts leaves only the low word")
int nuc_cast_round_trip(void *ctx)
{
	void __arena *a = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);
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
__description("cast to address space 1 of a scalar keeps its low word only")
int nuc_cast_user_low_word(void *ctx)
{
	__u64 r = 0xdead00001000ULL;
	USE_ARENA();

	asm volatile("%[r] = addr_space_cast(%[r], 0x1, 0x0)\n" : [r] "+r"(r));
	return (r >> 32) * 1000 + (__u32)r;
}

SEC("syscall")
__success __retval(7)
int nuc_cast_user_zero(void *ctx)
{
	__u64 r = 0;
	USE_ARENA();

	asm volatile("%[r] = addr_space_cast(%[r], 0x1, 0x0)\n" : [r] "+r"(r));
	return r + 7;
}

SEC("syscall")
__success __retval(4098)
__description("bpf_arena_alloc_pages still returns a full user address")
int nuc_alloc_full_address(void *ctx)
{
	void __arena *a = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	int ret = a ? (int)((__u64)a >> 32) : -1;

	release();
	return ret;
}

struct cell {
	struct cell __arena *next;
	int v;
};

SEC("syscall")
__success __retval(35)
__description("a small linked structure used only by BPF")
int nuc_heap_use(void *ctx)
{
	struct cell __arena *c, *head = NULL;
	int i, s = 0;

	c = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!c)
		return -1;
	for (i = 0; i < 5; i++) {
		c[i].v = i * 2 + 3;
		c[i].next = head;
		head = &c[i];
	}
	for (i = 0; i < 10 && head; i++) {
		s += head->v;
		head = head->next;
	}
	release();
	return s;
}

char _license[] SEC("license") = "GPL";
