// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
__attribute__((used)) static __naked __noinline int sub320(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 320) = r1; r0 = 0; exit;"); }
__attribute__((used)) static __naked __noinline int sub100(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 100) = r1; r0 = 0; exit;"); }
SEC("syscall") __failure __msg("combined stack size of 2 calls is 640. Too large") __naked int deep_stack(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 320) = r1; call sub320; r0 = 0; exit;"); }
SEC("syscall") __failure __msg("misaligned stack access off 0+0+-100 size 8") __naked int ok_stack2(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 320) = r1; call sub100; r0 = 0; exit;"); }
SEC("syscall") __failure __msg("misaligned stack access off 0+0+-100 size 8") __naked int edge_stack(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 408) = r1; call sub100; r0 = 0; exit;"); }
char _license[] SEC("license") = "GPL";
