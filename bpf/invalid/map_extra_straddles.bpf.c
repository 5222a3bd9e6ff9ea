// SPDX-License-Identifier: Apache-2.0
/*
 * [map_extra, map_extra + 2 pages) crosses a 4 GiB boundary: creating the
 * arena fails with -ERANGE.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__ulong(map_extra, (1ULL << 44) - 4096);
} arena SEC(".maps");

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
