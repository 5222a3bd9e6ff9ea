// SPDX-License-Identifier: Apache-2.0
/*
 * Arena globals (section .addr_space.1): initial values, zero-initialised and
 * const ones, their addresses (user_vm_start + offset), and the page they
 * occupy. map_extra = 0x100300000000 (high word 0x1003 = 4099), 4 pages.
 * The globals take part of page 0, so that page is present from the start
 * and alloc(NULL) begins at page 1.
 * Tests that modify globals are written so that one run from a fresh load
 * gives the stated value.
 */
#include "bpfarena.h"

#define ARENA_BASE 0x100300000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, ARENA_BASE);
} arena SEC(".maps");

int __arena_global g_int = 42;
__u64 __arena_global g_arr[3] = { 7, 8, 9 };
__u32 __arena_global g_zero;
const int __arena_global g_const = 5;
char __arena_global g_str[8] = "arena";

SEC("syscall")
__success __retval(42)
int global_initial_value(void *ctx)
{
	return g_int;
}

SEC("syscall")
__success __retval(24)
int global_array(void *ctx)
{
	return g_arr[0] + g_arr[1] + g_arr[2];
}

SEC("syscall")
__success __retval(1000)
int global_zero_initialised(void *ctx)
{
	return 1000 + g_zero;
}

SEC("syscall")
__success __retval(5)
int global_const(void *ctx)
{
	volatile const int __arena *p = &g_const;

	return *p;
}

SEC("syscall")
__success __retval(97) __kernel_min(6.18)
__description("char loads from the arena are sign-extending loads, which 6.12 refuses")
int global_string(void *ctx)
{
	volatile char __arena *s = g_str;

	return s[0];
}

SEC("syscall")
__success __retval(43)
int global_increment(void *ctx)
{
	g_int += 1;
	return g_int;
}

SEC("syscall")
__success __retval(4099)
__description("a global's address is a user address: high word of user_vm_start")
int global_address_high(void *ctx)
{
	return (__u64)&g_int >> 32;
}

SEC("syscall")
__success __retval(1)
__description("a global's address is user_vm_start + its offset in .addr_space.1")
int global_address_offsets(void *ctx)
{
	__u64 a = (__u64)&g_int, b = (__u64)&g_arr[1];

	return a >= ARENA_BASE && a < ARENA_BASE + PAGE_SIZE &&
	       b - (__u64)&g_arr[0] == 8;
}

SEC("syscall")
__success __retval(4096)
__description("alloc(NULL) skips the page holding the globals")
int global_page_is_taken(void *ctx)
{
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	int ret = p ? (int)(__u32)(__u64)p : -1;

	bpf_arena_free_pages(&arena, p, 1);
	return ret;
}

SEC("syscall")
__success __retval(1)
__description("exact placement on the globals' page fails")
int global_page_exact_fails(void *ctx)
{
	return bpf_arena_alloc_pages(&arena, (void __arena *)ARENA_BASE, 1, NUMA_NO_NODE, 0) == NULL;
}

char _license[] SEC("license") = "GPL";
