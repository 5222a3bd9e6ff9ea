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

SEC("syscall")
__failure __msg("same insn cannot be used with different pointers")
__naked int mixed_arena_first(void)
{
	asm volatile (
	"call 7;"
	"r6 = %[g] ll;"
	"r1 = r10;"
	"r1 += -8;"
	"if r0 == 0 goto l0_%=;"
	"r1 = addr_space_cast(r6, 0, 1);"
	"l0_%=: r2 = 0;"
	"*(u64 *)(r1 + 0) = r2;"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(g) : "r0","r1","r2","r3","r4","r5","r6","r7","r8","r9","memory");
}

SEC("syscall")
__success
__naked int mixed_arena_scalar(void)
{
	asm volatile (
	"call 7;"
	"r6 = %[g] ll;"
	"r1 = 0;"
	"if r0 == 0 goto l0_%=;"
	"r1 = addr_space_cast(r6, 0, 1);"
	"l0_%=: if r1 == 0 goto l1_%=;"
	"r2 = 0;"
	"*(u64 *)(r1 + 0) = r2;"
	"l1_%=: r0 = 0;"
	"exit;"
	:: __imm_addr(g) : "r0","r1","r2","r3","r4","r5","r6","r7","r8","r9","memory");
}

SEC("syscall")
__success
__naked int mixed_map_stack(void)
{
	asm volatile (
	"call 7;"
	"r6 = %[g] ll;"
	"r1 = r10;"
	"r1 += -8;"
	"if r0 == 0 goto l0_%=;"
	"r1 = %[cnt] ll;"
	"l0_%=: r2 = 0;"
	"*(u64 *)(r1 + 0) = r2;"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(g), __imm_addr(cnt) : "r0","r1","r2","r3","r4","r5","r6","r7","r8","r9","memory");
}

char _license[] SEC("license") = "GPL";
