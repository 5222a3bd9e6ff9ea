package vm

import (
	"fmt"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// TestOpTable: every op has a name of its own, so listings and decoder
// tests can tell any two apart.
func TestOpTable(t *testing.T) {
	seen := map[string]opcode{}
	for o := opcode(0); o < numOps; o++ {
		name := opTable[o].name
		if name == "" {
			t.Errorf("op %d has no name", o)
			continue
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("ops %d and %d are both %q", prev, o, name)
		}
		seen[name] = o
	}
}

// decodeOne decodes a single instruction followed by exit, so jumps have
// somewhere to go.
func decodeOnly(t *testing.T, ins asm.Instruction) (insn, error) {
	t.Helper()
	c := &Collection{byName: map[string]int{}, bySpec: map[*object.MapSpec]int{}}
	ps := &object.ProgramSpec{Name: "d", Instructions: asm.Instructions{ins, exit()}, Relocations: map[int]object.Relocation{}}
	p, err := c.compile(ps, nil)
	if err != nil {
		return insn{}, err
	}
	return p.code[0], nil
}

// TestDecodeALUAndJumps decodes every ALU and jump operation in every form
// and checks the op by name against the instruction set's mnemonics, a
// table kept here independently of the decoder's.
func TestDecodeALUAndJumps(t *testing.T) {
	alu := map[uint8]string{0x0: "add", 0x1: "sub", 0x2: "mul", 0x3: "div", 0x4: "or", 0x5: "and",
		0x6: "lsh", 0x7: "rsh", 0x9: "mod", 0xa: "xor", 0xb: "mov", 0xc: "arsh"}
	jmp := map[uint8]string{0x1: "jeq", 0x2: "jgt", 0x3: "jge", 0x4: "jset", 0x5: "jne", 0x6: "jsgt",
		0x7: "jsge", 0xa: "jlt", 0xb: "jle", 0xc: "jslt", 0xd: "jsle"}
	type form struct {
		class uint8
		width string
	}
	for _, f := range []form{{0x07, "64"}, {0x04, "32"}} {
		for op, name := range alu {
			for _, x := range []bool{false, true} {
				code := f.class | op<<4
				src, suffix := uint8(0), "k"
				if x {
					code |= srcX
					src, suffix = 3, "x"
				}
				in, err := decodeOnly(t, raw(code, 2, src, 0, -7))
				if err != nil {
					t.Errorf("%#02x: %v", code, err)
					continue
				}
				want := name + f.width + suffix
				if got := in.op.String(); got != want {
					t.Errorf("%#02x decodes to %s, want %s", code, got, want)
				}
				if in.dst != 2 || in.src != src {
					t.Errorf("%#02x: dst r%d src r%d", code, in.dst, in.src)
				}
				wantImm := uint64(0)
				if !x && f.class == 0x07 {
					wantImm = uint64(1<<64 - 7) // sign-extended
				} else if !x {
					wantImm = uint64(uint32(1<<32 - 7))
				}
				if in.imm != wantImm {
					t.Errorf("%#02x: imm %#x, want %#x", code, in.imm, wantImm)
				}
			}
		}
	}
	for _, f := range []form{{0x05, "64"}, {0x06, "32"}} {
		for op, name := range jmp {
			for _, x := range []bool{false, true} {
				code := f.class | op<<4
				suffix := "k"
				if x {
					code |= srcX
					suffix = "x"
				}
				in, err := decodeOnly(t, raw(code, 1, 4, 0, 9))
				if err != nil {
					t.Errorf("%#02x: %v", code, err)
					continue
				}
				if got, want := in.op.String(), name+f.width+suffix; got != want {
					t.Errorf("%#02x decodes to %s, want %s", code, got, want)
				}
				if !isCondJump(in.op) || in.jt != 1 {
					t.Errorf("%#02x: cond %v, target %d", code, isCondJump(in.op), in.jt)
				}
			}
		}
	}
}

// TestDecode: instructions with their decoded form, operands included.
func TestDecode(t *testing.T) {
	tests := []struct {
		ins  asm.Instruction
		want insn
	}{
		{alu64K(bpfNeg, 1, 0), insn{op: opNeg64, dst: 1}},
		{alu32K(bpfNeg, 1, 0), insn{op: opNeg32, dst: 1}},
		{raw(0xbf, 1, 2, 8, 0), insn{op: opMovsx64_8, dst: 1, src: 2, off: 8}},
		{raw(0xbf, 1, 2, 16, 0), insn{op: opMovsx64_16, dst: 1, src: 2, off: 16}},
		{raw(0xbf, 1, 2, 32, 0), insn{op: opMovsx64_32, dst: 1, src: 2, off: 32}},
		{raw(0xbc, 1, 2, 8, 0), insn{op: opMovsx32_8, dst: 1, src: 2, off: 8}},
		{raw(0xbc, 1, 2, 16, 0), insn{op: opMovsx32_16, dst: 1, src: 2, off: 16}},
		{raw(0x3f, 1, 2, 1, 0), insn{op: opSdiv64X, dst: 1, src: 2, off: 1}},
		{raw(0x94, 1, 0, 1, 3), insn{op: opSmod32K, dst: 1, off: 1, imm: 3}},
		{raw(0xd4, 1, 0, 0, 16), insn{op: opLe16, dst: 1, imm: 16}},
		{raw(0xdc, 1, 0, 0, 32), insn{op: opSwap32, dst: 1}},
		{raw(0xd7, 1, 0, 0, 64), insn{op: opSwap64, dst: 1, imm: 64}},
		{castArena(1, 2), insn{op: opMov32X, dst: 1, src: 2, off: 1}},
		{castUser(1, 2), insn{op: opCastUser, dst: 1, src: 2, off: 1}},
		{ldx(bpfB, 1, 10, -8), insn{op: opLdxB, dst: 1, src: 10, off: -8, imm: uint64(1<<64 - 8)}},
		{ldx(bpfDW, 1, 2, 4), insn{op: opLdxDW, dst: 1, src: 2, off: 4, imm: 4}},
		{ldxsx(bpfH, 1, 2, 0), insn{op: opLdxsH, dst: 1, src: 2}},
		{stx(bpfW, 10, 3, -4), insn{op: opStxW, dst: 10, src: 3, off: -4}},
		{st(bpfH, 10, -2, -1), insn{op: opStH, dst: 10, off: -2, imm: 1<<64 - 1}},
		{atomicOp(bpfDW, 1, 2, 0, atomicAdd|atomicFetch), insn{op: opAtomic, dst: 1, src: 2, imm: atomicAdd | atomicFetch | 8<<atomicSizeShift}},
		{ja(0), insn{op: opJa, jt: 1}},
		{mayGoto(0), insn{op: opMayGoto, jt: 1}},
		{exit(), insn{op: opExit}},
		{call(helperKtimeGetNs), insn{op: opCallHelper}},
		{callSub(0), insn{op: opCall, jt: 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%#02x", uint8(tt.ins.OpCode)), func(t *testing.T) {
			got, err := decodeOnly(t, tt.ins)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("decoded %+v (%v), want %+v (%v)", got, got.op, tt.want, tt.want.op)
			}
		})
	}
}

// TestDecodeRefuses: encodings the vm refuses, with the slot in the error.
func TestDecodeRefuses(t *testing.T) {
	for _, ins := range []asm.Instruction{
		raw(0x0f, 1, 2, 1, 0),      // reserved offset
		raw(0x3f, 1, 2, 2, 0),      // div offset
		raw(0xbf, 1, 2, 4, 0),      // mov offset
		raw(0xbc, 1, 2, 32, 0),     // movsx32 from 32 bits
		raw(0xd4, 1, 0, 0, 8),      // byte swap width
		raw(0xe7, 1, 0, 0, 0),      // no such ALU op
		raw(0x05|0xf0, 1, 0, 0, 0), // no such jump
		raw(0x07, 10, 0, 0, 1),     // write to r10
		raw(0x07, 11, 0, 0, 1),     // no such register
	} {
		if _, err := decodeOnly(t, ins); err == nil {
			t.Errorf("%#02x off %d imm %d decodes", ins.OpCode, ins.Offset, ins.Constant)
		} else if _, ok := err.(*decodeError); !ok {
			t.Errorf("%#02x: %T %v, want a decode error", ins.OpCode, err, err)
		}
	}
}
