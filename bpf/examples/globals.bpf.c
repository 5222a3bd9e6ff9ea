// SPDX-License-Identifier: Apache-2.0
/*
 * Globals in every section: arena globals (.addr_space.1) with and without
 * initial values, a const one, and .bss, .data and .rodata globals.
 *
 * Initial values:
 *   arena:  counter = 42, arr = {1, 2, 3, 4}, zeroed = 0, answer = 7 (const)
 *   .bss:   bss_sum = 0, counter_addr = 0
 *   .data:  data_var = 100
 *   .rodata: rodata_var = 5 (may be set before loading)
 *
 * Programs:
 *   peek   returns counter without changing anything: 42 at first.
 *   bump   counter += 1; arr[i] *= 2; zeroed += counter;
 *          bss_sum += counter + arr[0] + arr[1] + arr[2] + arr[3];
 *          data_var += answer; counter_addr = address of counter;
 *          returns counter + rodata_var.
 *     1st run: returns 48; counter = 43, arr = {2, 4, 6, 8}, zeroed = 43,
 *              bss_sum = 63, data_var = 107.
 *     2nd run: returns 49; counter = 44, arr = {4, 8, 12, 16}, zeroed = 87,
 *              bss_sum = 147, data_var = 114.
 *   counter_addr is the user-space address of counter: user_vm_start plus
 *   its offset in .addr_space.1 (see the object's BTF).
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

int __arena_global counter = 42;
__u64 __arena_global arr[4] = { 1, 2, 3, 4 };
__u32 __arena_global zeroed;
const __u32 __arena_global answer = 7;

__u64 bss_sum;
__u64 counter_addr;
__u64 data_var = 100;
const volatile __u64 rodata_var = 5;

SEC("syscall")
int peek(void *ctx)
{
	return counter;
}

SEC("syscall")
int bump(void *ctx)
{
	volatile const __u32 __arena *ans = &answer;
	__u64 s = 0;
	int i;

	counter += 1;
	for (i = 0; i < 4; i++) {
		arr[i] *= 2;
		s += arr[i];
	}
	zeroed += counter;
	bss_sum += counter + s;
	data_var += *ans;
	counter_addr = (__u64)&counter;
	return counter + rodata_var;
}

char _license[] SEC("license") = "GPL";
