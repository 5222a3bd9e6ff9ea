package vm

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

func TestInterpreter(t *testing.T) {
	const minI64 = math.MinInt64
	tests := []struct {
		name  string
		insns []asm.Instruction
		want  uint64
	}{
		{"mov64 imm sign-extends", []asm.Instruction{mov64K(0, -1), exit()}, math.MaxUint64},
		{"mov32 imm zero-extends", []asm.Instruction{alu32K(bpfMov, 0, -1), exit()}, 0xffffffff},
		{"add32 wraps and zero-extends", []asm.Instruction{mov64K(0, -1), alu32K(bpfAdd, 0, 1), exit()}, 0},
		{"sub64", []asm.Instruction{mov64K(0, 5), alu64K(bpfSub, 0, 7), exit()}, math.MaxUint64 - 1},
		{"mul32 truncates", []asm.Instruction{mov64K(0, 0x10000), alu32X(bpfMul, 0, 0), exit()}, 0},
		{"div64 by zero is 0", []asm.Instruction{mov64K(0, 7), mov64K(1, 0), alu64X(bpfDiv, 0, 1), exit()}, 0},
		{"mod64 by zero keeps dst", []asm.Instruction{mov64K(0, -7), mov64K(1, 0), alu64X(bpfMod, 0, 1), exit()}, math.MaxUint64 - 6},
		{"mod32 by zero zero-extends", []asm.Instruction{mov64K(0, -7), alu32K(bpfMod, 0, 0), exit()}, 0xfffffff9},
		{"div64 imm is sign-extended", []asm.Instruction{mov64K(0, 10), alu64K(bpfDiv, 0, -1), exit()}, 0},
		{"div32 unsigned", []asm.Instruction{mov64K(0, -10), alu32K(bpfDiv, 0, 2), exit()}, 0x7ffffffb},
		{"sdiv64", []asm.Instruction{mov64K(0, -7), raw(0x37, 0, 0, 1, 2), exit()}, uint64(^uint64(2))},
		{"smod64 keeps dividend sign", []asm.Instruction{mov64K(0, -7), raw(0x97, 0, 0, 1, 2), exit()}, math.MaxUint64},
		{"sdiv64 INT_MIN/-1", []asm.Instruction{ldImm64(0, 1<<63), raw(0x37, 0, 0, 1, -1), exit()}, 1 << 63},
		{"smod64 INT_MIN%-1", []asm.Instruction{ldImm64(0, 1<<63), raw(0x97, 0, 0, 1, -1), exit()}, 0},
		{"sdiv32 INT_MIN/-1", []asm.Instruction{mov64K(0, math.MinInt32), raw(0x34, 0, 0, 1, -1), exit()}, 0x80000000},
		{"sdiv by zero", []asm.Instruction{mov64K(0, -7), mov64K(1, 0), raw(0x3f, 0, 1, 1, 0), exit()}, 0},
		{"smod32 by zero", []asm.Instruction{mov64K(0, -7), mov64K(1, 0), raw(0x9c, 0, 1, 1, 0), exit()}, 0xfffffff9},
		{"lsh64 masks", []asm.Instruction{mov64K(0, 1), mov64K(1, 65), alu64X(bpfLsh, 0, 1), exit()}, 2},
		{"lsh32 masks", []asm.Instruction{mov64K(0, 1), alu32K(bpfLsh, 0, 33), exit()}, 2},
		{"rsh64", []asm.Instruction{mov64K(0, -1), alu64K(bpfRsh, 0, 60), exit()}, 0xf},
		{"arsh64", []asm.Instruction{mov64K(0, -16), alu64K(bpfArsh, 0, 2), exit()}, uint64(^uint64(3))},
		{"arsh32 zero-extends", []asm.Instruction{mov64K(0, math.MinInt32), alu32K(bpfArsh, 0, 4), exit()}, 0xf8000000},
		{"neg64", []asm.Instruction{mov64K(0, 5), alu64K(bpfNeg, 0, 0), exit()}, uint64(^uint64(4))},
		{"neg32", []asm.Instruction{mov64K(0, 5), alu32K(bpfNeg, 0, 0), exit()}, 0xfffffffb},
		{"xor/or/and", []asm.Instruction{mov64K(0, 0xf0), alu64K(bpfXor, 0, 0xff), alu64K(bpfOr, 0, 0x100), alu64K(bpfAnd, 0, 0x10f), exit()}, 0x10f},
		{"movsx64 8", []asm.Instruction{mov64K(1, 0x80), raw(0xbf, 0, 1, 8, 0), exit()}, 0xffffffffffffff80},
		{"movsx64 16", []asm.Instruction{mov64K(1, 0x8000), raw(0xbf, 0, 1, 16, 0), exit()}, 0xffffffffffff8000},
		{"movsx64 32", []asm.Instruction{ldImm64(1, 0x80000000), raw(0xbf, 0, 1, 32, 0), exit()}, 0xffffffff80000000},
		{"movsx32 16", []asm.Instruction{mov64K(1, 0x8000), raw(0xbc, 0, 1, 16, 0), exit()}, 0xffff8000},
		{"be16", []asm.Instruction{ldImm64(0, 0xaabb1234), raw(0xdc, 0, 0, 0, 16), exit()}, 0x3412},
		{"le32 truncates", []asm.Instruction{ldImm64(0, 0x1122334455667788), raw(0xd4, 0, 0, 0, 32), exit()}, 0x55667788},
		{"le64", []asm.Instruction{ldImm64(0, 0x1122334455667788), raw(0xd4, 0, 0, 0, 64), exit()}, 0x1122334455667788},
		{"bswap64", []asm.Instruction{ldImm64(0, 0x1122334455667788), raw(0xd7, 0, 0, 0, 64), exit()}, 0x8877665544332211},
		{"bswap32", []asm.Instruction{ldImm64(0, 0x1122334455667788), raw(0xd7, 0, 0, 0, 32), exit()}, 0x88776655},
		{"ld_imm64", []asm.Instruction{ldImm64(0, 0xdeadbeefcafef00d), exit()}, 0xdeadbeefcafef00d},
		{"jeq taken", []asm.Instruction{mov64K(0, 1), jmpK(bpfJeq, 0, 1, 1), mov64K(0, 9), exit()}, 1},
		{"jne not taken", []asm.Instruction{mov64K(0, 1), jmpK(bpfJne, 0, 1, 1), mov64K(0, 9), exit()}, 9},
		{"jsgt signed", []asm.Instruction{mov64K(0, -1), jmpK(bpfJsgt, 0, 0, 1), mov64K(0, 2), exit()}, 2},
		{"jgt unsigned", []asm.Instruction{mov64K(0, -1), jmpK(bpfJgt, 0, 0, 1), mov64K(0, 2), exit()}, math.MaxUint64},
		{"jge/jle/jlt", []asm.Instruction{mov64K(0, 3), jmpK(bpfJge, 0, 3, 1), exit(), jmpK(bpfJle, 0, 3, 1), exit(), jmpK(bpfJlt, 0, 4, 1), exit(), mov64K(0, 7), exit()}, 7},
		{"jsge/jslt/jsle", []asm.Instruction{mov64K(0, -3), jmpK(bpfJsge, 0, -3, 1), exit(), jmpK(bpfJslt, 0, 0, 1), exit(), jmpK(bpfJsle, 0, -4, 1), mov64K(0, 8), exit()}, 8},
		{"jset", []asm.Instruction{mov64K(0, 6), jmpK(bpfJset, 0, 1, 1), mov64K(0, 5), exit()}, 5},
		{"jmp32 ignores upper half", []asm.Instruction{ldImm64(0, 0x100000001), jmp32K(bpfJeq, 0, 1, 1), mov64K(0, 0), exit()}, 0x100000001},
		{"jmp32 signed", []asm.Instruction{ldImm64(0, 0x80000000), jmp32K(bpfJslt, 0, 0, 1), mov64K(0, 0), exit()}, 0x80000000},
		{"jeq reg", []asm.Instruction{mov64K(0, 4), mov64K(1, 4), jmpX(bpfJeq, 0, 1, 1), mov64K(0, 0), exit()}, 4},
		{"ja", []asm.Instruction{mov64K(0, 1), ja(1), mov64K(0, 2), exit()}, 1},
		{"ja over ld_imm64 counts slots", []asm.Instruction{mov64K(0, 1), ja(2), ldImm64(0, 5), exit()}, 1},
		{"gotol", []asm.Instruction{mov64K(0, 1), raw(0x06, 0, 0, 0, 1), mov64K(0, 2), exit()}, 1},
		{"loop", []asm.Instruction{mov64K(0, 0), mov64K(1, 10), alu64K(bpfAdd, 0, 3), alu64K(bpfSub, 1, 1), jmpK(bpfJne, 1, 0, -3), exit()}, 30},
		{"stack store/load", []asm.Instruction{ldImm64(1, 0x1122334455667788), stx(bpfDW, 10, 1, -8), ldx(bpfW, 0, 10, -4), exit()}, 0x11223344},
		{"st imm", []asm.Instruction{st(bpfDW, 10, -8, -2), ldx(bpfDW, 0, 10, -8), exit()}, math.MaxUint64 - 1},
		{"st byte/half", []asm.Instruction{st(bpfDW, 10, -8, 0), st(bpfB, 10, -8, 0x1ff), st(bpfH, 10, -6, 0x1234), ldx(bpfDW, 0, 10, -8), exit()}, 0x123400ff},
		{"ldsx", []asm.Instruction{st(bpfB, 10, -1, 0x80), ldxsx(bpfB, 0, 10, -1), exit()}, 0xffffffffffffff80},
		{"ldsx w", []asm.Instruction{st(bpfW, 10, -4, -5), ldxsx(bpfW, 0, 10, -4), exit()}, uint64(^uint64(4))},
		{"atomic add", []asm.Instruction{st(bpfDW, 10, -8, 40), mov64K(1, 2), atomicOp(bpfDW, 10, 1, -8, atomicAdd), ldx(bpfDW, 0, 10, -8), exit()}, 42},
		{"atomic fetch add", []asm.Instruction{st(bpfDW, 10, -8, 40), mov64K(1, 2), atomicOp(bpfDW, 10, 1, -8, atomicAdd|atomicFetch), mov64X(0, 1), exit()}, 40},
		{"atomic32 fetch or", []asm.Instruction{st(bpfW, 10, -4, 1), mov64K(1, 6), atomicOp(bpfW, 10, 1, -4, atomicOr|atomicFetch), ldx(bpfW, 0, 10, -4), alu64X(bpfAdd, 0, 1), exit()}, 8},
		{"atomic and/xor", []asm.Instruction{st(bpfDW, 10, -8, 0xff), mov64K(1, 0x0f), atomicOp(bpfDW, 10, 1, -8, atomicAnd), mov64K(1, 0x3), atomicOp(bpfDW, 10, 1, -8, atomicXor|atomicFetch), ldx(bpfDW, 0, 10, -8), alu64K(bpfLsh, 0, 8), alu64X(bpfOr, 0, 1), exit()}, 0x0c0f},
		{"xchg", []asm.Instruction{st(bpfDW, 10, -8, 5), mov64K(1, 9), atomicOp(bpfDW, 10, 1, -8, atomicXchg), ldx(bpfDW, 0, 10, -8), alu64K(bpfMul, 0, 10), alu64X(bpfAdd, 0, 1), exit()}, 95},
		{"cmpxchg hit", []asm.Instruction{st(bpfDW, 10, -8, 5), mov64K(0, 5), mov64K(1, 7), atomicOp(bpfDW, 10, 1, -8, atomicCmpXchg), ldx(bpfDW, 1, 10, -8), alu64K(bpfMul, 0, 10), alu64X(bpfAdd, 0, 1), exit()}, 57},
		{"cmpxchg miss", []asm.Instruction{st(bpfDW, 10, -8, 5), mov64K(0, 4), mov64K(1, 7), atomicOp(bpfDW, 10, 1, -8, atomicCmpXchg), ldx(bpfDW, 1, 10, -8), alu64K(bpfMul, 0, 10), alu64X(bpfAdd, 0, 1), exit()}, 55},
		{"cmpxchg32", []asm.Instruction{st(bpfDW, 10, -8, -1), mov64K(0, -1), mov64K(1, 7), atomicOp(bpfW, 10, 1, -8, atomicCmpXchg), ldx(bpfDW, 0, 10, -8), exit()}, 0xffffffff00000007},
		{"load acquire / store release", []asm.Instruction{mov64K(1, 77), atomicOp(bpfDW, 10, 1, -8, atomicStoreRel), atomicOp(bpfDW, 0, 10, -8, atomicLoadAcq), exit()}, 77},
		{"subprog call keeps r6-r9", []asm.Instruction{
			mov64K(6, 100), mov64K(1, 5), callSub(2), alu64X(bpfAdd, 0, 6), exit(),
			mov64K(6, 1), alu64X(bpfMov, 0, 1), alu64K(bpfMul, 0, 3), exit(),
		}, 115},
		{"subprog has its own frame", []asm.Instruction{
			st(bpfDW, 10, -8, 1), callSub(2), ldx(bpfDW, 0, 10, -8), exit(),
			st(bpfDW, 10, -8, 2), exit(),
		}, 1},
		{"subprog writes caller stack", []asm.Instruction{
			mov64X(1, 10), alu64K(bpfAdd, 1, -8), callSub(2), ldx(bpfDW, 0, 10, -8), exit(),
			st(bpfDW, 1, 0, 33), exit(),
		}, 33},
		{"may_goto budget", []asm.Instruction{
			mov64K(0, 0), mayGoto(2), alu64K(bpfAdd, 0, 1), ja(-3), exit(),
		}, maxLoops},
		{"bpf_loop", []asm.Instruction{
			mov64K(1, 5), raw(0x18, 2, 4, 0, 5), mov64K(3, 0), mov64K(4, 0), call(helperLoop), exit(),
			mov64K(0, 0), exit(),
		}, 5},
		{"bpf_loop stops", []asm.Instruction{
			mov64K(1, 5), raw(0x18, 2, 4, 0, 5), mov64K(3, 0), mov64K(4, 0), call(helperLoop), exit(),
			mov64X(0, 1), alu64K(bpfRsh, 0, 1), exit(),
		}, 3},
		{"bpf_loop flags", []asm.Instruction{
			mov64K(1, 5), raw(0x18, 2, 4, 0, 5), mov64K(3, 0), mov64K(4, 1), call(helperLoop), exit(),
			mov64K(0, 0), exit(),
		}, negErrno(eINVAL)},
		{"cpu", []asm.Instruction{call(helperSmpProcessor), exit()}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{progSpec("p", tt.insns)}})
			got, _, err := run64(c, "p")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("r0 = %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestRuntimeErrors(t *testing.T) {
	tests := []struct {
		name  string
		insns []asm.Instruction
		want  string
	}{
		{"load outside", []asm.Instruction{mov64K(1, 0x1000), ldx(bpfDW, 0, 1, 0), exit()}, "invalid memory access"},
		{"store below stack", []asm.Instruction{st(bpfDW, 10, -8*513, 1), mov64K(0, 0), exit()}, "invalid memory access"},
		{"store straddling stack end", []asm.Instruction{mov64X(1, 10), alu64K(bpfAdd, 1, 512*7+508), st(bpfDW, 1, 0, 1), exit()}, "invalid memory access"},
		{"null deref", []asm.Instruction{mov64K(1, 0), ldx(bpfB, 0, 1, 0), exit()}, "invalid memory access"},
		{"atomic outside", []asm.Instruction{mov64K(1, 8), atomicOp(bpfDW, 1, 1, 0, atomicAdd), exit()}, "invalid memory access"},
		{"misaligned atomic", []asm.Instruction{mov64K(1, 1), atomicOp(bpfDW, 10, 1, -7, atomicAdd), exit()}, "misaligned"},
		{"budget", []asm.Instruction{ja(-1)}, "instruction budget exhausted"},
		{"recursion", []asm.Instruction{callSub(-1), exit()}, "call stack too deep"},
		{"fall off the end", []asm.Instruction{mov64K(0, 0)}, "invalid instruction"},
		{"map handle is not memory", []asm.Instruction{ldImm64(1, mapHandleBase), ldx(bpfDW, 0, 1, 0), exit()}, "invalid memory access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(&object.Spec{Programs: []*object.ProgramSpec{progSpec("p", tt.insns)}}, engineOpts(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.progs["p"].Run(runOpts())
			var re *RuntimeError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a RuntimeError with %q", err, tt.want)
			}
			if re.Program != "p" {
				t.Errorf("program = %q", re.Program)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		insns []asm.Instruction
		want  string
	}{
		{"jump out", []asm.Instruction{ja(5), exit()}, "jump out of range"},
		{"jump into ld_imm64", []asm.Instruction{ja(1), ldImm64(0, 1), exit()}, "jump out of range"},
		{"bad cast", []asm.Instruction{raw(0xbf, 0, 1, 1, 2), exit()}, "addr_space_cast insn can only convert"},
		{"unknown helper", []asm.Instruction{call(100000), exit()}, "invalid func"},
		{"write r10", []asm.Instruction{mov64K(10, 0), exit()}, "frame pointer"},
		{"bad register", []asm.Instruction{mov64K(11, 0), exit()}, "invalid register"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(&object.Spec{Programs: []*object.ProgramSpec{progSpec("p", tt.insns)}}, engineOpts(0))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

type edges map[int][2]bool

func (e edges) LiveEdges(i int) (bool, bool) { v := e[i]; return v[0], v[1] }

func TestHardWire(t *testing.T) {
	j := insn{op: opJeq64K, jt: 7}
	tests := []struct {
		live edges
		want insn
	}{
		{edges{3: {true, false}}, insn{op: opJa, jt: 4}},
		{edges{3: {false, true}}, insn{op: opJa, jt: 7}},
		{edges{3: {true, true}}, j},
	}
	for _, tt := range tests {
		if got := hardWire(tt.live, 3, j); got != tt.want {
			t.Errorf("%v: %+v, want %+v", tt.live, got, tt.want)
		}
	}
	if !isCondJump(opJset32K) || isCondJump(opJa) || isCondJump(opLdxB) {
		t.Error("isCondJump")
	}
}
