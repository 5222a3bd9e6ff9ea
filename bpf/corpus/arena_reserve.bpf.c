// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_arena_reserve_pages rules (Linux 6.17+). 8-page arena, no arena
 * globals; every test starts from an empty arena (first allocation = page 0)
 * and frees all 8 pages (which also drops reservations) before returning.
 */
#include "pages.h"

SEC("syscall")
__success __retval(0) __kernel_min(6.17)
__description("reserving free pages succeeds")
int reserve_free(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	ret = reserve(PG(a, 2), 2);
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(-EBUSY) __kernel_min(6.17)
__description("reserving a reserved page fails with -EBUSY")
int reserve_twice(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	reserve(PG(a, 2), 2);
	ret = reserve(PG(a, 3), 1);
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(-EBUSY) __kernel_min(6.17)
__description("reserving an allocated page fails with -EBUSY")
int reserve_allocated(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	ret = reserve(a, 2);
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(0) __kernel_min(6.17)
__description("page_cnt 0 returns 0")
int reserve_zero_pages(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	ret = reserve(a, 0);		/* a is allocated, but nothing is asked */
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(-EINVAL) __kernel_min(6.17)
__description("a range running past the end fails with -EINVAL")
int reserve_past_end(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	ret = reserve(PG(a, 7), 2);
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(-EINVAL) __kernel_min(6.17)
__description("a range below the arena's start fails with -EINVAL")
int reserve_below_start(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	ret = reserve(PG(a, -1), 1);
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(5) __kernel_min(6.17)
__description("an unaligned address returns 0 and reserves nothing")
int reserve_unaligned(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret;

	if (!a)
		return -100;
	ret = reserve(PG(a, 5) + 100, 1);
	if (ret)
		goto out;
	p = alloc(PG(a, 5), 1);
	ret = p ? IDX(a, p) : -2;
out:
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(4) __kernel_min(6.17)
__description("alloc(NULL) skips reserved pages")
int reserve_skipped_by_alloc(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret;

	if (!a)
		return -100;
	reserve(PG(a, 1), 3);
	p = alloc(NULL, 1);
	ret = p ? IDX(a, p) : -2;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(1) __kernel_min(6.17)
__description("exact placement on a reserved page fails")
int reserve_blocks_exact(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	reserve(PG(a, 2), 1);
	ret = alloc(PG(a, 2), 1) == NULL;
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(0) __kernel_min(6.17)
__description("reserved pages read 0 and writes to them are skipped")
int reserve_reads_zero(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	reserve(PG(a, 2), 1);
	VINT(PG(a, 2)) = 5;
	ret = VINT(PG(a, 2));
	release(a);
	return ret;
}

SEC("syscall")
__success __retval(2) __kernel_min(6.17)
__description("bpf_arena_free_pages releases a reservation")
int reserve_released_by_free(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret;

	if (!a)
		return -100;
	reserve(PG(a, 2), 1);
	bpf_arena_free_pages(&arena, PG(a, 2), 1);
	p = alloc(PG(a, 2), 1);
	ret = p ? IDX(a, p) : -2;
	release(a);
	return ret;
}

/*
 * Free ranges 1-2, 4 and 6-7 (3 and 5 reserved). Two pages fit in 1-2 and in
 * 6-7, equally well; the kernel takes 6-7 first (its record was made last),
 * then 1-2. The test returns the second allocation's page: 1.
 */
SEC("syscall")
__success __retval(1) __kernel_min(6.17)
__description("a multi-page alloc(NULL) does not span a reserved page")
int reserve_splits_range(void *ctx)
{
	void __arena *a = alloc(NULL, 1), *p;
	int ret;

	if (!a)
		return -100;
	reserve(PG(a, 3), 1);
	reserve(PG(a, 5), 1);
	p = alloc(NULL, 2);		/* 6-7 */
	p = alloc(NULL, 2);		/* 1-2; page 4 alone is too small */
	ret = p ? IDX(a, p) : -2;
	release(a);
	return ret;
}

SEC("syscall")
__failure __msg("kfunc bpf_arena_reserve_pages: kernel function not in this kernel") __kernel_max(6.16)
__description("before 6.17 the kernel has no bpf_arena_reserve_pages: a reachable call is refused at load")
int reserve_missing(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	int ret;

	if (!a)
		return -100;
	ret = reserve(PG(a, 2), 2);
	release(a);
	return ret;
}

char _license[] SEC("license") = "GPL";
