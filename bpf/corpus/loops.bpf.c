// SPDX-License-Identifier: Apache-2.0
/*
 * Loops the verifier must see the end of. The kernel follows each path on
 * its own and gives up on a loop that comes back to a state it was in
 * ("infinite loop detected at insn N"), that keeps a branch pending for
 * every turn ("The sequence of 8193 jumps is too complex.") or that runs
 * past a million instructions ("BPF program is too large"), and accepts
 * every loop whose constants or bounds end it. No arena: the host kernel
 * runs these too.
 */
#include "bpfarena.h"

volatile __u64 sink;
volatile __u64 bound = 10;

/* --- rejected --- */

/* l: goto l */
SEC("syscall")
__failure __msg("infinite loop detected at insn 1")
__naked int goto_self(void)
{
	asm volatile(
	"r0 = 0\n"
	"1: goto 1b\n");
}

/* for (;;) v++ on a global: the same state at every turn */
SEC("syscall")
__failure __msg("infinite loop detected at insn 2")
int forever_global(void *ctx)
{
	for (;;)
		sink++;
	return 0;
}

/* for (;;) v++ on a stack counter the verifier tracks: never the same state */
SEC("syscall")
__failure __msg("BPF program is too large. Processed 1000001 insn")
int forever_counter(void *ctx)
{
	volatile __u64 v = 0;

	for (;;)
		v++;
	return 0;
}

/* a helper's result changes nothing the verifier sees: the same state again */
static __u64 (*ktime_get_ns)(void) = (void *)5;

SEC("syscall")
__failure __msg("infinite loop detected at insn 2")
int forever_helper(void *ctx)
{
	for (;;)
		sink = ktime_get_ns();
	return 0;
}

/* an 8-bit counter compared with 300 wraps and never ends the loop */
SEC("syscall")
__failure __msg("infinite loop detected at insn 3")
__naked int u8_counter_wraps(void)
{
	asm volatile(
	"w1 = 0\n"
	"1: w1 += 1\n"
	"w1 &= 0xff\n"
	"if w1 < 300 goto 1b\n"
	"r0 = 0\n"
	"exit\n");
}

/*
 * The same loop in C: clang counts in 32 bits and masks each use, so the
 * state never comes back and the kernel runs out of instructions instead.
 */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wtautological-constant-out-of-range-compare"
SEC("syscall")
__failure __msg("BPF program is too large. Processed 1000001 insn")
int u8_counter_wraps_c(void *ctx)
{
	for (__u8 i = 0; i < 300; i++)
		sink += i;
	return 0;
}
#pragma clang diagnostic pop

/* a bound read from memory at every turn: the kernel cannot tell where it ends */
SEC("syscall")
__failure __msg("BPF program is too large. Processed 1000001 insn")
int unknown_bound(void *ctx)
{
	__u64 i;

	for (i = 0; i < bound; i++)
		sink++;
	return 0;
}

/* the same with the exit on the taken side of the branch: one pending branch per turn */
SEC("syscall")
__failure __msg("The sequence of 8193 jumps is too complex.")
__naked int unknown_bound_pending(void)
{
	asm volatile(
	"r6 = %[bound] ll\n"
	"r1 = 0\n"
	"1: r2 = *(u64 *)(r6 + 0)\n"
	"if r1 >= r2 goto 2f\n"
	"r1 += 1\n"
	"goto 1b\n"
	"2: r0 = 0\n"
	"exit\n"
	:: [bound] "i"(&bound));
}

/* a constant bound past the kernel's instruction limit */
SEC("syscall")
__failure __msg("BPF program is too large. Processed 1000001 insn")
int bound_too_large(void *ctx)
{
	for (__u32 i = 0; i < 1000000; i++)
		sink += i;
	return 0;
}

/* --- accepted --- */

/* a constant bound: the kernel walks all 100 turns */
SEC("syscall")
__success __retval(4950)
int constant_bound(void *ctx)
{
	__u64 s = 0;

	sink = 0;
	for (__u32 i = 0; i < 100; i++)
		sink += i;
	s = sink;
	return s;
}

/* an 8-bit counter that stays below its bound ends */
SEC("syscall")
__success __retval(200)
__naked int u8_counter_ends(void)
{
	asm volatile(
	"w1 = 0\n"
	"1: w1 += 1\n"
	"w1 &= 0xff\n"
	"if w1 < 200 goto 1b\n"
	"r0 = r1\n"
	"exit\n");
}

/* an unknown bound cut to 8 bits: at most 255 turns */
SEC("syscall")
__success __retval(10)
int masked_bound(void *ctx)
{
	__u64 n = bound & 0xff, i;

	sink = 0;
	for (i = 0; i < n; i++)
		sink++;
	return sink;
}

/* a counter going down to 0 ends whatever the unknown bound is */
SEC("syscall")
__success __retval(0)
__naked int down_to_zero(void)
{
	asm volatile(
	"r6 = %[bound] ll\n"
	"r1 = 10\n"
	"r0 = 0\n"
	"1: r2 = *(u64 *)(r6 + 0)\n"
	"if r1 <= r2 goto 2f\n"
	"r1 -= 1\n"
	"r0 += 1\n"
	"goto 1b\n"
	"2: exit\n"
	:: [bound] "i"(&bound));
}

/* a loop that leaves on a branch once its counter reaches a constant */
SEC("syscall")
__success __retval(64)
__naked int count_to_constant(void)
{
	asm volatile(
	"r0 = 0\n"
	"1: r0 += 1\n"
	"if r0 == 64 goto 2f\n"
	"goto 1b\n"
	"2: exit\n");
}

char _license[] SEC("license") = "GPL";
