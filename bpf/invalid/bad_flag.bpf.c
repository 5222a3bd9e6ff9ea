// SPDX-License-Identifier: Apache-2.0
/*
 * An arena with a flag other than BPF_F_MMAPABLE, BPF_F_SEGV_ON_FAULT and
 * BPF_F_NO_USER_CONV (here BPF_F_RDONLY_PROG, 1 << 7): creating it fails
 * with -EINVAL.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE | (1U << 7));
	__uint(max_entries, 2);
} arena SEC(".maps");

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
