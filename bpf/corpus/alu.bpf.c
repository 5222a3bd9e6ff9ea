// SPDX-License-Identifier: Apache-2.0
/*
 * ALU edge cases: 32-bit results zero-extend, division and modulo by zero
 * (x / 0 = 0, x % 0 = x), signed division of INT_MIN by -1, shift amounts
 * masked to the operand width, negation, sign-extending moves, byte swaps.
 * Every test is hand-written assembly so that the compiler cannot fold it;
 * each returns r0, of which the test run reports the low 32 bits.
 */
#include "bpfarena.h"

#define ALU_TEST(name, ret, insns)                                           \
	SEC("syscall") __success __retval(ret) __naked int name(void)        \
	{                                                                    \
		asm volatile(insns "exit\n");                                \
	}

/* --- add, sub, mul --- */
/* 0xffffffff + 1 carries into bit 32 */
ALU_TEST(add64_carry, 1,
	"r0 = 0xffffffff ll\n"
	"r0 += 1\n"
	"r0 >>= 32\n")
/* w0 += 2 on all-ones: 1, upper half cleared (else the sum below is 0) */
ALU_TEST(add32_zero_extends, 1,
	"r0 = -1\n"
	"w0 += 2\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += r1\n")
ALU_TEST(sub32_wraps, 65535,
	"w0 = 0\n"
	"w0 -= 1\n"
	"r0 >>= 16\n")
/* (2^32 + 1)^2 mod 2^64 = 2^33 + 1: low word 1, high word 2 */
ALU_TEST(mul64_wraps, 3,
	"r0 = 0x100000001 ll\n"
	"r0 *= r0\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += r1\n")
ALU_TEST(mul32_wraps, 7,
	"r0 = -1\n"
	"w0 = 65536\n"
	"w0 *= w0\n"
	"r0 += 7\n")
/* mov imm sign-extends to 64 bits, mov32 imm zero-extends */
ALU_TEST(mov64_imm_sign_extends, -1,
	"r0 = -1\n"
	"r0 >>= 32\n")
ALU_TEST(mov32_imm_zero_extends, 1,
	"w0 = -1\n"
	"r0 >>= 31\n")

/* --- unsigned division and modulo --- */
ALU_TEST(div64_by_zero, 5,
	"r0 = 42\n"
	"r1 = 0\n"
	"r0 /= r1\n"
	"r0 += 5\n")
ALU_TEST(mod64_by_zero, 42,
	"r0 = 42\n"
	"r1 = 0\n"
	"r0 %= r1\n")
/* w0 / 0 = 0 with the upper half cleared: 5 (4 if r0 kept its upper half) */
ALU_TEST(div32_by_zero, 5,
	"r0 = -1\n"
	"r1 = 0\n"
	"w0 /= w1\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += 5\n"
	"r0 += r1\n")
/* w0 % 0 = w0, zero-extended: 7 (6 if the upper half stayed) */
ALU_TEST(mod32_by_zero, 7,
	"r0 = 0xffffffff00000007 ll\n"
	"r1 = 0\n"
	"w0 %= w1\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += r1\n")
/* a 32-bit divisor is zero when its low word is, whatever the high word */
ALU_TEST(div32_by_low_word_zero, 5,
	"r1 = 0x100000000 ll\n"
	"r0 = 42\n"
	"w0 /= w1\n"
	"r0 += 5\n")
ALU_TEST(mod32_by_low_word_zero, 42,
	"r1 = 0x100000000 ll\n"
	"r0 = 42\n"
	"w0 %= w1\n")
/* unsigned: -1 / 2 = 0x7fffffffffffffff */
ALU_TEST(div64_unsigned, 2147483647,
	"r0 = -1\n"
	"r0 /= 2\n"
	"r0 >>= 32\n")
ALU_TEST(mod64_unsigned, 1,
	"r0 = -1\n"
	"r1 = 2\n"
	"r0 %= r1\n")
