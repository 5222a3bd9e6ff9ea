// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
struct {
	__uint(type, 2);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, long);
} amap SEC(".maps");
long arr[16];
long idxs[4];
static __u64 (*ktime)(void) = (void *)5;
static __u32 (*prand)(void) = (void *)7;
SEC("syscall") __success int loop_idx(void *ctx) { int i; long s = 0; bpf_for(i, 0, 16) s += arr[i]; return s; }
SEC("syscall") __success int canloop_idx(void *ctx) { long s = 0; for (int i = 0; i < 16 && can_loop; i++) s += arr[i]; return s; }
SEC("syscall") __success int map_idx(void *ctx) { long i = idxs[0]; if (i < 0 || i >= 16) return 0; return arr[i]; }
SEC("syscall") __success int map_uidx(void *ctx) { __u64 i = idxs[1]; if (i >= 16) return 0; return arr[i]; }
SEC("syscall") __success int rand_mod(void *ctx) { return arr[prand() % 16]; }
SEC("syscall") __success int time_mask(void *ctx) { return arr[ktime() & 15]; }
SEC("syscall") __success int stack_idx(void *ctx) { volatile long buf[8] = {}; __u64 i = idxs[2]; return buf[i & 7]; }
SEC("syscall") __success int copy_cmp(void *ctx) { __u64 i = idxs[3]; __u64 j = i; asm volatile("" : "+r"(j)); if (j >= 16) return 0; return arr[i]; }
SEC("syscall") __success int u32_idx(void *ctx) { __u32 i = idxs[0]; if (i >= 16) return 0; return arr[i]; }
SEC("syscall") /* diverges from Linux 6.18, see doc.go */ int int_idx(void *ctx) { int i = idxs[0]; if (i < 0 || i >= 16) return 0; return arr[i]; }
SEC("syscall") __success int lookup_idx(void *ctx) { int k = 0; long *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; __u64 i = *v; if (i > 15) return 0; return arr[i]; }
SEC("syscall") __failure __msg("math between map_value pointer and register with unbounded min value is not allowed") int unchecked(void *ctx) { __u64 i = idxs[0]; return arr[i]; }
SEC("syscall") __success int offset_plus(void *ctx) { __u64 i = idxs[0]; if (i > 10) return 0; return arr[i + 2]; }
char _license[] SEC("license") = "GPL";
