// SPDX-License-Identifier: Apache-2.0
/*
 * Page kfunc arguments that the verifier lets through but the kfuncs refuse
 * at run time: another map type than an arena, a NUMA node that does not
 * exist. 4-page arena, no globals; every test frees what it allocated.
 */
#include "bpfarena.h"

#ifndef EINVAL
#define EINVAL 22
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

SEC("syscall")
__success __retval(1)
__description("alloc on a map that is not an arena gives NULL")
int alloc_not_arena(void *ctx)
{
	return bpf_arena_alloc_pages(&array, NULL, 1, NUMA_NO_NODE, 0) == NULL;
}

SEC("syscall")
__success __retval(-EINVAL) __kernel_min(6.17)
__description("reserve on a map that is not an arena gives -EINVAL")
int reserve_not_arena(void *ctx)
{
	void __arena *a = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	int ret;

	if (!a)
		return -100;
	ret = bpf_arena_reserve_pages(&array, (char __arena *)a + PAGE_SIZE, 1);
	bpf_arena_free_pages(&arena, a, 4);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("free on a map that is not an arena does nothing")
int free_not_arena(void *ctx)
{
	volatile int __arena *a = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	int ret;

	if (!a)
		return -100;
	a[0] = 1;
	bpf_arena_free_pages(&array, (void __arena *)a, 1);
	ret = a[0];
	bpf_arena_free_pages(&arena, (void __arena *)a, 4);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("a NUMA node that does not exist gives NULL")
int alloc_bad_node(void *ctx)
{
	return bpf_arena_alloc_pages(&arena, NULL, 1, 100000, 0) == NULL;
}

SEC("syscall")
__success __retval(1)
__description("node 0 exists")
int alloc_node_0(void *ctx)
{
	void __arena *a = bpf_arena_alloc_pages(&arena, NULL, 1, 0, 0);

	bpf_arena_free_pages(&arena, a, 4);
	return a != NULL;
}

char _license[] SEC("license") = "GPL";
