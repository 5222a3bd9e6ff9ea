// SPDX-License-Identifier: Apache-2.0
/*
 * Verifier cases checked against Linux 6.18 (bpf(2), as root): each
 * annotation is the kernel's verdict and the vm verifier's.
 */
#include "bpfarena.h"
struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");
long cnt;
SEC("syscall") __failure __msg("Possibly NULL pointer passed to trusted arg0") int alloc_null_map(void *ctx) { bpf_arena_use(arena); return bpf_arena_alloc_pages(NULL, NULL, 1, -1, 0) ? 1 : 0; }
SEC("syscall") __failure __msg("R1 must be referenced or trusted") int alloc_bss_map(void *ctx) { bpf_arena_use(arena); return bpf_arena_alloc_pages(&cnt, NULL, 1, -1, 0) ? 1 : 0; }
SEC("syscall") __failure __msg("expected an initialized iter_num as arg #0") int iter_next_uninit(void *ctx) { struct bpf_iter_num it; int *v = bpf_iter_num_next(&it); return v ? *v : 0; }
SEC("syscall") __failure __msg("expected uninitialized iter_num as arg #0") int iter_new_twice(void *ctx) { struct bpf_iter_num it; bpf_iter_num_new(&it, 0, 3); bpf_iter_num_new(&it, 0, 3); bpf_iter_num_destroy(&it); return 0; }
SEC("syscall") __failure __msg("BPF_EXIT instruction in main prog would lead to reference leak") int iter_no_destroy(void *ctx) { struct bpf_iter_num it; bpf_iter_num_new(&it, 0, 3); return 0; }
SEC("syscall") __failure __msg("expected an initialized iter_num as arg #0") int iter_destroy_uninit(void *ctx) { struct bpf_iter_num it; bpf_iter_num_destroy(&it); return 0; }
SEC("syscall") __success int iter_ok(void *ctx) { struct bpf_iter_num it; int s = 0; int *v; bpf_iter_num_new(&it, 0, 3); while ((v = bpf_iter_num_next(&it))) s += *v; bpf_iter_num_destroy(&it); return s; }
char _license[] SEC("license") = "GPL";
