// SPDX-License-Identifier: Apache-2.0
/*
 * An arena with a key size: creating it fails with -EINVAL.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__uint(key_size, 4);
} arena SEC(".maps");

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
