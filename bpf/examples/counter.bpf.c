// SPDX-License-Identifier: Apache-2.0
/*
 * Event counters in arena memory, for attach examples and for
 * BPF_PROG_TEST_RUN with packets. None of these programs may call the page
 * kfuncs (they are not sleepable), so the counters are arena globals.
 *
 *   count_getpid  tracepoint syscalls/sys_enter_getpid: counts getpid()
 *                 calls into getpid_calls; if target_pid (.rodata, set before
 *                 loading) is not 0, only calls of that process (tgid).
 *                 Returns 0.
 *   count_xdp     XDP: counts packets and bytes (xdp_packets, xdp_bytes);
 *                 returns XDP_PASS (2).
 *   count_tc      tc (sched_cls): counts packets and bytes (tc_packets,
 *                 tc_bytes); returns TC_ACT_OK (0).
 *
 * A test run of count_xdp with a 64-byte packet returns 2 and adds 1 to
 * xdp_packets and 64 to xdp_bytes; count_tc with a 64-byte packet returns 0
 * and adds 1 and 64 to tc_packets and tc_bytes.
 */
#include "bpfarena.h"

#ifndef TC_ACT_OK
#define TC_ACT_OK 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

__u64 __arena_global getpid_calls;
__u64 __arena_global xdp_packets;
__u64 __arena_global xdp_bytes;
__u64 __arena_global tc_packets;
__u64 __arena_global tc_bytes;

const volatile __u32 target_pid = 0;

SEC("tp/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && tgid != target_pid)
		return 0;
	__sync_fetch_and_add(&getpid_calls, 1);
	return 0;
}

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;

	__sync_fetch_and_add(&xdp_packets, 1);
	__sync_fetch_and_add(&xdp_bytes, len);
	return XDP_PASS;
}

SEC("tc")
int count_tc(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tc_packets, 1);
	__sync_fetch_and_add(&tc_bytes, skb->len);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
