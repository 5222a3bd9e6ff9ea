// SPDX-License-Identifier: Apache-2.0
/*
 * The rules of the page kfuncs, one program per topic. The arena has 8 pages
 * and no arena globals, so every page is free at load time; every program
 * starts from an empty arena, returns it empty (bpf_arena_free_pages on all 8
 * pages) and may therefore run any number of times in any order.
 * "page k" below is the arena's k-th page (user_vm_start + k * 4096); the
 * first allocation of each program is page 0 and the others are located
 * relative to it.
 *
 *   first_fit     where alloc(NULL) puts pages (best fit: the smallest free
 *                 range that is large enough; here also the lowest). Returns
 *                 idx(b) | idx(c) << 4 | idx(d) << 8 | idx(e) << 12 | idx(g) << 16
 *                 = 0x64121 = 409889 (b = 1, c = 2, d = 1, e = 4, g = 6);
 *                 -1 if an allocation failed, -2 if one succeeded that must not.
 *   exact         placement at an exact address and the NULL cases; 0 when
 *                 all checks pass, else the number of the first failed check.
 *   free_rules    rounding down, page_cnt 0, NULL, clipping at the end, only
 *                 the low 32 bits of the pointer counting; 0 or check number.
 *   reserve_rules bpf_arena_reserve_pages results (stored in reserve_ret[]:
 *                 {0, -16, -16, 0, 0, -22, -22}) and their effect on
 *                 alloc, reads and writes; 0 or check number.
 *   absent        reads of absent pages give 0, writes to them are skipped,
 *                 reads after free give 0; returns 85 (0x55, the one value
 *                 that was really stored) and sets absent_reads = 0.
 */
#include "bpfarena.h"

#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EINVAL
#define EINVAL 22
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 8);
} arena SEC(".maps");

#define NPAGES 8
#define PG(base, k) ((char __arena *)(base) + (k) * PAGE_SIZE)
#define IDX(base, p) (((__u64)(p) - (__u64)(base)) >> PAGE_SHIFT)

__u64 first_page;
int reserve_ret[7];
__u64 absent_reads;

static __always_inline void __arena *alloc(void __arena *at, __u32 cnt)
{
	return bpf_arena_alloc_pages(&arena, at, cnt, NUMA_NO_NODE, 0);
}

SEC("syscall")
int first_fit(void *ctx)
{
	void __arena *a, *b, *c, *d, *e, *f, *g;
	int ret;

	a = alloc(NULL, 1);
	if (!a)
		return -1;
	first_page = (__u64)a;
	b = alloc(NULL, 1);
	c = alloc(NULL, 2);
	if (b)
		bpf_arena_free_pages(&arena, b, 1);
	d = alloc(NULL, 1);
	e = alloc(NULL, 2);
	f = alloc(NULL, 3);	/* only pages 6 and 7 are left */
	g = alloc(NULL, 2);
	if (!b || !c || !d || !e || !g)
		ret = -1;
	else if (f)
		ret = -2;
	else
		ret = IDX(a, b) | IDX(a, c) << 4 | IDX(a, d) << 8 |
		      IDX(a, e) << 12 | IDX(a, g) << 16;
	bpf_arena_free_pages(&arena, a, NPAGES);
	return ret;
}

SEC("syscall")
int exact(void *ctx)
{
	void __arena *a, *p;
	int ret = 0;

	a = alloc(NULL, 1);				/* page 0 */
	if (!a)
		return 100;
	p = alloc(PG(a, 3), 1);
	if (p != PG(a, 3))
		{ ret = 1; goto out; }			/* exact placement */
	if (alloc(PG(a, 3), 1))
		{ ret = 2; goto out; }			/* already allocated */
	if (alloc(PG(a, 7), 2))
		{ ret = 3; goto out; }			/* runs past the end */
	if (alloc(PG(a, 5) + 100, 1))
		{ ret = 4; goto out; }			/* not page aligned */
	if (alloc(NULL, 0))
		{ ret = 5; goto out; }			/* page_cnt 0 */
	if (alloc(NULL, NPAGES + 1))
		{ ret = 6; goto out; }			/* more than the arena */
	if (bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 1))
		{ ret = 7; goto out; }			/* flags != 0 */
	p = alloc(NULL, 3);				/* 1-2 too small, 3 taken */
	if (!p || IDX(a, p) != 4)
		{ ret = 8; goto out; }
	p = alloc(PG(a, 1), 2);				/* fills the hole */
	if (p != PG(a, 1))
		{ ret = 9; goto out; }
	p = alloc(NULL, 1);				/* only page 7 is left */
	if (!p || IDX(a, p) != 7)
		{ ret = 10; goto out; }
	if (alloc(NULL, 1))
		{ ret = 11; goto out; }			/* full */
out:
	bpf_arena_free_pages(&arena, a, NPAGES);
	return ret;
}

