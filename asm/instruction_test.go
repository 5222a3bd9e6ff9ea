package asm

import "testing"

func TestAccessors(t *testing.T) {
	type want struct {
		class                                    Class
		access                                   int
		jump, cond, call, helper, kfunc, subprog bool
		exit, cast, movsx, sdiv, ldsx, atomic    bool
		load, store, wide                        bool
		target                                   int
		hasTarget                                bool
	}
	tests := []struct {
		name string
		ins  Instruction
		want want
	}{
		{"ld_imm64", Instruction{OpCode: OpLoadImm64}, want{class: ClassLD, wide: true}},
		{"pseudo func", Instruction{OpCode: OpLoadImm64, Src: PseudoFunc, Constant: 7}, want{class: ClassLD, wide: true, target: 7, hasTarget: true}},
		{"ldx dw", Instruction{OpCode: MemOpCode(ClassLDX, ModeMEM, SizeDW)}, want{class: ClassLDX, access: 8, load: true}},
		{"ldsx h", Instruction{OpCode: MemOpCode(ClassLDX, ModeMEMSX, SizeH)}, want{class: ClassLDX, access: 2, load: true, ldsx: true}},
		{"ld abs b", Instruction{OpCode: MemOpCode(ClassLD, ModeABS, SizeB)}, want{class: ClassLD, access: 1, load: true}},
		{"st w", Instruction{OpCode: MemOpCode(ClassST, ModeMEM, SizeW)}, want{class: ClassST, access: 4, store: true}},
		{"stx b", Instruction{OpCode: MemOpCode(ClassSTX, ModeMEM, SizeB)}, want{class: ClassSTX, access: 1, store: true}},
		{"atomic", Instruction{OpCode: MemOpCode(ClassSTX, ModeATOMIC, SizeDW), Constant: int64(AtomicXchg)}, want{class: ClassSTX, access: 8, atomic: true}},
		{"load acquire", Instruction{OpCode: MemOpCode(ClassSTX, ModeATOMIC, SizeH), Constant: int64(AtomicLoadAcquire)}, want{class: ClassSTX, access: 2, atomic: true, load: true}},
		{"cast", Instruction{OpCode: OpMov64Reg, Offset: 1, Constant: CastToArena}, want{class: ClassALU64, cast: true}},
		{"movsx", Instruction{OpCode: OpMov64Reg, Offset: 16}, want{class: ClassALU64, movsx: true}},
		{"movsx32 on alu32 is not", Instruction{OpCode: ALUOpCode(ClassALU, ALUMov, SourceX), Offset: 32}, want{class: ClassALU}},
		{"sdiv", Instruction{OpCode: ALUOpCode(ClassALU, ALUDiv, SourceK), Offset: 1}, want{class: ClassALU, sdiv: true}},
		{"goto", Instruction{OpCode: OpJA, Offset: -4}, want{class: ClassJMP, jump: true, target: -4, hasTarget: true}},
		{"gotol", Instruction{OpCode: OpGotoL, Constant: 70000}, want{class: ClassJMP32, jump: true, target: 70000, hasTarget: true}},
		{"may_goto", Instruction{OpCode: OpMayGoto, Offset: 3}, want{class: ClassJMP, jump: true, cond: true, target: 3, hasTarget: true}},
		{"jeq32", Instruction{OpCode: JumpOpCode(ClassJMP32, JumpJEQ, SourceX), Offset: 2}, want{class: ClassJMP32, jump: true, cond: true, target: 2, hasTarget: true}},
		{"helper", Instruction{OpCode: OpCall, Constant: 1}, want{class: ClassJMP, call: true, helper: true}},
		{"kfunc", Instruction{OpCode: OpCall, Src: PseudoKfuncCall, Constant: 9}, want{class: ClassJMP, call: true, kfunc: true}},
		{"subprog", Instruction{OpCode: OpCall, Src: PseudoCall, Constant: -9}, want{class: ClassJMP, call: true, subprog: true, target: -9, hasTarget: true}},
		{"exit", Instruction{OpCode: OpExit}, want{class: ClassJMP, exit: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := tt.ins
			target, hasTarget := ins.JumpTarget()
			got := want{
				class: ins.Class(), access: ins.AccessSize(),
				jump: ins.IsJump(), cond: ins.IsConditionalJump(), call: ins.IsCall(),
				helper: ins.IsHelperCall(), kfunc: ins.IsKfuncCall(), subprog: ins.IsSubprogCall(),
				exit: ins.IsExit(), cast: ins.IsAddrSpaceCast(), movsx: ins.IsMovSX(), sdiv: ins.IsSignedDivMod(),
				ldsx: ins.IsLoadSX(), atomic: ins.IsAtomic(), load: ins.IsLoad(), store: ins.IsStore(),
				wide: ins.IsLoadImm64(), target: target, hasTarget: hasTarget,
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestOpCodeFields(t *testing.T) {
	tests := []struct {
		op    OpCode
		class Class
		size  Size
		mode  Mode
	}{
		{0x18, ClassLD, SizeDW, ModeIMM},
		{0x61, ClassLDX, SizeW, ModeMEM},
		{0x91, ClassLDX, SizeB, ModeMEMSX},
		{0xdb, ClassSTX, SizeDW, ModeATOMIC},
		{0x6a, ClassST, SizeH, ModeMEM},
	}
	for _, tt := range tests {
		if tt.op.Class() != tt.class || tt.op.Size() != tt.size || tt.op.Mode() != tt.mode {
			t.Errorf("%v: got %v %v %v", tt.op, tt.op.Class(), tt.op.Size(), tt.op.Mode())
		}
		if MemOpCode(tt.class, tt.mode, tt.size) != tt.op {
			t.Errorf("MemOpCode(%v, %v, %v) = %v, want %v", tt.class, tt.mode, tt.size, MemOpCode(tt.class, tt.mode, tt.size), tt.op)
		}
	}
	if op := ALUOpCode(ClassALU64, ALUMov, SourceX); op != OpMov64Reg || op.ALUOp() != ALUMov || op.Source() != SourceX {
		t.Errorf("ALUOpCode = %v", op)
	}
	if op := JumpOpCode(ClassJMP, JumpJCond, SourceK); op != OpMayGoto || op.JumpOp() != JumpJCond {
		t.Errorf("JumpOpCode = %v", op)
	}
}

func TestHelperTable(t *testing.T) {
	tests := []struct {
		id   int32
		name string
	}{
		{0, "bpf_unspec"},
		{1, "bpf_map_lookup_elem"},
		{5, "bpf_ktime_get_ns"},
		{6, "bpf_trace_printk"},
		{12, "bpf_tail_call"},
		{130, "bpf_ringbuf_output"},
		{209, "bpf_user_ringbuf_drain"},
		{210, "bpf_cgrp_storage_get"},
		{211, "bpf_cgrp_storage_delete"},
		{212, ""},
		{-1, ""},
	}
	for _, tt := range tests {
		if got := HelperName(tt.id); got != tt.name {
			t.Errorf("HelperName(%d) = %q, want %q", tt.id, got, tt.name)
		}
		if tt.name != "" {
			if id, ok := HelperID(tt.name); !ok || id != tt.id {
				t.Errorf("HelperID(%q) = %d, %v", tt.name, id, ok)
			}
		}
	}
}

func TestSlots(t *testing.T) {
	insns := Instructions{
		{OpCode: OpJA, Offset: 3},                                    // 0 -> slot 4 (exit)
		{OpCode: OpLoadImm64, Dst: R1, Src: PseudoFunc, Constant: 2}, // slots 1-2 -> slot 4: counts from slot 2, as the kernel does
		{OpCode: OpCall, Src: PseudoCall, Constant: 1},               // slot 3 -> slot 5
		{OpCode: OpExit}, // slot 4
		{OpCode: OpExit}, // slot 5
		{OpCode: JumpOpCode(ClassJMP, JumpJEQ, SourceK), Offset: -5}, // slot 6 -> slot 2: inside ld_imm64
	}
	offs := insns.Offsets()
	wantOffs := []int{0, 1, 3, 4, 5, 6}
	for i := range wantOffs {
		if offs[i] != wantOffs[i] {
			t.Fatalf("Offsets() = %v, want %v", offs, wantOffs)
		}
	}
	if n := insns.SlotCount(); n != 7 {
		t.Errorf("SlotCount() = %d, want 7", n)
	}
	tests := []struct {
		i      int
		target int
		ok     bool
	}{
		{0, 3, true},
		{1, 3, true},
		{2, 4, true},
		{3, 0, false},
		{5, 0, false},
		{-1, 0, false},
		{6, 0, false},
	}
	for _, tt := range tests {
		got, ok := insns.Target(offs, tt.i)
		if got != tt.target || ok != tt.ok {
			t.Errorf("Target(%d) = %d, %v, want %d, %v", tt.i, got, ok, tt.target, tt.ok)
		}
	}
	if _, ok := IndexOfSlot(offs, 2); ok {
		t.Error("IndexOfSlot found the second half of ld_imm64")
	}
	if i, ok := IndexOfSlot(offs, 6); !ok || i != 5 {
		t.Errorf("IndexOfSlot(6) = %d, %v", i, ok)
	}
}
