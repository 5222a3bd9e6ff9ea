// SPDX-License-Identifier: Apache-2.0
/*
 * A chained hash table that BPF builds in the arena and Go walks.
 *
 * Layout (all pointers are full user-space addresses, so Go can follow them
 * in its own mapping of the arena):
 *
 *   struct htab        at the address in the .bss global "table"
 *     n_buckets u32, count u32, buckets[HTAB_BUCKETS] (pointers to entries)
 *   struct htab_entry  next pointer, key u64, value u64 (24 bytes)
 *
 * Keys 1..1000 are inserted with value key*key, in bucket
 * (key * 0x9E3779B97F4A7C15) >> (64 - HTAB_BITS), pushed at the bucket head.
 *
 * Programs:
 *   build   inserts the 1000 keys; returns the number of entries (1000).
 *           Running it again only updates the values: still 1000.
 *   lookup  looks up keys 1..2000; returns the number found (1000), sets
 *           found = 1000, missed = 1000, value_sum = sum of k*k = 333833500.
 *   destroy frees everything; returns the number of entries freed (1000).
 */
#include "bpfarena.h"

#define HTAB_BITS 8
#define HTAB_BUCKETS (1 << HTAB_BITS)
#define NKEYS 1000

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 100);
} arena SEC(".maps");

#include "bpfarena_alloc.h"

struct htab_entry {
	struct htab_entry __arena *next;
	__u64 key;
	__u64 value;
};

struct htab {
	__u32 n_buckets;
	__u32 count;
	struct htab_entry __arena *buckets[HTAB_BUCKETS];
};

struct htab __arena *table;
__u64 found;
__u64 missed;
__u64 value_sum;

static __always_inline __u32 htab_bucket(__u64 key)
{
	return (key * 0x9E3779B97F4A7C15ULL) >> (64 - HTAB_BITS);
}

static __always_inline struct htab_entry __arena *htab_find(struct htab __arena *t, __u64 key)
{
	struct htab_entry __arena *e = t->buckets[htab_bucket(key)];

	while (e && can_loop) {
		if (e->key == key)
			return e;
		e = e->next;
	}
	return NULL;
}

static __always_inline int htab_put(struct htab __arena *t, __u64 key, __u64 value)
{
	struct htab_entry __arena *e = htab_find(t, key);
	__u32 b;

	if (e) {
		e->value = value;
		return 0;
	}
	e = bpf_alloc(sizeof(*e));
	if (!e)
		return -1;
	b = htab_bucket(key);
	e->key = key;
	e->value = value;
	e->next = t->buckets[b];
	t->buckets[b] = e;
	t->count++;
	return 1;
}

SEC("syscall")
int build(void *ctx)
{
	struct htab __arena *t = table;
	int i;

	if (!t) {
		t = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!t)
			return -1;
		t->n_buckets = HTAB_BUCKETS;
		table = t;
	}
	bpf_for(i, 1, NKEYS + 1) {
		if (htab_put(t, i, (__u64)i * i) < 0)
			return -2;
	}
	return t->count;
}

SEC("syscall")
int lookup(void *ctx)
{
	struct htab __arena *t = table;
	struct htab_entry __arena *e;
	int i;

	bpf_arena_use(arena);
	found = missed = value_sum = 0;
	if (!t)
		return 0;
	bpf_for(i, 1, 2 * NKEYS + 1) {
		e = htab_find(t, i);
		if (e) {
			found++;
			value_sum += e->value;
		} else {
			missed++;
		}
	}
	return found;
}

SEC("syscall")
int destroy(void *ctx)
{
	struct htab __arena *t = table;
	struct htab_entry __arena *e, *next;
	int b, n = 0;

	if (!t)
		return 0;
	bpf_for(b, 0, HTAB_BUCKETS) {
		e = t->buckets[b];
		while (e && can_loop) {
			next = e->next;
			bpf_free(e);
			n++;
			e = next;
		}
		t->buckets[b] = NULL;
	}
	table = NULL;
	bpf_arena_free_pages(&arena, t, 1);
	return n;
}

char _license[] SEC("license") = "GPL";
