// SPDX-License-Identifier: Apache-2.0
/*
 * Loads and stores on the stack and on map values (.bss/.data globals):
 * sizes, zero- and sign-extending loads (cpu v4), stores of immediates,
 * 64-bit immediates, and little-endian byte order.
 */
#include "bpfarena.h"

#define MEM_TEST(name, ret, insns)                                           \
	SEC("syscall") __success __retval(ret) __naked int name(void)        \
	{                                                                    \
		asm volatile(insns "exit\n");                                \
	}

/* a store of an immediate sign-extends it to the access size */
MEM_TEST(st_imm64_sign_extends, 1,
	"*(u64 *)(r10 - 8) = -1\n"
	"r0 = *(u32 *)(r10 - 4)\n"
	"r0 >>= 31\n")
/* a 32-bit load zero-extends */
MEM_TEST(ldx32_zero_extends, 0,
	"*(u64 *)(r10 - 8) = -1\n"
	"r0 = *(u32 *)(r10 - 8)\n"
	"r0 >>= 32\n")
/* little endian: the lowest byte comes first */
MEM_TEST(little_endian_bytes, 0x78,
	"r1 = 0x12345678\n"
	"*(u32 *)(r10 - 8) = r1\n"
	"r0 = *(u8 *)(r10 - 8)\n")
MEM_TEST(little_endian_halves, 0x1234,
	"r1 = 0x12345678\n"
	"*(u32 *)(r10 - 8) = r1\n"
	"r0 = *(u16 *)(r10 - 6)\n")
MEM_TEST(ldsx8, -128,
	"*(u8 *)(r10 - 1) = 128\n"
	"r0 = *(s8 *)(r10 - 1)\n")
MEM_TEST(ldsx8_high_word, -1,
	"*(u8 *)(r10 - 1) = 128\n"
	"r0 = *(s8 *)(r10 - 1)\n"
	"r0 >>= 32\n")
MEM_TEST(ldsx16, -32768,
	"*(u16 *)(r10 - 2) = 32768\n"
	"r0 = *(s16 *)(r10 - 2)\n")
MEM_TEST(ldsx32_high_word, -1,
	"*(u32 *)(r10 - 4) = -2147483648\n"
	"r0 = *(s32 *)(r10 - 4)\n"
	"r0 >>= 32\n")
MEM_TEST(ldsx8_positive, 127,
	"*(u8 *)(r10 - 1) = 127\n"
	"r0 = *(s8 *)(r10 - 1)\n")
MEM_TEST(ld_imm64_high_word, 0x12345678,
	"r0 = 0x123456789abcdef0 ll\n"
	"r0 >>= 32\n")
MEM_TEST(ld_imm64_low_word, -1698898192,
	"r0 = 0x123456789abcdef0 ll\n")
/* a partial overwrite of a spilled value */
MEM_TEST(stack_partial_overwrite, 0x11223399,
	"r1 = 0x11223344\n"
	"*(u32 *)(r10 - 8) = r1\n"
	"*(u8 *)(r10 - 8) = 0x99\n"
	"r0 = *(u32 *)(r10 - 8)\n")

__u64 bss_word;
__u32 scratch[2];
__u32 data_words[4] = { 1, 2, 3, 4 };
const volatile __u32 ro_word = 77;

/* map values through direct addresses of globals */
SEC("syscall")
__success __retval(10)
int global_array_sum(void *ctx)
{
	__u32 s = 0;
	int i;

	for (i = 0; i < 4; i++)
		s += data_words[i];
	return s;
}

SEC("syscall")
__success __retval(-1)
__naked int bss_store_load(void)
{
	asm volatile(
	"r1 = %[w] ll\n"
	"r2 = -1\n"
	"*(u64 *)(r1 + 0) = r2\n"
	"r0 = *(u64 *)(r1 + 0)\n"
	"r0 >>= 32\n"
	"exit\n"
	:: [w] "i"(&bss_word));
}

SEC("syscall")
__success __retval(-2)
__naked int map_value_ldsx(void)
{
	asm volatile(
	"r1 = %[w] ll\n"
	"*(u16 *)(r1 + 4) = 65534\n"
	"r0 = *(s16 *)(r1 + 4)\n"
	"exit\n"
	:: [w] "i"(&scratch));
}

SEC("syscall")
__success __retval(77)
int rodata_read(void *ctx)
{
	return ro_word;
}

char _license[] SEC("license") = "GPL";
