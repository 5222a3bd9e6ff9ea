// SPDX-License-Identifier: Apache-2.0
/*
 * clang-19 merges consecutive zero stores through an __arena pointer into
 * a memset, and lowers it with the pointer as user space sees it instead
 * of the copy cast for the kernel: the verifier refuses the store through
 * a scalar. WRITE_ONCE (a volatile store) or barrier() between the stores
 * keeps them apart, and each goes through the cast pointer.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

struct tnode {
	struct tnode __arena *left, *right;
	__u64 key;
};

struct tnode __arena *root;

SEC("syscall")
__failure __msg("R0 invalid mem access 'scalar'")
int zero_two_members(void *ctx)
{
	struct tnode __arena *n = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!n)
		return -1;
	n->left = 0;
	n->right = 0;
	n->key = 5;
	root = n;
	return 0;
}

SEC("syscall")
__success __retval(5)
int zero_with_write_once(void *ctx)
{
	struct tnode __arena *n = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!n)
		return -1;
	WRITE_ONCE(n->left, NULL);
	WRITE_ONCE(n->right, NULL);
	n->key = 5;
	root = n;
	return n->key + (n->left != NULL) + (n->right != NULL);
}

SEC("syscall")
__success __retval(5)
int zero_with_barrier(void *ctx)
{
	struct tnode __arena *n = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!n)
		return -1;
	n->left = 0;
	barrier();
	n->right = 0;
	n->key = 5;
	root = n;
	return n->key + (n->left != NULL) + (n->right != NULL);
}

char _license[] SEC("license") = "GPL";
