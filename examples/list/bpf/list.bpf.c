// SPDX-License-Identifier: Apache-2.0
/*
 * A singly linked list that BPF builds in the arena and Go walks.
 *
 *   struct list_node { struct list_node __arena *next; __u64 value; }  (16 bytes)
 *
 * The .bss global "head" points to the first node (a full user-space
 * address, 0 when the list is empty). "n" (.data, default 100) says how many
 * nodes build pushes; Go may change it before running build.
 *
 * Programs (with the default n = 100, run in this order):
 *   build     pushes values 1..n at the head (so the list reads n, n-1, ..., 1);
 *             returns the list length: 100. Sets count = 100.
 *   sum       walks the list; returns and stores in total the sum: 5050.
 *   teardown  frees every node; returns the number freed: 100; head = 0, count = 0.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);
} arena SEC(".maps");

#include "bpfarena_alloc.h"

struct list_node {
	struct list_node __arena *next;
	__u64 value;
};

struct list_node __arena *head;
__u64 count;
__u64 total;
__u32 n = 100;

SEC("syscall")
int build(void *ctx)
{
	struct list_node __arena *node;
	int i;

	bpf_for(i, 0, n) {
		node = bpf_alloc(sizeof(*node));
		if (!node)
			return -1;
		node->value = i + 1;
		node->next = head;
		head = node;
		count++;
	}
	return count;
}

SEC("syscall")
int sum(void *ctx)
{
	struct list_node __arena *node = head;
	__u64 s = 0;

	bpf_arena_use(arena);
	while (node && can_loop) {
		s += node->value;
		node = node->next;
	}
	total = s;
	return s;
}

SEC("syscall")
int teardown(void *ctx)
{
	struct list_node __arena *node = head, *next;
	int freed = 0;

	while (node && can_loop) {
		next = node->next;
		bpf_free(node);
		freed++;
		node = next;
	}
	head = NULL;
	count = 0;
	return freed;
}

char _license[] SEC("license") = "GPL";
