// SPDX-License-Identifier: Apache-2.0
/*
 * Data sections whose variables are all hidden (the selftests' private()
 * macro: a named section, STV_HIDDEN) are not mmapable, as libbpf makes
 * them; a spin lock may live only in such a map, since the kernel refuses
 * to mmap a map holding one (ENOTSUPP, errno 524). A section with one
 * visible variable stays mmapable.
 */
#include "bpfarena.h"

#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

private(LOCK) struct bpf_spin_lock hidden_lock;
private(LOCK) __u64 hidden_count;
__u64 visible_count;

SEC("tc")
__success __retval(1)
__description("a spin lock in a section of hidden variables")
int lock_in_hidden_section(struct __sk_buff *skb)
{
	bpf_spin_lock(&hidden_lock);
	hidden_count++;
	bpf_spin_unlock(&hidden_lock);
	visible_count++;
	return 1;
}

char _license[] SEC("license") = "GPL";
