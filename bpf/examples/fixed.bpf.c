// SPDX-License-Identifier: Apache-2.0
/*
 * An arena at a fixed user-space address: map_extra = 1 << 44
 * (0x100000000000 = 17592186044416), 16 pages, so the arena is
 * [0x100000000000, 0x100000010000) and does not cross a 4 GiB boundary.
 * Go must map it there (mmap with MAP_FIXED); no arena globals, so page 0
 * is free.
 *
 * alloc: allocates one page at the lowest free address, writes
 *   0xfeedface to its first 8 bytes and 'a', 'r', 'e', 'n', 'a' after them,
 *   records its address in addr, counts it in pages and returns the first
 *   word read back: 0xfeedface (retval -17958194 as a signed 32-bit value).
 *   1st run: addr = 0x100000000000, pages = 1; 2nd run: addr = 0x100000001000,
 *   pages = 2; ... the 17th run finds no free page and returns 0.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

__u64 addr;
__u64 pages;

SEC("syscall")
int alloc(void *ctx)
{
	volatile __u64 __arena *p;
	char __arena *s;

	p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!p)
		return 0;
	addr = (__u64)p;
	pages++;
	p[0] = 0xfeedface;
	s = (char __arena *)(p + 1);
	s[0] = 'a';
	s[1] = 'r';
	s[2] = 'e';
	s[3] = 'n';
	s[4] = 'a';
	return p[0];
}

char _license[] SEC("license") = "GPL";
