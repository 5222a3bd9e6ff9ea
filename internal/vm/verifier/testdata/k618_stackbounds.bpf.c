// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
SEC("syscall") __failure __msg("invalid read from stack R10 off=4 size=4") __naked int ldx_above(void) { asm volatile ("r0 = *(u32 *)(r10 + 4); exit;"); }
SEC("syscall") __failure __msg("invalid write to stack R1 off=0 size=8") __naked int stx_above(void) { asm volatile ("r1 = r10; *(u64 *)(r1 + 0) = r1; r0 = 0; exit;"); }
SEC("syscall") __failure __msg("invalid write to stack R10 off=-520 size=8") __naked int stx_below(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 520) = r1; r0 = 0; exit;"); }
char _license[] SEC("license") = "GPL";
