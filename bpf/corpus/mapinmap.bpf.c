// SPDX-License-Identifier: Apache-2.0
/*
 * Maps of maps: BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS,
 * filled statically (.values), as libbpf does at load:
 *
 *   outer_arr[0] = inner_a, outer_arr[1] empty, outer_arr[2] = inner_b
 *   outer_hash[3] = inner_b (no other key)
 *
 * A lookup in the outer map gives the inner map itself (or NULL), which
 * the program then uses like any map; inner_a and inner_b are ordinary
 * maps, so what is written through the outer map is what a direct lookup
 * finds. Programs cannot change an outer map.
 */
#include "bpfarena.h"

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct inner);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [3] = &inner_b },
};

/* Keys the verifier cannot see as constants. */
volatile __u32 key_empty = 1;
volatile __u32 key_past_end = 7;

static __always_inline __u64 *value_in(void *inner, __u32 key)
{
	return bpf_map_lookup_elem(inner, &key);
}

SEC("tc")
__success __retval(5)
__description("a write through outer_arr[0] is seen by a direct lookup in inner_a")
int mim_array_lookup(struct __sk_buff *skb)
{
	__u32 key = 0;
	void *inner = bpf_map_lookup_elem(&outer_arr, &key);
	__u64 *v, *w;

	if (!inner)
		return -1;
	v = value_in(inner, 1);
	if (!v)
		return -2;
	*v = 5;
	w = value_in(&inner_a, 1);
	return w ? *w : -3;
}

SEC("tc")
__success __retval(1)
__description("an empty slot of an array of maps gives NULL")
int mim_array_empty_slot(struct __sk_buff *skb)
{
	__u32 key = key_empty;

	return bpf_map_lookup_elem(&outer_arr, &key) == NULL;
}

SEC("tc")
__success __retval(1)
__description("a key past max_entries of an array of maps gives NULL")
int mim_array_past_end(struct __sk_buff *skb)
{
	__u32 key = key_past_end;

	return bpf_map_lookup_elem(&outer_arr, &key) == NULL;
}

SEC("tc")
__success __retval(9)
__description("outer_hash[3] and outer_arr[2] are the same map")
int mim_hash_lookup(struct __sk_buff *skb)
{
	__u32 k3 = 3, k2 = 2;
	void *h = bpf_map_lookup_elem(&outer_hash, &k3);
	void *a = bpf_map_lookup_elem(&outer_arr, &k2);
	__u64 *v, *w;

	if (!h || !a)
		return -1;
	v = value_in(h, 0);
	if (!v)
		return -2;
	*v = 9;
	w = value_in(a, 0);
	return w ? *w : -3;
}

SEC("tc")
__success __retval(1)
__description("a missing key of a hash of maps gives NULL")
int mim_hash_missing_key(struct __sk_buff *skb)
{
	__u32 key = key_empty;

	return bpf_map_lookup_elem(&outer_hash, &key) == NULL;
}

SEC("tc")
__failure __msg("cannot pass map_type 12 into func bpf_map_update_elem#2")
__description("programs cannot update an array of maps")
int mim_update_refused(struct __sk_buff *skb)
{
	__u32 key = 1, val = 0;

	return bpf_map_update_elem(&outer_arr, &key, &val, BPF_ANY);
}

SEC("tc")
__failure __msg("cannot pass map_type 13 into func bpf_map_delete_elem#3")
__description("programs cannot delete from a hash of maps")
int mim_delete_refused(struct __sk_buff *skb)
{
	__u32 key = 3;

	return bpf_map_delete_elem(&outer_hash, &key);
}

char _license[] SEC("license") = "GPL";
