// SPDX-License-Identifier: Apache-2.0
/*
 * The verifier's arena rules: what it refuses (with the log message it
 * prints) and what it accepts. 4-page arena, one arena global.
 * Refused atomics (fetching and/or/xor on arena memory) are in atomics.bpf.c;
 * casts in an object without an arena are in noarena.bpf.c.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

__u64 __arena_global vg = 3;
__u64 __arena_global vg2 = 4;
__u64 bss_word;

/* --- addr_space_cast encodings --- */

/* r1 = addr_space_cast(r1, 0, 2): 0xbf, regs 0x11, off 1, imm 2 */
SEC("syscall")
__failure __msg("addr_space_cast insn can only convert between address space 1 and 0")
__naked int cast_imm_2(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	".8byte 0x00000002000111bf\n"
	"r0 = 0\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

/* imm (1 << 16) | 1 */
SEC("syscall")
__failure __msg("addr_space_cast insn can only convert between address space 1 and 0")
__naked int cast_imm_both(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	".8byte 0x00010001000111bf\n"
	"r0 = 0\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

/* a program that does not reference the arena map has no arena */
SEC("syscall")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
__naked int cast_without_arena_reference(void)
{
	asm volatile(
	"r1 = 0\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r0 = 0\n"
	"exit\n");
}

/* --- dereferencing without the cast --- */

SEC("syscall")
__failure __msg("R1 invalid mem access 'scalar'")
__naked int deref_global_address_without_cast(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	"r0 = *(u64 *)(r1 + 0)\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

SEC("syscall")
__failure __msg("R1 invalid mem access 'scalar'")
__naked int deref_kfunc_result_without_cast(void)
{
	asm volatile(
	"r1 = %[arena] ll\n"
	"r2 = 0\n"
	"r3 = 1\n"
	"r4 = -1\n"
	"r5 = 0\n"
	"call %[alloc]\n"
	"if r0 == 0 goto 1f\n"
	"r1 = r0\n"
	"*(u64 *)(r1 + 0) = 1\n"
	"1:\n"
	"r0 = 0\n"
	"exit\n"
	:: [arena] "i"(&arena), [alloc] "i"(bpf_arena_alloc_pages));
}

SEC("syscall")
__success __retval(3)
__description("the same load with the cast is accepted")
__naked int deref_global_address_with_cast(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r0 = *(u64 *)(r1 + 0)\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

/* a load through an arena pointer gives a scalar, not a pointer */
SEC("syscall")
__failure __msg("R2 invalid mem access 'scalar'")
__naked int loaded_pointer_needs_cast(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r2 = *(u64 *)(r1 + 0)\n"
	"r0 = *(u64 *)(r2 + 0)\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

/* the log shows casts as addr_space_cast(rX, dst_as, src_as) */
SEC("syscall")
__success __retval(0) __log_level(2)
__msg("r1 = addr_space_cast(r1, 0, 1)")
__msg("r0 = *(u64 *)(r1 +8)")
__msg("r2 = addr_space_cast(r2, 1, 0)")
__description("the verifier log prints both casts")
__naked int log_prints_casts(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	"r2 = r1\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r0 = *(u64 *)(r1 + 8)\n"
	"r2 = addr_space_cast(r2, 0x1, 0x0)\n"
	"r0 = 0\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

/* --- no bounds or alignment checks on arena pointers --- */

SEC("syscall")
__success __retval(1146447479) __flag(BPF_F_STRICT_ALIGNMENT)
__description("unaligned arena accesses are fine even with strict alignment")
__naked int arena_unaligned(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r2 = 0x1122334455667788 ll\n"
	"*(u64 *)(r1 + 19) = r2\n"
	"r0 = *(u32 *)(r1 + 20)\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

SEC("syscall")
__success
__description("any offset and any arithmetic on an arena pointer is accepted (load only)")
__naked int arena_any_offset(void)
{
	asm volatile(
	"r1 = %[vg] ll\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r1 *= 7\n"
	"r1 |= 0x10000\n"
	"r0 = *(u8 *)(r1 + 32767)\n"
	"r0 = *(u8 *)(r1 - 32768)\n"
	"exit\n"
	:: [vg] "i"(&vg));
}

/* --- __arg_arena arguments of global functions --- */

__noinline int takes_arena(void *p __arg_arena)
{
	return p ? 1 : 0;
}

SEC("syscall")
__failure __msg("R1 is not a pointer to arena or scalar.")
int arg_arena_given_stack_pointer(void *ctx)
{
	int x = 0;

	return takes_arena(&x);
}

SEC("syscall")
__failure __msg("R1 is not a pointer to arena or scalar.")
int arg_arena_given_map_value(void *ctx)
{
	return takes_arena(&bss_word);
}

SEC("syscall")
__success __retval(1)
__description("a scalar may be passed as an arena argument")
int arg_arena_given_scalar(void *ctx)
{
	return takes_arena((void *)bss_word + 1);
}

SEC("syscall")
__success __retval(1)
__description("an arena pointer may be passed as an arena argument")
int arg_arena_given_arena_pointer(void *ctx)
{
	return takes_arena((void *)&vg2);
}

/* --- page kfuncs need a sleepable program up to 6.18; 7.3 defers frees --- */

SEC("tc")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_arena_alloc_pages") __kernel_max(6.18)
int alloc_in_tc(struct __sk_buff *skb)
{
	return bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0) != NULL;
}

SEC("tc")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_arena_free_pages") __kernel_max(6.18)
int free_in_tc(struct __sk_buff *skb)
{
	bpf_arena_free_pages(&arena, (void __arena *)&vg, 1);
	return 0;
}

SEC("tc")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_arena_reserve_pages")
__kernel_min(6.17) __kernel_max(6.18)
int reserve_in_tc(struct __sk_buff *skb)
{
	return bpf_arena_reserve_pages(&arena, (void __arena *)&vg, 1);
}

SEC("tc")
__success __retval(1) __kernel_min(7.3)
__description("7.3 accepts the page kfuncs in non-sleepable programs")
int alloc_in_tc_any(struct __sk_buff *skb)
{
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!p)
		return 0;
	bpf_arena_free_pages(&arena, p, 1);
	return 1;
}

SEC("tc")
__success __retval(42) __kernel_min(7.3)
__description("a free from a non-sleepable program is deferred: the page stays present until the program returns")
int free_deferred_in_tc(struct __sk_buff *skb)
{
	int __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!p)
		return -1;
	*p = 42;
	bpf_arena_free_pages(&arena, p, 1);
	return *p;
}

SEC("tc")
__success __retval(-16) __kernel_min(7.3)
__description("reserve from a non-sleepable program: the globals' page is taken (-EBUSY)")
int reserve_in_tc_any(struct __sk_buff *skb)
{
	return bpf_arena_reserve_pages(&arena, (void __arena *)&vg, 1);
}

SEC("tc")
__success
__description("a non-sleepable program may use arena memory without the kfuncs")
int memory_in_tc(struct __sk_buff *skb)
{
	vg += skb->len;
	return 0;
}

SEC("syscall")
__success __retval(1)
__description("syscall programs are sleepable and may call the kfuncs")
int alloc_in_syscall(void *ctx)
{
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	bpf_arena_free_pages(&arena, p, 1);
	return p != NULL;
}

char _license[] SEC("license") = "GPL";
