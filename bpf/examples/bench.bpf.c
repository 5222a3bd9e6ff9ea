// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmark programs; each does the same work on every run.
 *
 *   htab_bench  1000 inserts + 1000 lookups in an open-addressing hash table
 *               of 2048 slots, an arena global. A slot belongs to the current
 *               run when its gen equals the run's generation, so no clearing
 *               is needed between runs. Keys 1..1000, value = key * 3.
 *               Returns the number of keys found: 1000 (value_sum = 1501500).
 *   xorshift    1,000,000 rounds of xorshift64 (13, 7, 17) from xs_seed =
 *               88172645463325252, in a may_goto loop. Stores the final
 *               state in xs_state = 0x652cf958c2958ad6 (7290476056423008982)
 *               and returns its low 32 bits: 0xc2958ad6 (-1030386986).
 *   alloc_free  1000 pairs of bpf_arena_alloc_pages(1 page) and
 *               bpf_arena_free_pages; returns the successful pairs: 1000.
 *   churn16     the same with 16 pages an allocation: 1000.
 *   kfunc_loop  1,000,000 rounds of a bpf_for loop (a bpf_iter_num_next
 *               kfunc call each) summing the counter; stores the sum in
 *               kf_sum = 499999500000 and returns its low 32 bits:
 *               0x6a4ae6e0 (1783293664).
 *   arena_rw    100,000 rounds of a load and a store over the 2048 slots
 *               (present arena pages): sum += slots[i & 2047].pad, then
 *               slots[i & 2047].pad = i. Returns the sum modulo 2^32: the
 *               first run after a load reads zeros in its first 2048
 *               rounds and returns 502280880, later runs 704982704.
 *   htab_big    htab_bench at 100,000 keys in 131,072 slots (3 MiB of
 *               arena pages allocated by the first run and kept). Returns
 *               100000.
 *   list_walk   walks a 10,000-node linked list in the arena whose nodes lie
 *               in a scattered order (built by the first run); returns the
 *               sum of the node values 1..10000 modulo 2^32: 50005000.
 */
#include "bpfarena.h"

#define NSLOTS 2048
#define NKEYS 1000

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1024);
} arena SEC(".maps");

struct slot {
	__u64 key;
	__u64 value;
	__u32 gen;
	__u32 pad;
};

struct slot __arena_global slots[NSLOTS];
__u32 gen;
__u64 value_sum;
__u64 xs_seed = 88172645463325252ULL;
__u64 xs_state;
/*
 * Loop counters start from this .bss global (always 0) rather than from a
 * constant: the verifier then sees an unknown start and the may_goto loops
 * converge after a few iterations instead of being walked to the end.
 */
__u32 loop_start;

static __always_inline __u32 slot_of(__u64 key)
{
	return (key * 0x9E3779B97F4A7C15ULL) >> (64 - 11);
}

SEC("syscall")
int htab_bench(void *ctx)
{
	__u32 g = ++gen, h, j;
	struct slot __arena *s;
	int i, found = 0;
	__u64 sum = 0;

	bpf_for(i, 1, NKEYS + 1) {
		h = slot_of(i);
		for (j = loop_start; j < NSLOTS && can_loop; j++) {
			s = &slots[(h + j) & (NSLOTS - 1)];
			if (s->gen != g || s->key == (__u64)i) {
				s->gen = g;
				s->key = i;
				s->value = (__u64)i * 3;
				break;
			}
		}
	}
	bpf_for(i, 1, NKEYS + 1) {
		h = slot_of(i);
		for (j = loop_start; j < NSLOTS && can_loop; j++) {
			s = &slots[(h + j) & (NSLOTS - 1)];
			if (s->gen != g)
				break;
			if (s->key == (__u64)i) {
				found++;
				sum += s->value;
				break;
			}
		}
	}
	value_sum = sum;
	return found;
}

