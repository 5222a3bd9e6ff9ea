// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
struct {
	__uint(type, 1);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, long);
} hmap SEC(".maps");
#define __imm_addr(name) [name]"i"(&name)
#define CLOB "r0","r1","r2","r3","r4","r5"
SEC("syscall") __failure __msg("R0 pointer arithmetic on map_value_or_null prohibited, null-check it first") __naked int null_arith(void) { asm volatile ("r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; r0 += 8; r0 = 0; exit;" :: __imm_addr(hmap) : CLOB); }
SEC("syscall") __failure __msg("R1 tried to subtract pointer from scalar") __naked int scalar_minus_ptr(void) { asm volatile ("r1 = 5; r1 -= r10; r0 = 0; exit;" ::: CLOB); }
SEC("syscall") __failure __msg("R1 pointer += pointer prohibited") __naked int ptr_plus_ptr(void) { asm volatile ("r1 = r10; r1 += r10; r0 = 0; exit;" ::: CLOB); }
SEC("syscall") __failure __msg("R2 type=scalar expected=func") __naked int loop_not_func(void) { asm volatile ("r1 = 1; r2 = 0; r3 = 0; r4 = 0; call 181; exit;" ::: CLOB); }
__noinline int takes_skb(struct __sk_buff *skb) { return skb ? 1 : 0; }
SEC("tc") __failure __msg("arg#0 expects pointer to ctx") __naked int ctx_arg_bad(void) { asm volatile ("r1 = r10; call takes_skb; exit;" :: __imm_addr(takes_skb) : CLOB); }
static int cbp(__u64 i, void *c) { asm volatile ("r0 = r10; exit;"); return 0; }
SEC("syscall") __failure __msg("unreachable insn 9") int cb_ptr_ret(void *ctx) { return bpf_loop(1, cbp, NULL, 0); }
char _license[] SEC("license") = "GPL";
