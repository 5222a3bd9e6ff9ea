// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
static int cb2(__u64 i, void *c) { return 2; }
SEC("syscall") __failure __msg("At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]") int loop_ret2(void *ctx) { return bpf_loop(4, cb2, NULL, 0); }
static __noinline int deep(int x) { volatile char buf[300]; buf[x & 255] = 1; return buf[(x + 1) & 255]; }
SEC("syscall") __success int big_stack(void *ctx) { volatile char buf[300]; buf[1] = deep(1); return buf[2]; }
static __noinline int deep2(int x) { volatile char buf[200]; buf[x & 127] = 1; return buf[(x + 1) & 127]; }
SEC("syscall") __success int ok_stack(void *ctx) { volatile char buf[200]; buf[1] = deep2(1); return buf[2]; }
char _license[] SEC("license") = "GPL";
