// SPDX-License-Identifier: Apache-2.0
/*
 * C shapes for `bpfarena gen`: every kind of type a skeleton has to lay
 * out. internal/gen's tests generate a skeleton for this object in a
 * module of their own and check, through the generated names, the values
 * the programs write and read.
 *
 * Programs:
 *   fill   writes the values listed at each global below; returns 0.
 *   check  checks what Go wrote into "in" (a = 7, mode = MODE_B, u.word = 9,
 *          last = 3, p points to a node holding 11); returns 1 if all
 *          hold, else the number of the first failed check (2..6).
 */
#include "bpfarena.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 8);
} arena SEC(".maps");

enum mode { MODE_A = 1, MODE_B = 2, MODE_C = -3 };

typedef enum { SHAPE_ROUND, SHAPE_SQUARE = 5 } shape_t;

struct node {
	struct node __arena *next;
	__u32 value;
};

union word {
	__u64 word;
	__u8 bytes[8];
};

typedef struct {
	__u16 x;
	__u16 y;
} point_t;

struct flags {
	__u32 low : 3;
	__u32 mid : 5;
	__u32 high : 24;
	__u16 after;
};

struct shapes {
	__u8 a;             /* padding after */
	enum mode mode;
	union word u;
	struct {            /* anonymous: members flattened */
		__u16 left, right;
	};
	union {             /* anonymous union: its first member */
		__u32 first;
		__u64 second;
	};
	point_t pt;
	struct flags fl;
	shape_t shape;
	__s8 signed_byte;
	struct node __arena *p;
	__u64 arr[3];
	char name[5];
	__u8 last;
};

struct packed {
	__u8 tag;
	__u64 unaligned;
	__u32 tail;
} __attribute__((packed));

struct node __arena *first_node; /* makes clang describe struct node in full */
struct shapes out;      /* written by fill */
struct shapes in;       /* written by Go, read by check */
struct packed pk = { .tag = 1, .unaligned = 0x1122334455667788ULL, .tail = 9 };
const volatile __u32 scale = 3;
shape_t __arena_global arena_shape = SHAPE_SQUARE;

SEC("syscall")
int fill(void *ctx)
{
	struct node __arena *n;

	n = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!n)
		return -1;
	n->value = 42 * scale;
	n->next = NULL;

	out.a = 1;
	out.mode = MODE_C;
	out.u.word = 0x0102030405060708ULL;
	out.left = 2;
	out.right = 3;
	out.first = 4;
	out.pt.x = 5;
	out.pt.y = 6;
	out.fl.low = 7;
	out.fl.mid = 8;
	out.fl.high = 9;
	out.fl.after = 10;
	out.shape = SHAPE_SQUARE;
	out.signed_byte = -5;
	out.p = n;
	out.arr[0] = 11;
	out.arr[2] = 13;
	out.name[0] = 'h';
	out.name[1] = 'i';
	out.last = 0xee;
	pk.tail = 99;
	return 0;
}

SEC("syscall")
int check(void *ctx)
{
	struct node __arena *p = in.p;

	bpf_arena_use(arena);
	if (in.a != 7)
		return 2;
	if (in.mode != MODE_B)
		return 3;
	if (in.u.word != 9)
		return 4;
	if (in.last != 3)
		return 5;
	if (!p || p->value != 11)
		return 6;
	return 1;
}

char _license[] SEC("license") = "GPL";
