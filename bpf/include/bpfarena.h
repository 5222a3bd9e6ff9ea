/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfarena.h - everything a BPF C program needs to use a BPF arena.
 *
 * Include it after the type headers (either <linux/bpf.h> or a bpftool
 * generated vmlinux.h) and it pulls in <bpf/bpf_helpers.h> itself. It works
 * with Debian's libbpf 1.1.2 headers and next to newer libbpf headers: every
 * definition is guarded, so whatever a newer bpf_helpers.h (or vmlinux.h)
 * already provides is left alone. When using a vmlinux.h that carries kfunc
 * prototypes, define BPF_NO_KFUNC_PROTOTYPES before including it, since the
 * arena kfuncs are declared here with __arena pointer types.
 *
 * Build with clang-19 or newer: -target bpf -mcpu=v4 (v3 is the minimum
 * for may_goto). With clang-19 __BPF_FEATURE_ADDR_SPACE_CAST is defined and
 * the compiler emits addr_space_cast instructions for __arena pointers on its
 * own; cast_kern()/cast_user() are then no-ops. Defining
 * BPFARENA_FORCE_ASM_CAST selects the explicit-cast fallback even so.
 */
#ifndef BPFARENA_H
#define BPFARENA_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h>
#endif
#include <bpf/bpf_helpers.h>

/* ---------------------------------------------------------------------- */
/* Small utilities                                                          */
/* ---------------------------------------------------------------------- */

#define BPFARENA_CAT_(a, b) a##b
#define BPFARENA_CAT(a, b) BPFARENA_CAT_(a, b)
#define BPFARENA_STR_(x) #x
#define BPFARENA_STR(x) BPFARENA_STR_(x)

#ifndef __weak
#define __weak __attribute__((weak))
#endif
#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __kconfig
#define __kconfig __attribute__((section(".kconfig")))
#endif
#ifndef __hidden
#define __hidden __attribute__((visibility("hidden")))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __used
#define __used __attribute__((used))
#endif
#ifndef __naked
#define __naked __attribute__((naked))
#endif

#ifndef NULL
#define NULL ((void *)0)
#endif
#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1)
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#endif

/* ---------------------------------------------------------------------- */
/* Constants the 6.1 UAPI headers lack                                      */
/* ---------------------------------------------------------------------- */

#ifndef BPF_MAP_TYPE_ARENA
#define BPF_MAP_TYPE_ARENA 33
#endif
#ifndef BPF_F_MMAPABLE
#define BPF_F_MMAPABLE (1U << 10)
#endif
#ifndef BPF_F_SEGV_ON_FAULT
#define BPF_F_SEGV_ON_FAULT (1U << 17)
#endif
#ifndef BPF_F_NO_USER_CONV
#define BPF_F_NO_USER_CONV (1U << 18)
#endif
/* insn->off of an addr_space_cast (ALU64 | MOV | X) */
#ifndef BPF_ADDR_SPACE_CAST
#define BPF_ADDR_SPACE_CAST 1
#endif

/* ---------------------------------------------------------------------- */
/* Map definition helpers                                                   */
/* ---------------------------------------------------------------------- */

#ifndef __uint
#define __uint(name, val) int (*name)[val]
#endif
#ifndef __type
#define __type(name, val) __typeof__(val) *name
#endif
/*
 * A 64-bit map attribute (map_extra) cannot be carried by __uint's array
 * size, so it is carried by the value of an enumerator of an anonymous enum
 * the member is typed with; the loader reads the value back from BTF.
 */
#ifndef __ulong
#define __ulong(name, val) \
	enum { BPFARENA_CAT(__bpfarena_ulong_, __COUNTER__) = (val) } name
#endif

/* ---------------------------------------------------------------------- */
/* Address spaces                                                           */
/* ---------------------------------------------------------------------- */

/*
 * The explicit cast. imm = (dst_as << 16) | src_as, dst = src = the
 * register the compiler chose for the variable. Encoded byte by byte so
 * that assemblers which do not know the addr_space_cast mnemonic accept it.
 */
#define bpfarena_addr_space_cast(var, dst_as, src_as)                       \
	asm volatile(".byte 0xbf\n"                                         \
		     ".ifc %[r], r0\n .byte 0x00\n .endif\n"                \
		     ".ifc %[r], r1\n .byte 0x11\n .endif\n"                \
		     ".ifc %[r], r2\n .byte 0x22\n .endif\n"                \
		     ".ifc %[r], r3\n .byte 0x33\n .endif\n"                \
		     ".ifc %[r], r4\n .byte 0x44\n .endif\n"                \
		     ".ifc %[r], r5\n .byte 0x55\n .endif\n"                \
		     ".ifc %[r], r6\n .byte 0x66\n .endif\n"                \
		     ".ifc %[r], r7\n .byte 0x77\n .endif\n"                \
		     ".ifc %[r], r8\n .byte 0x88\n .endif\n"                \
		     ".ifc %[r], r9\n .byte 0x99\n .endif\n"                \
		     ".short %[off]\n"                                      \
		     ".long %[imm]\n"                                       \
		     : [r] "+r"(var)                                        \
		     : [off] "i"(BPF_ADDR_SPACE_CAST),                      \
		       [imm] "i"(((dst_as) << 16) | (src_as)))

