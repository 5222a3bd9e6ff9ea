// SPDX-License-Identifier: Apache-2.0
/*
 * A tracepoint program that counts getpid() calls in the arena.
 *
 * count_getpid, attached to syscalls/sys_enter_getpid: if target_pid
 * (.rodata, set before loading) is not 0, only calls of that process
 * (tgid) count. Each counted call adds 1 to calls and records the call's
 * CPU in cpus (one counter per CPU, up to MAX_CPUS). Returns 0.
 *
 * Tracepoint programs are not sleepable and may not call the page
 * kfuncs, so everything lives in arena globals, which need no allocation.
 */
#include "bpfarena.h"

#define MAX_CPUS 64

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

struct counts {
	__u64 calls;
	__u64 cpus[MAX_CPUS];
};

struct counts __arena_global counts;

const volatile __u32 target_pid = 0;

SEC("tp/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 cpu = bpf_get_smp_processor_id();

	if (target_pid && tgid != target_pid)
		return 0;
	__sync_fetch_and_add(&counts.calls, 1);
	if (cpu < MAX_CPUS)
		__sync_fetch_and_add(&counts.cpus[cpu], 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
