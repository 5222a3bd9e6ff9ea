/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfarena_alloc.h - a small object allocator over arena pages.
 *
 * Objects are carved from the current page upwards, 8-byte aligned. The last
 * 8 bytes of every page hold the number of live objects on it; freeing the
 * last one returns the page to the arena. There is one allocation state for
 * the whole object (not one per CPU), so callers must not allocate or free
 * from two CPUs at once (run the programs that use it one at a time).
 * Allocation needs bpf_arena_alloc_pages, so only sleepable programs
 * (SEC("syscall"), ".s" sections) may call bpf_alloc()/bpf_free().
 *
 * Include this header after the arena map's definition; define
 * BPFARENA_ALLOC_MAP to the map's name first if it is not called "arena".
 *
 * Page layout:
 *   [0, used)               objects, in allocation order
 *   [PAGE_SIZE - 8, PAGE_SIZE)  __u64 count of live objects
 */
#ifndef BPFARENA_ALLOC_H
#define BPFARENA_ALLOC_H

#include "bpfarena.h"

#ifndef BPFARENA_ALLOC_MAP
#define BPFARENA_ALLOC_MAP arena
#endif

#define BPFARENA_ALLOC_LIMIT (PAGE_SIZE - 8)

/* The page objects are currently carved from, and the next free offset. */
char __arena *bpfarena_alloc_page;
__u32 bpfarena_alloc_used;

static __always_inline __u64 __arena *bpfarena_page_count(char __arena *page)
{
	return (__u64 __arena *)(page + BPFARENA_ALLOC_LIMIT);
}

/* Allocate size bytes (zeroed on first use of the page); NULL on failure. */
static __always_inline void __arena *bpf_alloc(__u32 size)
{
	char __arena *page = bpfarena_alloc_page;
	__u32 used = bpfarena_alloc_used;
	void __arena *obj;

	size = (size + 7) & ~7U;
	if (size == 0 || size > BPFARENA_ALLOC_LIMIT)
		return NULL;
	if (!page || used + size > BPFARENA_ALLOC_LIMIT) {
		page = bpf_arena_alloc_pages(&BPFARENA_ALLOC_MAP, NULL, 1, NUMA_NO_NODE, 0);
		if (!page)
			return NULL;
		used = 0;
		bpfarena_alloc_page = page;
	}
	cast_kern(page);
	obj = page + used;
	*bpfarena_page_count(page) += 1;
	bpfarena_alloc_used = used + size;
	return obj;
}

/* Free an object from bpf_alloc(); NULL is ignored. */
static __always_inline void bpf_free(void __arena *obj)
{
	char __arena *page;
	__u64 __arena *cnt;

	if (!obj)
		return;
	page = (char __arena *)((__u64)obj & ~(__u64)(PAGE_SIZE - 1));
	cast_kern(page);
	cnt = bpfarena_page_count(page);
	if (*cnt > 1) {
		*cnt -= 1;
		return;
	}
	*cnt = 0;
	if ((__u32)(__u64)page == (__u32)(__u64)bpfarena_alloc_page) {
		bpfarena_alloc_page = NULL;
		bpfarena_alloc_used = 0;
	}
	bpf_arena_free_pages(&BPFARENA_ALLOC_MAP, page, 1);
}

#endif /* BPFARENA_ALLOC_H */
