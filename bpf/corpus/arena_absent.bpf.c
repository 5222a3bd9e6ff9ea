// SPDX-License-Identifier: Apache-2.0
/*
 * Accesses to arena pages that are not present: loads give 0, stores and
 * atomics are skipped, and the program goes on. 8-page arena, no globals;
 * each test starts from an empty arena and frees everything at the end.
 */
#include "pages.h"

SEC("syscall")
__success __retval(1000)
__description("a store to an absent page is skipped and a load from it gives 0")
int absent_store_load(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 v;

	if (!a)
		return -1;
	VU64(PG(a, 1)) = 7;
	v = VU64(PG(a, 1));
	release(a);
	return 1000 + v;
}

SEC("syscall")
__success __retval(1000)
__description("byte accesses to an absent page")
int absent_bytes(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u8 v;

	if (!a)
		return -1;
	VU8(PG(a, 4) + 4095) = 0xff;
	v = VU8(PG(a, 4) + 4095);
	release(a);
	return 1000 + v;
}

SEC("syscall")
__success __retval(42)
__description("the program goes on after faults")
int absent_continues(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 s = 0;
	int i;

	if (!a)
		return -1;
	for (i = 1; i < NPAGES; i++) {
		VU64(PG(a, i)) = i;
		s += VU64(PG(a, i));
	}
	VU64(a) = 42;
	s += VU64(a);
	release(a);
	return s;
}

SEC("syscall")
__success __retval(1000)
__description("atomics on an absent page are skipped")
int absent_atomics(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 v;

	if (!a)
		return -1;
	__sync_fetch_and_add((__u64 __arena *)PG(a, 2), 5);
	__sync_fetch_and_or((__u64 __arena *)PG(a, 2), 3);
	v = VU64(PG(a, 2));
	release(a);
	return 1000 + v;
}

SEC("syscall")
__success __retval(1000)
__description("a freed page reads 0 (use after free)")
int absent_after_free(void *ctx)
{
	void __arena *a = alloc(NULL, 2);
	__u64 v;

	if (!a)
		return -1;
	VU64(PG(a, 1)) = 99;
	bpf_arena_free_pages(&arena, PG(a, 1), 1);
	v = VU64(PG(a, 1));
	release(a);
	return 1000 + v;
}

SEC("syscall")
__success __retval(1000) __kernel_min(6.17)
__description("a reserved page behaves like an absent one")
int absent_reserved(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 v;

	if (!a)
		return -1;
	bpf_arena_reserve_pages(&arena, PG(a, 3), 1);
	VU64(PG(a, 3)) = 11;
	__sync_fetch_and_add((__u64 __arena *)PG(a, 3), 5);
	v = VU64(PG(a, 3));
	release(a);
	return 1000 + v;
}

SEC("syscall")
__success __retval(1000)
__description("below the arena's first page: no memory, loads give 0")
int absent_below_start(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 v;

	if (!a)
		return -1;
	VU64((char __arena *)a - 8) = 5;
	v = VU64((char __arena *)a - 8);
	v += VU64((char __arena *)a - PAGE_SIZE);
	release(a);
	return 1000 + v;
}

SEC("syscall")
__success __retval(1000)
__description("nothing is present before the first allocation")
int absent_empty_arena(void *ctx)
{
	void __arena *a = alloc(NULL, 1);
	__u64 v;

	if (!a)
		return -1;
	release(a);
	v = VU64(a) + VU64(PG(a, 7));
	return 1000 + v;
}

char _license[] SEC("license") = "GPL";
