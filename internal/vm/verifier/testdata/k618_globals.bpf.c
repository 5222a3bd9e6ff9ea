// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
long cnt;
__noinline long *ret_ptr(int x) { return x ? &cnt : 0; }
SEC("syscall") __failure __msg("Global function ret_ptr() doesn't return scalar. Only those are supported.") int call_ret_ptr(void *ctx) { long *p = ret_ptr(1); return p ? 1 : 0; }
enum e { A, B };
__noinline enum e ret_enum(int x) { return x ? A : B; }
SEC("syscall") __success int call_ret_enum(void *ctx) { return ret_enum(1); }
__noinline char ret_char(int x) { return x; }
SEC("syscall") __success int call_ret_char(void *ctx) { return ret_char(1); }
__noinline int two(int a, long *p) { return p ? a + *p : a; }
SEC("syscall") __success int call_two_null(void *ctx) { return two(1, 0); }
SEC("syscall") __success int call_two_stack(void *ctx) { long x = 3; return two(1, &x); }
SEC("syscall") __failure __msg("R2 type=scalar expected=fp") int call_two_bad(void *ctx) { return two(1, (long *)8); }
char _license[] SEC("license") = "GPL";
