// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"

#define __clobber_all "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

struct {
	__uint(type, 1);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, long);
} hmap SEC(".maps");

struct {
	__uint(type, 2);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, long);
} amap SEC(".maps");

int __arena_global g[4];
long __arena *gp;
long out;

#define __imm_addr(name) [name]"i"(&name)

SEC("xdp")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_arena_alloc_pages")
int xdp_alloc(void *ctx)
{
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	return p ? 1 : 0;
}

SEC("tc")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
int tc_arena(void *ctx)
{
	long __arena *p = gp;
	if (!p)
		return 0;
	return *p;
}

SEC("syscall")
__success
__naked int uninit_stack(void)
{
	asm volatile ("r0 = *(u64 *)(r10 - 8); exit;");
}

SEC("syscall")
__failure __msg("invalid write to stack R10 off=-520 size=8")
__naked int stack_oob(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 520) = r1; r0 = 0; exit;");
}

SEC("syscall")
__failure __msg("R0 invalid mem access 'map_value_or_null'")
int no_null_check(void *ctx)
{
	int k = 0;
	long *v = bpf_map_lookup_elem(&hmap, &k);
	return *v;
}

SEC("syscall")
__failure __msg("invalid access to map value, value_size=8 off=4 size=8")
__naked int map_oob(void)
{
	asm volatile (
	"r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r2 = r10; r2 += -4;"
	"r1 = %[amap] ll;"
	"call 1;"
	"if r0 == 0 goto l0_%=;"
	"r0 = *(u64 *)(r0 + 4);"
	"l0_%=: exit;"
	:: __imm_addr(amap) : __clobber_all);
}

__noinline int takes_arena(long __arena *p __arg_arena)
{
	if (!p)
		return 0;
	return *p;
}

SEC("syscall")
__failure __msg("R1 is not a pointer to arena or scalar.")
__naked int arena_arg_stack(void)
{
	asm volatile (
	"r1 = %[arena] ll;"
	"r1 = r10; r1 += -8;"
	"call takes_arena;"
	"exit;"
	:: __imm_addr(arena), __imm_addr(takes_arena) : __clobber_all);
}