SEC("syscall")
int xorshift(void *ctx)
{
	__u64 x = xs_seed;
	int i;

	for (i = loop_start; i < 1000000 && can_loop; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	xs_state = x;
	return (__u32)x;
}

SEC("syscall")
int alloc_free(void *ctx)
{
	volatile int __arena *p;
	int i, n = 0;

	bpf_for(i, 0, 1000) {
		p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!p)
			continue;
		*p = i;
		bpf_arena_free_pages(&arena, (void __arena *)p, 1);
		n++;
	}
	return n;
}

SEC("syscall")
int churn16(void *ctx)
{
	volatile int __arena *p;
	int i, n = 0;

	bpf_for(i, 0, 1000) {
		p = bpf_arena_alloc_pages(&arena, NULL, 16, NUMA_NO_NODE, 0);
		if (!p)
			continue;
		*p = i;
		bpf_arena_free_pages(&arena, (void __arena *)p, 16);
		n++;
	}
	return n;
}

__u64 kf_sum;

SEC("syscall")
int kfunc_loop(void *ctx)
{
	__u64 sum = 0;
	int i;

	bpf_for(i, 0, 1000000)
		sum += i;
	kf_sum = sum;
	return (__u32)sum;
}

SEC("syscall")
int arena_rw(void *ctx)
{
	__u32 sum = 0;
	int i;

	bpf_for(i, 0, 100000) {
		struct slot __arena *s = &slots[i & (NSLOTS - 1)];

		sum += s->pad;
		s->pad = i;
	}
	return sum;
}

#define BIG_SLOTS 131072
#define BIG_KEYS 100000
#define BIG_PAGES (BIG_SLOTS * sizeof(struct slot) / PAGE_SIZE)

struct slot __arena *big;
__u32 big_gen;

SEC("syscall")
int htab_big(void *ctx)
{
	__u32 g, h, j;
	struct slot __arena *s;
	int i, found = 0;

	if (!big) {
		big = bpf_arena_alloc_pages(&arena, NULL, BIG_PAGES, NUMA_NO_NODE, 0);
		if (!big)
			return -1;
	}
	g = ++big_gen;
	bpf_for(i, 1, BIG_KEYS + 1) {
		h = (i * 0x9E3779B97F4A7C15ULL) >> (64 - 17);
		for (j = loop_start; j < BIG_SLOTS && can_loop; j++) {
			s = &big[(h + j) & (BIG_SLOTS - 1)];
			if (s->gen != g || s->key == (__u64)i) {
				s->gen = g;
				s->key = i;
				s->value = (__u64)i * 3;
				break;
			}
		}
	}
	bpf_for(i, 1, BIG_KEYS + 1) {
		h = (i * 0x9E3779B97F4A7C15ULL) >> (64 - 17);
		for (j = loop_start; j < BIG_SLOTS && can_loop; j++) {
			s = &big[(h + j) & (BIG_SLOTS - 1)];
			if (s->gen != g)
				break;
			if (s->key == (__u64)i) {
				found++;
				break;
			}
		}
	}
	return found;
}

#define LIST_NODES 10000

struct node {
	struct node __arena *next;
	__u64 value;
};

struct node __arena *list_head;

SEC("syscall")
int list_walk(void *ctx)
{
	struct node __arena *nodes, *n;
	__u32 sum = 0;
	int i;

	if (!list_head) {
		nodes = bpf_arena_alloc_pages(&arena, NULL,
					      LIST_NODES * sizeof(struct node) / PAGE_SIZE + 1,
					      NUMA_NO_NODE, 0);
		if (!nodes)
			return -1;
		/* Node k of the walk lives at slot k * 7919 mod LIST_NODES
		 * (7919 is prime, so every slot is used once). */
		bpf_for(i, 0, LIST_NODES) {
			n = &nodes[(i * 7919) % LIST_NODES];
			n->value = i + 1;
			n->next = i + 1 < LIST_NODES ? &nodes[((i + 1) * 7919) % LIST_NODES] : NULL;
		}
		list_head = nodes;
	}
	for (n = list_head; n && can_loop; n = n->next)
		sum += n->value;
	return sum;
}

char _license[] SEC("license") = "GPL";
