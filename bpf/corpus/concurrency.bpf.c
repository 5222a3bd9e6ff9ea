// SPDX-License-Identifier: Apache-2.0
/*
 * One program that touches everything Go can touch at the same time: an
 * atomic add on a .bss global and on an arena global, a page allocated,
 * written and freed, and a hash map entry updated. The Go tests run it from
 * several goroutines while others allocate pages, read the globals and use
 * the map, and close the collection in the middle of it all.
 *
 *   bump  adds 1 to hits (.bss) and arena_hits (arena); allocates one page,
 *         writes 7 to it and frees it; sets hash[0] = hits after the add.
 *         Returns 0 if the page was allocated and read back 7, else 1.
 */
#define NPAGES 64
#include "pages.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

__u64 hits;
__u64 __arena_global arena_hits;

SEC("syscall")
__success __retval(0)
__description("atomics on .bss and arena globals, a page and a map update in one run")
int bump(void *ctx)
{
	__u64 n = __sync_fetch_and_add(&hits, 1) + 1;
	__u32 key = 0;
	void __arena *p;
	int ret = 1;

	__sync_fetch_and_add(&arena_hits, 1);
	p = alloc(NULL, 1);
	if (p) {
		VINT(p) = 7;
		ret = VINT(p) == 7 ? 0 : 1;
		bpf_arena_free_pages(&arena, p, 1);
	}
	bpf_map_update_elem(&hash, &key, &n, BPF_ANY);
	return ret;
}

char _license[] SEC("license") = "GPL";
