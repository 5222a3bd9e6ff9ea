// SPDX-License-Identifier: Apache-2.0
/*
 * Control flow: conditional jumps (64-bit and JMP32, signed and unsigned,
 * register and immediate), gotol, calls to static and global subprograms,
 * bpf_loop with a callback, the numeric iterator and may_goto loops.
 */
#include "bpfarena.h"

#ifndef EINVAL
#define EINVAL 22
#endif

/* set bit when the condition holds */
#define BRANCH(cond, bit) "if " cond " goto +1\n goto +1\n r0 |= " #bit "\n"

/*
 * r1 = -1, r2 = 1, r3 = 0x100000001 (low word 1), r4 = -2, r5 = 0xffffffff.
 * The result has one bit per condition, set when the branch was taken.
 */
SEC("syscall")
__success __retval(651942197)
__naked int branch_matrix(void)
{
	asm volatile(
	"r0 = 0\n"
	"r1 = -1\n"
	"r2 = 1\n"
	"r3 = 0x100000001 ll\n"
	"r4 = -2\n"
	"r5 = 0xffffffff ll\n"
	BRANCH("r1 > r2", 1)	/* taken */
	BRANCH("r1 s> r2", 2)	/* not taken */
	BRANCH("r1 s< r2", 4)	/* taken */
	BRANCH("r1 < r2", 8)	/* not taken */
	BRANCH("r1 >= r1", 16)	/* taken */
	BRANCH("r4 s<= r1", 32)	/* taken */
	BRANCH("r4 s>= r1", 64)	/* not taken */
	BRANCH("r1 <= r4", 128)	/* not taken */
	BRANCH("w3 == w2", 256)	/* taken */
	BRANCH("r3 == r2", 512)	/* not taken */
	BRANCH("w3 != 1", 1024)	/* not taken */
	BRANCH("r2 & 3", 2048)	/* taken */
	BRANCH("w1 s< 0", 4096)	/* taken */
	BRANCH("w3 s> w2", 8192)	/* not taken */
	BRANCH("w3 >= w2", 16384)	/* taken */
	BRANCH("r1 != r4", 32768)	/* taken */
	BRANCH("w4 < w1", 65536)	/* taken */
	BRANCH("r1 s< 0", 131072)	/* taken */
	BRANCH("r2 s>= 2", 262144)	/* not taken */
	BRANCH("w1 & -2147483648", 524288)	/* taken */
	BRANCH("r3 > r2", 1048576)	/* taken */
	BRANCH("w3 > w2", 2097152)	/* not taken */
	BRANCH("r4 s> -3", 4194304)	/* taken */
	BRANCH("w4 s< -1", 8388608)	/* taken */
	BRANCH("r2 s<= 0", 16777216)	/* not taken */
	BRANCH("w2 <= 1", 33554432)	/* taken */
	BRANCH("r3 & r2", 67108864)	/* taken */
	BRANCH("w3 & 2", 134217728)	/* not taken */
	BRANCH("r5 == -1", 268435456)	/* not taken: imm is sign-extended to 64 bits */
	BRANCH("w5 == -1", 536870912)	/* taken */
	"exit\n");
}

SEC("syscall")
__success __retval(1)
__naked int gotol_forward(void)
{
	asm volatile(
	"r0 = 1\n"
	"r1 = 1\n"
	"if r1 == 0 goto +1\n"
	"gotol +1\n"
	"r0 = 2\n"
	"exit\n");
}

/* every instruction must be reachable */
SEC("syscall")
__failure __msg("unreachable insn 2")
__naked int unreachable_insn(void)
{
	asm volatile(
	"r0 = 1\n"
	"gotol +1\n"
	"r0 = 2\n"
	"exit\n");
}

SEC("syscall")
__success __retval(3)
__naked int ja_backward(void)
{
	asm volatile(
	"r0 = 0\n"
	"goto +2\n"
	"r0 += 2\n"
	"exit\n"
	"r0 += 1\n"
	"goto -4\n");
}

/* inputs the compiler cannot see through */
volatile int five = 5;

static __noinline int triple_plus_one(int x)
{
	return x * 3 + 1;
}

__noinline int minus_two(int x)
{
	return x - 2;
}

/* static: 5 * 3 + 1 = 16; global: 10 - 2 = 8 */
SEC("syscall")
__success __retval(1608)
int call_static_and_global(void *ctx)
{
	return triple_plus_one(five) * 100 + minus_two(five * 2);
}

static __noinline int fib(int n)
{
	int a = 0, b = 1, t, i;

	for (i = 0; i < 20 && i < n; i++) {
		t = a + b;
		a = b;
		b = t;
	}
	return a;
}

/* fib(5) = 5, fib(10) = 55 */
SEC("syscall")
__success __retval(555)
int call_static_twice(void *ctx)
{
	return fib(five) * 100 + fib(five * 2);
}

struct loop_state {
	int sum;
	int stop_at;
};

static long add_index(__u64 idx, void *data)
{
	struct loop_state *s = data;

	s->sum += idx;
	return idx == s->stop_at;
}

/* 0 + 1 + ... + 9 = 45 and 10 iterations: 45 * 100 + 10 */
SEC("syscall")
__success __retval(4510)
int bpf_loop_full(void *ctx)
{
	struct loop_state s = { .sum = 0, .stop_at = -1 };
	long n = bpf_loop(10, add_index, &s, 0);

	return s.sum * 100 + n;
}

/* the callback returns 1 at index 5: sum 15, 6 iterations */
SEC("syscall")
__success __retval(1506)
int bpf_loop_break(void *ctx)
{
	struct loop_state s = { .sum = 0, .stop_at = 5 };
	long n = bpf_loop(10, add_index, &s, 0);

	return s.sum * 100 + n;
}

/* 3 + 4 + 5 + 6 + 7 = 25; 4 repeats; an empty and a reversed range */
SEC("syscall")
__success __retval(254)
int iter_num_loops(void *ctx)
{
	int i, s = 0, n = 0;

	bpf_for(i, 3, 8)
		s += i;
	bpf_repeat(4)
		n++;
	bpf_for(i, 5, 5)
		n += 100;
	bpf_for(i, 8, 3)
		n += 1000;
	return s * 10 + n;
}

SEC("syscall")
__success __retval(-EINVAL)
int iter_num_reversed_range(void *ctx)
{
	struct bpf_iter_num it;
	int ret;

	ret = bpf_iter_num_new(&it, 8, 3);
	bpf_iter_num_destroy(&it);
	return ret;
}

SEC("syscall")
__success __retval(100)
int may_goto_loop(void *ctx)
{
	int n = 0;

	while (can_loop) {
		n++;
		if (n == 100)
			break;
	}
	return n;
}

SEC("syscall")
__success __retval(50)
int cond_break_loop(void *ctx)
{
	int n = 0;

	for (;;) {
		cond_break;
		if (++n == 50)
			break;
	}
	return n;
}

/* a raw may_goto whose budget is not exhausted falls through */
SEC("syscall")
__success __retval(7)
__naked int may_goto_not_taken(void)
{
	asm volatile(
	"r0 = 7\n"
	"may_goto +1\n"
	"exit\n"
	"r0 = 9\n"
	"exit\n");
}

char _license[] SEC("license") = "GPL";
