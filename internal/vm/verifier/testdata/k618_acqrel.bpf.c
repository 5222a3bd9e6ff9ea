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
#define __imm_addr(name) [name]"i"(&name)
SEC("syscall")
__success
__naked int arena_load_acq(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	".8byte 0x00000100000010db;"
	"exit;"
	:: __imm_addr(g) : "r0","r1","memory");
}
SEC("syscall")
__success
__naked int arena_store_rel(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	"r2 = 5;"
	".8byte 0x00000110000021db;"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(g) : "r0","r1","r2","memory");
}
SEC("syscall")
__success
__naked int arena_load_acq_b(void)
{
	asm volatile (
	"r1 = %[g] ll;"
	"r1 = addr_space_cast(r1, 0, 1);"
	".8byte 0x00000100000010d3;"
	"exit;"
	:: __imm_addr(g) : "r0","r1","memory");
}
char _license[] SEC("license") = "GPL";
