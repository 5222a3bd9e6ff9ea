/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the page-rule tests (arena_absent, arena_alloc, arena_free,
 * arena_reserve): an arena of NPAGES pages with no globals, the page kfuncs
 * wrapped, and ways to name pages relative to a base.
 */
#ifndef BPFARENA_CORPUS_PAGES_H
#define BPFARENA_CORPUS_PAGES_H

#include "bpfarena.h"

#ifndef NPAGES
#define NPAGES 8
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EINVAL
#define EINVAL 22
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NPAGES);
} arena SEC(".maps");

/* Page k after base, and the page index of p relative to base. */
#define PG(base, k) ((char __arena *)(base) + (k) * PAGE_SIZE)
#define IDX(base, p) ((int)(((__u64)(p) - (__u64)(base)) >> PAGE_SHIFT))
/* Volatile accesses, so every read and write reaches the arena. */
#define VINT(p) (*(volatile int __arena *)(p))
#define VU64(p) (*(volatile __u64 __arena *)(p))
#define VU8(p) (*(volatile __u8 __arena *)(p))

static __always_inline void __arena *alloc(void __arena *at, __u32 cnt)
{
	return bpf_arena_alloc_pages(&arena, at, cnt, NUMA_NO_NODE, 0);
}

/* Every test ends by freeing the whole arena from its first page. */
static __always_inline void release(void __arena *base)
{
	bpf_arena_free_pages(&arena, base, NPAGES);
}

static __always_inline int reserve(void __arena *at, __u32 cnt)
{
	return bpf_arena_reserve_pages(&arena, at, cnt);
}

#endif
