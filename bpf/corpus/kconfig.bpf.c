// SPDX-License-Identifier: Apache-2.0
/*
 * __kconfig externs get the kernel's version and build configuration:
 * the running kernel's on the kernel engine, the modelled kernel's on the
 * vm where the kernel matrix has its package (else the running kernel's).
 * kernel_minor and has_bpf_syscall (no annotations) are read by
 * TestKernelFiles.
 */
#include "bpfarena.h"

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_BPF_SYSCALL __kconfig __weak;

SEC("syscall")
__success __retval(1)
__description("LINUX_KERNEL_VERSION is set")
int kconfig_set(void *ctx)
{
	return LINUX_KERNEL_VERSION >= (6 << 16);
}

SEC("syscall")
int has_bpf_syscall(void *ctx)
{
	return CONFIG_BPF_SYSCALL;
}

SEC("syscall")
int kernel_minor(void *ctx)
{
	return (LINUX_KERNEL_VERSION >> 8) & 0xff;
}

char _license[] SEC("license") = "GPL";
