// SPDX-License-Identifier: Apache-2.0
/*
 * Arena pointers typed by the BTF type tag "arena", as Linux 7.3's selftest
 * headers write __arena: a global function's argument that points to a
 * type tagged so is an arena argument (as with __arg_arena), and a global
 * subprogram may return such a pointer (the caller gets a number). These
 * are Linux 7.3's verdicts (the selftests' check_arena_arg_ret); Linux
 * 6.12 reads only the decl tag arg:arena and refuses the return.
 */
#include "bpfarena.h"

#define __tagged_arena __arena __attribute__((btf_type_tag("arena")))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, 0x100300000000ULL);
} arena SEC(".maps");

int __arena_global tg_val = 5;
__u64 bss_word;

__noinline int tagged_arg(int __tagged_arena *p)
{
	return p ? *p : -1;
}

__noinline int __tagged_arena *tagged_ret(int __tagged_arena *p)
{
	return p;
}

SEC("syscall")
__success __retval(5)
__description("an arena pointer passed where the parameter's pointee is tagged arena")
int type_tag_arg(void *ctx)
{
	return tagged_arg(&tg_val);
}

SEC("syscall")
__failure __msg("R1 is not a pointer to arena or scalar.")
__description("a map value is not an arena pointer")
__naked int type_tag_arg_map_value(void)
{
	/* In assembly: a cast in C would make it an arena pointer. */
	asm volatile(
	"r1 = %[w] ll\n"
	"call tagged_arg\n"
	"exit\n"
	:: [w] "i"(&bss_word));
}

SEC("syscall")
__success __retval(5)
__description("a global subprogram returns an arena pointer")
int type_tag_ret(void *ctx)
{
	int __tagged_arena *p = tagged_ret(&tg_val);

	return p ? *p : -1;
}

/* The difference of two arena pointers is still an arena value to the
 * verifier; Linux 7.3 lets it leave a global function (bpf_arena_strlen). */
__noinline int arena_distance(char __tagged_arena *a, char __tagged_arena *b)
{
	return b - a;
}

char __arena_global tg_str[8] = "abc";

SEC("syscall")
__success __retval(3)
__description("a global function returns an arena value as its int")
int type_tag_distance(void *ctx)
{
	return arena_distance(tg_str, tg_str + 3);
}

char _license[] SEC("license") = "GPL";
