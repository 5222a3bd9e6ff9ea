// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_arena_free_pages rules. 8-page arena, no arena globals; every test
 * starts from an empty arena (first allocation = page 0) and frees all
 * 8 pages before returning.
 */
#include "pages.h"

SEC("syscall")
__success __retval(10)
__description("a freed page reads 0; its neighbour keeps its data")
int free_one_of_two(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	int ret;

	if (!a)
		return -1;
	VINT(a) = 10;
	VINT(PG(a, 1)) = 20;
	bpf_arena_free_pages(&arena, PG(a, 1), 1);
	ret = VINT(a) + VINT(PG(a, 1));
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(10)
__description("the address is rounded down to its page")
int free_rounds_down(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	int ret;

	if (!a)
		return -1;
	VINT(a) = 10;
	VINT(PG(a, 1)) = 20;
	bpf_arena_free_pages(&arena, PG(a, 1) + 4000, 1);
	ret = VINT(a) + VINT(PG(a, 1));
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(30)
__description("page_cnt 0 frees nothing")
int free_zero_pages(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	int ret;

	if (!a)
		return -1;
	VINT(a) = 10;
	VINT(PG(a, 1)) = 20;
	bpf_arena_free_pages(&arena, a, 0);
	ret = VINT(a) + VINT(PG(a, 1));
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(30)
__description("a NULL address frees nothing")
int free_null(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	int ret;

	if (!a)
		return -1;
	VINT(a) = 10;
	VINT(PG(a, 1)) = 20;
	bpf_arena_free_pages(&arena, NULL, 2);
	ret = VINT(a) + VINT(PG(a, 1));
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(6)
__description("a range running past the end is clipped")
int free_clipped(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b, *c;
	int ret = -1;

	if (!a)
		return -1;
	b = alloc(PG(a, 6), 2);
	if (b) {
		VINT(b) = 1;
		bpf_arena_free_pages(&arena, b, 100);	/* pages 6, 7 */
		c = alloc(NULL, 2);			/* 1-2 */
		c = alloc(PG(a, 6), 2);			/* free again */
		ret = c ? IDX(a, c) + VINT(c) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(3)
__description("only the low 32 bits of the address count")
int free_low_32_bits(void *ctx)
{
	void __arena *a = alloc(NULL, 4), *p;
	int ret;

	if (!a)
		return -1;
	VINT(PG(a, 3)) = 9;
	bpf_arena_free_pages(&arena, (void __arena *)((__u64)PG(a, 3) ^ (0x5aULL << 40)), 1);
	p = alloc(NULL, 1);				/* page 3 is the only hole */
	ret = p ? IDX(a, p) + VINT(p) : -2;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(0)
__description("freeing pages that are not allocated is harmless")
int free_unallocated(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret;

	if (!a)
		return -1;
	bpf_arena_free_pages(&arena, PG(a, 4), 2);
	bpf_arena_free_pages(&arena, a, 1);
	bpf_arena_free_pages(&arena, a, 1);		/* twice */
	p = alloc(NULL, 1);
	ret = p ? IDX(a, p) : -2;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(8)
__description("after freeing everything the whole arena is free again")
int free_all(void *ctx)
{
	void __arena *a = alloc(NULL, 3), *p;
	int n = 0;

	if (!a)
		return -1;
	release(a);
	p = alloc(a, NPAGES);
	if (p)
		n = NPAGES;
	release(a);
	return n;
}

char _license[] SEC("license") = "GPL";
