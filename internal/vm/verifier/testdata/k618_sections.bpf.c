// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("syscall") __failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region") int rcu_exit(void *ctx) { bpf_rcu_read_lock(); return 0; }
SEC("syscall") __failure __msg("unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)") int rcu_unmatched(void *ctx) { bpf_rcu_read_unlock(); return 0; }
SEC("syscall") __failure __msg("unmatched attempt to enable preemption (kernel function bpf_preempt_enable)") int preempt_unmatched(void *ctx) { bpf_preempt_enable(); return 0; }
SEC("syscall") __failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_local_irq_save-ed region") int irq_exit(void *ctx) { unsigned long f; bpf_local_irq_save(&f); return 0; }
SEC("syscall") __failure __msg("expected an initialized irq flag as arg#0") int irq_unmatched(void *ctx) { unsigned long f = 0; bpf_local_irq_restore(&f); return 0; }
SEC("syscall") __failure __msg("kernel func bpf_arena_alloc_pages is sleepable within non-preemptible region") int alloc_preempt(void *ctx) { bpf_preempt_disable(); bpf_arena_alloc_pages(&arena, NULL, 1, -1, 0); bpf_preempt_enable(); return 0; }
SEC("syscall") __failure __msg("kernel func bpf_arena_alloc_pages is sleepable within rcu_read_lock region") int alloc_rcu(void *ctx) { bpf_rcu_read_lock(); bpf_arena_alloc_pages(&arena, NULL, 1, -1, 0); bpf_rcu_read_unlock(); return 0; }
SEC("syscall") __failure __msg("kernel func bpf_arena_alloc_pages is sleepable within IRQ-disabled region") int alloc_irq(void *ctx) { unsigned long f; bpf_local_irq_save(&f); bpf_arena_alloc_pages(&arena, NULL, 1, -1, 0); bpf_local_irq_restore(&f); return 0; }
SEC("syscall") __success int nested_preempt(void *ctx) { bpf_preempt_disable(); bpf_preempt_disable(); bpf_preempt_enable(); bpf_preempt_enable(); return 0; }
SEC("syscall") __failure __msg("nested rcu read lock (kernel function bpf_rcu_read_lock)") int nested_rcu(void *ctx) { bpf_rcu_read_lock(); bpf_rcu_read_lock(); bpf_rcu_read_unlock(); bpf_rcu_read_unlock(); return 0; }
char _license[] SEC("license") = "GPL";
