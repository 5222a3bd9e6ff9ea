// SPDX-License-Identifier: Apache-2.0
/*
 * An arena of 1048577 pages (more than 4 GiB): creating it fails with -E2BIG.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1048577);
} arena SEC(".maps");

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
