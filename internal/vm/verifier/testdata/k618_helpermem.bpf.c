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
struct {
	__uint(type, 1);
	__uint(max_entries, 4);
	__type(key, long);
	__type(value, long);
} hmap SEC(".maps");
#define __imm_addr(name) [name]"i"(&name)
SEC("syscall") __failure __msg("invalid zero-sized read") int lookup_arena(void *ctx) { int k = 0; return bpf_map_lookup_elem(&arena, &k) ? 1 : 0; }
SEC("syscall") __failure __msg("invalid read from stack R2 off=-4 size=8") __naked int key_past_frame(void) { asm volatile ("r1 = %[hmap] ll; r2 = r10; r2 += -4; call 1; r0 = 0; exit;" :: __imm_addr(hmap) : "r0","r1","r2","r3","r4","r5"); }
SEC("syscall") __success __naked int key_uninit(void) { asm volatile ("r1 = %[hmap] ll; r2 = r10; r2 += -8; call 1; r0 = 0; exit;" :: __imm_addr(hmap) : "r0","r1","r2","r3","r4","r5"); }
SEC("syscall") __failure __msg("invalid read from stack R2 off=-516 size=8") __naked int key_below(void) { asm volatile ("r1 = %[hmap] ll; r2 = r10; r2 += -516; call 1; r0 = 0; exit;" :: __imm_addr(hmap) : "r0","r1","r2","r3","r4","r5"); }
char _license[] SEC("license") = "GPL";
