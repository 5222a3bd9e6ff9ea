// SPDX-License-Identifier: Apache-2.0
/*
 * Arena globals but no arena map: libbpf fails with -ENOENT. Loading must fail.
 */
#include "bpfarena.h"

int __arena_global orphan = 1;

SEC("syscall")
int use_orphan(void *ctx)
{
	return orphan;
}

SEC("syscall")
int prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
