// SPDX-License-Identifier: Apache-2.0
/* Linked with b.bpf.c: both have a static "fmt" in .rodata. */
#include "bpfarena.h"

static const char fmt[] = "from a\n";

SEC("syscall")
int prog_a(void *ctx)
{
	return bpf_trace_printk(fmt, sizeof(fmt));
}

char _license[] SEC("license") = "GPL";
