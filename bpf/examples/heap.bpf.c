// SPDX-License-Identifier: Apache-2.0
/*
 * The arena as a private heap: BPF_F_NO_USER_CONV, no pointer is shared with
 * user space. A binary min-heap of __u32 lives in one arena page.
 *
 * heapsort: pushes the 500 values (i * 7919) % 1009 for i = 0..499 (all
 *   distinct, since 1009 is prime), pops them all and checks that they come
 *   out in increasing order. Returns 500 when every pop was in order; on a
 *   disorder it returns 1000 + the position of the first bad pop.
 *   Globals after a successful run: popped = 500, first = 0 (i = 0 gives 0),
 *   last = 1006 (the largest value, from i = 277),
 *   sum = the sum of the 500 values = 251744.
 *   The heap page is freed again before returning.
 */
#include "bpfarena.h"

#define NVALS 500

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_NO_USER_CONV);
	__uint(max_entries, 8);
} arena SEC(".maps");

__u32 popped;
__u32 first;
__u32 last;
__u64 sum;

static __always_inline void heap_swap(__u32 __arena *h, __u32 a, __u32 b)
{
	__u32 t = h[a];

	h[a] = h[b];
	h[b] = t;
}

static __always_inline void heap_push(__u32 __arena *h, __u32 *len, __u32 v)
{
	__u32 i = (*len)++, parent;

	h[i & 1023] = v;
	while (i > 0 && can_loop) {
		parent = (i - 1) / 2;
		if (h[parent & 1023] <= h[i & 1023])
			break;
		heap_swap(h, parent & 1023, i & 1023);
		i = parent;
	}
}

static __always_inline __u32 heap_pop(__u32 __arena *h, __u32 *len)
{
	__u32 top = h[0], i = 0, l, r, m, n;

	n = --(*len);
	h[0] = h[n & 1023];
	while (can_loop) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < n && h[l & 1023] < h[m & 1023])
			m = l;
		if (r < n && h[r & 1023] < h[m & 1023])
			m = r;
		if (m == i)
			break;
		heap_swap(h, i & 1023, m & 1023);
		i = m;
	}
	return top;
}

SEC("syscall")
int heapsort(void *ctx)
{
	__u32 __arena *h;
	__u32 len = 0, prev = 0, v;
	int i, ret = NVALS;

	h = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!h)
		return -1;
	bpf_for(i, 0, NVALS)
		heap_push(h, &len, (__u32)(i * 7919) % 1009);

	popped = 0;
	sum = 0;
	bpf_for(i, 0, NVALS) {
		v = heap_pop(h, &len);
		if (i == 0)
			first = v;
		else if (v <= prev && ret == NVALS)
			ret = 1000 + i;
		prev = v;
		sum += v;
		popped++;
	}
	last = prev;
	bpf_arena_free_pages(&arena, h, 1);
	return ret;
}

char _license[] SEC("license") = "GPL";