#if defined(__BPF_FEATURE_ADDR_SPACE_CAST) && !defined(BPFARENA_FORCE_ASM_CAST)
/* The compiler tracks address space 1 and emits the casts itself. */
#ifndef __arena
#define __arena __attribute__((address_space(1)))
#endif
/* clang puts every address_space(1) global into ".addr_space.1". */
#ifndef __arena_global
#define __arena_global __attribute__((address_space(1)))
#endif
#ifndef cast_kern
#define cast_kern(ptr) do { } while (0)
#endif
#ifndef cast_user
#define cast_user(ptr) do { } while (0)
#endif
#else
/* Arena pointers are plain pointers; the program casts them explicitly. */
#ifndef __arena
#define __arena
#endif
#ifndef __arena_global
#define __arena_global __attribute__((section(".addr_space.1")))
#endif
#ifndef cast_kern
#define cast_kern(ptr) bpfarena_addr_space_cast(ptr, 0, 1)
#endif
#ifndef cast_user
#define cast_user(ptr) bpfarena_addr_space_cast(ptr, 1, 0)
#endif
#endif

/*
 * The verifier ties a program to its arena when the program loads the arena
 * map's address somewhere: a page kfunc call or an arena global does it. A
 * program that only follows arena pointers found in ordinary globals must
 * name its arena once, or the verifier refuses its address space casts
 * ("addr_space_cast insn can only be used in a program that has an
 * associated arena").
 */
#ifndef bpf_arena_use
#define bpf_arena_use(map) asm volatile("" : : "r"(&(map)))
#endif

/* A global function's argument that is an arena pointer. */
#ifndef __arg_arena
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#endif
#ifndef __arg_ctx
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#endif
#ifndef __arg_nonnull
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
#endif

/* container_of for structures living in the arena */
#ifndef arena_container_of
#define arena_container_of(ptr, type, member) \
	((type __arena *)((char __arena *)(ptr) - offsetof(type, member)))
#endif

/* ---------------------------------------------------------------------- */
/* Arena page kfuncs (sleepable programs only on Linux 6.18)                */
/* ---------------------------------------------------------------------- */

#ifndef BPFARENA_NO_KFUNCS
/*
 * Allocate page_cnt zeroed pages. addr == NULL: lowest free range;
 * otherwise exactly at addr. Returns the user address or NULL.
 */
extern void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr,
					   __u32 page_cnt, int node_id,
					   __u64 flags) __ksym __weak;
/* Free (or unreserve) page_cnt pages starting at ptr's page. */
extern void bpf_arena_free_pages(void *map, void __arena *ptr,
				 __u32 page_cnt) __ksym __weak;
/* Reserve pages so alloc never hands them out: 0, -EINVAL or -EBUSY. */
extern int bpf_arena_reserve_pages(void *map, void __arena *ptr,
				   __u32 page_cnt) __ksym __weak;

extern void bpf_preempt_disable(void) __ksym __weak;
extern void bpf_preempt_enable(void) __ksym __weak;
extern void bpf_local_irq_save(unsigned long *flags__irq_flag) __ksym __weak;
extern void bpf_local_irq_restore(unsigned long *flags__irq_flag) __ksym __weak;
#endif

/* ---------------------------------------------------------------------- */
/* Numeric iterator and loops                                               */
/* ---------------------------------------------------------------------- */

/*
 * struct bpf_iter_num arrived with Linux 6.4's UAPI; BPF_MEMSX (6.6) marks a
 * UAPI header new enough to have it, and vmlinux.h always has it.
 */
#if !defined(__VMLINUX_H__) && !defined(BPF_MEMSX) && !defined(BPFARENA_HAVE_ITER_NUM)
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
#endif

#ifndef bpf_for
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym __weak;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym __weak;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym __weak;

/*
 * for (i = start; i < end; i++) driven by the kernel's numeric iterator, so
 * the verifier needs not unroll it. The value is re-checked against the
 * bounds so that the verifier knows them when i indexes memory; i is set to
 * start first so that it is never read uninitialised.
 */
#define bpf_for(i, start, end)                                               \
	for (struct bpf_iter_num __bpfarena_it                               \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *__bpfarena_once __attribute__((unused)) =                      \
		     (bpf_iter_num_new(&__bpfarena_it, (start), (end)),      \
		      (i) = (start),                                         \
		      (void)bpf_iter_num_destroy, (void *)0);                \
	     ({                                                              \
		     int *__bpfarena_cur = bpf_iter_num_next(&__bpfarena_it); \
		     int __bpfarena_v = 0;                                   \
		     _Bool __bpfarena_ok = __bpfarena_cur != 0;             \
		     if (__bpfarena_ok) {                                    \
			     __bpfarena_v = *__bpfarena_cur;                 \
			     __bpfarena_ok = __bpfarena_v >= (start) &&      \
					     __bpfarena_v < (end);           \
		     }                                                       \
		     if (__bpfarena_ok)                                      \
			     (i) = __bpfarena_v;                             \
		     __bpfarena_ok;                                          \
	     });)
