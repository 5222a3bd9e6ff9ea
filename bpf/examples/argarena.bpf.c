// SPDX-License-Identifier: Apache-2.0
/*
 * Global (non-static) functions taking arena pointers, tagged __arg_arena.
 * The verifier checks such a function once, on its own, with the argument
 * as an arena pointer; callers may pass an arena pointer or a scalar.
 *
 *   arena_sum(p, n)      sums p[0..n-1] (n clipped to 1024)
 *   arena_fill(p, n, v)  stores v, v+1, ... into p[0..n-1]; returns n
 *
 * run: allocates a page, arena_fill(page, 10, 1) (values 1..10),
 *      arena_sum(page, 10) = 55, then arena_sum(table, 4) on the arena
 *      global table = {10, 20, 30, 40}: 100; frees the page and returns
 *      55 + 100 = 155. Sets page_sum = 55, table_sum = 100.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

int __arena_global table[4] = { 10, 20, 30, 40 };
__u64 page_sum;
__u64 table_sum;

__noinline int arena_sum(int __arena *p __arg_arena, int n)
{
	int i, s = 0;

	if (!p)
		return 0;
	if (n > 1024)
		n = 1024;
	for (i = 0; i < n && can_loop; i++)
		s += p[i];
	return s;
}

__noinline int arena_fill(int __arena *p __arg_arena, int n, int v)
{
	int i;

	if (!p)
		return 0;
	if (n > 1024)
		n = 1024;
	for (i = 0; i < n && can_loop; i++)
		p[i] = v + i;
	return n;
}

SEC("syscall")
int run(void *ctx)
{
	int __arena *page;

	page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page)
		return -1;
	arena_fill(page, 10, 1);
	page_sum = arena_sum(page, 10);
	table_sum = arena_sum(table, 4);
	bpf_arena_free_pages(&arena, page, 1);
	return page_sum + table_sum;
}

char _license[] SEC("license") = "GPL";
