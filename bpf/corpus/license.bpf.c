// SPDX-License-Identifier: Apache-2.0
/*
 * A program whose license is not GPL compatible may not call kernel
 * functions (refused while the verifier collects them) nor GPL-only
 * helpers such as bpf_trace_printk; other helpers and plain code load.
 */
#include "bpfarena.h"

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static const char fmt[] = "x\n";

SEC("syscall")
__failure __msg("cannot call kernel function from non-GPL compatible program")
int kfunc_non_gpl(void *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
__failure __msg("cannot call GPL-restricted function from non-GPL compatible program")
int gpl_helper_non_gpl(void *ctx)
{
	return bpf_trace_printk(fmt, sizeof(fmt));
}

SEC("syscall")
__success __retval(3)
__description("helpers that are not GPL-only remain available")
int plain_non_gpl(void *ctx)
{
	return (bpf_get_prandom_u32() & 0) + 3;
}

char _license[] SEC("license") = "Apache-2.0";