#endif

#ifndef bpf_repeat
/* Run the body n times. */
#define bpf_repeat(n)                                                        \
	for (struct bpf_iter_num __bpfarena_it                               \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *__bpfarena_once __attribute__((unused)) =                      \
		     (bpf_iter_num_new(&__bpfarena_it, 0, (n)),              \
		      (void)bpf_iter_num_destroy, (void *)0);                \
	     bpf_iter_num_next(&__bpfarena_it);)
#endif

/*
 * may_goto: a conditional jump that the kernel takes once a loop has used up
 * its budget (about 8M iterations). can_loop is true while the budget lasts;
 * cond_break leaves the enclosing loop when it runs out.
 */
#if defined(__BPF_FEATURE_MAY_GOTO) && !defined(BPFARENA_FORCE_ASM_MAY_GOTO)
/* jump to label when the budget is used up */
#define __bpfarena_may_goto(label)                                           \
	asm volatile goto("may_goto %l[" #label "]" :::: label)
#else
/*
 * Assemblers without the mnemonic: a raw may_goto (opcode 0xe5, JMP|JCOND)
 * that skips one instruction, followed by a plain goto around the label.
 */
#define __bpfarena_may_goto(label)                                           \
	({                                                                   \
		__label__ __bpfarena_more;                                   \
		asm volatile goto(".byte 0xe5, 0, 1, 0, 0, 0, 0, 0\n"        \
				  "goto %l[__bpfarena_more]\n"              \
				  :::: __bpfarena_more);                     \
		goto label;                                                  \
	__bpfarena_more:;                                                    \
	})
#endif

#ifndef can_loop
#define can_loop                                                             \
	({                                                                   \
		__label__ __bpfarena_out, __bpfarena_in;                     \
		_Bool __bpfarena_r = 1;                                      \
		__bpfarena_may_goto(__bpfarena_out);                         \
		goto __bpfarena_in;                                          \
	__bpfarena_out:                                                      \
		__bpfarena_r = 0;                                            \
	__bpfarena_in:                                                       \
		__bpfarena_r;                                                \
	})
#endif

#ifndef cond_break
#define cond_break                                                           \
	({                                                                   \
		__label__ __bpfarena_out, __bpfarena_in;                     \
		__bpfarena_may_goto(__bpfarena_out);                         \
		goto __bpfarena_in;                                          \
	__bpfarena_out:                                                      \
		break;                                                       \
	__bpfarena_in:;                                                      \
	})
#endif

/* ---------------------------------------------------------------------- */
/* Test annotations                                                         */
/* ---------------------------------------------------------------------- */
/*
 * BTF decl tags on a program saying what loading and running it must give,
 * in the convention of the kernel selftests' test loader. The number in
 * test_expect_msg=<n>=... and test_expect_regex=<n>=... comes from
 * __COUNTER__: it grows in source order (not necessarily by one, and shared
 * with other __COUNTER__ users in the file), so a loader sorts a program's
 * messages by it and expects them in that order in the verifier log.
 */
#ifndef __success
#define __success __attribute__((btf_decl_tag("comment:test_expect_success")))
#endif
#ifndef __failure
#define __failure __attribute__((btf_decl_tag("comment:test_expect_failure")))
#endif
#ifndef __msg
#define __msg(text)                                                          \
	__attribute__((btf_decl_tag("comment:test_expect_msg="              \
				    BPFARENA_STR(__COUNTER__) "=" text)))
#endif
#ifndef __regex
#define __regex(re)                                                          \
	__attribute__((btf_decl_tag("comment:test_expect_regex="            \
				    BPFARENA_STR(__COUNTER__) "=" re)))
#endif
#ifndef __retval
#define __retval(val) __attribute__((btf_decl_tag("comment:test_retval=" #val)))
#endif
#ifndef __description
#define __description(text) __attribute__((btf_decl_tag("comment:test_description=" text)))
#endif
#ifndef __auxiliary
#define __auxiliary __attribute__((btf_decl_tag("comment:test_auxiliary")))
#endif
/*
 * The kernel versions an expectation holds for (bpfarena's own tags): a
 * test outside the range is skipped with the reason. Kernels differ on
 * arena programs; a behaviour that changed is two tests, one per range.
 */
#define __kernel_min(v) __attribute__((btf_decl_tag("comment:bpfarena_kernel_min=" #v)))
#define __kernel_max(v) __attribute__((btf_decl_tag("comment:bpfarena_kernel_max=" #v)))
#ifndef __log_level
#define __log_level(n) __attribute__((btf_decl_tag("comment:test_log_level=" #n)))
#endif
#ifndef __flag
#define __flag(f) __attribute__((btf_decl_tag("comment:test_prog_flags=" #f)))
#endif

#endif /* BPFARENA_H */
