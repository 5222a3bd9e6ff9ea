// SPDX-License-Identifier: Apache-2.0
/*
 * A key/value store that Go builds in the arena and BPF reads.
 *
 * Go allocates a struct kv_table in the arena, fills it (open addressing,
 * linear probing, key 0 marks a free slot) and stores its address in the
 * .bss global "table". Go may update values while lookups run: a value is
 * one aligned 64-bit word, written and read whole.
 *
 * lookup: looks "key" up; found: value = its value, probes = slots read,
 *         returns 1; not found: value = 0, returns 0; no table: returns 2.
 *         lookups counts the calls.
 */
#include "bpfarena.h"

#define KV_SLOTS 1024 /* a power of two */

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

struct kv_slot {
	__u64 key;
	__u64 value;
};

struct kv_table {
	__u32 slots; /* KV_SLOTS */
	__u32 used;
	struct kv_slot slot[KV_SLOTS];
};

struct kv_table __arena *table;
__u64 key;
__u64 value;
__u32 probes;
__u64 lookups;

/* The hash Go uses too: Fibonacci hashing of the key. */
static __always_inline __u32 kv_hash(__u64 k)
{
	return (k * 0x9E3779B97F4A7C15ULL) >> 54; /* 10 bits: KV_SLOTS */
}

SEC("syscall")
int lookup(void *ctx)
{
	struct kv_table __arena *t = table;
	__u64 k = key;
	__u32 i, h;

	bpf_arena_use(arena);
	lookups++;
	value = 0;
	probes = 0;
	if (!t)
		return 2;
	h = kv_hash(k);
	bpf_for(i, 0, KV_SLOTS) {
		struct kv_slot __arena *s = &t->slot[(h + i) & (KV_SLOTS - 1)];

		probes++;
		if (s->key == k) {
			value = s->value;
			return 1;
		}
		if (s->key == 0)
			return 0;
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
