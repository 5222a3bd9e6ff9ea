// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
SEC("syscall") __failure __msg("invalid bpf_context access off=2 size=4") __naked int sys_misaligned(void) { asm volatile ("r0 = *(u32 *)(r1 + 2); exit;"); }
SEC("syscall") __success __naked int sys_far(void) { asm volatile ("r0 = *(u32 *)(r1 + 30000); exit;"); }
SEC("syscall") __success __naked int sys_write(void) { asm volatile ("r2 = 1; *(u32 *)(r1 + 8) = r2; r0 = 0; exit;"); }
SEC("xdp") __failure __msg("invalid bpf_context access off=12 size=4") __naked int xdp_write(void) { asm volatile ("r2 = 1; *(u32 *)(r1 + 12) = r2; r0 = 0; exit;"); }
SEC("xdp") __failure __msg("invalid bpf_context access off=12 size=2") __naked int xdp_narrow(void) { asm volatile ("r0 = *(u16 *)(r1 + 12); exit;"); }
SEC("xdp") __failure __msg("invalid bpf_context access off=24 size=4") __naked int xdp_past(void) { asm volatile ("r0 = *(u32 *)(r1 + 24); exit;"); }
SEC("xdp") __failure __msg("invalid bpf_context access off=20 size=4") __naked int xdp_ifindex(void) { asm volatile ("r0 = *(u32 *)(r1 + 20); exit;"); }
SEC("xdp") __failure __msg("invalid bpf_context access off=0 size=8") __naked int xdp_dw(void) { asm volatile ("r0 = *(u64 *)(r1 + 0); exit;"); }
char _license[] SEC("license") = "GPL";
