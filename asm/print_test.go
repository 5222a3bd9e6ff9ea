package asm

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	alu64 := func(op ALUOp, src Source) OpCode { return ALUOpCode(ClassALU64, op, src) }
	alu32 := func(op ALUOp, src Source) OpCode { return ALUOpCode(ClassALU, op, src) }
	mem := MemOpCode
	tests := []struct {
		name string
		ins  Instruction
		want string
	}{
		{"cast to arena", Instruction{OpCode: OpMov64Reg, Dst: R1, Src: R0, Offset: 1, Constant: CastToArena}, "r1 = addr_space_cast(r0, 0, 1)"},
		{"cast to user", Instruction{OpCode: OpMov64Reg, Dst: R2, Src: R3, Offset: 1, Constant: CastToUser}, "r2 = addr_space_cast(r3, 1, 0)"},
		{"mov32 reg", Instruction{OpCode: alu32(ALUMov, SourceX), Dst: R0, Src: R1}, "w0 = w1"},
		{"mov64 reg", Instruction{OpCode: alu64(ALUMov, SourceX), Dst: R0, Src: R1}, "r0 = r1"},
		{"mov64 imm", Instruction{OpCode: alu64(ALUMov, SourceK), Dst: R0, Constant: -1}, "r0 = -1"},
		{"movsx8", Instruction{OpCode: alu64(ALUMov, SourceX), Dst: R0, Src: R1, Offset: 8}, "r0 = (s8)r1"},
		{"movsx32", Instruction{OpCode: alu64(ALUMov, SourceX), Dst: R0, Src: R1, Offset: 32}, "r0 = (s32)r1"},
		{"movsx16 w", Instruction{OpCode: alu32(ALUMov, SourceX), Dst: R2, Src: R3, Offset: 16}, "w2 = (s16)w3"},
		{"add imm", Instruction{OpCode: alu64(ALUAdd, SourceK), Dst: R1, Constant: 5}, "r1 += 5"},
		{"sub32 reg", Instruction{OpCode: alu32(ALUSub, SourceX), Dst: R1, Src: R2}, "w1 -= w2"},
		{"arsh", Instruction{OpCode: alu64(ALUArsh, SourceK), Dst: R1, Constant: 3}, "r1 s>>= 3"},
		{"sdiv", Instruction{OpCode: alu64(ALUDiv, SourceX), Dst: R0, Src: R1, Offset: 1}, "r0 s/= r1"},
		{"smod32 imm", Instruction{OpCode: alu32(ALUMod, SourceK), Dst: R0, Offset: 1, Constant: 7}, "w0 s%= 7"},
		{"udiv", Instruction{OpCode: alu64(ALUDiv, SourceX), Dst: R0, Src: R1}, "r0 /= r1"},
		{"neg64", Instruction{OpCode: alu64(ALUNeg, SourceK), Dst: R3}, "r3 = -r3"},
		{"neg32", Instruction{OpCode: alu32(ALUNeg, SourceK), Dst: R3}, "w3 = -w3"},
		{"bswap16", Instruction{OpCode: alu64(ALUEnd, SourceK), Dst: R0, Constant: 16}, "r0 = bswap16 r0"},
		{"be32", Instruction{OpCode: alu32(ALUEnd, ToBE), Dst: R0, Constant: 32}, "r0 = be32 r0"},
		{"le64", Instruction{OpCode: alu32(ALUEnd, ToLE), Dst: R4, Constant: 64}, "r4 = le64 r4"},
		{"ldx u32", Instruction{OpCode: mem(ClassLDX, ModeMEM, SizeW), Dst: R0, Src: R1, Offset: 4}, "r0 = *(u32 *)(r1 +4)"},
		{"ldx u64 zero", Instruction{OpCode: mem(ClassLDX, ModeMEM, SizeDW), Dst: R0, Src: R1}, "r0 = *(u64 *)(r1 +0)"},
		{"ldsx s16", Instruction{OpCode: mem(ClassLDX, ModeMEMSX, SizeH), Dst: R0, Src: R1, Offset: -2}, "r0 = *(s16 *)(r1 -2)"},
		{"ldsx s8", Instruction{OpCode: mem(ClassLDX, ModeMEMSX, SizeB), Dst: R2, Src: R3, Offset: 1}, "r2 = *(s8 *)(r3 +1)"},
		{"stx u64", Instruction{OpCode: mem(ClassSTX, ModeMEM, SizeDW), Dst: R10, Src: R1, Offset: -8}, "*(u64 *)(r10 -8) = r1"},
		{"st u32", Instruction{OpCode: mem(ClassST, ModeMEM, SizeW), Dst: R10, Offset: -8, Constant: 5}, "*(u32 *)(r10 -8) = 5"},
		{"st u8 neg", Instruction{OpCode: mem(ClassST, ModeMEM, SizeB), Dst: R1, Constant: -1}, "*(u8 *)(r1 +0) = -1"},
		{"lock add", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R2, Constant: int64(AtomicAdd)}, "lock *(u64 *)(r1 +0) += r2"},
		{"lock or32", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeW), Dst: R1, Src: R2, Offset: 8, Constant: int64(AtomicOr)}, "lock *(u32 *)(r1 +8) |= r2"},
		{"lock and", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R2, Constant: int64(AtomicAnd)}, "lock *(u64 *)(r1 +0) &= r2"},
		{"lock xor", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R2, Constant: int64(AtomicXor)}, "lock *(u64 *)(r1 +0) ^= r2"},
		{"fetch add", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R0, Constant: int64(AtomicAdd | AtomicFetch)}, "r0 = atomic64_fetch_add((u64 *)(r1 +0), r0)"},
		{"fetch xor32", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeW), Dst: R1, Src: R3, Offset: -4, Constant: int64(AtomicXor | AtomicFetch)}, "r3 = atomic_fetch_xor((u32 *)(r1 -4), r3)"},
		{"fetch or", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R0, Constant: int64(AtomicOr | AtomicFetch)}, "r0 = atomic64_fetch_or((u64 *)(r1 +0), r0)"},
		{"fetch and", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R0, Constant: int64(AtomicAnd | AtomicFetch)}, "r0 = atomic64_fetch_and((u64 *)(r1 +0), r0)"},
		{"xchg", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R0, Constant: int64(AtomicXchg)}, "r0 = atomic64_xchg((u64 *)(r1 +0), r0)"},
		{"cmpxchg", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R1, Src: R2, Constant: int64(AtomicCmpXchg)}, "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)"},
		{"cmpxchg32", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeW), Dst: R1, Src: R2, Constant: int64(AtomicCmpXchg)}, "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)"},
		{"load acquire", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeDW), Dst: R0, Src: R1, Constant: int64(AtomicLoadAcquire)}, "r0 = load_acquire((u64 *)(r1 +0))"},
		{"store release", Instruction{OpCode: mem(ClassSTX, ModeATOMIC, SizeH), Dst: R1, Src: R2, Constant: int64(AtomicStoreRelease)}, "store_release((u16 *)(r1 +0), r2)"},
		{"jgt imm", Instruction{OpCode: JumpOpCode(ClassJMP, JumpJGT, SourceK), Dst: R1, Offset: 5, Constant: 3}, "if r1 > 0x3 goto pc+5"},
		{"jne imm neg", Instruction{OpCode: JumpOpCode(ClassJMP, JumpJNE, SourceK), Dst: R1, Offset: 1, Constant: -1}, "if r1 != 0xffffffff goto pc+1"},
		{"jslt32 reg", Instruction{OpCode: JumpOpCode(ClassJMP32, JumpJSLT, SourceX), Dst: R1, Src: R2, Offset: -2}, "if w1 s< w2 goto pc-2"},
		{"jset", Instruction{OpCode: JumpOpCode(ClassJMP, JumpJSET, SourceX), Dst: R1, Src: R2}, "if r1 & r2 goto pc+0"},
		{"jsle", Instruction{OpCode: JumpOpCode(ClassJMP, JumpJSLE, SourceK), Dst: R1, Offset: 2, Constant: 0}, "if r1 s<= 0x0 goto pc+2"},
		{"goto", Instruction{OpCode: OpJA, Offset: -3}, "goto pc-3"},
		{"gotol", Instruction{OpCode: OpGotoL, Constant: 1000}, "gotol pc+1000"},
		{"may_goto", Instruction{OpCode: OpMayGoto, Offset: 2}, "may_goto pc+2"},
		{"ld_imm64", Instruction{OpCode: OpLoadImm64, Dst: R1, Constant: 0x1234}, "r1 = 0x1234"},
		{"ld_imm64 high", Instruction{OpCode: OpLoadImm64, Dst: R2, Constant: -1}, "r2 = 0xffffffffffffffff"},
		{"ld_imm64 map value", Instruction{OpCode: OpLoadImm64, Dst: R1, Src: PseudoMapValue, Constant: 3 | 16<<32}, "r1 = 0x1000000003"},
		{"ld abs", Instruction{OpCode: mem(ClassLD, ModeABS, SizeH), Constant: 12}, "r0 = *(u16 *)skb[12]"},
		{"ld ind", Instruction{OpCode: mem(ClassLD, ModeIND, SizeW), Src: R6, Constant: 4}, "r0 = *(u32 *)skb[r6 + 4]"},
		{"helper call", Instruction{OpCode: OpCall, Constant: 1}, "call bpf_map_lookup_elem#1"},
		{"helper call last", Instruction{OpCode: OpCall, Constant: 211}, "call bpf_cgrp_storage_delete#211"},
		{"helper call unknown", Instruction{OpCode: OpCall, Constant: 999}, "call unknown#999"},
		{"subprog call", Instruction{OpCode: OpCall, Src: PseudoCall, Constant: 5}, "call pc+5"},
		{"subprog call back", Instruction{OpCode: OpCall, Src: PseudoCall, Constant: -7}, "call pc-7"},
		{"kfunc call", Instruction{OpCode: OpCall, Src: PseudoKfuncCall, Constant: 74383}, "call kernel-function#74383"},
		{"exit", Instruction{OpCode: OpExit}, "exit"},
		{"bad alu", Instruction{OpCode: 0xe7, Dst: R1}, "r1 (null) 0"},
		{"bad ldx", Instruction{OpCode: 0x21}, "BUG_ldx_21"},
		{"bad st", Instruction{OpCode: 0x22}, "BUG_st_22"},
		{"bad stx", Instruction{OpCode: 0x23}, "BUG_23"},
		{"bad atomic", Instruction{OpCode: 0xdb, Constant: 3}, "BUG_db"},
		{"bad ld", Instruction{OpCode: 0x00}, "BUG_ld_00"},
		{"bad jmp", Instruction{OpCode: 0xf5, Dst: R2, Constant: 1}, "if r2 (null) 0x1 goto pc+0"},
		{"jcond src 3", Instruction{OpCode: 0xe5, Dst: R2, Src: 3}, "if r2 (null) 0x0 goto pc+0"},
		{"exit reg", Instruction{OpCode: 0x9d}, "if r0 exit r0 goto pc+0"},
		{"percpu", Instruction{OpCode: OpMov64Reg, Dst: R2, Src: R0, Offset: -1}, "r2 = &(void __percpu *)(r0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ins.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatterCallbacks(t *testing.T) {
	f := &Formatter{
		Helper: func(id int32) string { return "my_helper" },
		Kfunc: func(ins Instruction) string {
			if ins.Constant == 42 {
				return "bpf_arena_alloc_pages"
			}
			return ""
		},
		Imm64: func(ins Instruction) string {
			if ins.Src == PseudoMapValue {
				return "map[arena]+16"
			}
			return ""
		},
	}
	tests := []struct {
		ins  Instruction
		want string
	}{
		{Instruction{OpCode: OpCall, Src: PseudoKfuncCall, Constant: 42}, "call bpf_arena_alloc_pages#42"},
		{Instruction{OpCode: OpCall, Src: PseudoKfuncCall, Constant: 43}, "call kernel-function#43"},
		{Instruction{OpCode: OpCall, Constant: 1}, "call bpf_map_lookup_elem#1"},
		{Instruction{OpCode: OpCall, Constant: 500}, "call my_helper#500"},
		{Instruction{OpCode: OpLoadImm64, Dst: R1, Src: PseudoMapValue, Constant: 3 | 16<<32}, "r1 = map[arena]+16"},
		{Instruction{OpCode: OpLoadImm64, Dst: R1, Constant: 7}, "r1 = 0x7"},
	}
	for _, tt := range tests {
		if got := f.Format(tt.ins); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.ins.Encode(nil), got, tt.want)
		}
	}
	g := &Formatter{OpCode: true}
	if got, want := g.Format(Instruction{OpCode: OpMov64Reg, Dst: R1, Src: R2}), "(bf) r1 = r2"; got != want {
		t.Errorf("Format with OpCode = %q, want %q", got, want)
	}
}

func TestProgram(t *testing.T) {
	insns := Instructions{
		{OpCode: OpLoadImm64, Dst: R1, Constant: 1},
		{OpCode: ALUOpCode(ClassALU64, ALUMov, SourceK), Dst: R0},
		{OpCode: OpExit},
	}
	var b strings.Builder
	if err := (*Formatter)(nil).Program(&b, insns); err != nil {
		t.Fatal(err)
	}
	want := "0: (18) r1 = 0x1\n2: (b7) r0 = 0\n3: (95) exit\n"
	if b.String() != want {
		t.Errorf("Program() =\n%s\nwant\n%s", b.String(), want)
	}
}
