// SPDX-License-Identifier: Apache-2.0
/*
 * Compute loops without an arena, so that every kernel with BPF can load
 * them (the benchmark object's arena needs a kernel that allows arenas):
 * the same loops as bench.bpf.o's xorshift and kfunc_loop, for comparing
 * the vm with the running kernel's JIT where arenas are refused.
 *
 *   xorshift    1,000,000 rounds of xorshift64 (13, 7, 17) from xs_seed =
 *               88172645463325252 in a may_goto loop; stores the state in
 *               xs_state and returns its low 32 bits: 0xc2958ad6.
 *   kfunc_loop  1,000,000 bpf_for iterations (a bpf_iter_num_next call
 *               each) summing the counter; returns 0x6a4ae6e0.
 */
#include "bpfarena.h"

__u64 xs_seed = 88172645463325252ULL;
__u64 xs_state;
__u64 kf_sum;
/* An unknown start, so that the verifier does not walk the loop. */
__u32 loop_start;

SEC("syscall")
int xorshift(void *ctx)
{
	__u64 x = xs_seed;
	int i;

	for (i = loop_start; i < 1000000 && can_loop; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	xs_state = x;
	return (__u32)x;
}

SEC("syscall")
int kfunc_loop(void *ctx)
{
	__u64 sum = 0;
	int i;

	bpf_for(i, 0, 1000000)
		sum += i;
	kf_sum = sum;
	return (__u32)sum;
}

char _license[] SEC("license") = "GPL";