ALU_TEST(div32_unsigned, 2147483647,
	"w0 = -1\n"
	"w0 /= 2\n")
ALU_TEST(div64_imm, 14,
	"r0 = 100\n"
	"r0 /= 7\n")
ALU_TEST(mod64_imm, 2,
	"r0 = 100\n"
	"r0 %= 7\n")

/* --- signed division and modulo (cpu v4) --- */
ALU_TEST(sdiv64_truncates, -3,
	"r0 = -7\n"
	"r1 = 2\n"
	"r0 s/= r1\n")
ALU_TEST(smod64_sign_of_dividend, -1,
	"r0 = -7\n"
	"r1 = 2\n"
	"r0 s%= r1\n")
ALU_TEST(smod64_negative_divisor, 1,
	"r0 = 7\n"
	"r1 = -2\n"
	"r0 s%= r1\n")
ALU_TEST(sdiv64_imm, -14,
	"r0 = -100\n"
	"r0 s/= 7\n")
ALU_TEST(smod64_imm, -2,
	"r0 = -100\n"
	"r0 s%= 7\n")
ALU_TEST(sdiv64_by_zero, 5,
	"r0 = -7\n"
	"r1 = 0\n"
	"r0 s/= r1\n"
	"r0 += 5\n")
ALU_TEST(smod64_by_zero, -7,
	"r0 = -7\n"
	"r1 = 0\n"
	"r0 s%= r1\n")
/* LLONG_MIN / -1 = LLONG_MIN: top nibble 8 */
ALU_TEST(sdiv64_intmin_by_minus1, 8,
	"r0 = 0x8000000000000000 ll\n"
	"r1 = -1\n"
	"r0 s/= r1\n"
	"r0 >>= 60\n")
ALU_TEST(smod64_intmin_by_minus1, 9,
	"r0 = 0x8000000000000000 ll\n"
	"r1 = -1\n"
	"r0 s%= r1\n"
	"r0 += 9\n")
/* INT_MIN / -1 = INT_MIN in 32 bits, zero-extended: 0x80000000 >> 28 = 8 */
ALU_TEST(sdiv32_intmin_by_minus1, 8,
	"r0 = -1\n"
	"w0 = -2147483648\n"
	"w1 = -1\n"
	"w0 s/= w1\n"
	"r0 >>= 28\n")
ALU_TEST(smod32_intmin_by_minus1, 9,
	"r0 = -1\n"
	"w0 = -2147483648\n"
	"w1 = -1\n"
	"w0 s%= w1\n"
	"r0 += 9\n")
ALU_TEST(sdiv32_by_zero, 5,
	"r0 = -1\n"
	"w0 = -7\n"
	"w1 = 0\n"
	"w0 s/= w1\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += 5\n"
	"r0 += r1\n")
/* w0 s% 0 = w0 = -7, zero-extended (the high word added below is 0) */
ALU_TEST(smod32_by_zero, -7,
	"r0 = -1\n"
	"w0 = -7\n"
	"w1 = 0\n"
	"w0 s%= w1\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += r1\n")
ALU_TEST(sdiv32_truncates, -3,
	"w0 = -7\n"
	"w1 = 2\n"
	"w0 s/= w1\n")
ALU_TEST(sdiv64_intmin_by_minus1_imm, 8,
	"r0 = 0x8000000000000000 ll\n"
	"r0 s/= -1\n"
	"r0 >>= 60\n")

/* --- shifts: the amount is masked to 63 (64-bit) or 31 (32-bit) --- */
ALU_TEST(lsh64_masked, 2,
	"r0 = 1\n"
	"r1 = 65\n"
	"r0 <<= r1\n")
ALU_TEST(lsh32_masked, 2,
	"w0 = 1\n"
	"w1 = 33\n"
	"w0 <<= w1\n")
ALU_TEST(rsh64_masked, 1,
	"r0 = -1\n"
	"r1 = 127\n"
	"r0 >>= r1\n")
ALU_TEST(rsh32_masked, 1,
	"w0 = -1\n"
	"w1 = 63\n"
	"w0 >>= w1\n")
