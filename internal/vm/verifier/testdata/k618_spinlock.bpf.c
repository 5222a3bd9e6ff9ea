// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
struct val { struct bpf_spin_lock l; long x; };
struct {
	__uint(type, 2);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct val);
} amap SEC(".maps");
static __u64 (*ktime)(void) = (void *)5;
__noinline int gf(int x) { return x + 1; }
SEC("tc") __success int lock_ok(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_lock(&v->l); v->x++; bpf_spin_unlock(&v->l); return 0; }
SEC("tc") __failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region") int lock_exit(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_lock(&v->l); v->x++; return 0; }
SEC("tc") __failure __msg("function calls are not allowed while holding a lock") int lock_twice(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_lock(&v->l); bpf_spin_lock(&v->l); return 0; }
SEC("tc") __failure __msg("function calls are not allowed while holding a lock") int lock_call(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_lock(&v->l); v->x = ktime(); bpf_spin_unlock(&v->l); return 0; }
SEC("tc") __failure __msg("bpf_spin_unlock without taking a lock") int unlock_only(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_unlock(&v->l); return 0; }
SEC("tc") __failure __msg("global function calls are not allowed while holding a lock") int lock_global(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_lock(&v->l); v->x = gf(3); bpf_spin_unlock(&v->l); return 0; }
SEC("syscall") __failure __msg("function calls are not allowed while holding a lock") int lock_kfunc(void *ctx) { int k = 0; struct val *v = bpf_map_lookup_elem(&amap, &k); if (!v) return 0; bpf_spin_lock(&v->l); bpf_preempt_disable(); bpf_preempt_enable(); bpf_spin_unlock(&v->l); return 0; }
char _license[] SEC("license") = "GPL";
