// SPDX-License-Identifier: Apache-2.0
/*
 * Arena pointers typed by the BTF type tag "arena", as Linux 7.3's selftest
 * headers write __arena: a global function's argument that points to a
 * type tagged so is an arena argument (as with __arg_arena), and a global
 * subprogram may return such a pointer (the caller gets a number). These
 * are Linux 7.3's verdicts (the selftests' check_arena_arg_ret); Linux
 * 6.12 reads only the decl tag arg:arena and refuses the return. Both
 * read from the kernels' sources; 6.18 is not described here.
 */
#include "bpfarena.h"

#define __tagged_arena __arena __attribute__((btf_type_tag("arena")))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, 0x100300000000ULL);
} arena SEC(".maps");

/* tg_vals[1]: an arena address whose low 32 bits are not 0, since
 * arithmetic on an arena pointer keeps only those (the callee's p + 1). */
int __arena_global tg_vals[2] = { 4, 5 };
__u64 bss_word;

__noinline int tagged_arg(int __tagged_arena *p)
{
	return p ? *p : -1;
}

/* Not foldable into the caller: the compiler must keep the call. */
__noinline int __tagged_arena *tagged_ret(int __tagged_arena *p)
{
	if (bss_word)
		return p + 1;
	return p;
}

SEC("syscall")
__success __retval(5) __kernel_min(7.3)
__description("an arena pointer passed where the parameter's pointee is tagged arena")
int type_tag_arg(void *ctx)
{
	return tagged_arg(&tg_vals[1]);
}

SEC("syscall")
__failure __msg("R1 is not a pointer to arena or scalar.") __kernel_min(7.3)
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
__success __retval(5) __kernel_min(7.3)
__description("a global subprogram returns an arena pointer")
int type_tag_ret(void *ctx)
{
	int __tagged_arena *p = tagged_ret(&tg_vals[1]);

	return p ? *p : -1;
}

SEC("syscall")
__failure __msg("Global function tagged_ret() doesn't return scalar. Only those are supported.")
__kernel_max(6.12)
__description("6.12 reads no type tags: a pointer return is refused")
int type_tag_ret_6_12(void *ctx)
{
	int __tagged_arena *p = tagged_ret(&tg_vals[1]);

	return p ? *p : -1;
}

/* The difference of two arena pointers is still an arena value to the
 * verifier, and it may leave a global function (bpf_arena_strlen); 6.12
 * and 7.3 both load this. The arguments carry the decl tag, which 6.12
 * reads too. */
__noinline int arena_distance(void *a __arg_arena, void *b __arg_arena)
{
	return (char *)b - (char *)a;
}

char __arena_global tg_str[8] = "abc";

SEC("syscall")
__success __retval(3)
__description("a global function returns an arena value as its int")
int type_tag_distance(void *ctx)
{
	return arena_distance((void *)tg_str, (void *)(tg_str + 3));
}


char _license[] SEC("license") = "GPL";
