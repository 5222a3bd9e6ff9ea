// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_trace_printk's prototype has two arguments, the format and its size;
 * the verifier checks only those, so a format without conversions may be
 * printed with r3-r5 never written (bpf_printk("text") compiles so).
 */
#include "bpfarena.h"

static const char fmt_plain[] = "plain\n";

SEC("syscall")
__success __retval(6)
__description("two arguments: r3-r5 are not read")
__naked int printk_two_args(void)
{
	asm volatile(
	"r1 = %[fmt] ll\n"
	"r2 = %[size]\n"
	"call %[printk]\n"
	"exit\n"
	:: [fmt] "i"(fmt_plain), [size] "i"(sizeof(fmt_plain)), [printk] "i"(BPF_FUNC_trace_printk));
}

SEC("syscall")
__failure __msg("R2 !read_ok")
__description("the size is an argument: it must be set")
__naked int printk_one_arg(void)
{
	asm volatile(
	"r1 = %[fmt] ll\n"
	"call %[printk]\n"
	"exit\n"
	:: [fmt] "i"(fmt_plain), [printk] "i"(BPF_FUNC_trace_printk));
}

char _license[] SEC("license") = "GPL";
