// SPDX-License-Identifier: Apache-2.0
/*
 * A scoreboard in the arena that several processes share through a pin
 * directory.
 *
 *   setup  allocates the board (one arena page) unless a previous load did;
 *          returns 0 (1 if the page could not be had). board is a .bss
 *          global, so with a pin it survives the load.
 *   bump   adds 1 to board->hits atomically and records the caller's pid
 *          (ctx: struct bump_args) in board->last; returns 0, or 1 with no
 *          board.
 *   teardown  frees the board; returns the hits it held.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

struct board {
	__u64 hits;
	__u64 last;
};

struct bump_args {
	__u64 pid;
};

struct board __arena *board;

SEC("syscall")
int setup(void *ctx)
{
	if (board)
		return 0;
	board = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	return board ? 0 : 1;
}

SEC("syscall")
int bump(struct bump_args *args)
{
	struct board __arena *b = board;

	bpf_arena_use(arena);
	if (!b)
		return 1;
	__sync_fetch_and_add(&b->hits, 1);
	b->last = args->pid;
	return 0;
}

SEC("syscall")
int teardown(void *ctx)
{
	struct board __arena *b = board;
	int hits;

	if (!b)
		return 0;
	hits = b->hits;
	bpf_arena_free_pages(&arena, (void __arena *)b, 1);
	board = NULL;
	return hits;
}

char _license[] SEC("license") = "GPL";
