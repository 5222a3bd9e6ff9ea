// SPDX-License-Identifier: Apache-2.0
/*
 * A key/value table that Go builds in the arena and BPF reads.
 *
 * Go allocates arena memory, lays out
 *
 *   struct kv_table {
 *       __u64 n;                   number of entries
 *       struct kv_entry entries[]; n entries, 16 bytes each
 *   };
 *   struct kv_entry { __u64 key; __u64 value; };
 *
 * and stores the table's user-space address in the .bss global "table".
 * Then it sets "key" and runs "lookup".
 *
 * lookup scans the entries (at most KV_MAX = 16384 of them) for key:
 *   found:     value = the entry's value, pos = its position; returns 1
 *   not found: value = 0, pos = -1; returns 0
 *   table = 0: value = 0, pos = -1; returns 2
 * lookups counts the calls.
 *
 * Example: n = 3, entries {10: 100}, {20: 400}, {30: 900}, key = 20
 *   -> retval 1, value = 400, pos = 1.
 */
#include "bpfarena.h"

#define KV_MAX 16384

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1024);
} arena SEC(".maps");

struct kv_entry {
	__u64 key;
	__u64 value;
};

struct kv_table {
	__u64 n;
	struct kv_entry entries[];
};

struct kv_table __arena *table;
__u64 key;
__u64 value;
__s64 pos;
__u64 lookups;

SEC("syscall")
int lookup(void *ctx)
{
	struct kv_table __arena *t = table;
	__u64 k = key, n;
	int i;

	bpf_arena_use(arena);
	lookups++;
	value = 0;
	pos = -1;
	if (!t)
		return 2;
	n = t->n;
	if (n > KV_MAX)
		n = KV_MAX;
	bpf_for(i, 0, n) {
		if (t->entries[i].key == k) {
			value = t->entries[i].value;
			pos = i;
			return 1;
		}
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
