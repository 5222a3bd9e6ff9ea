// SPDX-License-Identifier: Apache-2.0
/*
 * Annotations in the numbered form of Linux 7.3's bpf_misc.h, where every
 * tag carries its __COUNTER__ ("comment:<n>:test_expect_msg=text") instead
 * of only the messages ("comment:test_expect_msg=<n>=text"). The test
 * runner must read this form as it reads the other one. The bool global
 * is set from the command line in the command's tests (--set flag=true).
 */
#include "bpfarena.h"

#define NTAG(tag) __attribute__((btf_decl_tag("comment:" BPFARENA_STR(__COUNTER__) ":" tag)))
#define nsuccess NTAG("test_expect_success")
#define nfailure NTAG("test_expect_failure")
#define nmsg(m) NTAG("test_expect_msg=" m)
#define nretval(v) NTAG("test_retval=" #v)
#define ndesc(d) NTAG("test_description=" d)
#define narch(a) NTAG("test_arch=" a)
#define njited(j) NTAG("test_jited=" j)

volatile _Bool flag;

SEC("syscall")
ndesc("numbered tags: a success with a return value")
nsuccess nretval(7)
int numbered_retval(void *ctx)
{
	return flag ? 8 : 7;
}

/* Two messages, expected in source order. */
SEC("syscall")
nfailure nmsg("R0 !read_ok") nmsg("processed 1 insns")
__naked int numbered_failure(void)
{
	asm volatile("exit\n");
}

/* JIT expectations are not checked; the architecture limits where the
 * test runs. */
SEC("syscall")
nsuccess narch("X86_64") njited("\tretq") nretval(3)
__naked int numbered_arch(void)
{
	asm volatile("r0 = 3\nexit\n");
}

char _license[] SEC("license") = "GPL";
