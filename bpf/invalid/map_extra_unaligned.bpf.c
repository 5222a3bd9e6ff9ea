// SPDX-License-Identifier: Apache-2.0
/*
 * map_extra not page aligned: creating the arena fails with -EINVAL.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__ulong(map_extra, (1ULL << 44) + 100);
} arena SEC(".maps");

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
