// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
long cnt;
static __noinline int rec(int n) { if (n <= 0) return 0; cnt++; return rec(n - 1) + 1; }
SEC("syscall") __success int recursion(void *ctx) { return rec(3); }
char _license[] SEC("license") = "GPL";
