// SPDX-License-Identifier: Apache-2.0
/*
 * Test runs by program type: a raw tracepoint runs with BPF_PROG_TEST_RUN
 * but takes no repeat count (the kernel refuses one with EINVAL), so
 * repeats are separate runs; a tracepoint program cannot be test-run at all.
 * The run error names the program once.
 */
#include "bpfarena.h"

__u64 raw_tp_runs;

SEC("raw_tp/sys_enter")
__success __retval(7)
__description("a raw tracepoint program runs")
int raw_tp_counts(void *ctx)
{
	__sync_fetch_and_add(&raw_tp_runs, 1);
	return 7;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tracepoint_prog(void *ctx)
{
	return 0;
}

/* Autoload off ("?" section, libbpf's convention): typed from the rest of
 * the name, loaded only when named. */
SEC("?raw_tp/sys_enter")
__success __retval(9)
__description("a program of a ? section runs when asked for")
int raw_tp_optional(void *ctx)
{
	return 9;
}

char _license[] SEC("license") = "GPL";