ALU_TEST(arsh64_masked, -4,
	"r0 = -16\n"
	"r1 = 66\n"
	"r0 s>>= r1\n")
/* arsh32 works on the low word and zero-extends */
ALU_TEST(arsh32_masked, -4,
	"r0 = -16\n"
	"w1 = 34\n"
	"w0 s>>= w1\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += r1\n")
ALU_TEST(arsh32_imm, 268435455,
	"w0 = -16\n"
	"w0 s>>= 4\n"
	"r0 >>= 4\n")
ALU_TEST(lsh64_imm63, -2147483648,
	"r0 = 1\n"
	"r0 <<= 63\n"
	"r0 >>= 32\n")

/* --- bitwise and negation --- */
ALU_TEST(and_or_xor, 0x5a,
	"r0 = 0xf0f0\n"
	"r0 &= 0xff\n"
	"r0 |= 0x0f\n"
	"r0 ^= 0xa5\n")
ALU_TEST(and64_imm_sign_extends, -1,
	"r0 = -1\n"
	"r0 &= -2\n"
	"r0 >>= 32\n")
ALU_TEST(and32_zero_extends, 0,
	"r0 = -1\n"
	"w0 &= -1\n"
	"r0 >>= 32\n")
ALU_TEST(neg64, -5,
	"r0 = 5\n"
	"r0 = -r0\n")
ALU_TEST(neg32_zero_extends, 268435455,
	"w0 = 5\n"
	"w0 = -w0\n"
	"r0 >>= 4\n")
ALU_TEST(neg64_intmin, -2147483648,
	"r0 = 0x8000000000000000 ll\n"
	"r0 = -r0\n"
	"r0 >>= 32\n")

/* --- sign-extending moves (cpu v4) --- */
ALU_TEST(movsx64_s8, -128,
	"r1 = 0x180\n"
	"r0 = (s8)r1\n")
ALU_TEST(movsx64_s8_high_word, -1,
	"r1 = 0x80\n"
	"r0 = (s8)r1\n"
	"r0 >>= 32\n")
ALU_TEST(movsx64_s16, -32768,
	"r1 = 0x8000\n"
	"r0 = (s16)r1\n")
ALU_TEST(movsx64_s32_high_word, -1,
	"r1 = 0x80000000 ll\n"
	"r0 = (s32)r1\n"
	"r0 >>= 32\n")
ALU_TEST(movsx64_positive, 127,
	"r1 = 0x17f\n"
	"r0 = (s8)r1\n")
/* w0 = (s8)w1 sign-extends into 32 bits and clears the high word */
ALU_TEST(movsx32_s8, -128,
	"r1 = 0x180\n"
	"w0 = (s8)w1\n"
	"r1 = r0\n"
	"r1 >>= 32\n"
	"r0 += r1\n")
ALU_TEST(movsx32_s16, -2,
	"w1 = 0x1fffe\n"
	"w0 = (s16)w1\n")

/* --- byte swaps --- */
ALU_TEST(bswap16, 0x0807,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = bswap16 r0\n")
ALU_TEST(bswap32, 0x08070605,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = bswap32 r0\n")
ALU_TEST(bswap64_low, 0x04030201,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = bswap64 r0\n")
ALU_TEST(bswap64_high, 0x08070605,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = bswap64 r0\n"
	"r0 >>= 32\n")
ALU_TEST(be16, 0x0807,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = be16 r0\n")
ALU_TEST(be32_clears_high_word, 0,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = be32 r0\n"
	"r0 >>= 32\n")
ALU_TEST(le16_truncates, 0x0708,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = le16 r0\n")
ALU_TEST(le32_truncates, 0x05060708,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = le32 r0\n")
ALU_TEST(le64_keeps, 0x01020304,
	"r0 = 0x0102030405060708 ll\n"
	"r0 = le64 r0\n"
	"r0 >>= 32\n")

char _license[] SEC("license") = "GPL";
