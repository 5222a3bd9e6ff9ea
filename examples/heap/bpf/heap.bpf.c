// SPDX-License-Identifier: Apache-2.0
/*
 * The arena as a private heap: BPF_F_NO_USER_CONV, no pointer is shared with
 * user space. The program keeps a sorted singly linked list of nodes carved
 * from two arena pages and sorts values by insertion.
 *
 * sortlist: inserts the 500 values (i * 7919) % 1009 for i = 0..499 (all
 *   distinct, since 1009 is prime) into the list in increasing order, then
 *   walks it and checks the order. Returns the number of nodes walked in
 *   order, 500; on a disorder it returns 1000 + the position of the first
 *   bad node. Globals after a successful run: walked = 500, bad_at = 0,
 *   first = 0 (from i = 0), last = 1006 (the largest value, from i = 277),
 *   sum = the sum of the 500 values = 251744.
 *   The two pages are freed again before returning.
 */
#include "bpfarena.h"

#define NVALS 500

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_NO_USER_CONV);
	__uint(max_entries, 8);
} arena SEC(".maps");

struct node {
	struct node __arena *next;
	__u32 value;
	__u32 pad;
};

__u32 walked;
__u32 bad_at;
__u32 first;
__u32 last;
__u64 sum;

SEC("syscall")
int sortlist(void *ctx)
{
	struct node __arena *nodes, *head, *n, *p, *q;
	__u32 v, prev = 0, pos = 0;
	int i;

	/* 501 nodes of 16 bytes: a sentinel head and one per value */
	nodes = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);
	if (!nodes)
		return -1;
	head = &nodes[0];
	head->next = NULL;

	bpf_for(i, 0, NVALS) {
		v = (__u32)(i * 7919) % 1009;
		n = &nodes[i + 1];
		n->value = v;
		p = head;
		while (can_loop) {
			q = p->next;
			if (!q || q->value >= v)
				break;
			p = q;
		}
		n->next = p->next;
		p->next = n;
	}

	walked = 0;
	bad_at = 0;
	sum = 0;
	p = head->next;
	bpf_for(i, 0, NVALS + 1) {
		if (!p)
			break;
		v = p->value;
		if (i == 0)
			first = v;
		else if (v <= prev && !bad_at)
			bad_at = i;
		prev = v;
		sum += v;
		pos++;
		p = p->next;
	}
	walked = pos;
	last = prev;
	bpf_arena_free_pages(&arena, nodes, 2);
	return bad_at ? 1000 + bad_at : walked;
}

char _license[] SEC("license") = "GPL";
