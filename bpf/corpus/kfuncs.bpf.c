// SPDX-License-Identifier: Apache-2.0
/*
 * Generic kfuncs declared by bpfarena.h besides the arena ones: preemption
 * and interrupt control, and the numeric iterator used directly.
 */
#include "bpfarena.h"

__u64 counter;

SEC("syscall")
__success __retval(5)
int preempt_pair(void *ctx)
{
	bpf_preempt_disable();
	counter += 5;
	bpf_preempt_enable();
	return counter;
}

SEC("syscall")
__success __retval(7) __kernel_min(6.14)
int irq_save_restore(void *ctx)
{
	unsigned long flags;
	int v;

	bpf_local_irq_save(&flags);
	v = 7;
	bpf_local_irq_restore(&flags);
	return v;
}

SEC("syscall")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region")
__kernel_min(6.18)
int preempt_unbalanced(void *ctx)
{
	bpf_preempt_disable();
	return 0;
}

SEC("syscall")
__failure __msg("1 bpf_preempt_enable is missing") __kernel_max(6.12)
__description("6.12 names the missing unlock")
int preempt_unbalanced_old(void *ctx)
{
	bpf_preempt_disable();
	return 0;
}

SEC("syscall")
__failure __msg("kfunc bpf_local_irq_save: kernel function not in this kernel") __kernel_max(6.13)
int irq_save_missing(void *ctx)
{
	unsigned long flags;
	int v;

	bpf_local_irq_save(&flags);
	v = 7;
	bpf_local_irq_restore(&flags);
	return v;
}

/* bpf_iter_num by hand: 10 + 11 + 12 = 33 */
SEC("syscall")
__success __retval(33)
int iter_num_by_hand(void *ctx)
{
	struct bpf_iter_num it;
	int *v, s = 0;

	bpf_iter_num_new(&it, 10, 13);
	while ((v = bpf_iter_num_next(&it)))
		s += *v;
	bpf_iter_num_destroy(&it);
	return s;
}

char _license[] SEC("license") = "GPL";
