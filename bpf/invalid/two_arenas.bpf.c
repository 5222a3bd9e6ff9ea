// SPDX-License-Identifier: Apache-2.0
/*
 * Two arena maps in one object. libbpf refuses the object ("only single
 * ARENA map is supported"); the kernel would refuse a program using both
 * ("Only one arena per program", -EBUSY). Loading must fail.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena2 SEC(".maps");

SEC("syscall")
int use_both(void *ctx)
{
	asm volatile("" :: "r"(&arena1), "r"(&arena2));
	return 0;
}

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
