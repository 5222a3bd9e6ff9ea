// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_arena_alloc_pages: placement and failure rules. With addr == NULL the
 * kernel takes the smallest free range that is large enough (best fit, not
 * the lowest address); among free ranges of that same size it takes the one
 * whose free-range record was created or resized last. The arena has 8 pages
 * and no arena globals; every test starts from an empty arena (its first
 * allocation is page 0) and frees all 8 pages before returning.
 * idx(p) is p's page number counted from that first page.
 */
#include "pages.h"

SEC("syscall")
__success __retval(1)
__description("alloc(NULL) takes the lowest free page")
int alloc_lowest_first(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b = alloc(NULL, 1);
	int ret = (a && b) ? IDX(a, b) : -1;

	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("a freed page is reused first")
int alloc_reuses_hole(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b = alloc(NULL, 1), *c = alloc(NULL, 1), *d;
	int ret = -1;

	if (a && b && c) {
		bpf_arena_free_pages(&arena, b, 1);
		d = alloc(NULL, 1);
		ret = d ? IDX(a, d) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(2)
__description("a range goes to a free range that is large enough")
int alloc_range_first_fit(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b = alloc(NULL, 1), *c;
	int ret = -1;

	if (a && b) {
		bpf_arena_free_pages(&arena, a, 1);	/* hole of one page at 0 */
		c = alloc(NULL, 2);
		ret = c ? IDX(a, c) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(5)
__description("a non-NULL address is an exact placement")
int alloc_exact(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret = -1;

	if (a) {
		p = alloc(PG(a, 5), 1);
		ret = p ? IDX(a, p) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(6) __kernel_min(6.18)
__description("alloc(NULL) is best fit: free 1-4 and 6-7, one page goes to 6")
int alloc_best_fit_single(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p, *q;
	int ret = -1;

	if (a) {
		p = alloc(PG(a, 5), 1);
		q = alloc(NULL, 1);
		ret = (p && q) ? IDX(a, q) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1) __kernel_max(6.12)
__description("before the range tree, alloc(NULL) takes the lowest free range that fits: page 1")
int alloc_first_fit_single(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p, *q;
	int ret = -1;

	if (a) {
		p = alloc(PG(a, 5), 1);
		q = alloc(NULL, 1);
		ret = (p && q) ? IDX(a, q) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("exact placement on an allocated page fails")
int alloc_exact_taken(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret = -1;

	if (a)
		ret = alloc(a, 1) == NULL;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("exact placement overlapping an allocated page fails")
int alloc_exact_overlap(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b;
	int ret = -1;

	if (a) {
		b = alloc(PG(a, 3), 1);
		ret = b && alloc(PG(a, 2), 2) == NULL;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("a range running past the end fails")
int alloc_past_end(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret = -1;

	if (a)
		ret = alloc(PG(a, 7), 2) == NULL;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(7)
__description("the last page can be placed exactly")
int alloc_exact_last(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret = -1;

	if (a) {
		p = alloc(PG(a, 7), 1);
		ret = p ? IDX(a, p) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("an address that is not page aligned fails")
int alloc_unaligned(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret = -1;

	if (a)
		ret = alloc(PG(a, 2) + 8, 1) == NULL;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("page_cnt 0 fails")
int alloc_zero_pages(void *ctx)
{
	return alloc(NULL, 0) == NULL;
}

SEC("syscall")
__success __retval(1)
__description("more pages than the arena has fails")
int alloc_too_many(void *ctx)
{
	return alloc(NULL, NPAGES + 1) == NULL;
}

SEC("syscall")
__success __retval(1)
__description("flags other than 0 fail")
int alloc_flags(void *ctx)
{
	return bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 1) == NULL;
}

SEC("syscall")
__success __retval(77) __kernel_min(6.18)
__description("the whole arena in one call (clang emits sign-extending arena loads here)")
int alloc_whole_arena(void *ctx)
{
	volatile char __arena *a = alloc(NULL, NPAGES);
	int ret;

	if (!a)
		return -1;
	a[NPAGES * PAGE_SIZE - 1] = 77;
	ret = a[NPAGES * PAGE_SIZE - 1];
	release((void __arena *)a);
	return ret;
}

SEC("syscall")
__success __retval(8)
__description("eight single pages fill the arena; the ninth fails")
int alloc_until_full(void *ctx)
{
	void __arena *first = NULL, *p;
	int i, n = 0;

	for (i = 0; i < NPAGES + 1; i++) {
		p = alloc(NULL, 1);
		if (!p)
			break;
		if (!first)
			first = p;
		n++;
	}
	if (first)
		release(first);
	return n;
}

SEC("syscall")
__success __retval(100)
__description("pages come zeroed, also after reuse")
int alloc_zeroed(void *ctx)
{
	volatile int __arena *a = alloc(NULL, 1), *b;
	int ret = -1;

	if (!a)
		return -1;
	a[0] = 5;
	a[1023] = 6;
	bpf_arena_free_pages(&arena, (void __arena *)a, 1);
	b = alloc(NULL, 1);
	if (b)
		ret = 100 + b[0] + b[1023] + (b != a) * 1000;
	release((void __arena *)b);
	return ret;
}

SEC("syscall")
__success __retval(4096)
__description("consecutive pages are 4096 bytes apart in the returned addresses")
int alloc_addresses(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *b = alloc(NULL, 1);
	int ret = (a && b) ? (int)((__u64)b - (__u64)a) : -1;

	release(a);
	return ret;
}

SEC("syscall")
__success __retval(61) __kernel_min(6.18)
__description("best fit: free 1-4 and 6-7; two pages go to 6, then one page to 1")
int alloc_best_fit_range(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p, *q, *r;
	int ret = -1;

	if (a) {
		p = alloc(PG(a, 5), 1);
		q = alloc(NULL, 2);
		r = alloc(NULL, 1);
		ret = (p && q && r) ? IDX(a, q) * 10 + IDX(a, r) : -2;
	}
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(13) __kernel_max(6.12)
__description("before the range tree (6.12), NULL allocations take the lowest free range that fits")
int alloc_first_fit_range(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p, *q, *r;
	int ret = -1;

	if (a) {
		p = alloc(PG(a, 5), 1);
		q = alloc(NULL, 2);
		r = alloc(NULL, 1);
		ret = (p && q && r) ? IDX(a, q) * 10 + IDX(a, r) : -2;
	}
	release(a);
	return ret;
}

char _license[] SEC("license") = "GPL";
