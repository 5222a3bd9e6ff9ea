// SPDX-License-Identifier: Apache-2.0
/* Linked with a.bpf.c: both have a static "fmt" in .rodata. */
#include "bpfarena.h"

static const char fmt[] = "from b, longer\n";

SEC("syscall")
int prog_b(void *ctx)
{
	return bpf_trace_printk(fmt, sizeof(fmt));
}