SEC("syscall")
int free_rules(void *ctx)
{
	volatile int __arena *a, *b, *c;
	int ret = 0;

	a = alloc(NULL, 2);				/* pages 0 and 1 */
	if (!a)
		return 100;
	a[0] = 1;
	*(volatile int __arena *)PG(a, 1) = 2;
	bpf_arena_free_pages(&arena, PG(a, 1) + 100, 1);	/* rounds down: page 1 */
	if (*(volatile int __arena *)PG(a, 1) != 0)
		{ ret = 1; goto out; }
	if (a[0] != 1)
		{ ret = 2; goto out; }
	bpf_arena_free_pages(&arena, (void __arena *)a, 0);	/* no-op */
	if (a[0] != 1)
		{ ret = 3; goto out; }
	bpf_arena_free_pages(&arena, NULL, 1);		/* no-op */
	if (a[0] != 1)
		{ ret = 4; goto out; }
	b = alloc(PG(a, 6), 2);
	if (!b)
		{ ret = 5; goto out; }
	bpf_arena_free_pages(&arena, (void __arena *)b, 5);	/* clipped: pages 6, 7 */
	c = alloc(PG(a, 7), 1);
	if (!c)
		{ ret = 6; goto out; }
	c[0] = 9;
	/* only the low 32 bits count: this frees page 7 */
	bpf_arena_free_pages(&arena, (void __arena *)((__u64)c + (1ULL << 32)), 1);
	if (c[0] != 0)
		{ ret = 7; goto out; }
	c = alloc(PG(a, 7), 1);
	if (!c)
		{ ret = 8; goto out; }
	if (c[0] != 0)
		{ ret = 9; goto out; }			/* fresh pages are zeroed */
	if (a[0] != 1)
		{ ret = 10; goto out; }
out:
	bpf_arena_free_pages(&arena, (void __arena *)a, NPAGES);
	return ret;
}

SEC("syscall")
int reserve_rules(void *ctx)
{
	void __arena *a, *p;
	volatile int __arena *r;
	int ret = 0;

	a = alloc(NULL, 1);				/* page 0 */
	if (!a)
		return 100;
	reserve_ret[0] = bpf_arena_reserve_pages(&arena, PG(a, 2), 2);
	reserve_ret[1] = bpf_arena_reserve_pages(&arena, PG(a, 3), 1);
	reserve_ret[2] = bpf_arena_reserve_pages(&arena, a, 1);
	reserve_ret[3] = bpf_arena_reserve_pages(&arena, PG(a, 5) + 100, 1);
	reserve_ret[4] = bpf_arena_reserve_pages(&arena, a, 0);
	reserve_ret[5] = bpf_arena_reserve_pages(&arena, PG(a, 7), 2);
	reserve_ret[6] = bpf_arena_reserve_pages(&arena, PG(a, -1), 1);
	if (reserve_ret[0] != 0)
		{ ret = 1; goto out; }			/* pages 2-3 reserved */
	if (reserve_ret[1] != -EBUSY)
		{ ret = 2; goto out; }			/* already reserved */
	if (reserve_ret[2] != -EBUSY)
		{ ret = 3; goto out; }			/* already allocated */
	if (reserve_ret[3] != 0)
		{ ret = 4; goto out; }			/* unaligned: 0, nothing done */
	if (reserve_ret[4] != 0)
		{ ret = 5; goto out; }			/* page_cnt 0 */
	if (reserve_ret[5] != -EINVAL)
		{ ret = 6; goto out; }			/* past the end */
	if (reserve_ret[6] != -EINVAL)
		{ ret = 7; goto out; }			/* below the start */
	p = alloc(NULL, 1);
	if (!p || IDX(a, p) != 1)
		{ ret = 8; goto out; }
	p = alloc(NULL, 1);				/* skips reserved 2-3 */
	if (!p || IDX(a, p) != 4)
		{ ret = 9; goto out; }
	if (alloc(PG(a, 2), 1))
		{ ret = 10; goto out; }			/* reserved */
	if (!alloc(PG(a, 5), 1))
		{ ret = 11; goto out; }			/* unaligned reserve did nothing */
	r = (volatile int __arena *)PG(a, 2);
	r[0] = 5;					/* skipped */
	if (r[0] != 0)
		{ ret = 12; goto out; }
	p = alloc(NULL, 2);				/* 6-7 */
	if (!p || IDX(a, p) != 6)
		{ ret = 13; goto out; }
	bpf_arena_free_pages(&arena, PG(a, 2), 2);	/* releases the reservation */
	if (!alloc(PG(a, 2), 2))
		{ ret = 14; goto out; }
out:
	bpf_arena_free_pages(&arena, a, NPAGES);
	return ret;
}

SEC("syscall")
int absent(void *ctx)
{
	volatile __u64 __arena *a, *next, *below;
	__u64 x, y, z, v;

	a = alloc(NULL, 1);
	if (!a)
		return -1;
	next = (volatile __u64 __arena *)PG(a, 1);
	below = (volatile __u64 __arena *)((char __arena *)a - 8);
	a[0] = 0x55;
	next[0] = 7;			/* page 1 is absent: skipped */
	x = next[0];			/* 0 */
	below[0] = 9;			/* below the arena: skipped */
	y = below[0];			/* 0 */
	v = a[0];
	bpf_arena_free_pages(&arena, (void __arena *)a, 1);
	z = a[0];			/* freed: 0 */
	absent_reads = x + y + z;
	return v + x + y + z;
}

char _license[] SEC("license") = "GPL";
