// SPDX-License-Identifier: Apache-2.0
/*
 * An object without an arena: addr_space_cast is refused.
 */
#include "bpfarena.h"

SEC("syscall")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
__naked int cast_to_kern_without_arena(void)
{
	asm volatile(
	"r1 = 0\n"
	"r1 = addr_space_cast(r1, 0x0, 0x1)\n"
	"r0 = 0\n"
	"exit\n");
}

SEC("syscall")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
__naked int cast_to_user_without_arena(void)
{
	asm volatile(
	"r1 = 0\n"
	"r1 = addr_space_cast(r1, 0x1, 0x0)\n"
	"r0 = 0\n"
	"exit\n");
}

/* the immediate is checked first */
SEC("syscall")
__failure __msg("addr_space_cast insn can only convert between address space 1 and 0")
__naked int cast_bad_imm_without_arena(void)
{
	asm volatile(
	"r1 = 0\n"
	".8byte 0x00000002000111bf\n"
	"r0 = 0\n"
	"exit\n");
}

/* a cast with its offset dropped is a plain move with a reserved imm */
SEC("syscall")
__failure __msg("BPF_MOV uses reserved fields")
__naked int mov_reserved_offset(void)
{
	asm volatile(
	"r1 = 0\n"
	".8byte 0x00000001000011bf\n"
	"r0 = 0\n"
	"exit\n");
}

SEC("syscall")
__success __retval(0)
__naked int plain_program(void)
{
	asm volatile(
	"r0 = 0\n"
	"exit\n");
}

char _license[] SEC("license") = "GPL";
