// SPDX-License-Identifier: Apache-2.0
/*
 * An arena with BPF_F_SEGV_ON_FAULT: the flag only changes what user space
 * gets on a fault (SIGSEGV instead of a fresh zero page); BPF accesses to
 * absent pages still read 0 and skip stores. 4 pages, no globals.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT);
	__uint(max_entries, 4);
} arena SEC(".maps");

SEC("syscall")
__success __retval(1000)
int segv_arena_absent_reads_zero(void *ctx)
{
	volatile __u64 __arena *a = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	volatile __u64 __arena *b;
	__u64 v;

	if (!a)
		return -1;
	b = (volatile __u64 __arena *)((char __arena *)a + PAGE_SIZE);
	b[0] = 5;
	v = b[0];
	bpf_arena_free_pages(&arena, (void __arena *)a, 4);
	return 1000 + v;
}

SEC("syscall")
__success __retval(12)
int segv_arena_present_pages_work(void *ctx)
{
	volatile __u64 __arena *a = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);
	__u64 v;

	if (!a)
		return -1;
	a[0] = 5;
	a[512] = 7;
	v = a[0] + a[512];
	bpf_arena_free_pages(&arena, (void __arena *)a, 4);
	return v;
}

char _license[] SEC("license") = "GPL";