SEC("syscall")
__success
__naked int arena_ldsx(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"r0 = *(s8 *)(r1 + 0);"
	"r0 = *(s16 *)(r1 + 0);"
	"r0 = *(s32 *)(r1 + 0);"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
__naked int cast_no_arena(void)
{
	asm volatile (
	"r1 = 0;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"r0 = 0;"
	"exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("R3 !read_ok")
__naked int read_uninit_reg(void)
{
	asm volatile ("r0 = r3; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("R0 !read_ok")
__naked int no_r0(void)
{
	asm volatile ("exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("R1 !read_ok")
__naked int mixed_ptr(void)
{
	asm volatile (
	"r6 = %[g] ll;"
	"r1 = addr_space_cast(r6, 0, 1);"
	"call 7;"
	"if r0 == 0 goto l0_%=;"
	"r1 = r10;"
	"r1 += -8;"
	"l0_%=: r2 = 0;"
	"*(u64 *)(r1 + 0) = r2;"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__failure __msg("same insn cannot be used with different pointers")
__naked int mixed_ptr_stack_first(void)
{
	asm volatile (
	"r6 = %[g] ll;"
	"r1 = r10;"
	"r1 += -8;"
	"call 7;"
	"r1 = r10;"
	"r1 += -8;"
	"if r0 == 0 goto l0_%=;"
	"r1 = addr_space_cast(r6, 0, 1);"
	"l0_%=: r2 = 0;"
	"*(u64 *)(r1 + 0) = r2;"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__failure __msg("unreachable insn 2")
__naked int unreachable(void)
{
	asm volatile ("r0 = 0; exit; r0 = 1; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("div by zero")
__naked int div_zero(void)
{
	asm volatile ("r0 = 1; r0 /= 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("R1 bitwise operator &= on pointer prohibited")
__naked int ptr_and(void)
{
	asm volatile ("r1 = r10; r1 &= 8; r0 = 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("frame pointer is read only")
__naked int write_r10(void)
{
	asm volatile ("r10 = 0; r0 = 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("invalid size of register fill")
__naked int arena_partial_fill(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"*(u64 *)(r10 - 8) = r1;"
	"r0 = *(u32 *)(r10 - 8);"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__failure __msg("R1 invalid mem access 'scalar'")
__naked int arena_global_nocast(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r0 = *(u32 *)(r1 + 0);"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("tc")
__failure __msg("dereference of modified ctx ptr R1 off=8 disallowed")
__naked int ctx_modified(void)
{
	asm volatile ("r1 += 8; r0 = *(u32 *)(r1 + 0); exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("jump out of range from insn 1 to 7")
__naked int jump_oob(void)
{
	asm volatile ("r0 = 0; goto +5; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("misaligned stack access off 0+0+-6 size 4")
__naked int stack_misaligned(void)
{
	asm volatile ("r1 = 0; *(u32 *)(r10 - 6) = r1; r0 = 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__success
__naked int ptr_sub_scalar32(void)
{
	asm volatile ("r1 = r10; w1 -= 8; r0 = 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("R1 32-bit pointer arithmetic prohibited")
__naked int ptr_add32(void)
{
	asm volatile ("r1 = r10; w1 += 8; r0 = 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__success
__naked int arena_ret(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r0 = addr_space_cast(r1, 0, 1);"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__success
__naked int stack_ret(void)
{
	asm volatile ("r0 = r10; exit;" ::: __clobber_all);
}

SEC("xdp")
__success
__naked int xdp_stack_ret(void)
{
	asm volatile ("r0 = r10; exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("invalid func unknown#999")
__naked int helper_unknown(void)
{
	asm volatile ("call 999; exit;" ::: __clobber_all);
}

SEC("syscall")
/* diverges from Linux 6.18, see doc.go */
__naked int ldx_from_map_ptr(void)
{
	asm volatile ("r1 = %[amap] ll; r0 = *(u32 *)(r1 + 0); exit;" :: __imm_addr(amap) : __clobber_all);
}

SEC("syscall")
__success
__naked int arena_32bit_alu(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"w1 += 8;"
	"r0 = *(u32 *)(r1 + 0);"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__success
__naked int arena_scalar_add(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"r2 = 8;"
	"r2 += r1;"
	"r0 = *(u32 *)(r2 + 0);"
	"exit;"
	:: __imm_addr(g) : __clobber_all);
}

SEC("syscall")
__failure __msg("BPF_ATOMIC stores into R1 ctx is not allowed")
__naked int stx_ctx_atomic(void)
{
	asm volatile ("r2 = 1; lock *(u32 *)(r1 + 0) += r2; r0 = 0; exit;" ::: __clobber_all);
}

char _license[] SEC("license") = "GPL";

__noinline int takes_scalar(int n)
{
	return n + 1;
}

SEC("syscall")
__failure __msg("R1 is not a scalar")
__naked int scalar_arg_ptr(void)
{
	asm volatile (
	"r1 = r10;"
	"call takes_scalar;"
	"exit;"
	:: __imm_addr(takes_scalar) : __clobber_all);
}

SEC("syscall")
__success
__naked int arena_arg_ok(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"call takes_arena;"
	"r1 = 0;"
	"call takes_arena;"
	"exit;"
	:: __imm_addr(g), __imm_addr(takes_arena) : __clobber_all);
}

__noinline int takes_mem(long *p)
{
	return *p;
}

SEC("syscall")
__failure __msg("R1 invalid mem access 'mem_or_null'")
int mem_arg(void *ctx)
{
	long x = 5;
	return takes_mem(&x);
}

__noinline int takes_mem_checked(long *p)
{
	if (!p)
		return 0;
	return *p;
}

SEC("syscall")
__success
int mem_arg_checked(void *ctx)
{
	long x = 5;
	return takes_mem_checked(&x) + takes_mem_checked(NULL);
}

static int cb(__u64 i, void *c)
{
	long __arena *p = gp;
	if (p)
		p[i & 7] = i;
	return 0;
}

SEC("syscall")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
int loop_cb(void *ctx)
{
	return bpf_loop(10, cb, NULL, 0);
}

SEC("xdp")
__failure __msg("invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)")
__naked int pkt_nocheck(void)
{
	asm volatile (
	"r2 = *(u32 *)(r1 + 0);"
	"r0 = *(u8 *)(r2 + 0);"
	"exit;" ::: __clobber_all);
}

SEC("xdp")
__success
__naked int pkt_check(void)
{
	asm volatile (
	"r2 = *(u32 *)(r1 + 0);"
	"r3 = *(u32 *)(r1 + 4);"
	"r4 = r2;"
	"r4 += 14;"
	"r0 = 1;"
	"if r4 > r3 goto l0_%=;"
	"r0 = *(u8 *)(r2 + 13);"
	"l0_%=: exit;" ::: __clobber_all);
}

SEC("xdp")
__failure __msg("invalid access to packet, off=13 size=2, R2(id=0,off=13,r=14)")
__naked int pkt_check_short(void)
{
	asm volatile (
	"r2 = *(u32 *)(r1 + 0);"
	"r3 = *(u32 *)(r1 + 4);"
	"r4 = r2;"
	"r4 += 14;"
	"r0 = 1;"
	"if r4 > r3 goto l0_%=;"
	"r0 = *(u16 *)(r2 + 13);"
	"l0_%=: exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("R1 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_")
__naked int ringbuf_like_no_size(void)
{
	asm volatile ("r1 = 0; r2 = 0; call 6; r0 = 0; exit;" ::: __clobber_all);
}

SEC("syscall")
__success
__naked int stack_ptr_to_helper_uninit(void)
{
	asm volatile (
	"r1 = %[hmap] ll;"
	"r2 = r10; r2 += -8;"
	"call 1;"
	"r0 = 0;"
	"exit;" :: __imm_addr(hmap) : __clobber_all);
}

SEC("syscall")
__failure __msg("R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_")
__naked int lookup_bad_key(void)
{
	asm volatile (
	"r1 = %[hmap] ll;"
	"r2 = 0;"
	"call 1;"
	"r0 = 0;"
	"exit;" :: __imm_addr(hmap) : __clobber_all);
}

SEC("syscall")
__success
__naked int stack_var_off(void)
{
	asm volatile (
	"call 7;"
	"r0 &= 8;"
	"r1 = r10;"
	"r1 += -16;"
	"r1 += r0;"
	"r2 = 0;"
	"*(u64 *)(r1 + 0) = r2;"
	"r0 = 0;"
	"exit;" ::: __clobber_all);
}

SEC("syscall")
__failure __msg("math between map_value pointer and register with unbounded min value is not allowed")
__naked int map_value_var_off(void)
{
	asm volatile (
	"call 7;"
	"r1 = %[out] ll;"
	"r1 += r0;"
	"r0 = *(u8 *)(r1 + 0);"
	"exit;" :: __imm_addr(out) : __clobber_all);
}

SEC("syscall")
__success
__naked int map_value_var_off_masked(void)
{
	asm volatile (
	"call 7;"
	"r0 &= 7;"
	"r1 = %[out] ll;"
	"r1 += r0;"
	"r0 = *(u8 *)(r1 + 0);"
	"exit;" :: __imm_addr(out) : __clobber_all);
}
