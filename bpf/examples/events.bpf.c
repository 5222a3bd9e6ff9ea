// SPDX-License-Identifier: Apache-2.0
/*
 * Arena objects announced through a ring buffer: the record carries the
 * user-space address of an object the program built in the arena, and the
 * reader follows it directly in its own mapping of the arena.
 *
 *   struct event { struct event __arena *self; __u64 seq; __u64 square; } (24 bytes)
 *   record:      { __u64 addr; __u64 seq; }
 *
 * emit: allocates one event from the arena (seq = 1, 2, ... per run,
 *       square = seq * seq), sends its address and seq on the ring buffer
 *       "events" and returns seq. Returns -1 if allocation fails, -2 if the
 *       ring buffer is full.
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

#include "bpfarena_alloc.h"

struct event {
	struct event __arena *self;
	__u64 seq;
	__u64 square;
};

struct record {
	__u64 addr;
	__u64 seq;
};

__u64 seq;

SEC("syscall")
int emit(void *ctx)
{
	struct event __arena *e = bpf_alloc(sizeof(*e));
	struct record r;

	if (!e)
		return -1;
	seq++;
	e->self = e;
	e->seq = seq;
	e->square = seq * seq;
	r.addr = (__u64)e;
	r.seq = seq;
	if (bpf_ringbuf_output(&events, &r, sizeof(r), 0))
		return -2;
	return seq;
}

char _license[] SEC("license") = "GPL";
