// SPDX-License-Identifier: Apache-2.0
/*
 * Reads of the kernel's struct behind a map pointer, typed by BTF: the
 * kernel allows them (reads only, each inside a member), and Linux 7.3's
 * selftest headers find an arena's start so:
 *   #define arena_base(map) ((void __arena *)((struct bpf_arena *)(map))->user_vm_start)
 * The structs below declare only the members read; preserve_access_index
 * makes every access a CO-RE relocation, resolved against the kernel's BTF.
 */
#include "bpfarena.h"

#define ARENA_BASE 0x100200000000ULL

struct bpf_map {
	enum bpf_map_type map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
} __attribute__((preserve_access_index));

struct bpf_arena {
	struct bpf_map map;
	__u64 user_vm_start;
	__u64 user_vm_end;
} __attribute__((preserve_access_index));

/* An array map's struct, as the kernel types it (map_btf_id). */
struct bpf_array {
	struct bpf_map map;
	__u32 elem_size;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, ARENA_BASE);
} arena SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

SEC("syscall")
__success __retval(0)
__description("arena_base(): user_vm_start and user_vm_end through the arena's map pointer")
int arena_start_end(void *ctx)
{
	struct bpf_arena *ar = (void *)&arena;

	if (ar->user_vm_start != ARENA_BASE)
		return 1;
	if (ar->user_vm_end != ARENA_BASE + 16 * 4096)
		return 2;
	return 0;
}

SEC("syscall")
__success __retval(0)
__description("the bpf_map fields of an arena and of an array")
int map_fields(void *ctx)
{
	struct bpf_arena *ar = (void *)&arena;
	struct bpf_map *m = (void *)&array;

	if (ar->map.max_entries != 16 || ar->map.map_type != BPF_MAP_TYPE_ARENA)
		return 1;
	if (ar->map.map_flags != BPF_F_MMAPABLE)
		return 2;
	if (m->max_entries != 8 || m->map_type != BPF_MAP_TYPE_ARRAY)
		return 3;
	if (m->key_size != 4 || m->value_size != 8)
		return 4;
	if (((struct bpf_array *)&array)->map.max_entries != 8)
		return 5;
	return 0;
}

SEC("syscall")
__failure __msg("only read from bpf_array is supported")
__description("a map's struct is read-only")
int map_field_write(void *ctx)
{
	struct bpf_array *a = (void *)&array;

	a->map.max_entries = 1;
	return 0;
}

char _license[] SEC("license") = "GPL";
