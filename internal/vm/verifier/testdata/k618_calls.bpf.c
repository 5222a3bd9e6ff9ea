// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");
int __arena_global g[4];
long cnt;
#define __imm_addr(name) [name]"i"(&name)
#define CLOB "r0","r1","r2","r3","r4","r5","r6","r7","r8","r9","memory"

static __noinline long load_it(long *p) { return *p; }

SEC("syscall")
__failure __msg("same insn cannot be used with different pointers")
__naked int static_two_kinds(void)
{
	asm volatile (
	"r6 = %[g] ll;"
	"r1 = addr_space_cast(r6, 0, 1);"
	"call load_it;"
	"r1 = 0;"
	"*(u64 *)(r10 - 8) = r1;"
	"r1 = r10;"
	"r1 += -8;"
	"call load_it;"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(g), __imm_addr(load_it) : CLOB);
}

__noinline void vglobal(int __arena *p __arg_arena)
{
	if (p)
		*p = 1;
}

SEC("syscall")
__failure __msg("Global function vglobal() doesn't return scalar. Only those are supported.")
int call_void_global(void *ctx)
{
	bpf_arena_use(arena);
	vglobal(&g[0]);
	return 0;
}

__noinline int __arena *ret_arena(int __arena *p __arg_arena)
{
	return p;
}

SEC("syscall")
__success
int call_ret_arena(void *ctx)
{
	int __arena *q;
	bpf_arena_use(arena);
	q = ret_arena(&g[1]);
	return q ? *q : 0;
}

__noinline int tc_helper(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("tc")
__success
int tc_global_ctx(struct __sk_buff *skb)
{
	return tc_helper(skb);
}

static __noinline long *ret_stack(void)
{
	long x = 1;
	long *p = &x;
	asm volatile ("" : "+r"(p));
	return p;
}

SEC("syscall")
__failure __msg("cannot return stack pointer to the caller")
int static_ret_stack(void *ctx)
{
	return *ret_stack();
}

struct lctx { int __arena *p; int n; };

static int lcb(__u64 i, struct lctx *c)
{
	if (c->p)
		c->p[i & 3] += 1;
	c->n++;
	return 0;
}

SEC("syscall")
__success
int loop_arena(void *ctx)
{
	struct lctx c = { .p = &g[0], .n = 0 };
	bpf_arena_use(arena);
	bpf_loop(4, lcb, &c, 0);
	return c.n;
}

static int badcb(__u64 i, void *c)
{
	asm volatile ("r0 = r10; exit;");
	return 0;
}

SEC("syscall")
__failure __msg("unreachable insn 9")
int loop_bad_ret(void *ctx)
{
	return bpf_loop(4, badcb, NULL, 0);
}

SEC("syscall")
__success
int for_loop(void *ctx)
{
	int i, s = 0;
	bpf_for(i, 0, 100)
		s += i;
	return s;
}

SEC("syscall")
__success
int can_loop_arena(void *ctx)
{
	int __arena *p = &g[0];
	int i, s = 0;
	for (i = 0; i < 1000 && can_loop; i++)
		s += p[i & 3];
	return s;
}
char _license[] SEC("license") = "GPL";
