// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_tail_call and BPF_MAP_TYPE_PROG_ARRAY. The program array is filled
 * statically (.values), as libbpf does after loading the programs:
 *
 *   jmp[0] = ret42      returns 42
 *   jmp[1]   empty
 *   jmp[2] = tail_self  adds 1 to runs and tail-calls jmp[2] again
 *   jmp[3] = ret_len    returns skb->len (64: the test packet)
 *
 * A tail call that succeeds never returns: the target's return value is
 * the caller's. One that fails (index past max_entries, empty slot, limit
 * reached) falls through to the next instruction. The limit is the
 * kernel's MAX_TAIL_CALL_CNT, 33 per run, and only tail calls that happen
 * count (on 6.12 and 7.3 x86-64): neither an index past the end nor an
 * empty slot uses one up. From a
 * subprogram, the target replaces that subprogram's frame only: its return
 * goes back to the subprogram's caller.
 */
#include "bpfarena.h"

int ret42(struct __sk_buff *skb);
int tail_self(struct __sk_buff *skb);
int ret_len(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct __sk_buff *));
} jmp SEC(".maps") = {
	.values = {
		[0] = (void *)&ret42,
		[2] = (void *)&tail_self,
		[3] = (void *)&ret_len,
	},
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

__u32 runs;
/* Indices the verifier cannot see as constants. */
volatile __u32 idx_past_end = 100;
volatile __u32 idx_empty = 1;

SEC("tc")
__auxiliary
int ret42(struct __sk_buff *skb)
{
	return 42;
}

SEC("tc")
__auxiliary
int tail_self(struct __sk_buff *skb)
{
	runs++;
	bpf_tail_call(skb, &jmp, 2);
	return runs;
}

SEC("tc")
__auxiliary
int ret_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("tc")
__success __retval(42)
__description("a tail call runs the target, whose return value is the caller's")
int tail_call_runs_target(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 0);
	return 1;
}

SEC("tc")
__success __retval(64)
__description("the target gets the caller's context")
int tail_call_keeps_ctx(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 3);
	return 1;
}

SEC("tc")
__success __retval(7)
__description("a tail call to an empty slot falls through")
int tail_call_empty_slot(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, idx_empty);
	return 7;
}

SEC("tc")
__success __retval(8)
__description("a tail call past max_entries falls through")
int tail_call_index_past_end(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, idx_past_end);
	return 8;
}

SEC("tc")
__success __retval(33)
__description("a program tail-calling itself runs 33 more times: MAX_TAIL_CALL_CNT")
int tail_call_limit(struct __sk_buff *skb)
{
	runs = 0;
	bpf_tail_call(skb, &jmp, 2);
	return 100;
}

SEC("tc")
__success __retval(42)
__description("tail calls to an empty slot do not count towards the limit")
int tail_call_empty_not_counted(struct __sk_buff *skb)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < 40; i++)
		bpf_tail_call(skb, &jmp, idx_empty);
	bpf_tail_call(skb, &jmp, 0);
	return 9;
}

SEC("tc")
__success __retval(33)
__description("after empty slots, a chain still gets all 33 tail calls")
int tail_call_empty_then_limit(struct __sk_buff *skb)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < 40; i++)
		bpf_tail_call(skb, &jmp, idx_empty);
	runs = 0;
	bpf_tail_call(skb, &jmp, 2);
	return 100;
}

SEC("tc")
__success __retval(33)
__description("tail calls past max_entries do not count towards the limit")
int tail_call_past_end_not_counted(struct __sk_buff *skb)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < 40; i++)
		bpf_tail_call(skb, &jmp, idx_past_end);
	runs = 0;
	bpf_tail_call(skb, &jmp, 2);
	return 100;
}

static __noinline int tail_from_sub(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 0);
	/* Not a constant, so that the caller uses what this returns. */
	return idx_empty;
}

SEC("tc")
__success __retval(142)
__description("a tail call from a subprogram returns to the subprogram's caller")
int tail_call_from_subprog(struct __sk_buff *skb)
{
	return tail_from_sub(skb) + 100;
}

SEC("tc")
__failure __regex("kernel subsystem misconfigured verifier|expected prog array map for tail call")
__description("bpf_tail_call takes only a program array (the message changed after 6.12)")
int tail_call_needs_prog_array(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &plain, 0);
	return 0;
}

SEC("tc")
__failure __msg("cannot pass map_type 3 into func bpf_map_lookup_elem#1")
__description("a program array cannot be looked up")
int prog_array_lookup_refused(struct __sk_buff *skb)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&jmp, &key) ? 1 : 0;
}

char _license[] SEC("license") = "GPL";
