// SPDX-License-Identifier: Apache-2.0
/*
 * 8 KiB of arena globals in a 1-page arena: libbpf fails with -E2BIG.
 * Loading must fail.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

char __arena_global big[8192] = { 1 };

SEC("syscall")
int use_big(void *ctx)
{
	return big[0];
}

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
