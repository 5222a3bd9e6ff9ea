package asm

import (
	"errors"
	"strings"
	"testing"
)

// canonical clears the fields the verifier log syntax does not show.
func canonical(ins Instruction) Instruction {
	switch {
	case ins.IsExit():
		ins.Offset = 0
	case ins.IsLoadImm64():
		ins.Src = 0
	case ins.IsKfuncCall():
		ins.Offset = 0
	}
	return ins
}

// TestParseRoundTrip reads back the text of every valid instruction the
// opcode sweep produces, with and without the opcode column.
func TestParseRoundTrip(t *testing.T) {
	offs := []int16{0, 1, 8, 16, 32, -1, -32768, 0x7fff}
	imms := []int32{0, 1, 16, 32, 64, 1 << 16, 0x100, 0x110, 0xf1, 0xe1, 0x41, 0x51, 0xa1, -1, -2147483648}
	f := &Formatter{OpCode: true}
	n := 0
	for op := 0; op < 256; op++ {
		for regs := 0; regs < 256; regs += 17 {
			for _, off := range offs {
				for _, imm := range imms {
					in := slot(uint8(op), uint8(regs&0xf), uint8(regs>>4), off, imm)
					if op == int(OpLoadImm64) {
						in = cat(in, slot(0, 0, 0, 0, imm))
					}
					insns, err := Decode(in)
					if err != nil {
						continue
					}
					want := canonical(insns[0])
					for _, text := range []string{insns[0].String(), f.Format(insns[0])} {
						got, err := Parse(text)
						if err != nil {
							t.Fatalf("Parse(%q) of % x: %v", text, in, err)
						}
						if got != want {
							t.Fatalf("Parse(%q) = %+v, want %+v", text, got, want)
						}
					}
					n++
				}
			}
		}
	}
	t.Logf("%d instructions read back", n)
}

func TestParseNames(t *testing.T) {
	tests := []struct {
		text string
		want Instruction
	}{
		{"call bpf_map_lookup_elem#1", Instruction{OpCode: OpCall, Constant: 1}},
		{"call unknown#999", Instruction{OpCode: OpCall, Constant: 999}},
		{"call bpf_arena_alloc_pages#74383", Instruction{OpCode: OpCall, Src: PseudoKfuncCall, Constant: 74383}},
		{"call kernel-function#12", Instruction{OpCode: OpCall, Src: PseudoKfuncCall, Constant: 12}},
		{"  7: (bf) r1 = addr_space_cast(r2, 0, 1)   ; R1_w=arena", Instruction{OpCode: OpMov64Reg, Dst: R1, Src: R2, Offset: 1, Constant: CastToArena}},
		{"if w1 s< w2 goto pc-2", Instruction{OpCode: JumpOpCode(ClassJMP32, JumpJSLT, SourceX), Dst: R1, Src: R2, Offset: -2}},
		{"if r1 != 0xffffffff goto pc+1", Instruction{OpCode: JumpOpCode(ClassJMP, JumpJNE, SourceK), Dst: R1, Offset: 1, Constant: -1}},
		{"r0 = load_acquire((u64 *)(r1 +0))", Instruction{OpCode: 0xdb, Dst: R0, Src: R1, Constant: int64(AtomicLoadAcquire)}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v, want %+v", tt.text, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		text   string
		syntax bool
	}{
		{"", true},
		{"r0 = ", true},
		{"r11 = 1", true},
		{"w1 = r2", true},
		{"r1 = bswap16 r2", true},
		{"r0 = atomic64_xchg((u32 *)(r1 +0), r0)", true},
		{"(b7) exit", true},
		{"goto pc+40000", true},
		{"r1 = map[arena]", true},
		{"w1 = (s32)w2", false},
		{"lock *(u8 *)(r1 +0) += r2", false},
		{"r1 = addr_space_cast(r2, 0, 2)", false},
		{"r1 = bswap8 r1", true},
	}
	for _, tt := range tests {
		_, err := Parse(tt.text)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tt.text, err)
			continue
		}
		if errors.Is(err, ErrSyntax) != tt.syntax || errors.Is(err, ErrInvalidInstruction) == tt.syntax {
			t.Errorf("Parse(%q) = %v, want syntax error %v", tt.text, err, tt.syntax)
		}
	}
}

func TestAssemble(t *testing.T) {
	prog := `
; a verifier log, pasted
0: (b7) r0 = 0
1: (18) r1 = 0x100000002
// comment
3: (85) call bpf_ktime_get_ns#5 ; R0=scalar()
4: (95) exit
`
	insns, err := Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := (&Formatter{}).Program(&b, insns); err != nil {
		t.Fatal(err)
	}
	want := "0: (b7) r0 = 0\n1: (18) r1 = 0x100000002\n3: (85) call bpf_ktime_get_ns#5\n4: (95) exit\n"
	if b.String() != want {
		t.Errorf("round trip gave\n%s\nwant\n%s", b.String(), want)
	}
	_, err = Assemble("r0 = 0\nr0 = frob\nexit")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Errorf("Assemble with a bad line 2 = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("r0 = *(u32 *)(r1 +4)")
	f.Add("3: (db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)")
	f.Add("if w1 s< w2 goto pc-2")
	f.Fuzz(func(t *testing.T, text string) {
		ins, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrInvalidInstruction) {
				t.Fatalf("Parse(%q) = %v: neither a syntax nor an encoding error", text, err)
			}
			return
		}
		again, err := Parse(ins.String())
		if err != nil || again != ins {
			t.Fatalf("Parse(%q) = %+v, whose text %q reads as %+v, %v", text, ins, ins.String(), again, err)
		}
	})
}
